import { describe, expect, it } from 'vitest';
import { QUANTITY_FEATURES, quantityFeatures } from './quantity-features.js';

describe('quantityFeatures', () => {
  it('counts quantities, sentences and operation words (log1p-scaled)', () => {
    const f = quantityFeatures('Janet has 16 eggs. She eats 3 each day and sells the remaining eggs for $2.50 each. How much does she make per week?');
    const at = (name: (typeof QUANTITY_FEATURES)[number]) => Math.round(Math.expm1(f[QUANTITY_FEATURES.indexOf(name)]!));
    expect(f).toHaveLength(QUANTITY_FEATURES.length);
    expect(at('numbers')).toBe(3);
    expect(at('distinct_numbers')).toBe(3);
    expect(at('max_digits')).toBe(3);
    expect(at('decimals_fractions')).toBe(1);
    expect(at('percents_money')).toBe(1);
    expect(at('sentences')).toBe(3);
    expect(at('operation_words')).toBe(4); // each, remaining, each, per
    expect(at('time_units')).toBe(2);
  });

  it('reads a long prompt in linear time, from its last 8 000 characters', () => {
    // A run of dots not followed by a space was tried from each dot (seconds at 30 000).
    const dots = `Why${'.'.repeat(200_000)}x`;
    const t0 = performance.now();
    quantityFeatures(dots);
    expect(performance.now() - t0).toBeLessThan(1000);
    const problem = 'Tom buys 3 apples for 2 dollars each. How much does he pay in total?';
    const padded = `${'filler words only, no quantity at all here. '.repeat(400)}${problem}`;
    expect(padded.length).toBeGreaterThan(8000);
    expect(quantityFeatures(padded)).toEqual(quantityFeatures(padded.slice(-8000)));
  });

  it('is all zeros for text without numbers or words', () => {
    expect(quantityFeatures('')).toEqual(new Array(QUANTITY_FEATURES.length).fill(0));
  });
});
