/**
 * What the SQLite ledger's `llmrr_usage_time` index (schema step 8) does for listings and summaries without a tenant:
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source usage-listing-bench.ts [--rows 200000] [--reps 20]
 *
 * Builds an embedded state file (`createStateStores({ mode: 'embedded' })`) holding `--rows` ledger rows (50 tenants,
 * 4 models, 200 keys, 1% errors, no aborted row, spread over 30 days, request ids as the gateway makes them: the time
 * first), then times the ledger's own `query` / `summary` calls (median wall time of `--reps` runs, after a warm-up) on
 * the same file with no such index (the schema before step 8: a scan of the table), with an index on `created_at`
 * alone (step 8 as first written) and with the schema's index. For each it also times the index build (what the upgrade
 * of such a file costs, under the write lock), the pages it takes, and what it adds to an insert: 20,000 rows in one
 * transaction (rolled back) and 2,000 `ledger.record` calls (a commit each, deleted after), medians of 5 runs of
 * the process's CPU time (the insert's own work; wall time on a loaded machine moves more than the index adds).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_DB_FILE, createStateStores, type UsageLedger, type UsageQuery } from '@llmrr/core';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isInteger(v) && v > 0 ? v : dflt;
};
const ROWS = flag('--rows', 200_000);
const REPS = flag('--reps', 20);
const INDEX = 'llmrr_usage_time';
const DAY = 86_400_000;

/** This process's CPU time (user and system), ms: an insert's own work, less moved by other jobs than wall time. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Median wall time of `reps` runs of `fn` after one (or the time `fn` itself returns, when it returns a number). */
async function median(fn: () => Promise<unknown>, reps = REPS): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    const own = await fn();
    times.push(typeof own === 'number' ? own : performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'llmrr-usage-listing-bench-'));
  try {
    const stores = await createStateStores({ mode: 'embedded', dataDir: dir });
    const file = join(dir, EMBEDDED_DB_FILE);
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    const start = Date.UTC(2026, 9, 1);
    const step = (30 * DAY) / ROWS;
    const insert = db.prepare(`INSERT INTO llmrr_usage (request_id, tenant_id, key_id, model, deployment, provider, endpoint,
      input_tokens, output_tokens, cached_input_tokens, cost_nano, latency_ms, ttft_ms, status, error_code, cache_hit, stream, created_at)
      VALUES (?, ?, ?, ?, ?, 'openai-compatible', '/v1/chat/completions', ?, ?, 0, ?, ?, NULL, ?, ?, 0, 0, ?)`);
    const fill = db.transaction(() => {
      for (let k = 0; k < ROWS; k++) {
        const t = Math.floor(start + k * step);
        const id = `req_${t.toString(16).padStart(12, '0')}${(k * 2654435761 >>> 0).toString(16).padStart(8, '0')}${k.toString(16).padStart(12, '0')}`;
        const model = `model-${k % 4}`;
        const error = k % 100 === 7;
        insert.run(id, `tenant-${k % 50}`, `key-${k % 200}`, model, model, 100 + (k % 900), 50 + (k % 400), 1000 + k, 20 + (k % 300), error ? 'error' : 'success', error ? 'upstream_error' : null, t);
      }
    });
    fill();
    const ledger: UsageLedger = stores.ledger;
    const mid = start + 15 * DAY;
    const [middle] = await ledger.query({ before: { createdAt: mid, requestId: 'req_' }, limit: 1 });
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['query: newest 100 (no filter)', () => ledger.query({ limit: 100 })],
      ['query: page after a cursor half-way (beforeId)', () => ledger.query({ limit: 100, beforeId: middle!.requestId })],
      ['query: offset 10,000', () => ledger.query({ limit: 100, offset: 10_000 })],
      ['query: one day (from/to), newest 100', () => ledger.query({ from: mid, to: mid + DAY, limit: 100 })],
      ['query: model, newest 100', () => ledger.query({ model: 'model-1', limit: 100 })],
      ['query: status error (1%), newest 100', () => ledger.query({ status: 'error', limit: 100 })],
      ['query: a model of no row', () => ledger.query({ model: 'model-none', limit: 100 })],
      ['query: a key of no row', () => ledger.query({ keyId: 'key-none', limit: 100 })],
      ['query: status aborted (no row)', () => ledger.query({ status: 'aborted', limit: 100 })],
      ['query: one key (0.5%), newest 100', () => ledger.query({ keyId: 'key-7', limit: 100 })],
      ['query: tenant, newest 100 (tenant index)', () => ledger.query({ tenantId: 'tenant-3', limit: 100 } as UsageQuery)],
      ['summary: one day (from/to)', () => ledger.summary({ from: mid, to: mid + DAY })],
      ['summary: one hour (from/to)', () => ledger.summary({ from: mid, to: mid + DAY / 24 })],
      ['summary: all rows', () => ledger.summary({})],
      ['summary: all rows by day', () => ledger.summary({ groupBy: 'day' })],
    ];
    // Pages in use (a dropped index's pages are free, not returned to the file system).
    const sizeMb = () => ((db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number)) * (db.pragma('page_size', { simple: true }) as number) / 1e6;
    const indexSql = (db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`).pluck().get(INDEX) as string | undefined) ?? '';
    if (!indexSql) throw new Error(`${INDEX} is not in the schema: run this with the build that adds it`);
    // No "no index" variant: the ledger names `llmrr_usage_time` in its statements without a tenant (`INDEXED BY`, so
    // that ANALYZE cannot turn them to a skip-scan of the tenant index), which fail without it. The numbers without the
    // index (a scan and a sort) are in docs/core/tenancy.md, measured by this script before that change.
    const variants: Array<[string, string | undefined]> = [
      ['created_at', `CREATE INDEX ${INDEX} ON llmrr_usage(created_at)`],
      ['schema', indexSql],
    ];
    // `n` rows after those written so far, in time order (as a gateway appends them).
    let next = ROWS;
    const later = (n: number) => Array.from({ length: n }, () => {
      const k = next++;
      const t = Math.floor(start + k * step);
      return { k, t, id: `req_${t.toString(16).padStart(12, '0')}${k.toString(16).padStart(20, '0')}` };
    });
    const end = Math.floor(start + ROWS * step);
    const bulk = db.transaction((rows: Array<{ k: number; t: number; id: string }>) => {
      for (const { k, t, id } of rows) insert.run(id, `tenant-${k % 50}`, `key-${k % 200}`, 'model-1', 'model-1', 100, 50, 1000, 20, 'success', null, t);
    });
    const results: Array<{ label: string; times: number[]; build: number; size: number; bulk: number; record: number }> = [];
    db.exec(`DROP INDEX ${INDEX}`);
    for (const [label, sql] of variants) {
      const t0 = performance.now();
      if (sql) db.exec(sql);
      const build = performance.now() - t0;
      const size = sizeMb();
      const times: number[] = [];
      for (const [, fn] of cases) times.push(await median(fn));
      // 20,000 rows in one transaction, rolled back (no commit: the table's and the indexes' work alone).
      const bulkMs = await median(async () => {
        const rows = later(20_000);
        db.exec('BEGIN');
        const b0 = cpuMs();
        bulk(rows);
        const ms = cpuMs() - b0;
        db.exec('ROLLBACK');
        return ms;
      }, 5);
      // 2,000 calls as the gateway records them (a commit each), then deleted.
      const recordMs = await median(async () => {
        const r0 = cpuMs();
        for (const { k, t, id } of later(2_000)) {
          await ledger.record({ requestId: id, tenantId: `tenant-${k % 50}`, keyId: `key-${k % 200}`, model: 'model-1', inputTokens: 100, outputTokens: 50, costUsd: 0.000001, latencyMs: 20, status: 'success', createdAt: t });
        }
        const ms = cpuMs() - r0;
        db.prepare('DELETE FROM llmrr_usage WHERE created_at >= ?').run(end);
        return ms;
      }, 5);
      results.push({ label, times, build, size, bulk: bulkMs, record: recordMs });
      if (sql) db.exec(`DROP INDEX ${INDEX}`);
    }
    db.exec(indexSql);
    console.log(`${ROWS} ledger rows, 50 tenants, 30 days; median of ${REPS} runs (ms); schema: ${indexSql.replace(/\s+/g, ' ')}`);
    console.log(`  ${'case'.padEnd(50)} ${results.map((r) => r.label.padStart(11)).join(' ')}`);
    cases.forEach(([label], k) => console.log(`  ${label.padEnd(50)} ${results.map((r) => r.times[k]!.toFixed(2).padStart(11)).join(' ')}`));
    const row = (label: string, f: (r: (typeof results)[number]) => string) => console.log(`  ${label.padEnd(50)} ${results.map((r) => f(r).padStart(11)).join(' ')}`);
    row('index build, ms (the upgrade, write lock held)', (r) => (r.label === 'no index' ? '-' : r.build.toFixed(0)));
    row('pages in use, MB', (r) => r.size.toFixed(1));
    row('insert 20,000 rows in one transaction, CPU ms', (r) => r.bulk.toFixed(0));
    row('2,000 ledger.record calls (a commit each), CPU ms', (r) => r.record.toFixed(0));
    db.close();
    await stores.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
