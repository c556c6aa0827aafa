import { createConnection, createServer, type Server, type Socket } from 'node:net';
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
import type { StateStoresConfig } from './types.js';

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

/** The error `p` fails with, 'written' when it does not, or 'hung' when it has not settled after `ms` (a hang guard). */
const failureOf = (p: Promise<unknown>, ms = 20_000): Promise<unknown> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = p.then(() => 'written', (e: unknown) => e);
  return Promise.race([settled, new Promise<string>((r) => (timer = setTimeout(() => r('hung'), ms)))]).finally(() => clearTimeout(timer));
};

/**
 * Resolves once the `lastUsedAt` writes `store` runs in the background (after a login) have settled: the one in
 * flight and the ones it starts when it settles (the keys kept for the next one).
 */
const lastUseWritesSettled = async (store: PostgresTenantStore) => {
  const inFlight = () => (store as unknown as { touching: Promise<void> | undefined }).touching;
  for (let write = inFlight(); write !== undefined; write = inFlight()) await write;
};

/** A pool of `poolMax` connections to the fixture's PostgreSQL through a relay, with the tenant store and ledger on it. */
async function storesBehindRelay(fx: Awaited<ReturnType<typeof sharedFixture>>, options: { poolMax: number; queryTimeoutMs: number; reportTimeoutMs?: number }) {
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
 * A pool to the fixture's PostgreSQL through a relay that sees each COMMIT go out: with `atCommit` set, the relay
 * holds back that connection's answers ('hold': the COMMIT reaches the server and runs) or stops passing its bytes
 * ('drop': the COMMIT never reaches it, and the server aborts the transaction once the client closes the
 * connection); with `readBack: 'stall'`, every connection used after that COMMIT is stalled too (its read-back
 * cannot tell either). With `at`, the same happens at the first statement whose text has it instead of at a
 * COMMIT. Each is reset after one such statement. Connections are used one at a time (sequential calls).
 */
async function commitsBehindRelay(fx: Awaited<ReturnType<typeof sharedFixture>>, options: { queryTimeoutMs?: number } = {}) {
  const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
  const url = new URL(postgresUrl);
  const relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) });
  url.host = `127.0.0.1:${relay.port}`;
  const pg = await openPostgres(url.href, { schema, ...options });
  const state: { atCommit?: 'hold' | 'drop' | undefined; at?: string | undefined; readBack?: 'stall' | undefined; committed?: boolean } = {};
  // The pool's clients are wrapped to see their COMMITs go out (pool.query takes a client with a callback); each is
  // the relay's newest connection when first handed out.
  type Wrapped = { query: (...a: unknown[]) => unknown; relayed?: number };
  const pool = pg.pool as unknown as { connect: (cb?: (e: unknown, c?: Wrapped) => void) => Promise<Wrapped> | undefined };
  const connect = pool.connect.bind(pool) as () => Promise<Wrapped>;
  const wrap = (c: Wrapped) => {
    if (c.relayed === undefined) {
      const connection = (c.relayed = relay.opened - 1);
      const query = c.query.bind(c);
      c.query = (...a: unknown[]) => {
        const text = typeof a[0] === 'string' ? a[0] : (a[0] as { text?: unknown } | undefined)?.text;
        if (state.atCommit && (state.at === undefined ? text === 'COMMIT' : typeof text === 'string' && text.includes(state.at))) {
          if (state.atCommit === 'hold') relay.hold(connection);
          else relay.stall(connection);
          state.atCommit = state.at = undefined;
          state.committed = true;
        } else if (state.committed && state.readBack === 'stall') relay.stall(connection);
        return query(...a);
      };
    }
    return c;
  };
  pool.connect = (cb) => {
    const client = connect().then(wrap);
    if (!cb) return client;
    client.then((c) => cb(undefined, c), (e: unknown) => cb(e));
    return undefined;
  };
  const reset = () => {
    state.atCommit = state.at = state.readBack = undefined;
    state.committed = false;
  };
  return { relay, pg, state, reset };
}

/** A simple-protocol COMMIT (its text NUL-ended: not the BEGIN's "READ COMMITTED"). */
const COMMIT_QUERY = Buffer.from('COMMIT\0');

/**
 * A loopback relay to PostgreSQL that, once `armCommit()` was called, delays the next client chunk with a COMMIT in it
 * (and everything after it on that connection) on its way to the server: a COMMIT late in the network. The client's
 * side closing does not close the server's side while its bytes are held (TCP delivers what was sent before a FIN).
 * `release()` delivers them and then ends that connection; `abort()` drops it (the server aborts the transaction).
 */
async function delayingRelay(target: { host: string; port: number }) {
  let armed = false;
  let held: { upstream: Socket; chunks: Buffer[]; clientClosed: boolean } | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.host, port: target.port });
    sockets.add(client).add(upstream);
    let mine: typeof held;
    client.on('data', (d: Buffer) => {
      if (!mine && armed && d.includes(COMMIT_QUERY)) {
        armed = false;
        mine = held = { upstream, chunks: [], clientClosed: false };
      }
      if (mine) mine.chunks.push(d);
      else upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!client.destroyed) client.write(d);
    });
    client.on('error', () => undefined).on('close', () => {
      if (mine) mine.clientClosed = true;
      else upstream.destroy();
    });
    upstream.on('error', () => undefined).on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    armCommit: () => (armed = true),
    get holding() {
      return held !== undefined && held.chunks.length > 0;
    },
    get clientClosed() {
      return held?.clientClosed === true;
    },
    release: () => {
      const h = held!;
      held = undefined;
      for (const c of h.chunks.splice(0)) h.upstream.write(c);
      h.upstream.end();
    },
    abort: () => {
      const h = held!;
      held = undefined;
      h.upstream.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** An audit log on `commitsBehindRelay`. */
async function auditBehindRelay(fx: Awaited<ReturnType<typeof sharedFixture>>, timeoutMs: number) {
  const { relay, pg, state, reset } = await commitsBehindRelay(fx);
  const audit = new PostgresAuditLog(pg, Date.now, { timeoutMs });
  return {
    relay,
    audit,
    state,
    close: async () => {
      reset();
      relay.reset();
      await audit.close();
      await relay.close();
    },
  };
}

/** A tenant store on `commitsBehindRelay`. */
async function tenantsBehindRelay(fx: Awaited<ReturnType<typeof sharedFixture>>, queryTimeoutMs: number) {
  const { relay, pg, state, reset } = await commitsBehindRelay(fx, { queryTimeoutMs });
  const tenants = new PostgresTenantStore(pg);
  return {
    relay,
    tenants,
    state,
    reset,
    close: async () => {
      reset();
      relay.reset();
      await tenants.close();
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

  // store_unavailable (the admin API's x-llmrr-audit: failed) means "not written": a COMMIT whose answer is late may
  // have been applied, so it is read back (behind the chain's lock, on a new connection) rather than reported failed.
  it('audit: an append whose COMMIT answer does not come is read back after its bound and reported written, not failed', async () => {
    const fx = await sharedFixture();
    const { audit, state, close } = await auditBehindRelay(fx, 300);
    try {
      await audit.append({ actor: 'admin', action: 'tenant.update', target: 'before' });
      state.atCommit = 'hold';
      // The COMMIT ran, its answer never comes: the append does not wait for it (the hang guard is 20 s).
      expect(await guarded(audit.append({ actor: 'admin', action: 'key.rotate', target: 'k1' }))).toBe('written');
      expect((await fx.sql(`SELECT target FROM llmrr_audit ORDER BY seq`)).map((r) => r['target'])).toEqual(['before', 'k1']);
      expect((await audit.verify()).ok).toBe(true);
      // One whose COMMIT never reached PostgreSQL is not written, and said so.
      state.atCommit = 'drop';
      const err = await audit.append({ actor: 'admin', action: 'key.rotate', target: 'k2' }).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'store_unavailable' });
      expect((err as Error).message).not.toContain('may have been written');
      await audit.append({ actor: 'admin', action: 'tenant.update', target: 'after' });
      expect((await audit.list()).map((e) => e.target)).toEqual(['before', 'k1', 'after']);
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
      state.atCommit = 'hold';
      const settled = outcome(audit.append({ actor: 'admin', action: 'key.rotate', target: 'k1' }));
      await vi.waitFor(async () => expect((await fx.sql(`SELECT target FROM llmrr_audit ORDER BY seq`)).map((r) => r['target'])).toEqual(['before', 'k1']), { timeout: 10_000 });
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

  // A transaction's COMMIT is bounded like every query: an admin change (a tenant or key PATCH) whose COMMIT answer
  // does not come (a partition at that moment) is settled by reading back, on a new connection behind the row's lock,
  // whether it committed: applied, it is reported done (the admin API then writes its audit entry); not, a 503.
  it('admin changes (updateTenant, updateKey) whose COMMIT answer does not come are read back after their bound: reported done when applied', async () => {
    const fx = await sharedFixture();
    const { tenants, state, reset, close } = await tenantsBehindRelay(fx, 300);
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const { key } = await fx.stores.tenants.createKey('acme', { name: 'k' });
      state.atCommit = 'hold';
      // Before, the change waited for the answer until TCP gave up (the hang guard is 20 s).
      expect(await guarded(tenants.updateTenant('acme', { name: 'Acme 2' }))).toBe('written');
      expect(await fx.sql(`SELECT name FROM llmrr_tenants`)).toEqual([{ name: 'Acme 2' }]);
      reset();
      state.atCommit = 'hold';
      const updated = await tenants.updateKey(key.id, { name: 'k2' });
      expect(updated).toMatchObject({ id: key.id, name: 'k2' });
      expect(await fx.sql(`SELECT name FROM llmrr_api_keys`)).toEqual([{ name: 'k2' }]);
    } finally {
      await close();
      await fx.close();
    }
  }, 60_000);

  it('an admin change whose COMMIT never reaches PostgreSQL fails with store_unavailable after its bound, and is not applied', async () => {
    const fx = await sharedFixture();
    const { tenants, state, close } = await tenantsBehindRelay(fx, 300);
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      state.atCommit = 'drop';
      const err = await tenants.updateTenant('acme', { name: 'Acme 2' }).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'store_unavailable' });
      // Read back: not applied (the server ended the transaction with the connection), so not "may have been written".
      expect((err as Error).message).not.toContain('may have been written');
      // The next change goes through (a new connection); the first one is not in the row.
      await tenants.updateTenant('acme', { tier: 'pro' });
      expect(await fx.sql(`SELECT name, tier FROM llmrr_tenants`)).toEqual([{ name: 'Acme', tier: 'pro' }]);
    } finally {
      await close();
      await fx.close();
    }
  }, 60_000);

  it('an admin change whose COMMIT answer does not come and whose read-back cannot tell either fails with store_unavailable saying it may have been written', async () => {
    const fx = await sharedFixture();
    const { tenants, state, close } = await tenantsBehindRelay(fx, 300);
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      state.atCommit = 'hold';
      state.readBack = 'stall';
      const err = await tenants.updateTenant('acme', { name: 'Acme 2' }).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'store_unavailable' });
      expect((err as Error).message).toContain('may have been written');
      expect(await fx.sql(`SELECT name FROM llmrr_tenants`)).toEqual([{ name: 'Acme 2' }]);
    } finally {
      await close();
      await fx.close();
    }
  }, 60_000);

  // The read-back reads the transaction's status first and waits for the changed row's lock only while it is in
  // progress: another session holding that row (another gateway's change of it, a DBA's transaction) no longer turns a
  // change that committed into a 503 "may have been written" (for a rotation: the old secret dead, the new one lost).
  it('an admin change whose COMMIT answer does not come is reported done when it committed, though another session holds its row when read back', async () => {
    const fx = await sharedFixture();
    const { tenants, state, reset, close } = await tenantsBehindRelay(fx, 2_000);
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const key = await fx.stores.tenants.createKey('acme', { name: 'k' });
      for (const [change, row] of [
        [() => tenants.updateTenant('acme', { name: 'Acme 2' }), `SELECT 1 FROM llmrr_tenants WHERE id = 'acme' FOR UPDATE`],
        [() => tenants.rotateKey(key.key.id), `SELECT 1 FROM llmrr_api_keys WHERE id = '${key.key.id}' FOR UPDATE`],
      ] as const) {
        const before = await fx.sql(`SELECT t.name, k.hash FROM llmrr_tenants t JOIN llmrr_api_keys k ON k.tenant_id = t.id`);
        state.atCommit = 'hold';
        const outcome = failureOf(change());
        // The COMMIT ran (its answer held); another session takes the row, before or after the read-back asks.
        await vi.waitFor(async () => expect(await fx.sql(`SELECT t.name, k.hash FROM llmrr_tenants t JOIN llmrr_api_keys k ON k.tenant_id = t.id`)).not.toEqual(before), { timeout: 10_000 });
        await fx.sql('BEGIN');
        await fx.sql(row);
        expect(await outcome).toBe('written');
        await fx.sql('ROLLBACK');
        reset();
      }
      expect(await fx.sql(`SELECT name FROM llmrr_tenants`)).toEqual([{ name: 'Acme 2' }]);
      // The rotation committed and was reported done (its new secret handed out): the old secret no longer works.
      expect(await fx.stores.tenants.authenticate(key.secret)).toMatchObject({ ok: false });
    } finally {
      await fx.sql('ROLLBACK').catch(() => undefined);
      await close();
      await fx.close();
    }
  }, 60_000);

  // The gateway cut off from PostgreSQL right after its COMMIT went out (the COMMIT ran, its answer lost, the read-back
  // cannot connect): nothing can tell whether the change was written, so the 503 says it may have been, with a marker
  // (`details.mayHaveBeenWritten`) the admin API turns into "check before retrying" (a key's secret is shown once).
  it('a key creation or rotation whose COMMIT ran, its read-back cut off too, fails with store_unavailable marked may-have-been-written', async () => {
    const fx = await sharedFixture();
    const { tenants, state, reset, close } = await tenantsBehindRelay(fx, 300);
    const mayHaveBeenWritten = (e: unknown) => {
      expect(e).toBeInstanceOf(LLMError);
      expect(e).toMatchObject({ code: 'store_unavailable', details: { mayHaveBeenWritten: true } });
      expect((e as Error).message).toContain('may have been written');
    };
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      state.atCommit = 'hold';
      state.readBack = 'stall';
      const lost = await failureOf(tenants.createKey('acme', { name: 'k' }));
      mayHaveBeenWritten(lost);
      reset();
      // It was: listing the keys (as the 503 says to) finds it, the id the error names (the admin API audits it).
      const [created] = await fx.stores.tenants.listKeys('acme');
      expect(created).toMatchObject({ name: 'k' });
      expect((lost as LLMError).details).toEqual({ mayHaveBeenWritten: true, id: created!.id });
      state.atCommit = 'hold';
      state.readBack = 'stall';
      mayHaveBeenWritten(await failureOf(tenants.rotateKey(created!.id)));
      reset();
      expect((await fx.stores.tenants.getKey(created!.id))?.rotatedAt).toBeDefined();
    } finally {
      await close();
      await fx.close();
    }
  }, 60_000);

  // The admin API audits an unconfirmed change before its 503; a key change's entry lacked the key's tenant (the routes
  // do not read the key first). The store knows it from the transaction (the row it locked or changed) and names it.
  it('a key change (update, rotation, revocation) the store cannot confirm names the key\'s tenant (details.tenantId)', async () => {
    const fx = await sharedFixture();
    const { tenants, state, reset, close } = await tenantsBehindRelay(fx, 300);
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const { key } = await fx.stores.tenants.createKey('acme', { name: 'k' });
      for (const change of [() => tenants.updateKey(key.id, { name: 'k2' }), () => tenants.rotateKey(key.id), () => tenants.revokeKey(key.id)]) {
        state.atCommit = 'hold';
        state.readBack = 'stall';
        const err = await failureOf(change());
        reset();
        expect(err).toBeInstanceOf(LLMError);
        expect((err as LLMError).details).toEqual({ mayHaveBeenWritten: true, tenantId: 'acme' });
      }
      expect(await fx.stores.tenants.getKey(key.id)).toMatchObject({ name: 'k2', rotatedAt: expect.any(Number), revokedAt: expect.any(Number) });
    } finally {
      await close();
      await fx.close();
    }
  }, 60_000);

  // A change that matched no row wrote nothing, whatever became of its COMMIT: a rotation of a key that is not there
  // (or was rotated meanwhile, or revoked), a revocation of one revoked already, a deletion of a tenant that is not
  // there, a creation of a tenant under an id taken. Its COMMIT lost on the way (the read-back finds the transaction still open: it locked no row to wait for),
  // it said "may have been written"; it is answered as the store answers it otherwise.
  it('a change that matched no row, its COMMIT never reaching PostgreSQL, is answered as such (404, 409, unchanged), not as may-have-been-written', async () => {
    const fx = await sharedFixture();
    const { tenants, state, reset, close } = await tenantsBehindRelay(fx, 300);
    const dropped = async <T>(change: () => Promise<T>) => {
      state.atCommit = 'drop';
      const settled = await change().then((v) => v, (e: unknown) => e);
      reset();
      return settled;
    };
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const { key } = await fx.stores.tenants.createKey('acme', { name: 'k' });
      expect(await dropped(() => tenants.rotateKey('key_missing'))).toMatchObject({ code: 'not_found', param: 'keyId' });
      expect(await dropped(() => tenants.rotateKey(key.id, { expectedHash: 'not-its-hash' }))).toMatchObject({ code: 'conflict', param: 'keyId' });
      expect(await dropped(() => tenants.revokeKey('key_missing'))).toMatchObject({ code: 'not_found', param: 'keyId' });
      expect(await dropped(() => tenants.deleteTenant('nobody'))).toBe(false);
      expect(await dropped(() => tenants.createTenant({ id: 'acme', name: 'Acme again' }))).toMatchObject({ code: 'conflict', param: 'id' });
      await fx.stores.tenants.revokeKey(key.id);
      expect(await dropped(() => tenants.revokeKey(key.id))).toMatchObject({ changed: false, key: { id: key.id } });
      expect(await dropped(() => tenants.rotateKey(key.id))).toMatchObject({ code: 'conflict', param: 'keyId' });
    } finally {
      await close();
      await fx.close();
    }
  }, 60_000);

  // The INSERT takes the new row's advisory lock in a CTE (`WITH l AS (SELECT pg_advisory_xact_lock(...)) INSERT ...
  // SELECT ... FROM l`). A COMMIT late in the network: the read-back finds the transaction in progress and must wait on
  // that lock (seen waiting in pg_locks), then report the creation done once the late COMMIT commits - or failed, with
  // no marker and no key, when the connection is dropped instead.
  it('a key creation whose COMMIT arrives late is read back behind the INSERT\'s own advisory lock: done once it commits, failed (unmarked, no key) once it aborts', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const url = new URL(postgresUrl);
    const relay = await delayingRelay({ host: url.hostname, port: Number(url.port) });
    url.host = `127.0.0.1:${relay.port}`;
    const tenants = new PostgresTenantStore(await openPostgres(url.href, { schema, queryTimeoutMs: 3_000 }));
    // The read-back waiting on a new key's advisory lock (two-key form: classid is "llmk", objsubid 2).
    const waiting = `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = ${0x6c6c6d6b} AND objsubid = 2 AND NOT granted`;
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      relay.armCommit();
      const creation = tenants.createKey('acme', { name: 'late' }).then((k) => k, (e: unknown) => e);
      await vi.waitFor(() => expect(relay.clientClosed).toBe(true), { timeout: 15_000, interval: 20 });
      await vi.waitFor(async () => expect(await fx.sql(waiting)).toEqual([{ n: 1 }]), { timeout: 10_000, interval: 20 });
      relay.release();
      const created = await creation;
      expect(created).not.toBeInstanceOf(Error);
      expect((await fx.stores.tenants.listKeys('acme')).map((k) => k.name)).toEqual(['late']);

      relay.armCommit();
      const aborted = tenants.createKey('acme', { name: 'dropped' }).then((k) => k, (e: unknown) => e);
      await vi.waitFor(() => expect(relay.clientClosed).toBe(true), { timeout: 15_000, interval: 20 });
      await vi.waitFor(async () => expect(await fx.sql(waiting)).toEqual([{ n: 1 }]), { timeout: 10_000, interval: 20 });
      relay.abort();
      const err = await aborted;
      expect(err).toMatchObject({ code: 'store_unavailable' });
      expect((err as LLMError).details).toBeUndefined();
      expect((await fx.stores.tenants.listKeys('acme')).map((k) => k.name)).toEqual(['late']);
    } finally {
      await tenants.close();
      await relay.close();
      await fx.close();
    }
  }, 60_000);

  // A rotation or revocation holds the key's row until its COMMIT, which a gateway cut off may never send (the server
  // keeps the transaction for its idle bound): another gateway's login with that key wrote lastUsedAt waiting for the
  // row for its whole bound, and the login failed with a 503. The write is now in the background and skips a locked
  // row. The store's bound (20 s) is far past the hang guards (4 s): a login that waited for the write, or a write
  // that waited for the row (which `close()`, waiting for the writes in flight, would show), is caught, not dropped
  // at the bound as it was with a bound of 2 s.
  it("a login is neither held up nor failed by the lastUsedAt write of a key whose row another session holds, and the write skips the row", async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const other = new PostgresTenantStore(await openPostgres(postgresUrl, { schema, queryTimeoutMs: 20_000 }));
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const key = await fx.stores.tenants.createKey('acme', { name: 'k' });
      await fx.sql('BEGIN');
      await fx.sql(`SELECT 1 FROM llmrr_api_keys WHERE id = $1 FOR UPDATE`, [key.key.id]);
      expect(await failureOf(other.authenticate(key.secret), 4_000)).toBe('written');
      expect(await failureOf(other.close(), 4_000)).toBe('written');
      await fx.sql('ROLLBACK');
      expect((await fx.stores.tenants.getKey(key.key.id))?.lastUsedAt).toBeUndefined();
    } finally {
      await fx.sql('ROLLBACK').catch(() => undefined);
      await other.close();
      await fx.close();
    }
  }, 60_000);

  // The lastUsedAt writes ran in the background unbounded in number: while the keys table took no writes (a table lock
  // that lets reads through: a non-concurrent CREATE INDEX, LOCK TABLE ... SHARE), logins answered from the auth cache
  // (reading nothing) each left a write holding, or queued for, a pool connection for the whole query bound, and an
  // unrelated ledger write failed its checkout ("timeout exceeded when trying to connect"). One write is in flight at
  // most, bounded on its own (a few hundred ms); a login while it is starts none: its key is kept for the next write.
  it('logins while the keys table takes no writes leave the pool to other writes; the keys kept while a write is in flight are written by the next one', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const pg = await openPostgres(postgresUrl, { schema, poolMax: 2, queryTimeoutMs: 20_000 });
    let now = Date.now();
    const tenants = new PostgresTenantStore(pg, () => now, { authCacheTtlMs: 600_000 });
    const ledger = new PostgresUsageLedger(pg);
    const lastUsedOf = async () => new Map((await fx.stores.tenants.listKeys('acme')).map((k) => [k.id, k.lastUsedAt]));
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const keys: Array<{ id: string; secret: string }> = [];
      for (let i = 0; i < 8; i++) {
        const created = await fx.stores.tenants.createKey('acme', { name: `k${i}` });
        keys.push({ id: created.key.id, secret: created.secret });
      }
      // Each key's lookup cached and its lastUsedAt written (a login while another key's write is in flight is kept
      // for the write after it).
      await vi.waitFor(
        async () => {
          for (const { secret } of keys) expect(await tenants.authenticate(secret)).toMatchObject({ ok: true });
          await lastUseWritesSettled(tenants);
          expect([...(await lastUsedOf()).values()].every((at) => at === now)).toBe(true);
        },
        { timeout: 10_000 },
      );
      // A minute later (the throttle's interval), writes to the keys table wait; reads go on.
      now += 61_000;
      await fx.sql('BEGIN');
      await fx.sql('LOCK TABLE llmrr_api_keys IN SHARE MODE');
      // Which logins started a write (the one in flight then is a new one).
      const inFlight = () => (tenants as unknown as { touching: Promise<void> | undefined }).touching;
      const skipped: typeof keys = [];
      for (const key of keys) {
        const before = inFlight();
        expect(await tenants.authenticate(key.secret)).toMatchObject({ ok: true });
        if (inFlight() === before) skipped.push(key);
      }
      // A request's ledger row, on a table nothing locks, gets a connection.
      const recorded = await ledger
        .record({ requestId: 'r-after-logins', tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0.5, latencyMs: 1, status: 'success' })
        .then(
          () => 'written',
          (e: unknown) => (LLMError.isInstance(e) ? `${e.code}: ${e.message}` : String(e)),
        );
      expect(recorded).toBe('written');
      // The write in flight, and the one of the keys kept after it, give up at their own bound (far below the query
      // bound, 20 s) and write nothing.
      expect(await failureOf(lastUseWritesSettled(tenants), 10_000)).toBe('written');
      await fx.sql('ROLLBACK');
      expect([...(await lastUsedOf()).values()].every((at) => at === now - 61_000)).toBe(true);
      // The logins while a write was in flight started none (all but the first, unless the write gave up before the
      // last login). A minute later, with the table writable, logins one after the other: each key is written (the
      // first one's write in flight, the others kept and written by the next one).
      expect(skipped.length).toBeGreaterThan(0);
      now += 61_000;
      for (const key of keys) expect(await tenants.authenticate(key.secret)).toMatchObject({ ok: true });
      await lastUseWritesSettled(tenants);
      expect([...(await lastUsedOf()).values()].every((at) => at === now)).toBe(true);
    } finally {
      await fx.sql('ROLLBACK').catch(() => undefined);
      await tenants.close();
      await ledger.close();
      await fx.close();
    }
  }, 60_000);

  // (Found in review: a login while another key's lastUsedAt write was in flight started none, so a key whose logins
  // always came right after another key's - a batch job, two tenants' requests arriving together - was never
  // written, and of ten keys in a burst only one ever was: an operator saw them as never used.)
  it('a key that always logs in right after another key has its lastUsedAt written every round', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    let now = Date.now();
    const tenants = new PostgresTenantStore(await openPostgres(postgresUrl, { schema, poolMax: 4, queryTimeoutMs: 5_000 }), () => now, { authCacheTtlMs: 600_000 });
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const a = await fx.stores.tenants.createKey('acme', { name: 'a' });
      const b = await fx.stores.tenants.createKey('acme', { name: 'b' });
      for (let round = 0; round < 5; round++) {
        now += 5 * 60_000;
        // A then B, each login awaited (not concurrent): B's login comes while A's write is on its way.
        expect(await tenants.authenticate(a.secret)).toMatchObject({ ok: true });
        expect(await tenants.authenticate(b.secret)).toMatchObject({ ok: true });
        await lastUseWritesSettled(tenants);
        const rows = new Map((await fx.stores.tenants.listKeys('acme')).map((k) => [k.id, k.lastUsedAt]));
        expect({ round, a: rows.get(a.key.id), b: rows.get(b.key.id) }).toEqual({ round, a: now, b: now });
      }
    } finally {
      await tenants.close();
      await fx.close();
    }
  }, 60_000);

  it('keys logging in together in bursts each have lastUsedAt written every burst', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    let now = Date.now();
    const tenants = new PostgresTenantStore(await openPostgres(postgresUrl, { schema, poolMax: 10, queryTimeoutMs: 5_000 }), () => now, { authCacheTtlMs: 600_000 });
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const keys: Array<{ id: string; secret: string }> = [];
      for (let i = 0; i < 10; i++) {
        const created = await fx.stores.tenants.createKey('acme', { name: `k${i}` });
        keys.push({ id: created.key.id, secret: created.secret });
      }
      // Bursts two minutes apart: the ten keys' requests arrive together (a client fanning out, a batch job).
      for (let round = 0; round < 4; round++) {
        now += 2 * 60_000;
        const verdicts = await Promise.all(keys.map((k) => tenants.authenticate(k.secret)));
        expect(verdicts.every((v) => v.ok)).toBe(true);
        await lastUseWritesSettled(tenants);
        const rows = new Map((await fx.stores.tenants.listKeys('acme')).map((k) => [k.id, k.lastUsedAt]));
        expect({ round, stale: keys.filter((k) => rows.get(k.id) !== now).length }).toEqual({ round, stale: 0 });
      }
    } finally {
      await tenants.close();
      await fx.close();
    }
  }, 60_000);

  it('close() writes the lastUsedAt of the keys kept for the next write before letting the pool go', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    let now = Date.now();
    const tenants = new PostgresTenantStore(await openPostgres(postgresUrl, { schema, queryTimeoutMs: 5_000 }), () => now, { authCacheTtlMs: 600_000 });
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const a = await fx.stores.tenants.createKey('acme', { name: 'a' });
      const b = await fx.stores.tenants.createKey('acme', { name: 'b' });
      // Both lookups cached (a later login reads nothing: B's comes while A's write is in flight).
      for (const { secret } of [a, b]) expect(await tenants.authenticate(secret)).toMatchObject({ ok: true });
      await lastUseWritesSettled(tenants);
      now += 61_000;
      expect(await tenants.authenticate(a.secret)).toMatchObject({ ok: true });
      expect(await tenants.authenticate(b.secret)).toMatchObject({ ok: true });
      await tenants.close();
      const rows = new Map((await fx.stores.tenants.listKeys('acme')).map((k) => [k.id, k.lastUsedAt]));
      expect({ a: rows.get(a.key.id), b: rows.get(b.key.id) }).toEqual({ a: now, b: now });
    } finally {
      await tenants.close();
      await fx.close();
    }
  }, 60_000);

  // With the auth cache on, the lookup is answered from memory: a login waiting for its lastUsedAt write waited for a
  // PostgreSQL that stopped answering for the whole bound (queryTimeoutMs + 1 s), once a minute per key.
  it('a login answered from the auth cache is not held up by its lastUsedAt write while PostgreSQL does not answer', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const url = new URL(postgresUrl);
    const relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) });
    url.host = `127.0.0.1:${relay.port}`;
    let now = Date.now();
    const tenants = new PostgresTenantStore(await openPostgres(url.href, { schema, queryTimeoutMs: 20_000 }), () => now, { authCacheTtlMs: 600_000 });
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const key = await fx.stores.tenants.createKey('acme', { name: 'k' });
      expect(await tenants.authenticate(key.secret)).toMatchObject({ ok: true });
      // A minute later (the lastUsedAt throttle's interval), PostgreSQL stops answering; the key is in the cache.
      now += 61_000;
      relay.stall();
      expect(await failureOf(tenants.authenticate(key.secret), 4_000)).toBe('written');
    } finally {
      relay.reset();
      await tenants.close();
      await relay.close();
      await fx.close();
    }
  }, 60_000);

  // A PostgreSQL that answers the lookup but refuses the write (a read-only session: a standby after a failover,
  // `default_transaction_read_only` for maintenance; 25006) failed the login with the raw pg error (a 500), once a
  // minute per key: every failure of the write is dropped, none reaches the login (nor is left unhandled).
  it('a login whose lastUsedAt write PostgreSQL refuses (read-only, 25006) is not failed by it', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const url = new URL(postgresUrl);
    url.searchParams.set('options', '-c default_transaction_read_only=on');
    const readOnly = new PostgresTenantStore(await openPostgres(url.href, { schema, migrate: false }));
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const key = await fx.stores.tenants.createKey('acme', { name: 'k' });
      expect(await readOnly.authenticate(key.secret)).toMatchObject({ ok: true });
      // The write refused: close() waits for it, and nothing was written.
      await readOnly.close();
      expect((await fx.stores.tenants.getKey(key.key.id))?.lastUsedAt).toBeUndefined();
    } finally {
      await readOnly.close();
      await fx.close();
    }
  }, 60_000);

  // A failed lastUsedAt write was dropped unlogged (the store had no log hook): keys shown as unused for as long as
  // PostgreSQL refused the writes, with nothing in the server log. `onError` (createStateStores, the store's option)
  // hears it: one line, naming how many keys, never a secret or a hash.
  it('a failed lastUsedAt write is reported to onError in one line without a secret, the login unaffected', async () => {
    const fx = await sharedFixture();
    const reports: Array<{ message: string; error: unknown }> = [];
    const stores = await createStateStores({ ...(fx.childConfig as Extract<StateStoresConfig, { mode: 'shared' }>), onError: (message, error) => reports.push({ message, error }) });
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const key = await fx.stores.tenants.createKey('acme', { name: 'k' });
      // Writes to the keys table wait (reads go on): the write gives up at its own bound.
      await fx.sql('BEGIN');
      await fx.sql('LOCK TABLE llmrr_api_keys IN SHARE MODE');
      expect(await stores.tenants.authenticate(key.secret)).toMatchObject({ ok: true });
      await vi.waitFor(() => expect(reports).toHaveLength(1), { timeout: 10_000 });
      await fx.sql('ROLLBACK');
      const [{ message, error }] = reports as [{ message: string; error: unknown }];
      expect(message).toBe('PostgreSQL: the lastUsedAt of 1 API key could not be written (dropped; the next use a minute later writes it)');
      expect(error).toMatchObject({ code: 'store_unavailable' });
      for (const secretish of [key.secret, key.key.hash]) expect(`${message} ${(error as Error).message}`).not.toContain(secretish);
      expect((await fx.stores.tenants.getKey(key.key.id))?.lastUsedAt).toBeUndefined();
    } finally {
      await fx.sql('ROLLBACK').catch(() => undefined);
      await stores.close();
      await fx.close();
    }
  }, 60_000);

  // 57014 is also the answer to a cancel request (pg_cancel_backend: an operator, a failover tool), worded as the
  // server's message says, not as a bound of ours.
  it('a statement cancelled by a cancel request is store_unavailable in the server\'s words, not said to be at its bound', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const pg = await openPostgres(postgresUrl, { schema, queryTimeoutMs: 20_000 });
    try {
      const sleeping = failureOf(pg.query(`SELECT pg_sleep(15) AS cancelled_sleep`));
      const sleeper = `FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(15) AS cancelled_sleep%' AND pid <> pg_backend_pid()`;
      await vi.waitFor(async () => expect(await fx.sql(`SELECT count(*)::int AS n ${sleeper} AND state = 'active'`)).toEqual([{ n: 1 }]), { timeout: 10_000 });
      await fx.sql(`SELECT pg_cancel_backend(pid) ${sleeper}`);
      const err = await sleeping;
      expect(err).toMatchObject({ code: 'store_unavailable' });
      expect((err as Error).message).toBe('PostgreSQL cancelled a statement, the server is up: canceling statement due to user request');
    } finally {
      await pg.release();
      await fx.close();
    }
  }, 60_000);

  // A key's secret is shown once: a creation whose INSERT committed while its answer was lost was reported failed, and
  // its key stayed active (a secret nobody has) next to the retry's; a tenant created without an id made a second
  // tenant the same way, and a rotation left the old secret dead and the new one unknown. Each is now a transaction,
  // read back when its COMMIT's answer is lost: reported failed only when nothing was written.
  it('key and tenant creations and key changes whose answer does not come are written exactly when reported done (a retry makes no second key)', async () => {
    const fx = await sharedFixture();
    const { tenants, state, reset, close } = await tenantsBehindRelay(fx, 300);
    const keys = async () => (await fx.sql(`SELECT id FROM llmrr_api_keys ORDER BY id COLLATE "C"`)).map((r) => r['id']);
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      // The answer to the key's INSERT does not come (a partition at that moment): failed, and no key written.
      state.at = 'INSERT INTO llmrr_api_keys';
      state.atCommit = 'hold';
      expect(await guarded(tenants.createKey('acme', { name: 'k' }))).toBe('store_unavailable');
      expect(await keys()).toEqual([]);
      reset();
      // Its retry makes the one key.
      const first = await tenants.createKey('acme', { name: 'k' });
      expect(await keys()).toEqual([first.key.id]);
      // The answer to a creation's COMMIT does not come: read back, reported created, and its secret works.
      state.atCommit = 'hold';
      const second = await tenants.createKey('acme', { name: 'k2' });
      expect(await keys()).toEqual([first.key.id, second.key.id].sort());
      expect(await fx.stores.tenants.authenticate(second.secret)).toMatchObject({ ok: true });
      reset();
      // A rotation whose UPDATE's answer does not come: failed, and the old secret still works.
      state.at = 'UPDATE llmrr_api_keys';
      state.atCommit = 'hold';
      expect(await guarded(tenants.rotateKey(first.key.id))).toBe('store_unavailable');
      expect(await fx.stores.tenants.authenticate(first.secret)).toMatchObject({ ok: true });
      reset();
      // One whose COMMIT's answer does not come: reported done, with the secret that works.
      state.atCommit = 'hold';
      const rotated = await tenants.rotateKey(first.key.id);
      expect(await fx.stores.tenants.authenticate(rotated.secret)).toMatchObject({ ok: true });
      expect(await fx.stores.tenants.authenticate(first.secret)).toMatchObject({ ok: false });
      reset();
      // A tenant created without an id (the store makes one), likewise.
      state.at = 'INSERT INTO llmrr_tenants';
      state.atCommit = 'hold';
      expect(await guarded(tenants.createTenant({ name: 'Globex' }))).toBe('store_unavailable');
      expect(await fx.sql(`SELECT id FROM llmrr_tenants`)).toEqual([{ id: 'acme' }]);
      reset();
      state.atCommit = 'hold';
      const globex = await tenants.createTenant({ name: 'Globex' });
      expect(await fx.sql(`SELECT id FROM llmrr_tenants ORDER BY created_at, id COLLATE "C"`)).toEqual([{ id: 'acme' }, { id: globex.id }]);
      reset();
      // A revocation and a deletion whose COMMIT's answer does not come: read back, reported done.
      state.atCommit = 'hold';
      expect(await tenants.revokeKey(second.key.id)).toMatchObject({ changed: true, key: { id: second.key.id } });
      reset();
      state.atCommit = 'hold';
      expect(await tenants.deleteTenant(globex.id)).toBe(true);
      expect(await fx.sql(`SELECT id FROM llmrr_tenants`)).toEqual([{ id: 'acme' }]);
    } finally {
      await close();
      await fx.close();
    }
  }, 60_000);

  // 57014 (a statement's bound, statement_timeout) and 55P03 (a lock wait's, lock_timeout) are answers of a server that
  // is up: they were logged as "PostgreSQL is unavailable", and the connection, which had answered, was closed.
  it('a statement PostgreSQL cancels at its bound is store_unavailable saying so (the server is up), not written, and its connection is kept', async () => {
    const fx = await sharedFixture();
    const { relay, pg, tenants, close } = await storesBehindRelay(fx, { poolMax: 1, queryTimeoutMs: 300 });
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      expect(await pg.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      const opened = relay.opened;
      const cancelled = (e: unknown) => {
        expect(e).toMatchObject({ code: 'store_unavailable' });
        expect((e as Error).message).toMatch(/^PostgreSQL cancelled a statement, the server is up: canceling statement due to (statement|lock) timeout \(the statement's bound: 300 ms\)$/);
        expect((e as Error).message).not.toContain('may have been written');
      };
      cancelled(await failureOf(pg.query('SELECT pg_sleep(5)')));
      cancelled(await failureOf(pg.execute('SELECT pg_sleep(5)')));
      // A change waiting for a row another session holds: its lock wait is cancelled (55P03), the transaction rolled back.
      await fx.sql('BEGIN');
      await fx.sql('SELECT 1 FROM llmrr_tenants WHERE id = $1 FOR UPDATE', ['acme']);
      cancelled(await failureOf(tenants.updateTenant('acme', { name: 'Acme 2' })));
      await fx.sql('ROLLBACK');
      expect(await tenants.updateTenant('acme', { name: 'Acme 3' })).toMatchObject({ name: 'Acme 3' });
      // The pool's one connection answered each time, and served them all.
      expect(relay.opened).toBe(opened);
    } finally {
      await fx.sql('ROLLBACK').catch(() => undefined);
      await close();
      await fx.close();
    }
  }, 60_000);

  // The bound is set on each new connection (SET), not as the pool's startup `options`: pg lets a connection string's
  // own `?options=` replace those as a whole (the bound and the schema silently gone). It overrides a role's own
  // statement_timeout and idle_in_transaction_session_timeout (ALTER ROLE ... SET) too, as documented.
  it("the session bounds and schema are set on each connection: a connection string's ?options= keeps them, a role's own bounds are overridden", async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const role = `llmrr_role_${Math.random().toString(36).slice(2, 10)}`;
    await fx.sql(`CREATE ROLE ${role} LOGIN`);
    await fx.sql(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    await fx.sql(`ALTER ROLE ${role} SET statement_timeout = '60s'`);
    await fx.sql(`ALTER ROLE ${role} SET idle_in_transaction_session_timeout = 0`);
    const withOptions = new URL(postgresUrl);
    withOptions.searchParams.set('options', '-c application_name=llmrr-options -c search_path=public');
    const asRole = new URL(postgresUrl);
    asRole.username = role;
    const a = await openPostgres(withOptions.href, { schema, migrate: false, queryTimeoutMs: 2_000 });
    const b = await openPostgres(asRole.href, { schema, migrate: false });
    try {
      const settings = `SELECT current_setting('statement_timeout') AS s, current_setting('idle_in_transaction_session_timeout') AS idle, current_setting('search_path') AS path, current_setting('application_name') AS app`;
      expect(await a.query(settings)).toEqual([{ s: '2s', idle: '4s', path: schema, app: 'llmrr-options' }]);
      expect(await b.query(`SELECT current_setting('statement_timeout') AS s, current_setting('idle_in_transaction_session_timeout') AS idle, current_user AS who`)).toEqual([{ s: '5s', idle: '7s', who: role }]);
    } finally {
      await a.release();
      await b.release();
      await fx.sql(`DROP OWNED BY ${role}`).catch(() => undefined);
      await fx.sql(`DROP ROLE ${role}`).catch(() => undefined);
      await fx.close();
    }
  }, 30_000);

  // pg-pool awaits its `onConnect` hook before it hands a new client out: the SET runs before the first real query, on
  // every connection the pool opens again after one is lost.
  it('a connection opened again after the server ended the first has the schema and bound before its first query', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const pg = await openPostgres(postgresUrl, { schema, poolMax: 1, queryTimeoutMs: 1_234, migrate: false });
    const settings = `SELECT current_setting('search_path') AS path, current_setting('statement_timeout') AS s, pg_backend_pid() AS pid`;
    try {
      const [first] = await pg.query<{ path: string; s: string; pid: number }>(settings);
      expect(first).toMatchObject({ path: schema, s: '1234ms' });
      await fx.sql(`SELECT pg_terminate_backend($1)`, [first!.pid]);
      // The idle client's loss is noticed (pg-pool drops it); the next query gets a new connection.
      await vi.waitFor(async () => {
        const [again] = await pg.query<{ path: string; s: string; pid: number }>(settings);
        expect(again!.pid).not.toBe(first!.pid);
        expect(again).toMatchObject({ path: schema, s: '1234ms' });
      }, { timeout: 10_000 });
    } finally {
      await pg.release();
      await fx.close();
    }
  }, 30_000);

  // Reports scan more rows than the hot path's queries (an invoice over a large ledger): they have a bound of their
  // own (postgresReportTimeoutMs), so postgresQueryTimeoutMs can stay short.
  it('reports (summary, invoice, usage entries, audit list) wait up to reportTimeoutMs, past the queries\' bound; past it, store_unavailable', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const pg = await openPostgres(postgresUrl, { schema, queryTimeoutMs: 300, reportTimeoutMs: 30_000 });
    const short = await openPostgres(postgresUrl, { schema, queryTimeoutMs: 300, reportTimeoutMs: 300 });
    const ledger = new PostgresUsageLedger(pg);
    const audit = new PostgresAuditLog(pg);
    const shortLedger = new PostgresUsageLedger(short);
    try {
      expect(await ledger.record({ requestId: 'r1', tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0.5, latencyMs: 1, status: 'success' })).toEqual({ inserted: true });
      await audit.append({ actor: 'admin', action: 'tenant.delete', target: 'acme' });
      // Another session holds both tables (a long maintenance statement): every read of them waits.
      await fx.sql('BEGIN');
      await fx.sql('LOCK TABLE llmrr_usage, llmrr_audit IN ACCESS EXCLUSIVE MODE');
      const reports = Promise.all([
        ledger.summary({ tenantId: 'acme', groupBy: 'model' }),
        ledger.invoice('acme', 0, Date.now() + 60_000),
        ledger.query({ tenantId: 'acme' }),
        audit.list({ action: 'tenant.delete', target: 'acme', order: 'desc', limit: 1 }),
      ]);
      // A hot-path read and a report of the short-bound pool give up after 300 ms; the reports above are still waiting.
      expect(await guarded(ledger.get('r1'))).toBe('store_unavailable');
      expect(await guarded(shortLedger.invoice('acme', 0, Date.now() + 60_000))).toBe('store_unavailable');
      await fx.sql('ROLLBACK');
      const [summary, invoice, entries, listed] = await reports;
      expect(summary.requests).toBe(1);
      expect(invoice.lines.map((l) => l.model)).toEqual(['m']);
      expect(entries.map((e) => e.requestId)).toEqual(['r1']);
      expect(listed.map((e) => e.target)).toEqual(['acme']);
      // The audit lookup by action and target reads its index (the admin API's lookup of a deleted tenant).
      expect(await fx.sql(`SELECT indexdef FROM pg_indexes WHERE indexname = 'llmrr_audit_action_target' AND schemaname = $1`, [schema])).toEqual([
        { indexdef: `CREATE INDEX llmrr_audit_action_target ON ${schema}.llmrr_audit USING btree (action, target, seq)` },
      ]);
    } finally {
      await fx.sql('ROLLBACK').catch(() => undefined);
      await Promise.all([ledger.close(), audit.close(), shortLedger.close()]);
      await fx.close();
    }
  }, 60_000);

  // A report holds its pool connection up to reportTimeoutMs (60 s), far longer than a hot-path query: at most a
  // quarter of the pool (at least one connection) runs reports at once, the others wait for their turn within their
  // own bound, so slow reports (an admin dashboard asking summaries and invoices) never leave key lookups without a
  // connection (they failed after the pool's 5 s checkout bound). The table lock stands in for a slow scan.
  it('slow reports hold at most a quarter of the pool (at least one connection): the others wait for their turn within their bound, key lookups still get one', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const pg = await openPostgres(postgresUrl, { schema, poolMax: 2, queryTimeoutMs: 1_000, migrate: false });
    const short = await openPostgres(postgresUrl, { schema, poolMax: 2, queryTimeoutMs: 1_000, reportTimeoutMs: 500, migrate: false });
    const ledger = new PostgresUsageLedger(pg);
    const tenants = new PostgresTenantStore(pg);
    const shortLedger = new PostgresUsageLedger(short);
    const shortTenants = new PostgresTenantStore(short);
    const waitingOnLock = async () => (await fx.sql(`SELECT count(*)::int AS n FROM pg_locks WHERE relation = '${schema}.llmrr_usage'::regclass AND NOT granted`))[0]?.['n'];
    let reports: Promise<string[]> | undefined;
    try {
      await fx.sql('BEGIN');
      await fx.sql('LOCK TABLE llmrr_usage IN ACCESS EXCLUSIVE MODE');
      reports = Promise.all([outcome(ledger.summary({})), outcome(ledger.invoice('acme', 0, Date.now())), outcome(ledger.query({}))]);
      await vi.waitFor(async () => expect(await waitingOnLock()).toBe(1), { timeout: 10_000 });
      // A hot-path read (as authenticate's key lookup) gets the pool's other connection; the two other reports wait
      // for their turn, not on the table.
      expect(await guarded(tenants.getTenant('nobody'))).toBe('written');
      expect(await waitingOnLock()).toBe(1);
      // Waiting for a turn counts in a report's bound: past it, store_unavailable, the report holding the place too.
      const shortReports = Promise.all([guarded(shortLedger.summary({})), guarded(shortLedger.invoice('acme', 0, Date.now()))]);
      expect(await guarded(shortTenants.getTenant('nobody'))).toBe('written');
      expect(await shortReports).toEqual(['store_unavailable', 'store_unavailable']);
      await fx.sql('ROLLBACK');
      expect(await reports).toEqual(['written', 'written', 'written']);
      // Their places were given back: a report after them runs.
      expect(await guarded(shortLedger.summary({}))).toBe('written');
    } finally {
      await fx.sql('ROLLBACK').catch(() => undefined);
      await reports;
      await Promise.all([ledger.close(), tenants.close(), shortLedger.close(), shortTenants.close()]);
      await fx.close();
    }
  }, 60_000);

  // A PostgreSQL that stops answering without closing the connection (a partition, a hung server) held every query
  // until TCP gave up: each is bounded (queryTimeoutMs), and the connection that timed out is closed, not given back.
  it('queries to a PostgreSQL that stops answering (a partition) fail with store_unavailable after their bound; the stalled connection is not reused', async () => {
    const fx = await sharedFixture();
    const { relay, tenants, ledger, close } = await storesBehindRelay(fx, { poolMax: 1, queryTimeoutMs: 300, reportTimeoutMs: 300 });
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const { secret } = await fx.stores.tenants.createKey('acme', { name: 'k' });
      expect((await tenants.authenticate(secret)).ok).toBe(true);
      // Its lastUsedAt write (in the background; the key's only one within the minute) is done: the pool's one
      // connection is not busy with it when stalled below.
      await lastUseWritesSettled(tenants);
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
    const stores = await createStateStores({ ...fx.childConfig, postgresQueryTimeoutMs: 300, postgresAuditTimeoutMs: 400, postgresReportTimeoutMs: 700 } as typeof fx.childConfig);
    try {
      await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
      expect((stores.tenants as unknown as { pg: { queryTimeoutMs: number; reportTimeoutMs: number } }).pg).toMatchObject({ queryTimeoutMs: 300, reportTimeoutMs: 700 });
      expect((stores.audit as unknown as { timeoutMs: number }).timeoutMs).toBe(400);
      // Another session holds the tenant's row and the audit chain's lock (a stalled process).
      await fx.sql('BEGIN');
      await fx.sql('SELECT 1 FROM llmrr_tenants WHERE id = $1 FOR UPDATE', ['acme']);
      await fx.sql('SELECT pg_advisory_xact_lock(hashtext($1))', [`llmrr_audit:${schema}`]);
      expect(await guarded(stores.tenants.updateTenant('acme', { name: 'Acme 2' }))).toBe('store_unavailable');
      expect(await guarded(stores.audit.append({ actor: 'admin', action: 'tenant.update', target: 'acme' }))).toBe('store_unavailable');
      await fx.sql('ROLLBACK');
      expect((await stores.tenants.updateTenant('acme', { name: 'Acme 2' })).name).toBe('Acme 2');
      for (const [param, value] of [['postgresQueryTimeoutMs', 0], ['postgresQueryTimeoutMs', 1.5], ['postgresAuditTimeoutMs', -1], ['postgresAuditTimeoutMs', 2 ** 31], ['postgresReportTimeoutMs', 0]] as const) {
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
  it('ledger: a write whose answer does not come fails with store_unavailable after its bound, saying it may have been written; its retry does not write the row twice', async () => {
    const fx = await sharedFixture();
    const { relay, ledger, close } = await storesBehindRelay(fx, { poolMax: 1, queryTimeoutMs: 300 });
    try {
      const entry = { requestId: 'r-held', tenantId: 'acme', model: 'm', inputTokens: 10, outputTokens: 5, costUsd: 0.25, latencyMs: 1, status: 'success' as const };
      expect(await ledger.record({ ...entry, requestId: 'r-before' })).toEqual({ inserted: true });
      relay.hold();
      // The row was written: the failure (logged by the gateway) says it may have been.
      const err = await failureOf(ledger.record(entry));
      expect(err).toMatchObject({ code: 'store_unavailable' });
      expect((err as Error).message).toContain('may have been written');
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
