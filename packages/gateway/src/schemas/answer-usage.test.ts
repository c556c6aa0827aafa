import { describe, expect, it } from 'vitest';
import { answerUsage } from './answer-usage.js';

const usage = { inputTokens: 5050, outputTokens: 20, totalTokens: 5070, cachedInputTokens: 4000, cacheWriteInputTokens: 1000, cacheWrite1hInputTokens: 200, reasoningTokens: 5 };

describe('answerUsage', () => {
  it('a provider call: its usage as it is', () => {
    expect(answerUsage({ usage, cached: false })).toBe(usage);
  });

  it('a router cache hit: cache reads and writes 0 where reported, the rest the original\u2019s', () => {
    expect(answerUsage({ usage, cached: 'semantic' })).toEqual({ ...usage, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 });
    const plain = { inputTokens: 10, outputTokens: 2, totalTokens: 12 };
    expect(answerUsage({ usage: plain, cached: 'exact' })).toBe(plain);
    expect(answerUsage({ usage: { ...plain, cachedInputTokens: 4 }, cached: 'exact' })).toEqual({ ...plain, cachedInputTokens: 0 });
  });
});
