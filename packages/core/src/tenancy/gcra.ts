/**
 * GCRA (generic cell rate algorithm) over one minute, kept as a leaky bucket. With `limit` units per
 * minute, each unit advances the theoretical arrival time (TAT) by `60000 / limit` ms and a burst of the
 * whole minute's amount is allowed (tolerance 60000 ms). The TAT is kept as a level: how far it is ahead
 * of a clock reading, in 1/limit ms. A unit then adds exactly 60000, the bucket drains `limit` per ms and
 * holds `limit * 60000`, so with integer limits, costs and clock readings every value is an integer (far
 * below 2^53) and a burst admits exactly the limit at any clock value. (A TAT in epoch ms built by adding
 * `60000 / limit` drifts by a rounding step per charge: 8 of rpm 9, or 300005 of 300000.) The Redis Lua
 * scripts implement the same arithmetic; this file is the reference.
 *
 * A bucket keeps the limit its level is counted in. Under another limit it keeps the time it still needs to
 * drain (the level rescaled, rounded up), as a TAT would: how full the minute is, not the units. So a bucket
 * is full again at the same time whatever the limit becomes, and that time can be known when it is charged
 * (the Redis key's expiry, the memory limiter's sweep). Keeping the units instead would let a lowered limit
 * (1 tpm) turn any charge into debt for years: no expiry could be set before the new limit is seen.
 *
 * A clock behind a bucket's `at` (a wall clock stepped back by NTP) drains nothing and adds no debt: the level
 * stays as stored, and the limiters move `at` back to the clock (`gcraRebase`) so that the level drains from
 * the earlier time. A step back costs at most the debt held.
 */
export const GCRA_WINDOW_MS = 60_000;

/** A bucket: its level at clock reading `at` (ms). No state: the bucket is full. */
export interface GcraState {
  at: number;
  /** How far the TAT was ahead of `at`, in 1/limit ms: 60000 per unit charged and not yet drained. */
  level: number;
  /** The limit the level is counted in (the one it was charged at). */
  limit: number;
}

export interface GcraCheck {
  conforms: boolean;
  /** The bucket after charging (only meaningful when it conforms). */
  next: GcraState;
  /** Wait until it would conform (0 if it does). */
  retryAfterMs: number;
}

/** The bucket counted from `now` when its `at` is ahead of the clock (stepped back), else itself. */
export function gcraRebase(state: GcraState | undefined, now: number): GcraState | undefined {
  return state !== undefined && state.at > now ? { at: now, level: state.level, limit: state.limit } : state;
}

/** The level at `now` under `limit` (0: full). A clock behind `at` drains nothing. */
export function gcraLevel(state: GcraState | undefined, now: number, limit: number): number {
  if (state === undefined) return 0;
  const level = Math.max(state.level - Math.max(now - state.at, 0) * state.limit, 0);
  return limit === state.limit ? level : Math.ceil((level / state.limit) * limit);
}

/**
 * Would charging `cost` units now conform? A cost larger than the whole minute's amount is admitted
 * only when the bucket is full, and then pushes TAT further (the debt is paid by waiting).
 */
export function gcraCheck(state: GcraState | undefined, now: number, limit: number, cost: number): GcraCheck {
  const level = gcraLevel(state, now, limit);
  const next = { at: now, level: level + cost * GCRA_WINDOW_MS, limit };
  // How far past the capacity the admitted part would go (1/limit ms).
  const over = level + (Math.min(cost, limit) - limit) * GCRA_WINDOW_MS;
  return over <= 0 ? { conforms: true, next, retryAfterMs: 0 } : { conforms: false, next, retryAfterMs: over / limit };
}

/** Units still available now (what X-RateLimit-Remaining shows), and ms until fully replenished. */
export function gcraRemaining(state: GcraState | undefined, now: number, limit: number): { remaining: number; resetMs: number } {
  const level = gcraLevel(state, now, limit);
  const remaining = Math.max(0, Math.floor((limit * GCRA_WINDOW_MS - level) / GCRA_WINDOW_MS));
  return { remaining, resetMs: Math.ceil(level / limit) };
}

/** The bucket after correcting a charge by `delta` units (negative refunds); never below "full". */
export function gcraAdjust(state: GcraState | undefined, now: number, limit: number, delta: number): GcraState {
  return { at: now, level: Math.max(gcraLevel(state, now, limit) + delta * GCRA_WINDOW_MS, 0), limit };
}
