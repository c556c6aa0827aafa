/**
 * GCRA (generic cell rate algorithm) over one minute, kept as a leaky bucket. With `limit` units per
 * minute, each unit advances the theoretical arrival time (TAT) by `60000 / limit` ms and a burst of the
 * whole minute's amount is allowed (tolerance 60000 ms). The TAT is kept as a level: how far it is ahead
 * of a clock reading, in 1/limit ms. A unit then adds exactly 60000, the bucket drains `limit` per ms and
 * holds `limit * 60000`, so with integer limits, costs and clock readings every value is an integer (below
 * 2^53 for any limit under 10^9 while the debt stays within minutes) and a burst admits exactly the limit at any clock value. (A TAT in epoch ms built by adding
 * `60000 / limit` drifts by a rounding step per charge: 8 of rpm 9, or 300005 of 300000.) The Redis Lua
 * scripts implement the same arithmetic; this file is the reference.
 *
 * A bucket keeps the limit its level is counted in. Under another limit it keeps the time it still needs to
 * drain (the level rescaled, rounded up, in exact integer steps: `mulDivCeil`), as a TAT would: how full the
 * minute is, not the units. So a bucket is full again at the same time whatever the limit becomes, and that
 * time can be known when it is charged (the Redis key's expiry, the memory limiter's sweep). Keeping the units
 * instead would let a lowered limit (1 tpm) turn any charge into debt for years: no expiry could be set before
 * the new limit is seen.
 *
 * A bucket is never more than `GCRA_MAX_DRAIN_MS` (a year) from full: a charge past that (a cost of more than a
 * year's worth of the limit, admitted because the bucket was full) counts as a year's worth. So the Redis key's
 * expiry stays an integer Redis takes, and memory and Redis hold the same debt. The part the cap left uncharged
 * (`GcraCheck.uncharged`) goes back into the release's correction (`gcraAdjust`), so that a call leaves the same
 * debt for the same usage however far its estimate was past the cap.
 *
 * A clock behind a bucket's `at` (a wall clock stepped back by NTP) drains nothing and adds no debt: the level
 * stays as stored, and the limiters move `at` back to the clock (`gcraRebase`) so that the level drains from
 * the earlier time. A step back costs at most the debt held.
 */
export const GCRA_WINDOW_MS = 60_000;

/** The longest a bucket takes to drain (ms): no charge puts it further from full. */
export const GCRA_MAX_DRAIN_MS = 365 * 86_400_000;

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
  /** The part of the charge the debt cap dropped, in 1/limit ms (0 unless `next` is a year from full). */
  uncharged: number;
}

/** The bucket counted from `now` when its `at` is ahead of the clock (stepped back), else itself. */
export function gcraRebase(state: GcraState | undefined, now: number): GcraState | undefined {
  return state !== undefined && state.at > now ? { at: now, level: state.level, limit: state.limit } : state;
}

/** The level at `now` under `limit` (0: full). A clock behind `at` drains nothing. */
export function gcraLevel(state: GcraState | undefined, now: number, limit: number): number {
  if (state === undefined) return 0;
  const level = Math.max(state.level - Math.max(now - state.at, 0) * state.limit, 0);
  return limit === state.limit ? level : mulDivCeil(level, limit, state.limit);
}

/**
 * ceil(a * b / c) for a >= 0 and integers b >= 0, 0 < c < 2^52, with no rounding of its own while the result is
 * below 2^53: a * b may pass 2^53, so the product of b and the remainder of a / c is built over the bits of b
 * (53 steps at most; only a changed limit needs it). The Lua copy in `rate-limit-scripts.ts` takes the same steps.
 */
export function mulDivCeil(a: number, b: number, c: number): number {
  const r = a % c;
  const whole = ((a - r) / c) * b;
  // r * (the bits of b taken so far) = q * c + m, with m < c (so no sum passes 2c).
  let q = 0;
  let m = 0;
  let bit = 1;
  while (bit * 2 <= b) bit *= 2;
  for (let rest = b; bit >= 1; bit /= 2) {
    q *= 2;
    m *= 2;
    if (m >= c) {
      q++;
      m -= c;
    }
    if (rest >= bit) {
      rest -= bit;
      m += r;
      if (m >= c) {
        q++;
        m -= c;
      }
    }
  }
  return whole + (m > 0 ? q + 1 : q);
}

/**
 * Would charging `cost` units now conform? A cost larger than the whole minute's amount is admitted
 * only when the bucket is full, and then pushes TAT further (the debt is paid by waiting, a year at most).
 */
export function gcraCheck(state: GcraState | undefined, now: number, limit: number, cost: number): GcraCheck {
  const level = gcraLevel(state, now, limit);
  const charged = level + cost * GCRA_WINDOW_MS;
  const next = { at: now, level: Math.min(charged, limit * GCRA_MAX_DRAIN_MS), limit };
  const uncharged = charged - next.level;
  // How far past the capacity the admitted part would go (1/limit ms).
  const over = level + (Math.min(cost, limit) - limit) * GCRA_WINDOW_MS;
  return over <= 0 ? { conforms: true, next, retryAfterMs: 0, uncharged } : { conforms: false, next, retryAfterMs: over / limit, uncharged };
}

/** Units still available now (what X-RateLimit-Remaining shows), and ms until fully replenished. */
export function gcraRemaining(state: GcraState | undefined, now: number, limit: number): { remaining: number; resetMs: number } {
  const level = gcraLevel(state, now, limit);
  const remaining = Math.max(0, Math.floor((limit * GCRA_WINDOW_MS - level) / GCRA_WINDOW_MS));
  return { remaining, resetMs: Math.ceil(level / limit) };
}

/**
 * The bucket after correcting a charge by `delta` units (negative refunds); never below "full". `uncharged` (1/limit
 * ms) is what the debt cap dropped from that charge (`GcraCheck.uncharged`): a refund takes back only what was charged.
 */
export function gcraAdjust(state: GcraState | undefined, now: number, limit: number, delta: number, uncharged = 0): GcraState {
  return { at: now, level: Math.min(Math.max(gcraLevel(state, now, limit) + delta * GCRA_WINDOW_MS + uncharged, 0), limit * GCRA_MAX_DRAIN_MS), limit };
}
