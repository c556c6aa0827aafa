/**
 * Prefetches of the router's predictive cache, made on a tenant's behalf, land in that tenant's ledger and
 * budget. Real gateway, real LLMRouter with `cache.predictive` on, the labelled MOCK engine as the model
 * (priced, so costs are non-zero), in-memory stores (SQLite in memory).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { budgetPeriodWindow, type BudgetReservation, type BudgetReserveRequest, type Usage } from '@llmrr/core';
import { FixedUsageEngine } from '../test-support/fixed-usage-engine.js';
import type { Harness } from '../test-support/harness.js';
import { askBoth, createPrefetchHarness, FIRST_QUESTION, FOLLOW_UP, prefetchRows, supportConversations } from '../test-support/prefetch-conversations.js';
import { carryBudgetSpend } from '../routes/budget-period-change.js';
import { PREFETCH_ENDPOINT } from './prefetch-metering.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function setup(budgetUsd: number | undefined, chatUsage?: Usage) {
  h = await createPrefetchHarness({ stores: 'memory', routerOptions: chatUsage ? { engines: { chat: new FixedUsageEngine(chatUsage) } } : {} });
  const stores = h.stores!;
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', ...(budgetUsd !== undefined ? { budget: { amountUsd: budgetUsd, period: 'total' as const } } : {}) });
  const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
  return { stores, router: h.router, conversation: supportConversations(h, { authorization: `Bearer ${secret}` }) };
}

describe('prefetch metering', () => {
  it("writes each prefetch's model call to the tenant's ledger and charges its budget", async () => {
    const { stores, router, conversation } = await setup(100);
    await askBoth(conversation, ['u1', 'u2']);
    expect(router.prefetch!.stats('acme').calls).toBe(0);
    const u3 = conversation('u3');
    await u3(FIRST_QUESTION);
    expect(router.prefetch!.stats('acme').calls).toBe(1);
    const [row] = await prefetchRows(stores, 1);
    const prefetchCost = router.prefetch!.stats('acme').costUsd;
    expect(prefetchCost).toBeGreaterThan(0);
    expect(row).toMatchObject({ tenantId: 'acme', deployment: 'chat', endpoint: PREFETCH_ENDPOINT, status: 'success', cacheHit: false, stream: false });
    expect(row!.costUsd).toBeCloseTo(prefetchCost, 9);
    expect(row!.outputTokens).toBeGreaterThan(0);

    // The live follow-up is served from the prefetched entry: a cache hit that costs nothing.
    const follow = await u3(FOLLOW_UP);
    expect(follow.headers.get('x-llmrr-cache')).toBe('hit-exact');

    // Budget spent = every ledger row's cost (live calls + the prefetch), and the invoice has the prefetch.
    const rows = await stores.ledger.query({ tenantId: 'acme', limit: 1000 });
    const ledgerTotal = rows.reduce((s, r) => s + r.costUsd, 0);
    const budget = await stores.budgets.spent('acme', 'total');
    expect(budget.spentUsd).toBeCloseTo(ledgerTotal, 9);
    expect(budget.reservedUsd).toBe(0);
    const invoice = await stores.ledger.invoice('acme', 0, Date.now() + 60_000);
    expect(invoice.totalUsd).toBeCloseTo(ledgerTotal, 9);
    expect(invoice.requests).toBe(rows.length);
  });

  it("a prefetch's prompt-cache reads and writes are in its ledger record", async () => {
    const usage: Usage = { inputTokens: 900, outputTokens: 12, totalTokens: 912, cachedInputTokens: 200, cacheWriteInputTokens: 500, cacheWrite1hInputTokens: 50 };
    const { stores, conversation } = await setup(undefined, usage);
    await askBoth(conversation, ['u1', 'u2', 'u3']);
    const [row] = await prefetchRows(stores, 1);
    expect(row).toMatchObject({ inputTokens: 900, outputTokens: 12, cachedInputTokens: 200, cacheWriteInputTokens: 500, cacheWrite1hInputTokens: 50 });
  });

  it("a tenant without a budget gets the ledger record; another tenant's ledger and budget are untouched", async () => {
    const { stores, router, conversation } = await setup(undefined);
    await stores.tenants.createTenant({ id: 'globex', name: 'Globex', budget: { amountUsd: 50, period: 'total' } });
    await askBoth(conversation, ['u1', 'u2', 'u3']);
    const rows = await prefetchRows(stores, 1);
    expect(rows.every((r) => r.tenantId === 'acme')).toBe(true);
    expect(router.prefetch!.stats('acme').calls).toBe(rows.length);
    expect(await stores.ledger.query({ tenantId: 'globex' })).toEqual([]);
    expect((await stores.budgets.spent('globex', 'total')).spentUsd).toBe(0);
  });

  // (Found in review: the row was dated by the ledger's clock when written, and the charge went to the budget period
  // of the budget store's clock a write later, so at a period's end the two could fall in different periods, and a
  // gateway's injected clock dated the requests' rows but not the prefetches'.)
  it("dates a prefetch's ledger row and budget charge by the gateway's clock, as a request's: both in one period at a month's last millisecond", async () => {
    const now = Date.UTC(2026, 0, 31, 23, 59, 59, 999);
    h = await createPrefetchHarness({ stores: 'memory', gateway: { now: () => now } });
    const stores = h.stores!;
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 100, period: 'month' } });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    const reserved: Array<{ request: BudgetReserveRequest; result: BudgetReservation }> = [];
    const reserve = stores.budgets.reserve.bind(stores.budgets);
    stores.budgets.reserve = async (request) => {
      const result = await reserve(request);
      reserved.push({ request, result });
      return result;
    };
    await askBoth(supportConversations(h, { authorization: `Bearer ${secret}` }), ['u1', 'u2', 'u3']);
    const [row] = await prefetchRows(stores, 1);
    const rows = await stores.ledger.query({ tenantId: 'acme', limit: 1000 });
    const invoice = await stores.ledger.invoice('acme', Date.UTC(2026, 0, 1), Date.UTC(2026, 1, 1));
    expect({ prefetchAt: row!.createdAt, invoiced: invoice.requests }).toEqual({ prefetchAt: now, invoiced: rows.length });
    await vi.waitFor(() => expect(reserved.some((r) => r.request.reservationId.endsWith('~prefetch'))).toBe(true));
    expect(new Set(reserved.map((r) => r.result.periodKey))).toEqual(new Set(['2026-01']));
  });

  it('a prefetch charged while the budget period changes (month -> day) is counted once in the new period', async () => {
    const { stores, conversation } = await setup(undefined);
    await stores.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
    // The admin's period change (as admin-routes makes it: carry, update, carry again up to the update) happens
    // while the prefetch is being charged: when its budget reservation is asked for.
    let settled: Promise<boolean> | undefined;
    const reserve = stores.budgets.reserve.bind(stores.budgets);
    const settle = stores.budgets.settle.bind(stores.budgets);
    stores.budgets.reserve = async (request) => {
      if (request.reservationId.endsWith('~prefetch')) {
        const at = Date.now();
        await carryBudgetSpend(stores, 'acme', 'day', at);
        await stores.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'day' } });
        await carryBudgetSpend(stores, 'acme', 'day', at, Date.now());
      }
      return reserve(request);
    };
    stores.budgets.settle = (id, actual) => {
      const p = settle(id, actual);
      if (id.endsWith('~prefetch')) settled = p;
      return p;
    };
    await askBoth(conversation, ['u1', 'u2']);
    await conversation('u3')(FIRST_QUESTION);
    const [row] = await prefetchRows(stores, 1);
    await vi.waitFor(() => expect(settled).toBeDefined());
    expect(await settled).toBe(true);
    expect((await stores.tenants.getTenant('acme'))!.budget!.period).toBe('day');
    // The day's count is the ledger's (the requests' rows and the prefetch's), the prefetch once.
    const ledgerDay = (await stores.ledger.summary({ tenantId: 'acme', from: budgetPeriodWindow('day', row!.createdAt).start })).costUsd;
    expect(row!.costUsd).toBeGreaterThan(0);
    expect((await stores.budgets.spent('acme', 'day')).spentUsd).toBeCloseTo(ledgerDay, 9);
  });
});
