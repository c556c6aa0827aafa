import { describe, expect, it } from 'vitest';
import { gcraAdjust, gcraCheck, gcraRemaining } from './gcra.js';

describe('GCRA', () => {
  it('allows a full burst of the per-minute amount, then one unit per interval', () => {
    let tat: number | undefined;
    for (let i = 0; i < 4; i++) {
      const c = gcraCheck(tat, 0, 4, 1);
      expect(c.conforms).toBe(true);
      tat = c.newTat;
    }
    expect(tat).toBe(60_000);
    const denied = gcraCheck(tat, 0, 4, 1);
    expect(denied).toMatchObject({ conforms: false, retryAfterMs: 15_000 });
    expect(gcraCheck(tat, 15_000, 4, 1).conforms).toBe(true);
  });

  it('weighs costs (tokens) and admits an oversized cost only when idle', () => {
    expect(gcraCheck(undefined, 0, 100, 100).conforms).toBe(true);
    expect(gcraCheck(undefined, 0, 100, 101)).toMatchObject({ conforms: true, newTat: 60_600 });
    expect(gcraCheck(600, 0, 100, 101).conforms).toBe(false);
  });

  it('reports remaining units and time to full', () => {
    expect(gcraRemaining(undefined, 0, 10)).toEqual({ remaining: 10, resetMs: 0 });
    expect(gcraRemaining(30_000, 0, 10)).toEqual({ remaining: 5, resetMs: 30_000 });
    expect(gcraRemaining(90_000, 0, 10)).toEqual({ remaining: 0, resetMs: 90_000 });
    expect(gcraRemaining(5, 10, 10)).toEqual({ remaining: 10, resetMs: 0 });
  });

  it('adjusts by a delta, never below "full"', () => {
    expect(gcraAdjust(30_000, 0, 10, -2)).toBe(18_000);
    expect(gcraAdjust(30_000, 0, 10, -100)).toBe(0);
    expect(gcraAdjust(undefined, 1_000, 10, 1)).toBe(7_000);
    expect(gcraAdjust(500, 1_000, 10, 1)).toBe(7_000); // an old TAT counts as "now"
  });
});
