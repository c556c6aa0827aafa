import { describe, expect, it } from 'vitest';
import { seededRandom } from '../predictors/adam.js';
import { LinearPosterior } from './linear-posterior.js';

describe('LinearPosterior', () => {
  it('starts at the prior and moves to the least-squares fit as observations accumulate', () => {
    const p = new LinearPosterior([0.5, 1], 4);
    expect(Array.from(p.mean())).toEqual([0.5, 1]);
    const r = seededRandom(1);
    // reward = 0.2 + 0.6 x, no noise
    for (let i = 0; i < 2000; i++) {
      const x = r() - 0.5;
      p.update([1, x], 0.2 + 0.6 * x);
    }
    const [a, b] = Array.from(p.mean());
    expect(a!).toBeCloseTo(0.2, 2);
    expect(b!).toBeCloseTo(0.6, 1);
    expect(p.observations).toBe(2000);
  });

  it('draws spread by the posterior: wide before data, narrow after', () => {
    const r = seededRandom(2);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const spread = (p: LinearPosterior) => {
      const xs = Array.from({ length: 400 }, () => p.sample(0.25, gauss)[0]!);
      const m = xs.reduce((s, x) => s + x, 0) / xs.length;
      return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length);
    };
    const p = new LinearPosterior([0.5], 1);
    const before = spread(p);
    for (let i = 0; i < 100; i++) p.update([1], 0.9);
    const after = spread(p);
    expect(before).toBeGreaterThan(0.2);
    expect(after).toBeLessThan(0.05);
    expect(p.mean()[0]!).toBeCloseTo((0.5 + 90) / 101, 6);
    // A negative weight removes an observation exactly.
    p.update([1], 0.9, -1);
    expect(p.mean()[0]!).toBeCloseTo((0.5 + 89.1) / 100, 6);
  });
});
