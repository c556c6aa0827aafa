/**
 * What `adaptive` learns, under which key and with which options, as the router runs it: a tenant's own deployment
 * learns apart from another tenant's of the same name; `routing.options.adaptive` (and a call's `strategyOptions`)
 * set implicitWeight, maxPending and priorWeight; an unknown price is not free; embedding calls keep no decision.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../learning/predictors/adam.js';
import { rejection } from '../../test/async.test-helpers.js';
import { LLMRouter } from '../llm-router.js';
import type { Deployment, StrategyContext } from '../types.js';
import { rankedDeployment, strategyContext } from './__fixtures__/strategy-context.js';
import { AdaptiveStrategy } from './adaptive.js';
import { createIntelligentStrategy } from './intelligent.js';

const NO_RETRY = { retries: { max: 0 }, circuitBreaker: { enabled: false } };

describe('adaptive: tenants with own models of one name', () => {
  it("one tenant's failures on its own deployment do not move another tenant's own deployment of the same name", async () => {
    const router = new LLMRouter(
      {
        models: [{ name: 'shared', engine: 'mock', quality: 0.5, options: { reply: 'shared answer' } }],
        routing: { strategy: 'adaptive', ...NO_RETRY, options: { adaptive: { explorationScale: 0.001 } } },
      },
      { random: seededRandom(1) },
    );
    // Two tenants, each with its own deployment "llm" (their own keys/endpoints): acme's is broken, beta's works.
    router.setTenant({ id: 'acme', models: [{ name: 'llm', engine: 'mock', quality: 0.9, options: { failures: [{ code: 'provider_error', times: 1_000_000 }] } }] });
    router.setTenant({ id: 'beta', models: [{ name: 'llm', engine: 'mock', quality: 0.9, options: { reply: 'beta own answer' } }] });

    const before = await router.route('hello there', { tenant: 'beta', explain: true });
    expect(before.selected).toBe('llm');

    for (let i = 0; i < 20; i++) {
      const e = await rejection(router.generate('hello there', { tenant: 'acme', model: 'llm', fallbacks: [] }));
      expect(e.code).toBe('provider_error');
    }

    // Beta never called its "llm": nothing was observed about it, and it still routes there.
    const after = await router.route('hello there', { tenant: 'beta', explain: true });
    expect(after.selected).toBe('llm');
    const betaLlm = after.candidates.find((c) => c.name === 'llm')!;
    expect(betaLlm.factors!['observations']).toBe(0);
    await router.close();
  });

  it('snapshot(tenant) shows what a call of that tenant learns: its own deployments over the shared ones', async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001 });
    const router = new LLMRouter(
      { models: [{ name: 'shared', engine: 'mock', options: { reply: 'shared answer' } }], routing: { strategy: 'adaptive', ...NO_RETRY } },
      { random: seededRandom(6), strategies: { adaptive } },
    );
    router.setTenant({ id: 'acme', models: [{ name: 'llm', engine: 'mock', options: { failures: [{ code: 'provider_error', times: 1_000_000 }] } }] });
    router.setTenant({ id: 'beta', models: [{ name: 'llm', engine: 'mock', options: { reply: 'beta own answer' } }] });
    for (let i = 0; i < 3; i++) await rejection(router.generate('hi', { tenant: 'acme', model: 'llm', fallbacks: [] }));
    await router.generate('hi', { tenant: 'beta', model: 'llm' });
    await router.generate('hi', { model: 'shared' });

    expect(adaptive.snapshot('acme')['llm']!.observations).toBe(3);
    expect(adaptive.snapshot('beta')['llm']!.observations).toBe(0.25); // one implicit success
    expect(adaptive.snapshot('beta')['shared']!.observations).toBe(0.25);
    // Without a tenant: the shared deployments only.
    expect(Object.keys(adaptive.snapshot())).toEqual(['shared']);
    await router.close();
  });
});

describe('adaptive: options from routing.options.adaptive', () => {
  it('implicitWeight set in the config is honoured (0: a success without feedback teaches nothing)', async () => {
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], routing: { strategy: 'adaptive', ...NO_RETRY, options: { adaptive: { implicitWeight: 0 } } } }, { random: seededRandom(2) });
    await router.generate('hi', { requestId: 'r1' });
    const d = await router.route('hi', { explain: true });
    expect(d.candidates[0]!.factors!['observations']).toBe(0);
    await router.close();
  });

  it("a call's strategyOptions override the config's (implicitWeight 1 there: a success counts fully)", async () => {
    const adaptive = new AdaptiveStrategy();
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], routing: { strategy: 'adaptive', ...NO_RETRY, options: { adaptive: { implicitWeight: 0 } } } }, { random: seededRandom(7), strategies: { adaptive } });
    await router.generate('hi', { requestId: 'r1', strategyOptions: { implicitWeight: 1 } });
    expect(adaptive.snapshot()['a']!.observations).toBe(1);
    // Feedback replaces that call's implicit success at the weight it was learned with.
    expect(router.feedback('r1', 0)).toBe(true);
    expect(adaptive.snapshot()['a']!.observations).toBe(1);
    expect(adaptive.snapshot()['a']!.expectedQuality).toBeLessThan(0.5);
    await router.close();
  });

  it('priorWeight set in the config is honoured (a light prior moves further on one failure)', async () => {
    const quality = async (priorWeight: number) => {
      const adaptive = new AdaptiveStrategy();
      const router = new LLMRouter(
        { models: [{ name: 'a', engine: 'mock', options: { failures: [{ code: 'provider_error', times: 1 }] } }], routing: { strategy: 'adaptive', ...NO_RETRY, options: { adaptive: { priorWeight } } } },
        { random: seededRandom(8), strategies: { adaptive } },
      );
      await rejection(router.generate('hi'));
      const q = adaptive.snapshot()['a']!.expectedQuality;
      await router.close();
      return q;
    };
    const light = await quality(0.5), heavy = await quality(50);
    expect(light).toBeLessThan(heavy - 0.1);
  });

  it('maxPending set in the config is honoured (the oldest decision is forgotten for feedback)', async () => {
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], routing: { strategy: 'adaptive', ...NO_RETRY, options: { adaptive: { maxPending: 1 } } } }, { random: seededRandom(3) });
    await router.generate('one', { requestId: 'r1' });
    await router.generate('two', { requestId: 'r2' });
    expect(router.feedback('r1', 1)).toBe(false);
    expect(router.feedback('r2', 1)).toBe(true);
    await router.close();
  });
});

describe('adaptive: a deployment whose price is unknown', () => {
  const deployment = (name: string, quality: number, price?: { input: number; output: number }): Deployment => rankedDeployment(name, { quality, price });
  const ctx = (candidates: Deployment[], options: Record<string, unknown>): StrategyContext => strategyContext(candidates, 'hello', { options, random: seededRandom(4), preview: true });

  it('is not ranked as free under lambda (intelligent costs it as the dearest known candidate)', () => {
    const priced = deployment('priced', 0.55, { input: 1, output: 1 }); // $0.002 for this request
    const unpriced = deployment('unpriced', 0.5); // remote, no configured price, none in the table
    const options = { lambda: 100, explorationScale: 0.0001 };
    type Ranked = Array<{ deployment: Deployment; factors?: Record<string, number> }>;
    const intelligent = createIntelligentStrategy().rank(ctx([priced, unpriced], options)) as Ranked;
    expect(intelligent.find((r) => r.deployment.name === 'unpriced')!.factors!['expectedCostUsd']).toBeCloseTo(0.002, 12);

    const adaptive = new AdaptiveStrategy().rank(ctx([priced, unpriced], options)) as Ranked;
    const cost = adaptive.find((r) => r.deployment.name === 'unpriced')!.factors!['expectedCostUsd'];
    expect(cost).toBeCloseTo(0.002, 12);
    // The better (and no dearer) deployment ranks first under intelligent; the unknown price must not buy adaptive's first place.
    expect(intelligent[0]!.deployment.name).toBe('priced');
    expect(adaptive[0]!.deployment.name).toBe('priced');
  });
});

describe('adaptive: embedding calls', () => {
  it('an embed() call, which can never be rated, does not push a chat call out of the decisions kept for feedback', async () => {
    const adaptive = new AdaptiveStrategy({ maxPending: 2 });
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], routing: { strategy: 'adaptive', ...NO_RETRY } }, { random: seededRandom(5), strategies: { adaptive } });
    const answer = await router.generate('a question', { requestId: 'chat-1' });
    expect(answer.deployment).toBe('a');
    // Two embedding calls (e.g. a retrieval step), routed by the same default strategy.
    await router.embed(['some passage'], { requestId: 'emb-1' });
    await router.embed(['another passage'], { requestId: 'emb-2' });
    expect(router.feedback('emb-1', 1)).toBe(false); // embeddings are never rated
    expect(router.feedback('chat-1', 1)).toBe(true);
    await router.close();
  });
});
