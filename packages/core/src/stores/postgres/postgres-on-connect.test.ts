import type { PoolClient } from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { startTcpRelay } from '../../test/tcp-relay.js';
import { sharedFixture, sharedSkipReason } from '../__fixtures__/store-fixtures.js';
import { openPostgres } from './postgres-database.js';
import { PostgresTenantStore } from './postgres-tenant-store.js';

/**
 * The session settings (schema, `statement_timeout`, `idle_in_transaction_session_timeout`) are set in pg-pool's
 * awaited `onConnect` hook (pg 8.20 and later; an older pg, whose pool ignores the hook, is refused at start). pg-pool
 * clears its connection timer once the socket is connected and does not bound the hook, so the hook's SET carries the
 * queries' `query_timeout`: a server that stops answering between the startup and the SET's answer (a partition, a
 * hung server) fails the checkout a second past the bound and the pool drops the connection, instead of holding the
 * checkout - and the pool place - until TCP gives up.
 */
const skip = sharedSkipReason();

const outcome = (p: Promise<unknown>) => p.then(() => 'written', (e: unknown) => (LLMError.isInstance(e) ? e.code : String(e)));
const guarded = (p: Promise<unknown>, ms: number) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([outcome(p), new Promise<string>((r) => (timer = setTimeout(() => r('hung'), ms)))]).finally(() => clearTimeout(timer));
};

describe.skipIf(skip !== undefined)(skip ?? 'PostgreSQL session settings on each new connection (onConnect)', () => {
  it('a server that stops answering the new connection\'s session SET: the query fails within its bound, and the pool place is not held once the network is back', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const url = new URL(postgresUrl);
    // While `stallSets` is on, a connection's answers are held back from the moment it sends the session SET (the
    // SET reaches the server and runs; its answer never comes back).
    const state = { stallSets: false, stalledConnections: 0 };
    const relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) }, {
      onClientData: (connection, data) => {
        if (state.stallSets && data.includes('SET search_path')) {
          relay.hold(connection);
          state.stalledConnections += 1;
        }
      },
    });
    url.host = `127.0.0.1:${relay.port}`;
    const pg = await openPostgres(url.href, { schema, poolMax: 1, queryTimeoutMs: 300, migrate: false });
    try {
      // The pool's one connection is lost while idle (pg-pool drops it); the next query opens a new one.
      const [row] = await pg.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await fx.sql('SELECT pg_terminate_backend($1)', [row!.pid]);
      await vi.waitFor(() => expect(pg.pool.totalCount).toBe(0), { timeout: 10_000 });
      // That new connection's SET gets no answer (a partition right after the startup).
      state.stallSets = true;
      const stalled = await guarded(pg.query('SELECT 1'), 8_000);
      expect(state.stalledConnections).toBe(1);
      // The network is back for new connections: a query gets one (the stalled one was given up on).
      state.stallSets = false;
      const after = await guarded(pg.query('SELECT 1'), 15_000);
      // The stalled query is store_unavailable after 300 + 1000 ms, and the next query runs (without a bound on the
      // hook: 'hung', then 'store_unavailable' after the pool's 5 s checkout bound, its only place held by the hook).
      expect({ stalled, after }).toEqual({ stalled: 'store_unavailable', after: 'written' });
    } finally {
      await relay.close();
      await pg.release().catch(() => undefined);
      await fx.close();
    }
  }, 60_000);

  // A client that stops sending in a transaction (a process paused, or cut off so that its connection's close never
  // reaches the server) held its row locks until TCP gave up (hours): every change of that row failed meanwhile. The
  // server now ends such a session once it has been idle in its transaction past `queryTimeoutMs` + 2 s (the client
  // gives up on its own transactions a second past the bound), and its locks go with it.
  it('a session left idle in a transaction (a stalled client) is ended by the server past queryTimeoutMs + 2 s, and its row lock released', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const pg = await openPostgres(postgresUrl, { schema, poolMax: 2, queryTimeoutMs: 1_000, migrate: false });
    const tenants = new PostgresTenantStore(pg);
    let stalled: PoolClient | undefined;
    try {
      await tenants.createTenant({ id: 'acme', name: 'Acme' });
      expect(await pg.query(`SELECT current_setting('idle_in_transaction_session_timeout') AS s`)).toEqual([{ s: '3s' }]);
      // A pool connection (with the pool's session settings) takes the tenant's row lock in a transaction, then its
      // client sends nothing more.
      stalled = await pg.pool.connect();
      const errors: unknown[] = [];
      stalled.on('error', (e) => errors.push(e));
      const [{ pid }] = (await stalled.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
      await stalled.query('BEGIN');
      await stalled.query(`SELECT 1 FROM llmrr_tenants WHERE id = $1 FOR UPDATE`, ['acme']);
      // While the lock is held, a change of the row waits for it and fails within its own bound (1 s, before the idle
      // session's end at 3 s).
      expect(await guarded(tenants.updateTenant('acme', { name: 'Acme 2' }), 10_000)).toBe('store_unavailable');
      // The server ends the idle session (25P03), which frees the row: the change goes through.
      await vi.waitFor(() => expect(errors).toContainEqual(expect.objectContaining({ code: '25P03' })), { timeout: 15_000, interval: 100 });
      await vi.waitFor(async () => expect(await fx.sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1`, [pid])).toEqual([{ n: 0 }]), { timeout: 10_000 });
      expect(await guarded(tenants.updateTenant('acme', { name: 'Acme 2' }), 10_000)).toBe('written');
      expect(await fx.sql(`SELECT name FROM llmrr_tenants WHERE id = 'acme'`)).toEqual([{ name: 'Acme 2' }]);
    } finally {
      stalled?.release(true);
      await tenants.close();
      await fx.close();
    }
  }, 60_000);
});

/**
 * pg before 8.20 (pg-pool before its `onConnect`) ignores the hook silently: every connection would run without the
 * schema, `statement_timeout` or `idle_in_transaction_session_timeout`. `openPostgres` checks on its first connection
 * that the hook ran, and refuses to start otherwise. A fake module stands in for an old pg (a pool that never calls
 * `onConnect`); no server is needed.
 */
describe('PostgreSQL stores with a pg whose pool ignores onConnect', () => {
  /** A pg module whose Pool hands out connections without calling `onConnect`, and the pools it made. */
  function oldPg(version: string | undefined) {
    const pools: Array<{ ended: boolean; config: Record<string, unknown> }> = [];
    class Pool {
      ended = false;
      readonly options: Record<string, unknown>;
      constructor(readonly config: Record<string, unknown>) {
        this.options = { ...config };
        pools.push(this);
      }
      on() {
        return this;
      }
      async connect() {
        return { on: () => undefined, removeListener: () => undefined, release: () => undefined, query: async () => ({ rows: [{ '?column?': 1 }], rowCount: 1 }) };
      }
      async query() {
        return { rows: [{ '?column?': 1 }], rowCount: 1 };
      }
      async end() {
        this.ended = true;
      }
    }
    class Client {}
    const importer = async (specifier: string) => {
      if (specifier === 'pg') return { default: { Pool, Client } };
      if (specifier === 'pg/package.json' && version !== undefined) return { default: { name: 'pg', version } };
      // pg 8.19 installed with a pg-pool from before its onConnect hook (a pin, a lockfile).
      if (specifier === 'pg-pool/package.json' && version !== undefined) return { default: { name: 'pg-pool', version: '3.12.0' } };
      throw Object.assign(new Error(`Cannot find module '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    return { importer, pools };
  }

  it.each([
    ['8.19.0', 'the installed pg 8.19.0 with pg-pool 3.12.0'],
    [undefined, 'the installed pg (version unknown) with pg-pool (version unknown)'],
  ])('with pg %s: engine_unavailable naming the installed pg and pg-pool versions and the range needed, the pool closed', async (version, named) => {
    const { importer, pools } = oldPg(version);
    for (const migrate of [true, false]) {
      const e = await openPostgres('postgres://llmrr@127.0.0.1:1/app', { migrate, importer }).then(() => undefined, (err: unknown) => err);
      expect(e).toBeInstanceOf(LLMError);
      expect(e).toMatchObject({ code: 'engine_unavailable' });
      expect((e as Error).message).toContain(named);
      expect((e as Error).message).toContain('pg ^8.20.0');
      expect(pools.at(-1)).toMatchObject({ ended: true });
      // The hook was given (the pool ignored it).
      expect(typeof pools.at(-1)!.config['onConnect']).toBe('function');
    }
  });
});
