import { afterEach, describe, expect, it } from 'vitest';
import { sharedFixture, sharedSkipReason, sqliteFixture, type FixtureFactory, type StoreFixture } from './__fixtures__/store-fixtures.js';

/**
 * The ledger's latency sum (whole microseconds, summed as doubles) answers for every row the ledger accepts: an integer
 * cast or sum overflowed (SQLite "integer overflow", PostgreSQL "bigint out of range") on absurd latencies the ledger
 * records, failing a summary or an invoice that AVG answered.
 */
const T0 = Date.UTC(2026, 10, 1);
const skip = sharedSkipReason();
const fixtures: StoreFixture[] = [];
afterEach(async () => {
  for (const fx of fixtures.splice(0)) await fx.close();
});

async function summaryOf(make: FixtureFactory, latencies: number[]) {
  const fx = await make();
  fixtures.push(fx);
  for (const [i, latencyMs] of latencies.entries()) {
    await fx.stores.ledger.record({ requestId: `r${i}`, tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs, status: 'success', createdAt: T0 + i });
  }
  return fx.stores.ledger.summary({ tenantId: 'acme' });
}

describe('the latency microsecond sum on rows the ledger accepts', () => {
  it('SQLite: two rows of 5e15 ms (accepted by record) still have a summary', async () => {
    const s = await summaryOf(sqliteFixture, [5e15, 5e15]);
    expect(s.requests).toBe(2);
    expect(s.avgLatencyMs).toBe(5e15);
  });

  it('SQLite: the invoice of a month holding them still answers', async () => {
    await summaryOf(sqliteFixture, [1]).catch(() => undefined);
    const fx = fixtures[0]!;
    for (const i of [1, 2]) await fx.stores.ledger.record({ requestId: `big${i}`, tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 5e15, status: 'success', createdAt: T0 + 10 + i });
    const inv = await fx.stores.ledger.invoice('acme', T0, T0 + 86_400_000);
    expect(inv.lines.map((l) => l.requests)).toEqual([3]);
  });

  it.skipIf(skip !== undefined)('PostgreSQL: one row of 1e16 ms (accepted by record) still has a summary', async () => {
    const s = await summaryOf(sharedFixture, [1e16]);
    expect(s.requests).toBe(1);
    expect(s.avgLatencyMs).toBe(1e16);
  });
});
