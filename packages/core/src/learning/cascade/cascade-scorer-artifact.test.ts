import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/async.test-helpers.js';
import { syntheticCascadeExamples } from '../__fixtures__/synthetic-cascade.js';
import { sharedRoutingDir } from '../datasets/shared-data-dir.js';
import { CASCADE_SCORER_FORMAT, parseCascadeScorer, trainCascadeScorerArtifact } from './cascade-scorer-artifact.js';
import { loadGsm8kResponses } from './load-gsm8k-responses.js';
import { WEAK_ANSWER_FEATURES } from './weak-answer-features.js';

const QUESTION = 'A box holds 12 apples. How many apples are in 7 boxes?';
const RIGHT = 'Each box holds 12 apples, so 7 boxes hold 12 * 7 = 84 apples.\n#### 84';
const WRONG = 'Each box holds 12 apples, so 7 boxes hold 12 * 7 = 89 apples.\n#### 89';

const PARAM = 'routing.cascades.0.verifierModel';
const roundTrip = (v: unknown) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>;

describe('learned cascade scorer artifact', () => {
  const artifact = trainCascadeScorerArtifact(syntheticCascadeExamples(400), { data: 'synthetic' });

  it('has the format, features, standardization, weights and a training summary', () => {
    expect(artifact).toMatchObject({ format: CASCADE_SCORER_FORMAT, version: 1, score: 'p_strong - p_weak', outputs: ['weak', 'strong'], features: [...WEAK_ANSWER_FEATURES] });
    expect(artifact.standardization.mean).toHaveLength(WEAK_ANSWER_FEATURES.length);
    expect(artifact.weights).toHaveLength(WEAK_ANSWER_FEATURES.length);
    expect(artifact.training).toMatchObject({ data: 'synthetic', examples: 400, seed: 1 });
    expect(artifact.training.fit + artifact.training.validation).toBe(400);
    // The suggested threshold reaches 95% of the strong model's accuracy on the training data.
    expect(artifact.training.accuracy_at_threshold).toBeGreaterThanOrEqual(0.95 * artifact.training.strong_accuracy);
    expect(artifact.training.escalation_rate_at_threshold).toBeGreaterThan(0);
    expect(artifact.training.escalation_rate_at_threshold).toBeLessThan(1);
  });

  it('loads from JSON and scores a wrong-arithmetic answer above a right one, across the threshold', () => {
    const scorer = parseCascadeScorer(roundTrip(artifact), 'mem.json', PARAM);
    const wrong = scorer.score(QUESTION, WRONG), right = scorer.score(QUESTION, RIGHT);
    expect(wrong).toBeGreaterThan(right);
    expect(wrong).toBeGreaterThanOrEqual(scorer.threshold);
    expect(right).toBeLessThan(scorer.threshold);
    expect(scorer.score(QUESTION, 'Each box holds 12 apples, so 7 boxes hold 12 *')).toBeGreaterThanOrEqual(scorer.threshold);
  });

  it('is deterministic for a seed', () => {
    expect(trainCascadeScorerArtifact(syntheticCascadeExamples(400), { data: 'synthetic' })).toEqual(artifact);
  });

  it('refuses other files with config_invalid naming the field', () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['not an object', 'hello', /format: not a cascade scorer/],
      ['a router model', { format: 'llmrr-router-model', version: 1 }, /format: not a cascade scorer \(expected format "llmrr-cascade-scorer", got "llmrr-router-model"/],
      ['another version', { ...roundTrip(artifact), version: 2 }, /version: unsupported version 2/],
      ['other features', { ...roundTrip(artifact), features: ['a', ...WEAK_ANSWER_FEATURES.slice(1)] }, /features: trained on other weak-answer features/],
      ['a weight that is not a number', { ...roundTrip(artifact), weights: [['x', 1], ...artifact.weights.slice(1)] }, /weights\.0\.0: /],
      ['missing threshold', { ...roundTrip(artifact), threshold: undefined }, /threshold: /],
      ['short standardization', { ...roundTrip(artifact), standardization: { mean: [0], sd: [1] } }, /standardization.mean: has 1 values, expected 20/],
    ];
    for (const [what, value, message] of cases) {
      const e = thrown(() => parseCascadeScorer(value, 'x.json', PARAM));
      expect(e.code, what).toBe('config_invalid');
      expect(e.param, what).toBe(PARAM);
      expect(e.message, what).toMatch(message);
      expect(e.message, what).toContain(`${PARAM}: x.json: `);
    }
  });

  it('refuses fewer than 2 prompts', () => {
    expect(() => trainCascadeScorerArtifact(syntheticCascadeExamples(1), { data: 'tiny' })).toThrow(/needs at least 2 prompts, got 1/);
  });
});

const shared = sharedRoutingDir(process.env, process.cwd());
const gsm8k = shared ? join(shared, 'routellm', 'gsm8k', 'gsm8k_responses.csv') : undefined;

describe.skipIf(!gsm8k || !existsSync(gsm8k))('learned cascade scorer on RouteLLM GSM8K (shared data; skipped when absent)', () => {
  it('trained on 4/5 of the prompts, its threshold on the other 1/5 escalates a sane share and gains accuracy', async () => {
    const all = await loadGsm8kResponses(gsm8k!);
    const test = all.filter((_, i) => i % 5 === 0), train = all.filter((_, i) => i % 5 !== 0);
    const scorer = parseCascadeScorer(roundTrip(trainCascadeScorerArtifact(train, { data: 'gsm8k 4/5' })), 'mem', PARAM);
    const escalated = test.map((e) => scorer.score(e.prompt, e.weakResponse) >= scorer.threshold);
    const share = escalated.filter(Boolean).length / test.length;
    const acc = test.reduce((a, e, i) => a + (escalated[i] ? e.quality[1]! : e.quality[0]!), 0) / test.length;
    const weak = test.reduce((a, e) => a + e.quality[0]!, 0) / test.length;
    const strong = test.reduce((a, e) => a + e.quality[1]!, 0) / test.length;
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.8);
    expect(acc).toBeGreaterThan(weak + 0.5 * (strong - weak));
  }, 60_000);
});

describe('learned cascade scorer: inputs that must not give a useless or unloadable file', () => {
  it('refuses values the 32-bit model cannot hold (a weight of 1e39, an sd of 1e-320), naming the field', () => {
    const artifact = trainCascadeScorerArtifact(syntheticCascadeExamples(200), { data: 'synthetic' });
    const big = roundTrip(artifact) as { weights: number[][]; standardization: { sd: number[] } };
    big.weights[0]![0] = 1e39;
    expect(thrown(() => parseCascadeScorer(big, 'f.json', PARAM)).message).toMatch(/weights\.0\.0.*32-bit/);
    const tiny = roundTrip(artifact) as { standardization: { sd: number[] } };
    tiny.standardization.sd[0] = 1e-320;
    expect(thrown(() => parseCascadeScorer(tiny, 'f.json', PARAM)).message).toMatch(/standardization\.sd\.0/);
  });

  it('a feature constant on the training rows (one repeated prompt) is left unscaled: other prompts still score by their answer', () => {
    const ex = syntheticCascadeExamples(300).map((e) => ({ ...e, prompt: QUESTION }));
    const artifact = trainCascadeScorerArtifact(ex, { data: 'same-prompt' });
    const scorer = parseCascadeScorer(roundTrip(artifact), 'f.json', PARAM);
    const other = 'A crate holds 15 pears. How many pears are in 4 crates?';
    expect(scorer.score(other, 'So 4 crates hold 15 * 4 = 61 pears.\n#### 61')).toBeGreaterThan(scorer.score(other, 'So 4 crates hold 15 * 4 = 60 pears.\n#### 60'));
  });

  it('refuses data that leaves nothing to fit on (every prompt under one id) and outcomes that are not numbers', () => {
    const sameId = syntheticCascadeExamples(50).map((e) => ({ ...e, id: '0' }));
    // '0' may hash to the fit share or to validation; find an id that hashes to validation for the test.
    let id = 0;
    let error: unknown;
    for (; id < 100 && error === undefined; id++) {
      try {
        trainCascadeScorerArtifact(sameId.map((e) => ({ ...e, id: String(id) })), { data: 'one-id' });
      } catch (e) {
        error = e;
      }
    }
    expect(error).toMatchObject({ code: 'invalid_request', param: 'data' });
    expect((error as Error).message).toMatch(/no prompt left to fit on.*prompt ids/);
    const nan = syntheticCascadeExamples(50);
    nan[3] = { ...nan[3]!, quality: [Number.NaN, 1] };
    expect(() => trainCascadeScorerArtifact(nan, { data: 'nan' })).toThrow(/weak and strong outcomes must both be numbers/);
  });
});
