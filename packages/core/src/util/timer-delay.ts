/** The longest delay a timer takes (2^31 - 1 ms, about 24.8 days): Node and browsers fire a longer one after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A time bound (ms) as a timer delay: one past the longest a timer takes waits that long, never fires at once. */
export function timerDelay(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}
