/**
 * A prefetch whose stores fail for a moment still gets its ledger row and its budget charge.
 *
 * - Its row's write that fails once (a dropped connection, a failed commit) is tried once more, as a call's row is
 *   (calls/settle.ts; the ledger is idempotent by request id). Before, the row was lost (logged) while its charge
 *   counted in the budget: the budget and the invoice disagreed by the prefetch's cost.
 * - Its tenant's read that fails (PostgreSQL unreachable or past its bound in shared mode) is tried again as a charge
 *   that failed is (`Renewals.retryCharge`), and the row and charge made once it answers. Before, the prefetch was
 *   dropped entirely: no row, no charge, though the prefetch was paid.
 *
 * Real stores: SQLite in memory (a write that fails once: the ledger refuses it, as a failed group commit does); shared
 * mode (Redis and PostgreSQL), where the failures are PostgreSQL's own: a session holding a lock on the table (`psql`),
 * and the waiting write's connection terminated (`pg_terminate_backend`), or the tenant's read past its bound
 * (`postgresQueryTimeoutMs`). The prefetch's end is emitted by a minimal event source standing in for the router (as in
 * prefetch-charge-over-holds.test.ts).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createStateStores, type StateStores } from '@llmrr/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { prefetchingRouter } from '../test-support/prefetching-router.js';
import { startTestPostgres, type TestPostgres } from '../test-support/test-postgres.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';
import { Renewals } from '../tenancy/renewals.js';
import { meterPrefetches, PREFETCH_ENDPOINT } from './prefetch-metering.js';

/** One prefetch of `tenant` ended (cost $0.25), with the gateway's retries; resolves once its metering is done. */
async function prefetch(stores: StateStores, renewals: Renewals, requestId: string, tenant: string, logged: string[]): Promise<void> {
  const { router, end } = prefetchingRouter();
  const metering = meterPrefetches(router, stores, undefined, (m) => void logged.push(m), Date.now, (w, l, lost) => renewals.retryCharge(w, l, lost));
  end(requestId, tenant, 0.25);
  await metering.close();
}

async function prefetchRow(stores: StateStores, tenant: string) {
  return (await stores.ledger.query({ tenantId: tenant, limit: 10 })).filter((r) => r.endpoint === PREFETCH_ENDPOINT);
}

describe("a prefetch whose row's write fails once (SQLite in memory)", () => {
  let stores: StateStores | undefined;
  let renewals: Renewals | undefined;
  afterEach(async () => {
    await renewals?.close();
    await stores?.close();
  });

  it('is written by the second try: the row and the charge agree', async () => {
    stores = await createStateStores({ mode: 'memory' });
    renewals = new Renewals(stores, () => undefined);
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
    const record = stores.ledger.record.bind(stores.ledger);
    let failures = 0;
    stores.ledger.record = (entry) => (entry.endpoint === PREFETCH_ENDPOINT && failures++ === 0 ? Promise.reject(new Error('disk I/O error')) : record(entry));
    const logged: string[] = [];
    await prefetch(stores, renewals, 'pf-sqlite', 'acme', logged);
    expect((await prefetchRow(stores, 'acme')).map((r) => r.costUsd)).toEqual([0.25]);
    expect((await stores.budgets.spent('acme', 'month')).spentUsd).toBe(0.25);
    expect(logged).toEqual([]);
  });
});

describe('a prefetch whose PostgreSQL fails for a moment (shared mode: Redis and PostgreSQL)', () => {
  let redis: TestRedis | undefined;
  let postgres: TestPostgres | undefined;
  let stores: StateStores;
  let renewals: Renewals;
  const schema = `pffail_${randomBytes(4).toString('hex')}`;
  /** The psql session holding a lock (`hold`), ended by `free`. */
  let holder: ChildProcess | undefined;

  const sql = (statement: string): string => execFileSync('psql', [postgres!.url, '-X', '-q', '-t', '-A', '-c', statement], { encoding: 'utf8' }).trim();

  /** A session takes `table` exclusively (every other read and write of it waits) and holds it until `free`. */
  async function hold(table: string): Promise<void> {
    holder = spawn('psql', [postgres!.url, '-X', '-q', '-c', `BEGIN; LOCK TABLE "${schema}".${table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120); COMMIT;`], { stdio: 'ignore' });
    await vi.waitFor(() => expect(sql(`SELECT count(*) FROM pg_locks WHERE relation = '"${schema}".${table}'::regclass AND mode = 'AccessExclusiveLock' AND granted`)).toBe('1'), { timeout: 20_000, interval: 50 });
  }

  /** Ends the holding session (its lock goes), and with it the sessions matching `alsoWhere` (pg_stat_activity). */
  function free(alsoWhere = 'false'): void {
    sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (query LIKE '%pg_sleep(120)%' OR (${alsoWhere}))`);
    holder = undefined;
  }

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([startTestRedis(), startTestPostgres()]);
    stores = await createStateStores({ mode: 'shared', redisUrl: redis.url, postgresUrl: postgres.url, redisKeyPrefix: `${schema}:`, postgresSchema: schema, postgresQueryTimeoutMs: 1_000 });
    renewals = new Renewals(stores, () => undefined);
  }, 120_000);
  afterEach(() => {
    if (holder) free();
  });
  afterAll(async () => {
    await renewals?.close();
    await stores?.close();
    redis?.stop();
    postgres?.stop();
  });

  it("a row's write whose connection is terminated is written by the second try", async () => {
    await stores.tenants.createTenant({ id: 'acme-write', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
    await hold('llmrr_usage');
    const logged: string[] = [];
    const done = prefetch(stores, renewals, 'pf-write', 'acme-write', logged);
    // The row's INSERT waits for the lock; its connection is terminated (as a failover or a restart does), and the lock goes.
    await vi.waitFor(() => expect(sql(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO llmrr_usage%'`)).toBe('1'), { timeout: 20_000, interval: 20 });
    free(`wait_event_type = 'Lock' AND query LIKE 'INSERT INTO llmrr_usage%'`);
    await done;
    expect((await prefetchRow(stores, 'acme-write')).map((r) => r.costUsd)).toEqual([0.25]);
    expect((await stores.budgets.spent('acme-write', 'month')).spentUsd).toBe(0.25);
    expect(logged).toEqual([]);
  }, 60_000);

  it("a tenant's read past its bound is tried again: the row is written and the charge counted once PostgreSQL answers", async () => {
    await stores.tenants.createTenant({ id: 'acme-read', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
    await hold('llmrr_tenants');
    const logged: string[] = [];
    await prefetch(stores, renewals, 'pf-read', 'acme-read', logged);
    // The read waited for the lock past `postgresQueryTimeoutMs`, and failed.
    expect(logged).toEqual(['reading the tenant of a prefetch failed; its ledger row and budget charge are tried again']);
    free();
    await vi.waitFor(async () => expect((await prefetchRow(stores, 'acme-read')).map((r) => r.costUsd)).toEqual([0.25]), { timeout: 20_000, interval: 50 });
    await vi.waitFor(async () => expect((await stores.budgets.spent('acme-read', 'month')).spentUsd).toBe(0.25), { timeout: 20_000, interval: 50 });
    expect(logged).toHaveLength(1);
  }, 60_000);
});
