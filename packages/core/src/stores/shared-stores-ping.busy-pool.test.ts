/**
 * `StateStores.ping()` (the default `/ready` check) sends its `SELECT 1` over a connection of its own, outside the
 * pg pool the stores' queries use: a pool whose connections are all busy (here: queries waiting on a table lock
 * another session holds, as under a slow migration or a long ledger report) does not fail the ping while
 * PostgreSQL answers at once, so the gateway processes sharing that database do not all turn unready together.
 * Real Redis and PostgreSQL (vitest.global-setup.ts).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { dropTestSchema, sharedSkipReason, testServiceUrls } from './__fixtures__/store-fixtures.js';
import { createStateStores } from './create-state-stores.js';
import type { StateStores } from './types.js';

const skip = sharedSkipReason();
describe.skipIf(skip !== undefined)(skip ?? 'StateStores.ping with a busy pool', () => {
  const urls = testServiceUrls();
  const id = randomBytes(5).toString('hex');
  const schema = `pingbusy_${id}`;
  let stores: StateStores | undefined;

  afterAll(async () => {
    await Promise.race([stores?.close().catch(() => undefined), new Promise((r) => setTimeout(r, 3_000))]);
    await dropTestSchema(urls.postgresUrl, schema);
  }, 30_000);

  it('resolves while PostgreSQL answers SELECT 1 at once, even when the pool is busy with lock waits', async () => {
    stores = await createStateStores({
      mode: 'shared',
      redisUrl: urls.redisUrl!,
      postgresUrl: urls.postgresUrl!,
      redisKeyPrefix: `pingbusy${id}:`,
      postgresSchema: schema,
      postgresPoolMax: 2,
      redisTimeoutMs: 300,
    });
    await expect(stores.ping()).resolves.toBeUndefined();

    const pg = (await import('pg')).default;
    const locker = new pg.Client({ connectionString: urls.postgresUrl });
    await locker.connect();
    const other = new pg.Client({ connectionString: urls.postgresUrl });
    await other.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${schema}.llmrr_usage IN ACCESS EXCLUSIVE MODE`);
      // Two reads of the ledger wait on the lock, holding the pool's two connections.
      const waiting = [stores.ledger.get('a'), stores.ledger.get('b')].map((p) => p.catch(() => undefined));
      await new Promise((r) => setTimeout(r, 100));

      // PostgreSQL itself answers at once.
      const t0 = performance.now();
      await other.query('SELECT 1');
      expect(performance.now() - t0).toBeLessThan(300);

      const pinged = await stores.ping().then(
        () => 'resolved',
        (e: unknown) => (LLMError.isInstance(e) ? `${e.code}: ${e.message}` : String(e)),
      );
      await locker.query('ROLLBACK');
      await Promise.all(waiting);
      expect(pinged).toBe('resolved');
    } finally {
      await locker.end().catch(() => undefined);
      await other.end().catch(() => undefined);
    }
  }, 30_000);
});
