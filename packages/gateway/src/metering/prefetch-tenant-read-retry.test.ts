/**
 * A prefetch whose tenant could not be read waits to be tried again (`Renewals.retryCharge`), as its charge would.
 *
 * - At `Renewals.close()`, its last try reads the tenant and meters; when the budget store fails there, the charge is
 *   handed to `retry` again, which after close runs it at once. Before, close() returned without waiting for it: the
 *   gateway's owner then closed the stores under it (the charge failed, logged as given up, its cost not counted).
 *   Now close() also waits for the work queued while it closes.
 * - Dropped by its pool's cap, its drop log says its ledger row is lost too, not only its cost in the budget.
 *
 * Real stores: memory mode (SQLite in memory), whose tenant read fails as an unreachable PostgreSQL's does, and whose
 * budget reservation fails once as a Redis past its bound does (the stores' own errors are not what is tested).
 */
import { createStateStores, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { prefetchingRouter } from '../test-support/prefetching-router.js';
import { DEFAULT_RENEW_INTERVAL_MS, MAX_UNFINISHED, Renewals } from '../tenancy/renewals.js';
import { meterPrefetches, PREFETCH_ENDPOINT } from './prefetch-metering.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a prefetch whose tenant could not be read', () => {
  let stores: StateStores | undefined;
  let renewals: Renewals | undefined;
  afterEach(async () => {
    await renewals?.close();
    await stores?.close();
    stores = undefined;
    renewals = undefined;
  });

  async function setUp(maxCharges?: number) {
    stores = await createStateStores({ mode: 'memory' });
    const logged: string[] = [];
    renewals = new Renewals(stores, (m) => void logged.push(m), DEFAULT_RENEW_INTERVAL_MS, MAX_UNFINISHED, maxCharges);
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
    const getTenant = stores.tenants.getTenant.bind(stores.tenants);
    const tenantStore = { down: true };
    stores.tenants.getTenant = (id) => (tenantStore.down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : getTenant(id));
    const { router, end } = prefetchingRouter();
    const r = renewals;
    const metering = meterPrefetches(router, stores, undefined, (m) => void logged.push(m), Date.now, (w, l, lost) => r.retryCharge(w, l, lost));
    return { stores, renewals, logged, tenantStore, end, metering };
  }

  it("is charged before Renewals.close() returns, when its last try's charge fails and is queued while closing", async () => {
    const { stores, renewals, logged, tenantStore, end, metering } = await setUp();
    end('pf-close', 'acme', 0.25);
    await metering.close();
    expect(logged).toEqual(['reading the tenant of a prefetch failed; its ledger row and budget charge are tried again']);
    // The tenant store is back; the budget store fails the close's try of the charge, then answers (slowly).
    tenantStore.down = false;
    const reserve = stores.budgets.reserve.bind(stores.budgets);
    let reserves = 0;
    stores.budgets.reserve = async (request) => {
      if (reserves++ === 0) throw new Error('Redis did not answer the budget reservation within 2000 ms');
      await sleep(200);
      return reserve(request);
    };
    await renewals.close();
    // Done when close() returns: the owner may now close the stores.
    expect((await stores.budgets.spent('acme', 'month')).spentUsd).toBe(0.25);
    expect((await stores.ledger.query({ tenantId: 'acme', limit: 10 })).filter((row) => row.endpoint === PREFETCH_ENDPOINT).map((row) => row.costUsd)).toEqual([0.25]);
    expect(reserves).toBe(2);
    expect(logged.slice(1)).toEqual(['metering a prefetch failed']);
  });

  it('dropped by the cap, is logged as having lost its ledger row too', async () => {
    const { logged, end, metering } = await setUp(1);
    end('pf-0', 'acme', 0.25);
    end('pf-1', 'acme', 0.25);
    await metering.close();
    await vi.waitFor(() => expect(logged.some((m) => m.includes('dropped untried'))).toBe(true), { timeout: 10_000, interval: 20 });
    expect(logged.find((m) => m.includes('dropped untried'))).toBe(
      '1 prefetch budget charge(s) that failed were dropped untried: more than 1 were waiting to be tried again (their costs are not counted in the budgets; 1 of them, whose tenant could not be read, has no ledger row either): the ledger row and budget charge of prefetch pf-0 (tenant "acme", $0.25): neither written to the ledger nor counted in the budget',
    );
  });
});
