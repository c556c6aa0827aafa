import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTcpRelay } from '../../test/tcp-relay.js';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { openPostgres } from './postgres-database.js';

/**
 * The schema's migration is unbounded ("start-ups wait here for each other's upgrade"; the whole schema is created in
 * it, under its advisory lock): it has no idle bound either, where the connection's (`queryTimeoutMs` + 2 s: 2.1 s
 * with `postgresQueryTimeoutMs` 100, the gateway's lowest) would end the session of a start-up busy that long between
 * two of its statements (loading a model, parsing a large config), and the stores would fail to start.
 */
const { postgresUrl } = testServiceUrls();

function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe.skipIf(!postgresUrl)('the unbounded migration and the idle bound', () => {
  // queryTimeoutMs 5000 (idle bound 7 s) is the control: the same stall then opens, so the cause is the idle bound.
  it.each([100, 5_000])('a migration whose process is busy 2.5 s between its statements (queryTimeoutMs %i) still opens the stores', async (queryTimeoutMs) => {
    const url = new URL(postgresUrl!);
    let stall = true;
    const relay = await startTcpRelay({ host: url.hostname, port: Number(url.port) }, {
      onClientData: (_connection, data) => {
        // Once the migration's CREATE TABLE of the version table has gone out, the process is busy for 2.5 s.
        if (stall && data.includes('llmrr_schema_version (version INTEGER')) {
          stall = false;
          setImmediate(() => blockEventLoop(2_500));
        }
      },
    });
    url.host = `127.0.0.1:${relay.port}`;
    const schema = `r_${randomBytes(6).toString('hex')}`;
    const pgmod = (await import('pg')).default;
    const admin = new pgmod.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      const opened = await openPostgres(url.href, { schema, queryTimeoutMs }).then(
        async (pg) => {
          await pg.release();
          return 'opened';
        },
        (e: unknown) => (e as Error).message,
      );
      expect(stall).toBe(false);
      // Not "Cannot prepare PostgreSQL at ...: terminating connection due to idle-in-transaction timeout".
      expect(opened).toBe('opened');
    } finally {
      await relay.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await admin.end();
    }
  }, 60_000);
});
