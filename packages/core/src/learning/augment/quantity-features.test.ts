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

  it('is all zeros for text without numbers or words', () => {
    expect(quantityFeatures('')).toEqual(new Array(QUANTITY_FEATURES.length).fill(0));
  });
});
