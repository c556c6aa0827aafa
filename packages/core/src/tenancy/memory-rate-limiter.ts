import { gcraAdjust, gcraCheck, gcraRebase, type GcraState } from './gcra.js';
import { CONCURRENCY_RETRY_MS, DEFAULT_LEASE_TTL_MS, validateAcquire, validateActualTokens } from './rate-limit-input.js';
import { rateLimitInfo, releasedRateLimitInfo, scopeKey, type ScopeState } from './rate-limit-info.js';
import type { RateAcquireOptions, RateDecision, RateLease, RateLimitInfo, RateLimitKind, RateLimiter, RateScope, RateScopeKind } from './types.js';

/**
 * Scopes the limiter holds before it sweeps the ones equal to "no entry". After a sweep, the next one waits until the
 * map has grown by half of what that sweep kept (`sweepAt`) or until it is `SWEEP_EVERY_MS` old: with more scopes in
 * use than this, a sweep that frees nothing is not repeated at every request (it walked every scope: 0.12 ms per
 * acquire at 10 001 scopes, 0.64 ms at 20 000, against 0.005 ms at 9 000). Each sweep then follows as many new scopes
 * as a third of what it walks, or a minute (amortised: three steps per new scope at most, or one walk a minute). So
 * the map holds at most about 1.5 times the scopes in use at some time in the last minute (or this many): after a
 * burst of scopes, the idle ones go within about a minute, however little traffic follows.
 */
const SWEEP_AT = 10_000;

/** Past `SWEEP_AT` scopes, the longest between two sweeps while acquires come (ms). */
const SWEEP_EVERY_MS = 60_000;

/** Everything the limiter keeps about one scope (`tenant:<id>` or `key:<id>`): one map lookup per scope. */
interface Slot {
  /** GCRA buckets (undefined: full). */
  rpm: GcraState | undefined;
  tpm: GcraState | undefined;
  /** Both buckets are full again from this time on (whatever the limits become: see `gcra.ts`). */
  fullAt: number;
  /** Open concurrency leases: lease id -> expiry (the limiter's monotonic clock). */
  leases: Map<number, number> | undefined;
  /** No lease of this scope expires before this time (monotonic; so counting in-flight needs no scan until then). */
  nextExpiry: number;
}

export interface MemoryRateLimiterOptions {
  /**
   * The clock leases expire on (ms, any origin, never stepped): a wall clock that jumps forward by more than the
   * lease TTL (NTP, a resumed VM) then frees no place of a call still running. Default: the limiter's `clock` when
   * one is given (a test that moves it expires leases), else `performance.now()`.
   */
  monotonicClock?: () => number;
}

const monotonicNow = (): number => performance.now();

/**
 * In-process rate limiter (embedded mode): GCRA for rpm and tpm, a lease table for concurrency.
 * Everything happens synchronously inside `acquire`, so it is atomic in one process. The buckets run on the wall
 * clock (`clock`), the leases' TTL on a monotonic one (`monotonicClock`).
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly slots = new Map<string, Slot>();
  /** The map's size past which an acquire sweeps it (`SWEEP_AT`, or half as much again as the last sweep kept). */
  private sweepAt = SWEEP_AT;
  /** When the last sweep ran (the limiter's clock): past `SWEEP_AT` scopes, the next runs at most a minute later. */
  private sweptAt = -Infinity;
  /** Lease ids only need to be unique in this limiter (a counter is cheaper than a UUID). */
  private nextLease = 0;

  private readonly clock: () => number;
  private readonly monotonic: () => number;

  constructor(clock?: () => number, options: MemoryRateLimiterOptions = {}) {
    this.clock = clock ?? Date.now;
    this.monotonic = options.monotonicClock ?? clock ?? monotonicNow;
  }

  /** The limiter's clock (ms). @internal */
  now(): number {
    return this.clock();
  }

  async acquire(scopes: RateScope[], options: RateAcquireOptions): Promise<RateDecision> {
    validateAcquire(scopes, options);
    const now = this.clock();
    const mono = this.monotonic();
    const cost = options.estimatedTokens;
    const ttl = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;

    let worst: { limit: RateLimitKind; scope: { kind: RateScopeKind; id: string }; retryAfterMs: number } | undefined;
    const deny = (limit: RateLimitKind, scope: RateScope, retryAfterMs: number) => {
      if (!worst || retryAfterMs > worst.retryAfterMs) worst = { limit, scope: { kind: scope.kind, id: scope.id }, retryAfterMs };
    };
    const keys: string[] = new Array(scopes.length);
    const slots: Slot[] = new Array(scopes.length);
    // New buckets, written only when every scope conforms (undefined: no change).
    const rpmNext: Array<GcraState | undefined> = new Array(scopes.length);
    const tpmNext: Array<GcraState | undefined> = new Array(scopes.length);
    // Per scope, the part of the token charge the debt cap dropped (for the release's correction).
    const uncharged: number[] = new Array(scopes.length).fill(0);
    for (let i = 0; i < scopes.length; i++) {
      const scope = scopes[i]!;
      const k = (keys[i] = scopeKey(scope));
      const slot = (slots[i] = this.slot(k));
      const { rpm, tpm, maxConcurrency } = scope.limits;
      if (rpm !== undefined) {
        slot.rpm = gcraRebase(slot.rpm, now);
        const c = gcraCheck(slot.rpm, now, rpm, 1);
        if (c.conforms) rpmNext[i] = c.next;
        else deny('rpm', scope, c.retryAfterMs);
      }
      if (tpm !== undefined && cost > 0) {
        slot.tpm = gcraRebase(slot.tpm, now);
        const c = gcraCheck(slot.tpm, now, tpm, cost);
        if (c.conforms) {
          tpmNext[i] = c.next;
          uncharged[i] = c.uncharged;
        } else deny('tpm', scope, c.retryAfterMs);
      }
      if (maxConcurrency !== undefined && inFlight(slot, mono) >= maxConcurrency) deny('concurrency', scope, CONCURRENCY_RETRY_MS);
    }
    if (worst) return { ok: false, ...worst, retryAfterMs: Math.ceil(worst.retryAfterMs), info: info(scopes, slots, now, mono) };

    const leaseId = ++this.nextLease;
    const held: Slot[] = [];
    for (let i = 0; i < scopes.length; i++) {
      const slot = slots[i]!;
      if (rpmNext[i]) charge(slot, 'rpm', rpmNext[i]!);
      if (tpmNext[i]) charge(slot, 'tpm', tpmNext[i]!);
      if (scopes[i]!.limits.maxConcurrency === undefined) continue;
      (slot.leases ??= new Map()).set(leaseId, mono + ttl);
      if (mono + ttl < slot.nextExpiry) slot.nextExpiry = mono + ttl;
      held.push(slot);
    }
    const states = statesOf(slots, mono);
    const result = rateLimitInfo(scopes, states, now);
    const size = this.slots.size;
    // (A clock stepped back behind the last sweep counts as a minute later.)
    if (size > SWEEP_AT && (size > this.sweepAt || now - this.sweptAt >= SWEEP_EVERY_MS || now < this.sweptAt)) this.sweep(now, mono);

    const lease = new MemoryLease(this, leaseId, held, scopes, keys, cost, uncharged, ttl, states, now);
    return { ok: true, lease, info: result };
  }

  async peek(scopes: RateScope[]): Promise<RateLimitInfo> {
    validateAcquire(scopes, { estimatedTokens: 0 });
    return info(
      scopes,
      scopes.map((s) => this.slots.get(scopeKey(s)) ?? EMPTY),
      this.clock(),
      this.monotonic(),
    );
  }

  /** `peek` of scopes already validated, by their keys (`scopeKey`), at once (one array of states, no slot array). @internal */
  peekKeys(scopes: readonly RateScope[], keys: readonly string[]): RateLimitInfo {
    const now = this.clock();
    const mono = this.monotonic();
    const states: ScopeState[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const s = this.slots.get(keys[i]!) ?? EMPTY;
      states[i] = { rpm: s.rpm, tpm: s.tpm, inFlight: inFlight(s, mono) };
    }
    return rateLimitInfo(scopes, states, now);
  }

  /**
   * Extends the slots of this limiter's leases still held (neither released nor expired) to their TTL from now.
   * Others (another limiter's, released, expired: their slot may be someone else's now) are skipped.
   */
  async renew(leases: readonly RateLease[]): Promise<void> {
    const now = this.monotonic();
    for (const lease of leases) {
      if (!(lease instanceof MemoryLease) || lease.limiter !== this || lease.released) continue;
      for (const slot of lease.held) {
        const expiry = slot.leases?.get(lease.id);
        if (expiry !== undefined && expiry > now) slot.leases!.set(lease.id, now + lease.ttl);
      }
    }
  }

  async close(): Promise<void> {
    this.slots.clear();
  }

  /** The slot of a scope key (made when absent). @internal */
  slotOf(k: string): Slot {
    return this.slot(k);
  }

  private slot(k: string): Slot {
    let s = this.slots.get(k);
    if (!s) this.slots.set(k, (s = { rpm: undefined, tpm: undefined, fullAt: -Infinity, leases: undefined, nextExpiry: Infinity }));
    return s;
  }

  /**
   * Drops slots equal to "no entry": buckets full again and no lease held (an expired one, never released, holds
   * nothing). The next sweep waits until the map has grown by half of what is left (`sweepAt`, at least `SWEEP_AT`) or
   * until this one is `SWEEP_EVERY_MS` old.
   */
  private sweep(now: number, mono: number): void {
    this.sweptAt = now;
    for (const [k, s] of this.slots) {
      if (s.fullAt <= now && inFlight(s, mono) === 0) this.slots.delete(k);
    }
    const left = this.slots.size;
    this.sweepAt = Math.max(SWEEP_AT, left + Math.ceil(left / 2));
  }
}

/** A scope the limiter has never seen (read-only). */
const EMPTY: Slot = Object.freeze({ rpm: undefined, tpm: undefined, fullAt: -Infinity, leases: undefined, nextExpiry: Infinity }) as Slot;

/** Sets a bucket of the slot, and when the slot may be dropped. */
function charge(slot: Slot, which: 'rpm' | 'tpm', next: GcraState): void {
  slot[which] = next;
  slot.fullAt = Math.max(slot.fullAt, next.at + next.level / next.limit);
}

/** The slot's leases in flight at `now` (the limiter's monotonic clock). */
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

/** Each slot's buckets and leases in flight at `mono` (monotonic; the buckets are replaced, never changed, by a charge). */
function statesOf(slots: readonly Slot[], mono: number): ScopeState[] {
  const states: ScopeState[] = new Array(slots.length);
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    states[i] = { rpm: s.rpm, tpm: s.tpm, inFlight: inFlight(s, mono) };
  }
  return states;
}

function info(scopes: RateScope[], slots: Slot[], now: number, mono: number): RateLimitInfo {
  return rateLimitInfo(scopes, statesOf(slots, mono), now);
}

/** A lease of `MemoryRateLimiter`: what `release` frees and corrects, and what `renew` extends. */
class MemoryLease implements RateLease {
  released = false;

  constructor(
    readonly limiter: MemoryRateLimiter,
    readonly id: number,
    /** The slots whose concurrency it holds. */
    readonly held: readonly Slot[],
    private readonly scopes: readonly RateScope[],
    private readonly keys: readonly string[],
    private readonly cost: number,
    /** Per scope, what the debt cap dropped from the token charge (1/limit ms). */
    private readonly uncharged: readonly number[],
    readonly ttl: number,
    /** The scopes' states the acquire left, at its clock reading `at` (for `releasedInfo`). */
    private readonly states: readonly ScopeState[],
    private readonly at: number,
  ) {}

  releasedInfo(): RateLimitInfo {
    return releasedRateLimitInfo(this.scopes, this.states, this.at, this.cost, this.uncharged);
  }

  /**
   * `release`, then what `peek` says (in process: no store round trip either way). Through `this.release`, so a
   * wrapper of the lease's `release` (a test double, a subclass) sees the release a JSON call makes here.
   */
  async releaseAndPeek(actualTokens?: number): Promise<RateLimitInfo> {
    await this.release(actualTokens);
    // `peek` of its scopes, by the keys the acquire made (validated then): no validation or key building again.
    return this.limiter.peekKeys(this.scopes, this.keys);
  }

  async release(actualTokens?: number): Promise<void> {
    this.releaseNow(actualTokens);
  }

  /** `release`'s work, all of it synchronous (throws what `release` rejects with). */
  private releaseNow(actualTokens: number | undefined): void {
    if (this.released) return;
    this.released = true;
    // The slot is freed whatever the count: a bad one (a provider's odd usage) must not hold it for the TTL.
    for (const slot of this.held) slot.leases?.delete(this.id);
    validateActualTokens(actualTokens);
    if (actualTokens === undefined || actualTokens === this.cost) return;
    const t = this.limiter.now();
    for (let i = 0; i < this.scopes.length; i++) {
      const tpm = this.scopes[i]!.limits.tpm;
      if (tpm === undefined) continue;
      // By key: a slot swept since the acquire is a new object now.
      const slot = this.limiter.slotOf(this.keys[i]!);
      charge(slot, 'tpm', gcraAdjust(slot.tpm, t, tpm, actualTokens - this.cost, this.uncharged[i]));
    }
  }
}
