/**
 * Quality and cost of routing the top-k prompts by a score, for every k. `routed[i]` / `kept[i]` are the
 * cost of prompt i when it goes to the strong model or not (a router: strong / weak; a cascade, which
 * always pays the weak call first: weak + strong / weak). Tied scores are split evenly, as
 * `twoModelMetrics` does, so a constant score is the random policy in expectation.
 */
export interface CostCurve {
  n: number;
  /** quality[k], cost[k]: mean quality and mean cost per prompt when the top k prompts are escalated. */
  quality: Float64Array;
  cost: Float64Array;
}

export function costCurve(score: readonly number[], weak: readonly number[], strong: readonly number[], routed: readonly number[], kept: readonly number[]): CostCurve {
  const n = score.length;
  const order = Array.from(score, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
  const quality = new Float64Array(n + 1), cost = new Float64Array(n + 1);
  let q0 = 0, c0 = 0;
  for (let i = 0; i < n; i++) {
    q0 += weak[i]!;
    c0 += kept[i]!;
  }
  quality[0] = q0;
  cost[0] = c0;
  for (let s = 0; s < n; ) {
    let e = s, g = 0, dc = 0;
    while (e < n && score[order[e]!] === score[order[s]!]) {
      g += strong[order[e]!]! - weak[order[e]!]!;
      dc += routed[order[e]!]! - kept[order[e]!]!;
      e++;
    }
    for (let k = s; k < e; k++) {
      quality[k + 1] = quality[k]! + g / (e - s);
      cost[k + 1] = cost[k]! + dc / (e - s);
    }
    s = e;
  }
  for (let k = 0; k <= n; k++) {
    quality[k] = n ? quality[k]! / n : 0;
    cost[k] = n ? cost[k]! / n : 0;
  }
  return { n, quality, cost };
}

/** Smallest k whose quality reaches `target` (undefined when none does). */
export function firstReaching(c: CostCurve, target: number): number | undefined {
  for (let k = 0; k <= c.n; k++) if (c.quality[k]! >= target - 1e-12) return k;
  return undefined;
}

/**
 * Quality at a cost budget: the best quality of any k whose mean cost stays within it (the best
 * threshold a deployment spending at most `budget` per prompt could pick, i.e. the non-decreasing
 * envelope of the curve); undefined when even k = 0 costs more.
 */
export function qualityAtBudget(c: CostCurve, budget: number): number | undefined {
  let best: number | undefined;
  for (let k = 0; k <= c.n; k++) if (c.cost[k]! <= budget * (1 + 1e-12) && (best === undefined || c.quality[k]! > best)) best = c.quality[k]!;
  return best;
}
