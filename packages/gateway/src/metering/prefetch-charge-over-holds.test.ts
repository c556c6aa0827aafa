/**
 * A prefetch's charge is money already spent: it is counted in the budget even when the calls in flight hold all the
 * room that is left (the counter may then go over the limit; later admissions are refused as usual), and its ledger
 * row is written. Real stores: SQLite (memory mode); a Redis budget store over the SQLite ledger; shared mode (Redis
 * and PostgreSQL). The prefetch's end is emitted by a minimal event source standing in for the router (the metering
 * listens to `request:end` only; the full router path is in prefetch-metering.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createStateStores, type BudgetStore, type StateStores } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../test-support/test-postgres.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';
import { meterPrefetches, PREFETCH_ENDPOINT } from './prefetch-metering.js';
import { prefetchingRouter } from '../test-support/prefetching-router.js';

/** Core's Redis budget store (not exported by @llmrr/core: imported by path, as budget-in-flight.sdk.test.ts does). */
async function redisBudgets(url: string, prefix: string): Promise<BudgetStore> {
  const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
  const [connection, budgets] = await Promise.all(['redis-connection', 'redis-budget-store'].map((n) => import(/* @vite-ignore */ file(n))));
  const handle: unknown = await connection.connectRedis(url, prefix);
  return new budgets.RedisBudgetStore(handle, Date.now, { timeoutMs: 2000 }) as BudgetStore;
}

for (const mode of ['sqlite', 'redis', 'shared'] as const) {
  describe(`a prefetch charged while calls in flight hold the budget's remaining room (${mode})`, () => {
    let redis: TestRedis | undefined;
    let postgres: TestPostgres | undefined;
    let stores: StateStores;

    beforeAll(async () => {
      const id = randomBytes(4).toString('hex');
      if (mode === 'shared') {
        [redis, postgres] = await Promise.all([startTestRedis(), startTestPostgres()]);
        stores = await createStateStores({ mode: 'shared', redisUrl: redis.url, postgresUrl: postgres.url, redisKeyPrefix: `pfhold${id}:`, postgresSchema: `pfhold_${id}` });
      } else {
        const memory = await createStateStores({ mode: 'memory' });
        if (mode === 'redis') {
          redis = await startTestRedis();
          const budgets = await redisBudgets(redis.url, `pfhold${id}:`);
          const close = memory.close.bind(memory);
          stores = { ...memory, budgets, close: async () => (await Promise.all([close(), budgets.close()]), undefined) };
        } else {
          stores = memory;
        }
      }
    }, 120_000);
    afterAll(async () => {
      await stores?.close();
      redis?.stop();
      postgres?.stop();
    });

    it('is counted in the period (over the limit), its row is written, and later admissions are refused', async () => {
      const tenant = `acme-${mode}`;
      await stores.tenants.createTenant({ id: tenant, name: tenant, budget: { amountUsd: 1, period: 'month' } });
      const logged: string[] = [];
      const { router, end } = prefetchingRouter();
      /** One prefetch's end, and its charge waited for (the metering's `close` waits for the records it started). */
      const prefetched = async (requestId: string, costUsd: number) => {
        const metering = meterPrefetches(router, stores, undefined, (message) => void logged.push(message));
        end(requestId, tenant, costUsd);
        await metering.close();
      };
      // A call in flight holds all the room.
      const held = await stores.budgets.reserve({ tenantId: tenant, period: 'month', limitUsd: 1, estimateUsd: 1, reservationId: `${tenant}-call` });
      expect(held.ok).toBe(true);
      // Two prefetches: the first fits (a charge of nothing reserved), the second finds the counter over the limit.
      await prefetched(`${tenant}-pf1`, 0.25);
      await prefetched(`${tenant}-pf2`, 0.5);
      const rows = (await stores.ledger.query({ tenantId: tenant, limit: 10 })).filter((r) => r.endpoint === PREFETCH_ENDPOINT);
      expect(rows.map((r) => r.costUsd).sort()).toEqual([0.25, 0.5]);
      const state = await stores.budgets.spent(tenant, 'month');
      expect({ spent: state.spentUsd, reserved: state.reservedUsd, logged }).toEqual({ spent: 0.75, reserved: 1, logged: [] });
      // The call settles: the period counts both (over the limit); a new call is refused.
      expect(await stores.budgets.settle(`${tenant}-call`, 0.9)).toBe(true);
      expect((await stores.budgets.spent(tenant, 'month')).spentUsd).toBeCloseTo(1.65, 9);
      expect((await stores.budgets.reserve({ tenantId: tenant, period: 'month', limitUsd: 1, estimateUsd: 0, reservationId: `${tenant}-next` })).ok).toBe(false);
    });
  });
}

describe("a prefetch's budget settlement and ledger row in embedded (SQLite) stores", () => {
  let stores: StateStores;
  beforeAll(async () => {
    stores = await createStateStores({ mode: 'memory' });
  });
  afterAll(async () => {
    await stores?.close();
  });

  it('commit in one transaction: when the settlement is committed, so is the row (a crash between them leaves both or neither)', async () => {
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
    const settle = stores.budgets.settle.bind(stores.budgets);
    let rowsAtSettlement: unknown[] | undefined;
    stores.budgets.settle = (id, actualUsd) => {
      const p = settle(id, actualUsd);
      // Read right when the settlement's transaction committed (before anything else runs after it).
      if (id.endsWith('~prefetch')) void p.then(() => stores.ledger.query({ tenantId: 'acme' }).then((rows) => void (rowsAtSettlement = rows)));
      return p;
    };
    const { router, end } = prefetchingRouter();
    const metering = meterPrefetches(router, stores, undefined, () => undefined);
    end('pf', 'acme', 0.25);
    await metering.close();
    expect(rowsAtSettlement).toMatchObject([{ requestId: 'pf', endpoint: PREFETCH_ENDPOINT, costUsd: 0.25 }]);
    expect((await stores.budgets.spent('acme', 'month')).spentUsd).toBe(0.25);
  });
});
