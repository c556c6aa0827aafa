import { gcraAdjust, gcraCheck } from './gcra.js';
import { CONCURRENCY_RETRY_MS, DEFAULT_LEASE_TTL_MS, validateAcquire, validateActualTokens } from './rate-limit-input.js';
import { rateLimitInfo, scopeKey, type ScopeState } from './rate-limit-info.js';
import type { RateAcquireOptions, RateDecision, RateLimitInfo, RateLimitKind, RateLimiter, RateScope, RateScopeKind } from './types.js';

const SWEEP_AT = 10_000;

/**
 * In-process rate limiter (embedded mode): GCRA for rpm and tpm, a lease table for concurrency.
 * Everything happens synchronously inside `acquire`, so it is atomic in one process.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly tats = new Map<string, number>();
  private readonly leases = new Map<string, Map<string, number>>();
  /** Per scope: no lease of it expires before this time (so counting in-flight needs no scan until then). */
  private readonly nextExpiry = new Map<string, number>();
  /** Lease ids only need to be unique in this limiter (a counter is cheaper than a UUID). */
  private nextLease = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  async acquire(scopes: RateScope[], options: RateAcquireOptions): Promise<RateDecision> {
    validateAcquire(scopes, options);
    const now = this.clock();
    const cost = options.estimatedTokens;
    const ttl = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;

    let worst: { limit: RateLimitKind; scope: { kind: RateScopeKind; id: string }; retryAfterMs: number } | undefined;
    const deny = (limit: RateLimitKind, scope: RateScope, retryAfterMs: number) => {
      if (!worst || retryAfterMs > worst.retryAfterMs) worst = { limit, scope: { kind: scope.kind, id: scope.id }, retryAfterMs };
    };
    const pending: Array<[string, number]> = [];
    for (const scope of scopes) {
      const k = scopeKey(scope);
      const { rpm, tpm, maxConcurrency } = scope.limits;
      if (rpm !== undefined) {
        const c = gcraCheck(this.tats.get(`${k}:rpm`), now, rpm, 1);
        if (c.conforms) pending.push([`${k}:rpm`, c.newTat]);
        else deny('rpm', scope, c.retryAfterMs);
      }
      if (tpm !== undefined && cost > 0) {
        const c = gcraCheck(this.tats.get(`${k}:tpm`), now, tpm, cost);
        if (c.conforms) pending.push([`${k}:tpm`, c.newTat]);
        else deny('tpm', scope, c.retryAfterMs);
      }
      if (maxConcurrency !== undefined && this.inFlight(k, now) >= maxConcurrency) deny('concurrency', scope, CONCURRENCY_RETRY_MS);
    }
    if (worst) return { ok: false, ...worst, retryAfterMs: Math.ceil(worst.retryAfterMs), info: this.info(scopes, now) };

    for (const [key, tat] of pending) this.tats.set(key, tat);
    const leaseId = `l${++this.nextLease}`;
    const held: string[] = [];
    for (const scope of scopes) {
      if (scope.limits.maxConcurrency === undefined) continue;
      const k = scopeKey(scope);
      let m = this.leases.get(k);
      if (!m) this.leases.set(k, (m = new Map()));
      m.set(leaseId, now + ttl);
      if (now + ttl < (this.nextExpiry.get(k) ?? Infinity)) this.nextExpiry.set(k, now + ttl);
      held.push(k);
    }
    if (this.tats.size > SWEEP_AT) this.sweep(now);

    let released = false;
    const lease = {
      release: async (actualTokens?: number) => {
        validateActualTokens(actualTokens);
        if (released) return;
        released = true;
        for (const k of held) this.leases.get(k)?.delete(leaseId);
        if (actualTokens === undefined || actualTokens === cost) return;
        const t = this.clock();
        for (const scope of scopes) {
          if (scope.limits.tpm === undefined) continue;
          const key = `${scopeKey(scope)}:tpm`;
          this.tats.set(key, gcraAdjust(this.tats.get(key), t, scope.limits.tpm, actualTokens - cost));
        }
      },
    };
    return { ok: true, lease, info: this.info(scopes, now) };
  }

  async peek(scopes: RateScope[]): Promise<RateLimitInfo> {
    validateAcquire(scopes, { estimatedTokens: 0 });
    return this.info(scopes, this.clock());
  }

  async close(): Promise<void> {
    this.tats.clear();
    this.leases.clear();
    this.nextExpiry.clear();
  }

  private inFlight(k: string, now: number): number {
    const m = this.leases.get(k);
    if (!m) return 0;
    if (now < (this.nextExpiry.get(k) ?? Infinity)) return m.size;
    let next = Infinity;
    for (const [id, exp] of m) {
      if (exp <= now) m.delete(id);
      else if (exp < next) next = exp;
    }
    this.nextExpiry.set(k, next);
    return m.size;
  }

  private info(scopes: RateScope[], now: number): RateLimitInfo {
    const states: ScopeState[] = scopes.map((s) => {
      const k = scopeKey(s);
      return { rpmTat: this.tats.get(`${k}:rpm`), tpmTat: this.tats.get(`${k}:tpm`), inFlight: this.inFlight(k, now) };
    });
    return rateLimitInfo(scopes, states, now);
  }

  /** Drops GCRA entries whose bucket is full again (they equal "no entry"). */
  private sweep(now: number): void {
    for (const [k, tat] of this.tats) if (tat <= now) this.tats.delete(k);
    for (const [k, m] of this.leases) {
      if (m.size > 0) continue;
      this.leases.delete(k);
      this.nextExpiry.delete(k);
    }
  }
}
