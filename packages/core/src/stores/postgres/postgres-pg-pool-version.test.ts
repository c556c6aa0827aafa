import { describe, expect, it, vi } from 'vitest';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { openPostgres } from './postgres-database.js';

/**
 * The refusal of a pool that ignores `onConnect` names pg-pool's version as installed, without the test seam
 * `importer` (as in production): pg-pool's package.json has an `exports` map without `./package.json`, so it is found
 * from pg-pool's main file (a require of `pg-pool/package.json` throws ERR_PACKAGE_PATH_NOT_EXPORTED).
 *
 * The real pg is used (imported as the stores import it), its Pool made to ignore `onConnect` as a pg-pool pinned
 * below 3.13 does; the database is the real PostgreSQL of the global setup.
 */
vi.mock('pg', async (importOriginal) => {
  const real = (await importOriginal()) as { default: { Pool: new (c: Record<string, unknown>) => unknown } };
  class OldPool extends (real.default.Pool as new (c: Record<string, unknown>) => object) {
    constructor(config: Record<string, unknown>) {
      const { onConnect: _ignored, ...rest } = config;
      super(rest);
    }
  }
  return { ...real, default: { ...real.default, Pool: OldPool }, Pool: OldPool };
});

const { postgresUrl } = testServiceUrls();

describe.skipIf(!postgresUrl)('the onConnect refusal without an importer (as in production)', () => {
  it('names the installed pg-pool version, not "(version unknown)"', async () => {
    const { createRequire } = await import('node:module');
    const poolMain = createRequire(createRequire(import.meta.url).resolve('pg')).resolve('pg-pool');
    const { readFileSync } = await import('node:fs');
    const { dirname, join } = await import('node:path');
    const installed = (JSON.parse(readFileSync(join(dirname(poolMain), 'package.json'), 'utf8')) as { version: string }).version;

    const e = await openPostgres(postgresUrl!, { migrate: false }).then(
      async (pg) => {
        await pg.release();
        return undefined;
      },
      (err: unknown) => err as Error & { code?: string },
    );
    expect(e?.code).toBe('engine_unavailable');
    expect(e?.message).toContain(`with pg-pool ${installed} ignores it`);
  }, 30_000);
});
