import { computeCost, type Usage } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { ledgerCounts } from './ledger-counts.js';

const PRICE = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 };

/** What `computeCost` charges for the recorded counts (the row's cost must be the one priced from them). */
const priceOfCounts = (u: Usage) => {
  const c = ledgerCounts(u);
  return computeCost({ ...c, totalTokens: c.inputTokens + c.outputTokens }, PRICE).totalUsd;
};

describe('ledgerCounts', () => {
  it('takes consistent counts as they are, and 0 for what was not reported', () => {
    expect(ledgerCounts({ inputTokens: 1000, outputTokens: 20, totalTokens: 1020, cachedInputTokens: 300, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 100 })).toEqual({
      inputTokens: 1000,
      outputTokens: 20,
      cachedInputTokens: 300,
      cacheWriteInputTokens: 600,
      cacheWrite1hInputTokens: 100,
    });
    expect(ledgerCounts({ inputTokens: 5, outputTokens: 1, totalTokens: 6 })).toEqual({ inputTokens: 5, outputTokens: 1, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 });
    expect(ledgerCounts(undefined)).toEqual({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 });
  });

  it('clamps as computeCost does: reads to the input, writes to what the reads leave, 1-hour writes to the writes', () => {
    const cases: Usage[] = [
      { inputTokens: 1000, outputTokens: 20, totalTokens: 1020, cacheWrite1hInputTokens: 100 }, // 1-hour writes without their total
      { inputTokens: 1000, outputTokens: 20, totalTokens: 1020, cacheWriteInputTokens: 200, cacheWrite1hInputTokens: 900 },
      { inputTokens: 1000, outputTokens: 20, totalTokens: 1020, cachedInputTokens: 700, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 900 },
      { inputTokens: 100, outputTokens: 0, totalTokens: 100, cachedInputTokens: 5000 },
    ];
    expect(cases.map((u) => ledgerCounts(u))).toEqual([
      { inputTokens: 1000, outputTokens: 20, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 },
      { inputTokens: 1000, outputTokens: 20, cachedInputTokens: 0, cacheWriteInputTokens: 200, cacheWrite1hInputTokens: 200 },
      { inputTokens: 1000, outputTokens: 20, cachedInputTokens: 700, cacheWriteInputTokens: 300, cacheWrite1hInputTokens: 300 },
      { inputTokens: 100, outputTokens: 0, cachedInputTokens: 100, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 },
    ]);
    for (const u of cases) expect(priceOfCounts(u)).toBe(computeCost(u, PRICE).totalUsd);
  });

  it('takes counts that are not non-negative numbers as 0, and rounds fractions (the ledger keeps integers)', () => {
    const bad = { inputTokens: Number.NaN, outputTokens: -3, totalTokens: 0, cachedInputTokens: Number.POSITIVE_INFINITY, cacheWriteInputTokens: 2.6 } as Usage;
    expect(ledgerCounts(bad)).toEqual({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 });
    expect(ledgerCounts({ inputTokens: 10.4, outputTokens: 2.5, totalTokens: 13, cacheWriteInputTokens: 2.6 })).toMatchObject({ inputTokens: 10, outputTokens: 3, cacheWriteInputTokens: 3 });
  });
});
