/**
 * `adaptive` ties what it learned of a deployment to what answers under its name (the config's `answerVersion`): a
 * deployment replaced by another model under the same name (`router.load()`, a tenant's own model changed by
 * `setTenant`) starts from its prior, as a changed model never serves the old one's cached answers; a change of
 * routing fields only (priority, quality, price...) keeps what was learned. A late score for the replaced model's
 * answer is learned nowhere, and `feedback` says so (false: the gateway answers `accepted: false`).
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../learning/predictors/adam.js';
import { LLMRouter } from '../llm-router.js';
import { AdaptiveStrategy } from './adaptive.js';

const NO_RETRY = { retries: { max: 0 }, circuitBreaker: { enabled: false } };

function routerWith(adaptive: AdaptiveStrategy, config: Record<string, unknown>): LLMRouter {
  return new LLMRouter({ routing: { strategy: 'adaptive', ...NO_RETRY }, ...config } as never, { random: seededRandom(3), strategies: { adaptive } });
}

/** `n` calls to `model` (for `tenant`), each scored `score`. */
async function rate(router: LLMRouter, model: string, score: number, n: number, tenant?: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await router.generate('hello', { model, ...(tenant !== undefined ? { tenant } : {}) });
    expect(router.feedback(r.requestId, score)).toBe(true);
  }
}

async function factorsOf(router: LLMRouter, name: string, tenant?: string): Promise<Record<string, number>> {
  const d = await router.route('hello', { model: name, explain: true, ...(tenant !== undefined ? { tenant } : {}) });
  return d.candidates.find((c) => c.name === name)!.factors!;
}

describe('adaptive: a deployment replaced under its name', () => {
  it('router.load() of a new model named like the old one starts from its prior, not the old posterior', async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001 });
    const router = routerWith(adaptive, { models: [{ name: 'x', engine: 'mock', model: 'old-model', quality: 0.5 }, { name: 'y', engine: 'mock', quality: 0.5 }] });
    try {
      await rate(router, 'x', 0, 20);
      expect(adaptive.snapshot()['x']!.observations).toBeGreaterThan(5);
      router.load({ name: 'x', engine: 'mock', model: 'new-model', quality: 0.9 });
      // A preview already ranks the new model on its prior (and makes no state).
      const preview = await factorsOf(router, 'x');
      expect({ observations: preview['observations'], expected: preview['expectedQuality']!.toFixed(3) }).toEqual({ observations: 0, expected: '0.900' });
      expect(adaptive.snapshot()['x']!.observations).toBeGreaterThan(5);
      // The first call learns on a new model of the deployment.
      await rate(router, 'x', 1, 1);
      expect(adaptive.snapshot()['x']!.observations).toBe(1);
    } finally {
      await router.close();
    }
  });

  it('a late score for a replaced deployment is not accepted (false), shared or a tenant\'s own, and learned nowhere', async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001 });
    const router = routerWith(adaptive, { models: [{ name: 'x', engine: 'mock', model: 'old-model' }, { name: 'y', engine: 'mock' }] });
    try {
      const late = await router.generate('hello', { model: 'x' });
      router.load({ name: 'x', engine: 'mock', model: 'new-model' });
      await rate(router, 'x', 1, 1);
      expect(router.feedback(late.requestId, 0)).toBe(false);
      expect(adaptive.snapshot()['x']!.observations).toBe(1);

      router.setTenant({ id: 't', models: [{ name: 'own', engine: 'mock', model: 'v1' }] });
      const own = await router.generate('hello', { model: 'own', tenant: 't' });
      router.setTenant({ id: 't', models: [{ name: 'own', engine: 'mock', model: 'v2' }] });
      await rate(router, 'own', 1, 1, 't');
      expect(router.feedback(own.requestId, 0)).toBe(false);
      expect(adaptive.snapshot('t')['own']!.observations).toBe(1);
    } finally {
      await router.close();
    }
  });

  it('a load() changing routing fields only (quality, priority, price) keeps what was learned', async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001 });
    const router = routerWith(adaptive, { models: [{ name: 'x', engine: 'mock', model: 'same', quality: 0.5 }, { name: 'y', engine: 'mock' }] });
    try {
      await rate(router, 'x', 0, 8);
      const before = adaptive.snapshot()['x']!.observations;
      router.load({ name: 'x', engine: 'mock', model: 'same', quality: 0.7, priority: 2, price: { input: 1, output: 2 } });
      expect((await factorsOf(router, 'x'))['observations']).toBe(before);
      await rate(router, 'x', 0, 1);
      expect(adaptive.snapshot()['x']!.observations).toBe(before + 1);
    } finally {
      await router.close();
    }
  });

  it("a tenant's own model changed by setTenant starts from its prior; its other own model keeps its learning", async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001 });
    const router = routerWith(adaptive, { models: [{ name: 'shared', engine: 'mock' }] });
    try {
      router.setTenant({ id: 't', models: [{ name: 'own', engine: 'mock', model: 'v1' }, { name: 'other', engine: 'mock' }] });
      await rate(router, 'own', 0, 6, 't');
      await rate(router, 'other', 0, 6, 't');
      router.setTenant({ id: 't', models: [{ name: 'own', engine: 'mock', model: 'v2' }, { name: 'other', engine: 'mock' }] });
      expect((await factorsOf(router, 'own', 't'))['observations']).toBe(0);
      expect((await factorsOf(router, 'other', 't'))['observations']).toBeGreaterThan(5);
    } finally {
      await router.close();
    }
  });

  it("a tenant's feedback layer on a replaced shared deployment is not carried over, nor a late score of the old model", async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001 });
    const router = routerWith(adaptive, {
      version: 3,
      models: [{ name: 'x', engine: 'mock', model: 'old-model' }, { name: 'y', engine: 'mock' }],
      tenants: [{ id: 't' }],
    });
    try {
      await rate(router, 'x', 0, 6, 't');
      const late = await router.generate('hello', { model: 'x', tenant: 't' });
      expect(adaptive.snapshot('t')['x']!.observations).toBeGreaterThan(6);
      router.load({ name: 'x', engine: 'mock', model: 'new-model' });
      await router.generate('hello', { model: 'x', tenant: 't' });
      // The old model's score arrives after the new model's first call: learned nowhere, so not accepted.
      expect(router.feedback(late.requestId, 0)).toBe(false);
      expect((await factorsOf(router, 'x', 't'))['observations']).toBeLessThan(1);
    } finally {
      await router.close();
    }
  });
});
