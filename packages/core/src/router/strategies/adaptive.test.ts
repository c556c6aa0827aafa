import { describe, expect, it } from 'vitest';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import { syntheticDataset } from '../../learning/__fixtures__/synthetic-data.js';
import { RouterModel } from '../../learning/training/router-model.js';
import { trainRouterModel } from '../../learning/training/train-router-model.js';
import { seededRandom } from '../../learning/predictors/adam.js';
import { LLMRouter } from '../llm-router.js';
import { createAdaptiveStrategy } from './adaptive.js';

const NO_RETRY = { retries: { max: 0 }, circuitBreaker: { enabled: false } };

describe('adaptive strategy (Thompson sampling)', () => {
  it('converges to the clearly better deployment from explicit feedback', async () => {
    const adaptive = createAdaptiveStrategy();
    const r = new LLMRouter(
      { models: [{ name: 'bad', engine: 'mock' }, { name: 'good', engine: 'mock' }], routing: { strategy: 'adaptive', ...NO_RETRY } },
      { random: seededRandom(42), strategies: { adaptive } },
    );
    adaptive.connect(r);
    const noise = seededRandom(7);
    const picks: string[] = [];
    for (let i = 0; i < 200; i++) {
      const requestId = `q${i}`;
      const res = await r.generate(`question ${i}`, { requestId, metadata: { requestId } });
      picks.push(res.deployment);
      // A user rating the answers: "good" is right 90% of the time, "bad" 20%.
      const p = res.deployment === 'good' ? 0.9 : 0.2;
      expect(adaptive.feedback(requestId, noise() < p ? 1 : 0)).toBe(true);
    }
    const last = picks.slice(-50);
    expect(last.filter((p) => p === 'good').length).toBeGreaterThanOrEqual(45);
    // It explored both at first.
    expect(picks.slice(0, 40)).toContain('bad');
    const snap = adaptive.snapshot();
    expect(snap['good']!.expectedQuality).toBeGreaterThan(snap['bad']!.expectedQuality);
    // A request it never routed, or already rated, is not accepted twice.
    expect(adaptive.feedback('q199', 1)).toBe(false);
    expect(adaptive.feedback('unknown', 1)).toBe(false);
    expect(() => adaptive.feedback('q1', 2)).toThrow(/score must be a number in \[0,1\]/);
    await r.close();
  });

  it('learns from live outcomes: a failing deployment sinks below a working one', async () => {
    const adaptive = createAdaptiveStrategy();
    const failing = new MockEngine({ failures: [{ code: 'provider_error', times: 1_000_000 }] });
    const r = new LLMRouter(
      { models: [{ name: 'flaky', engine: 'mock', quality: 0.9 }, { name: 'solid', engine: 'mock', quality: 0.6 }], routing: { strategy: 'adaptive', ...NO_RETRY } },
      { random: seededRandom(5), engines: { flaky: failing }, strategies: { adaptive } },
    );
    adaptive.connect(r);
    const first: string[] = [];
    for (let i = 0; i < 60; i++) {
      const requestId = `r${i}`;
      const res = await r.generate('hello', { requestId, metadata: { requestId }, explain: true });
      expect(res.deployment).toBe('solid'); // flaky fails, then the ranked fallback answers
      first.push(res.decision!.selected);
    }
    // The prior (configured quality) put flaky first; outcomes moved it down.
    expect(first[0]).toBe('flaky');
    expect(first.slice(-20).filter((d) => d === 'solid').length).toBeGreaterThanOrEqual(18);
    await r.close();
  });

  it('is cold-started by the learned predictor', async () => {
    const model = new RouterModel(trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic'] }));
    const r = new LLMRouter(
      { models: ['cheap', 'mathy', 'poet'].map((name) => ({ name, engine: 'mock' })), routing: { strategy: 'adaptive' } },
      { random: seededRandom(3), strategies: { adaptive: createAdaptiveStrategy({ model, explorationScale: 0.02 }) } },
    );
    const d = await r.route('solve the equation 44 and 12?', { explain: true });
    expect(d.selected).toBe('mathy');
    expect(d.candidates[0]!.factors!['priorQuality']!).toBeGreaterThan(0.6);
    expect((await r.route('write a poem about autumn.')).selected).toBe('poet');
    await r.close();
  });
});
