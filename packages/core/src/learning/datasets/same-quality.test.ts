/**
 * Means of the same quality are the same at any number of prompts: 0.1 on every prompt against 0.2 or 0 on half each,
 * summed left to right, differ by 2.6e-16 at 200 prompts and 2.2e-12 at a million, past sameQuality's 1e-12 (the PGR
 * metrics then divided by the residue: APGR -1.1e10). Summed with compensation (`meanOf`, `CompensatedSum`) they are
 * equal to the last bit, in the loader's weak/strong choice, the PGR metrics and the single models' qualities.
 */
import { describe, expect, it } from 'vitest';
import { evaluatePredictions } from '../evaluation/evaluate-predictions.js';
import { singleModelPoints } from '../evaluation/route-many.js';
import { twoModelMetrics } from '../evaluation/two-model-metrics.js';
import { CompensatedSum, meanOf, sameQuality } from './same-quality.js';
import type { RoutingExample } from './types.js';

const MILLION = 1_000_000;
const flat = (n: number) => new Float64Array(n).fill(0.1);
const halves = (n: number) => Float64Array.from({ length: n }, (_, i) => (i % 2 ? 0 : 0.2));

describe('compensated means of the same quality', () => {
  it('0.1 a million times and 0.2 or 0 half a million times each have the same mean, to the last bit', () => {
    const a = meanOf(flat(MILLION)), b = meanOf(halves(MILLION));
    expect(a).toBe(b);
    expect(a).toBe(0.1);
    expect(sameQuality(a, b)).toBe(true);
    // Left to right they are 2.2e-12 apart, beyond the tolerance: the sum's drift grows with n, the tolerance does not.
    let l = 0, r = 0;
    for (let i = 0; i < MILLION; i++) (l += 0.1), (r += i % 2 ? 0 : 0.2);
    expect(sameQuality(l / MILLION, r / MILLION)).toBe(false);
  });

  it('CompensatedSum counts its terms and gives NaN for the mean of none', () => {
    const s = new CompensatedSum();
    expect(s.mean).toBeNaN();
    s.add(1e16).add(1).add(-1e16);
    expect(s.value).toBe(1);
    expect(s.count).toBe(3);
  });

  it('twoModelMetrics on a million prompts: a tie (PGR 0 everywhere), not an APGR of -10^10', () => {
    const weak = Array.from(flat(MILLION)), strong = Array.from(halves(MILLION));
    const m = twoModelMetrics(strong.map((s, i) => s - weak[i]!), weak, strong);
    expect(m.apgr).toBe(0);
    expect(m.curve.every((p) => p.pgr === 0)).toBe(true);
    expect(m.weakQuality).toBe(m.strongQuality);
    // The oracle's curve still shows what routing reaches: 0.15 at half the calls to the strong model.
    expect(m.curve[50]!.quality).toBeCloseTo(0.15, 9);
  });

  it('the single models of a million prompts have the same quality to the last bit', () => {
    const quality = Array.from({ length: MILLION }, (_, i) => [0.1, i % 2 ? 0 : 0.2]);
    const [a, b] = singleModelPoints({ quality, cost: quality, predQuality: quality, predCost: quality }, ['a', 'b']);
    expect(a!.quality).toBe(b!.quality);
  });
});

describe('evaluatePredictions: the best single model of models tied to float rounding', () => {
  it('is the cheaper one, not the one whose left-to-right mean rounds higher', () => {
    // a: 0.1 on every prompt at cost 2; b: 0.2 or 0 at cost 1. Left to right a's mean is 2.6e-16 above b's.
    const quality = Array.from({ length: 200 }, (_, i) => [0.1, i % 2 ? 0 : 0.2]);
    const cost = [2, 1];
    const examples: RoutingExample[] = quality.map((q, i) => ({ id: `p${i}`, prompt: `prompt ${i}`, task: 't', quality: q, cost }));
    const r = evaluatePredictions(['a', 'b'], undefined, { examples, quality: new Map([['logistic' as const, quality]]), cost: examples.map(() => cost) }, 'logistic');
    expect(r.mode).toBe('many-model');
    expect(r.best_single).toEqual({ model: 'b', quality: r.single_models[0]!.quality, cost: 1 });
  });
});
