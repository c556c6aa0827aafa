import { CompensatedSum } from '../datasets/same-quality.js';
import type { CostQualityPoint } from './many-model-metrics.js';

/** Predictions and outcomes for a set of prompts (row = prompt, column = model). */
export interface OutcomeMatrix {
  /** Predicted quality. */
  predQuality: number[][];
  /** Predicted cost (what the router can know before answering). */
  predCost: number[][];
  /** Observed quality and cost. */
  quality: number[][];
  cost: number[][];
}

/** Index of the model maximizing predicted quality - lambda x predicted cost (ties: cheaper first). */
export function chooseModel(q: readonly number[], c: readonly number[], lambda: number): number {
  let best = 0, bestScore = -Infinity;
  for (let m = 0; m < q.length; m++) {
    const s = lambda === Infinity ? -c[m]! : q[m]! - lambda * c[m]!;
    if (s > bestScore || (s === bestScore && c[m]! < c[best]!)) {
      best = m;
      bestScore = s;
    }
  }
  return best;
}

/** The operating point (mean observed cost and quality) of routing every prompt with `lambda`. */
export function operatingPoint(o: OutcomeMatrix, lambda: number, useTruth = false): CostQualityPoint & { choices: number[] } {
  // Compensated sums, as `singleModelPoints`' (a router sending every prompt to one model lands on that model's point).
  const q = new CompensatedSum(), c = new CompensatedSum();
  const n = o.quality.length;
  const choices = new Array<number>(o.predQuality[0]?.length ?? 0).fill(0);
  for (let i = 0; i < n; i++) {
    const m = useTruth ? chooseModel(o.quality[i]!, o.cost[i]!, lambda) : chooseModel(o.predQuality[i]!, o.predCost[i]!, lambda);
    choices[m]!++;
    q.add(o.quality[i]![m]!);
    c.add(o.cost[i]![m]!);
  }
  return { cost: c.value / n, quality: q.value / n, label: `lambda=${lambda}`, choices };
}

/** A lambda grid spanning "quality only" to "cheapest only", scaled by the typical cost. */
export function lambdaGrid(typicalCost: number, steps = 80): number[] {
  const out = [0];
  const scale = typicalCost > 0 ? 1 / typicalCost : 1;
  for (let i = 0; i < steps; i++) out.push(scale * 10 ** (-4 + (6 * i) / (steps - 1)));
  out.push(Infinity);
  return out;
}

/**
 * Mean observed quality and cost per model (the single-model operating points), by compensated sums: models of the same
 * quality or cost have the same means to the last bit at any number of prompts (`sameQuality`).
 */
export function singleModelPoints(o: OutcomeMatrix, models: readonly string[]): CostQualityPoint[] {
  const n = o.quality.length;
  return models.map((label, m) => {
    const q = new CompensatedSum(), c = new CompensatedSum();
    for (let i = 0; i < n; i++) {
      q.add(o.quality[i]![m]!);
      c.add(o.cost[i]![m]!);
    }
    return { cost: c.value / n, quality: q.value / n, label };
  });
}
