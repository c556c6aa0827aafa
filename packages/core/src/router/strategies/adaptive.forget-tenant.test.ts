/**
 * `adaptive` forgets a tenant the router forgets (`forgetTenant`, with `removeTenant`, as the gateway does when an
 * admin deletes a tenant): its own deployments' models and its calls' pending decisions go, so the strategy does not grow
 * with every tenant that ever had its own models. A `route()` preview makes no state.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../learning/predictors/adam.js';
import { LLMRouter } from '../llm-router.js';
import { AdaptiveStrategy } from './adaptive.js';

const NO_RETRY = { retries: { max: 0 }, circuitBreaker: { enabled: false } };

function armsOf(adaptive: AdaptiveStrategy): Map<string | undefined, Map<string, unknown>> {
  return (adaptive as unknown as { arms: Map<string | undefined, Map<string, unknown>> }).arms;
}

describe('adaptive: tenants that come and go', () => {
  it("a deleted tenant's own arms are dropped (state does not grow with every tenant ever seen)", async () => {
    const adaptive = new AdaptiveStrategy();
    const router = new LLMRouter(
      { models: [{ name: 'shared', engine: 'mock' }], routing: { strategy: 'adaptive', ...NO_RETRY } },
      { random: seededRandom(1), strategies: { adaptive } },
    );
    const tenants = 200;
    for (let i = 0; i < tenants; i++) {
      const id = `t${i}`;
      router.setTenant({ id, models: [{ name: 'own', engine: 'mock' }] });
      await router.generate('hi', { tenant: id, model: 'own' });
      expect(adaptive.snapshot(id)['own']?.observations).toBeGreaterThan(0);
      expect(router.removeTenant(id)).toBe(true);
      router.forgetTenant(id);
    }
    // Every tenant is gone from the router; what the strategy still holds for them:
    const kept = Array.from({ length: tenants }, (_, i) => adaptive.snapshot(`t${i}`)['own']).filter((s) => s !== undefined).length;
    expect(kept).toBe(0);
    expect(armsOf(adaptive).size).toBeLessThanOrEqual(1); // the shared deployments' arms at most
    await router.close();
  });

  it("a deleted tenant's calls waiting for feedback are forgotten; another tenant's and shared calls are not", async () => {
    const adaptive = new AdaptiveStrategy();
    const router = new LLMRouter(
      { models: [{ name: 'shared', engine: 'mock' }], routing: { strategy: 'adaptive', ...NO_RETRY } },
      { random: seededRandom(2), strategies: { adaptive } },
    );
    router.setTenant({ id: 'gone', models: [{ name: 'own', engine: 'mock' }] });
    router.setTenant({ id: 'stays', models: [{ name: 'own', engine: 'mock' }] });
    await router.generate('hi', { tenant: 'gone', model: 'own', requestId: 'g1' });
    await router.generate('hi', { tenant: 'stays', model: 'own', requestId: 's1' });
    await router.generate('hi', { model: 'shared', requestId: 'x1' });
    router.removeTenant('gone');
    router.forgetTenant('gone');
    expect([router.feedback('g1', 1), router.feedback('s1', 1), router.feedback('x1', 1)]).toEqual([false, true, true]);
    expect(adaptive.snapshot('stays')['own']?.observations).toBeGreaterThan(0);
    await router.close();
  });

  it('a route() preview makes no state (no arm for a deployment no call went to)', async () => {
    const adaptive = new AdaptiveStrategy();
    const router = new LLMRouter(
      { models: [{ name: 'shared', engine: 'mock' }], routing: { strategy: 'adaptive', ...NO_RETRY } },
      { random: seededRandom(3), strategies: { adaptive } },
    );
    router.setTenant({ id: 't', models: [{ name: 'own', engine: 'mock' }] });
    const r = await router.route('hi', { tenant: 't' });
    expect([...r.order].sort()).toEqual(['own', 'shared']);
    expect(armsOf(adaptive).size).toBe(0);
    await router.close();
  });
});

describe('forgetTenant ids', () => {
  it('an unknown id is harmless: the shared learning and its pending feedback stay', async () => {
    const adaptive = new AdaptiveStrategy();
    const router = new LLMRouter({ models: [{ name: 'shared', engine: 'mock' }], routing: { strategy: 'adaptive', ...NO_RETRY } }, { random: seededRandom(1), strategies: { adaptive } });
    await router.generate('hi', { model: 'shared', requestId: 'x1' });
    router.forgetTenant('nobody');
    expect(adaptive.snapshot()['shared']?.observations).toBeGreaterThan(0);
    expect(router.feedback('x1', 1)).toBe(true);
    await router.close();
  });

  it('no id (a JS caller) is refused, and does not wipe what calls without a tenant taught', async () => {
    const adaptive = new AdaptiveStrategy();
    const router = new LLMRouter({ models: [{ name: 'shared', engine: 'mock' }], routing: { strategy: 'adaptive', ...NO_RETRY } }, { random: seededRandom(1), strategies: { adaptive } });
    await router.generate('hi', { model: 'shared', requestId: 'x1' });
    for (const id of [undefined, '']) {
      expect(() => router.forgetTenant(id as unknown as string)).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'id' }));
    }
    expect(adaptive.snapshot()['shared']?.observations).toBeGreaterThan(0);
    expect(router.feedback('x1', 1)).toBe(true);
    await router.close();
  });
});
