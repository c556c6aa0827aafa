import type { RoutingExample } from '../datasets/types.js';
import { aiq, nonDecreasingHull } from '../evaluation/many-model-metrics.js';
import { lambdaGrid, operatingPoint, singleModelPoints, type OutcomeMatrix } from '../evaluation/route-many.js';
import { twoModelMetrics } from '../evaluation/two-model-metrics.js';

/** Examples whose outcome (and cost, when `needCost`) is known for every model. */
export function completeExamples(examples: readonly RoutingExample[], needCost: boolean): boolean[] {
  return examples.map((e) => e.quality.every((q) => !Number.isNaN(q)) && (!needCost || (e.cost !== undefined && e.cost.every((c) => !Number.isNaN(c)))));
}

/** Whether the routing metric of `routingScore` can score `examples`: some example has every model's outcome (and cost, when it needs costs). */
export function routingScorable(examples: readonly RoutingExample[], pair: { weak: number; strong: number } | undefined, predCost: number[][] | undefined): boolean {
  return completeExamples(examples, !pair && predCost !== undefined).some(Boolean);
}

/** The known outcomes of `examples`, as (example, model) pairs counted. */
export function knownOutcomes(examples: readonly RoutingExample[]): number {
  let n = 0;
  for (const e of examples) for (const q of e.quality) if (!Number.isNaN(q)) n++;
  return n;
}

/**
 * One number to compare predictors on held-out prompts: APGR for two-model data, AIQ when costs are
 * known, else the mean quality of the model each prompt is routed to (lambda = 0); higher is better.
 * With no example the routing metric can score (none has every model's outcome, or cost when costs are
 * needed), the Brier score of the predicted qualities on the known outcomes (metric `brier`, LOWER is
 * better; `value` 0 and metric `n/a` only when there is no known outcome at all).
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
  if (ex.length === 0) return brierScore(examples, pred);
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

/** Mean squared error of the predicted quality over every known outcome (`brier`; lower is better). */
function brierScore(examples: readonly RoutingExample[], pred: number[][]): { metric: string; value: number } {
  let sum = 0, n = 0;
  examples.forEach((e, i) => {
    e.quality.forEach((q, m) => {
      if (Number.isNaN(q)) return;
      const d = pred[i]![m]! - q;
      sum += d * d;
      n++;
    });
  });
  return n === 0 ? { metric: 'n/a', value: 0 } : { metric: 'brier', value: sum / n };
}

/** Whether validation score `b` beats `a` (both of one metric): lower is better for `brier`, higher for the routing metrics. */
export function betterScore(a: { metric: string; value: number }, b: { metric: string; value: number }): boolean {
  return b.metric === 'brier' ? b.value < a.value : b.value > a.value;
}
