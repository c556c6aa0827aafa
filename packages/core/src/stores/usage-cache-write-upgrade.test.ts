/**
 * Upgrading a ledger created by the schema before the cache-write columns (SQLite user_version 2,
 * PostgreSQL version 1): the old rows stay and read 0 cache writes, new rows store them, sums include both,
 * and a writer of the previous version (its explicit column list) can still insert.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageLedger } from '../metering/types.js';
import { createStateStores, EMBEDDED_DB_FILE } from './create-state-stores.js';
import { testServiceUrls } from './__fixtures__/store-fixtures.js';
import { openPostgres } from './postgres/postgres-database.js';
import { POSTGRES_MIGRATIONS } from './postgres/postgres-schema.js';
import { PostgresUsageLedger } from './postgres/postgres-usage-ledger.js';
import { SQLITE_MIGRATIONS } from './sqlite/sqlite-schema.js';

const T0 = Date.UTC(2026, 10, 1);
const SQLITE_BEFORE = 2;
const POSTGRES_BEFORE = 1;

/** The INSERT of the previous version's ledger (no cache-write columns), with `?` or `$n` placeholders. */
function oldInsert(ph: (i: number) => string): string {
  const cols = ['request_id', 'tenant_id', 'key_id', 'model', 'deployment', 'provider', 'endpoint', 'input_tokens', 'output_tokens', 'cached_input_tokens', 'cost_nano', 'latency_ms', 'ttft_ms', 'status', 'error_code', 'cache_hit', 'stream', 'created_at'];
  return `INSERT INTO llmrr_usage (${cols.join(', ')}) VALUES (${cols.map((_, i) => ph(i + 1)).join(', ')})`;
}
const oldRow = (id: string, bool: (b: boolean) => unknown) => [id, 'acme', null, 'claude', 'c', 'anthropic', '/v1/messages', 1000, 10, 200, 5_000_000, 12, null, 'success', null, bool(false), bool(false), T0];

/** What both stores must show after the upgrade: old rows read 0 writes; new ones count. */
async function expectUpgraded(ledger: UsageLedger, oldIds: string[]): Promise<void> {
  for (const id of oldIds) {
    expect(await ledger.get(id)).toMatchObject({ inputTokens: 1000, cachedInputTokens: 200, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0, costUsd: 0.005 });
  }
  expect(await ledger.record({ requestId: 'new-1', tenantId: 'acme', model: 'claude', inputTokens: 3000, outputTokens: 10, cacheWriteInputTokens: 2500, cacheWrite1hInputTokens: 500, costUsd: 0.01, latencyMs: 5, status: 'success', createdAt: T0 + 1 })).toEqual({ inserted: true });
  expect(await ledger.get('new-1')).toMatchObject({ cacheWriteInputTokens: 2500, cacheWrite1hInputTokens: 500 });
  const n = oldIds.length;
  expect(await ledger.summary({ tenantId: 'acme' })).toMatchObject({ requests: n + 1, inputTokens: 1000 * n + 3000, cachedInputTokens: 200 * n, cacheWriteInputTokens: 2500, cacheWrite1hInputTokens: 500 });
  const inv = await ledger.invoice('acme', T0, T0 + 1000);
  expect(inv.lines).toEqual([{ model: 'claude', requests: n + 1, inputTokens: 1000 * n + 3000, outputTokens: 10 * (n + 1), cachedInputTokens: 200 * n, cacheWriteInputTokens: 2500, cacheWrite1hInputTokens: 500, costUsd: 0.005 * n + 0.01, costNanoUsd: 5_000_000 * n + 10_000_000 }]);
}

describe('ledger upgrade to the cache-write columns', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('SQLite: a database of the previous schema upgrades in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-upgrade-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const { default: Database } = await import('better-sqlite3');
    const file = join(dir, EMBEDDED_DB_FILE);
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    for (const step of SQLITE_MIGRATIONS.slice(0, SQLITE_BEFORE)) old.exec(step);
    old.pragma(`user_version = ${SQLITE_BEFORE}`);
    old.prepare(oldInsert(() => '?')).run(...oldRow('old-1', (b) => (b ? 1 : 0)));
    old.close();

    const stores = await createStateStores({ mode: 'embedded', dataDir: dir });
    cleanups.push(() => stores.close());
    await expectUpgraded(stores.ledger, ['old-1']);

    const raw = new Database(file);
    cleanups.push(async () => void raw.close());
    raw.pragma('busy_timeout = 5000');
    expect(raw.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.length);
    const cols = raw.prepare(`SELECT name, "notnull", dflt_value FROM pragma_table_info('llmrr_usage') WHERE name LIKE 'cache_write%' ORDER BY cid`).all();
    expect(cols).toEqual([
      { name: 'cache_write_input_tokens', notnull: 1, dflt_value: '0' },
      { name: 'cache_write_1h_input_tokens', notnull: 1, dflt_value: '0' },
    ]);
    // A writer of the previous version (a gateway not yet upgraded on the same file) still inserts.
    raw.prepare(oldInsert(() => '?')).run(...oldRow('old-2', (b) => (b ? 1 : 0)));
    expect(await stores.ledger.get('old-2')).toMatchObject({ cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 });
  });

  const { postgresUrl } = testServiceUrls();
  it.skipIf(!postgresUrl)('PostgreSQL: a schema of the previous version upgrades in place', async () => {
    const schema = `t_up_${randomBytes(5).toString('hex')}`;
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    cleanups.push(async () => {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await client.end();
    });
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`SET search_path TO ${schema}`);
    for (const step of POSTGRES_MIGRATIONS.slice(0, POSTGRES_BEFORE)) await client.query(step);
    await client.query(`CREATE TABLE llmrr_schema_version (version INTEGER NOT NULL)`);
    await client.query(`INSERT INTO llmrr_schema_version (version) VALUES ($1)`, [POSTGRES_BEFORE]);
    await client.query(oldInsert((i) => `$${i}`), oldRow('old-1', (b) => b));

    const handle = await openPostgres(postgresUrl!, { schema });
    const ledger = new PostgresUsageLedger(handle);
    cleanups.push(() => ledger.close());
    await expectUpgraded(ledger, ['old-1']);

    expect((await client.query(`SELECT version FROM llmrr_schema_version`)).rows).toEqual([{ version: POSTGRES_MIGRATIONS.length }]);
    const cols = await client.query(
      `SELECT column_name, is_nullable, column_default, data_type FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = 'llmrr_usage' AND column_name LIKE 'cache_write%' ORDER BY ordinal_position`,
      [schema],
    );
    expect(cols.rows).toEqual([
      { column_name: 'cache_write_input_tokens', is_nullable: 'NO', column_default: '0', data_type: 'bigint' },
      { column_name: 'cache_write_1h_input_tokens', is_nullable: 'NO', column_default: '0', data_type: 'bigint' },
    ]);
    await client.query(oldInsert((i) => `$${i}`), oldRow('old-2', (b) => b));
    expect(await ledger.get('old-2')).toMatchObject({ cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 });
    // A second open (another gateway starting) finds the schema current and changes nothing.
    const again = await openPostgres(postgresUrl!, { schema });
    await again.release();
    expect((await client.query(`SELECT version FROM llmrr_schema_version`)).rows).toEqual([{ version: POSTGRES_MIGRATIONS.length }]);
  });
});
