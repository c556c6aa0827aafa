/** Test fixtures: real stores (SQLite file, or Redis + PostgreSQL) plus raw SQL access for tamper tests. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createStateStores, EMBEDDED_DB_FILE } from '../create-state-stores.js';
import type { StateStores, StateStoresConfig } from '../types.js';

export type Row = Record<string, unknown>;

export interface StoreFixture {
  name: string;
  stores: StateStores;
  /** Runs SQL directly against the backing database (SQLite `?` / PostgreSQL `$1` placeholders). */
  sql(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Config a child process passes to createStateStores to share this fixture's state. */
  childConfig: StateStoresConfig;
  close(): Promise<void>;
}

export type FixtureFactory = () => Promise<StoreFixture>;

/** URLs from the vitest global setup (tools/services), or from the environment. */
export function testServiceUrls(): { redisUrl?: string; postgresUrl?: string } {
  const read = (name: 'LLMRR_TEST_REDIS_URL' | 'LLMRR_TEST_POSTGRES_URL') => {
    const fromEnv = process.env[name];
    if (fromEnv) return fromEnv;
    try {
      return (inject as (key: string) => unknown)(name) as string | undefined;
    } catch {
      return undefined;
    }
  };
  return { redisUrl: read('LLMRR_TEST_REDIS_URL') || undefined, postgresUrl: read('LLMRR_TEST_POSTGRES_URL') || undefined };
}

export function sharedSkipReason(): string | undefined {
  const { redisUrl, postgresUrl } = testServiceUrls();
  if (redisUrl && postgresUrl) return undefined;
  const missing = [!redisUrl && 'Redis (LLMRR_TEST_REDIS_URL)', !postgresUrl && 'PostgreSQL (LLMRR_TEST_POSTGRES_URL)'].filter(Boolean).join(' and ');
  return `shared-mode tests skipped: ${missing} not available (install redis-server and postgresql, see tools/services)`;
}

export const sqliteFixture: FixtureFactory = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmrr-sqlite-'));
  const childConfig: StateStoresConfig = { mode: 'embedded', dataDir: dir };
  const stores = await createStateStores(childConfig);
  const { default: Database } = await import('better-sqlite3');
  const raw = new Database(join(dir, EMBEDDED_DB_FILE));
  raw.pragma('busy_timeout = 5000');
  return {
    name: 'sqlite',
    stores,
    childConfig,
    async sql(sql, params = []) {
      const stmt = raw.prepare(sql);
      if (stmt.reader) return stmt.all(...params) as Row[];
      stmt.run(...params);
      return [];
    },
    async close() {
      await stores.close();
      raw.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

export const sharedFixture: FixtureFactory = async () => {
  const { redisUrl, postgresUrl } = testServiceUrls();
  if (!redisUrl || !postgresUrl) throw new Error(sharedSkipReason());
  const id = randomBytes(6).toString('hex');
  const childConfig: StateStoresConfig = { mode: 'shared', redisUrl, postgresUrl, redisKeyPrefix: `t${id}:`, postgresSchema: `t_${id}` };
  const stores = await createStateStores(childConfig);
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: postgresUrl, options: `-c search_path=t_${id}` });
  await client.connect();
  return {
    name: 'shared',
    stores,
    childConfig,
    async sql(sql, params = []) {
      return (await client.query(sql, params)).rows as Row[];
    },
    async close() {
      await stores.close();
      await client.query(`DROP SCHEMA t_${id} CASCADE`).catch(() => undefined);
      await client.end();
    },
  };
};

/** Drops `schema` and everything in it from the test PostgreSQL at `postgresUrl`, over a client of its own (ended). */
export async function dropTestSchema(postgresUrl: string | undefined, schema: string): Promise<void> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
