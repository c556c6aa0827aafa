import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { PostgresAuditLog } from './postgres-audit-log.js';
import { PostgresTenantStore } from './postgres-tenant-store.js';
import { openPostgres, type PostgresHandle } from './postgres-database.js';

/**
 * `PostgresHandle.transaction` opens every store transaction as READ COMMITTED, whatever the database's
 * `default_transaction_isolation` (`ALTER DATABASE ... SET default_transaction_isolation`, which operators set to
 * REPEATABLE READ or SERIALIZABLE for consistent reports). The stores rely on it: `PostgresAuditLog.append` reads
 * the chain's head after `pg_advisory_xact_lock`, and must see the previous holder's commit (under REPEATABLE
 * READ the snapshot is taken by the lock call itself, before the lock is granted, so a waiter computed the same
 * `seq` and failed on the primary key); tenant and key changes read their row `FOR UPDATE` and must get the
 * latest version (under REPEATABLE READ they failed with serialization errors). Two handles (two pools) stand
 * for two gateway processes.
 */
const { postgresUrl } = testServiceUrls();

describe.skipIf(!postgresUrl)('PostgreSQL stores on a database whose default isolation is REPEATABLE READ', () => {
  const db = `llmrr_rr_${randomBytes(5).toString('hex')}`;
  let admin: import('pg').Client;
  let a: PostgresHandle;
  let b: PostgresHandle;
  let logA: PostgresAuditLog;
  let logB: PostgresAuditLog;
  let tenantsA: PostgresTenantStore;
  let tenantsB: PostgresTenantStore;

  beforeAll(async () => {
    const pg = (await import('pg')).default;
    admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.query(`ALTER DATABASE ${db} SET default_transaction_isolation = 'repeatable read'`);
    const url = new URL(postgresUrl!);
    url.pathname = `/${db}`;
    // Two handles (two pools), as two gateway processes have.
    a = await openPostgres(url.toString(), { poolMax: 4 });
    b = await openPostgres(url.toString(), { migrate: false, poolMax: 4 });
    logA = new PostgresAuditLog(a);
    logB = new PostgresAuditLog(b);
    tenantsA = new PostgresTenantStore(a);
    tenantsB = new PostgresTenantStore(b);
  });
  afterAll(async () => {
    await logA?.close();
    await logB?.close();
    await tenantsA?.close();
    await tenantsB?.close();
    await admin?.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await admin?.end();
  });

  it('concurrent appends from two processes all succeed and form one chain', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? logA : logB).append({ actor: 'admin', action: 'key.revoke', target: `key_${i}` })),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed.length, `${failed.length} of 20 appends failed, first: ${String((failed[0]?.reason as Error | undefined)?.message)}`).toBe(0);
    expect(await logA.verify()).toMatchObject({ ok: true, count: 20 });
  });

  it('concurrent tenant changes from two processes (PATCH name, PUT limits) both apply instead of failing', async () => {
    await tenantsA.createTenant({ id: 'acme', name: 'Acme' });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? tenantsA : tenantsB).updateTenant('acme', i % 4 < 2 ? { name: `Acme ${i}` } : { limits: { rpm: i + 1 } })),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed.length, `${failed.length} of 10 updates failed, first: ${String((failed[0]?.reason as Error | undefined)?.message)}`).toBe(0);
    // Each change read the latest row: a name change did not put back limits from before a limits change.
    const tenant = await tenantsB.getTenant('acme');
    expect(tenant?.name).toMatch(/^Acme \d$/);
    expect(tenant?.limits?.rpm).toBeGreaterThan(0);
  });
});
