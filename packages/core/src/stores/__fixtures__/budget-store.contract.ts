import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import type { BudgetStore } from '../../tenancy/types.js';
import { createStateStores } from '../create-state-stores.js';
import { runWorker, spawnWorker, waitForLine } from './run-child.js';
import type { FixtureFactory, StoreFixture } from './store-fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function budgetStoreContract(label: string, makeFixture: FixtureFactory): void {
  describe(`BudgetStore contract (${label})`, () => {
    let fx: StoreFixture;
    let budgets: BudgetStore;
    beforeEach(async () => {
      fx = await makeFixture();
      budgets = fx.stores.budgets;
    });
    afterEach(async () => {
      await fx.close();
    });

    const reserve = (id: string, estimateUsd: number, limitUsd = 1, tenantId = 'acme', ttlMs?: number) =>
      budgets.reserve({ tenantId, period: 'month', limitUsd, estimateUsd, reservationId: id, ttlMs });

    it('reserves within the limit, refuses beyond it, and settles the actual cost', async () => {
      const a = await reserve('a', 0.6);
      expect(a).toMatchObject({ ok: true, reservationId: 'a' });
      expect(a.ok && a.remainingUsd).toBeCloseTo(0.4, 9);
      const b = await reserve('b', 0.5);
      expect(b.ok).toBe(false);
      expect(!b.ok && b.remainingUsd).toBeCloseTo(0.4, 9);
      expect(!b.ok && b.limitUsd).toBe(1);

      let s = await budgets.spent('acme', 'month');
      expect(s.spentUsd).toBe(0);
      expect(s.reservedUsd).toBeCloseTo(0.6, 9);
      expect(s.periodKey).toMatch(/^\d{4}-\d{2}$/);
      expect(s.periodStart).toBeLessThanOrEqual(Date.now());
      expect(s.periodEnd).toBeGreaterThan(Date.now());

      expect(await budgets.settle('a', 0.25)).toBe(true);
      s = await budgets.spent('acme', 'month');
      expect(s.spentUsd).toBeCloseTo(0.25, 9);
      expect(s.reservedUsd).toBe(0);
      // Settling twice is ignored; so is releasing a settled reservation.
      expect(await budgets.settle('a', 0.25)).toBe(false);
      expect(await budgets.release('a')).toBe(false);
      expect((await budgets.spent('acme', 'month')).spentUsd).toBeCloseTo(0.25, 9);
      expect(await budgets.settle('unknown', 1)).toBe(false);

      // The freed room is usable again.
      expect((await reserve('c', 0.75)).ok).toBe(true);
      expect((await reserve('d', 0.01)).ok).toBe(false);
    });

    it('a reservation extended by a second one (a stream retried after billed attempts): settled above its own estimate within both, the extension released after; no room appears in between', async () => {
      expect((await reserve('call', 0.5)).ok).toBe(true);
      expect((await reserve('call+1', 0.3)).ok).toBe(true);
      // Another request finds only what both leave.
      expect((await reserve('other', 0.25)).ok).toBe(false);
      // The call settles above its first reservation; its extension still holds the rest until released.
      expect(await budgets.settle('call', 0.7)).toBe(true);
      let s = await budgets.spent('acme', 'month');
      expect(s.spentUsd).toBeCloseTo(0.7, 9);
      expect(s.reservedUsd).toBeCloseTo(0.3, 9);
      expect((await reserve('other', 0.05)).ok).toBe(false);
      expect(await budgets.release('call+1')).toBe(true);
      s = await budgets.spent('acme', 'month');
      expect(s.spentUsd).toBeCloseTo(0.7, 9);
      expect(s.reservedUsd).toBe(0);
      expect((await reserve('other', 0.3)).ok).toBe(true);
      expect((await reserve('more', 0.01)).ok).toBe(false);
    });

    it('a forced reservation (money already spent) is never refused: its settlement counts over the limit, later reservations are refused', async () => {
      expect((await reserve('held', 1)).ok).toBe(true);
      // All the room held; after a first charge the period is over its limit: an ordinary reservation of nothing is
      // refused there, a forced one is not.
      expect((await budgets.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0, reservationId: 'forced', force: true })).ok).toBe(true);
      expect(await budgets.settle('forced', 0.25)).toBe(true);
      expect((await reserve('plain', 0)).ok).toBe(false);
      expect((await budgets.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0, reservationId: 'forced2', force: true })).ok).toBe(true);
      expect(await budgets.settle('forced2', 0.5)).toBe(true);
      expect(await budgets.spent('acme', 'month')).toMatchObject({ spentUsd: 0.75, reservedUsd: 1 });
      await expect(budgets.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0, reservationId: 'bad', force: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'invalid_request', param: 'force' });
    });

    it('release returns the reservation without charging; reserve is idempotent by id', async () => {
      expect((await reserve('r1', 0.9)).ok).toBe(true);
      expect((await reserve('r1', 0.9)).ok).toBe(true); // same id: the first reservation, not a second one
      expect((await budgets.spent('acme', 'month')).reservedUsd).toBeCloseTo(0.9, 9);
      expect(await budgets.release('r1')).toBe(true);
      expect(await budgets.release('r1')).toBe(false);
      const s = await budgets.spent('acme', 'month');
      expect(s.reservedUsd).toBe(0);
      expect(s.spentUsd).toBe(0);
    });

    it('keeps sums exact in nano-dollars and separates tenants; a settlement counts in every period at its time', async () => {
      for (let i = 0; i < 10; i++) {
        expect((await reserve(`x${i}`, 0.1, 1, 'exact')).ok).toBe(true);
        await budgets.settle(`x${i}`, 0.1);
      }
      expect((await budgets.spent('exact', 'month')).spentUsd).toBe(1);
      expect((await reserve('x10', 0.000000001, 1, 'exact')).ok).toBe(false);
      expect((await budgets.spent('other', 'month')).spentUsd).toBe(0);
      // Reserved in the month, settled into the day, the week and the total too (a budget whose period changes finds it).
      for (const period of ['day', 'week', 'total'] as const) expect((await budgets.spent('exact', period)).spentUsd).toBe(1);
      // The reservation itself holds room in its own period only.
      expect((await reserve('x11', 0.5, 2, 'exact')).ok).toBe(true);
      expect(await budgets.spent('exact', 'day')).toMatchObject({ spentUsd: 1, reservedUsd: 0 });
      expect((await budgets.reserve({ tenantId: 'exact', period: 'day', limitUsd: 2, estimateUsd: 1, reservationId: 'd1' })).ok).toBe(true);
      expect((await budgets.reserve({ tenantId: 'exact', period: 'day', limitUsd: 2, estimateUsd: 0.000000001, reservationId: 'd2' })).ok).toBe(false);
      // A release adds nothing anywhere; a $0 settlement neither.
      await budgets.release('x11');
      await budgets.settle('d1', 0);
      for (const period of ['day', 'week', 'month', 'total'] as const) expect((await budgets.spent('exact', period)).spentUsd).toBe(1);
    });

    it("raiseSpent lifts the current period's settled spend to at least the amount (a budget's new period, from the ledger), never lowers it, and reservations see it", async () => {
      expect(budgets.raiseSpent).toBeTypeOf('function');
      await budgets.raiseSpent!('seeded', 'day', 0.75);
      expect((await budgets.spent('seeded', 'day')).spentUsd).toBe(0.75);
      // Other periods and tenants are untouched.
      expect((await budgets.spent('seeded', 'month')).spentUsd).toBe(0);
      expect((await budgets.spent('other', 'day')).spentUsd).toBe(0);
      expect((await budgets.reserve({ tenantId: 'seeded', period: 'day', limitUsd: 1, estimateUsd: 0.3, reservationId: 's1' })).ok).toBe(false);
      const r = await budgets.reserve({ tenantId: 'seeded', period: 'day', limitUsd: 1, estimateUsd: 0.2, reservationId: 's2' });
      expect(r.ok && r.remainingUsd).toBeCloseTo(0.05, 9);
      await budgets.settle('s2', 0.2);
      // Below what is settled already: nothing changes (the settled spend already counts it).
      await budgets.raiseSpent!('seeded', 'day', 0.5);
      expect((await budgets.spent('seeded', 'day')).spentUsd).toBeCloseTo(0.95, 9);
      await budgets.raiseSpent!('seeded', 'day', 1.25);
      expect((await budgets.spent('seeded', 'day')).spentUsd).toBe(1.25);
      await expect(budgets.raiseSpent!('seeded', 'day', -1)).rejects.toMatchObject({ code: 'invalid_request' });
    });

    it('raiseSpent with `at` raises the period that time falls in (the ledger window read), not the current one', async () => {
      const yesterday = Date.now() - 86_400_000;
      await budgets.raiseSpent!('dated', 'day', 0.8, yesterday);
      // Today's count is untouched; yesterday's holds the raise (a reservation made at that time sees it).
      expect((await budgets.spent('dated', 'day')).spentUsd).toBe(0);
      expect((await budgets.reserve({ tenantId: 'dated', period: 'day', limitUsd: 1, estimateUsd: 0.3, reservationId: 'y1', at: yesterday })).ok).toBe(false);
      expect((await budgets.reserve({ tenantId: 'dated', period: 'day', limitUsd: 1, estimateUsd: 0.3, reservationId: 't1' })).ok).toBe(true);
      await expect(budgets.raiseSpent!('dated', 'day', 1, Number.NaN)).rejects.toMatchObject({ code: 'invalid_request', param: 'at' });
    });

    it('records the actual cost even when it exceeds the estimate, then refuses further reservations', async () => {
      expect((await reserve('o1', 0.1)).ok).toBe(true);
      expect(await budgets.settle('o1', 1.5)).toBe(true);
      expect((await budgets.spent('acme', 'month')).spentUsd).toBeCloseTo(1.5, 9);
      const next = await reserve('o2', 0.01);
      expect(next.ok).toBe(false);
      expect(!next.ok && next.remainingUsd).toBe(0);
    });

    it('expires abandoned reservations after their TTL, and a late settle still charges', async () => {
      // A TTL a loaded machine does not run past between the two reservations (50 ms can: 'blocked' is then granted).
      expect((await reserve('crash', 0.8, 1, 'acme', 1_000)).ok).toBe(true);
      expect((await reserve('blocked', 0.5)).ok).toBe(false);
      // Waits for the expiry itself (bounded), not for a guess at it.
      await vi.waitFor(async () => expect((await budgets.spent('acme', 'month')).reservedUsd).toBe(0), { timeout: 10_000, interval: 50 });
      expect((await reserve('after', 0.5)).ok).toBe(true);
      // The crashed request's settle arrives late: it is still charged, never lost.
      expect(await budgets.settle('crash', 0.3)).toBe(true);
      expect((await budgets.spent('acme', 'month')).spentUsd).toBeCloseTo(0.3, 9);
    });

    it('never overspends under 200 concurrent reservations', async () => {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => reserve(`c${i}`, 0.013)));
      const granted = results.filter((r) => r.ok).length;
      expect(granted).toBe(Math.floor(1 / 0.013)); // 76: all room used, none beyond
      const s = await budgets.spent('acme', 'month');
      expect(s.reservedUsd + s.spentUsd).toBeLessThanOrEqual(1);
      // Settle half concurrently with a fresh wave of reservations: the invariant still holds.
      const okIds = results.flatMap((r) => (r.ok ? [r.reservationId] : []));
      await Promise.all([
        ...okIds.slice(0, 38).map((id) => budgets.settle(id, 0.005)),
        ...Array.from({ length: 100 }, (_, i) => reserve(`w${i}`, 0.013)),
      ]);
      const after = await budgets.spent('acme', 'month');
      expect(after.reservedUsd + after.spentUsd).toBeLessThanOrEqual(1 + 1e-9);
    });

    it('two processes sharing the store never overspend together', async () => {
      const args = (prefix: string) => ['reserve', JSON.stringify(fx.childConfig), 'shared-tenant', '120', '1', '0.01', prefix];
      const [one, two] = await Promise.all([runWorker(args('p1')), runWorker(args('p2'))]);
      const granted = (JSON.parse(one) as { granted: number }).granted + (JSON.parse(two) as { granted: number }).granted;
      expect(granted).toBe(100); // 240 attempts at $0.01 against $1: exactly 100 fit
      const s = await budgets.spent('shared-tenant', 'month');
      expect(s.reservedUsd).toBeCloseTo(1, 9);
    }, 120_000);

    it('a process killed between reserve and settle loses no settled spend and its open reservation cannot be overspent, then expires', async () => {
      const child = spawnWorker(['reserve-settle-and-hang', JSON.stringify(fx.childConfig), 'crash-tenant', '3000']);
      try {
        await waitForLine(child, 'reserved');
      } finally {
        child.kill('SIGKILL');
      }
      expect(await new Promise((r) => child.once('close', (_c, sig) => r(sig)))).toBe('SIGKILL');
      // A fresh process (as after a restart) sees the settled $0.3 and still counts the dead process's open $0.5.
      const restarted = await createStateStores(fx.childConfig);
      try {
        const b = restarted.budgets;
        const s = await b.spent('crash-tenant', 'total');
        expect(s.spentUsd).toBeCloseTo(0.3, 9);
        expect(s.reservedUsd).toBeCloseTo(0.5, 9);
        expect((await restarted.ledger.get('done'))?.costUsd).toBe(0.3);
        const reserve = (id: string, usd: number) => b.reserve({ tenantId: 'crash-tenant', period: 'total', limitUsd: 1, estimateUsd: usd, reservationId: id });
        expect((await reserve('too-much', 0.3)).ok).toBe(false); // 0.3 + 0.5 + 0.3 > 1
        expect((await reserve('fits', 0.2)).ok).toBe(true);
        // After the dead reservation's TTL its room is free again (bounded wait).
        for (let i = 0; i < 100 && (await b.spent('crash-tenant', 'total')).reservedUsd > 0.2 + 1e-9; i++) await sleep(200);
        expect((await b.spent('crash-tenant', 'total')).reservedUsd).toBeCloseTo(0.2, 9);
        expect((await reserve('after-ttl', 0.5)).ok).toBe(true);
        expect((await reserve('beyond', 0.01)).ok).toBe(false);
      } finally {
        await restarted.close();
      }
    }, 120_000);

    it('rejects bad input with a typed error naming the field', async () => {
      const bad = async (p: Promise<unknown>, param: string) => {
        const e = await p.then(() => undefined, (x: unknown) => x);
        expect(LLMError.isInstance(e) && e.code === 'invalid_request' && e.param).toBe(param);
      };
      await bad(reserve('n', -1), 'estimateUsd');
      await bad(reserve('n', Number.NaN), 'estimateUsd');
      await bad(budgets.reserve({ tenantId: 'a', period: 'year' as never, limitUsd: 1, estimateUsd: 0, reservationId: 'x' }), 'period');
      await bad(budgets.reserve({ tenantId: '', period: 'day', limitUsd: 1, estimateUsd: 0, reservationId: 'x' }), 'tenantId');
      await bad(budgets.settle('x', -2), 'actualUsd');
    });
  });
}
