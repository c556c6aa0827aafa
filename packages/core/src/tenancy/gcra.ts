/**
 * GCRA (generic cell rate algorithm) over one minute, kept as a leaky bucket. With `limit` units per
 * minute, each unit advances the theoretical arrival time (TAT) by `60000 / limit` ms and a burst of the
 * whole minute's amount is allowed (tolerance 60000 ms). The TAT is kept as a level: how far it is ahead
 * of a clock reading, in 1/limit ms. A unit then adds exactly 60000, the bucket drains `limit` per ms and
 * holds `limit * 60000`, so with integer limits, costs and clock readings every value is an integer (far
 * below 2^53) and a burst admits exactly the limit at any clock value. (A TAT in epoch ms built by adding
 * `60000 / limit` drifts by a rounding step per charge: 8 of rpm 9, or 300005 of 300000.) The Redis Lua
 * scripts implement the same arithmetic; this file is the reference. A changed limit keeps the units charged
 * and not yet drained (they drain at the new rate).
 */
export const GCRA_WINDOW_MS = 60_000;

/** A bucket: its level at clock reading `at` (ms). No state: the bucket is full. */
export interface GcraState {
  at: number;
  /** How far the TAT was ahead of `at`, in 1/limit ms: 60000 per unit charged and not yet drained. */
  level: number;
}

export interface GcraCheck {
  conforms: boolean;
  /** The bucket after charging (only meaningful when it conforms). */
  next: GcraState;
  /** Wait until it would conform (0 if it does). */
  retryAfterMs: number;
}

/** The level at `now` (0: full). A clock that went back reads as time not yet drained. */
export function gcraLevel(state: GcraState | undefined, now: number, limit: number): number {
  return state === undefined ? 0 : Math.max(state.level - (now - state.at) * limit, 0);
}

/**
 * Would charging `cost` units now conform? A cost larger than the whole minute's amount is admitted
 * only when the bucket is full, and then pushes TAT further (the debt is paid by waiting).
 */
export function gcraCheck(state: GcraState | undefined, now: number, limit: number, cost: number): GcraCheck {
  const level = gcraLevel(state, now, limit);
  const next = { at: now, level: level + cost * GCRA_WINDOW_MS };
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
  return { at: now, level: Math.max(gcraLevel(state, now, limit) + delta * GCRA_WINDOW_MS, 0) };
}
