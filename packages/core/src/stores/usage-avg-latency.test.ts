import { afterEach, describe, expect, it } from 'vitest';
import { sharedFixture, sharedSkipReason, sqliteFixture, type StoreFixture } from './__fixtures__/store-fixtures.js';

/**
 * avgLatencyMs is the same in SQLite and PostgreSQL for the same rows: the databases' own AVG sums floats differently
 * (SQLite compensated: 0.2068915 here, PostgreSQL plainly: 0.20689149999999998), and rounding the two to a grid still
 * differs near a grid midpoint (0.206892 against 0.206891); the ledgers sum whole microseconds instead.
 */
const skip = sharedSkipReason();
const T0 = Date.UTC(2026, 10, 1);
const LATENCIES = [0.043515000000000005, 0.535006, 0.0421535];

describe.skipIf(skip !== undefined)(skip ?? 'avgLatencyMs: the same in SQLite and PostgreSQL for the same rows', () => {
  const fixtures: StoreFixture[] = [];
  afterEach(async () => {
    for (const fx of fixtures.splice(0)) await fx.close();
  });

  it('three latencies whose average is near a half nanosecond', async () => {
    const averages: Record<string, number> = {};
    for (const make of [sqliteFixture, sharedFixture]) {
      const fx = await make();
      fixtures.push(fx);
      for (const [i, latencyMs] of LATENCIES.entries()) {
        await fx.stores.ledger.record({ requestId: `l${i}`, tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs, status: 'success', createdAt: T0 + i });
      }
      averages[fx.name] = (await fx.stores.ledger.summary({ tenantId: 'acme' })).avgLatencyMs;
    }
    expect(averages['shared'], `sqlite ${averages['sqlite']}, postgres ${averages['shared']}`).toBe(averages['sqlite']);
  });
});
