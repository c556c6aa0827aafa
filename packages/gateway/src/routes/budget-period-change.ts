import { budgetPeriodWindow, type BudgetPeriod, type TenantBudget } from '@llmrr/core';
import type { GatewayStores } from '../types.js';

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
 * alone. A row the carry reads before its call's settlement lands is counted twice in the new period (the carry has it,
 * then the settlement adds it): the embedded stores commit a call's (and a prefetch's) row and settlement together,
 * any other pair of stores gets a prefetch's settlement before its row; in shared mode a call's row and settlement land a few ms apart, and a failed
 * settlement retried later (`Renewals.retry`) lands after its row (docs/core/tenancy.md).
 */
export async function carryBudgetSpend(stores: Pick<GatewayStores, 'budgets' | 'ledger'>, tenantId: string, period: BudgetPeriod, now: number, until?: number): Promise<void> {
  if (!stores.budgets.raiseSpent) return;
  const w = budgetPeriodWindow(period, now);
  const end = until === undefined ? w.end : Math.min(w.end, until);
  const { costUsd } = await stores.ledger.summary({ tenantId, from: w.start, ...(Number.isFinite(end) ? { to: end } : {}) });
  if (costUsd > 0) await stores.budgets.raiseSpent(tenantId, period, costUsd, now);
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
