import type { RoutingExample } from '../datasets/types.js';
import { aiq, nonDecreasingHull } from '../evaluation/many-model-metrics.js';
import { lambdaGrid, operatingPoint, singleModelPoints, type OutcomeMatrix } from '../evaluation/route-many.js';
import { twoModelMetrics } from '../evaluation/two-model-metrics.js';

/** Examples whose outcome (and cost, when `needCost`) is known for every model. */
export function completeExamples(examples: readonly RoutingExample[], needCost: boolean): boolean[] {
  return examples.map((e) => e.quality.every((q) => !Number.isNaN(q)) && (!needCost || (e.cost !== undefined && e.cost.every((c) => !Number.isNaN(c)))));
}

/**
 * One number to compare predictors on held-out prompts: APGR for two-model data, AIQ when costs are
 * known, else the mean quality of the model each prompt is routed to (lambda = 0).
 */
export function routingScore(
  examples: readonly RoutingExample[],
  pred: number[][],
  pair: { weak: number; strong: number } | undefined,
  predCost: number[][] | undefined,
): { metric: string; value: number } {
  const needCost = !pair && predCost !== undefined;
  const keep = completeExamples(examples, needCost);
  const ex = examples.filter((_, i) => keep[i]);
  const p = pred.filter((_, i) => keep[i]);
  if (ex.length === 0) return { metric: 'n/a', value: 0 };
  if (pair) {
    const m = twoModelMetrics(
      p.map((r) => r[pair.strong]! - r[pair.weak]!),
      ex.map((e) => e.quality[pair.weak]!),
      ex.map((e) => e.quality[pair.strong]!),
    );
    return { metric: 'apgr', value: m.apgr };
  }
  const M = ex[0]!.quality.length;
  const o: OutcomeMatrix = {
    predQuality: p,
    predCost: needCost ? predCost!.filter((_, i) => keep[i]) : p.map(() => new Array<number>(M).fill(1)),
    quality: ex.map((e) => e.quality),
    cost: needCost ? ex.map((e) => e.cost!) : ex.map(() => new Array<number>(M).fill(1)),
  };
  if (!needCost) return { metric: 'quality', value: operatingPoint(o, 0).quality };
  const singles = singleModelPoints(o, Array.from({ length: M }, (_, i) => String(i)));
  const costs = singles.map((s) => s.cost);
  const points = lambdaGrid(costs.reduce((a, b) => a + b, 0) / M, 40).map((l) => operatingPoint(o, l));
  return { metric: 'aiq', value: aiq(nonDecreasingHull(points), Math.min(...costs), Math.max(...costs)) };
}
