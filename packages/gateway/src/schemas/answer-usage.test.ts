import type { CascadeRecord } from '@llmrr/core';
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

  it('an escalated cascade: its usage unchanged (the sum of both steps, each already without a cache hit\u2019s counts), even when the strong step was a cache hit', () => {
    const step = (cached: false | 'exact') => ({ requestId: 'r', deployment: 'd', model: 'm', provider: 'p', usage, cost: { inputUsd: 0, outputUsd: 0, totalUsd: 0, estimated: false }, latencyMs: 1, cached });
    const cascade = { name: 'c', verifier: 'v', threshold: 0.5, score: 1, escalated: true, weak: step(false), strong: step('exact') } as unknown as CascadeRecord;
    expect(answerUsage({ usage, cached: 'exact', cascade })).toBe(usage);
    // Not escalated (the weak answer itself, from the cache): as any cache hit.
    const { strong: _strong, ...notEscalated } = cascade;
    expect(answerUsage({ usage, cached: 'exact', cascade: { ...notEscalated, escalated: false, weak: step('exact') } })).toMatchObject({ cachedInputTokens: 0 });
  });
});
