import { sameQuality } from '../datasets/same-quality.js';
import type { RoutingExample } from '../datasets/types.js';
import type { PredictorKind } from '../predictors/types.js';
import type { EvaluationReport, ManyModelResult, PredictorResult } from './evaluation-report.js';
import { aiq, compareWithHull, costToReach, hullQualityAt, nonDecreasingHull } from './many-model-metrics.js';
import { lambdaGrid, operatingPoint, singleModelPoints, type OutcomeMatrix } from './route-many.js';
import { twoModelMetrics } from './two-model-metrics.js';

export const COST_FRACTIONS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1];

export interface PooledPredictions {
  examples: RoutingExample[];
  /** Per predictor kind: predicted quality per example (same order). */
  quality: Map<PredictorKind, number[][]>;
  /** Predicted cost per example (the cost model of its fold). */
  cost?: number[][];
}

type Base = Omit<EvaluationReport, 'data' | 'format' | 'protocol' | 'validation' | 'seconds' | 'chosen'>;

/** Whether an example has every model's outcome. */
const complete = (e: RoutingExample) => e.quality.every((q) => !Number.isNaN(q));

/**
 * Whether the pooled predictions of many-model data with costs can be scored on cost curves: some held-out prompt has
 * every model's outcome and every model's cost (the curves use no other). Two-model data has none (it routes by APGR).
 */
export function costCurvesPossible(pair: { weak: number; strong: number } | undefined, pooled: PooledPredictions): boolean {
  return !pair && pooled.cost !== undefined && pooled.examples.some((e) => complete(e) && e.cost !== undefined && e.cost.every((c) => !Number.isNaN(c)));
}

/**
 * Metrics of every predictor on pooled held-out predictions, with the random and oracle baselines and
 * the single models. Examples with a missing outcome (or cost, for cost curves) are dropped and counted
 * (`dropped`; `dropped_missing_cost` of them for a missing cost only). Many-model data with costs is scored on
 * cost curves when `costCurves` (default: `costCurvesPossible`); else on the quality of the model picked per prompt
 * (`selection`), and when the data has costs, `missing_cost_no_curves` counts the scored prompts (each lacks a cost).
 */
export function evaluatePredictions(
  models: string[],
  pair: { weak: number; strong: number } | undefined,
  pooled: PooledPredictions,
  chosen: PredictorKind,
  costCurves = costCurvesPossible(pair, pooled),
): Base {
  const hasCost = costCurves && !pair && pooled.cost !== undefined && pooled.examples.some((e) => e.cost);
  const hasOutcomes = pooled.examples.map(complete);
  const keep = pooled.examples.map((e, i) => hasOutcomes[i]! && (!hasCost || (e.cost?.every((c) => !Number.isNaN(c)) ?? false)));
  const ex = pooled.examples.filter((_, i) => keep[i]);
  const M = models.length;
  const pick = <T>(rows: T[]) => rows.filter((_, i) => keep[i]);
  const quality = ex.map((e) => e.quality);
  const cost = hasCost ? ex.map((e) => e.cost!) : ex.map(() => new Array<number>(M).fill(1));
  const predCost = hasCost ? pick(pooled.cost!) : cost;
  const outcomes = (predQuality: number[][]): OutcomeMatrix => ({ predQuality, predCost, quality, cost });
  const singles = singleModelPoints(outcomes(quality), models);
  const single_models = singles.map((s) => (hasCost ? { model: s.label!, quality: s.quality, cost: s.cost } : { model: s.label!, quality: s.quality }));
  // The best quality; of equally good models (to float rounding) the cheaper (the one routing has to beat).
  const best_single = single_models.reduce((a, b) =>
    (sameQuality(a.quality, b.quality) ? (b.cost ?? 0) < (a.cost ?? 0) : b.quality > a.quality) ? b : a,
  );
  const mode: Base['mode'] = pair ? 'two-model' : hasCost ? 'many-model' : 'selection';
  const costs = singles.map((s) => s.cost);
  const minCost = Math.min(...costs), maxCost = Math.max(...costs);
  const zeroHull = nonDecreasingHull(singles);
  const ref = singles.reduce((a, b) => (b.cost > a.cost ? b : a));

  const many = (points: ReturnType<typeof operatingPoint>[]): ManyModelResult => {
    const hull = nonDecreasingHull(points.map(({ cost: c, quality: q, label }) => ({ cost: c, quality: q, label: label! })));
    const at95 = costToReach(hull, 0.95 * best_single.quality);
    const cmp = compareWithHull(hull, zeroHull, minCost, maxCost);
    return {
      aiq: aiq(hull, minCost, maxCost),
      hull,
      quality_at_cost: COST_FRACTIONS.map((f) => {
        const c = f * best_single.cost!;
        const q = hullQualityAt(hull, c);
        return { cost_fraction: f, cost: c, quality: Number.isFinite(q) ? q : 0 };
      }),
      cost_at_95: at95 ?? null,
      cost_fraction_at_95: at95 === undefined ? null : at95 / best_single.cost!,
      cost_fraction_at_95_of_reference: ((c) => (c === undefined ? null : c / ref.cost))(costToReach(hull, 0.95 * ref.quality)),
      vs_zero_router: { share: cmp.share, worst_gap: cmp.worstGap, worst_at_cost: cmp.worstAt },
    };
  };
  const grid = lambdaGrid(costs.reduce((a, b) => a + b, 0) / M);

  const resultFor = (kind: PredictorResult['kind'], pred: number[][] | undefined): PredictorResult => {
    if (pair) {
      const score =
        kind === 'random' ? ex.map(() => 0) : kind === 'oracle' ? ex.map((e) => e.quality[pair.strong]! - e.quality[pair.weak]!) : pred!.map((r) => r[pair.strong]! - r[pair.weak]!);
      const m = twoModelMetrics(score, ex.map((e) => e.quality[pair.weak]!), ex.map((e) => e.quality[pair.strong]!));
      return { kind, two_model: { apgr: m.apgr, cpt50: m.cpt50, cpt80: m.cpt80, curve: m.curve } };
    }
    if (kind === 'random') {
      // Uniform random choice among the models: one point; mixing it with single models lies under the zero-router hull.
      const q = singles.reduce((a, s) => a + s.quality, 0) / M;
      const c = singles.reduce((a, s) => a + s.cost, 0) / M;
      if (!hasCost) return { kind, selection: { quality: q } };
      return { kind, many_model: many([{ cost: c, quality: q, label: 'random', choices: [] }]) };
    }
    const truth = kind === 'oracle';
    const o = outcomes(truth ? quality : pred!);
    if (!hasCost) return { kind, selection: { quality: operatingPoint(o, 0, truth).quality } };
    return { kind, many_model: many(grid.map((l) => operatingPoint(o, l, truth))) };
  };

  const predictors = [...pooled.quality].map(([kind, pred]) => resultFor(kind, pick(pred)));
  const base: Base = {
    models,
    mode,
    n_test: ex.length,
    dropped: pooled.examples.length - ex.length,
    dropped_missing_cost: keep.filter((k, i) => !k && hasOutcomes[i]).length,
    single_models,
    best_single,
    predictors,
    baselines: { random: resultFor('random', undefined), oracle: resultFor('oracle', undefined) },
  };
  if (pair) base.pair = { weak: models[pair.weak]!, strong: models[pair.strong]! };
  if (!pair && !hasCost && pooled.cost !== undefined && ex.some((e) => e.cost)) base.missing_cost_no_curves = ex.length;
  const head = predictors.find((p) => p.kind === chosen) ?? predictors[0];
  if (head?.two_model) Object.assign(base, { apgr: head.two_model.apgr, cpt50: head.two_model.cpt50, cpt80: head.two_model.cpt80 });
  if (head?.many_model) {
    Object.assign(base, { aiq: head.many_model.aiq, quality_at_cost: head.many_model.quality_at_cost, cost_fraction_at_95: head.many_model.cost_fraction_at_95 });
    base.zero_router = { aiq: aiq(zeroHull, minCost, maxCost), hull: zeroHull };
    base.reference = { model: ref.label!, quality: ref.quality, cost: ref.cost };
    base.cost_fraction_at_95_of_reference = head.many_model.cost_fraction_at_95_of_reference;
  }
  if (head?.selection) base.quality = head.selection.quality;
  return base;
}
