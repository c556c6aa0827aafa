import { describe, expect, it } from 'vitest';
import { partialCallCost } from './partial-usage.js';

const price = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 };

describe('partialCallCost', () => {
  it('is undefined when nothing was produced', () => {
    expect(partialCallCost({ usage: undefined, outputText: '', request: undefined, price })).toBeUndefined();
  });

  it('charges reported usage as reported', () => {
    const usage = { inputTokens: 1000, outputTokens: 10, totalTokens: 1010, cachedInputTokens: 400 };
    const r = partialCallCost({ usage, outputText: 'x', request: undefined, price });
    expect(r?.usage).toBe(usage);
    // 600 fresh x 3 + 400 read x 0.3 + 10 out x 15, per million
    expect(r?.costUsd).toBeCloseTo((600 * 3 + 400 * 0.3 + 10 * 15) / 1e6, 12);
  });

  it('keeps the reported prompt-cache reads and writes when only the output is estimated', () => {
    const usage = { inputTokens: 1000, outputTokens: 0, totalTokens: 1000, cachedInputTokens: 200, cacheWriteInputTokens: 500, cacheWrite1hInputTokens: 100 };
    const r = partialCallCost({ usage, outputText: 'one two three four', request: { messages: [], maxTokens: 2 }, price });
    expect(r?.usage).toMatchObject({ inputTokens: 1000, outputTokens: 2, estimated: true, cachedInputTokens: 200, cacheWriteInputTokens: 500, cacheWrite1hInputTokens: 100 });
    // fresh 300 x 3, read 200 x 0.3, 5m writes 400 x 3.75, 1h writes 100 x 6, out 2 x 15
    expect(r?.costUsd).toBeCloseTo((300 * 3 + 200 * 0.3 + 400 * 3.75 + 100 * 6 + 2 * 15) / 1e6, 12);
  });

  it('charges a reported prompt when no text was sent (a tool call cut off after its name), its output 0', () => {
    const usage = { inputTokens: 1000, outputTokens: 0, totalTokens: 1000, cachedInputTokens: 300, cacheWriteInputTokens: 600 };
    const r = partialCallCost({ usage, outputText: '', request: { messages: [] }, price });
    expect(r?.usage).toEqual({ inputTokens: 1000, outputTokens: 0, totalTokens: 1000, estimated: true, cachedInputTokens: 300, cacheWriteInputTokens: 600 });
    // fresh 100 x 3, read 300 x 0.3, 5m writes 600 x 3.75
    expect(r?.costUsd).toBeCloseTo((100 * 3 + 300 * 0.3 + 600 * 3.75) / 1e6, 12);
    // Without a reported prompt, nothing is charged for nothing sent.
    expect(partialCallCost({ usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 }, outputText: '', request: { messages: [] }, price })).toBeUndefined();
  });

  it('estimates input from the request when nothing was reported', () => {
    const r = partialCallCost({ usage: undefined, outputText: 'hello there', request: { messages: [{ role: 'user', content: 'hi' }] }, price });
    expect(r?.usage.estimated).toBe(true);
    expect(r?.usage.cacheWriteInputTokens).toBeUndefined();
    expect(r?.usage.inputTokens).toBeGreaterThan(0);
  });
});
