import { PREFETCH_METADATA_KEY, providerCacheUsage, type RouterEvents, type RouterResult } from '@llmrr/core';
import { ANONYMOUS } from '../auth/principal.js';
import { ledgerCounts, withGuardTokens, type LedgerCounts } from '../calls/ledger-counts.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { GatewayRouter, GatewayStores } from '../types.js';

/** The ledger's `endpoint` of a prefetch call (no client request made it; the router's predictive cache did). */
export const PREFETCH_ENDPOINT = 'prefetch';

export interface PrefetchMetering {
  /** Stops listening and waits for the records already started. */
  close(): Promise<void>;
}

/**
 * Meters the router's predictive-cache prefetches (`cache.predictive`): each prefetch that called a model
 * (not answered from the cache, or answered from it through a semantic guard's paid call: the guard's cost)
 * becomes a ledger record of its tenant, endpoint `prefetch`, and is charged
 * to the tenant's budget, so usage, invoices and budgets include what prefetching spent on the tenant's
 * behalf. The prefetcher's own per-tenant budget (`cache.predictive.budget`) still decides whether a
 * prefetch starts; the charge is never refused (the money is spent): it counts in the budget's period even when
 * the calls in flight hold the room left, or the period is already over its limit.
 *
 * The metrics count the same spend: its cost in `llm_cost_usd_total` (the tenant's and the deployment's
 * labels) and its tokens in `llm_tokens_total` (for an answer from the cache, only its guard call's tokens: the row
 * keeps the answer's, marked as a hit), once its row is written, so cost panels add up to the invoices
 * (a prefetch whose row could not be written is logged, not counted); a prefetch is not a client request and
 * is not in `llm_requests_total`. They count it without stores too (as a demo tenant's requests, which have no
 * ledger record, are counted).
 *
 * Not metered: the embedding calls the prefetcher makes to learn request sequences (they carry no tenant).
 */
export function meterPrefetches(
  router: GatewayRouter,
  stores: GatewayStores | undefined,
  metrics: GatewayMetrics | undefined,
  log: (message: string, requestId: string, error?: unknown) => void,
  now: () => number = Date.now,
): PrefetchMetering {
  // Only a router that prefetches (core's LLMRouter with `cache.predictive` on exposes `prefetch`): otherwise
  // a `request:end` listener would only cost every request its event payload.
  if (!router.on || !(router as { prefetch?: unknown }).prefetch || (!stores && !metrics)) return { close: async () => {} };
  const pending = new Set<Promise<void>>();
  const off = router.on('request:end', (e: RouterEvents['request:end']) => {
    if (e.metadata[PREFETCH_METADATA_KEY] !== true) return;
    // Without stores the gateway calls the router with no tenant (`routerTenant`): its prefetches are `anonymous`'s,
    // as its requests are, whatever tenant the router's config gives calls without one (a v3 `defaultTenant`).
    const tenantId = stores ? e.metadata.tenant : ANONYMOUS.tenantId;
    const result = e.result;
    // A prefetch answered from the cache costs nothing, unless a semantic guard's call let the answer through.
    if (!result || (result.cached !== false && !(result.cost.totalUsd > 0)) || typeof tenantId !== 'string') return;
    // (Clamped as the price was: counts that do not add up never lose the row.)
    // (A cached answer's counts without the provider-cache reads and writes its original call made, as for a live hit;
    // with the tokens of the guard call that let it through, as a request's row has them.)
    const counts = ledgerCounts(withGuardTokens(result.cached !== false ? providerCacheUsage(result.usage, result.cached) : result.usage, result.guardUsage));
    // The metrics, which add up to the providers' bills, take only the calls made: for a cached answer its guard's
    // (no provider was called for the answer itself; as `callsForHit` in settle.ts for a request's hit).
    const billed = result.cached !== false ? ledgerCounts(withGuardTokens(undefined, result.guardUsage)) : counts;
    const counted = () =>
      metrics?.observeSpend({
        model: result.deployment,
        tenant: tenantId,
        costUsd: result.cost.totalUsd,
        inputTokens: billed.inputTokens,
        outputTokens: billed.outputTokens,
        cachedInputTokens: billed.cachedInputTokens,
        cacheWriteInputTokens: billed.cacheWriteInputTokens,
      });
    if (!stores) return counted();
    // When it ended, on the gateway's clock (a request's row and reservation are dated by it too): one reading for
    // both its ledger row and its budget charge, so that the two are in one period even at a period's end.
    const p: Promise<void> = charge(stores, tenantId, e.requestId, result, counts, counted, now())
      .catch((error: unknown) => log('metering a prefetch failed', e.requestId, error))
      .finally(() => pending.delete(p));
    pending.add(p);
  });
  return {
    async close() {
      off();
      await Promise.allSettled([...pending]);
    },
  };
}

/**
 * `counted`: adds the spend to the metrics, once its row is written (or when there is no row to write). `at`: the row's
 * `createdAt` and the budget period the charge goes to (the period the row is invoiced in).
 */
async function charge(stores: GatewayStores, tenantId: string, requestId: string, r: RouterResult, counts: LedgerCounts, counted: () => void, at: number): Promise<void> {
  const tenant = await stores.tenants.getTenant(tenantId);
  // (A tenant the stores do not know has no ledger: counted as a demo tenant's requests are.)
  if (!tenant) return counted();
  const costUsd = r.cost.totalUsd;
  const entry = {
    requestId,
    tenantId,
    model: r.deployment,
    deployment: r.deployment,
    ...(r.provider ? { provider: r.provider } : {}),
    endpoint: PREFETCH_ENDPOINT,
    ...counts,
    costUsd,
    latencyMs: r.latencyMs,
    ...(r.timeToFirstTokenMs !== undefined ? { ttftMs: r.timeToFirstTokenMs } : {}),
    status: 'success' as const,
    cacheHit: r.cached !== false,
    stream: false,
    createdAt: at,
  };
  // The money is spent: the charge is a forced reservation of nothing (never refused, whatever the calls in flight
  // hold; the period's count may go over the limit, later admissions are refused as usual) settled at the cost. The
  // row is written whatever the charge did (invoices come from the ledger).
  let failed: Error | undefined;
  const fail = (e: unknown) => {
    failed = e instanceof Error ? e : new Error('charging the budget failed', { cause: e });
  };
  let settled: Promise<unknown> | undefined;
  try {
    if (tenant.budget && costUsd > 0) {
      const reservationId = `${requestId}~prefetch`;
      const reserved = await stores.budgets.reserve({ tenantId, period: tenant.budget.period, limitUsd: tenant.budget.amountUsd, estimateUsd: 0, reservationId, at, force: true });
      // (Only a budget store that does not know `force` refuses it.)
      if (!reserved.ok) failed = new Error(`the budget of tenant "${tenantId}" for ${reserved.periodKey} refused the prefetch's charge; its $${costUsd} is in the ledger only`);
      else settled = stores.budgets.settle(reservationId, costUsd).catch(fail);
    }
  } catch (e) {
    fail(e);
  }
  // Embedded (SQLite) stores: the settlement and the row are issued in the same synchronous run, so they commit in one
  // group transaction (a crash leaves both or neither). Shared stores (Redis, PostgreSQL): settled first, then the row:
  // a budget period change carries the ledger's sum into the new period's counter (`raiseSpent`, which never lowers
  // it), and a row visible there before its settlement landed would be carried and then added again by the settlement.
  if (settled && !sameTransaction(stores)) await settled;
  const recorded = stores.ledger.record(entry);
  await Promise.all([recorded, settled]);
  counted();
  if (failed) throw failed;
}

/** The stores `createStateStores` makes in `embedded` and `memory` mode: budgets and ledger in one SQLite (group commit). */
function sameTransaction(stores: GatewayStores): boolean {
  return stores.mode === 'embedded' || stores.mode === 'memory';
}
