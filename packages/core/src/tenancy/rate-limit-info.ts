import { gcraAdjust, gcraRemaining, type GcraState } from './gcra.js';
import type { RateLimitInfo, RateScope } from './types.js';

/** Per-scope state after (or without) a charge, as read from memory or returned by Redis. */
export interface ScopeState {
  rpm?: GcraState | undefined;
  tpm?: GcraState | undefined;
  inFlight?: number;
}

/** A scope with no state (full buckets, nothing in flight). */
const NO_STATE: ScopeState = Object.freeze({});

/**
 * Header values from the most constrained scope for each of requests, tokens and concurrency: the one with the fewest
 * left, and of two with as few left, the one full again last (with none left in either, the reset of the one that
 * frees up first would be a promise the other breaks: a request then is still refused).
 */
export function rateLimitInfo(scopes: readonly RateScope[], states: readonly ScopeState[], now: number): RateLimitInfo {
  const info: RateLimitInfo = {};
  // (A loop, not `forEach`: no closure made per call; this runs at every acquire and release that reads.)
  for (let i = 0; i < scopes.length; i++) {
    const scope = scopes[i]!;
    const st = states[i] ?? NO_STATE;
    const { rpm, tpm, maxConcurrency } = scope.limits;
    if (rpm !== undefined) {
      const r = gcraRemaining(st.rpm, now, rpm);
      if (info.remainingRequests === undefined || r.remaining < info.remainingRequests || (r.remaining === info.remainingRequests && r.resetMs > info.resetRequestsMs!)) {
        info.limitRequests = rpm;
        info.remainingRequests = r.remaining;
        info.resetRequestsMs = r.resetMs;
      }
    }
    if (tpm !== undefined) {
      const r = gcraRemaining(st.tpm, now, tpm);
      if (info.remainingTokens === undefined || r.remaining < info.remainingTokens || (r.remaining === info.remainingTokens && r.resetMs > info.resetTokensMs!)) {
        info.limitTokens = tpm;
        info.remainingTokens = r.remaining;
        info.resetTokensMs = r.resetMs;
      }
    }
    if (maxConcurrency !== undefined) {
      const remaining = Math.max(0, maxConcurrency - (st.inFlight ?? 0));
      if (info.remainingConcurrency === undefined || remaining < info.remainingConcurrency) {
        info.limitConcurrency = maxConcurrency;
        info.remainingConcurrency = remaining;
      }
    }
  }
  return info;
}

/**
 * `rateLimitInfo` of the states an acquire left (at `now`) once its lease is given back with no tokens used, as the
 * limiters' release makes it: each scope with a concurrency limit holds one lease less, each with a tokens-per-minute
 * limit has the charge `cost` refunded (`gcraAdjust`, with what the debt cap dropped: `uncharged`), the requests
 * bucket unchanged. `RateLease.releasedInfo`.
 */
export function releasedRateLimitInfo(scopes: readonly RateScope[], states: readonly ScopeState[], now: number, cost: number, uncharged: readonly number[]): RateLimitInfo {
  const after: ScopeState[] = new Array(scopes.length);
  for (let i = 0; i < scopes.length; i++) {
    const st = states[i] ?? {};
    const { tpm, maxConcurrency } = scopes[i]!.limits;
    after[i] = {
      rpm: st.rpm,
      tpm: tpm !== undefined && cost > 0 ? gcraAdjust(st.tpm, now, tpm, -cost, uncharged[i] ?? 0) : st.tpm,
      inFlight: maxConcurrency !== undefined ? Math.max(0, (st.inFlight ?? 0) - 1) : st.inFlight ?? 0,
    };
  }
  return rateLimitInfo(scopes, after, now);
}

export function scopeKey(scope: Pick<RateScope, 'kind' | 'id'>): string {
  return `${scope.kind}:${scope.id}`;
}
