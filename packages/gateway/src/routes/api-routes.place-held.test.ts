/**
 * The place an `/api/route` plan holds under its tenant's limits (held until the plan really ends, abandoned or not):
 * `gateway.close()` waits for it to be given back before the owner closes the stores, it is renewed as a call's lease
 * is (a plan longer than the lease's TTL keeps it), and a client gone before its plan started gets no plan.
 */
import { createStateStores, LLMRouter, type RateLimiter, type StateStores } from '@llmrr/core';
import { describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { mockModel } from '../test-support/harness.js';

const LIMITS = { maxConcurrency: 1 };
const SCOPE = [{ kind: 'tenant' as const, id: 'acme', limits: LIMITS }];

/** Strategy `slow`: each ranking settles when the test calls its entry; the most running at once kept. */
function slowStrategy(router: LLMRouter) {
  const rankings: Array<() => void> = [];
  const seen = { running: 0, most: 0 };
  router.addStrategy('slow', {
    name: 'slow',
    rank: (ctx) =>
      new Promise((resolve) => {
        seen.running++;
        seen.most = Math.max(seen.most, seen.running);
        rankings.push(() => {
          seen.running--;
          resolve(ctx.candidates.map((d) => ({ deployment: d })));
        });
      }),
  });
  return { rankings, seen };
}

async function tenantKey(stores: StateStores): Promise<string> {
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS });
  return (await stores.tenants.createKey('acme', { name: 'k' })).secret;
}

function ask(gateway: ReturnType<typeof createGateway>, secret: string, strategy: string, signal?: AbortSignal): Promise<Response> {
  return gateway.fetch(
    new Request('http://gateway/api/route', {
      method: 'POST',
      ...(signal ? { signal } : {}),
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'which one?', strategy }),
    }),
  );
}

describe('/api/route: the place a plan holds', () => {
  it('close() waits for an abandoned plan to give its place back, as it waits for a call', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const router = new LLMRouter({ models: [mockModel('a')], routing: { strategy: 'priority', retries: { max: 0 } } });
    const gateway = createGateway({ router, stores, log: () => {} });
    const { rankings } = slowStrategy(router);
    const secret = await tenantKey(stores);
    try {
      const ac = new AbortController();
      const res = ask(gateway, secret, 'slow', ac.signal);
      await vi.waitFor(() => expect(rankings).toHaveLength(1), { timeout: 5_000, interval: 10 });
      ac.abort();
      expect((await res).status).toBe(499);
      const closing = gateway.close(10_000).then(() => 'closed');
      const outcome = await Promise.race([closing, new Promise((r) => setTimeout(() => r('still waiting'), 300))]);
      const heldAtClose = (await stores.rateLimiter.peek(SCOPE)).remainingConcurrency;
      rankings[0]!();
      await closing;
      // Before: close() returned at once, the place still taken (the stores then closed under it).
      expect({ outcome, heldAtClose }).toEqual({ outcome: 'still waiting', heldAtClose: 0 });
      expect((await stores.rateLimiter.peek(SCOPE)).remainingConcurrency).toBe(1);
    } finally {
      await gateway.close();
      await router.close();
      await stores.close();
    }
  });

  it('a plan longer than its lease TTL keeps its place (renewed as a call is)', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const inner = stores.rateLimiter;
    // Scaled down: leases of 1 s, renewed every 50 ms.
    const shortTtl: RateLimiter = {
      acquire: (s, o) => inner.acquire(s, { ...o, leaseTtlMs: 1000 }),
      peek: (s) => inner.peek(s),
      close: () => inner.close(),
      renew: (l) => inner.renew!(l),
    };
    const router = new LLMRouter({ models: [mockModel('a')], routing: { strategy: 'priority', retries: { max: 0 } } });
    const gateway = createGateway({ router, stores: { ...stores, rateLimiter: shortTtl }, log: () => {}, limits: { leaseRenewIntervalMs: 50 } });
    const { rankings, seen } = slowStrategy(router);
    const secret = await tenantKey(stores);
    try {
      const first = ask(gateway, secret, 'slow');
      await vi.waitFor(() => expect(rankings).toHaveLength(1), { timeout: 5_000, interval: 10 });
      await new Promise((r) => setTimeout(r, 2500));
      const heldAfterTtl = (await inner.peek(SCOPE)).remainingConcurrency;
      const second = ask(gateway, secret, 'slow');
      await new Promise((r) => setTimeout(r, 200));
      for (const r of rankings) r();
      // Before: the lease expired under the plan (1 left) and a second plan ran beside it (200).
      expect({ heldAfterTtl, most: seen.most, statuses: [(await first).status, (await second).status] }).toEqual({ heldAfterTtl: 0, most: 1, statuses: [200, 429] });
    } finally {
      await gateway.close();
      await router.close();
      await stores.close();
    }
  });

  it('a client gone while its place was taken gets no plan, nor a peek for headers it is not sent', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const inner = stores.rateLimiter;
    let acquiring = 0;
    let peeks = 0;
    let letThrough!: () => void;
    const gate = new Promise<void>((r) => (letThrough = r));
    const slowAcquire: RateLimiter = {
      acquire: async (s, o) => {
        acquiring++;
        await gate;
        return inner.acquire(s, o);
      },
      peek: (s) => (peeks++, inner.peek(s)),
      close: () => inner.close(),
    };
    const router = new LLMRouter({ models: [mockModel('a')], routing: { strategy: 'priority', retries: { max: 0 } } });
    const gateway = createGateway({ router, stores: { ...stores, rateLimiter: slowAcquire }, log: () => {} });
    let ranked = 0;
    router.addStrategy('counting', { name: 'counting', rank: async (ctx) => (ranked++, ctx.candidates.map((d) => ({ deployment: d }))) });
    const secret = await tenantKey(stores);
    try {
      const ac = new AbortController();
      const res = ask(gateway, secret, 'counting', ac.signal);
      await vi.waitFor(() => expect(acquiring).toBe(1), { timeout: 5_000, interval: 10 });
      ac.abort();
      letThrough();
      expect((await res).status).toBe(499);
      await gateway.close(10_000);
      // Before: the plan ran (ranked 1) for a client already gone.
      expect(ranked).toBe(0);
      // Before: its place's release was followed by a peek of the limiter for the 499's (unsent) headers.
      expect(peeks).toBe(0);
      expect((await inner.peek(SCOPE)).remainingConcurrency).toBe(1);
    } finally {
      await gateway.close();
      await router.close();
      await stores.close();
    }
  });
});
