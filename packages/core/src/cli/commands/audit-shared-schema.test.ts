import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStateStores } from '../../stores/create-state-stores.js';
import { testServiceUrls } from '../../stores/__fixtures__/store-fixtures.js';
import { runCli } from '../__fixtures__/cli-harness.js';

/**
 * `llmrr audit verify --state shared` finds the store the way the gateway server does: the PostgreSQL schema
 * comes from LLMRR_POSTGRES_SCHEMA (or `--postgres-schema`), and it never creates tables: a schema without an
 * audit log is an error (exit 2), not "audit chain OK: 0 entries". (Found in review: it ignored the variable,
 * checked `public`, said OK for a broken log and left empty llmrr tables in `public`.)
 */
const { postgresUrl, redisUrl } = testServiceUrls();

describe.skipIf(!postgresUrl || !redisUrl)('llmrr audit verify (shared, the gateway in its own PostgreSQL schema)', () => {
  const schema = `gw_${randomBytes(4).toString('hex')}`;
  let dbUrl: string;
  let dbName: string;
  let admin: { query(sql: string): Promise<{ rows: unknown[] }>; end(): Promise<void> };
  beforeAll(async () => {
    const { default: pg } = await import('pg');
    admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
    dbName = `llmrr_cli_review_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${dbName}`);
    const u = new URL(postgresUrl!);
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
    // As the gateway server does with LLMRR_STATE=shared and LLMRR_POSTGRES_SCHEMA.
    const stores = await createStateStores({ mode: 'shared', postgresUrl: dbUrl, redisUrl: redisUrl!, postgresSchema: schema, redisKeyPrefix: `${schema}:` });
    for (let i = 1; i <= 3; i++) await stores.audit.append({ actor: 'admin', action: 'tenant.update', target: `t${i}` });
    await stores.close();
    // Entry 2 edited by someone with database access.
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      await c.query(`DROP TRIGGER llmrr_audit_no_change ON ${schema}.llmrr_audit`);
      await c.query(`UPDATE ${schema}.llmrr_audit SET actor = 'mallory' WHERE seq = 2`);
    } finally {
      await c.end();
    }
  });
  afterAll(async () => {
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin?.end();
  });

  it('checks the schema the gateway writes (LLMRR_POSTGRES_SCHEMA): the edited entry fails, exit 1', async () => {
    const r = await runCli(['audit', 'verify'], { env: { LLMRR_STATE: 'shared', LLMRR_POSTGRES_URL: dbUrl, LLMRR_POSTGRES_SCHEMA: schema } });
    expect(r.code, `stdout: ${r.stdout.trim()} | stderr: ${r.stderr.trim()}`).toBe(1);
    expect(r.stderr).toMatch(/^audit chain BROKEN at entry 2: /);
  });

  it('takes the schema from --postgres-schema too (over the variable)', async () => {
    const r = await runCli(['audit', 'verify', '--postgres-schema', schema], { env: { LLMRR_STATE: 'shared', LLMRR_POSTGRES_URL: dbUrl, LLMRR_POSTGRES_SCHEMA: 'public' } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^audit chain BROKEN at entry 2: /);
  });

  it('refuses a schema without an audit log (exit 2, naming it), instead of creating tables', async () => {
    for (const [args, env, flag] of [
      [[], { LLMRR_POSTGRES_SCHEMA: 'no_such_schema' }, 'LLMRR_POSTGRES_SCHEMA'],
      [[], {}, 'LLMRR_POSTGRES_SCHEMA'],
      [['--postgres-schema', 'public'], {}, '--postgres-schema'],
    ] as const) {
      const r = await runCli(['audit', 'verify', ...args], { env: { LLMRR_STATE: 'shared', LLMRR_POSTGRES_URL: dbUrl, ...env } });
      expect(r.code, `${args.join(' ')} ${JSON.stringify(env)}: ${r.stdout} ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/no audit log in PostgreSQL schema "(no_such_schema|public)"/);
      expect(r.stderr).toContain(flag);
    }
  });

  it('refuses a schema name PostgreSQL could not take as one (exit 2)', async () => {
    const r = await runCli(['audit', 'verify', '--postgres-schema', 'x; DROP TABLE y'], { env: { LLMRR_STATE: 'shared', LLMRR_POSTGRES_URL: dbUrl } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--postgres-schema must be a PostgreSQL schema name/);
  });

  it('creates no llmrr tables in the public schema', async () => {
    await runCli(['audit', 'verify'], { env: { LLMRR_STATE: 'shared', LLMRR_POSTGRES_URL: dbUrl, LLMRR_POSTGRES_SCHEMA: schema } });
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'llmrr_%' ORDER BY 1`);
      expect(rows.map((r: { table_name: string }) => r.table_name)).toEqual([]);
      const schemas = await c.query(`SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'no_such_schema'`);
      expect(schemas.rows).toEqual([]);
    } finally {
      await c.end();
    }
  });
});
