/**
 * Many-model metrics on hand-computed examples: AIQ is the exact area under the piecewise-linear hull (0
 * before its first point), the best single model is the cheapest of the equally best, and the gap to the
 * zero-router hull is a number where the router's curve starts late.
 */
import { describe, expect, it } from 'vitest';
import type { RoutingExample } from '../datasets/types.js';
import { evaluatePredictions } from './evaluate-predictions.js';
import { aiq, nonDecreasingHull } from './many-model-metrics.js';

/** Many-model pooled predictions where every prompt has the same per-model cost. */
function pooled(quality: number[][], cost: number[]) {
  const examples: RoutingExample[] = quality.map((q, i) => ({ id: `p${i}`, prompt: `prompt ${i}`, task: 't', quality: q, cost }));
  return { examples, quality: new Map([['logistic' as const, quality]]), cost: examples.map(() => cost) };
}

describe('AIQ (RouterBench): the exact area under the piecewise-linear hull', () => {
  it('a single operating point at cost 5.5 over the range [1, 10]: (10 - 5.5) / 9 x 0.625 = 0.3125', () => {
    const hull = nonDecreasingHull([{ cost: 5.5, quality: 0.625 }]);
    // Exact: a grid of trapezoids would smear the jump from 0 to 0.625 at the hull's first point (1000 steps: 0.3128125).
    expect(aiq(hull, 1, 10)).toBeCloseTo(0.3125, 6);
  });

  it('the random baseline of a hand-computed two-model example (a: cost 1 q .5, b: cost 10 q .75)', () => {
    // 4 prompts; a right on 0 and 3, b right on 0, 1 and 3. Random = (5.5, 0.625).
    const r = evaluatePredictions(['a', 'b'], undefined, pooled([[1, 1], [0, 1], [0, 0], [1, 1]], [1, 10]), 'logistic');
    expect(r.baselines.oracle.many_model!.aiq).toBeCloseTo(0.71875, 6); // (2.25 x .625 + 6.75 x .75) / 9
    expect(r.baselines.random.many_model!.aiq).toBeCloseTo(0.3125, 6);
  });
});

describe('best single model: the cheapest of the models with the best quality', () => {
  it('two equally good models: cost for 95% of the best is measured against the cheaper one, whatever the names', () => {
    // "big" (cost 10) and "small" (cost 1) are right on the same 2 of 4 prompts: small alone is the best single model.
    const r = evaluatePredictions(['big', 'small'], undefined, pooled([[1, 1], [0, 0], [1, 1], [0, 0]], [10, 1]), 'logistic');
    expect(r.best_single).toEqual({ model: 'small', quality: 0.5, cost: 1 });
    // Not "big" (first by name): measured against it, routing everything to "small" would look like 10% of the best's cost.
    expect(r.cost_fraction_at_95).toBe(1);
  });
});

describe('the JSON report has numbers where numbers are documented', () => {
  it('vs_zero_router.worst_gap of a router whose curve starts above the cheapest model is a number (not -Infinity -> null)', () => {
    const r = evaluatePredictions(['a', 'b'], undefined, pooled([[1, 1], [0, 1], [0, 0], [1, 1]], [1, 10]), 'logistic');
    const json = JSON.parse(JSON.stringify(r)) as typeof r;
    // The random router has no point below cost 5.5: it reaches nothing there (0, as AIQ counts it). The worst
    // gap is at the last grid point before 5.5 (200 steps over [1, 10]: cost 5.455), where the zero-router
    // hull is at 0.5 + (4.455 / 9) x 0.25 = 0.62375.
    const cmp = json.baselines.random.many_model!.vs_zero_router;
    expect(cmp.worst_gap).toBeCloseTo(-0.62375, 6);
    expect(cmp.worst_at_cost).toBeCloseTo(5.455, 6);
  });
});
