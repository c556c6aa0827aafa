/**
 * `adaptive`: explicit feedback is the rating tenant's own. A tenant's scores on a shared deployment move that
 * tenant's ranking only (its layer over the shared state); live outcomes stay shared; calls without a tenant learn
 * on the shared state as before. Layers are bounded (`maxTenantLayers`, least recently used dropped) and go with
 * `forgetTenant`.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../learning/predictors/adam.js';
import { LLMRouter } from '../llm-router.js';
import { AdaptiveStrategy } from './adaptive.js';

const NO_RETRY = { retries: { max: 0 }, circuitBreaker: { enabled: false } };

function sharedRouter(adaptive: AdaptiveStrategy, seed: number): LLMRouter {
  return new LLMRouter(
    {
      models: [
        { name: 'a', engine: 'mock', quality: 0.8, options: { reply: 'from a' } },
        { name: 'b', engine: 'mock', quality: 0.7, options: { reply: 'from b' } },
      ],
      routing: { strategy: 'adaptive', ...NO_RETRY },
    },
    { random: seededRandom(seed), strategies: { adaptive } },
  );
}

/** `tenant`'s calls to "a", each then scored `score`. */
async function rate(router: LLMRouter, tenant: string | undefined, score: number, n: number, prefix: string): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await router.generate('same prompt', { ...(tenant !== undefined ? { tenant } : {}), model: 'a', requestId: `${prefix}${i}` });
    expect(r.deployment).toBe('a');
    ids.push(r.requestId);
  }
  for (const id of ids) expect(router.feedback(id, score)).toBe(true);
}

async function expectedQuality(router: LLMRouter, tenant?: string): Promise<Record<string, number>> {
  const d = await router.route('same prompt', { ...(tenant !== undefined ? { tenant } : {}), explain: true });
  return Object.fromEntries(d.candidates.map((c) => [c.name, c.factors!['expectedQuality']!]));
}

describe("adaptive: a tenant's explicit feedback on shared deployments", () => {
  it("one tenant scoring its calls 0 leaves another tenant's ranking unchanged and moves its own", async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001 });
    const router = sharedRouter(adaptive, 1);
    // acme's calls: their live outcomes (implicit successes) are facts about "a", shared by every tenant.
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await router.generate('same prompt', { tenant: 'acme', model: 'a', requestId: `acme${i}` })).requestId);
    const globexBefore = await expectedQuality(router, 'globex');
    const acmeBefore = await expectedQuality(router, 'acme');
    expect(acmeBefore).toEqual(globexBefore);
    expect((await router.route('same prompt', { tenant: 'globex' })).selected).toBe('a');

    for (const id of ids) expect(router.feedback(id, 0)).toBe(true);

    // globex: exactly as before (same shared state), still routed to "a".
    expect(await expectedQuality(router, 'globex')).toEqual(globexBefore);
    expect((await router.route('same prompt', { tenant: 'globex' })).selected).toBe('a');
    expect(await expectedQuality(router)).toEqual(globexBefore); // calls without a tenant too
    // acme: its own scores moved "a" down, below "b".
    const acmeAfter = await expectedQuality(router, 'acme');
    expect(acmeAfter['a']).toBeLessThan(acmeBefore['a']! - 0.3);
    expect(acmeAfter['b']).toBeCloseTo(acmeBefore['b']!, 12);
    expect((await router.route('same prompt', { tenant: 'acme' })).selected).toBe('b');
    expect(adaptive.snapshot('acme')['a']!.expectedQuality).toBeLessThan(adaptive.snapshot('globex')['a']!.expectedQuality - 0.3);
    expect(adaptive.snapshot('globex')).toEqual(adaptive.snapshot());
    await router.close();
  });

  it('live outcomes of a tenant\'s calls stay shared: another tenant sees its failures', async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001 });
    const router = new LLMRouter(
      { models: [{ name: 'flaky', engine: 'mock', options: { failures: [{ code: 'provider_error', times: 1_000_000 }] } }], routing: { strategy: 'adaptive', ...NO_RETRY } },
      { random: seededRandom(2), strategies: { adaptive } },
    );
    const before = await expectedQuality(router, 'globex');
    for (let i = 0; i < 5; i++) await router.generate('same prompt', { tenant: 'acme', fallbacks: [] }).catch(() => undefined);
    expect((await expectedQuality(router, 'globex'))['flaky']).toBeLessThan(before['flaky']! - 0.1);
    await router.close();
  });

  it('feedback on calls without a tenant still moves the shared state every tenant is ranked on', async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001 });
    const router = sharedRouter(adaptive, 3);
    await router.generate('same prompt', { model: 'a', requestId: 'warm' });
    const before = await expectedQuality(router, 'globex');
    await rate(router, undefined, 0, 10, 'anon');
    expect((await expectedQuality(router, 'globex'))['a']).toBeLessThan(before['a']! - 0.3);
    expect((await expectedQuality(router))['a']).toBeLessThan(before['a']! - 0.3);
    await router.close();
  });

  it('layers are bounded (least recently used tenant dropped past maxTenantLayers) and forgetTenant drops one', async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001, maxTenantLayers: 2 });
    const router = sharedRouter(adaptive, 4);
    await rate(router, 't1', 0, 3, 'one');
    await rate(router, 't2', 0, 3, 'two');
    const lowered = (t: string) => adaptive.snapshot(t)['a']!.expectedQuality < adaptive.snapshot()['a']!.expectedQuality - 0.1;
    expect([lowered('t1'), lowered('t2')]).toEqual([true, true]);
    // A call of t1 makes it the most recently used; t3's first feedback then pushes t2's layer out.
    await router.generate('same prompt', { tenant: 't1', model: 'b' });
    await rate(router, 't3', 0, 3, 'three');
    expect([lowered('t1'), lowered('t2'), lowered('t3')]).toEqual([true, false, true]);
    expect(adaptive.snapshot('t2')).toEqual(adaptive.snapshot());

    adaptive.forgetTenant('t3'); // as the router's forgetTenant does
    expect(lowered('t3')).toBe(false);
    expect(lowered('t1')).toBe(true);
    await router.close();
  });

  it("router.forgetTenant forgets a tenant served on shared deployments only (never set): its layer and its calls' pending decisions", async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001 });
    const router = sharedRouter(adaptive, 5);
    await rate(router, 'acme', 0, 10, 'acme');
    const waiting = (await router.generate('same prompt', { tenant: 'acme', model: 'a' })).requestId;
    expect(adaptive.snapshot('acme')['a']!.expectedQuality).toBeLessThan(adaptive.snapshot()['a']!.expectedQuality - 0.3);

    expect(router.removeTenant('acme')).toBe(false); // not a tenant the router knows ...
    router.forgetTenant('acme'); // ... yet its learning goes
    expect(adaptive.snapshot('acme')).toEqual(adaptive.snapshot());
    expect(router.feedback(waiting, 0)).toBe(false);
    await router.close();
  });

  it('removeTenant takes own models only: the tenant keeps its feedback on shared deployments and its pending decisions', async () => {
    const adaptive = new AdaptiveStrategy({ explorationScale: 0.001 });
    const router = sharedRouter(adaptive, 6);
    router.setTenant({ id: 'acme', models: [{ name: 'own', engine: 'mock' }] });
    await rate(router, 'acme', 0, 10, 'acme');
    const waiting = (await router.generate('same prompt', { tenant: 'acme', model: 'a' })).requestId;
    expect(router.removeTenant('acme')).toBe(true);
    expect(adaptive.snapshot('acme')['a']!.expectedQuality).toBeLessThan(adaptive.snapshot()['a']!.expectedQuality - 0.3);
    expect(router.feedback(waiting, 0)).toBe(true);
    await router.close();
  });

  it('maxTenantLayers is checked like the other options', () => {
    expect(() => new AdaptiveStrategy({ maxTenantLayers: 0 })).toThrow(/maxTenantLayers/);
  });
});

describe("adaptive: pending decisions (maxPending) are shared among tenants", () => {
  it("a busy tenant's calls push out its own oldest decisions, not a quiet tenant's", async () => {
    const router = new LLMRouter({
      version: 3,
      models: [{ name: 'a', engine: 'mock' }, { name: 'b', engine: 'mock' }],
      tenants: [{ id: 'quiet' }, { id: 'busy' }],
      routing: { strategy: 'adaptive', ...NO_RETRY, options: { adaptive: { maxPending: 5 } } },
    });
    try {
      const mine = await router.generate('hello', { tenant: 'quiet' });
      const busy: string[] = [];
      for (let i = 0; i < 6; i++) busy.push((await router.generate('hello', { tenant: 'busy' })).requestId);
      // 5 in all: the quiet tenant's one and the busy tenant's 4 most recent.
      expect(router.feedback(mine.requestId, 1)).toBe(true);
      expect(busy.map((id) => router.feedback(id, 1))).toEqual([false, false, true, true, true, true]);
    } finally {
      await router.close();
    }
  });

  it('when full, the oldest decision of a tenant with the most waiting goes first (on a tie, the calling tenant\'s)', async () => {
    const router = new LLMRouter({
      version: 3,
      models: [{ name: 'a', engine: 'mock' }],
      tenants: [{ id: 't1' }, { id: 't2' }],
      routing: { strategy: 'adaptive', ...NO_RETRY, options: { adaptive: { maxPending: 4 } } },
    });
    try {
      const call = async (tenant: string) => (await router.generate('hello', { tenant })).requestId;
      const t1 = [await call('t1'), await call('t1')];
      const t2 = [await call('t2'), await call('t2')];
      // Full (2 + 2): on a tie the calling tenant gives way, so t2 keeps its share however often t1 calls.
      const t1b = await call('t1');
      const t1c = await call('t1');
      // A call without a tenant (none waiting) takes a place from a tenant with the most waiting.
      const none = (await router.generate('hello')).requestId;
      expect([...t1, t1b, t1c].map((id) => router.feedback(id, 1))).toEqual([false, false, true, true]);
      expect(t2.map((id) => router.feedback(id, 1))).toEqual([false, true]);
      expect(router.feedback(none, 1)).toBe(true);
    } finally {
      await router.close();
    }
  });
});
