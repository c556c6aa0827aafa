import type { PrefetchBudgetConfig } from './predictive-config.js';

/** A budget charge, settled with the real cost once the call ends. */
export interface BudgetTicket {
  readonly tenant: string;
  readonly entry: { at: number; usd: number };
}

/**
 * Per-tenant prefetch budget over a sliding window: at most `maxCalls` calls and/or `maxUsd` USD per
 * `periodMs`. A call is charged its estimated cost when it starts and its real cost when it ends, so
 * concurrent prefetches cannot overspend together; a call whose real cost exceeds its estimate can take
 * the spend past `maxUsd` by that difference (the next call then waits for the window to move). A call
 * whose cost cannot be estimated (its model has no known price) never fits a `maxUsd` budget: the budget
 * would count it as free.
 */
export class PrefetchBudget {
  readonly #spent = new Map<string, Array<{ at: number; usd: number }>>();

  constructor(
    private readonly fallback: PrefetchBudgetConfig,
    private readonly perTenant: Readonly<Record<string, PrefetchBudgetConfig>>,
    private readonly now: () => number,
  ) {}

  limitsOf(tenant: string): PrefetchBudgetConfig {
    // An own property only: a tenant id such as "constructor" must not read Object.prototype (no limits at all).
    return Object.hasOwn(this.perTenant, tenant) ? this.perTenant[tenant]! : this.fallback;
  }

  #window(tenant: string): Array<{ at: number; usd: number }> {
    const period = this.limitsOf(tenant).periodMs;
    const now = this.now();
    const all = this.#spent.get(tenant) ?? [];
    let i = 0;
    while (i < all.length && now - all[i]!.at >= period) i++;
    const kept = i === 0 ? all : all.slice(i);
    if (kept.length === 0) this.#spent.delete(tenant);
    else this.#spent.set(tenant, kept);
    return kept;
  }

  /** What the tenant spent within the current window. */
  spent(tenant: string): { calls: number; usd: number } {
    let usd = 0;
    const w = this.#window(tenant);
    for (const e of w) usd += e.usd;
    return { calls: w.length, usd };
  }

  /**
   * Charges one call estimated at `estimateUsd` (undefined: price unknown) when it fits the budget; undefined
   * when it does not.
   */
  reserve(tenant: string, estimateUsd: number | undefined): BudgetTicket | undefined {
    const limits = this.limitsOf(tenant);
    const { calls, usd } = this.spent(tenant);
    if (limits.maxCalls !== undefined && calls + 1 > limits.maxCalls) return undefined;
    if (limits.maxUsd !== undefined && (estimateUsd === undefined || usd >= limits.maxUsd || usd + estimateUsd > limits.maxUsd)) return undefined;
    const entry = { at: this.now(), usd: estimateUsd ?? 0 };
    const list = this.#spent.get(tenant) ?? [];
    list.push(entry);
    this.#spent.set(tenant, list);
    return { tenant, entry };
  }

  /** Replaces the estimate with the real cost. */
  settle(ticket: BudgetTicket, usd: number): void {
    ticket.entry.usd = usd;
  }

  /** Gives the charge back (the call was answered from the cache: nothing was spent). */
  refund(ticket: BudgetTicket): void {
    const list = this.#spent.get(ticket.tenant);
    const i = list?.indexOf(ticket.entry) ?? -1;
    if (i >= 0) list!.splice(i, 1);
  }

  forget(tenant: string): void {
    this.#spent.delete(tenant);
  }
}
