/**
 * A budget whose `period` changes (admin `PUT /admin/tenants/:id/budget`, `PATCH /admin/tenants/:id` with a budget)
 * starts its new period at what the ledger holds for the tenant inside the new current window, not at $0: a tenant
 * that spent its whole monthly budget today cannot switch to a daily one of the same amount and spend it again.
 * So does a budget set where there was none (removed, then set with another period), calls that finish while the
 * change is made (between the ledger read and the tenant update), and a change made across a period's end (the
 * ledger window and the store's period are taken from one time).
 * Stores: SQLite (memory mode); a Redis budget store (core's, on a Redis started here) over the SQLite ledger; and
 * shared mode, Redis budgets over a PostgreSQL ledger (the period window's spend read from PostgreSQL), on servers
 * started here. Served gateway, official `openai` client, a local OpenAI-wire upstream; a price that makes each call
 * cost dollars. Each case has a tenant of its own (none leans on another's spend: each runs alone, `-t`), and the
 * gateway and the stores run on a clock set at noon on a Wednesday mid-month (`testClock`), moving with real time,
 * so no run meets a UTC day, week or month boundary between a call and the window read of it.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { LLMRouter, createStateStores, type BudgetStore, type StateStores } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { TEST_ADMIN_KEY, adminApi } from '../test-support/admin-api.js';
import { startTestPostgres, type TestPostgres } from '../test-support/test-postgres.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';
import type { Gateway } from '../types.js';

/** Core's Redis budget store (not exported by @llmrr/core: imported by path, as finish-after-store-failure.test.ts does). */
async function redisBudgets(url: string, clock: () => number): Promise<BudgetStore> {
  const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
  const [connection, budgets] = await Promise.all(['redis-connection', 'redis-budget-store'].map((n) => import(/* @vite-ignore */ file(n))));
  const handle: unknown = await connection.connectRedis(url, `period${randomBytes(4).toString('hex')}:`);
  return new budgets.RedisBudgetStore(handle, clock, { timeoutMs: 2000 }) as BudgetStore;
}

/** Wednesday 2026-10-14, 12:00 UTC: half a day from its day's ends, days from its ISO week's and its month's. */
const NOON = Date.UTC(2026, 9, 14, 12);

/**
 * The clock of a test's gateway and stores: `NOON` when made, then moving with real time (monotonic, whole ms), so a
 * test is hours away from a UTC day boundary whenever it runs and however slow the machine.
 */
function testClock(): () => number {
  const made = performance.now();
  return () => NOON + Math.floor(performance.now() - made);
}

/** `at`'s UTC day's first instant. */
const dayStartOf = (at: number) => {
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
};

const AMOUNT = 10;

/** A router over one OpenAI-wire model at $0.1 a token: a call costs a few dollars, its worst case (max_tokens 4) fits under the budget. */
const pricedRouter = (upstream: OpenAIWireServer) =>
  new LLMRouter(
    {
      models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat'], price: { input: 100_000, output: 100_000 } }],
      routing: { strategy: 'priority', retries: { max: 0 } },
    },
    { env: {} },
  );

for (const mode of ['sqlite', 'redis', 'redis+postgres'] as const) {
  describe(`a budget's period changed after its tenant spent it (${mode === 'sqlite' ? 'SQLite stores' : mode === 'redis' ? 'Redis budget store, SQLite ledger' : 'Redis budget store, PostgreSQL ledger'})`, () => {
    let redis: TestRedis | undefined;
    let postgres: TestPostgres | undefined;
    let upstream: OpenAIWireServer;
    let router: LLMRouter;
    let stores: StateStores;
    let gateway: Gateway;
    let served: ServedGateway;
    const clock = testClock();
    const admin = adminApi(() => gateway);

    beforeAll(async () => {
      upstream = await startOpenAIWireServer();
      router = pricedRouter(upstream);
      if (mode === 'redis+postgres') {
        [redis, postgres] = await Promise.all([startTestRedis(), startTestPostgres()]);
        const id = randomBytes(4).toString('hex');
        stores = await createStateStores({ mode: 'shared', redisUrl: redis.url, postgresUrl: postgres.url, redisKeyPrefix: `period${id}:`, postgresSchema: `period_${id}`, clock });
        expect(stores.ledger.constructor.name).toBe('PostgresUsageLedger');
      } else {
        const memory = await createStateStores({ mode: 'memory', clock });
        if (mode === 'redis') {
          redis = await startTestRedis();
          const budgets = await redisBudgets(redis.url, clock);
          const close = memory.close.bind(memory);
          stores = { ...memory, budgets, close: async () => (await Promise.all([close(), budgets.close()]), undefined) };
        } else {
          stores = memory;
        }
      }
      gateway = createGateway({ router, stores, log: () => {}, auth: { adminKey: TEST_ADMIN_KEY }, now: clock });
      served = await serveGateway(gateway, { port: 0, host: '127.0.0.1' });
    }, 120_000);
    afterAll(async () => {
      await served?.close();
      await gateway?.close();
      await router?.close();
      await stores?.close();
      await upstream?.close();
      redis?.stop();
      postgres?.stop();
    });

    /** A tenant of the test's own with a monthly budget of AMOUNT, and its calls and ledger spend. */
    const tenant = async (id: string) => {
      await stores.tenants.createTenant({ id, name: id, budget: { amountUsd: AMOUNT, period: 'month' } });
      const { secret } = await stores.tenants.createKey(id, { name: 'sdk' });
      const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
      /** Status of one small call (200, or the 402 of a budget that cannot cover it). */
      const call = async (): Promise<number> => {
        try {
          await client.chat.completions.create({ model: 'gpt', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
          return 200;
        } catch (e) {
          if (e instanceof OpenAI.APIError && e.status !== undefined) return e.status;
          throw e;
        }
      };
      /** What the ledger holds for the tenant from `from` on. */
      const ledgerSpend = async (from: number) => (await stores.ledger.summary({ tenantId: id, from })).costUsd;
      /** Spends the monthly budget (today): calls until one is refused; the settled spend, once it agrees with the ledger. */
      const spendMonth = async () => {
        let status = 200;
        for (let i = 0; i < 30 && status === 200; i++) status = await call();
        expect(status).toBe(402);
        // Settled spend and ledger agree (each call's row and settlement are written together).
        const spent = await vi.waitFor(async () => {
          const state = await stores.budgets.spent(id, 'month');
          expect(state.spentUsd).toBeCloseTo(await ledgerSpend(0), 6);
          return state.spentUsd;
        });
        expect(spent).toBeGreaterThan(AMOUNT / 2);
        return spent;
      };
      return { call, ledgerSpend, spendMonth };
    };

    it('month -> day, then day -> week: each new period starts at the ledger\'s spend of its window, so the spent budget stays spent', async () => {
      const { call, ledgerSpend, spendMonth } = await tenant('acme');
      const spent = await spendMonth();
      const dayStart = dayStartOf(clock());

      expect((await admin('PUT', '/admin/tenants/acme/budget', { amountUsd: AMOUNT, period: 'day' })).status).toBe(200);
      const day = (await (await admin('GET', '/admin/tenants/acme/budget')).json()) as { periodKey: string; periodStart: number; spentUsd: number };
      expect(day.periodStart).toBe(dayStart);
      expect(day.spentUsd).toBeCloseTo(await ledgerSpend(dayStart), 6);
      expect(day.spentUsd).toBeCloseTo(spent, 6);
      // Still refused: the day's spend is the month's (all of it today).
      expect(await call()).toBe(402);

      // Through PATCH too (the budget's other admin input), to a week.
      expect((await admin('PATCH', '/admin/tenants/acme', { budget: { amountUsd: AMOUNT, period: 'week' } })).status).toBe(200);
      const week = (await (await admin('GET', '/admin/tenants/acme/budget')).json()) as { spentUsd: number; periodStart: number };
      expect(week.spentUsd).toBeCloseTo(await ledgerSpend(week.periodStart), 6);
      expect(week.spentUsd).toBeGreaterThan(AMOUNT / 2);
      expect(await call()).toBe(402);

      // A larger budget of the same period: the spend carries on (no reseed, nothing counted twice).
      expect((await admin('PUT', '/admin/tenants/acme/budget', { amountUsd: AMOUNT * 10, period: 'week' })).status).toBe(200);
      expect(await call()).toBe(200);
      await vi.waitFor(async () => expect((await stores.budgets.spent('acme', 'week')).spentUsd).toBeCloseTo(await ledgerSpend(week.periodStart), 6));
    });

    it("a budget removed, then set with another period: the new period starts at the ledger's spend of its window (no reset to $0)", async () => {
      const { call, ledgerSpend, spendMonth } = await tenant('beta');
      await spendMonth();
      const spentToday = await ledgerSpend(dayStartOf(clock()));
      expect(spentToday).toBeGreaterThan(AMOUNT / 2);
      expect((await admin('PUT', '/admin/tenants/beta/budget', null)).status).toBe(200);
      expect((await admin('PUT', '/admin/tenants/beta/budget', { amountUsd: AMOUNT, period: 'day' })).status).toBe(200);
      const day = (await (await admin('GET', '/admin/tenants/beta/budget')).json()) as { spentUsd: number };
      expect(day.spentUsd).toBeCloseTo(spentToday, 6);
      expect(await call()).toBe(402);
      // Through PATCH too: removed, then set to a month.
      expect((await admin('PATCH', '/admin/tenants/beta', { budget: null })).status).toBe(200);
      expect((await admin('PATCH', '/admin/tenants/beta', { budget: { amountUsd: AMOUNT, period: 'month' } })).status).toBe(200);
      const month = (await (await admin('GET', '/admin/tenants/beta/budget')).json()) as { spentUsd: number; periodStart: number };
      expect(month.spentUsd).toBeCloseTo(await ledgerSpend(month.periodStart), 6);
      expect(month.spentUsd).toBeGreaterThan(AMOUNT / 2);
      expect(await call()).toBe(402);
    });
  });
}

describe("a budget's period changed while calls finish (between the ledger read and the tenant update)", () => {
  let upstream: OpenAIWireServer;
  let router: LLMRouter;
  let stores: StateStores;
  let gateway: Gateway;
  let served: ServedGateway;
  let client: OpenAI;
  /** Run once, after the ledger's next summary was read (as calls that land while a slow report query runs). */
  let afterSummary: (() => Promise<void>) | undefined;
  const clock = testClock();
  const admin = adminApi(() => gateway);

  beforeAll(async () => {
    upstream = await startOpenAIWireServer();
    router = pricedRouter(upstream);
    stores = await createStateStores({ mode: 'memory', clock });
    const ledger = new Proxy(stores.ledger, {
      get(target, prop) {
        if (prop === 'summary') {
          return async (q: Parameters<typeof target.summary>[0]) => {
            const r = await target.summary(q);
            const hook = afterSummary;
            afterSummary = undefined;
            if (hook) await hook();
            return r;
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    gateway = createGateway({ router, stores: { ...stores, ledger }, log: () => {}, auth: { adminKey: TEST_ADMIN_KEY }, now: clock });
    served = await serveGateway(gateway, { port: 0, host: '127.0.0.1' });
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 100, period: 'month' } });
    const { secret } = await stores.tenants.createKey('acme', { name: 'sdk' });
    client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
  });
  afterAll(async () => {
    await served?.close();
    await gateway?.close();
    await router?.close();
    await stores?.close();
    await upstream?.close();
  });

  const call = () => client.chat.completions.create({ model: 'gpt', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });

  it("month -> day: calls finished before the PUT answers are in the day's count (ledger and store agree after it)", async () => {
    await call();
    // Three calls, each finished (answered, row written, settled) before the tenant is updated.
    afterSummary = async () => {
      for (let i = 0; i < 3; i++) await call();
    };
    expect((await admin('PUT', '/admin/tenants/acme/budget', { amountUsd: 100, period: 'day' })).status).toBe(200);
    expect(afterSummary).toBeUndefined();
    const day = (await (await admin('GET', '/admin/tenants/acme/budget')).json()) as { periodStart: number; spentUsd: number };
    const ledgerOfDay = await vi.waitFor(async () => {
      const s = await stores.ledger.summary({ tenantId: 'acme', from: day.periodStart });
      expect(s.requests).toBe(4);
      return s.costUsd;
    });
    expect(day.spentUsd).toBeCloseTo(ledgerOfDay, 6);
  });
});

describe("a budget's period changed across midnight UTC", () => {
  // Day D's last 5 ms (the gateway's clock) and day D+1's first 5 ms (the store's): as a slow ledger query across midnight.
  const MIDNIGHT = Date.UTC(2026, 10, 29);
  let stores: StateStores;
  let gateway: Gateway;
  let router: LLMRouter;
  const admin = adminApi(() => gateway);

  afterEach(async () => {
    await gateway?.close();
    await router?.close();
    await stores?.close();
  });

  it("month -> day: the day read from the ledger is the day raised (D's spend is not charged to D+1)", async () => {
    stores = await createStateStores({ mode: 'memory', clock: () => MIDNIGHT + 5 });
    router = new LLMRouter({ models: [{ name: 'mock', engine: 'mock' }] }, { env: {} });
    gateway = createGateway({ router, stores, log: () => {}, auth: { adminKey: TEST_ADMIN_KEY }, now: () => MIDNIGHT - 5 });
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: AMOUNT, period: 'month' } });
    // $8 spent on day D (noon).
    await stores.ledger.record({ requestId: 'r1', tenantId: 'acme', model: 'mock', inputTokens: 1, outputTokens: 1, costUsd: 8, latencyMs: 1, status: 'success', createdAt: MIDNIGHT - 12 * 3_600_000 });

    expect((await admin('PUT', '/admin/tenants/acme/budget', { amountUsd: AMOUNT, period: 'day' })).status).toBe(200);
    const day = (await (await admin('GET', '/admin/tenants/acme/budget')).json()) as { periodKey: string; periodStart: number; spentUsd: number };
    expect(day.periodKey).toBe('2026-11-29');
    expect((await stores.ledger.summary({ tenantId: 'acme', from: day.periodStart })).costUsd).toBe(0);
    expect(day.spentUsd).toBe(0);
    // Day D's count holds its ledger spend (the window the gateway read).
    const late = await stores.budgets.reserve({ tenantId: 'acme', period: 'day', limitUsd: AMOUNT, estimateUsd: 3, reservationId: 'late', at: MIDNIGHT - 1 });
    expect(late.ok).toBe(false);
  });
});
