/**
 * The built-in `learned` verifier over real HTTP: a scorer trained on a small synthetic fixture (not the
 * shared data), written to a file, loaded once by the router; two local OpenAI-wire servers as the weak and
 * the strong deployment.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RouterConfigInput } from '../../config/schema.js';
import { thrown } from '../../test/async.test-helpers.js';
import { syntheticCascadeExamples } from '../../learning/__fixtures__/synthetic-cascade.js';
import { parseCascadeScorer, trainCascadeScorerArtifact, type CascadeScorerArtifact } from '../../learning/cascade/cascade-scorer-artifact.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';
import type { RouterOptions } from '../types.js';
import { learnedVerifier } from './learned-verifier.js';

const QUESTION = 'A box holds 12 apples. How many apples are in 7 boxes?';
const RIGHT = 'Each box holds 12 apples, so 7 boxes hold 12 * 7 = 84 apples.\n#### 84';
const WRONG = 'Each box holds 12 apples, so 7 boxes hold 12 * 7 = 89 apples.\n#### 89';
const STRONG = '12 * 7 = 84 apples.\n#### 84';

let dir: string;
let artifact: CascadeScorerArtifact;
let weak: OpenAIWireServer;
let strong: OpenAIWireServer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-learned-verifier-'));
  mkdirSync(join(dir, 'models'));
  artifact = trainCascadeScorerArtifact(syntheticCascadeExamples(400), { data: 'synthetic' });
  writeFileSync(join(dir, 'models', 'cascade.json'), JSON.stringify(artifact));
  writeFileSync(join(dir, 'models', 'router.json'), JSON.stringify({ format: 'llmrr-router-model', version: 1 }));
  writeFileSync(join(dir, 'models', 'v9.json'), JSON.stringify({ ...artifact, version: 9 }));
  writeFileSync(join(dir, 'models', 'broken.json'), '{"format": ');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  weak = await startOpenAIWireServer({ script: { text: RIGHT } });
  strong = await startOpenAIWireServer({ script: { text: STRONG } });
});
afterEach(async () => {
  await Promise.all([weak.close(), strong.close()]);
});

type Cascade = NonNullable<NonNullable<RouterConfigInput['routing']>['cascades']>[number];

function router(cascade: Partial<Cascade> = {}, options: RouterOptions = {}) {
  return openAIWireRouter(
    [
      { name: 'small', engine: 'openai-compatible', baseURL: weak.baseURL, model: 'small-1', apiKey: 'k' },
      { name: 'large', engine: 'openai-compatible', baseURL: strong.baseURL, model: 'large-1', apiKey: 'k' },
    ],
    { cascades: [{ name: 'math', weak: 'small', strong: 'large', verifier: 'learned', verifierModel: 'models/cascade.json', ...cascade }] },
    { baseDir: dir, ...options },
  ).router;
}

describe('cascade: the learned verifier', () => {
  it('a wrong-arithmetic weak answer escalates: the strong answer, with the scorer\'s threshold and score', async () => {
    weak.setScript({ text: WRONG });
    const r = router();
    const result = await r.generate(QUESTION, { model: 'math' });
    expect(result.text).toBe(STRONG);
    expect(result.cascade).toMatchObject({ verifier: 'learned', threshold: artifact.threshold, escalated: true, strong: { deployment: 'large' } });
    expect(result.cascade!.score).toBeGreaterThanOrEqual(artifact.threshold);
    expect(strong.requests).toHaveLength(1);
    await r.close();
  });

  it('a right weak answer is accepted and the strong server is never called', async () => {
    const r = router();
    const result = await r.generate(QUESTION, { model: 'math' });
    expect(result.text).toBe(RIGHT);
    expect(result.cascade).toMatchObject({ verifier: 'learned', escalated: false });
    expect(result.cascade!.score).toBeLessThan(artifact.threshold);
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });

  it('a configured threshold overrides the artifact\'s (-1: every answer escalates), and models() shows the file', async () => {
    const r = router({ threshold: -1 });
    expect((await r.generate(QUESTION, { model: 'math' })).cascade?.escalated).toBe(true);
    expect(r.models().find((m) => m.name === 'math')?.cascade).toMatchObject({ verifier: 'learned', verifierModel: 'models/cascade.json', threshold: -1 });
    await r.close();
  });

  it('an absolute verifierModel is read as is; ordinary calls are untouched', async () => {
    const r = router({ verifierModel: join(dir, 'models', 'cascade.json') }, { baseDir: '/nowhere' });
    expect((await r.generate(QUESTION, { model: 'small' })).cascade).toBeUndefined();
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });

  it('an artifact held in memory works as a custom verifier (learnedVerifier), with no file', async () => {
    weak.setScript({ text: WRONG });
    const scorer = parseCascadeScorer(JSON.parse(JSON.stringify(artifact)), 'memory', 'verifiers.mine');
    const r = router({ verifier: 'mine', verifierModel: undefined, threshold: scorer.threshold }, { verifiers: { mine: learnedVerifier(scorer) } });
    const result = await r.generate(QUESTION, { model: 'math' });
    expect(result.cascade).toMatchObject({ verifier: 'mine', escalated: true });
    expect(result.text).toBe(STRONG);
    await r.close();
  });

  it('refuses tools before any call, like the arithmetic verifier', async () => {
    const r = router();
    await expect(r.generate({ messages: [{ role: 'user', content: QUESTION }], tools: [{ name: 'calc', parameters: { type: 'object' } }] }, { model: 'math' })).rejects.toMatchObject({
      code: 'unsupported',
      param: 'tools',
      message: expect.stringMatching(/uses the learned verifier, which reads text answers only/),
    });
    expect(weak.requests).toHaveLength(0);
    await r.close();
  });
});

describe('cascade: learned verifier config errors', () => {
  const P = 'routing.cascades.0.verifierModel';
  const cases: Array<[string, Partial<Cascade>, RouterOptions, string, RegExp]> = [
    ['no verifierModel', { verifierModel: undefined }, {}, P, /uses the learned verifier: set verifierModel/],
    ['verifierModel with another verifier', { verifier: 'arithmetic' }, {}, P, /is read by the learned verifier only; cascade "math" uses "arithmetic"/],
    ['a missing file', { verifierModel: 'models/none.json' }, {}, P, /file not found: .*models\/none.json \(train one with: llmrr router train --cascade/],
    ['a file that is not JSON', { verifierModel: 'models/broken.json' }, {}, P, /broken.json: not JSON/],
    ['a router model instead of a scorer', { verifierModel: 'models/router.json' }, {}, P, /format: not a cascade scorer/],
    ['another version', { verifierModel: 'models/v9.json' }, {}, P, /version: unsupported version 9/],
    ['an empty verifierModel', { verifierModel: '' }, {}, P, /./],
    ['a custom verifier named learned', { verifier: 'arithmetic', verifierModel: undefined }, { verifiers: { learned: () => 0 } }, 'verifiers.learned', /built-in verifier/],
  ];
  for (const [what, cascade, options, param, message] of cases) {
    it(`${what}: config_invalid naming ${param}`, () => {
      const e = thrown(() => router(cascade, options));
      expect(e.code).toBe('config_invalid');
      expect(e.param).toBe(param);
      expect(e.message).toMatch(message);
    });
  }
});
