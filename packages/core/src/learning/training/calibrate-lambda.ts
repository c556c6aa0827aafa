/**
 * Lambda (quality points per USD) at which routing the calibration prompts by
 * `argmax predicted quality - lambda x cost` sends `share` of them to `strongest`. `rows` are predicted
 * qualities per calibration prompt (one column per candidate), `cost` the candidates' expected cost.
 * Bisection on a log scale (the share falls as lambda grows). Returns 0 when even lambda 0 sends fewer.
 */
export function calibrateLambda(rows: ReadonlyArray<ArrayLike<number>>, cost: readonly number[], strongest: number, share: number): number {
  if (rows.length === 0) return 0;
  const shareAt = (lambda: number) => {
    let n = 0;
    for (const q of rows) {
      let best = 0, bestScore = -Infinity;
      for (let m = 0; m < cost.length; m++) {
        const s = q[m]! - lambda * cost[m]!;
        if (s > bestScore || (s === bestScore && cost[m]! < cost[best]!)) {
          best = m;
          bestScore = s;
        }
      }
      if (best === strongest) n++;
    }
    return n / rows.length;
  };
  if (shareAt(0) <= share) return 0;
  const maxCost = Math.max(...cost.filter((c) => c > 0), 1e-12);
  let lo = 1e-6 / maxCost, hi = 1e4 / maxCost;
  if (shareAt(hi) > share) return hi;
  for (let i = 0; i < 40; i++) {
    const mid = Math.sqrt(lo * hi);
    if (shareAt(mid) > share) lo = mid;
    else hi = mid;
  }
  return hi;
}
