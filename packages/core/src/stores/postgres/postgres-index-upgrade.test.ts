import { describe, expect, it, vi } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { sharedFixture, sharedSkipReason, type StoreFixture } from '../__fixtures__/store-fixtures.js';
import { PostgresAuditLog } from './postgres-audit-log.js';
import { openPostgres } from './postgres-database.js';
import { POSTGRES_INDEXES, POSTGRES_MIGRATIONS } from './postgres-schema.js';

/**
 * The audit log's (action, target, seq) index (POSTGRES_INDEXES) on a database upgraded from the previous schema
 * version: built after the migration's transaction with CREATE INDEX CONCURRENTLY, so the other processes' audit
 * appends (admin changes, auth-failure entries) go on during the upgrade instead of failing for the length of the
 * build (about 2 s per million entries). The build and the migration are held open by other sessions (a snapshot,
 * a table lock), so the tests need few rows and no timing.
 */
const skip = sharedSkipReason();

/** 'written', or the code of the failure. */
const outcome = (p: Promise<unknown>) => p.then(() => 'written', (e: unknown) => (LLMError.isInstance(e) ? e.code : String(e)));

/** `outcome(p)`, or 'hung' when `p` has not settled after `ms` (a hang guard, far past every bound under test). */
const guarded = (p: Promise<unknown>, ms = 20_000) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([outcome(p), new Promise<string>((r) => (timer = setTimeout(() => r('hung'), ms)))]).finally(() => clearTimeout(timer));
};

const INDEX = POSTGRES_INDEXES[0]!.name;

async function client(url: string) {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** The fixture's database as the previous version left it: no index, the version one step back, a chain of `rows`. */
async function previousVersion(fx: StoreFixture, rows: number) {
  await fx.sql(`DROP INDEX ${INDEX}`);
  await fx.sql(`UPDATE llmrr_schema_version SET version = ${POSTGRES_MIGRATIONS.length - 1}`);
  await fx.sql(
    `INSERT INTO llmrr_audit (seq, ts, actor, action, target, details, ip, prev_hash, hash)
     SELECT g, g, 'admin', (ARRAY['tenant.create','tenant.delete','key.create'])[1 + g % 3], 't' || (g % 500), NULL, NULL, md5(g::text), md5((g + 1)::text)
     FROM generate_series(1, ${rows}) g`,
  );
}

/** The index's state: undefined when missing, else whether it is valid, and its definition. */
async function indexState(fx: StoreFixture, schema: string) {
  const [row] = await fx.sql(
    `SELECT i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, INDEX],
  );
  return row as { valid: boolean; def: string } | undefined;
}

/** The backend building the index CONCURRENTLY, once it waits (for the snapshot held open by the test). */
async function waitingBuild(fx: StoreFixture, schema: string): Promise<number> {
  let pid = 0;
  await vi.waitFor(async () => {
    const [row] = await fx.sql(
      `SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND query LIKE $1 AND wait_event_type = 'Lock'`,
      [`%${schema}.%`],
    );
    expect(row).toBeDefined();
    pid = row!['pid'] as number;
  }, { timeout: 15_000, interval: 20 });
  return pid;
}

describe.skipIf(skip !== undefined)(skip ?? 'PostgreSQL schema upgrade: the audit index is built concurrently', () => {
  it('an upgrade of an existing chain builds the index after its transaction, concurrently: other processes append during both; a start meanwhile does not wait', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    await previousVersion(fx, 20_000);
    // Another process, already running (not migrating), whose appends wait at most 1 s for the chain.
    const other = await openPostgres(postgresUrl, { schema, migrate: false });
    const audit = new PostgresAuditLog(other, Date.now, { timeoutMs: 1_000 });
    // One session keeps the upgrade's transaction from committing (its version UPDATE waits for the table lock),
    // another holds a snapshot open, which CREATE INDEX CONCURRENTLY waits for before the index is valid.
    const locker = await client(postgresUrl);
    const snapshot = await client(postgresUrl);
    await locker.query(`BEGIN; LOCK TABLE ${schema}.llmrr_schema_version IN EXCLUSIVE MODE`);
    await snapshot.query(`BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1`);
    const upgrade = openPostgres(postgresUrl, { schema });
    upgrade.catch(() => undefined);
    try {
      await vi.waitFor(async () => {
        const [row] = await fx.sql(`SELECT count(*)::int AS n FROM pg_locks WHERE relation = '${schema}.llmrr_schema_version'::regclass AND NOT granted`);
        expect(row?.['n']).toBe(1);
      }, { timeout: 15_000, interval: 20 });
      // The upgrade's transaction is open and holds nothing of llmrr_audit (it built the index in it before).
      expect(await guarded(audit.append({ actor: 'admin', action: 'key.rotate', target: 'k1' }))).toBe('written');
      expect(await indexState(fx, schema)).toBeUndefined();
      await locker.query('COMMIT');
      // The build has run and waits for the snapshot: the index is there, not valid yet; appends go on.
      await waitingBuild(fx, schema);
      expect(await indexState(fx, schema)).toMatchObject({ valid: false });
      expect(await guarded(audit.append({ actor: 'admin', action: 'tenant.delete', target: 't1' }))).toBe('written');
      // A process starting meanwhile does not wait for the build (another process builds it) nor drop it.
      expect(await guarded(openPostgres(postgresUrl, { schema }).then((h) => h.release()))).toBe('written');
      expect(await indexState(fx, schema)).toMatchObject({ valid: false });
      await snapshot.query('COMMIT');
      await (await upgrade).release();
      expect(await indexState(fx, schema)).toEqual({ valid: true, def: `CREATE INDEX ${INDEX} ON ${schema}.llmrr_audit USING btree (action, target, seq)` });
      expect(await fx.sql(`SELECT version FROM llmrr_schema_version`)).toEqual([{ version: POSTGRES_MIGRATIONS.length }]);
      expect((await audit.list({ action: 'tenant.delete', target: 't1', order: 'desc', limit: 1 })).map((e) => e.seq)).toEqual([20_002]);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await snapshot.query('ROLLBACK').catch(() => undefined);
      await Promise.all([locker.end(), snapshot.end()]);
      await upgrade.then((h) => h.release()).catch(() => undefined);
      await audit.close();
      await fx.close();
    }
  }, 60_000);

  // The schema version is bumped by the migration's transaction, before the build: a process that dies during the
  // build leaves an INVALID index (maintained on every insert, never read) and the new version behind.
  it('a build cut off (its process died) leaves an INVALID index that the next start drops and builds again', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    await previousVersion(fx, 2_000);
    const snapshot = await client(postgresUrl);
    await snapshot.query(`BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1`);
    const upgrade = outcome(openPostgres(postgresUrl, { schema }).then((h) => h.release()));
    try {
      const pid = await waitingBuild(fx, schema);
      await fx.sql(`SELECT pg_terminate_backend($1)`, [pid]);
      // The start fails (its connection was ended); the index is left INVALID, the version bumped.
      expect(await upgrade).toBe('engine_unavailable');
      await snapshot.query('COMMIT');
      const left = await indexState(fx, schema);
      expect(left).toMatchObject({ valid: false });
      expect(await fx.sql(`SELECT version FROM llmrr_schema_version`)).toEqual([{ version: POSTGRES_MIGRATIONS.length }]);
      const again = await openPostgres(postgresUrl, { schema });
      await again.release();
      expect(await indexState(fx, schema)).toEqual({ valid: true, def: left!.def });
      expect(await fx.sql(`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = $1 AND tablename = 'llmrr_audit'`, [schema])).toEqual([{ n: 3 }]);
    } finally {
      await snapshot.query('ROLLBACK').catch(() => undefined);
      await snapshot.end();
      await upgrade;
      await fx.close();
    }
  }, 60_000);
});
