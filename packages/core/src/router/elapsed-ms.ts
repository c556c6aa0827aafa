/**
 * Milliseconds from `since` to `until`, never negative: a wall clock stepped back during the interval (an NTP
 * step, a resumed VM) reads as 0, not as a negative duration. Every duration the router records (results,
 * attempt records, deployment stats, cascades) goes through it.
 */
export function elapsedMs(since: number, until: number): number {
  const ms = until - since;
  return ms > 0 ? ms : 0;
}
