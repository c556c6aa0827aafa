import { describe, expect, it } from 'vitest';
import { costCurve, firstReaching } from './cost-curve.js';
import { hybridCostCurve, pickDirectShare, summarizeHybrid, topShare, type HybridPool } from './hybrid-cascade.js';

// Six prompts: weak right on 0, 1, 2; strong right on all but 5.
const pool = (direct: boolean[]): HybridPool => ({
  score: [0.1, 0.2, 0.3, 0.9, 0.8, 0.7],
  direct,
  weak: [1, 1, 1, 0, 0, 0],
  strong: [1, 1, 1, 1, 1, 0],
  cost: { weak: [1, 1, 1, 1, 1, 1], strong: [10, 10, 10, 10, 10, 10] },
});
const none = [false, false, false, false, false, false];

describe('topShare', () => {
  it('marks round(share * n) prompts with the highest predicted gain, ties to the earlier prompt', () => {
    expect(topShare([0.1, 0.5, 0.3, 0.5], 0.5)).toEqual([false, true, false, true]);
    expect(topShare([0.2, 0.2, 0.2, 0.2], 0.25)).toEqual([true, false, false, false]);
    expect(topShare([0.1, 0.2, 0.3], 0)).toEqual([false, false, false]);
    expect(topShare([0.1, 0.2, 0.3], 1)).toEqual([true, true, true]);
    expect(topShare([], 0.3)).toEqual([]);
  });
});

describe('hybridCostCurve', () => {
  it('with no direct prompt it is the cascade curve (weak call always paid)', () => {
    const p = pool(none);
    const h = hybridCostCurve(p);
    const c = costCurve(p.score, p.weak, p.strong, p.cost.weak.map((w, i) => w + p.cost.strong[i]!), p.cost.weak);
    expect(Array.from(h.cost)).toEqual(Array.from(c.cost));
    expect(Array.from(h.quality)).toEqual(Array.from(c.quality));
  });

  it('a direct prompt costs the strong call only and has the strong quality from k = 0', () => {
    const h = hybridCostCurve(pool([false, false, false, true, false, false]));
    // k = 0: five weak calls and one strong call; quality: weak on 5 prompts, strong on prompt 3.
    expect(h.cost[0]).toBeCloseTo((5 * 1 + 10) / 6, 12);
    expect(h.quality[0]).toBeCloseTo(4 / 6, 12);
    // Escalating the next-highest cascaded score (prompt 4) adds its strong call and fixes it.
    expect(h.cost[1]).toBeCloseTo((5 * 1 + 10 + 10) / 6, 12);
    expect(h.quality[1]).toBeCloseTo(5 / 6, 12);
    // Direct prompts sort last and change nothing: the end of the curve is flat.
    expect(h.cost[6]).toBeCloseTo(h.cost[5]!, 12);
    expect(h.quality[6]).toBeCloseTo(h.quality[5]!, 12);
  });
});

describe('summarizeHybrid', () => {
  it('counts direct prompts in the strong share and reports accuracy on them', () => {
    const s = summarizeHybrid(pool([false, false, false, true, false, false]), [0.1, 0.5, 1]);
    expect(s.direct_fraction).toBeCloseTo(1 / 6, 12);
    expect(s.weak_accuracy_direct).toBe(0);
    expect(s.strong_accuracy_direct).toBe(1);
    // Strong accuracy 5/6; 95% of it is reached at k = 1 (quality 5/6): 1 direct + 1 escalated.
    expect(s.strong_share_for_95).toBeCloseTo(2 / 6, 12);
    expect(s.cost_fraction_for_95).toBeCloseTo((5 + 10 + 10) / 6 / 10, 12);
    expect(s.cost_fraction_for_target.map((t) => t.target)).toEqual([0.9, 0.925, 0.95, 0.975]);
    expect(s.cost_fraction_for_target[2]!.cost_fraction).toBe(s.cost_fraction_for_95);
    // 97.5% of 5/6 is more than 4/6 + ... : still k = 1 here; 90% of it (0.75) as well.
    expect(s.cost_fraction_for_target[0]!.cost_fraction).toBe(s.cost_fraction_for_95);
    // Below the least cost (weak on five, strong on one) nothing runs.
    expect(s.quality_at_cost[0]).toEqual({ cost_fraction: 0.1, quality: null });
    expect(s.quality_at_cost[2]!.quality).toBeCloseTo(5 / 6, 12);
    const c = hybridCostCurve(pool([false, false, false, true, false, false]));
    expect(firstReaching(c, 0.95 * (5 / 6))).toBe(1);
  });

  it('no direct prompt: no accuracy on them', () => {
    const s = summarizeHybrid(pool(none), []);
    expect(s.direct_fraction).toBe(0);
    expect(s.weak_accuracy_direct).toBeNull();
  });
});

describe('pickDirectShare', () => {
  it('least cost for 95% wins; null never does; ties go to the smaller share', () => {
    expect(pickDirectShare([0, 0.1, 0.2], [0.5, 0.4, 0.45])).toBe(0.1);
    expect(pickDirectShare([0, 0.1, 0.2], [null, null, 0.9])).toBe(0.2);
    expect(pickDirectShare([0, 0.1, 0.2], [0.4, 0.4, 0.4])).toBe(0);
    expect(pickDirectShare([0, 0.1], [null, null])).toBe(0);
  });
});
