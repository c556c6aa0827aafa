import { gcraAdjust, gcraCheck } from './gcra.js';
import { CONCURRENCY_RETRY_MS, DEFAULT_LEASE_TTL_MS, validateAcquire, validateActualTokens } from './rate-limit-input.js';
import { rateLimitInfo, scopeKey, type ScopeState } from './rate-limit-info.js';
import type { RateAcquireOptions, RateDecision, RateLimitInfo, RateLimitKind, RateLimiter, RateScope, RateScopeKind } from './types.js';

const SWEEP_AT = 10_000;

/** Everything the limiter keeps about one scope (`tenant:<id>` or `key:<id>`): one map lookup per scope. */
interface Slot {
  /** GCRA theoretical arrival times (undefined: bucket full). */
  rpmTat: number | undefined;
  tpmTat: number | undefined;
  /** Open concurrency leases: lease id -> expiry. */
  leases: Map<number, number> | undefined;
  /** No lease of this scope expires before this time (so counting in-flight needs no scan until then). */
  nextExpiry: number;
}

/**
 * In-process rate limiter (embedded mode): GCRA for rpm and tpm, a lease table for concurrency.
 * Everything happens synchronously inside `acquire`, so it is atomic in one process.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly slots = new Map<string, Slot>();
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
    const keys: string[] = new Array(scopes.length);
    const slots: Slot[] = new Array(scopes.length);
    // New TATs, written only when every scope conforms (NaN: no change).
    const rpmTats: number[] = new Array(scopes.length);
    const tpmTats: number[] = new Array(scopes.length);
    for (let i = 0; i < scopes.length; i++) {
      const scope = scopes[i]!;
      const k = (keys[i] = scopeKey(scope));
      const slot = (slots[i] = this.slot(k));
      const { rpm, tpm, maxConcurrency } = scope.limits;
      rpmTats[i] = tpmTats[i] = NaN;
      if (rpm !== undefined) {
        const c = gcraCheck(slot.rpmTat, now, rpm, 1);
        if (c.conforms) rpmTats[i] = c.newTat;
        else deny('rpm', scope, c.retryAfterMs);
      }
      if (tpm !== undefined && cost > 0) {
        const c = gcraCheck(slot.tpmTat, now, tpm, cost);
        if (c.conforms) tpmTats[i] = c.newTat;
        else deny('tpm', scope, c.retryAfterMs);
      }
      if (maxConcurrency !== undefined && inFlight(slot, now) >= maxConcurrency) deny('concurrency', scope, CONCURRENCY_RETRY_MS);
    }
    if (worst) return { ok: false, ...worst, retryAfterMs: Math.ceil(worst.retryAfterMs), info: info(scopes, slots, now) };

    const leaseId = ++this.nextLease;
    const held: Slot[] = [];
    for (let i = 0; i < scopes.length; i++) {
      const slot = slots[i]!;
      if (!Number.isNaN(rpmTats[i]!)) slot.rpmTat = rpmTats[i];
      if (!Number.isNaN(tpmTats[i]!)) slot.tpmTat = tpmTats[i];
      if (scopes[i]!.limits.maxConcurrency === undefined) continue;
      (slot.leases ??= new Map()).set(leaseId, now + ttl);
      if (now + ttl < slot.nextExpiry) slot.nextExpiry = now + ttl;
      held.push(slot);
    }
    const result = info(scopes, slots, now);
    if (this.slots.size > SWEEP_AT) this.sweep(now);

    let released = false;
    const lease = {
      release: async (actualTokens?: number) => {
        validateActualTokens(actualTokens);
        if (released) return;
        released = true;
        for (const slot of held) slot.leases?.delete(leaseId);
        if (actualTokens === undefined || actualTokens === cost) return;
        const t = this.clock();
        for (let i = 0; i < scopes.length; i++) {
          const tpm = scopes[i]!.limits.tpm;
          if (tpm === undefined) continue;
          // By key: a slot swept since the acquire is a new object now.
          const slot = this.slot(keys[i]!);
          slot.tpmTat = gcraAdjust(slot.tpmTat, t, tpm, actualTokens - cost);
        }
      },
    };
    return { ok: true, lease, info: result };
  }

  async peek(scopes: RateScope[]): Promise<RateLimitInfo> {
    validateAcquire(scopes, { estimatedTokens: 0 });
    const now = this.clock();
    return info(
      scopes,
      scopes.map((s) => this.slots.get(scopeKey(s)) ?? EMPTY),
      now,
    );
  }

  async close(): Promise<void> {
    this.slots.clear();
  }

  private slot(k: string): Slot {
    let s = this.slots.get(k);
    if (!s) this.slots.set(k, (s = { rpmTat: undefined, tpmTat: undefined, leases: undefined, nextExpiry: Infinity }));
    return s;
  }

  /** Drops slots equal to "no entry": buckets full again and no open lease. */
  private sweep(now: number): void {
    for (const [k, s] of this.slots) {
      if ((s.rpmTat === undefined || s.rpmTat <= now) && (s.tpmTat === undefined || s.tpmTat <= now) && (s.leases === undefined || s.leases.size === 0)) this.slots.delete(k);
    }
  }
}

/** A scope the limiter has never seen (read-only). */
const EMPTY: Slot = Object.freeze({ rpmTat: undefined, tpmTat: undefined, leases: undefined, nextExpiry: Infinity }) as Slot;

function inFlight(slot: Slot, now: number): number {
  const m = slot.leases;
  if (!m) return 0;
  if (now < slot.nextExpiry) return m.size;
  let next = Infinity;
  for (const [id, exp] of m) {
    if (exp <= now) m.delete(id);
    else if (exp < next) next = exp;
  }
  slot.nextExpiry = next;
  return m.size;
}

function info(scopes: RateScope[], slots: Slot[], now: number): RateLimitInfo {
  const states: ScopeState[] = new Array(scopes.length);
  for (let i = 0; i < scopes.length; i++) {
    const s = slots[i]!;
    states[i] = { rpmTat: s.rpmTat, tpmTat: s.tpmTat, inFlight: inFlight(s, now) };
  }
  return rateLimitInfo(scopes, states, now);
}
