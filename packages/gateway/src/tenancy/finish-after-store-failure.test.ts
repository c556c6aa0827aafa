/**
 * One Redis connection reset (a failover, a restart, a middlebox dropping connections) while a call finishes: the
 * admission's `finish` (tenancy/admission.ts) cannot release the concurrency lease nor settle the budget
 * reservation. What failed is tried again (`Renewals.retry`, with backoff) until Redis answers, so the slot is freed
 * and the cost charged within moments, not when the stores' TTL (10 minutes) runs out: before, a tenant with
 * `maxConcurrency: 1` got 429 for 10 minutes with nothing in flight, and the call's cost was never charged (its
 * reservation expired uncharged: the tenant could spend past its budget by it).
 * In-process gateway, real LLMRouter (mock engine, priced), core's Redis rate limiter and budget store (shared mode's)
 * on a real Redis behind a loopback relay (core's `startTcpRelay`) that resets its connections once, as the call
 * settles (the other stores: SQLite in memory). Redis is started here (tools/services) unless LLMRR_TEST_REDIS_URL is set.
 * A slot given back outside `finish` is tried again the same way: a call whose budget reservation the reset failed
 * (503), a refused model's (404) place taken only to count it. Before, it was released once, and a tenant with
 * `maxConcurrency: 1` got 429 for 10 minutes with nothing in flight.
 * The same with the embedded stores (SQLite in memory, the memory limiter) whose budget settlement fails once (as a
 * failed SQLite group commit does, which leaves the reservation open).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { LLMRouter, createStateStores, type BudgetStore, type RateLimiter, type StateStores } from '@llmrr/core';
import { startTcpRelay, type TcpRelay } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';
import type { Gateway } from '../types.js';

/**
 * Core's Redis stores, which `createStateStores` builds in shared mode (@llmrr/core does not export them; a path
 * TypeScript does not follow, so the gateway's program stays within its rootDir). The rest of the shared stores
 * (PostgreSQL) takes no part here, so it stays SQLite in memory.
 */
interface CoreRedis {
  connectRedis(url: string, prefix: string): Promise<unknown>;
  RedisRateLimiter: new (handle: unknown, options: { timeoutMs: number }) => RateLimiter;
  RedisBudgetStore: new (handle: unknown, clock: () => number, options: { timeoutMs: number }) => BudgetStore;
}
async function coreRedis(): Promise<CoreRedis> {
  const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
  const [connection, limiter, budgets] = await Promise.all(['redis-connection', 'redis-rate-limiter', 'redis-budget-store'].map((n) => import(/* @vite-ignore */ file(n))));
  return { connectRedis: connection.connectRedis, RedisRateLimiter: limiter.RedisRateLimiter, RedisBudgetStore: budgets.RedisBudgetStore };
}

describe('a Redis connection reset while a call settles or is refused', () => {
  const id = randomBytes(5).toString('hex');
  let redisServer: TestRedis | undefined;
  let relay: TcpRelay | undefined;
  let stores: StateStores | undefined;
  let memory: StateStores | undefined;
  let router: LLMRouter | undefined;
  let gateway: Gateway | undefined;
  let secret = '';
  /** Keys of the refusal cases' own tenants (`maxConcurrency: 1`; initech with a budget). */
  let initechSecret = '';
  let globexSecret = '';
  const logged: string[] = [];
  let dropAtNextSettle = false;
  let dropAtNextReserve = false;
  let dropAfterNextAcquire = false;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    const target = new URL(redisServer.url);
    relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    memory = await createStateStores({ mode: 'memory' });
    const core = await coreRedis();
    const redis = await core.connectRedis(`redis://127.0.0.1:${relay.port}`, `blip${id}:`);
    const rateLimiter = new core.RedisRateLimiter(redis, { timeoutMs: 1000 });
    const budgets = new core.RedisBudgetStore(redis, Date.now, { timeoutMs: 1000 });
    // The reset as the budget reservation is asked (it fails, after the call took its slot), or right after a slot is
    // taken (a refused model's, given back at once).
    const reserve = budgets.reserve.bind(budgets);
    budgets.reserve = (r) => {
      if (dropAtNextReserve) {
        dropAtNextReserve = false;
        relay!.reset();
      }
      return reserve(r);
    };
    const acquire = rateLimiter.acquire.bind(rateLimiter);
    rateLimiter.acquire = async (s, o) => {
      const d = await acquire(s, o);
      if (dropAfterNextAcquire) {
        dropAfterNextAcquire = false;
        relay!.reset();
      }
      return d;
    };
    stores = { ...memory, mode: 'shared', rateLimiter, budgets } as StateStores;
    // The ledger row and the budget settlement are issued in the same synchronous run (calls/settle.ts): the reset
    // happens right as the call settles. The ledger is not affected.
    const ledger = stores.ledger;
    const record = ledger.record.bind(ledger);
    ledger.record = (entry) => {
      if (dropAtNextSettle) {
        dropAtNextSettle = false;
        relay!.reset();
      }
      return record(entry);
    };
    router = new LLMRouter({ models: [{ name: 'mock', engine: 'mock', price: { input: 1000, output: 1000 }, capabilities: ['chat'], options: {} }], routing: { strategy: 'priority', retries: { max: 0 } } });
    gateway = createGateway({ router, stores, log: (e) => void logged.push(e.message) });
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { maxConcurrency: 1 }, budget: { amountUsd: 1, period: 'total' } });
    ({ secret } = await stores.tenants.createKey('acme', { name: 'k' }));
    await stores.tenants.createTenant({ id: 'initech', name: 'Initech', limits: { maxConcurrency: 1 }, budget: { amountUsd: 1, period: 'total' } });
    ({ secret: initechSecret } = await stores.tenants.createKey('initech', { name: 'k' }));
    await stores.tenants.createTenant({ id: 'globex', name: 'Globex', limits: { maxConcurrency: 1 } });
    ({ secret: globexSecret } = await stores.tenants.createKey('globex', { name: 'k' }));
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await router?.close();
    await relay?.close();
    await stores?.rateLimiter.close().catch(() => undefined);
    await stores?.budgets.close().catch(() => undefined);
    await memory?.close().catch(() => undefined);
    redisServer?.stop();
  }, 60_000);

  const chat = (key = secret, model = 'mock') =>
    gateway!.fetch(
      new Request('http://gateway.test/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hello there' }] }),
      }),
    );

  /** Once Redis answers again, a call of `tenant` (`maxConcurrency: 1`) gets the slot: its status, and what was in flight. */
  async function slotFreed(tenant: string, key: string): Promise<{ status: number; inFlight: number }> {
    const scopes = [{ kind: 'tenant' as const, id: tenant, limits: { maxConcurrency: 1 } }];
    let last = { status: 0, inFlight: -1 };
    await vi
      .waitFor(
        async () => {
          const info = await stores!.rateLimiter.peek(scopes);
          const res = await chat(key);
          await res.text();
          last = { status: res.status, inFlight: 1 - (info.remainingConcurrency ?? 0) };
          expect(res.status).toBe(200);
        },
        { timeout: 8_000, interval: 200 },
      )
      .catch(() => undefined);
    return last;
  }

  it('frees the slot and charges the cost once Redis answers again', async () => {
    dropAtNextSettle = true;
    const first = await chat();
    expect(first.status).toBe(200);
    const row = await stores!.ledger.get(first.headers.get('x-request-id')!);
    expect(row?.costUsd).toBeGreaterThan(0);
    expect(logged.join(' | ')).toContain('releasing limits or settling the budget failed');
    const usd = (n: number) => Math.round(n * 1e9) / 1e9;
    // Redis answers again (the client reconnected by itself), and the finish that failed is tried again: the cost is
    // charged, the reservation dropped.
    await vi.waitFor(
      async () => {
        const budget = await stores!.budgets.spent('acme', 'total');
        expect({ spentUsd: usd(budget.spentUsd), reservedUsd: budget.reservedUsd }).toEqual({ spentUsd: usd(row!.costUsd), reservedUsd: 0 });
      },
      { timeout: 10_000, interval: 50 },
    );

    // ...and the slot is free (maxConcurrency 1): the next call is answered, and charged once.
    const second = await chat();
    const secondBody = await second.text();
    const budget = await stores!.budgets.spent('acme', 'total');
    expect({ secondStatus: second.status, spentUsd: usd(budget.spentUsd), reservedUsd: budget.reservedUsd }, `second request: ${secondBody.slice(0, 300)}`).toEqual({
      secondStatus: 200,
      // The two calls' costs (the mock answers the same to the same question).
      spentUsd: usd(2 * row!.costUsd),
      reservedUsd: 0,
    });
  });

  it('frees the slot of a call whose budget reservation the reset failed (503), once Redis answers again', async () => {
    dropAtNextReserve = true;
    const first = await chat(initechSecret);
    const body = await first.text();
    expect(first.status, body.slice(0, 300)).toBe(503);
    expect(await slotFreed('initech', initechSecret)).toEqual({ status: 200, inFlight: 0 });
  });

  it('frees the slot a refused model (404) took to count the refusal, once Redis answers again', async () => {
    dropAfterNextAcquire = true;
    const first = await chat(globexSecret, 'no-such-model');
    await first.text();
    expect(first.status).toBe(404);
    expect(await slotFreed('globex', globexSecret)).toEqual({ status: 200, inFlight: 0 });
  });
});

describe('an embedded budget store whose settlement fails once as a call finishes', () => {
  let stores: StateStores | undefined;
  let router: LLMRouter | undefined;
  let gateway: Gateway | undefined;
  afterAll(async () => {
    await gateway?.close();
    await router?.close();
    await stores?.close();
  });

  it('charges the cost once, and the reservation no longer holds the budget', async () => {
    stores = await createStateStores({ mode: 'memory' });
    const budgets = stores.budgets;
    const settle = budgets.settle.bind(budgets);
    let failures = 1;
    let settles = 0;
    budgets.settle = (id, usd) => {
      settles++;
      return failures-- > 0 ? Promise.reject(new Error('SQLITE_BUSY: database is locked')) : settle(id, usd);
    };
    router = new LLMRouter({ models: [{ name: 'mock', engine: 'mock', price: { input: 1000, output: 1000 }, capabilities: ['chat'], options: {} }], routing: { strategy: 'priority', retries: { max: 0 } } });
    const logged: string[] = [];
    gateway = createGateway({ router, stores, log: (e) => void logged.push(e.message) });
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 1, period: 'total' } });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    const chat = () =>
      gateway!.fetch(
        new Request('http://gateway.test/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
          body: JSON.stringify({ model: 'mock', max_tokens: 50, messages: [{ role: 'user', content: 'hello there' }] }),
        }),
      );
    const first = await chat();
    expect(first.status).toBe(200);
    const row = await stores.ledger.get(first.headers.get('x-request-id')!);
    expect(logged.join(' | ')).toContain('releasing limits or settling the budget failed');
    const usd = (n: number) => Math.round(n * 1e9) / 1e9;
    await vi.waitFor(
      async () => {
        const b = await stores!.budgets.spent('acme', 'total');
        expect({ spentUsd: usd(b.spentUsd), reservedUsd: b.reservedUsd }).toEqual({ spentUsd: usd(row!.costUsd), reservedUsd: 0 });
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(settles).toBe(2);
  });
});
