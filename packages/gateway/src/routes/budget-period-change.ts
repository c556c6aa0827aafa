import { budgetPeriodWindow, type TenantBudget } from '@llmrr/core';
import type { GatewayStores } from '../types.js';

/**
 * Before a tenant's budget changes its `period` (admin PUT of the budget, PATCH of the tenant): the budget store's
 * spend of the new current period is raised to what the usage ledger (the source of truth) holds for the tenant
 * inside that window, so the new period does not start at $0 (a tenant that spent its monthly budget today cannot
 * switch to a daily one and spend it again), nor at a stale count of an earlier time on that period. Done before the
 * tenant is updated: a failure leaves the budget as it was (the admin call fails and may be sent again), and a raise
 * of a period not yet in use is harmless (`raiseSpent` never lowers). A new budget (none before) and an unchanged
 * period are left alone; so is a budget store without `raiseSpent`. A call settling while the change is made may
 * miss the new period's count (its row written after the ledger was read): one call at most per call in flight.
 */
export async function carryBudgetSpend(stores: GatewayStores, tenantId: string, next: TenantBudget | null | undefined, now: number): Promise<void> {
  if (!next || !stores.budgets.raiseSpent) return;
  const before = (await stores.tenants.getTenant(tenantId))?.budget;
  if (!before || before.period === next.period) return;
  const w = budgetPeriodWindow(next.period, now);
  const { costUsd } = await stores.ledger.summary({ tenantId, from: w.start, ...(Number.isFinite(w.end) ? { to: w.end } : {}) });
  if (costUsd > 0) await stores.budgets.raiseSpent(tenantId, next.period, costUsd);
}
