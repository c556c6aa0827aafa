import type { RoutingExample } from '../datasets/types.js';
import { aiq, nonDecreasingHull } from '../evaluation/many-model-metrics.js';
import { lambdaGrid, operatingPoint, singleModelPoints, type OutcomeMatrix } from '../evaluation/route-many.js';
import { twoModelMetrics } from '../evaluation/two-model-metrics.js';

/** Examples whose outcome (and cost, when `needCost`) is known for every model. */
export function completeExamples(examples: readonly RoutingExample[], needCost: boolean): boolean[] {
  return examples.map((e) => e.quality.every((q) => !Number.isNaN(q)) && (!needCost || (e.cost !== undefined && e.cost.every((c) => !Number.isNaN(c)))));
}

/**
 * Why the routing metric of `routingScore` cannot tell predictors apart on `examples`, or undefined when it can: it
 * needs two examples or more with every model's outcome (and cost, when it needs costs), one of which at least has
 * models whose outcomes differ (on one such example, or where every model does as well, every routing scores the same).
 */
export function routingIndecisive(examples: readonly RoutingExample[], pair: { weak: number; strong: number } | undefined, predCost: number[][] | undefined, subject = 'validation'): string | undefined {
  const keep = completeExamples(examples, !pair && predCost !== undefined);
  const complete = examples.filter((_, i) => keep[i]);
  const what = `every model's outcome${!pair && predCost !== undefined ? ' and cost' : ''}`;
  if (complete.length === 0) return `no ${subject} prompt has ${what}`;
  if (complete.length === 1) return `only 1 ${subject} prompt has ${what}`;
  const differs = (e: RoutingExample) => (pair ? e.quality[pair.weak] !== e.quality[pair.strong] : e.quality.some((q) => q !== e.quality[0]));
  if (!complete.some(differs)) return `the ${complete.length} ${subject} prompts with ${what} have the same outcome for ${pair ? 'both models' : 'every model'}`;
  return undefined;
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
 * When the routing metric cannot tell predictors apart (`routingIndecisive`: no, or only one, example has every
 * model's outcome, or cost when costs are needed; or those that do have the same outcome for every model), the
 * Brier score of the predicted qualities on the known outcomes (metric `brier`, LOWER is better; `value` 0 and
 * metric `n/a` only when there is no known outcome at all).
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
  if (routingIndecisive(examples, pair, predCost) !== undefined) return brierScore(examples, pred);
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
