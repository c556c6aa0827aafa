import { describe, expect, it } from 'vitest';
import { sharedFixture, sharedSkipReason } from '../__fixtures__/store-fixtures.js';
import { openPostgres } from './postgres-database.js';

// An existing database (current schema version) without llmrr_tenants_id_c, or with it INVALID, gets it built on the
// next start (postgres-index-upgrade.test.ts covers the audit index).
const skip = sharedSkipReason();

describe.skipIf(skip !== undefined)(skip ?? 'llmrr_tenants_id_c on an existing database', () => {
  it('missing or INVALID: the next start builds it valid, with the C collation', async () => {
    const fx = await sharedFixture();
    const { postgresUrl, postgresSchema: schema } = fx.childConfig as { postgresUrl: string; postgresSchema: string };
    const state = async () =>
      (await fx.sql(
        `SELECT i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'llmrr_tenants_id_c'`,
        [schema],
      ))[0];
    try {
      await fx.sql(`INSERT INTO llmrr_tenants SELECT (json_populate_record(NULL::llmrr_tenants, json_build_object('id', 't-' || g, 'name', 'n', 'created_at', 0, 'updated_at', 0))).* FROM generate_series(1, 5000) g`).catch(() => undefined);
      await fx.sql(`DROP INDEX llmrr_tenants_id_c`);
      expect(await state()).toBeUndefined();
      await (await openPostgres(postgresUrl, { schema })).release();
      expect(await state()).toEqual({ valid: true, def: `CREATE INDEX llmrr_tenants_id_c ON ${schema}.llmrr_tenants USING btree (id COLLATE "C")` });
      await fx.sql(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = '${schema}.llmrr_tenants_id_c'::regclass`);
      expect(await state()).toMatchObject({ valid: false });
      await (await openPostgres(postgresUrl, { schema })).release();
      expect(await state()).toMatchObject({ valid: true });
    } finally {
      await fx.close();
    }
  }, 60_000);
});
