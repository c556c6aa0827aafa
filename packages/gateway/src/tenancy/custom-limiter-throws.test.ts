/**
 * A custom rate limiter or budget store (`GatewayStores.rateLimiter`, `.budgets`, plain JS maybe) whose method throws
 * synchronously instead of returning a rejected promise is answered as its asynchronous failure is: logged, the request
 * answered as when its store is down, never an unhandled rejection. Real gateway, memory stores, the memory ones wrapped.
 */
import { createStateStores, LLMRouter, type BudgetStore, type RateLease, type RateLimiter, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway } from '../node/serve-gateway.js';
import { mockModel, post } from '../test-support/harness.js';
import type { Gateway, GatewayStores } from '../types.js';
import { Renewals } from './renewals.js';

const LIMITS = { rpm: 10, maxConcurrency: 1 };
const SCOPE = [{ kind: 'tenant' as const, id: 'acme', limits: LIMITS }];

let open: { gateway: Gateway; router: LLMRouter; stores: StateStores } | undefined;
afterEach(async () => {
  await open?.gateway.close();
  await open?.router.close();
  await open?.stores.close();
  open = undefined;
});

/** A gateway over `limiter(inner)` (tenant `acme` with `LIMITS`, one key); what it logged. */
async function gatewayWith(limiter: (inner: RateLimiter) => RateLimiter) {
  const stores = await createStateStores({ mode: 'memory' });
  const router = new LLMRouter({ models: [mockModel('mock')], routing: { strategy: 'priority', retries: { max: 0 } } });
  const logged: string[] = [];
  const gateway = createGateway({ router, stores: { ...stores, rateLimiter: limiter(stores.rateLimiter) }, log: (e) => void (e.level === 'error' && logged.push(e.message)), limits: { leaseRenewIntervalMs: 20 } });
  open = { gateway, router, stores };
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS });
  const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
  return { stores, logged, auth: { authorization: `Bearer ${secret}` } };
}

describe('a custom limiter that throws synchronously', () => {
  it.each([
    ['rejects (its store down)', () => Promise.reject(new Error('the limiter store is down'))],
    ['throws synchronously', () => {
      throw new Error('the limiter store is down');
    }],
  ])('/api/route whose peek %s: answered (200) with the acquire\'s numbers, the failure logged', async (_, peek) => {
    // Leases without `releaseAndPeek` (a custom limiter's may not have it): what is left is read by a peek after the release.
    const { logged, auth } = await gatewayWith((inner) => ({
      acquire: async (s, o) => {
        const d = await inner.acquire(s, o);
        return d.ok ? { ...d, lease: { release: (t) => d.lease.release(t) } } : d;
      },
      peek: peek as RateLimiter['peek'],
      close: () => inner.close(),
    }));
    const res = await post(open!.gateway, '/api/route', { prompt: 'which one?' }, auth);
    expect(res.status, await res.clone().text()).toBe(200);
    // The acquire's numbers: this request counted, its place taken.
    expect([res.headers.get('x-ratelimit-remaining-requests'), res.headers.get('x-ratelimit-remaining-concurrency')]).toEqual(['9', '0']);
    expect(logged).toEqual(['reading the rate limits left after a request that calls no model failed']);
  });

  it.each([
    ['rejects (its store down)', () => Promise.reject(new Error('the limiter store is down'))],
    ['throws synchronously', () => {
      throw new Error('the limiter store is down');
    }],
  ])('/api/route whose lease\'s releaseAndPeek %s: answered (200), the failure logged, the place given back by a plain release', async (_, releaseAndPeek) => {
    const { stores, logged, auth } = await gatewayWith((inner) => ({
      acquire: async (s, o) => {
        const d = await inner.acquire(s, o);
        return d.ok ? { ...d, lease: { release: (t) => d.lease.release(t), releaseAndPeek: releaseAndPeek as RateLease['releaseAndPeek'] } } : d;
      },
      peek: (s) => inner.peek(s),
      close: () => inner.close(),
    }));
    const res = await post(open!.gateway, '/api/route', { prompt: 'which one?' }, auth);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('9');
    expect(logged).toEqual(['releasing the rate-limit place of a request that calls no model failed']);
    await vi.waitFor(async () => expect(await stores.rateLimiter.peek(SCOPE)).toMatchObject({ remainingConcurrency: 1 }), { timeout: 10_000, interval: 20 });
  });

  it.each([
    ['rejects (its store down)', () => Promise.reject(new Error('the limiter store is down'))],
    ['throws synchronously', () => {
      throw new Error('the limiter store is down');
    }],
  ])("a JSON call whose limiter's peek %s (a lease without releaseAndPeek): answered (200) with the admission's numbers, the read's failure logged, no retry", async (_, peek) => {
    // Before (synchronous throw): logged as a failed release ("releasing limits or settling the budget failed") though
    // the release had succeeded, and a pointless retry of the call's finish registered.
    const retry = vi.spyOn(Renewals.prototype, 'retry');
    try {
      const { stores, logged, auth } = await gatewayWith((inner) => ({
        acquire: async (s, o) => {
          const d = await inner.acquire(s, o);
          return d.ok ? { ...d, lease: { release: (t) => d.lease.release(t) } } : d;
        },
        peek: peek as RateLimiter['peek'],
        close: () => inner.close(),
      }));
      const res = await post(open!.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }, auth);
      expect(res.status, await res.clone().text()).toBe(200);
      // The admission's numbers: this request counted, its place taken (the read of what is left after it failed).
      expect([res.headers.get('x-ratelimit-remaining-requests'), res.headers.get('x-ratelimit-remaining-concurrency')]).toEqual(['9', '0']);
      expect(logged).toEqual(['reading the rate limits left after a call failed']);
      expect(retry).not.toHaveBeenCalled();
      // The place was given back.
      expect(await stores.rateLimiter.peek(SCOPE)).toMatchObject({ remainingConcurrency: 1 });
    } finally {
      retry.mockRestore();
    }
  });

  it('a lease whose release throws synchronously at first is tried again until it gives the place back (as a rejected release is)', async () => {
    let failures = 2;
    const { stores, auth } = await gatewayWith((inner) => ({
      acquire: async (s, o) => {
        const d = await inner.acquire(s, o);
        if (!d.ok) return d;
        const lease: RateLease = {
          release: (t) => {
            if (failures > 0) {
              failures--;
              throw new Error('the limiter store is down');
            }
            return d.lease.release(t);
          },
        };
        return { ...d, lease };
      },
      peek: (s) => inner.peek(s),
      close: () => inner.close(),
    }));
    expect((await post(open!.gateway, '/api/route', { prompt: 'which one?' }, auth)).status).toBe(200);
    await vi.waitFor(async () => expect(await stores.rateLimiter.peek(SCOPE)).toMatchObject({ remainingConcurrency: 1 }), { timeout: 10_000, interval: 20 });
    expect(failures).toBe(0);
  });

  it('renew throwing synchronously: the sweep logs it and resolves (no unhandled rejection), as a rejected renew', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const router = new LLMRouter({ models: [mockModel('mock')] });
    open = { gateway: createGateway({ router, log: () => {} }), router, stores };
    const limiter: RateLimiter = {
      acquire: (s, o) => stores.rateLimiter.acquire(s, o),
      peek: (s) => stores.rateLimiter.peek(s),
      close: () => stores.rateLimiter.close(),
      renew: () => {
        throw new Error('the limiter store is down');
      },
    };
    const logged: string[] = [];
    const renewals = new Renewals({ ...stores, rateLimiter: limiter } as GatewayStores, (m) => logged.push(m), 60_000);
    try {
      const d = await limiter.acquire(SCOPE, { estimatedTokens: 0 });
      if (!d.ok) throw new Error('refused');
      renewals.add(d.lease, undefined);
      await expect(renewals.renewNow()).resolves.toBeUndefined();
      expect(logged).toEqual(['renewing the concurrency leases of calls in flight failed']);
    } finally {
      await renewals.close();
    }
  });
});

describe('a custom budget store whose release throws synchronously', () => {
  it('on the late path (the client left while reserve was pending, shared mode): no unhandled rejection, as a rejecting release', async () => {
    const memory = await createStateStores({ mode: 'memory' });
    let letThrough!: () => void;
    const gate = new Promise<void>((r) => (letThrough = r));
    let reserving = 0;
    let releases = 0;
    const inner = memory.budgets;
    const budgets: BudgetStore = {
      reserve: async (r) => {
        reserving++;
        await gate;
        return inner.reserve(r);
      },
      settle: (id, usd) => inner.settle(id, usd),
      release: () => {
        releases++;
        throw new Error('the budget store is down');
      },
      spent: (t, p) => inner.spent(t, p),
      close: () => inner.close(),
    };
    // Shared mode: the gateway stops waiting for a store when the client goes away (checked every 20 ms here).
    const stores = { ...memory, mode: 'shared', budgets } as StateStores;
    const router = new LLMRouter({ models: [mockModel('mock')], routing: { strategy: 'priority', retries: { max: 0 } } }, { env: {} });
    const gateway = createGateway({ router, stores, log: () => {}, limits: { leaseRenewIntervalMs: 20 } });
    open = { gateway, router, stores: memory };
    const served = await serveGateway(gateway, { port: 0 });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 100, period: 'total' } });
      const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
      const ac = new AbortController();
      const res = fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        signal: ac.signal,
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }),
      }).catch(() => undefined);
      await vi.waitFor(() => expect(reserving).toBe(1), { timeout: 5_000, interval: 10 });
      ac.abort();
      await res;
      // Long enough for the gateway to see the client gone (many of its 20 ms checks) and stop waiting.
      await new Promise((r) => setTimeout(r, 500));
      letThrough();
      // The reservation that arrives late is given back by the late path: its release throws.
      await vi.waitFor(() => expect(releases).toBe(1), { timeout: 5_000, interval: 10 });
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled.map((e) => (e as Error).message)).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await served.close(1000);
    }
  });
});
