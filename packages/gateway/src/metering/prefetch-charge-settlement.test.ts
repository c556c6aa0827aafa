/**
 * How a prefetch's budget charge and its ledger row land, and a charge whose store fails once.
 *
 * - The settlement and the row go in one SQLite transaction only when the ledger and the budget store are the pair
 *   `createStateStores` made (one group commit), not whenever `stores.mode` says `memory`/`embedded`: a custom budget
 *   store over those stores keeps their mode, and issuing the row beside its settlement let a budget period change
 *   carry the row before the settlement landed, then count the settlement again (the prefetch twice).
 * - A charge whose reservation or settlement failed (a store unreachable, a busy SQLite) is tried again, as a call's
 *   settlement is (`Renewals.retry`), so the money spent still counts in its period.
 *
 * Real stores (SQLite in memory; core's Redis budget store on a real Redis); the prefetch's end is emitted by a minimal
 * event source standing in for the router (as in prefetch-charge-over-holds.test.ts); one case runs the whole gateway.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createStateStores, type BudgetStore, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { carryBudgetSpend } from '../routes/budget-period-change.js';
import { createPrefetchHarness, promptOnePrefetch, supportConversations } from '../test-support/prefetch-conversations.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';
import type { Harness } from '../test-support/harness.js';
import { Renewals } from '../tenancy/renewals.js';
import type { GatewayStores } from '../types.js';
import { meterPrefetches, PREFETCH_ENDPOINT } from './prefetch-metering.js';
import { prefetchingRouter } from '../test-support/prefetching-router.js';

/** A fixed time (mid-day, mid-month): the row's date, the charge's period and the carry's window alike. */
const NOW = Date.UTC(2026, 5, 17, 12);

/** A custom budget store: `inner`'s methods, bound (a plain object, not the stores' own). */
function delegating(inner: BudgetStore): BudgetStore {
  return {
    reserve: (r) => inner.reserve(r),
    settle: (id, usd) => inner.settle(id, usd),
    release: (id) => inner.release(id),
    spent: (t, p) => inner.spent(t, p),
    raiseSpent: (t, p, usd, at) => inner.raiseSpent!(t, p, usd, at),
    close: async () => undefined,
  };
}

/** A few turns of the event loop: a SQLite group commit queued before them has committed. */
async function turns(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Waits (bounded by count, not time) until `check` holds; false when it never did. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

let memory: StateStores | undefined;
let redis: TestRedis | undefined;
let renewals: Renewals | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await renewals?.close();
  await h?.close();
  await memory?.close();
  redis?.stop();
  [memory, redis, renewals, h] = [undefined, undefined, undefined, undefined];
});

describe("a prefetch's settlement and row over a custom budget store on embedded stores", () => {
  it('settles before the row is written: a budget period change in between counts the prefetch once', async () => {
    memory = await createStateStores({ mode: 'memory', clock: () => NOW });
    await memory.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
    const inner = memory.budgets;
    // A custom budget store whose settlement waits until the test opens the gate (a slow store's answer).
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let settling!: () => void;
    const called = new Promise<void>((r) => (settling = r));
    const budgets: BudgetStore = {
      ...delegating(inner),
      settle: async (id, usd) => {
        settling();
        await gate;
        return inner.settle(id, usd);
      },
    };
    // The stores keep their mode (`memory`): only the budget store is another.
    const stores: GatewayStores = { ...memory, budgets };
    expect(stores.mode).toBe('memory');
    const { router, end } = prefetchingRouter();
    const metering = meterPrefetches(router, stores, undefined, () => undefined, () => NOW);
    end('pf', 'acme', 0.25);
    await called;
    await turns();
    // The tenant's budget becomes a daily one meanwhile: its new period starts at the ledger's sum.
    await carryBudgetSpend(stores, 'acme', 'day', NOW);
    open();
    await metering.close();
    expect(await memory.ledger.query({ tenantId: 'acme' })).toMatchObject([{ requestId: 'pf', endpoint: PREFETCH_ENDPOINT, costUsd: 0.25 }]);
    expect((await inner.spent('acme', 'day')).spentUsd).toBe(0.25);
    expect((await inner.spent('acme', 'month')).spentUsd).toBe(0.25);
  });
});

/** `budgets`, whose `method` fails once for a prefetch's charge (as a store unreachable for a moment does). */
function failingOnce(budgets: BudgetStore, method: 'reserve' | 'settle'): { failures: () => number } {
  let failures = 0;
  if (method === 'reserve') {
    const reserve = budgets.reserve.bind(budgets);
    budgets.reserve = (r) => (r.reservationId.endsWith('~prefetch') && failures++ === 0 ? Promise.reject(new Error('the budget store did not answer')) : reserve(r));
  } else {
    const settle = budgets.settle.bind(budgets);
    budgets.settle = (id, usd) => (id.endsWith('~prefetch') && failures++ === 0 ? Promise.reject(new Error('the budget store did not answer')) : settle(id, usd));
  }
  return { failures: () => failures };
}

for (const store of ['sqlite', 'redis'] as const) {
  for (const method of ['reserve', 'settle'] as const) {
    describe(`a prefetch whose charge's ${method} fails once (${store} budget store)`, () => {
      it('is tried again until it counts in the period; its row is written once', async () => {
        memory = await createStateStores({ mode: 'memory' });
        let stores: GatewayStores = memory;
        if (store === 'redis') {
          redis = await startTestRedis();
          const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
          const [connection, mod] = await Promise.all(['redis-connection', 'redis-budget-store'].map((n) => import(/* @vite-ignore */ file(n))));
          const handle: unknown = await connection.connectRedis(redis.url, `pfretry${randomBytes(4).toString('hex')}:`);
          const budgets = new mod.RedisBudgetStore(handle, Date.now, { timeoutMs: 2000 }) as BudgetStore;
          const close = memory.close.bind(memory);
          memory.close = async () => (await Promise.all([close(), budgets.close()]), undefined);
          stores = { ...memory, budgets };
        }
        await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
        const flaky = failingOnce(stores.budgets, method);
        const logged: string[] = [];
        renewals = new Renewals(stores, (m) => logged.push(m));
        const r = renewals;
        const { router, end } = prefetchingRouter();
        const metering = meterPrefetches(router, stores, undefined, (m) => void logged.push(m), Date.now, (work) => r.retry(work));
        end('pf', 'acme', 0.25);
        await metering.close();
        // The failure is logged, the row written.
        expect(flaky.failures()).toBeGreaterThanOrEqual(1);
        expect(logged).toContain('metering a prefetch failed');
        expect(await stores.ledger.query({ tenantId: 'acme' })).toMatchObject([{ requestId: 'pf', costUsd: 0.25 }]);
        // The retry (the gateway's `Renewals`, from its next tick) charges the budget.
        expect(await eventually(async () => (await stores.budgets.spent('acme', 'month')).spentUsd === 0.25)).toBe(true);
        await renewals.close();
        expect((await stores.budgets.spent('acme', 'month')).spentUsd).toBe(0.25);
        expect((await stores.budgets.spent('acme', 'month')).reservedUsd).toBe(0);
        expect(logged.filter((m) => m !== 'metering a prefetch failed')).toEqual([]);
      }, 60_000);
    });
  }
}

describe("a prefetch whose embedded stores' group commit fails (its settlement and its row alike)", () => {
  it('tries the settlement again (counted once); the row is lost and logged', async () => {
    memory = await createStateStores({ mode: 'memory' });
    const stores = memory;
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
    failingOnce(stores.budgets, 'settle');
    const record = stores.ledger.record.bind(stores.ledger);
    stores.ledger.record = (entry) => (entry.endpoint === PREFETCH_ENDPOINT ? Promise.reject(new Error('SQLITE_BUSY: database is locked')) : record(entry));
    const logged: string[] = [];
    renewals = new Renewals(stores, (m) => logged.push(m));
    const r = renewals;
    const { router, end } = prefetchingRouter();
    const metering = meterPrefetches(router, stores, undefined, (m) => void logged.push(m), Date.now, (work) => r.retry(work));
    end('pf', 'acme', 0.25);
    await metering.close();
    expect(logged.sort()).toEqual(['charging a prefetch to the budget failed', 'metering a prefetch failed']);
    expect(await stores.ledger.query({ tenantId: 'acme' })).toEqual([]);
    expect(await eventually(async () => (await stores.budgets.spent('acme', 'month')).spentUsd === 0.25)).toBe(true);
  });
});

describe('a prefetch whose charge a custom budget store refuses (it does not know `force`)', () => {
  it('is logged and not tried again (a retry would be refused again); its row is written', async () => {
    memory = await createStateStores({ mode: 'memory' });
    await memory.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
    let reserves = 0;
    const budgets: BudgetStore = {
      ...delegating(memory.budgets),
      reserve: async (r) => (reserves++, { ok: false, remainingUsd: 0, limitUsd: r.limitUsd, periodKey: '2026-06' }),
    };
    const stores: GatewayStores = { ...memory, budgets };
    const retried: Array<() => Promise<void>> = [];
    const logged: string[] = [];
    const { router, end } = prefetchingRouter();
    const metering = meterPrefetches(router, stores, undefined, (m) => void logged.push(m), Date.now, (work) => void retried.push(work));
    end('pf', 'acme', 0.25);
    await metering.close();
    expect({ reserves, retried: retried.length, logged }).toEqual({ reserves: 1, retried: 0, logged: ['metering a prefetch failed'] });
    expect(await memory.ledger.query({ tenantId: 'acme' })).toMatchObject([{ requestId: 'pf', costUsd: 0.25 }]);
  });
});

describe('a gateway whose budget store fails once while it charges a prefetch', () => {
  it("tries the charge again (the gateway's renewals): the prefetch's cost counts in the tenant's budget", async () => {
    const logged: string[] = [];
    h = await createPrefetchHarness({ stores: 'memory', gateway: { log: (entry) => void logged.push(entry.message) } });
    const stores = h.stores!;
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 100, period: 'month' } });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    failingOnce(stores.budgets, 'settle');
    await promptOnePrefetch(supportConversations(h, { authorization: `Bearer ${secret}` }));
    const cost = h.router.prefetch!.stats('acme').costUsd;
    expect(cost).toBeGreaterThan(0);
    expect(await eventually(async () => logged.includes('metering a prefetch failed'))).toBe(true);
    // Every row of the tenant (its requests' and the prefetch's) is in the budget's period once the retry ran.
    const ledgerSum = async () => (await stores.ledger.query({ tenantId: 'acme', limit: 1000 })).reduce((s, row) => s + row.costUsd, 0);
    expect((await stores.ledger.query({ tenantId: 'acme', limit: 1000 })).some((row) => row.endpoint === PREFETCH_ENDPOINT)).toBe(true);
    expect(await eventually(async () => Math.abs((await stores.budgets.spent('acme', 'month')).spentUsd - (await ledgerSum())) < 1e-9)).toBe(true);
  }, 60_000);
});
