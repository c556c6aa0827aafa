import { PREFETCH_METADATA_KEY, providerCacheUsage, sharesGroupCommit, type BudgetReserveRequest, type BudgetStore, type RouterEvents, type Tenant, type UsageEntryInput } from '@llmrr/core';
import { ANONYMOUS } from '../auth/principal.js';
import { ledgerCounts, withGuardTokens, type LedgerCounts } from '../calls/ledger-counts.js';
import type { GatewayMetrics, SpendObservation } from '../metrics/gateway-metrics.js';
import { settled } from '../tenancy/settled.js';
import type { GatewayRouter, GatewayStores } from '../types.js';

/** The ledger's `endpoint` of a prefetch call (no client request made it; the router's predictive cache did). */
export const PREFETCH_ENDPOINT = 'prefetch';

/**
 * Takes work whose store failed, to try it again (the gateway's `Renewals.retryCharge`): `label` names it in the logs,
 * `lost` says what is lost when it is given up (default: its cost is not counted in the budget).
 */
export type Retry = (work: () => Promise<void>, label: string, lost?: string) => void;

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
 * the calls in flight hold the room left, or the period is already over its limit. A charge whose store failed (its
 * reservation or its settlement) is logged and given to `retry` (the gateway's `Renewals.retryCharge`, with a label
 * naming its request id, tenant and cost), which tries it again for up to 10 minutes; without `retry` it is only logged.
 * A settlement the store answers as changing nothing (its reservation no longer open) is logged as not counted. A row's
 * write that fails is tried once more, as a call's row is; a tenant's read that fails is given to `retry` too (the row
 * and the charge are made once it answers).
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
  retry?: Retry,
): PrefetchMetering {
  // Only a router that prefetches (core's LLMRouter with `cache.predictive` on exposes `prefetch`): otherwise
  // a `request:end` listener would only cost every request its event payload.
  if (!router.on || !(router as { prefetch?: unknown }).prefetch || (!stores && !metrics)) return { close: async () => {} };
  const pending = new Set<Promise<void>>();
  const off = router.on('request:end', (e: RouterEvents['request:end']) => {
    // Only the prefetch's row and spend are kept from here (`spendOf`), never the event or its result (the answer's
    // text): a charge waiting to be tried again during a store outage holds them, some thousands at once.
    const spend = spendOf(e, stores !== undefined, metrics, now);
    if (!spend) return;
    if (!stores) return spend.counted();
    const requestId = spend.entry.requestId;
    const p: Promise<void> = charge(stores, spend.entry, spend.counted, retry, log)
      .catch((error: unknown) => log('metering a prefetch failed', requestId, error))
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

/** What a prefetch's metering keeps of its `request:end`: its ledger row, and `counted`, which adds its spend to the metrics. */
interface PrefetchSpend {
  entry: UsageEntryInput & { requestId: string; tenantId: string; costUsd: number; createdAt: number };
  counted: () => void;
}

/**
 * A prefetch's ledger row (dated now, on the gateway's clock) and its metrics' spend, from its `request:end`; undefined
 * for an event that is no metered prefetch. Neither holds the event or its result (the answer's text).
 */
function spendOf(e: RouterEvents['request:end'], withStores: boolean, metrics: GatewayMetrics | undefined, now: () => number): PrefetchSpend | undefined {
  if (e.metadata[PREFETCH_METADATA_KEY] !== true) return undefined;
  // Without stores the gateway calls the router with no tenant (`routerTenant`): its prefetches are `anonymous`'s,
  // as its requests are, whatever tenant the router's config gives calls without one (a v3 `defaultTenant`).
  const tenantId = withStores ? e.metadata.tenant : ANONYMOUS.tenantId;
  const r = e.result;
  // A prefetch answered from the cache costs nothing, unless a semantic guard's call let the answer through.
  if (!r || (r.cached !== false && !(r.cost.totalUsd > 0)) || typeof tenantId !== 'string') return undefined;
  // (Clamped as the price was: counts that do not add up never lose the row.)
  // (A cached answer's counts without the provider-cache reads and writes its original call made, as for a live hit;
  // with the tokens of the guard call that let it through, as a request's row has them.)
  const counts: LedgerCounts = ledgerCounts(withGuardTokens(r.cached !== false ? providerCacheUsage(r.usage, r.cached) : r.usage, r.guardUsage));
  // The metrics, which add up to the providers' bills, take only the calls made: for a cached answer its guard's
  // (no provider was called for the answer itself; as `callsForHit` in settle.ts for a request's hit).
  const billed = r.cached !== false ? ledgerCounts(withGuardTokens(undefined, r.guardUsage)) : counts;
  const observed: SpendObservation = {
    model: r.deployment,
    tenant: tenantId,
    costUsd: r.cost.totalUsd,
    inputTokens: billed.inputTokens,
    outputTokens: billed.outputTokens,
    cachedInputTokens: billed.cachedInputTokens,
    cacheWriteInputTokens: billed.cacheWriteInputTokens,
  };
  const entry = {
    requestId: e.requestId,
    tenantId,
    model: r.deployment,
    deployment: r.deployment,
    ...(r.provider ? { provider: r.provider } : {}),
    endpoint: PREFETCH_ENDPOINT,
    ...counts,
    costUsd: r.cost.totalUsd,
    latencyMs: r.latencyMs,
    ...(r.timeToFirstTokenMs !== undefined ? { ttftMs: r.timeToFirstTokenMs } : {}),
    status: 'success' as const,
    cacheHit: r.cached !== false,
    stream: false,
    // When it ended, on the gateway's clock (a request's row and reservation are dated by it too): one reading for
    // both its ledger row and its budget charge, so that the two are in one period even at a period's end.
    createdAt: now(),
  };
  return { entry, counted: observer(metrics, observed) };
}

/** Adds `o` to the metrics when called (a closure over `o` alone). */
function observer(metrics: GatewayMetrics | undefined, o: SpendObservation): () => void {
  return () => metrics?.observeSpend(o);
}

/**
 * `entry`: the prefetch's ledger row; its `createdAt` is also the budget period the charge goes to (the period the row
 * is invoiced in). `counted`: adds the spend to the metrics, once its row is written (or when there is no row to
 * write). `retry`: takes a charge whose store failed, to try it again (with its label for the logs).
 */
async function charge(stores: GatewayStores, entry: PrefetchSpend['entry'], counted: () => void, retry: Retry | undefined, log: (message: string, requestId: string, error?: unknown) => void): Promise<void> {
  const { requestId, tenantId } = entry;
  let tenant: Tenant | undefined;
  try {
    tenant = await settled(() => stores.tenants.getTenant(tenantId));
  } catch (e) {
    // The tenant store failed (PostgreSQL unreachable in shared mode, a busy SQLite): without the tenant neither the row
    // nor the charge can be made, and the prefetch was paid. Both are tried again from here (`retry`, as a charge that
    // failed is); the work ends once the tenant is read (what follows logs its own failures and hands a failed charge
    // to `retry` again). Without `retry`, the failure is only logged (by the caller). The retry holds the row and the
    // spend only (`spendOf`), not the prefetch's answer.
    if (!retry) throw e;
    log('reading the tenant of a prefetch failed; its ledger row and budget charge are tried again', requestId, e);
    retry(() => chargeRead(stores, entry, counted, retry, log), `the ledger row and budget charge of prefetch ${requestId} (tenant "${tenantId}", $${entry.costUsd})`, ROW_AND_CHARGE_LOST);
    return;
  }
  return meter(stores, tenant, entry, counted, retry, log);
}

/**
 * What a retry of a prefetch whose tenant could not be read loses when it is given up, or dropped by its pool's cap
 * (`Renewals.retryCharge`'s `lost`).
 */
const ROW_AND_CHARGE_LOST = 'neither written to the ledger nor counted in the budget';

/** `retry`'s work for a prefetch whose tenant could not be read: reads it (rejects while the store fails), then meters. */
async function chargeRead(stores: GatewayStores, entry: PrefetchSpend['entry'], counted: () => void, retry: Retry, log: (message: string, requestId: string, error?: unknown) => void): Promise<void> {
  const read = await settled(() => stores.tenants.getTenant(entry.tenantId));
  await meter(stores, read, entry, counted, retry, log).catch((error: unknown) => log('metering a prefetch failed', entry.requestId, error));
}

/** `charge` once its tenant is read: the prefetch's ledger row and budget charge. */
async function meter(
  stores: GatewayStores,
  tenant: Tenant | undefined,
  entry: PrefetchSpend['entry'],
  counted: () => void,
  retry: Retry | undefined,
  log: (message: string, requestId: string, error?: unknown) => void,
): Promise<void> {
  // (A tenant the stores do not know has no ledger: counted as a demo tenant's requests are.)
  if (!tenant) return counted();
  const { requestId, tenantId, costUsd, createdAt: at } = entry;
  // The money is spent: the charge is a forced reservation of nothing (never refused, whatever the calls in flight
  // hold; the period's count may go over the limit, later admissions are refused as usual) settled at the cost. The
  // row is written even when the charge failed (invoices come from the ledger); only a failed commit of the group the
  // two share (below) loses both.
  const budgets = stores.budgets;
  const label = `the budget charge of prefetch ${requestId} (tenant "${tenantId}", $${costUsd})`;
  const c =
    tenant.budget && costUsd > 0
      ? new PrefetchCharge(
          budgets,
          { tenantId, period: tenant.budget.period, limitUsd: tenant.budget.amountUsd, estimateUsd: 0, reservationId: `${requestId}~prefetch`, ledgerId: requestId, at, force: true },
          costUsd,
          label,
          (message, e) => log(message, requestId, e),
        )
      : undefined;
  let failed: unknown;
  let settling: Promise<unknown> | undefined;
  if (c) {
    try {
      await c.reserve();
    } catch (e) {
      failed = e;
    }
    if (failed === undefined) settling = c.settle().catch((e: unknown) => void (failed = e));
  }
  // Only the ledger and budget store `createStateStores` made together (embedded and memory mode) share one SQLite
  // group commit: the settlement and the row, issued in the same synchronous run, then commit in one transaction (a
  // crash leaves both or neither; a row that fails alone leaves the settlement committed: counted once, the row lost
  // and logged). Any other pair (shared mode, a Redis or custom budget store over embedded stores): settled first, then
  // the row: a budget period change carries the ledger's sum into the new period's counter (`raiseSpent`, which never
  // lowers it), and a row visible there before its settlement landed would be carried and then added again by the
  // settlement (the prefetch counted twice).
  if (settling && !sharesGroupCommit(stores.ledger, budgets)) await settling;
  // A failed write is tried once more, as a call's row is (calls/settle.ts: a dropped connection, a failed group
  // commit): the ledger is idempotent by request id, so a first write that committed before its answer was lost is not
  // doubled.
  const write = () => settled(() => stores.ledger.record(entry));
  const recorded = write().then(
    () => undefined,
    () =>
      write().then(
        () => undefined,
        (e: unknown) => ({ e }),
      ),
  );
  const [unrecorded] = await Promise.all([recorded, settling]);
  if (!unrecorded) counted();
  if (failed !== undefined) {
    // A store's failure (not a refusal, which a store that does not know `force` would repeat) is tried again, as a
    // call's settlement is: from where it stopped (each step is idempotent by reservation id). A settlement that lands
    // after the row was written has the window `docs/core/tenancy.md` describes for calls' retried settlements.
    if (retry && c && !c.refused) retry(() => c.again(), label);
    if (!unrecorded) throw failed;
    log('charging a prefetch to the budget failed', requestId, failed);
  }
  if (unrecorded) throw unrecorded.e;
}

/**
 * A prefetch's charge to its tenant's budget: a forced reservation of nothing, settled at the cost. Each step is
 * idempotent by reservation id (a store answers a second reservation of an id with the first; a second settlement is
 * ignored), so one that failed is tried again from where it stopped (`again`, for `Renewals.retryCharge`).
 *
 * A settlement the store answers with `false` changed nothing: the reservation was no longer open. After an earlier
 * try whose answer was lost that is most likely that try's own settlement (counted); otherwise the charge is not
 * counted. Either way it is logged, not charged again under another id: the two cases cannot be told apart from
 * here, and a second charge of one that was counted would count the prefetch twice.
 */
class PrefetchCharge {
  private reserved = false;
  /** Settlements tried so far (a `false` after one that failed may be that one's, landed). */
  private settlements = 0;
  /** Set when the store refused the reservation (a store that does not know `force`): not tried again. */
  refused = false;

  constructor(
    private readonly budgets: BudgetStore,
    private readonly request: BudgetReserveRequest & { force: true },
    private readonly costUsd: number,
    /** Names the charge in the logs: its request id, tenant and cost. */
    private readonly label: string,
    /** A refusal met by `again` (trying again would repeat it), or a settlement that changed nothing. */
    private readonly log: (message: string, error?: unknown) => void,
  ) {}

  /** Reserves (once): rejects with the store's failure, or with a refusal (and sets `refused`). */
  async reserve(): Promise<void> {
    if (this.reserved) return;
    const r = await settled(() => this.budgets.reserve(this.request));
    if (!r.ok) {
      this.refused = true;
      throw new Error(`the budget of tenant "${this.request.tenantId}" for ${r.periodKey} refused the prefetch's charge; its $${this.costUsd} is not counted in it`);
    }
    this.reserved = true;
  }

  /** Settles at the cost: rejects with the store's failure; a settlement that changed nothing is logged. */
  async settle(): Promise<void> {
    const earlier = this.settlements++ > 0;
    const changed = await settled(() => this.budgets.settle(this.request.reservationId, this.costUsd));
    if (changed !== false) return;
    this.log(
      earlier
        ? `${this.label}: its settlement changed nothing (its reservation was no longer open): counted by an earlier try whose answer was lost, or not counted`
        : `${this.label} was not counted: its settlement changed nothing (its reservation was no longer open in the budget store)`,
    );
  }

  /** One more try of what is left (`Renewals.retry`'s work): rejects with a store's failure, never with a refusal. */
  async again(): Promise<void> {
    try {
      await this.reserve();
    } catch (e) {
      if (!this.refused) throw e;
      return this.log('charging a prefetch to the budget failed', e);
    }
    await this.settle();
  }
}
