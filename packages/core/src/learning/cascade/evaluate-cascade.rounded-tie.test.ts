/**
 * A cascade evaluation of two models whose mean qualities differ only by float rounding (0.1 on every prompt against
 * 0.2 or 0 on half each): the PGR at each cost budget (`quality_at_cost[].pgr`) is 0, the tie's placeholder, as in the
 * PGR curve, not the quality gained divided by a residue of ~1e-16 (~10^13).
 */
import { describe, expect, it } from 'vitest';
import { evaluateCascade } from './evaluate-cascade.js';
import type { CascadeExample } from './load-gsm8k-responses.js';
import type { PairPrices } from './price-pair.js';

const PRICES: PairPrices = { weak: { entry: 'weak', input: 1, output: 1 }, strong: { entry: 'strong', input: 10, output: 30 } };

function roundedTie(n: number): CascadeExample[] {
  return Array.from({ length: n }, (_, i) => {
    const a = 3 + (i % 50), b = 2 + ((i * 7) % 40);
    const weakResponse = i % 3 ? `Tom has ${a} + ${b} = <<${a}+${b}=${a + b}>>${a + b} apples.\n#### ${a + b}` : `Tom has ${a} + ${b} = <<${a}+`;
    return { id: `tie/${i}`, prompt: `Tom has ${a} apples and buys ${b} more. How many apples does he have?`, task: 'tie', quality: [0.1, i % 2 ? 0 : 0.2], weakResponse, strongResponse: `${a} + ${b} = ${a + b}. The answer is ${a + b}.` };
  });
}

describe('evaluateCascade: two models tied on quality to float rounding', () => {
  it('quality_at_cost gives PGR 0 (no gap to recover), not a quality gain divided by the rounding residue', () => {
    const r = evaluateCascade(roundedTie(200), { seed: 1, prices: PRICES });
    const at = r.scorers.flatMap((s) => s.quality_at_cost);
    expect(at.length).toBeGreaterThan(0);
    expect(at.some((p) => p.quality !== null && Math.abs(p.quality - 0.1) > 1e-3)).toBe(true);
    expect(at.filter((p) => p.pgr !== null && p.pgr !== 0)).toEqual([]);
    expect(r.weak_quality).toBe(r.strong_quality);
  });
});
