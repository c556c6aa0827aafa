import { describe, expect, it } from 'vitest';
import { GCRA_MAX_DRAIN_MS, gcraAdjust, gcraCheck, gcraLevel, gcraRemaining, mulDivCeil, type GcraState } from './gcra.js';

/** A bucket whose TAT is `backlogMs` ahead of `at`, for a limit. */
const ahead = (at: number, backlogMs: number, limit: number): GcraState => ({ at, level: backlogMs * limit, limit });

describe('GCRA', () => {
  it('allows a full burst of the per-minute amount, then one unit per interval', () => {
    let state: GcraState | undefined;
    for (let i = 0; i < 4; i++) {
      const c = gcraCheck(state, 0, 4, 1);
      expect(c.conforms).toBe(true);
      state = c.next;
    }
    expect(state).toEqual(ahead(0, 60_000, 4));
    const denied = gcraCheck(state, 0, 4, 1);
    expect(denied).toMatchObject({ conforms: false, retryAfterMs: 15_000 });
    expect(gcraCheck(state, 15_000, 4, 1).conforms).toBe(true);
  });

  it('weighs costs (tokens) and admits an oversized cost only when idle', () => {
    expect(gcraCheck(undefined, 0, 100, 100).conforms).toBe(true);
    expect(gcraCheck(undefined, 0, 100, 101)).toMatchObject({ conforms: true, next: ahead(0, 60_600, 100) });
    expect(gcraCheck(ahead(0, 600, 100), 0, 100, 101).conforms).toBe(false);
  });

  it('reports remaining units and time to full', () => {
    expect(gcraRemaining(undefined, 0, 10)).toEqual({ remaining: 10, resetMs: 0 });
    expect(gcraRemaining(ahead(0, 30_000, 10), 0, 10)).toEqual({ remaining: 5, resetMs: 30_000 });
    expect(gcraRemaining(ahead(0, 90_000, 10), 0, 10)).toEqual({ remaining: 0, resetMs: 90_000 });
    expect(gcraRemaining(ahead(0, 5, 10), 10, 10)).toEqual({ remaining: 10, resetMs: 0 });
  });

  it('adjusts by a delta, never below "full"', () => {
    expect(gcraAdjust(ahead(0, 30_000, 10), 0, 10, -2)).toEqual(ahead(0, 18_000, 10));
    expect(gcraAdjust(ahead(0, 30_000, 10), 0, 10, -100)).toEqual({ at: 0, level: 0, limit: 10 });
    expect(gcraAdjust(undefined, 1_000, 10, 1)).toEqual(ahead(1_000, 6_000, 10));
    expect(gcraAdjust(ahead(0, 500, 10), 1_000, 10, 1)).toEqual(ahead(1_000, 6_000, 10)); // a drained bucket counts from now
  });

  it('drains `limit` per ms; a clock behind `at` (stepped back) drains nothing and adds no debt', () => {
    const s = ahead(1_000, 20_000, 3);
    expect(gcraLevel(s, 11_000, 3)).toBe(10_000 * 3);
    expect(gcraLevel(s, 500, 3)).toBe(20_000 * 3);
    expect(gcraLevel(s, 21_000, 3)).toBe(0);
    // A charge behind `at` counts from the earlier time: the stored level plus the cost, draining from then.
    const c = gcraCheck(s, -3_599_000, 3, 1);
    expect(c).toMatchObject({ conforms: true, next: ahead(-3_599_000, 40_000, 3) });
    expect(gcraLevel(c.next, -3_599_000 + 40_000, 3)).toBe(0);
  });

  it('is exact at a real wall-clock time for any limit: a burst admits exactly the limit, the header agrees', () => {
    // Epoch ms, as Date.now() gives them: one rounding step of a double there is about 2.4e-4 ms.
    const now = Date.UTC(2026, 10, 27, 8, 50, 0, 123);
    for (const limit of [1, 7, 9, 199, 7_000, 300_000, 3_000_000]) {
      let state: GcraState | undefined;
      let admitted = 0;
      while (admitted <= limit) {
        const c = gcraCheck(state, now, limit, 1);
        if (!c.conforms) break;
        state = c.next;
        admitted++;
        if (admitted === 1) expect(gcraRemaining(state, now, limit).remaining).toBe(limit - 1);
      }
      expect({ limit, admitted }).toEqual({ limit, admitted: limit });
      expect(gcraRemaining(state, now, limit)).toEqual({ remaining: 0, resetMs: 60_000 });
      // A third of a minute later a third of the limit (rounded down) has drained: exactly that many more.
      const later = now + 20_000;
      const refill = Math.floor(limit / 3);
      expect(gcraRemaining(state, later, limit).remaining).toBe(refill);
      let more = 0;
      for (let c = gcraCheck(state, later, limit, 1); c.conforms; c = gcraCheck(state, later, limit, 1)) {
        state = c.next;
        more++;
      }
      expect({ limit, more }).toEqual({ limit, more: refill });
    }
  });

  it('weighs token costs exactly at a wall-clock time (tpm 9000 at 1000 a call: 9 calls, 8000 left after one)', () => {
    const now = Date.UTC(2026, 10, 27, 23, 59, 59, 999);
    let state: GcraState | undefined;
    const remaining: number[] = [];
    for (let i = 0; i < 10; i++) {
      const c = gcraCheck(state, now, 9_000, 1_000);
      if (!c.conforms) break;
      state = c.next;
      remaining.push(gcraRemaining(state, now, 9_000).remaining);
    }
    expect(remaining).toEqual([8_000, 7_000, 6_000, 5_000, 4_000, 3_000, 2_000, 1_000, 0]);
  });

  it('keeps the time still to drain when the limit changes (as a TAT would), so the bucket is full at the same time', () => {
    const s = gcraCheck(undefined, 0, 10, 4).next; // 4 of 10 used: 24 s to drain
    expect(gcraRemaining(s, 0, 10)).toEqual({ remaining: 6, resetMs: 24_000 });
    expect(gcraRemaining(s, 0, 100)).toEqual({ remaining: 60, resetMs: 24_000 });
    expect(gcraRemaining(s, 0, 5)).toEqual({ remaining: 3, resetMs: 24_000 });
    expect(gcraRemaining(s, 12_000, 5)).toEqual({ remaining: 4, resetMs: 12_000 });
    expect(gcraLevel(s, 24_000, 1)).toBe(0);
    // A level that does not divide evenly is rounded up (never a unit less than the time held).
    expect(gcraLevel(s, 0, 7)).toBe(Math.ceil(24_000 * 7));
    expect(gcraLevel({ at: 0, level: 1, limit: 3 }, 0, 2)).toBe(1);
    // A charge under the new limit is counted in it.
    expect(gcraCheck(s, 0, 5, 1).next).toEqual(ahead(0, 36_000, 5));
  });

  it('rescales a level to another limit exactly: a whole result is not pushed up a unit by a rounding error', () => {
    // Every old limit, new limit and units used up to 100: the units left are the exact floor, so the minute
    // rescaled keeps every unit it holds (rpm 11 with 1 used, raised to 22: 20 left, not 19).
    const wrong: string[] = [];
    let checked = 0;
    for (let was = 1; was <= 100; was++) {
      for (let limit = 1; limit <= 100; limit++) {
        if (limit === was) continue;
        for (let used = 1; used <= was; used++) {
          const s = { at: 0, level: used * 60_000, limit: was };
          // used/was of the minute, in 1/limit ms: used * limit * 60000 / was, rounded up (all below 2^53).
          const exact = used * limit * 60_000;
          const level = Math.floor(exact / was) + (exact % was > 0 ? 1 : 0);
          const remaining = limit - Math.ceil(level / 60_000);
          const got = [gcraLevel(s, 0, limit), gcraRemaining(s, 0, limit).remaining];
          if (got[0] !== level || got[1] !== remaining) wrong.push(`${used}/${was} -> ${limit}: ${got.join(', ')} (expected ${level}, ${remaining})`);
          checked++;
        }
      }
    }
    expect({ checked, wrong: wrong.slice(0, 5) }).toEqual({ checked: 499_950, wrong: [] });
    expect(gcraRemaining({ at: 0, level: 60_000, limit: 11 }, 0, 22).remaining).toBe(20);
  });

  it('mulDivCeil is ceil(a * b / c) even where a * b passes 2^53 (large limits, long debts)', () => {
    const reference = (a: number, b: number, c: number) => Number((BigInt(a) * BigInt(b) + BigInt(c) - 1n) / BigInt(c));
    const cases: Array<[number, number, number]> = [
      [0, 7, 3],
      [60_000, 22, 11],
      [1, 2, 3],
      [2 ** 52, 3, 2 ** 51 + 1],
      // 150M and 200M tpm: a * b near 2^66, and a remainder whose product with b passes 2^53.
      [150e6 * 60_000 * 0.5 + 12_345, 200e6, 150e6],
      [150e6 * 60_000 - 1, 200e6, 150e6],
      [150e6 * 60_000, 200e6, 150e6],
      [199_999_999 * 60_000 + 199_999_998, 150_000_001, 199_999_999],
      [7 * GCRA_MAX_DRAIN_MS, 1_000_003, 7],
    ];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed % n;
    };
    for (let i = 0; i < 2_000; i++) {
      const c = 1 + rand(2 ** 30) * 4 + rand(4);
      const b = 1 + rand(2 ** 30) * 4 + rand(4);
      // A level of up to an hour's worth under c, so the result (an hour's worth under b) stays below 2^53.
      const a = rand(c) * 60 + rand(60) * rand(60_000);
      cases.push([a, b, c]);
      // A level whose rescale is a whole number: the case a rounding error pushes up.
      const k = rand(60_000);
      cases.push([c * k, b, c]);
    }
    for (const [a, b, c] of cases) {
      const expected = reference(a, b, c);
      if (expected >= 2 ** 53) continue;
      expect({ a, b, c, r: mulDivCeil(a, b, c) }).toEqual({ a, b, c, r: expected });
    }
  });

  it('puts a bucket at most a year from full: a charge past that counts as a year of the limit', () => {
    const c = gcraCheck(undefined, 1_000, 1, 2e12);
    expect(c.conforms).toBe(true);
    expect(c.next).toEqual({ at: 1_000, level: GCRA_MAX_DRAIN_MS, limit: 1 });
    expect(gcraCheck(c.next, 1_000, 1, 1)).toMatchObject({ conforms: false, retryAfterMs: GCRA_MAX_DRAIN_MS });
    expect(gcraRemaining(c.next, 1_000, 1)).toEqual({ remaining: 0, resetMs: GCRA_MAX_DRAIN_MS });
    // A correction upward is capped the same way; a debt within the year is kept whole.
    expect(gcraAdjust(c.next, 1_000, 1, 1e9).level).toBe(GCRA_MAX_DRAIN_MS);
    expect(gcraCheck(undefined, 0, 1_000, 1_000 * 60 * 24).next.level).toBe(1_000 * 60 * 24 * 60_000);
  });
});
