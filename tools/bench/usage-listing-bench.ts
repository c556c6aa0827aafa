/**
 * What the SQLite ledger's `llmrr_usage(created_at)` index (`llmrr_usage_time`) does for listings and summaries without a tenant:
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source usage-listing-bench.ts [--rows 200000] [--reps 20]
 *
 * Builds an embedded state file (`createStateStores({ mode: 'embedded' })`) holding `--rows` ledger rows (50 tenants,
 * 4 models, 1% errors, spread over 30 days, request ids as the gateway makes them: the time first), then times the
 * ledger's own `query` / `summary` calls (median wall time of `--reps` runs, after a warm-up) with the index dropped
 * (the schema before it: a scan of the table) and with it, on the same file. It also times the index build (what the
 * upgrade of such a file costs, under the write lock) and the file's growth.
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

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let k = 0; k < REPS; k++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
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
      ['query: a model of no row (the worst case)', () => ledger.query({ model: 'model-none', limit: 100 })],
      ['query: tenant, newest 100 (tenant index)', () => ledger.query({ tenantId: 'tenant-3', limit: 100 } as UsageQuery)],
      ['summary: one day (from/to)', () => ledger.summary({ from: mid, to: mid + DAY })],
      ['summary: one hour (from/to)', () => ledger.summary({ from: mid, to: mid + DAY / 24 })],
      ['summary: all rows', () => ledger.summary({})],
      ['summary: all rows by day', () => ledger.summary({ groupBy: 'day' })],
    ];
    const timings = async () => {
      const out: number[] = [];
      for (const [, fn] of cases) out.push(await median(fn));
      return out;
    };
    // Pages in use (a dropped index's pages are free, not returned to the file system).
    const sizeMb = () => ((db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number)) * (db.pragma('page_size', { simple: true }) as number) / 1e6;
    const indexSql = (db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`).pluck().get(INDEX) as string | undefined) ?? '';
    if (!indexSql) throw new Error(`${INDEX} is not in the schema: run this with the build that adds it`);
    const withSize = sizeMb();
    db.exec(`DROP INDEX ${INDEX}`);
    const withoutSize = sizeMb();
    const before = await timings();
    const t0 = performance.now();
    db.exec(indexSql);
    const build = performance.now() - t0;
    const after = await timings();
    console.log(`${ROWS} ledger rows, 50 tenants, 30 days; median of ${REPS} runs (ms); ${indexSql.replace(/\s+/g, ' ')}`);
    console.log(`  ${'case'.padEnd(50)} ${'no index'.padStart(10)} ${'index'.padStart(10)}`);
    cases.forEach(([label], k) => console.log(`  ${label.padEnd(50)} ${before[k]!.toFixed(2).padStart(10)} ${after[k]!.toFixed(2).padStart(10)}`));
    console.log(`  index build (the upgrade, write lock held): ${build.toFixed(0)} ms; pages in use ${withoutSize.toFixed(1)} MB -> ${withSize.toFixed(1)} MB`);
    db.close();
    await stores.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
