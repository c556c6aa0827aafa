/**
 * A reservation's `at` (when the request arrived, its ledger row's `createdAt`) picks the budget period it is
 * charged to: a request that arrives in the last moments of a month and reserves just after midnight is charged
 * to the month it is invoiced in, not the next one. Without `at`, the store's clock picks the period. Real SQLite
 * (embedded) and real Redis + PostgreSQL (shared mode, started by vitest.global-setup.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { budgetPeriodWindow } from '../tenancy/budget-period.js';
import { sharedFixture, sharedSkipReason, sqliteFixture, type FixtureFactory, type StoreFixture } from './__fixtures__/store-fixtures.js';

const skip = sharedSkipReason();

function periodAtCases(label: string, make: FixtureFactory): void {
  describe(`a reservation's period (${label})`, () => {
    let fx: StoreFixture | undefined;
    afterEach(async () => {
      await fx?.close();
      fx = undefined;
    });

    it('is the period its `at` falls in, and its settled cost is charged there, not to the current period', async () => {
      fx = await make();
      const b = fx.stores.budgets;
      const now = Date.now();
      const current = budgetPeriodWindow('month', now);
      // The last millisecond of the previous month.
      const at = current.start - 1;
      const previous = budgetPeriodWindow('month', at);
      const r = await b.reserve({ tenantId: 'acme', period: 'month', limitUsd: 10, estimateUsd: 1, reservationId: 'late-arrival', at });
      expect(r).toMatchObject({ ok: true, periodKey: previous.key });
      expect(await b.settle('late-arrival', 0.75)).toBe(true);
      // The current month is untouched.
      expect(await b.spent('acme', 'month')).toMatchObject({ periodKey: current.key, spentUsd: 0, reservedUsd: 0 });
    });

    it('counts in a period that ended long ago (40 days): a reservation past the limit is refused, settled costs count', async () => {
      fx = await make();
      const b = fx.stores.budgets;
      // Redis keeps a period's counters 35 days after its end, or after now for a period already over.
      const at = Date.now() - 40 * 86_400_000;
      const first = await b.reserve({ tenantId: 'acme', period: 'day', limitUsd: 10, estimateUsd: 6, reservationId: 'old-1', at });
      expect(first.ok).toBe(true);
      const second = await b.reserve({ tenantId: 'acme', period: 'day', limitUsd: 10, estimateUsd: 6, reservationId: 'old-2', at });
      expect(second).toMatchObject({ ok: false, remainingUsd: 4 });
      expect(await b.settle('old-1', 7)).toBe(true);
      const third = await b.reserve({ tenantId: 'acme', period: 'day', limitUsd: 10, estimateUsd: 4, reservationId: 'old-3', at });
      expect(third).toMatchObject({ ok: false, remainingUsd: 3 });
    });

    it("is the store's current period without `at`", async () => {
      fx = await make();
      const r = await fx.stores.budgets.reserve({ tenantId: 'acme', period: 'day', limitUsd: 10, estimateUsd: 1, reservationId: 'now' });
      expect(r).toMatchObject({ ok: true, periodKey: budgetPeriodWindow('day', Date.now()).key });
    });

    it('refuses an `at` that is not a finite number, naming it', async () => {
      fx = await make();
      await expect(fx.stores.budgets.reserve({ tenantId: 'acme', period: 'day', limitUsd: 10, estimateUsd: 1, reservationId: 'bad', at: Number.NaN })).rejects.toMatchObject({ param: 'at' });
    });
  });
}

periodAtCases('sqlite', sqliteFixture);
describe.skipIf(skip !== undefined)(skip ?? 'shared mode (Redis)', () => {
  periodAtCases('redis', sharedFixture);
});
