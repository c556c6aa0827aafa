import { budgetPeriodWindow, type BudgetPeriod, type PendingCharge, type TenantBudget, type UnsettledCharge } from '@llmrr/core';
import { RETRY_FOR_MS } from '../tenancy/renewals.js';
import type { GatewayStores } from '../types.js';

/**
 * How long after a reservation's expiry its settlement may still land (`Renewals.retry` tries a failed one for
 * `RETRY_FOR_MS` from the call's end, at the latest its expiry), with a minute to spare: an open reservation older than
 * that is a crashed process's, whose row would otherwise never be counted. Core's Redis budget store lists (and keeps)
 * an open reservation at most 15 minutes past its expiry (its `UNSETTLED_HORIZON_MS`): this must stay within that.
 */
const SETTLE_FOR_MS = RETRY_FOR_MS + 60_000;

/**
 * The period whose spend is carried when a tenant's budget goes from `before` to `next`: a budget set where there
 * was none (removed and set again included: the store's count of a period kept while no budget was in force is not
 * the ledger's), or one whose `period` changes. Undefined when `next` clears the budget or keeps the period.
 */
export function budgetPeriodToCarry(before: TenantBudget | null | undefined, next: TenantBudget | null | undefined): BudgetPeriod | undefined {
  return next && before?.period !== next.period ? next.period : undefined;
}

/**
 * Raises the budget store's spend of `period`'s window at `now` to what the usage ledger (the source of truth) holds
 * for the tenant inside it, so a new or changed budget period does not start at $0 (a tenant that spent its monthly
 * budget today cannot switch to a daily one and spend it again), nor at a stale count of an earlier time on that
 * period. The same `now` picks the ledger window and the store's period, so a change made across a period's end
 * raises the period that was read. Callers carry before the tenant update (a failure leaves the budget as it was)
 * and again after it with `until` the time of the update (`carryAfterUpdate`): the calls that arrived before it
 * reserved in the old period; the ledger's rows of them are carried; a call arriving after it reserves in the new
 * period and its settlement counts it, so its row is left out (else counted twice). A settlement counts in every
 * period's counter (core's budget stores), so a call still in flight after both carries is counted in the new period
 * when it settles. `raiseSpent` never lowers, so the second is idempotent. A budget store without `raiseSpent` is left
 * alone. A row the carry reads before its call's settlement lands would be counted twice in the new period (the carry
 * has it, then the settlement adds it): the embedded stores commit a call's (and a prefetch's) row and settlement
 * together; with a ledger that has `carryRead` and a budget store that has `unsettled` (PostgreSQL and Redis, shared
 * mode) the carry lists, after its ledger snapshot, the reservations tied to a row (`ledgerId`) still open, and the
 * raise leaves out the cost of each row of the snapshot whose reservation is still open when it runs (its settlement
 * adds it); any other pair of stores gets a prefetch's settlement before its row, and counts a call twice when its row
 * is read before its settlement lands (docs/core/tenancy.md).
 */
export async function carryBudgetSpend(stores: Pick<GatewayStores, 'budgets' | 'ledger'>, tenantId: string, period: BudgetPeriod, now: number, until?: number): Promise<void> {
  const budgets = stores.budgets;
  if (!budgets.raiseSpent) return;
  const w = budgetPeriodWindow(period, now);
  const end = until === undefined ? w.end : Math.min(w.end, until);
  const to = Number.isFinite(end) ? end : undefined;
  if (stores.ledger.carryRead && budgets.unsettled) {
    const unsettled = budgets.unsettled.bind(budgets);
    let open: UnsettledCharge[] = [];
    const read = await stores.ledger.carryRead(tenantId, w.start, to, async () => {
      open = await unsettled(tenantId, SETTLE_FOR_MS);
      return open.map((o) => o.ledgerId);
    });
    if (read.costUsd <= 0) return;
    // One reservation per row: a row named by two (a custom request id repeated: the ledger keeps the first row) is
    // left to the first, so its cost is taken out once.
    const pending: PendingCharge[] = [];
    const seen = new Set<string>();
    for (const o of open) {
      const costUsd = read.costs.get(o.ledgerId);
      if (costUsd === undefined || costUsd <= 0 || seen.has(o.ledgerId)) continue;
      seen.add(o.ledgerId);
      pending.push({ ...o, costUsd });
    }
    await budgets.raiseSpent(tenantId, period, read.costUsd, now, pending);
    return;
  }
  const { costUsd } = await stores.ledger.summary({ tenantId, from: w.start, ...(to !== undefined ? { to } : {}) });
  if (costUsd > 0) await budgets.raiseSpent(tenantId, period, costUsd, now);
}

/**
 * The carry after the tenant update (`carryBudgetSpend` with `until`, the update's time): the change is in force, so
 * a failure of it never fails the change, nor keeps it from its audit entry; it is given to `failed` (logged).
 */
export async function carryAfterUpdate(
  stores: Pick<GatewayStores, 'budgets' | 'ledger'>,
  tenantId: string,
  period: BudgetPeriod,
  now: number,
  until: number,
  failed: (e: unknown) => void,
): Promise<void> {
  try {
    await carryBudgetSpend(stores, tenantId, period, now, until);
  } catch (e) {
    failed(e);
  }
}
