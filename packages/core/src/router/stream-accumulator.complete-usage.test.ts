import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../pricing/estimate-tokens.js';
import { completeUsage } from './stream-accumulator.js';

const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(20);
const estimatedInput = () => 42;

describe('completeUsage', () => {
  it('keeps the usage the engine reported when it has an output count, or when the answer is empty', () => {
    const reported = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };
    expect(completeUsage(reported, TEXT, undefined, [], estimatedInput)).toBe(reported);
    const empty = { inputTokens: 10, outputTokens: 0, totalTokens: 10 };
    expect(completeUsage(empty, '', undefined, [], estimatedInput)).toBe(empty);
  });

  it('no usage, or only zeros, for an answer: all estimated', () => {
    const estimate = { inputTokens: 42, outputTokens: estimateTokens(TEXT), totalTokens: 42 + estimateTokens(TEXT), estimated: true };
    expect(completeUsage(undefined, TEXT, undefined, [], estimatedInput)).toEqual(estimate);
    expect(completeUsage({ inputTokens: 0, outputTokens: 0, totalTokens: 0 }, TEXT, undefined, [], estimatedInput)).toEqual(estimate);
  });

  it("a reported prompt without an output count (an Anthropic-compatible stream's message_delta without usage): the output is estimated from text, reasoning and tool arguments, the prompt's counts stand", () => {
    const usage = { inputTokens: 30, outputTokens: 0, totalTokens: 30, cachedInputTokens: 20, cacheWriteInputTokens: 5, cacheWrite1hInputTokens: 2 };
    const output = estimateTokens(TEXT) + estimateTokens('thinking it over') + estimateTokens('{"city":"Paris"}');
    expect(completeUsage(usage, TEXT, 'thinking it over', [{ id: 't', name: 'f', arguments: '{"city":"Paris"}' }], estimatedInput)).toEqual({
      inputTokens: 30,
      outputTokens: output,
      totalTokens: 30 + output,
      cachedInputTokens: 20,
      cacheWriteInputTokens: 5,
      cacheWrite1hInputTokens: 2,
      estimated: true,
    });
    // A reasoning-only answer counts too.
    expect(completeUsage({ inputTokens: 30, outputTokens: 0, totalTokens: 30 }, '', 'thinking it over', [], estimatedInput)).toMatchObject({ outputTokens: estimateTokens('thinking it over'), estimated: true });
  });
});
