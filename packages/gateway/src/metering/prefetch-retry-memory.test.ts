/**
 * What a prefetch whose tenant could not be read keeps alive while it waits to be tried again (`Renewals.retryCharge`):
 * its ledger row and cost, not the prefetch's answer. During a tenant store outage (PostgreSQL in shared mode) every
 * prefetch adds one, up to `MAX_UNFINISHED_CHARGES` (10,000). Before, each waiting retry held the whole `RouterResult`
 * (its answer's text) and the `request:end` event: some 67 KB each with a 64 KB answer, ~650 MB at the cap, where a
 * charge's retry holds ~2.4 KB.
 *
 * Measured with forced garbage collection (`gc`, as `node --expose-gc` gives it) around 200 waiting retries of
 * prefetches with 64 KB answers. Memory stores whose tenant read fails as an unreachable PostgreSQL's does (the
 * retry's closure is the same whatever store failed).
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createStateStores, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { prefetchingRouter } from '../test-support/prefetching-router.js';
import { Renewals } from '../tenancy/renewals.js';
import { meterPrefetches, PREFETCH_ENDPOINT } from './prefetch-metering.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const RETRIES = 200;
const ANSWER_BYTES = 64 * 1024;

describe('a prefetch waiting for its tenant to be read again', () => {
  let stores: StateStores | undefined;
  let renewals: Renewals | undefined;
  afterEach(async () => {
    await renewals?.close();
    await stores?.close();
  });

  it("keeps its row and cost, not its answer: a few KB each, whatever the answer's size", async () => {
    stores = await createStateStores({ mode: 'memory' });
    renewals = new Renewals(stores, () => undefined);
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 1_000, period: 'month' } });
    const getTenant = stores.tenants.getTenant.bind(stores.tenants);
    let down = true;
    stores.tenants.getTenant = (id) => (down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : getTenant(id));
    const logged: string[] = [];
    const { router, end } = prefetchingRouter();
    const r = renewals;
    const metering = meterPrefetches(router, stores, undefined, (m) => void logged.push(m), Date.now, (w, l, lost) => r.retryCharge(w, l, lost));

    const before = heapAfterGc();
    // Each answer its own string (hex: one byte a character), so that none is shared.
    for (let i = 0; i < RETRIES; i++) end(`pf-${i}`, 'acme', 0.01, randomBytes(ANSWER_BYTES / 2).toString('hex'));
    await vi.waitFor(() => expect(logged).toHaveLength(RETRIES), { timeout: 10_000, interval: 20 });
    await metering.close();
    const perRetry = (heapAfterGc() - before) / RETRIES;
    // A charge's retry is ~2.4 KB; before, ~67 KB (the answer's 64 KB and the event).
    expect(perRetry).toBeLessThan(8 * 1024);
    expect(new Set(logged)).toEqual(new Set(['reading the tenant of a prefetch failed; its ledger row and budget charge are tried again']));

    // Once the tenant store answers again, each row and charge is made (the retries held what they need).
    down = false;
    await renewals.close();
    renewals = undefined;
    const rows = (await stores.ledger.query({ tenantId: 'acme', limit: RETRIES + 10 })).filter((row) => row.endpoint === PREFETCH_ENDPOINT);
    expect(rows).toHaveLength(RETRIES);
    expect((await stores.budgets.spent('acme', 'month')).spentUsd).toBeCloseTo(RETRIES * 0.01, 6);
  }, 60_000);
});
