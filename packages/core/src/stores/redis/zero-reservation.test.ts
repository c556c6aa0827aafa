/**
 * A reservation of $0 (an estimate of 0: the gateway's prefetch metering always reserves 0 and then
 * settles the prefetch's real cost, `gateway/src/metering/prefetch-metering.ts`; a call to an unpriced deployment
 * reserves 0) must settle and release like any other, in every store. In the Redis store the Lua scripts took the
 * reservation off the `reserved` counter with `HINCRBY reserved -tonumber(amt)`: for an amount of 0 Lua passes -0,
 * which Redis writes as "-0", and HINCRBY refuses "-0" ("value is not an integer or out of range").
 * Real SQLite (embedded) and real Redis + PostgreSQL (shared mode, started by vitest.global-setup.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sharedFixture, sharedSkipReason, sqliteFixture, type FixtureFactory, type StoreFixture } from '../__fixtures__/store-fixtures.js';

const skip = sharedSkipReason();

function zeroReservationCases(label: string, make: FixtureFactory): void {
  describe(`a $0 reservation (${label})`, () => {
    let fx: StoreFixture | undefined;
    afterEach(async () => {
      await fx?.close();
      fx = undefined;
    });

    it('settles at the actual cost (how the gateway charges a prefetch to the budget)', async () => {
      fx = await make();
      const b = fx.stores.budgets;
      const r = await b.reserve({ tenantId: 'acme', period: 'month', limitUsd: 10, estimateUsd: 0, reservationId: 'req_prefetch_1~prefetch' });
      expect(r.ok).toBe(true);
      expect(await b.settle('req_prefetch_1~prefetch', 0.25)).toBe(true);
      const s = await b.spent('acme', 'month');
      expect({ spentUsd: s.spentUsd, reservedUsd: s.reservedUsd }).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
    });

    it('settles at 0 and releases (a call to an unpriced deployment)', async () => {
      fx = await make();
      const b = fx.stores.budgets;
      expect((await b.reserve({ tenantId: 'acme', period: 'day', limitUsd: 1, estimateUsd: 0, reservationId: 'free-1' })).ok).toBe(true);
      expect((await b.reserve({ tenantId: 'acme', period: 'day', limitUsd: 1, estimateUsd: 0, reservationId: 'free-2' })).ok).toBe(true);
      expect(await b.settle('free-1', 0)).toBe(true);
      expect(await b.release('free-2')).toBe(true);
      expect((await b.spent('acme', 'day')).spentUsd).toBe(0);
    });

    it('an abandoned one expires without failing the next reservation of its tenant', async () => {
      fx = await make();
      const b = fx.stores.budgets;
      expect((await b.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0, reservationId: 'crashed', ttlMs: 50 })).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      // The next request of the tenant purges the expired reservation first.
      const next = await b.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0.5, reservationId: 'next' }).then((r) => r.ok, (e: unknown) => String(e));
      expect(next).toBe(true);
    });
  });
}

zeroReservationCases('sqlite', sqliteFixture);
describe.skipIf(skip !== undefined)(skip ?? 'shared mode (Redis)', () => {
  zeroReservationCases('redis', sharedFixture);
});
