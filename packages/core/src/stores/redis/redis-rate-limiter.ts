import { randomUUID } from 'node:crypto';
import type { GcraState } from '../../tenancy/gcra.js';
import { DEFAULT_LEASE_TTL_MS, validateAcquire, validateActualTokens } from '../../tenancy/rate-limit-input.js';
import { rateLimitInfo, releasedRateLimitInfo, scopeKey, type ScopeState } from '../../tenancy/rate-limit-info.js';
import type { RateAcquireOptions, RateDecision, RateLease, RateLimitInfo, RateLimitKind, RateLimiter, RateScope } from '../../tenancy/types.js';
import { ACQUIRE_SCRIPT, PEEK_SCRIPT, RELEASE_PEEK_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT } from './rate-limit-scripts.js';
import { bounded, redisTimeout, type RedisHandle } from './redis-connection.js';

export interface RedisRateLimiterOptions {
  /**
   * Bound on each call to Redis (ms): a Redis that stops answering fails `acquire` with `store_unavailable`
   * (503, retryable) after this instead of holding the request. Default 2000.
   */
  timeoutMs?: number;
}

/**
 * Rate limits shared by every gateway process through Redis: one Lua script checks every scope and
 * charges all or nothing, atomically. Needs one Redis (or a primary): the keys of one request are not
 * in one cluster slot. Every call is bounded by `timeoutMs`; an `acquire` answered after its bound is given
 * back as soon as its answer comes (its slot freed, its token charge refunded).
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly timeoutMs: number;

  constructor(
    private readonly redis: RedisHandle,
    options: RedisRateLimiterOptions = {},
  ) {
    this.timeoutMs = redisTimeout(options.timeoutMs, 'timeoutMs');
    redis.retain(this.timeoutMs);
  }

  async acquire(scopes: RateScope[], options: RateAcquireOptions): Promise<RateDecision> {
    validateAcquire(scopes, options);
    const cost = options.estimatedTokens;
    const leaseId = randomUUID();
    const ttl = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    const args: Array<string | number> = [scopes.length, cost, leaseId, ttl];
    for (const s of scopes) args.push(s.limits.rpm ?? 0, s.limits.tpm ?? 0, s.limits.maxConcurrency ?? 0);
    const work = this.redis.eval<string[]>(ACQUIRE_SCRIPT, this.keys(scopes), args);
    const reply = await bounded(work, this.timeoutMs, 'rate-limit acquire', (late) => {
      // Nobody waits for this lease any more: give it back (slot and token charge).
      if (Number(late[0]) === 1) void this.lease(scopes, leaseId, cost, late, ttl).release(0).catch(() => undefined);
    });
    const granted = Number(reply[0]) === 1;
    const now = Number(reply[4]);
    const states = parseStates(reply.slice(5), scopes.length);
    const info = rateLimitInfo(scopes, states, now);
    if (!granted) {
      const scope = scopes[Number(reply[2]) - 1] as RateScope;
      return { ok: false, limit: String(reply[1]) as RateLimitKind, scope: { kind: scope.kind, id: scope.id }, retryAfterMs: Number(reply[3]), info };
    }
    return { ok: true, lease: this.lease(scopes, leaseId, cost, reply, ttl, states), info };
  }

  async peek(scopes: RateScope[]): Promise<RateLimitInfo> {
    validateAcquire(scopes, { estimatedTokens: 0 });
    const reply = await bounded(this.redis.eval<string[]>(PEEK_SCRIPT, this.keys(scopes), []), this.timeoutMs, 'rate-limit peek');
    return rateLimitInfo(scopes, parseStates(reply.slice(1), scopes.length), Number(reply[0]));
  }

  /** Extends this limiter's leases still held (unreleased, unexpired) to their TTL from now: one script. */
  async renew(leases: readonly RateLease[]): Promise<void> {
    const keys: string[] = [];
    const args: Array<string | number> = [];
    for (const lease of leases) {
      if (!(lease instanceof RedisLease) || lease.limiter !== this || lease.released) continue;
      for (const s of lease.scopes) {
        if (s.limits.maxConcurrency === undefined) continue;
        keys.push(this.key(s, 'leases'));
        args.push(lease.id, lease.ttl);
      }
    }
    if (keys.length > 0) await bounded(this.redis.eval(RENEW_SCRIPT, keys, args), this.timeoutMs, 'lease renewal');
  }

  async close(): Promise<void> {
    await this.redis.release();
  }

  /**
   * Frees a lease's slots and corrects its token charge by `delta` (one script), once however often it is called
   * (`RELEASE_SCRIPT`'s marker, named after the lease's first scope like its other keys; it lives as long as a failed
   * release may be tried again: the lease's TTL, at least `DEFAULT_LEASE_TTL_MS`, plus a minute). Once a release's
   * answer has come back, no release of the lease follows: its marker is deleted then (UNLINK, not awaited, on the same
   * connection, so any earlier attempt of this release sent on it has run before), and only a release whose answer was
   * lost leaves one (some 100 bytes) for that time. With `peek`, the same script answers what `peek` would say right
   * after the release (`RELEASE_PEEK_SCRIPT`). @internal
   */
  async releaseLease(lease: RedisLease, delta: number, peek = false): Promise<RateLimitInfo | undefined> {
    const keys: string[] = [];
    for (const s of lease.scopes) {
      if (peek) keys.push(this.key(s, 'rpm-level'));
      keys.push(this.key(s, 'tpm-level'), this.key(s, 'leases'));
    }
    const marker = `${this.redis.prefix}rl:${scopeKey(lease.scopes[0]!)}:rel:${lease.id}`;
    keys.push(marker);
    const tpms = lease.scopes.map((s) => s.limits.tpm ?? 0);
    const args = [lease.scopes.length, lease.id, delta, ...tpms, ...lease.uncharged, Math.max(lease.ttl, DEFAULT_LEASE_TTL_MS) + 60_000];
    const reply = await bounded(this.redis.eval<string[]>(peek ? RELEASE_PEEK_SCRIPT : RELEASE_SCRIPT, keys, args), this.timeoutMs, 'rate-limit release');
    // The script sets a marker only when it corrects tokens. A failed UNLINK leaves it to its TTL.
    if (delta !== 0 && tpms.some((t) => t > 0)) this.redis.command(['UNLINK', marker]).catch(() => undefined);
    return peek ? rateLimitInfo(lease.scopes, parseStates(reply.slice(1), lease.scopes.length), Number(reply[0])) : undefined;
  }

  /**
   * The lease of a granted acquire, with what the debt cap dropped per scope (the last values of its `reply`), and the
   * scopes' states and clock reading the reply gave (for `releasedInfo`; `states` parsed from it when not given).
   */
  private lease(scopes: RateScope[], id: string, cost: number, reply: string[], ttl: number, states?: readonly ScopeState[]): RedisLease {
    return new RedisLease(this, id, scopes, cost, reply.slice(5 + scopes.length * 3).map(Number), ttl, states ?? parseStates(reply.slice(5), scopes.length), Number(reply[4]));
  }

  /**
   * The buckets are at `rpm-level`/`tpm-level` (`"<at> <level> <limit>"`). Earlier versions kept a TAT in epoch ms at
   * `rpm`/`tpm`: new names, so that during a rolling upgrade neither version reads the other's values (each
   * counts in its own buckets until the old processes stop).
   */
  private key(scope: RateScope, what: 'rpm-level' | 'tpm-level' | 'leases'): string {
    return `${this.redis.prefix}rl:${scopeKey(scope)}:${what}`;
  }

  private keys(scopes: RateScope[]): string[] {
    return scopes.flatMap((s) => [this.key(s, 'rpm-level'), this.key(s, 'tpm-level'), this.key(s, 'leases')]);
  }
}

/**
 * How long (ms) a lease whose release has nothing to send (rpm limits only) may have been held and still answer
 * `releaseAndPeek` from its acquire's numbers, with no round trip: a call this short misses few of the requests others
 * made meanwhile (at most what a second lets in) and its resets are as good as read. Held longer, it reads them.
 */
const ANSWERED_FOR_MS = 1000;

/** A lease of `RedisRateLimiter`: what `release` frees and corrects, and what `renew` extends. */
class RedisLease implements RateLease {
  /** Set once a release has run in Redis (not before: a release that failed can be called again). */
  released = false;
  /** The release running (a second call meanwhile waits for it). */
  private releasing: Promise<void> | undefined;

  constructor(
    readonly limiter: RedisRateLimiter,
    readonly id: string,
    readonly scopes: readonly RateScope[],
    private readonly cost: number,
    /** Per scope, what the debt cap dropped from the token charge (1/limit ms). */
    readonly uncharged: readonly number[],
    readonly ttl: number,
    /** The scopes' states the acquire's script returned, at the Redis clock reading `at` (for `releasedInfo`). */
    private readonly states: readonly ScopeState[],
    private readonly at: number,
  ) {}

  /** When it was granted (`performance.now()`): how long it was held, for `releaseAndPeek`. */
  private readonly took = performance.now();

  releasedInfo(): RateLimitInfo {
    return releasedRateLimitInfo(this.scopes, this.states, this.at, this.cost, this.uncharged);
  }

  /**
   * Frees the slot and corrects the token charge. Idempotent: once it has run, later calls do nothing; one that
   * failed (Redis unreachable, a connection reset) leaves the lease unreleased, so it can be called again.
   */
  release(actualTokens?: number): Promise<void> {
    if (this.released) return Promise.resolve();
    return (this.releasing ??= this.releaseNow(actualTokens).then(() => undefined).finally(() => (this.releasing = undefined)));
  }

  /**
   * `release`, answered with what `peek` says right after it, from the release's own script (one round trip). A lease
   * with nothing to free or correct (no concurrency limit, and no tokens-per-minute charge to change: an rpm-only limit,
   * a count equal to the estimate, or none) sends no release, as its `release` does: held no longer than
   * `ANSWERED_FOR_MS`, it answers the acquire's numbers as the release leaves them (`releasedInfo` with the token charge
   * kept), no round trip; held longer, or `fresh`, it reads them (`peek`: the requests and tokens others took meanwhile
   * counted, the resets as they are now). Released already (or being released): a peek.
   */
  async releaseAndPeek(actualTokens?: number, fresh = false): Promise<RateLimitInfo> {
    if (this.released || this.releasing) {
      await this.releasing;
      return this.limiter.peek([...this.scopes]);
    }
    let info: RateLimitInfo | undefined;
    const releasing = this.releaseNow(actualTokens, fresh || performance.now() - this.took > ANSWERED_FOR_MS ? 'read' : 'answer').then((i) => {
      info = i;
    });
    this.releasing = releasing.finally(() => (this.releasing = undefined));
    await this.releasing;
    return info ?? this.limiter.peek([...this.scopes]);
  }

  /**
   * `peek`: what is left is wanted, `'read'` from Redis even when the release has nothing to send (else answered from
   * the acquire's numbers then).
   */
  private async releaseNow(actualTokens: number | undefined, peek?: 'answer' | 'read'): Promise<RateLimitInfo | undefined> {
    // A bad count (a provider's odd usage) still frees the slot (no token correction), then throws.
    let invalid: unknown;
    try {
      validateActualTokens(actualTokens);
    } catch (e) {
      invalid = e;
      actualTokens = undefined;
    }
    // Tried again after a failure, the same script runs: it frees the slot and corrects the tokens once, whether the
    // failed release ran in Redis (its answer lost) or never reached it (`RELEASE_SCRIPT`'s marker).
    const needs =
      this.scopes.some((s) => s.limits.maxConcurrency !== undefined) || (actualTokens !== undefined && actualTokens !== this.cost && this.scopes.some((s) => s.limits.tpm !== undefined));
    let info: RateLimitInfo | undefined;
    if (needs) {
      info = await this.limiter.releaseLease(this, actualTokens === undefined ? 0 : actualTokens - this.cost, peek !== undefined);
      this.released = true;
    } else {
      // Nothing to send: released. Its charge stands as taken (a count equal to it, or none), so no refund
      // (`releasedInfo` refunds it); read from Redis when asked. A read that fails answers the acquire's numbers: the
      // release is done (nothing to try again), and a caller must not take it for a failed release.
      this.released = true;
      if (peek === 'answer') info = releasedRateLimitInfo(this.scopes, this.states, this.at, 0, this.uncharged);
      else if (peek === 'read' && invalid === undefined) {
        info = await this.limiter.peek([...this.scopes]).catch(() => releasedRateLimitInfo(this.scopes, this.states, this.at, 0, this.uncharged));
      }
    }
    if (invalid !== undefined) throw invalid;
    return info;
  }
}

function parseStates(flat: string[], n: number): ScopeState[] {
  const out: ScopeState[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ rpm: parseBucket(flat[i * 3]), tpm: parseBucket(flat[i * 3 + 1]), inFlight: Number(flat[i * 3 + 2] ?? 0) });
  }
  return out;
}

/** A bucket as the scripts store it: `"<at> <level> <limit>"` ('' when the key is absent: full). */
function parseBucket(v: string | undefined): GcraState | undefined {
  if (!v) return undefined;
  const [at, level, limit] = v.split(' ');
  return { at: Number(at), level: Number(level), limit: Number(limit) };
}
