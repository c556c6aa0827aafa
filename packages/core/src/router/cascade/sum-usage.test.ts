import { describe, expect, it } from 'vitest';
import type { Usage } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { LLMRouter } from '../llm-router.js';
import { FixedUsageEngine } from './fixed-usage-engine.test-helpers.js';
import { sumUsage } from './sum-usage.js';

describe('sumUsage', () => {
  it('adds every count, prompt-cache reads and writes (and their 1-hour part) included', () => {
    const a: Usage = { inputTokens: 1000, outputTokens: 10, totalTokens: 1010, cachedInputTokens: 100, cacheWriteInputTokens: 800, cacheWrite1hInputTokens: 300, reasoningTokens: 4 };
    const b: Usage = { inputTokens: 2000, outputTokens: 20, totalTokens: 2020, cachedInputTokens: 1500, cacheWriteInputTokens: 400, cacheWrite1hInputTokens: 0 };
    expect(sumUsage(a, b)).toEqual({ inputTokens: 3000, outputTokens: 30, totalTokens: 3030, cachedInputTokens: 1600, cacheWriteInputTokens: 1200, cacheWrite1hInputTokens: 300, reasoningTokens: 4 });
  });

  it('keeps a count that only one call reported, and leaves out what neither did', () => {
    const plain: Usage = { inputTokens: 5, outputTokens: 1, totalTokens: 6 };
    const writes: Usage = { inputTokens: 50, outputTokens: 2, totalTokens: 52, cacheWriteInputTokens: 40 };
    expect(sumUsage(plain, writes)).toEqual({ inputTokens: 55, outputTokens: 3, totalTokens: 58, cacheWriteInputTokens: 40 });
    expect(sumUsage(writes, plain)).toEqual({ inputTokens: 55, outputTokens: 3, totalTokens: 58, cacheWriteInputTokens: 40 });
    expect(sumUsage(plain, { ...plain, estimated: true })).toEqual({ inputTokens: 10, outputTokens: 2, totalTokens: 12, estimated: true });
  });
});

const QUESTION = 'Janet has 16 eggs. She eats 3 and bakes with 4. She sells the rest at $2 each. How many dollars does she make?';
const WRONG = 'She has 9 eggs left. She makes 9 * 2 = 19 dollars.\n#### 19';
const RIGHT = 'She has 9 eggs left. She makes 9 * 2 = 18 dollars.\n#### 18';
const WEAK: Usage = { inputTokens: 1000, outputTokens: 20, totalTokens: 1020, cachedInputTokens: 300, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 100 };
const STRONG: Usage = { inputTokens: 2000, outputTokens: 30, totalTokens: 2030, cacheWriteInputTokens: 1800, cacheWrite1hInputTokens: 1800 };
const BOTH: Usage = { inputTokens: 3000, outputTokens: 50, totalTokens: 3050, cachedInputTokens: 300, cacheWriteInputTokens: 2400, cacheWrite1hInputTokens: 1900 };

function cascadeRouter(weakReply: string) {
  const engines = { weak: new FixedUsageEngine('weak-model', weakReply, WEAK), strong: new FixedUsageEngine('strong-model', RIGHT, STRONG) };
  return new LLMRouter(
    {
      models: [
        { name: 'weak', engine: 'mock', priority: 1, price: { input: 1, output: 2 } },
        { name: 'strong', engine: 'mock', priority: 2, price: { input: 10, output: 30 } },
      ],
      routing: { strategy: 'priority', cascades: [{ name: 'math', weak: 'weak', strong: 'strong', verifier: 'arithmetic' }] },
    },
    { engines },
  );
}

describe('prompt-cache usage through the router', () => {
  it('a plain call and a plain stream keep the cache reads and writes the engine reported', async () => {
    const router = cascadeRouter(RIGHT);
    expect((await router.generate('hi', { model: 'weak' })).usage).toEqual(WEAK);
    const stream = router.stream('hi', { model: 'weak' });
    const parts = await collect(stream);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', usage: WEAK });
    expect((await stream.result).usage).toEqual(WEAK);
  });

  it('an escalated cascade bills both calls: its usage sums the cache writes and their 1-hour part, generated and streamed', async () => {
    const router = cascadeRouter(WRONG);
    const g = await router.generate(QUESTION, { model: 'math' });
    expect(g.cascade?.escalated).toBe(true);
    expect(g.usage).toEqual(BOTH);
    const stream = router.stream(QUESTION, { model: 'math' });
    const parts = await collect(stream);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', usage: BOTH });
    expect((await stream.result).usage).toEqual(BOTH);
  });

  it('a cascade answered by the weak model reports its usage alone', async () => {
    const router = cascadeRouter(RIGHT);
    const g = await router.generate(QUESTION, { model: 'math' });
    expect(g.cascade?.escalated).toBe(false);
    expect(g.usage).toEqual(WEAK);
  });
});
