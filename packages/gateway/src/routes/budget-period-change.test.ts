/**
 * The carry after the tenant update runs while calls of the new period are in flight. settle.ts issues the ledger
 * write and the budget settle concurrently, so a call's ledger row can be read by the carry before its reservation
 * settles: the carry counts only rows that arrived before the update (`until`), so the settle counts the call once.
 */
import { createStateStores } from '@llmrr/core';
import { expect, it } from 'vitest';
import { carryBudgetSpend } from './budget-period-change.js';

it('a call of the new period settling around the second carry is counted once', async () => {
  const stores = await createStateStores({ mode: 'memory' });
  try {
    const updatedAt = Date.now();
    const now = updatedAt + 1;
    // After the update (the budget is now per day): a call reserves in the new period.
    const r = await stores.budgets.reserve({ tenantId: 'acme', period: 'day', limitUsd: 10, estimateUsd: 4, reservationId: 'call-1', at: now });
    expect(r.ok).toBe(true);
    // Its ledger row commits first (settle.ts: record and finish issued together) ...
    await stores.ledger.record({ requestId: 'call-1', tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 3, latencyMs: 1, status: 'success', createdAt: now });
    // ... the admin route's second carry (up to the update) leaves it out ...
    await carryBudgetSpend(stores, 'acme', 'day', updatedAt, updatedAt);
    // ... then the call's budget settle lands.
    await stores.budgets.settle('call-1', 3);
    const state = await stores.budgets.spent('acme', 'day');
    expect(state.spentUsd, 'one $3 call').toBeCloseTo(3, 6);
  } finally {
    await stores.close?.();
  }
});
