import { describe, expect, it } from 'vitest';
import { twoModelMetrics } from '../evaluation/two-model-metrics.js';
import { costCurve, firstReaching, qualityAtBudget } from './cost-curve.js';

describe('costCurve', () => {
  const weak = [1, 0, 0, 1];
  const strong = [1, 1, 1, 0];
  const weakCost = [1, 1, 1, 1];
  const strongCost = [10, 20, 30, 40];

  it('router costs: escalating the top k swaps the weak cost for the strong one', () => {
    const c = costCurve([0.1, 0.9, 0.5, 0], weak, strong, strongCost, weakCost);
    // Order: prompt 1, 2, 0, 3.
    expect(Array.from(c.quality)).toEqual([0.5, 0.75, 1, 1, 0.75]);
    expect(Array.from(c.cost)).toEqual([1, 5.75, 13, 15.25, 25]);
  });

  it('cascade costs: the weak call is always paid', () => {
    const routed = weakCost.map((w, i) => w + strongCost[i]!);
    const c = costCurve([0.1, 0.9, 0.5, 0], weak, strong, routed, weakCost);
    expect(c.cost[0]).toBe(1);
    expect(c.cost[4]).toBe(26);
    expect(c.cost[1]).toBe(6);
  });

  it('splits ties evenly (a constant score is the random policy) and agrees with twoModelMetrics', () => {
    const c = costCurve([0, 0, 0, 0], weak, strong, strongCost, weakCost);
    expect(c.quality[2]).toBeCloseTo(0.5 + 0.5 * 0.25, 12);
    expect(c.cost[2]).toBeCloseTo(1 + (2 * (100 - 4)) / 4 / 4, 12);
    const score = [0.3, 0.9, 0.5, 0.1];
    const q = costCurve(score, weak, strong, [1, 1, 1, 1], [0, 0, 0, 0]);
    const m = twoModelMetrics(score, weak, strong, 4);
    for (const [k, p] of m.curve.entries()) expect(q.quality[k]).toBeCloseTo(p.quality, 12);
  });

  it('first k reaching a quality, and the quality within a budget', () => {
    const c = costCurve([0.1, 0.9, 0.5, 0], weak, strong, strongCost, weakCost);
    expect(firstReaching(c, 1)).toBe(2);
    expect(firstReaching(c, 1.1)).toBeUndefined();
    expect(qualityAtBudget(c, 13)).toBe(1);
    expect(qualityAtBudget(c, 12.9)).toBe(0.75);
    expect(qualityAtBudget(c, 0.5)).toBeUndefined();
    expect(qualityAtBudget(c, 100)).toBe(1); // the best threshold within the budget, not necessarily all
  });
});
