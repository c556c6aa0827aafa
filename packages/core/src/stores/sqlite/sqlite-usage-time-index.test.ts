import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite, type SqliteHandle } from './sqlite-database.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';
import { SqliteUsageLedger } from './sqlite-usage-ledger.js';

// A usage listing or summary without a tenant (the admin API's /admin/usage/entries and /admin/usage with no tenant)
// reads llmrr_usage_time, on (created_at, status, model, key_id), instead of scanning and sorting the whole ledger
// (tools/bench/usage-listing-bench.ts: 200k rows, the newest 100 in 360-920 ms -> 0.6-0.8 ms), and tests a status,
// model or key filter on its entries. The plans asserted are those of the ledger's own statements.

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 9, 1);

/** Fills `db`'s ledger with `n` rows an hour apart over 10 tenants (two rows of each hour share its millisecond). */
function fill(db: Database.Database, n: number): void {
  const insert = db.prepare(`INSERT INTO llmrr_usage (request_id, tenant_id, model, input_tokens, output_tokens, cached_input_tokens,
    cost_nano, latency_ms, status, cache_hit, stream, created_at) VALUES (?, ?, 'm', 1, 1, 0, 1000, 5, ?, 0, 0, ?)`);
  db.transaction(() => {
    for (let k = 0; k < n; k++) insert.run(`req_${String(k).padStart(7, '0')}`, `t${k % 10}`, k % 50 === 3 ? 'error' : 'success', T0 + Math.floor(k / 2) * HOUR);
  })();
}

/** The llmrr_usage statements `run` makes the ledger prepare and run, with their parameters. */
async function statementsOf(handle: SqliteHandle, run: (ledger: SqliteUsageLedger) => Promise<unknown>): Promise<Array<{ sql: string; params: unknown[] }>> {
  const db = handle.db;
  const prepare = db.prepare.bind(db);
  const seen: Array<{ sql: string; params: unknown[] }> = [];
  db.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    if (!/^SELECT .* FROM llmrr_usage/s.test(sql)) return stmt;
    return new Proxy(stmt, {
      get(target, key) {
        const v = Reflect.get(target, key) as unknown;
        if (key !== 'all' && key !== 'get') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        return (...params: unknown[]) => {
          seen.push({ sql, params });
          return (v as (...a: unknown[]) => unknown).apply(target, params);
        };
      },
    });
  }) as typeof db.prepare;
  const ledger = new SqliteUsageLedger(handle);
  try {
    await run(ledger);
  } finally {
    db.prepare = prepare;
    await ledger.close();
  }
  return seen;
}

/** The query plans (EXPLAIN QUERY PLAN details) of the llmrr_usage statements `run` makes the ledger prepare and run. */
async function plansOf(handle: SqliteHandle, run: (ledger: SqliteUsageLedger) => Promise<unknown>): Promise<string[][]> {
  const seen = await statementsOf(handle, run);
  return seen.map(({ sql, params }) => (handle.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail));
}

interface Op {
  opcode: string;
  p1: number;
  p2: number;
}

/**
 * Where the statement's program (EXPLAIN) reads `column` to test it: from llmrr_usage_time's entry (`index`), before
 * any of the row's columns are read (so an entry the filter drops costs no row lookup), or from the row (`row`).
 */
function filterReadFrom(db: Database.Database, sql: string, params: unknown[], column: string): 'index' | 'row' | 'none' {
  const root = (name: string) => db.prepare(`SELECT rootpage FROM sqlite_master WHERE name = ?`).pluck().get(name) as number;
  const ops = db.prepare(`EXPLAIN ${sql}`).all(...params) as Op[];
  const cursorOf = (name: string) => ops.find((o) => o.opcode === 'OpenRead' && o.p2 === root(name))?.p1;
  const index = cursorOf('llmrr_usage_time'), table = cursorOf('llmrr_usage');
  const inIndex = (db.pragma(`index_info(llmrr_usage_time)`) as Array<{ seqno: number; name: string }>).find((c) => c.name === column)?.seqno;
  const inTable = (db.pragma(`table_info(llmrr_usage)`) as Array<{ cid: number; name: string }>).find((c) => c.name === column)!.cid;
  const fromIndex = ops.findIndex((o) => o.opcode === 'Column' && o.p1 === index && o.p2 === inIndex);
  const firstRowRead = ops.findIndex((o) => o.opcode === 'Column' && o.p1 === table);
  if (index !== undefined && inIndex !== undefined && fromIndex >= 0 && (firstRowRead < 0 || fromIndex < firstRowRead)) return 'index';
  return ops.some((o) => o.opcode === 'Column' && o.p1 === table && o.p2 === inTable) ? 'row' : 'none';
}

describe('SQLite usage ledger: listings without a tenant read the time index (created_at, status, model, key_id)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('newest first, a page after a cursor, a from/to range and a time-bounded summary: no scan of the table, no full sort; a tenant listing keeps its own index', async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmrr-usage-time-'));
    const handle = (await openSqlite(join(dir, 'state.db'))).retain();
    try {
      fill(handle.db, 400);
      // Newest first, ties of one millisecond in request id order (descending), as before the index.
      const newest = await plansOf(handle, async (ledger) => {
        expect((await ledger.query({ limit: 3 })).map((e) => e.requestId)).toEqual(['req_0000399', 'req_0000398', 'req_0000397']);
      });
      expect(newest).toEqual([['SCAN llmrr_usage USING INDEX llmrr_usage_time', 'USE TEMP B-TREE FOR LAST TERM OF ORDER BY']]);
      const cursor = await plansOf(handle, async (ledger) => {
        expect((await ledger.query({ limit: 2, beforeId: 'req_0000201' })).map((e) => e.requestId)).toEqual(['req_0000200', 'req_0000199']);
      });
      // The lookup of the cursor's row (by its primary key), then the page, bounded by the index.
      expect(cursor).toEqual([
        ['SEARCH llmrr_usage USING INDEX sqlite_autoindex_llmrr_usage_1 (request_id=?)'],
        ['SEARCH llmrr_usage USING INDEX llmrr_usage_time (created_at<?)', 'USE TEMP B-TREE FOR LAST TERM OF ORDER BY'],
      ]);
      const range = await plansOf(handle, async (ledger) => {
        expect(await ledger.query({ from: T0 + 10 * HOUR, to: T0 + 12 * HOUR })).toHaveLength(4);
        expect((await ledger.summary({ from: T0 + 10 * HOUR, to: T0 + 12 * HOUR })).requests).toBe(4);
        expect((await ledger.query({ status: 'error', limit: 1 })).map((e) => e.requestId)).toEqual(['req_0000353']);
      });
      expect(range).toEqual([
        ['SEARCH llmrr_usage USING INDEX llmrr_usage_time (created_at>? AND created_at<?)', 'USE TEMP B-TREE FOR LAST TERM OF ORDER BY'],
        ['SEARCH llmrr_usage USING INDEX llmrr_usage_time (created_at>? AND created_at<?)'],
        ['SCAN llmrr_usage USING INDEX llmrr_usage_time', 'USE TEMP B-TREE FOR LAST TERM OF ORDER BY'],
      ]);
      const tenant = await plansOf(handle, (ledger) => ledger.query({ tenantId: 't3', limit: 3 }));
      expect(tenant).toEqual([['SEARCH llmrr_usage USING INDEX llmrr_usage_tenant_time (tenant_id=?)', 'USE TEMP B-TREE FOR LAST TERM OF ORDER BY']]);
    } finally {
      handle.release();
    }
  });

  it('a listing filtered by status, model or key (no tenant, no range) tests the filter on the index entry before reading the row', async () => {
    // On created_at alone each index entry cost a row lookup to test the filter: a filter matching no row read the
    // whole table in time order, 2-4.5 times the scan the index replaced (usage-listing-bench.ts).
    dir = mkdtempSync(join(tmpdir(), 'llmrr-usage-time-filter-'));
    const handle = (await openSqlite(join(dir, 'state.db'))).retain();
    try {
      fill(handle.db, 400);
      const seen = await statementsOf(handle, async (ledger) => {
        expect((await ledger.query({ status: 'error', limit: 2 })).map((e) => e.requestId)).toEqual(['req_0000353', 'req_0000303']);
        expect(await ledger.query({ status: 'aborted', limit: 2 })).toEqual([]);
        expect(await ledger.query({ model: 'none', limit: 2 })).toEqual([]);
        expect(await ledger.query({ keyId: 'none', limit: 2 })).toEqual([]);
      });
      expect(seen.map(({ sql, params }, k) => filterReadFrom(handle.db, sql, params, ['status', 'status', 'model', 'key_id'][k]!))).toEqual(['index', 'index', 'index', 'index']);
      expect(seen.map(({ sql, params }) => (handle.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>)[0]!.detail)).toEqual(
        Array.from({ length: 4 }, () => 'SCAN llmrr_usage USING INDEX llmrr_usage_time'),
      );
    } finally {
      handle.release();
    }
  });

  it('after ANALYZE too: a listing without a tenant, and a summary with a from/to, read the time index (not a skip-scan of the tenant index and a sort of the range)', async () => {
    // Nothing in the product runs ANALYZE, but an operator may: with its statistics (STAT4 samples) the planner took a
    // skip-scan of llmrr_usage_tenant_time for a day's listing, sorting the whole day (about 10-17 ms at 100k rows
    // against 0.7-1.5 ms), so these statements name the time index (INDEXED BY), the plans they had without statistics.
    dir = mkdtempSync(join(tmpdir(), 'llmrr-usage-time-analyze-'));
    const handle = (await openSqlite(join(dir, 'state.db'))).retain();
    try {
      const DAY = 24 * HOUR, n = 100_000;
      const insert = handle.db.prepare(`INSERT INTO llmrr_usage (request_id, tenant_id, key_id, model, input_tokens, output_tokens, cached_input_tokens,
        cost_nano, latency_ms, status, cache_hit, stream, created_at) VALUES (?, ?, ?, ?, 1, 1, 0, 1000, 5, ?, 0, 0, ?)`);
      // 50 tenants, 200 keys, 4 models, 1% errors, over 30 days (tools/bench/usage-listing-bench.ts).
      handle.db.transaction(() => {
        for (let k = 0; k < n; k++) {
          const t = T0 + Math.floor((k * 30 * DAY) / n);
          insert.run(`req_${t.toString(16)}${k}`, `tenant-${k % 50}`, `key-${k % 200}`, `model-${k % 4}`, k % 100 === 7 ? 'error' : 'success', t);
        }
      })();
      handle.db.exec('ANALYZE');
      const mid = T0 + 15 * DAY;
      const inDay = handle.db.prepare(`SELECT count(*) FROM llmrr_usage WHERE created_at >= ? AND created_at < ?`).pluck().get(mid, mid + DAY);
      const cursor = handle.db.prepare(`SELECT request_id FROM llmrr_usage WHERE created_at >= ? ORDER BY created_at LIMIT 1`).pluck().get(mid) as string;
      const plans = await plansOf(handle, async (ledger) => {
        expect(await ledger.query({ from: mid, to: mid + DAY, limit: 100 })).toHaveLength(100);
        expect((await ledger.summary({ from: mid, to: mid + DAY })).requests).toBe(inDay);
        expect(await ledger.query({ status: 'error', limit: 5 })).toHaveLength(5);
        expect(await ledger.query({ limit: 5, beforeId: cursor })).toHaveLength(5);
        expect((await ledger.summary({ status: 'error' })).requests).toBe(n / 100);
        expect(await ledger.query({ tenantId: 'tenant-3', from: mid, to: mid + DAY, limit: 5 })).toHaveLength(5);
      });
      expect(plans).toEqual([
        ['SEARCH llmrr_usage USING INDEX llmrr_usage_time (created_at>? AND created_at<?)', 'USE TEMP B-TREE FOR LAST TERM OF ORDER BY'],
        ['SEARCH llmrr_usage USING INDEX llmrr_usage_time (created_at>? AND created_at<?)'],
        ['SCAN llmrr_usage USING INDEX llmrr_usage_time', 'USE TEMP B-TREE FOR LAST TERM OF ORDER BY'],
        ['SEARCH llmrr_usage USING INDEX sqlite_autoindex_llmrr_usage_1 (request_id=?)'],
        ['SEARCH llmrr_usage USING INDEX llmrr_usage_time (created_at<?)', 'USE TEMP B-TREE FOR LAST TERM OF ORDER BY'],
        // A summary of every row's time reads the table once (the time index would add a row lookup per entry).
        ['SCAN llmrr_usage'],
        ['SEARCH llmrr_usage USING INDEX llmrr_usage_tenant_time (tenant_id=? AND created_at>? AND created_at<?)', 'USE TEMP B-TREE FOR LAST TERM OF ORDER BY'],
      ]);
    } finally {
      handle.release();
    }
  });

  // The statements name the index only where the file has it as step 8 makes it: a file whose index was dropped, or
  // replaced by a later version (not migrated back), or one not led by created_at or partial, is read without it
  // (before: every listing without a tenant failed, "no such index" / "no query solution").
  it.each([
    ['dropped', 'DROP INDEX llmrr_usage_time'],
    ['partial', "DROP INDEX llmrr_usage_time; CREATE INDEX llmrr_usage_time ON llmrr_usage(created_at) WHERE status = 'error'"],
    ['led by another column', 'DROP INDEX llmrr_usage_time; CREATE INDEX llmrr_usage_time ON llmrr_usage(model, created_at)'],
  ])('a file whose time index is %s (a later version\'s, not migrated here): listings without a tenant still answer', async (_, change) => {
    dir = mkdtempSync(join(tmpdir(), 'llmrr-usage-time-gone-'));
    const file = join(dir, 'state.db');
    const setup = (await openSqlite(file)).retain();
    fill(setup.db, 40);
    setup.db.exec(change);
    setup.db.pragma('user_version = 99');
    setup.release();
    const handle = (await openSqlite(file)).retain();
    const ledger = new SqliteUsageLedger(handle);
    try {
      expect((await ledger.query({ limit: 5 })).map((e) => e.requestId)).toEqual(['req_0000039', 'req_0000038', 'req_0000037', 'req_0000036', 'req_0000035']);
      expect((await ledger.summary({ from: T0, to: T0 + 100 * HOUR })).requests).toBe(40);
    } finally {
      await ledger.close();
      handle.release();
    }
  });

  it('a file of the previous schema version, opened by 6 processes at once, is upgraded: each gets the index and the same listing, every row kept', { timeout: 120_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmrr-usage-time-upgrade-'));
    const path = join(dir, 'state.db');
    // The file the previous build made: its schema steps (steps are only ever appended) and its version.
    const previous = SQLITE_MIGRATIONS.findIndex((step) => /CREATE INDEX IF NOT EXISTS llmrr_usage_time\b/.test(step));
    expect(previous).toBeGreaterThan(0);
    const setup = new Database(path);
    setup.pragma('journal_mode = WAL');
    for (const step of SQLITE_MIGRATIONS.slice(0, previous)) setup.exec(step);
    setup.pragma(`user_version = ${previous}`);
    fill(setup, 100_000);
    setup.close();

    const children = Array.from({ length: 6 }, () => openAndList(path));
    // All loaded (tsx's start-up is slow), then all told to open the file at once.
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const results = await Promise.all(children.map((c) => c.done));
    const newest = ['req_0099999', 'req_0099998', 'req_0099997', 'req_0099996', 'req_0099995'];
    expect(results).toEqual(Array.from({ length: 6 }, () => ({ version: SQLITE_MIGRATIONS.length, ids: newest, plan: ['SCAN llmrr_usage USING INDEX llmrr_usage_time', 'USE TEMP B-TREE FOR LAST TERM OF ORDER BY'] })));

    const after = new Database(path, { readonly: true });
    try {
      expect(after.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'llmrr_usage' ORDER BY name`).pluck().all()).toEqual([
        'llmrr_usage_tenant_time',
        'llmrr_usage_time',
        'sqlite_autoindex_llmrr_usage_1',
      ]);
      expect(after.prepare(`SELECT count(*) FROM llmrr_usage INDEXED BY llmrr_usage_time WHERE created_at >= 0`).pluck().get()).toBe(100_000);
      expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      after.close();
    }
  });
});

const here = dirname(fileURLToPath(import.meta.url));
const tsxLoader = createRequire(import.meta.url).resolve('tsx');

/** A process running __fixtures__/open-and-list.ts on `path`: `ready` once loaded, `go()` to open, `done` its printed result. */
function openAndList(path: string): { ready: Promise<void>; go: () => void; done: Promise<unknown> } {
  const child = spawn(process.execPath, ['--conditions=@llmrr/source', '--import', pathToFileURL(tsxLoader).href, join(here, '__fixtures__', 'open-and-list.ts'), path], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let out = '';
  let err = '';
  let readied: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (readied = resolve));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) readied();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
  const done = new Promise<unknown>((resolve, reject) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      readied();
      if (code === 0) resolve(JSON.parse(out.slice('ready\n'.length)) as unknown);
      else reject(new Error(`open-and-list exited ${code}: ${err || out}`));
    }),
  );
  return { ready, go: () => child.stdin.end('go\n'), done };
}
