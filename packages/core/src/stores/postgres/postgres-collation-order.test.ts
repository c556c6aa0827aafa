/**
 * PostgreSQL sorts text by the database's collation, which is usually not C (initdb takes the system locale,
 * en_US.UTF-8; managed services default to it): `a-model, B-model, c-model`, where SQLite and the memory store sort
 * by bytes (`B-model, a-model, c-model`). The PostgreSQL stores sort their text with `COLLATE "C"`, so invoice lines
 * ("one line per model, sorted by model"), summary groups ("sorted by key") and the ledger's entries of one instant
 * (by request id) come in the same order from every store, whatever the summary's grouping; tenants created at the
 * same instant list in id byte order, as SQLite lists them. The test PostgreSQL is started with `--no-locale`, which
 * would hide it: a database with an ICU en-US collation (what an en_US.UTF-8 cluster sorts like) is made on the
 * same server.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageGroupBy, UsageLedger } from '../../metering/types.js';
import { createStateStores } from '../create-state-stores.js';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { openPostgres, type PostgresHandle } from './postgres-database.js';
import { PostgresTenantStore } from './postgres-tenant-store.js';
import { PostgresUsageLedger } from './postgres-usage-ledger.js';

const T0 = Date.UTC(2026, 10, 1);
const MODELS = ['c-model', 'B-model', 'a-model', 'GPT-4o', 'gpt-4o-mini', '_local'];

/** Request ids of entries made at the same instant (the entries' order then follows the ids). */
const SAME_INSTANT = ['req-c', 'req-B', 'req-a'];

async function fill(ledger: UsageLedger): Promise<void> {
  let i = 0;
  for (const model of MODELS) {
    await ledger.record({ requestId: `r${i}`, tenantId: 'acme', model, inputTokens: 10, outputTokens: 5, costUsd: 0.001, latencyMs: 3, status: 'success', createdAt: T0 + i++ });
  }
  for (const requestId of SAME_INSTANT) {
    await ledger.record({ requestId, tenantId: 'globex', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 1, status: 'success', createdAt: T0 });
  }
}

/** Ids whose byte order and en-US order differ, for the tenant, key and model of one row each (one a day). */
const IDS = ['c-x', 'B-x', 'a-x', '_x'];

async function fillScopes(ledger: UsageLedger): Promise<void> {
  let i = 0;
  for (const id of IDS) {
    await ledger.record({ requestId: `r${i}`, tenantId: `t${id}`, keyId: `k${id}`, model: `m${id}`, inputTokens: 1, outputTokens: 1, costUsd: 0.001, latencyMs: 1, status: i % 2 ? 'error' : 'success', ...(i % 2 ? { errorCode: 'internal' } : {}), createdAt: T0 + i++ * 86_400_000 });
  }
}

describe('ledger order: PostgreSQL (en-US collation) and SQLite agree', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const { postgresUrl } = testServiceUrls();

  /** A new database with an ICU en-US collation on the test server (dropped after the test). */
  async function icuDatabase(): Promise<PostgresHandle> {
    const db = `llmrr_icu_${randomBytes(5).toString('hex')}`;
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    });
    await admin.query(`CREATE DATABASE ${db} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`);
    const url = new URL(postgresUrl!);
    url.pathname = `/${db}`;
    return openPostgres(url.toString());
  }

  /** The same rows (`filler`) in SQLite (memory mode) and in PostgreSQL on an en-US database. */
  async function bothLedgers(filler: (l: UsageLedger) => Promise<void>): Promise<{ sqlite: UsageLedger; ledger: UsageLedger }> {
    const stores = await createStateStores({ mode: 'memory' });
    cleanups.push(() => stores.close());
    await filler(stores.ledger);
    const ledger = new PostgresUsageLedger(await icuDatabase());
    cleanups.push(() => ledger.close());
    await filler(ledger);
    return { sqlite: stores.ledger, ledger };
  }

  it.skipIf(!postgresUrl)('invoice lines, summary groups and entries of one instant come in the same order from both stores', async () => {
    const { sqlite, ledger } = await bothLedgers(fill);

    const lines = async (l: UsageLedger) => (await l.invoice('acme', T0, T0 + 1000)).lines.map((x) => x.model);
    const groups = async (l: UsageLedger) => (await l.summary({ tenantId: 'acme', groupBy: 'model' })).groups!.map((g) => g.key);
    const sqliteLines = await lines(sqlite);
    // SQLite sorts by bytes, as JavaScript's default sort does.
    expect(sqliteLines).toEqual([...MODELS].sort());
    expect(await lines(ledger), 'invoice lines').toEqual(sqliteLines);
    expect(await groups(ledger), 'summary groups').toEqual(await groups(sqlite));
    const entries = async (l: UsageLedger) => (await l.query({ tenantId: 'globex' })).map((e) => e.requestId);
    expect(await entries(sqlite)).toEqual([...SAME_INSTANT].sort().reverse());
    expect(await entries(ledger), 'entries of one instant (newest first, then by request id, descending)').toEqual(await entries(sqlite));
  });

  it.skipIf(!postgresUrl)('summary groups by tenant, key, status and day run and sort as SQLite sorts them', async () => {
    const { sqlite, ledger } = await bothLedgers(fillScopes);
    for (const groupBy of ['model', 'tenant', 'key', 'status', 'day'] as UsageGroupBy[]) {
      const keys = async (l: UsageLedger) => (await l.summary({ groupBy })).groups!.map((g) => g.key);
      expect(await keys(ledger), groupBy).toEqual(await keys(sqlite));
    }
    // In byte order (not en-US's `a-x, B-x, c-x, _x`).
    expect((await ledger.summary({ groupBy: 'tenant' })).groups!.map((g) => g.key)).toEqual(IDS.map((id) => `t${id}`).sort());
  });

  it.skipIf(!postgresUrl)('tenants created at the same instant list in id byte order', async () => {
    const tenants = new PostgresTenantStore(await icuDatabase(), () => T0);
    cleanups.push(() => tenants.close());
    for (const id of IDS) await tenants.createTenant({ id, name: id });
    expect((await tenants.listTenants()).map((t) => t.id)).toEqual([...IDS].sort());
  });
});
