import { describe, expect, it } from 'vitest';
import { formatFactors, formatMs, formatPrice, formatTable, formatUsd, oneLine } from './format.js';

describe('format helpers', () => {
  it('aligns table columns and trims trailing spaces', () => {
    expect(formatTable(['A', 'LONG'], [['xyz', '1'], ['q', '']])).toBe('A    LONG\nxyz  1\nq\n');
  });

  it('shows sub-cent costs and prices', () => {
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(0.00000255)).toBe('$0.000003');
    expect(formatUsd(0.000063)).toBe('$0.000063');
    expect(formatUsd(1.5)).toBe('$1.5');
    expect(formatPrice({ input: 0.15, output: 0.6 })).toBe('$0.15/$0.6');
    expect(formatPrice(undefined)).toBe('-');
  });

  it('formats durations and factors', () => {
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(1250)).toBe('1.25 s');
    expect(formatMs(undefined)).toBe('-');
    expect(formatFactors({ quality: 0.9, cost: 0.000123456 })).toBe('quality=0.9, cost=0.0001235');
  });

  it('puts a multi-line message on one line', () => {
    expect(oneLine('No deployment can serve this request:\n  a: disabled\n  b: lacks capabilities: tools\n')).toBe(
      'No deployment can serve this request: a: disabled; b: lacks capabilities: tools',
    );
    expect(oneLine('single')).toBe('single');
  });
});
