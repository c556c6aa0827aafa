import { describe, expect, it, vi } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { createStateStores } from './create-state-stores.js';
import { PostgresAuditLog } from './postgres/postgres-audit-log.js';
import { openPostgres } from './postgres/postgres-database.js';
import { startTcpRelay } from '../test/tcp-relay.js';
import { auditLogContract } from './__fixtures__/audit-log.contract.js';
import { budgetStoreContract } from './__fixtures__/budget-store.contract.js';
import { rateLimiterContract } from './__fixtures__/rate-limiter.contract.js';
import { sharedFixture, sharedSkipReason } from './__fixtures__/store-fixtures.js';
import { tenantStoreContract } from './__fixtures__/tenant-store.contract.js';
import { usageLedgerContract } from './__fixtures__/usage-ledger.contract.js';

// Shared mode against real servers started by vitest.global-setup.ts (tools/services/*.sh):
// Redis for rate limits and budgets, PostgreSQL for tenants, keys, ledger and audit.
const skip = sharedSkipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== undefined)(skip ?? 'shared mode (Redis + PostgreSQL)', () => {
  tenantStoreContract('postgres', sharedFixture);
  usageLedgerContract('postgres', sharedFixture);
  auditLogContract('postgres', sharedFixture, {
    disableGuard: ['DROP TRIGGER llmrr_audit_no_change ON llmrr_audit'],
    ph: (i) => `$${i}`,
  });
  budgetStoreContract('redis', sharedFixture);
  rateLimiterContract('redis', async () => {
    const fx = await sharedFixture();
    return { limiter: fx.stores.rateLimiter, close: () => fx.close() };
  });

  it('tenantEvents: a deletion told through one process is heard by every process on the same Redis prefix, not by another prefix', async () => {
    const fx = await sharedFixture();
    const other = await createStateStores(fx.childConfig);
    const elsewhere = await createStateStores({ ...fx.childConfig, redisKeyPrefix: `${(fx.childConfig as { redisKeyPrefix: string }).redisKeyPrefix}x:` } as typeof fx.childConfig);
    try {
      const heard: string[] = [];
      const heardElsewhere: string[] = [];
      const sub = await other.tenantEvents!.onDeleted((id) => heard.push(id));
      const subElsewhere = await elsewhere.tenantEvents!.onDeleted((id) => heardElsewhere.push(id));
      await fx.stores.tenantEvents!.deleted('acme');
      await fx.stores.tenantEvents!.deleted('globex');
      await vi.waitFor(() => expect(heard).toEqual(['acme', 'globex']), { timeout: 10_000 });
      await subElsewhere.caughtUp();
      expect(heardElsewhere).toEqual([]);
      sub.close();
      subElsewhere.close();
    } finally {
      await Promise.all([other.close(), elsewhere.close()]);
      await fx.close();
    }
  });

  // A process stalled while it holds the chain's lock (paused, cut off) keeps it until TCP gives up: the others'
  // appends fail after their bound, and their waiting never takes the pool connections key lookups need.
  it('audit: appends behind a stalled lock holder fail with store_unavailable after their bound, holding at most two pool connections', async () => {
    const fx = await sharedFixture();
    const schema = (fx.childConfig as { postgresSchema: string }).postgresSchema;
    const pg = await openPostgres((fx.childConfig as { postgresUrl: string }).postgresUrl, { schema, poolMax: 3 });
    const audit = new PostgresAuditLog(pg, Date.now, { timeoutMs: 300 });
    try {
      await fx.sql('BEGIN');
      await fx.sql('SELECT pg_advisory_xact_lock(hashtext($1))', [`llmrr_audit:${schema}`]);
      const appends = Array.from({ length: 6 }, (_, i) => audit.append({ actor: 'admin', action: 'tenant.update', target: `t${i}` }).then(() => 'written', (e: unknown) => (LLMError.isInstance(e) ? e.code : String(e))));
      // While they wait, the pool still has a connection for anything else.
      expect(await pg.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      expect(await Promise.all(appends)).toEqual(Array(6).fill('store_unavailable'));
      await fx.sql('ROLLBACK');
      const e = await audit.append({ actor: 'admin', action: 'tenant.update', target: 'after' });
      expect(e.seq).toBe(1);
      expect((await audit.verify()).ok).toBe(true);
    } finally {
      await fx.sql('ROLLBACK').catch(() => undefined);
      await audit.close();
      await fx.close();
    }
  }, 30_000);

  it('audit: an append to a PostgreSQL that stops answering (a partition) fails with store_unavailable, and the next one works once it answers', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const url = new URL(postgresUrl);
    const relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) });
    url.host = `127.0.0.1:${relay.port}`;
    const pg = await openPostgres(url.href, { schema });
    const audit = new PostgresAuditLog(pg, Date.now, { timeoutMs: 300 });
    try {
      await audit.append({ actor: 'admin', action: 'tenant.update', target: 'before' });
      relay.stall();
      const stalled = await audit.append({ actor: 'admin', action: 'tenant.update', target: 'stalled' }).then(() => 'written', (e: unknown) => (LLMError.isInstance(e) ? e.code : String(e)));
      expect(stalled).toBe('store_unavailable');
      // The stalled connection was dropped (not given back to the pool): the next append opens a new one.
      relay.reset();
      await audit.append({ actor: 'admin', action: 'tenant.update', target: 'after' });
      expect((await audit.list()).map((e) => e.target)).toEqual(['before', 'after']);
    } finally {
      await audit.close();
      await relay.close();
      await fx.close();
    }
  }, 30_000);
});
