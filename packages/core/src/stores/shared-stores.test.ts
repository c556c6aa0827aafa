import { describe, expect, it, vi } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { createStateStores } from './create-state-stores.js';
import { PostgresAuditLog } from './postgres/postgres-audit-log.js';
import { openPostgres } from './postgres/postgres-database.js';
import { PostgresTenantStore } from './postgres/postgres-tenant-store.js';
import { PostgresUsageLedger } from './postgres/postgres-usage-ledger.js';
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

/** 'written', or the code of the failure. */
const outcome = (p: Promise<unknown>) => p.then(() => 'written', (e: unknown) => (LLMError.isInstance(e) ? e.code : String(e)));

/** `outcome(p)`, or 'hung' when `p` has not settled after `ms` (a hang guard, far past every bound under test). */
const guarded = (p: Promise<unknown>, ms = 20_000) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([outcome(p), new Promise<string>((r) => (timer = setTimeout(() => r('hung'), ms)))]).finally(() => clearTimeout(timer));
};

/** A pool of `poolMax` connections to the fixture's PostgreSQL through a relay, with the tenant store and ledger on it. */
async function storesBehindRelay(fx: Awaited<ReturnType<typeof sharedFixture>>, options: { poolMax: number; queryTimeoutMs: number }) {
  const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
  const url = new URL(postgresUrl);
  const relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) });
  url.host = `127.0.0.1:${relay.port}`;
  const pg = await openPostgres(url.href, { schema, ...options });
  const tenants = new PostgresTenantStore(pg);
  const ledger = new PostgresUsageLedger(pg);
  return {
    relay,
    pg,
    tenants,
    ledger,
    close: async () => {
      relay.reset();
      await Promise.all([tenants.close(), ledger.close()]);
      await relay.close();
    },
  };
}

/**
 * An audit log over a relay to the fixture's PostgreSQL, whose answers the relay holds back from the moment a
 * COMMIT is sent while `holdAtCommit` is set (the COMMIT itself reaches the server and runs).
 */
async function auditBehindRelay(fx: Awaited<ReturnType<typeof sharedFixture>>, timeoutMs: number) {
  const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
  const url = new URL(postgresUrl);
  const relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) });
  url.host = `127.0.0.1:${relay.port}`;
  const pg = await openPostgres(url.href, { schema });
  const state = { holdAtCommit: false };
  // The pool's clients are wrapped to see their COMMITs go out (pool.query takes a client with a callback).
  type Wrapped = { query: (...a: unknown[]) => unknown; wrapped?: boolean };
  const pool = pg.pool as unknown as { connect: (cb?: (e: unknown, c?: Wrapped) => void) => Promise<Wrapped> | undefined };
  const connect = pool.connect.bind(pool) as () => Promise<Wrapped>;
  const wrap = (c: Wrapped) => {
    if (!c.wrapped) {
      const query = c.query.bind(c);
      c.query = (...a: unknown[]) => {
        if (state.holdAtCommit && a[0] === 'COMMIT') relay.hold();
        return query(...a);
      };
      c.wrapped = true;
    }
    return c;
  };
  pool.connect = (cb) => {
    const client = connect().then(wrap);
    if (!cb) return client;
    client.then((c) => cb(undefined, c), (e: unknown) => cb(e));
    return undefined;
  };
  const audit = new PostgresAuditLog(pg, Date.now, { timeoutMs });
  return {
    relay,
    audit,
    state,
    close: async () => {
      relay.reset();
      await audit.close();
      await relay.close();
    },
  };
}

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
    const audit = new PostgresAuditLog(pg, Date.now, { timeoutMs: 2_000 });
    try {
      await fx.sql('BEGIN');
      await fx.sql('SELECT pg_advisory_xact_lock(hashtext($1))', [`llmrr_audit:${schema}`]);
      let settled = 0;
      // Each append fails only after 2 s: time for the query below to get a connection first even on a busy machine.
      const appends = Array.from({ length: 6 }, (_, i) =>
        outcome(audit.append({ actor: 'admin', action: 'tenant.update', target: `t${i}` })).finally(() => (settled += 1)),
      );
      // While they wait, the pool still has a connection for anything else: the query answers before any append
      // gave up (without the two-place cap it would get a connection only once waiters had failed).
      expect(await pg.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      expect(settled).toBe(0);
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

  // store_unavailable (the admin API's x-llmrr-audit: failed) means "not written": a COMMIT that was sent may have
  // been applied, so it is not given up on when its answer is late.
  it('audit: an append whose COMMIT answer comes after its bound is reported written, not failed', async () => {
    const fx = await sharedFixture();
    const { relay, audit, state, close } = await auditBehindRelay(fx, 300);
    try {
      await audit.append({ actor: 'admin', action: 'tenant.update', target: 'before' });
      state.holdAtCommit = true;
      let result: string | undefined;
      const settled = outcome(audit.append({ actor: 'admin', action: 'key.rotate', target: 'k1' })).then((r) => (result = r));
      await vi.waitFor(async () => expect((await fx.sql(`SELECT target FROM llmrr_audit ORDER BY seq`)).map((r) => r['target'])).toEqual(['before', 'k1']), { timeout: 10_000 });
      // Past the append's bound and its client grace (300 ms + 1 s): the append is still waiting for the answer.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(result).toBeUndefined();
      state.holdAtCommit = false;
      relay.flush();
      expect(await settled).toBe('written');
      expect((await audit.verify()).ok).toBe(true);
    } finally {
      await close();
      await fx.close();
    }
  }, 30_000);

  it('audit: an append whose connection is lost after its COMMIT ran is reported written (read back from the chain)', async () => {
    const fx = await sharedFixture();
    const { relay, audit, state, close } = await auditBehindRelay(fx, 5_000);
    try {
      await audit.append({ actor: 'admin', action: 'tenant.update', target: 'before' });
      state.holdAtCommit = true;
      const settled = outcome(audit.append({ actor: 'admin', action: 'key.rotate', target: 'k1' }));
      await vi.waitFor(async () => expect((await fx.sql(`SELECT target FROM llmrr_audit ORDER BY seq`)).map((r) => r['target'])).toEqual(['before', 'k1']), { timeout: 10_000 });
      state.holdAtCommit = false;
      relay.reset();
      expect(await settled).toBe('written');
      await audit.append({ actor: 'admin', action: 'tenant.update', target: 'after' });
      expect((await audit.list()).map((e) => e.target)).toEqual(['before', 'k1', 'after']);
      expect((await audit.verify()).ok).toBe(true);
    } finally {
      await close();
      await fx.close();
    }
  }, 30_000);

  it('audit: appends of two processes racing a stalled lock holder leave one linear chain holding exactly the successful appends', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const pgA = await openPostgres(postgresUrl, { schema, poolMax: 3 });
    const pgB = await openPostgres(postgresUrl, { schema, poolMax: 3 });
    const a = new PostgresAuditLog(pgA, Date.now, { timeoutMs: 250 });
    const b = new PostgresAuditLog(pgB, Date.now, { timeoutMs: 250 });
    try {
      await fx.sql('BEGIN');
      await fx.sql('SELECT pg_advisory_xact_lock(hashtext($1))', [`llmrr_audit:${schema}`]);
      const blocked = Array.from({ length: 8 }, (_, i) => outcome((i % 2 ? a : b).append({ actor: 'admin', action: 'x', target: `blocked${i}` })));
      expect(await Promise.all(blocked)).toEqual(Array(8).fill('store_unavailable'));
      await fx.sql('ROLLBACK');
      const targets: string[] = [];
      const racing = Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).append({ actor: 'admin', action: 'x', target: `r${i}` }).then(
          () => targets.push(`r${i}`),
          () => undefined,
        ),
      );
      await Promise.all(racing);
      const rows = await fx.sql(`SELECT seq, target FROM llmrr_audit ORDER BY seq`);
      expect(rows.map((r) => Number(r['seq']))).toEqual(rows.map((_, i) => i + 1));
      expect(rows.map((r) => r['target']).sort()).toEqual([...targets].sort());
      expect(rows.some((r) => String(r['target']).startsWith('blocked'))).toBe(false);
      expect((await a.verify()).ok).toBe(true);
    } finally {
      await fx.sql('ROLLBACK').catch(() => undefined);
      await a.close();
      await b.close();
      await fx.close();
    }
  }, 60_000);

  it('audit: timed-out appends give their places back, and their SET LOCAL timeouts do not outlive the append on a pooled connection', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const pg = await openPostgres(postgresUrl, { schema, poolMax: 3 });
    const one = await openPostgres(postgresUrl, { schema, poolMax: 1 });
    const audit = new PostgresAuditLog(pg, Date.now, { timeoutMs: 200 });
    const single = new PostgresAuditLog(one, Date.now, { timeoutMs: 200 });
    try {
      await fx.sql('BEGIN');
      await fx.sql('SELECT pg_advisory_xact_lock(hashtext($1))', [`llmrr_audit:${schema}`]);
      const failed = await Promise.all(Array.from({ length: 12 }, (_, i) => outcome(audit.append({ actor: 'admin', action: 'x', target: `f${i}` }))));
      expect(failed).toEqual(Array(12).fill('store_unavailable'));
      await fx.sql('ROLLBACK');
      expect((audit as unknown as { slots: { used: number; waiters: unknown[] } }).slots).toMatchObject({ used: 0, waiters: [] });
      const ok = await Promise.all([audit.append({ actor: 'admin', action: 'x', target: 'ok1' }), audit.append({ actor: 'admin', action: 'x', target: 'ok2' })]);
      expect(ok.map((e) => e.seq).sort()).toEqual([1, 2]);
      // A pool of one: the connection of that append answers this query, with the session's own bounds (the pool's
      // statement_timeout, queryTimeoutMs: 5 s by default), not the append's 200 ms.
      await single.append({ actor: 'admin', action: 'x', target: 'ok3' });
      expect(await one.query(`SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l`)).toEqual([{ s: '5s', l: '0' }]);
    } finally {
      await fx.sql('ROLLBACK').catch(() => undefined);
      await audit.close();
      await single.close();
      await fx.close();
    }
  }, 60_000);

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
      const stalled = await outcome(audit.append({ actor: 'admin', action: 'tenant.update', target: 'stalled' }));
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

  // A PostgreSQL that stops answering without closing the connection (a partition, a hung server) held every query
  // until TCP gave up: each is bounded (queryTimeoutMs), and the connection that timed out is closed, not given back.
  it('queries to a PostgreSQL that stops answering (a partition) fail with store_unavailable after their bound; the stalled connection is not reused', async () => {
    const fx = await sharedFixture();
    const { relay, tenants, ledger, close } = await storesBehindRelay(fx, { poolMax: 1, queryTimeoutMs: 300 });
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const { secret } = await fx.stores.tenants.createKey('acme', { name: 'k' });
      expect((await tenants.authenticate(secret)).ok).toBe(true);
      const ops: Array<[string, () => Promise<unknown>]> = [
        ['key lookup', () => tenants.authenticate(secret)],
        ['admin read', () => tenants.getTenant('acme')],
        ['admin list', () => tenants.listKeys('acme')],
        ['admin write', () => tenants.updateTenant('acme', { name: 'Acme 2' })],
        ['ledger write', () => ledger.record({ requestId: 'r-stalled', tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0.5, latencyMs: 1, status: 'success' })],
        ['invoice', () => ledger.invoice('acme', 0, Date.now() + 1)],
      ];
      for (const [name, op] of ops) {
        // The pool's one connection (the last one the relay took) stops passing bytes; new ones still do.
        relay.stall(relay.opened - 1);
        expect(`${name}: ${await guarded(op())}`).toBe(`${name}: store_unavailable`);
        // The next query gets a new connection, not the one left waiting for an answer.
        expect((await guarded(tenants.authenticate(secret).then((r) => (r.ok ? undefined : Promise.reject(new Error(r.reason))))))).toBe('written');
      }
      expect(await fx.sql(`SELECT name FROM llmrr_tenants`)).toEqual([{ name: 'Acme' }]);
    } finally {
      await close();
      await fx.close();
    }
  }, 60_000);

  it('createStateStores: postgresQueryTimeoutMs bounds tenant changes waiting on a lock, postgresAuditTimeoutMs the audit appends; bad values are config_invalid', async () => {
    const fx = await sharedFixture();
    const schema = (fx.childConfig as { postgresSchema: string }).postgresSchema;
    const stores = await createStateStores({ ...fx.childConfig, postgresQueryTimeoutMs: 300, postgresAuditTimeoutMs: 400 } as typeof fx.childConfig);
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      expect((stores.tenants as unknown as { pg: { queryTimeoutMs: number } }).pg.queryTimeoutMs).toBe(300);
      expect((stores.audit as unknown as { timeoutMs: number }).timeoutMs).toBe(400);
      // Another session holds the tenant's row and the audit chain's lock (a stalled process).
      await fx.sql('BEGIN');
      await fx.sql('SELECT 1 FROM llmrr_tenants WHERE id = $1 FOR UPDATE', ['acme']);
      await fx.sql('SELECT pg_advisory_xact_lock(hashtext($1))', [`llmrr_audit:${schema}`]);
      expect(await guarded(stores.tenants.updateTenant('acme', { name: 'Acme 2' }))).toBe('store_unavailable');
      expect(await guarded(stores.audit.append({ actor: 'admin', action: 'tenant.update', target: 'acme' }))).toBe('store_unavailable');
      await fx.sql('ROLLBACK');
      expect((await stores.tenants.updateTenant('acme', { name: 'Acme 2' })).name).toBe('Acme 2');
      for (const [param, value] of [['postgresQueryTimeoutMs', 0], ['postgresQueryTimeoutMs', 1.5], ['postgresAuditTimeoutMs', -1], ['postgresAuditTimeoutMs', 2 ** 31]] as const) {
        const e = await createStateStores({ ...fx.childConfig, [param]: value } as typeof fx.childConfig).then(() => undefined, (err: unknown) => err);
        expect(e).toMatchObject({ code: 'config_invalid', param });
      }
    } finally {
      await fx.sql('ROLLBACK').catch(() => undefined);
      await stores.close();
      await fx.close();
    }
  }, 60_000);

  // The settle of a call retries a failed ledger write once (calls/settle.ts): a write whose INSERT ran but whose
  // answer was lost is store_unavailable (not "written", nor waiting for TCP), and its retry writes no second row.
  it('ledger: a write whose answer does not come fails with store_unavailable after its bound; its retry does not write the row twice', async () => {
    const fx = await sharedFixture();
    const { relay, ledger, close } = await storesBehindRelay(fx, { poolMax: 1, queryTimeoutMs: 300 });
    try {
      const entry = { requestId: 'r-held', tenantId: 'acme', model: 'm', inputTokens: 10, outputTokens: 5, costUsd: 0.25, latencyMs: 1, status: 'success' as const };
      expect(await ledger.record({ ...entry, requestId: 'r-before' })).toEqual({ inserted: true });
      relay.hold();
      expect(await guarded(ledger.record(entry))).toBe('store_unavailable');
      expect(await fx.sql(`SELECT count(*)::int AS n FROM llmrr_usage WHERE request_id = 'r-held'`)).toEqual([{ n: 1 }]);
      relay.flush();
      expect(await ledger.record(entry)).toEqual({ inserted: false });
      expect(await fx.sql(`SELECT request_id, cost_nano::float8 AS nano FROM llmrr_usage ORDER BY request_id`)).toEqual([
        { request_id: 'r-before', nano: 0.25e9 },
        { request_id: 'r-held', nano: 0.25e9 },
      ]);
    } finally {
      await close();
      await fx.close();
    }
  }, 60_000);
});
