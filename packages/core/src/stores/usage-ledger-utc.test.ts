/**
 * The ledger puts a row in the UTC day and month of its `createdAt`, whatever the time zone of the process (SQLite's
 * 'localtime', JS dates) and of the database's sessions (PostgreSQL's timestamptz). CI and this machine run in UTC,
 * where a grouping in local time passes too, so the process here runs in America/St_Johns (UTC-2:30 in November) and
 * the PostgreSQL database's sessions default to that zone: the last millisecond of October and the first of November
 * (UTC) are one local day there. Real SQLite and PostgreSQL (the global setup's).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServiceUrls } from './__fixtures__/store-fixtures.js';
import { createStateStores } from './create-state-stores.js';
import type { StateStores } from './types.js';

const ZONE = 'America/St_Johns';
/** The first millisecond of November 2026, UTC. */
const END = Date.UTC(2026, 10, 1);
const { redisUrl, postgresUrl } = testServiceUrls();

async function expectUtcBoundary(stores: StateStores): Promise<void> {
  const base = { tenantId: 'acme', keyId: 'key_1', model: 'gpt-4o', deployment: 'd', provider: 'openai', inputTokens: 1, outputTokens: 1, costUsd: 0.001, latencyMs: 1, status: 'success' as const };
  await stores.ledger.record({ ...base, requestId: 'b1', createdAt: END - 1 });
  await stores.ledger.record({ ...base, requestId: 'b2', createdAt: END });
  const byDay = await stores.ledger.summary({ tenantId: 'acme', groupBy: 'day' });
  expect(byDay.groups?.map((g) => [g.key, g.requests])).toEqual([
    ['2026-10-31', 1],
    ['2026-11-01', 1],
  ]);
  const october = await stores.ledger.invoice('acme', Date.UTC(2026, 9, 1), END);
  const november = await stores.ledger.invoice('acme', END, Date.UTC(2026, 11, 1));
  expect([october.requests, november.requests]).toEqual([1, 1]);
  expect((await stores.ledger.query({ tenantId: 'acme', from: END })).map((e) => e.requestId)).toEqual(['b2']);
  expect((await stores.ledger.query({ tenantId: 'acme', to: END })).map((e) => e.requestId)).toEqual(['b1']);
}

describe(`the ledger's UTC day and month boundary, in a ${ZONE} process and database`, () => {
  let tz: string | undefined;
  beforeAll(() => {
    tz = process.env.TZ;
    process.env.TZ = ZONE;
  });
  afterAll(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });

  it('SQLite: a row is in the UTC day and month of its createdAt, to the millisecond', async () => {
    // The zone took effect (else this check says nothing): both instants are one local day here.
    expect(new Date(END - 1).getDate()).toBe(new Date(END).getDate());
    const stores = await createStateStores({ mode: 'memory' });
    try {
      await expectUtcBoundary(stores);
    } finally {
      await stores.close();
    }
  });

  it.skipIf(!(redisUrl && postgresUrl))('PostgreSQL: a row is in the UTC day and month of its createdAt, to the millisecond', async () => {
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    const db = `tz_${randomBytes(5).toString('hex')}`;
    let stores: StateStores | undefined;
    try {
      await admin.query(`CREATE DATABASE ${db}`);
      await admin.query(`ALTER DATABASE ${db} SET timezone = '${ZONE}'`);
      const url = new URL(postgresUrl!);
      url.pathname = `/${db}`;
      const probe = new pg.Client({ connectionString: url.toString() });
      await probe.connect();
      try {
        // The zone took effect for the database's sessions: both instants are one local day there.
        const { rows } = await probe.query(`SELECT current_setting('TimeZone') AS zone, to_char(to_timestamp($1 / 1000.0), 'YYYY-MM-DD') AS a, to_char(to_timestamp($2 / 1000.0), 'YYYY-MM-DD') AS b`, [END - 1, END]);
        expect(rows[0]).toEqual({ zone: ZONE, a: '2026-10-31', b: '2026-10-31' });
      } finally {
        await probe.end();
      }
      stores = await createStateStores({ mode: 'shared', redisUrl: redisUrl!, postgresUrl: url.toString(), redisKeyPrefix: `${db}:` });
      await expectUtcBoundary(stores);
    } finally {
      await stores?.close();
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    }
  });
});
