import { describe, expect, it } from 'vitest';
import { computeCost } from '../../pricing/compute-cost.js';
import { LLMRouter } from '../llm-router.js';

// The price of a cascade (sum of its steps) and of an alias step (dearest member of each kind) keeps the
// cache-write prices (`cacheWrite`, `cacheWrite1h`) of ModelPrice, so anything pricing a cascade call with it
// (`computeCost(usage, info.price)`) charges prompt-cache writes at their own rates, not at the plain input
// price (found in review of c0d31e0). No network: models() does not call the deployments.

describe('cascade and alias prices keep the cache-write prices', () => {
  it('sums cacheWrite and cacheWrite1h of the two steps', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'haiku', engine: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'sk-ant-test', baseURL: 'http://127.0.0.1:9' },
        { name: 'sonnet', engine: 'anthropic', model: 'claude-sonnet-4-5', apiKey: 'sk-ant-test', baseURL: 'http://127.0.0.1:9' },
      ],
      routing: { cascades: [{ name: 'claude-cascade', weak: 'haiku', strong: 'sonnet' }] },
    });
    try {
      // Claude Haiku 4.5 (1 / 0.1 / 1.25 / 2 / 5) + Claude Sonnet 4.5 (3 / 0.3 / 3.75 / 6 / 15), shipped table.
      expect(router.models().find((m) => m.name === 'claude-cascade')?.price).toEqual({ input: 4, output: 20, cachedInput: 0.4, cacheWrite: 5, cacheWrite1h: 8 });
    } finally {
      await router.close();
    }
  });

  it('takes the dearest cacheWrite and cacheWrite1h across the members of an alias step', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'haiku', engine: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'sk-ant-test', baseURL: 'http://127.0.0.1:9' },
        { name: 'big-a', alias: 'big', engine: 'anthropic', model: 'claude-sonnet-4-5', apiKey: 'sk-ant-test', baseURL: 'http://127.0.0.1:9' },
        { name: 'big-b', alias: 'big', engine: 'anthropic', model: 'claude-opus-4-1', apiKey: 'sk-ant-test', baseURL: 'http://127.0.0.1:9' },
      ],
      routing: { cascades: [{ name: 'claude-cascade', weak: 'haiku', strong: 'big' }] },
    });
    try {
      // Haiku 4.5 + the dearest of Sonnet 4.5 and Opus 4.1 (15 / 1.5 / 18.75 / 30 / 75).
      expect(router.models().find((m) => m.name === 'claude-cascade')?.price).toMatchObject({ cacheWrite: 1.25 + 18.75, cacheWrite1h: 2 + 30 });
    } finally {
      await router.close();
    }
  });

  it('falls back per step as ModelPrice documents (cacheWrite -> input, cacheWrite1h -> cacheWrite -> input)', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'weak', engine: 'mock', price: { input: 1, output: 2, cacheWrite1h: 2 } },
        { name: 'strong', engine: 'mock', price: { input: 3, output: 15, cacheWrite: 3.75 } },
        { name: 'plain-a', engine: 'mock', price: { input: 1, output: 2 } },
        { name: 'plain-b', engine: 'mock', price: { input: 3, output: 15 } },
      ],
      routing: {
        cascades: [
          { name: 'mixed', weak: 'weak', strong: 'strong' },
          { name: 'plain', weak: 'plain-a', strong: 'plain-b' },
        ],
      },
    });
    try {
      // cacheWrite: weak's falls back to input (1) + 3.75; cacheWrite1h: 2 + strong's cacheWrite (3.75).
      const mixed = router.models().find((m) => m.name === 'mixed')?.price;
      expect(mixed).toEqual({ input: 4, output: 17, cacheWrite: 4.75, cacheWrite1h: 5.75 });
      // Neither step has a cache price: none appears (absent still means "input").
      expect(router.models().find((m) => m.name === 'plain')?.price).toEqual({ input: 4, output: 17 });
      // Priced with the cascade's price, a call's 1h writes cost what they cost on the two steps together.
      const usage = { inputTokens: 1_000_000, outputTokens: 0, totalTokens: 1_000_000, cacheWriteInputTokens: 1_000_000, cacheWrite1hInputTokens: 1_000_000 };
      expect(computeCost(usage, mixed).totalUsd).toBe(5.75);
    } finally {
      await router.close();
    }
  });

  it('takes the dearest effective rate across alias members when only one member sets the field', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'weak', engine: 'mock', price: { input: 1, output: 2 } },
        { name: 'big-a', alias: 'big', engine: 'mock', price: { input: 3, output: 15, cacheWrite1h: 6 } },
        { name: 'big-b', alias: 'big', engine: 'mock', price: { input: 15, output: 75 } },
      ],
      routing: { cascades: [{ name: 'c', weak: 'weak', strong: 'big' }] },
    });
    try {
      // big-b has no cacheWrite1h: its 1h writes cost its input (15), dearer than big-a's 6.
      expect(router.models().find((m) => m.name === 'c')?.price).toEqual({ input: 16, output: 77, cacheWrite1h: 1 + 15 });
    } finally {
      await router.close();
    }
  });
});

describe('cascade prices keep long-context tiers and reasoning prices', () => {
  it('sums the tiers at each step threshold (a step below its own threshold at its short-prompt rates) and the reasoning rates', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'weak', engine: 'mock', price: { input: 1, output: 2, reasoningOutput: 6, longContext: [{ threshold: 128_000, input: 2, output: 4 }] } },
        { name: 'strong', engine: 'mock', price: { input: 3, output: 15, longContext: [{ threshold: 200_000, input: 6, output: 22.5 }] } },
        { name: 'flat', engine: 'mock', price: { input: 3, output: 15 } },
      ],
      routing: {
        cascades: [
          { name: 'tiered', weak: 'weak', strong: 'strong' },
          { name: 'half', weak: 'weak', strong: 'flat' },
        ],
      },
    });
    try {
      const price = (name: string) => router.models().find((m) => m.name === name)?.price;
      // Above 128k the weak step is at its tier (2 in, 4 out, reasoning at its base 6), the strong one at its base
      // (3 in, 15 out, reasoning at output); above 200k both at their tiers (2 + 6 in, 4 + 22.5 out, 6 + 22.5 reasoning).
      expect(price('tiered')).toEqual({
        input: 4,
        output: 17,
        reasoningOutput: 21,
        longContext: [
          { threshold: 128_000, input: 5, output: 19, reasoningOutput: 21 },
          { threshold: 200_000, input: 8, output: 26.5, reasoningOutput: 28.5 },
        ],
      });
      expect(price('half')).toEqual({ input: 4, output: 17, reasoningOutput: 21, longContext: [{ threshold: 128_000, input: 5, output: 19, reasoningOutput: 21 }] });
      // Priced with it, a long call costs at least what the two steps bill for it.
      const usage = { inputTokens: 250_000, outputTokens: 1_000, totalTokens: 251_000, reasoningTokens: 500 };
      const steps = computeCost(usage, { input: 1, output: 2, reasoningOutput: 6, longContext: [{ threshold: 128_000, input: 2, output: 4 }] }).totalUsd + computeCost(usage, { input: 3, output: 15, longContext: [{ threshold: 200_000, input: 6, output: 22.5 }] }).totalUsd;
      expect(computeCost(usage, price('tiered')).totalUsd).toBeGreaterThanOrEqual(steps);
      const mid = { inputTokens: 150_000, outputTokens: 1_000, totalTokens: 151_000, reasoningTokens: 500 };
      const midSteps = computeCost(mid, { input: 1, output: 2, reasoningOutput: 6, longContext: [{ threshold: 128_000, input: 2, output: 4 }] }).totalUsd + computeCost(mid, { input: 3, output: 15, longContext: [{ threshold: 200_000, input: 6, output: 22.5 }] }).totalUsd;
      expect(computeCost(mid, price('tiered')).totalUsd).toBeCloseTo(midSteps, 9);
    } finally {
      await router.close();
    }
  });
});
