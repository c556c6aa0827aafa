/** A wall clock (the router's `now`) that steps back by a minute on every read after the first (an NTP step, a resumed VM). */
export function steppingBack(): () => number {
  let t = 1_800_000_000_000;
  return () => {
    const now = t;
    t -= 60_000;
    return now;
  };
}
