/**
 * `RateLimiter.renew` and `BudgetStore.renew`: a lease or reservation renewed before its TTL passes outlives the
 * TTL; one released, settled or already expired is not brought back. Real timers with short TTLs, in every store:
 * the memory limiter and SQLite budgets (embedded), Redis (shared mode, started by vitest.global-setup.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sharedFixture, sharedSkipReason, sqliteFixture, type FixtureFactory, type StoreFixture } from '../__fixtures__/store-fixtures.js';

const skip = sharedSkipReason();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TTL = 1_000;

function renewCases(label: string, make: FixtureFactory): void {
  describe(`renew (${label})`, () => {
    let fx: StoreFixture | undefined;
    afterEach(async () => {
      await fx?.close();
      fx = undefined;
    });

    it('keeps a concurrency lease past its TTL; a released one is not brought back', async () => {
      fx = await make();
      const limiter = fx.stores.rateLimiter;
      const scopes = [{ kind: 'tenant' as const, id: `renew-${Date.now()}`, limits: { maxConcurrency: 1 } }];
      const first = await limiter.acquire(scopes, { estimatedTokens: 0, leaseTtlMs: TTL });
      expect(first.ok).toBe(true);
      // Renewed every quarter TTL for one and a half TTLs: the slot stays taken.
      for (let i = 0; i < 6; i++) {
        await sleep(TTL / 4);
        await limiter.renew!([first.ok ? first.lease : (undefined as never)]);
      }
      expect((await limiter.acquire(scopes, { estimatedTokens: 0, leaseTtlMs: TTL })).ok).toBe(false);
      if (first.ok) await first.lease.release(0);
      if (first.ok) await limiter.renew!([first.lease]);
      const next = await limiter.acquire(scopes, { estimatedTokens: 0, leaseTtlMs: TTL });
      expect(next.ok).toBe(true);
      if (next.ok) await next.lease.release(0);
    });

    it('does not bring back an expired lease (its slot may be someone else\'s)', async () => {
      fx = await make();
      const limiter = fx.stores.rateLimiter;
      const scopes = [{ kind: 'tenant' as const, id: `expired-${Date.now()}`, limits: { maxConcurrency: 1 } }];
      const first = await limiter.acquire(scopes, { estimatedTokens: 0, leaseTtlMs: 50 });
      await sleep(150);
      const second = await limiter.acquire(scopes, { estimatedTokens: 0, leaseTtlMs: TTL });
      expect(second.ok).toBe(true);
      if (first.ok) await limiter.renew!([first.lease]);
      if (second.ok) await second.lease.release(0);
      // Only the renewed expired lease could hold the slot now.
      expect((await limiter.peek(scopes)).remainingConcurrency).toBe(1);
    });

    it('keeps a budget reservation past its TTL; a settled or expired one is not brought back', async () => {
      fx = await make();
      const b = fx.stores.budgets;
      const tenantId = `renew-${Date.now()}`;
      const reserve = (id: string, ttlMs = TTL) => b.reserve({ tenantId, period: 'month', limitUsd: 1, estimateUsd: 0.6, reservationId: id, ttlMs });
      expect((await reserve('long')).ok).toBe(true);
      for (let i = 0; i < 6; i++) {
        await sleep(TTL / 4);
        await b.renew!(['long'], TTL);
      }
      expect((await b.spent(tenantId, 'month')).reservedUsd).toBe(0.6);
      expect((await reserve('second')).ok).toBe(false);
      expect(await b.settle('long', 0.1)).toBe(true);
      await b.renew!(['long'], TTL);
      expect((await b.spent(tenantId, 'month')).reservedUsd).toBe(0);

      expect((await reserve('short', 50)).ok).toBe(true);
      await sleep(150);
      await b.renew!(['short', 'unknown'], TTL);
      expect((await b.spent(tenantId, 'month')).reservedUsd).toBe(0);
    });
  });
}

renewCases('embedded', sqliteFixture);
describe.skipIf(skip !== undefined)(skip ?? 'shared mode (Redis)', () => {
  renewCases('redis', sharedFixture);
});
