import { describe, expect, it } from 'vitest';
import { aiq, compareWithHull, costToReach, hullQualityAt, nonDecreasingHull } from './many-model-metrics.js';
import { twoModelMetrics } from './two-model-metrics.js';

describe('twoModelMetrics (PGR, APGR, CPT)', () => {
  // 4 prompts: the strong model fixes prompts 0 and 1; the weak is right on 2 and 3, the strong too.
  const weak = [0, 0, 1, 1];
  const strong = [1, 1, 1, 1];

  it('a constant score is the random router: APGR 0.5, PGR linear in the share of strong calls', () => {
    const m = twoModelMetrics([0, 0, 0, 0], weak, strong, 4);
    expect(m.apgr).toBeCloseTo(0.5, 12);
    expect(m.curve.map((p) => p.pgr)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(m.cpt50).toBe(0.5);
    expect(m.cpt80).toBe(1);
  });

  it('the oracle ordering recovers the gap with the fewest strong calls', () => {
    const m = twoModelMetrics([1, 1, 0, 0], weak, strong, 4);
    expect(m.curve.map((p) => p.pgr)).toEqual([0, 0.5, 1, 1, 1]);
    // trapezoid: (0+.5)/2 + (.5+1)/2 + 1 + 1 over 4 = 0.75
    expect(m.apgr).toBeCloseTo(0.75, 12);
    expect(m.cpt50).toBe(0.25);
    expect(m.cpt80).toBe(0.5);
    expect(m.weakQuality).toBe(0.5);
    expect(m.strongQuality).toBe(1);
  });

  it('the worst ordering is below random', () => {
    expect(twoModelMetrics([0, 0, 1, 1], weak, strong).apgr).toBeCloseTo(0.25, 12);
  });

  it('PGR can exceed 1 when the weak model is sometimes right and the strong wrong', () => {
    const m = twoModelMetrics([1, 0], [1, 0], [0, 1], 2);
    // gap 0: PGR is defined as 0 everywhere
    expect(m.apgr).toBe(0);
    const m2 = twoModelMetrics([1, -1, 0.5], [0, 1, 0], [1, 0, 1], 3);
    expect(Math.max(...m2.curve.map((p) => p.pgr))).toBeCloseTo(2, 12);
  });
});

describe('quality-cost hull, AIQ, cost to reach', () => {
  const singles = [
    { cost: 1, quality: 0.5, label: 'cheap' },
    { cost: 2, quality: 0.55, label: 'dominated' },
    { cost: 4, quality: 0.9, label: 'strong' },
    { cost: 5, quality: 0.8, label: 'worse and dearer' },
  ];

  it('keeps only the upper-left non-decreasing convex hull', () => {
    expect(nonDecreasingHull(singles).map((p) => p.label)).toEqual(['cheap', 'strong']);
  });

  it('interpolates linearly, flat after the last point, unreachable before the first', () => {
    const hull = nonDecreasingHull(singles);
    expect(hullQualityAt(hull, 2.5)).toBeCloseTo(0.7, 12);
    expect(hullQualityAt(hull, 10)).toBe(0.9);
    expect(hullQualityAt(hull, 0.5)).toBe(-Infinity);
  });

  it('AIQ is the mean hull quality over the cost range', () => {
    const hull = nonDecreasingHull(singles);
    // over [1,5]: trapezoid 1..4 average 0.7 (3 units), then 0.9 for 1 unit -> (2.1 + 0.9) / 4
    expect(aiq(hull, 1, 5)).toBeCloseTo(0.75, 3);
  });

  it('cost to reach a quality, and the comparison with another hull', () => {
    const hull = nonDecreasingHull(singles);
    expect(costToReach(hull, 0.7)).toBeCloseTo(2.5, 12);
    expect(costToReach(hull, 0.95)).toBeUndefined();
    const better = nonDecreasingHull([{ cost: 1, quality: 0.6 }, { cost: 3, quality: 0.9 }]);
    expect(compareWithHull(better, hull, 1, 5).share).toBe(1);
    const worse = compareWithHull(hull, better, 1, 5);
    expect(worse.share).toBeLessThan(1);
    expect(worse.worstGap).toBeLessThan(0);
  });
});
