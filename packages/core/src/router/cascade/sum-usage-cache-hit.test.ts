/**
 * Cascade sums of prompt-cache writes when a step was a router cache hit (found by the review of 007a71d): an
 * escalated cascade whose weak step was answered from the router's exact cache (no provider call: cost 0,
 * `cached: 'exact'`) adds none of that cached answer's original prompt-cache counts to its usage, which the
 * gateway ledgers as the strong call's row (`cached: false`); otherwise two cascades sharing a weak model
 * would count the same provider-cache writes twice.
 */
import { describe, expect, it } from 'vitest';
import type { Usage } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { LLMRouter } from '../llm-router.js';
import { FixedUsageEngine } from './fixed-usage-engine.test-helpers.js';
import { providerCacheUsage } from './sum-usage.js';

const QUESTION = 'Janet has 16 eggs. She eats 3 and bakes with 4. She sells the rest at $2 each. How many dollars does she make?';
const WRONG = 'She has 9 eggs left. She makes 9 * 2 = 19 dollars.\n#### 19';
const RIGHT = 'She has 9 eggs left. She makes 9 * 2 = 18 dollars.\n#### 18';
const WEAK: Usage = { inputTokens: 1000, outputTokens: 20, totalTokens: 1020, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 100 };
const STRONG: Usage = { inputTokens: 2000, outputTokens: 30, totalTokens: 2030, cacheWriteInputTokens: 1800 };

/** Two cascades sharing their weak model, the exact cache on. */
function setup() {
  const engines = { weak: new FixedUsageEngine('weak-model', WRONG, WEAK), s1: new FixedUsageEngine('s1-model', RIGHT, STRONG), s2: new FixedUsageEngine('s2-model', RIGHT, STRONG) };
  const router = new LLMRouter(
    {
      models: [
        { name: 'weak', engine: 'mock', priority: 1, price: { input: 1, output: 2 } },
        { name: 's1', engine: 'mock', priority: 2, price: { input: 10, output: 30 } },
        { name: 's2', engine: 'mock', priority: 3, price: { input: 10, output: 30 } },
      ],
      cache: { exact: { enabled: true } },
      routing: {
        strategy: 'priority',
        cascades: [
          { name: 'a', weak: 'weak', strong: 's1', verifier: 'arithmetic' },
          { name: 'b', weak: 'weak', strong: 's2', verifier: 'arithmetic' },
        ],
      },
    },
    { engines },
  );
  return { router, engines };
}

describe('cascade sums of prompt-cache writes: a weak step answered from the router cache', () => {
  it('an escalated cascade whose weak step was a router cache hit counts only the cache writes the strong call made', async () => {
    const { router, engines } = setup();
    const a = await router.generate(QUESTION, { model: 'a' });
    expect(a.usage).toMatchObject({ cacheWriteInputTokens: 2400, cacheWrite1hInputTokens: 100 }); // both calls wrote
    const b = await router.generate(QUESTION, { model: 'b' });
    // The weak step of `b` was served from the router cache: no second weak call, nothing paid for it ...
    expect(engines.weak.calls).toBe(1);
    expect(b.cascade?.weak).toMatchObject({ cached: 'exact', cost: { totalUsd: 0 } });
    expect(b.cached).toBe(false);
    // ... so the only prompt-cache writes of `b` are the strong call's.
    expect([b.usage.cacheWriteInputTokens, b.usage.cacheWrite1hInputTokens ?? 0]).toEqual([1800, 0]);
    await router.close();
  });

  it('the same, streamed', async () => {
    const { router } = setup();
    await router.generate(QUESTION, { model: 'a' });
    const stream = router.stream(QUESTION, { model: 'b' });
    await collect(stream);
    const b = await stream.result;
    expect(b.cascade?.weak).toMatchObject({ cached: 'exact' });
    expect([b.usage.cacheWriteInputTokens, b.usage.cacheWrite1hInputTokens ?? 0]).toEqual([1800, 0]);
    await router.close();
  });
});

describe('providerCacheUsage', () => {
  const USAGE: Usage = { inputTokens: 1000, outputTokens: 20, totalTokens: 1020, cachedInputTokens: 300, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 100, reasoningTokens: 5 };

  it('leaves a provider call\'s usage as it is', () => {
    expect(providerCacheUsage(USAGE, false)).toBe(USAGE);
    expect(providerCacheUsage(USAGE, undefined)).toBe(USAGE);
  });

  it('drops the prompt-cache counts of a router cache hit, keeps the rest, and does not change its argument', () => {
    for (const kind of ['exact', 'semantic'] as const) {
      expect(providerCacheUsage(USAGE, kind)).toEqual({ inputTokens: 1000, outputTokens: 20, totalTokens: 1020, reasoningTokens: 5 });
    }
    expect(USAGE.cacheWriteInputTokens).toBe(600);
    const plain: Usage = { inputTokens: 3, outputTokens: 1, totalTokens: 4, estimated: true };
    expect(providerCacheUsage(plain, 'exact')).toBe(plain);
  });
});
