import type { DeploymentInfo, RouterEvents } from '../types.js';

const MINUTE = 60_000;

export interface IdleGateOptions {
  /** Share of each deployment's `limits` a prefetch may bring it up to. */
  fraction: number;
  /** Prefetches start only while fewer live calls than this are in flight. */
  maxLiveInFlight: number;
  /** The deployments a tenant's call may use, with their limits and live stats (the router's `models(tenant)`). */
  deployments: (tenant: string | undefined) => DeploymentInfo[];
  now: () => number;
}

/**
 * Whether the router has idle capacity for a low-priority call: few enough live calls in flight, and every
 * limited deployment the tenant sees below `fraction` of its concurrency, requests-per-minute and
 * tokens-per-minute limits after one more call. Concurrency comes from the router's live stats (live and
 * prefetch calls); rpm/tpm from the attempts of every call that ended within the last minute (the router's
 * own limiter state is not public), so the estimate lags the limiter by the calls still in flight.
 */
export class IdleGate {
  /** Live (not prefetch) calls in flight, counted from the router's events. */
  live = 0;
  /**
   * Per deployment: attempt times and token counts of the last minute (and at most as many older ones, which
   * `record` drops once they are half of the list: deployments without rpm/tpm limits are never read).
   */
  readonly #recent = new Map<string, Array<{ at: number; tokens: number }>>();

  constructor(private readonly o: IdleGateOptions) {}

  /** Records what a finished call (live or prefetch) charged to the deployments' rate limits. */
  record(end: RouterEvents['request:end']): void {
    const attempts = end.result?.attempts ?? end.attempts ?? [];
    const now = this.o.now();
    for (const a of attempts) {
      // A deployment skipped for its engine's refusal was sent nothing.
      if (a.skipped === true) continue;
      const tokens = end.result && end.result.deployment === a.deployment && a.ok ? end.result.usage.totalTokens : 0;
      let list = this.#recent.get(a.deployment);
      if (!list) this.#recent.set(a.deployment, (list = []));
      // Amortized: one splice per halving, so each record costs O(1) however busy the deployment.
      else if (now - list[list.length >> 1]!.at >= MINUTE) this.#prune(list, now);
      list.push({ at: now, tokens });
    }
  }

  /** Records kept, over all deployments (at most about two minutes' worth each). */
  get retained(): number {
    let n = 0;
    for (const list of this.#recent.values()) n += list.length;
    return n;
  }

  /** Drops the records older than a minute. */
  #prune(list: Array<{ at: number; tokens: number }>, now: number): void {
    let i = 0;
    while (i < list.length && now - list[i]!.at >= MINUTE) i++;
    if (i > 0) list.splice(0, i);
  }

  #lastMinute(name: string): { requests: number; tokens: number } {
    const list = this.#recent.get(name);
    if (!list) return { requests: 0, tokens: 0 };
    this.#prune(list, this.o.now());
    if (list.length === 0) this.#recent.delete(name);
    let tokens = 0;
    for (const e of list) tokens += e.tokens;
    return { requests: list.length, tokens };
  }

  /** Why a prefetch for `tenant` may not start now, or undefined when the router is idle enough. */
  busy(tenant: string | undefined): string | undefined {
    if (this.live >= this.o.maxLiveInFlight) return `${this.live} live call(s) in flight (prefetch runs below ${this.o.maxLiveInFlight})`;
    const f = this.o.fraction;
    for (const d of this.o.deployments(tenant)) {
      const limits = d.config.limits;
      if (!limits) continue;
      if (limits.maxConcurrency !== undefined && d.stats.inFlight + 1 > f * limits.maxConcurrency) {
        return `${d.name}: ${d.stats.inFlight}/${limits.maxConcurrency} in flight (prefetch up to ${f} of it)`;
      }
      if (limits.rpm === undefined && limits.tpm === undefined) continue;
      const recent = this.#lastMinute(d.name);
      if (limits.rpm !== undefined && recent.requests + 1 > f * limits.rpm) return `${d.name}: ${recent.requests} requests in the last minute (rpm ${limits.rpm})`;
      if (limits.tpm !== undefined && recent.tokens > f * limits.tpm) return `${d.name}: ${recent.tokens} tokens in the last minute (tpm ${limits.tpm})`;
    }
    return undefined;
  }
}
