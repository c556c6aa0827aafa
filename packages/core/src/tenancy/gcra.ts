/**
 * GCRA (generic cell rate algorithm) over one minute. State is one number: the theoretical arrival
 * time (TAT). With `limit` units per minute, each unit advances TAT by `T = 60000 / limit` ms and a
 * burst of the whole minute's amount is allowed (tolerance 60000 ms). The Redis Lua scripts implement
 * the same arithmetic; this file is the reference.
 */
export const GCRA_WINDOW_MS = 60_000;

export interface GcraCheck {
  conforms: boolean;
  /** TAT after charging (only meaningful when it conforms). */
  newTat: number;
  /** Wait until it would conform (0 if it does). */
  retryAfterMs: number;
}

/**
 * Would charging `cost` units now conform? A cost larger than the whole minute's amount is admitted
 * only when the bucket is full, and then pushes TAT further (the debt is paid by waiting).
 */
export function gcraCheck(tat: number | undefined, now: number, limit: number, cost: number): GcraCheck {
  const t = GCRA_WINDOW_MS / limit;
  const base = Math.max(tat ?? now, now);
  const newTat = base + cost * t;
  const admitCost = Math.min(cost, limit);
  const allowAt = base + admitCost * t - GCRA_WINDOW_MS;
  if (allowAt <= now) return { conforms: true, newTat, retryAfterMs: 0 };
  return { conforms: false, newTat, retryAfterMs: allowAt - now };
}

/** Units still available now (what X-RateLimit-Remaining shows), and ms until fully replenished. */
export function gcraRemaining(tat: number | undefined, now: number, limit: number): { remaining: number; resetMs: number } {
  const t = GCRA_WINDOW_MS / limit;
  const backlog = Math.max((tat ?? now) - now, 0);
  const remaining = Math.max(0, Math.floor((GCRA_WINDOW_MS - backlog) / t + 1e-9));
  return { remaining: Math.min(remaining, limit), resetMs: Math.ceil(backlog) };
}

/** TAT after correcting a charge by `delta` units (negative refunds); never before `now`. */
export function gcraAdjust(tat: number | undefined, now: number, limit: number, delta: number): number {
  const t = GCRA_WINDOW_MS / limit;
  return Math.max(Math.max(tat ?? now, now) + delta * t, now);
}
