/**
 * Calls in flight while a budget's period boundary passes, and while an admin changes the budget's period: the budget
 * counts each call where the ledger (and so the invoices) date it, by its arrival (the ledger row's `createdAt`).
 * - Across midnight UTC: a call that arrives at 23:59:58 and is answered after midnight counts in day D (its row's
 *   day), not D+1.
 * - Across a period change (month -> day while the call runs): the call reserved in the month, and settles after both
 *   budget carries ran; its cost is in the day's count too (every settlement counts in each period's counter), so the
 *   day budget agrees with the ledger's day.
 * Stores: SQLite (memory mode); a Redis budget store over the SQLite ledger; and shared mode with two gateways on one
 * Redis and one PostgreSQL (the call on the first, the admin change on the second). Served gateway, the official
 * `openai` client, a local OpenAI-wire upstream that holds each answer until the test lets it go. The gateway and the
 * stores run on one injected clock, moving with real time from a set instant.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { LLMRouter, createStateStores, type BudgetStore, type StateStores } from '@llmrr/core';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { TEST_ADMIN_KEY, adminApi } from '../test-support/admin-api.js';
import { startHeldUpstream, type HeldUpstream } from '../test-support/held-upstream.js';
import { startTestPostgres, type TestPostgres } from '../test-support/test-postgres.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';
import type { Gateway } from '../types.js';

/** Core's Redis budget store (not exported by @llmrr/core: imported by path, as admin-budget-period.sdk.test.ts does). */
async function redisBudgets(url: string, prefix: string, clock: () => number): Promise<BudgetStore> {
  const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
  const [connection, budgets] = await Promise.all(['redis-connection', 'redis-budget-store'].map((n) => import(/* @vite-ignore */ file(n))));
  const handle: unknown = await connection.connectRedis(url, prefix);
  return new budgets.RedisBudgetStore(handle, clock, { timeoutMs: 2000 }) as BudgetStore;
}

/** An OpenAI-wire upstream whose answers wait until `letGo()`: each call costs 1 input + 1 output token. */
/** One clock for the gateways and the stores: `set(t)` makes it read `t` now, then it moves with real time. */
function settableClock(start: number) {
  let base = start;
  let made = performance.now();
  return {
    now: () => base + Math.floor(performance.now() - made),
    set: (t: number) => {
      base = t;
      made = performance.now();
    },
  };
}

/** Wednesday 2026-10-14, 12:00 UTC: hours from its day's ends, days from its month's. */
const NOON = Date.UTC(2026, 9, 14, 12);
const MIDNIGHT = Date.UTC(2026, 9, 15);

type Mode = 'sqlite' | 'redis' | 'shared';

for (const mode of ['sqlite', 'redis', 'shared'] as const satisfies readonly Mode[]) {
  describe(`budget periods and calls in flight (${mode === 'sqlite' ? 'SQLite stores' : mode === 'redis' ? 'Redis budget store, SQLite ledger' : 'two gateways on one Redis and one PostgreSQL'})`, () => {
    let redis: TestRedis | undefined;
    let postgres: TestPostgres | undefined;
    let upstream: HeldUpstream;
    const routers: LLMRouter[] = [];
    const storesOf: StateStores[] = [];
    const gateways: Gateway[] = [];
    let served: ServedGateway;
    const clock = settableClock(NOON);

    beforeAll(async () => {
      upstream = await startHeldUpstream();
      const router = () => {
        const r = new LLMRouter(
          {
            models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat'], price: { input: 100_000, output: 100_000 } }],
            routing: { strategy: 'priority', retries: { max: 0 } },
          },
          { env: {} },
        );
        routers.push(r);
        return r;
      };
      const id = randomBytes(4).toString('hex');
      if (mode === 'shared') {
        [redis, postgres] = await Promise.all([startTestRedis(), startTestPostgres()]);
        for (let i = 0; i < 2; i++) {
          storesOf.push(await createStateStores({ mode: 'shared', redisUrl: redis.url, postgresUrl: postgres.url, redisKeyPrefix: `inflight${id}:`, postgresSchema: `inflight_${id}`, clock: clock.now }));
        }
      } else {
        const memory = await createStateStores({ mode: 'memory', clock: clock.now });
        if (mode === 'redis') {
          redis = await startTestRedis();
          const budgets = await redisBudgets(redis.url, `inflight${id}:`, clock.now);
          const close = memory.close.bind(memory);
          storesOf.push({ ...memory, budgets, close: async () => (await Promise.all([close(), budgets.close()]), undefined) });
        } else {
          storesOf.push(memory);
        }
      }
      for (const stores of storesOf) gateways.push(createGateway({ router: router(), stores, log: () => {}, auth: { adminKey: TEST_ADMIN_KEY }, now: clock.now }));
      served = await serveGateway(gateways[0]!, { port: 0, host: '127.0.0.1' });
    }, 120_000);
    afterAll(async () => {
      await served?.close();
      for (const g of gateways) await g.close();
      for (const r of routers) await r.close();
      for (const s of storesOf) await s.close();
      await upstream?.close();
      redis?.stop();
      postgres?.stop();
    });

    /** A tenant of the case's own; calls go to the first gateway, admin requests to the last (the second in shared mode). */
    const tenant = async (id: string, period: 'day' | 'month') => {
      const stores = storesOf[0]!;
      await stores.tenants.createTenant({ id, name: id, budget: { amountUsd: 100, period } });
      const { secret } = await stores.tenants.createKey(id, { name: 'sdk' });
      const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
      const admin = adminApi(() => gateways[gateways.length - 1]!);
      /** A call held by the upstream until `upstream.letGo()`; resolves once the upstream has it (admitted, reserved), with its answer to come. */
      const heldCall = async () => {
        upstream.hold();
        const before = upstream.received();
        const answer = client.chat.completions.create({ model: 'gpt', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
        answer.catch(() => undefined);
        await vi.waitFor(() => expect(upstream.received()).toBe(before + 1));
        return { answer };
      };
      const budget = async () => (await (await admin('GET', `/admin/tenants/${id}/budget`)).json()) as { periodKey: string; periodStart: number; periodEnd: number; spentUsd: number; reservedUsd: number };
      const ledger = async (from: number, to?: number) => stores.ledger.summary({ tenantId: id, from, ...(to !== undefined ? { to } : {}) });
      return { client, admin, heldCall, budget, ledger };
    };

    it('a call arriving at 23:59:58 and answered after midnight counts in day D, as its ledger row does, not in D+1', async () => {
      const t = await tenant(`night-${mode}`, 'day');
      clock.set(MIDNIGHT - 2_000);
      const call = await t.heldCall();
      clock.set(MIDNIGHT + 1_000);
      upstream.letGo();
      expect((await call.answer).choices[0]?.message.content).toBe('ok');
      const dayD = MIDNIGHT - 86_400_000;
      const rows = await vi.waitFor(async () => {
        const s = await t.ledger(dayD, MIDNIGHT);
        expect(s.requests).toBe(1);
        return s;
      });
      expect(rows.costUsd).toBeGreaterThan(0);
      expect((await t.ledger(MIDNIGHT)).requests).toBe(0);
      // D+1 (now): nothing spent, nothing reserved.
      expect(await t.budget()).toMatchObject({ periodStart: MIDNIGHT, spentUsd: 0, reservedUsd: 0 });
      // Day D (the clock set back into it): the call's cost, as its ledger row.
      clock.set(MIDNIGHT - 500);
      const d = await t.budget();
      expect(d.periodStart).toBe(dayD);
      expect(d.spentUsd).toBeCloseTo(rows.costUsd, 9);
      clock.set(NOON);
    });

    it("a call in flight while the budget goes from month to day settles into the day's count too (budget and ledger agree)", async () => {
      const t = await tenant(`change-${mode}`, 'month');
      clock.set(NOON);
      upstream.letGo();
      await t.client.chat.completions.create({ model: 'gpt', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
      const call = await t.heldCall();
      // Both carries (before and after the tenant update) run while the call is held.
      expect((await t.admin('PUT', `/admin/tenants/change-${mode}/budget`, { amountUsd: 100, period: 'day' })).status).toBe(200);
      upstream.letGo();
      await call.answer;
      const day = await vi.waitFor(async () => {
        const b = await t.budget();
        expect(b.reservedUsd).toBe(0);
        return b;
      });
      const ledgerOfDay = await t.ledger(day.periodStart);
      expect(ledgerOfDay.requests).toBe(2);
      expect({ periodStart: day.periodStart, spentUsd: Number(day.spentUsd.toFixed(9)) }).toEqual({ periodStart: Date.UTC(2026, 9, 14), spentUsd: Number(ledgerOfDay.costUsd.toFixed(9)) });
      // And back to a month: the month's count still has both calls (no carry needed, none counted twice).
      expect((await t.admin('PUT', `/admin/tenants/change-${mode}/budget`, { amountUsd: 100, period: 'month' })).status).toBe(200);
      const month = await t.budget();
      expect(month.spentUsd).toBeCloseTo((await t.ledger(month.periodStart)).costUsd, 9);
    });
  });
}
