import { describe, expect, it } from 'vitest';
import { makeUsage } from '../spec/index.js';
import { computeCost } from './compute-cost.js';
import { priceFor } from './price-for.js';

describe('computeCost', () => {
  it('charges input and output per million tokens', () => {
    const cost = computeCost(makeUsage(1_000, 500), { input: 2.5, output: 10 });
    expect(cost).toEqual({ inputUsd: 0.0025, outputUsd: 0.005, totalUsd: 0.0075, estimated: false });
  });

  it('charges cached input tokens at the cache price, the rest at the input price', () => {
    const cost = computeCost(makeUsage(1_000, 0, { cachedInputTokens: 400 }), { input: 2.5, output: 10, cachedInput: 1.25 });
    // 600 x 2.5e-6 + 400 x 1.25e-6
    expect(cost.inputUsd).toBe(0.002);
    expect(cost.totalUsd).toBe(0.002);
  });

  it('charges cached tokens at the input price when the model has no cache price', () => {
    const cost = computeCost(makeUsage(1_000, 0, { cachedInputTokens: 400 }), { input: 2.5, output: 10 });
    expect(cost.inputUsd).toBe(0.0025);
  });

  it('never charges more cached tokens than input tokens', () => {
    const cost = computeCost(makeUsage(100, 0, { cachedInputTokens: 1_000 }), { input: 2, output: 8, cachedInput: 0.5 });
    expect(cost.inputUsd).toBe(0.00005);
  });

  it('has no floating noise: 0.1 + 0.2 style sums come out exact', () => {
    // $0.1 and $0.2 per 1M: naive float math gives 0.00030000000000000003 for 1000 + 1000 tokens.
    const naive = (1_000 * 0.1) / 1e6 + (1_000 * 0.2) / 1e6;
    expect(naive).not.toBe(0.0003);
    const cost = computeCost(makeUsage(1_000, 1_000), { input: 0.1, output: 0.2 });
    expect(cost).toEqual({ inputUsd: 0.0001, outputUsd: 0.0002, totalUsd: 0.0003, estimated: false });
    const many = computeCost(makeUsage(123_457, 98_765), { input: 0.15, output: 0.6, cachedInput: 0.075 });
    expect(many.totalUsd).toBe(0.07777755); // 123457 x 0.15e-6 + 98765 x 0.6e-6 = 0.01851855 + 0.059259
  });

  it('rounds to 1e-9 USD', () => {
    // 1 token at $0.0375/1M = 3.75e-8 USD -> 38 nano-dollars.
    expect(computeCost(makeUsage(1, 0), { input: 0.0375, output: 0 }).inputUsd).toBe(3.8e-8);
    expect(computeCost(makeUsage(0, 1), { input: 0, output: 0.0000001 }).outputUsd).toBe(0);
  });

  it('handles huge counts without losing integers', () => {
    const cost = computeCost(makeUsage(10_000_000_000, 0), { input: 600, output: 0 });
    expect(cost.inputUsd).toBe(6_000_000);
  });

  it('is zero and estimated when the price is unknown', () => {
    expect(computeCost(makeUsage(1_000, 1_000), undefined)).toEqual({ inputUsd: 0, outputUsd: 0, totalUsd: 0, estimated: true });
  });

  it('is estimated when the usage is estimated', () => {
    expect(computeCost(makeUsage(10, 10, { estimated: true }), { input: 1, output: 1 }).estimated).toBe(true);
  });

  it('treats nonsense token counts as 0 and marks the cost estimated', () => {
    const cost = computeCost({ inputTokens: Number.NaN, outputTokens: -5, totalTokens: 0 }, { input: 1, output: 1 });
    expect(cost).toEqual({ inputUsd: 0, outputUsd: 0, totalUsd: 0, estimated: true });
  });

  it('is 0 for free (local) models and not estimated', () => {
    expect(computeCost(makeUsage(5_000, 5_000), { input: 0, output: 0 })).toEqual({ inputUsd: 0, outputUsd: 0, totalUsd: 0, estimated: false });
  });

  it('works with shipped rows (claude-3-5-haiku with cache hits)', () => {
    const cost = computeCost(makeUsage(10_000, 2_000, { cachedInputTokens: 8_000 }), priceFor('claude-3-5-haiku-20241022'));
    // 2000 x 0.8e-6 + 8000 x 0.08e-6 = 0.0016 + 0.00064; 2000 x 4e-6 = 0.008
    expect(cost).toEqual({ inputUsd: 0.00224, outputUsd: 0.008, totalUsd: 0.01024, estimated: false });
  });
});

describe('computeCost with long-context and reasoning prices', () => {
  // Claude Sonnet 4.5 with a 1M context, as Anthropic publishes it: above 200k prompt tokens input 2x, output 1.5x.
  const sonnet = {
    input: 3,
    output: 15,
    cachedInput: 0.3,
    cacheWrite: 3.75,
    longContext: [{ threshold: 200_000, input: 6, output: 22.5, cachedInput: 0.6, cacheWrite: 7.5 }],
  };

  it('charges the whole call at the tier rates when the prompt (cache reads and writes included) is above the threshold', () => {
    // 210 000 prompt tokens: 10 000 fresh, 150 000 reads, 50 000 writes; 100 000 fresh alone would be below.
    const usage = makeUsage(210_000, 1_000, { cachedInputTokens: 150_000, cacheWriteInputTokens: 50_000 });
    // 0.01 x 6 + 0.15 x 0.6 + 0.05 x 7.5 = 0.06 + 0.09 + 0.375 = 0.525; output 0.001 x 22.5 = 0.0225
    expect(computeCost(usage, sonnet)).toEqual({ inputUsd: 0.525, outputUsd: 0.0225, totalUsd: 0.5475, estimated: false });
  });

  it('keeps the short-prompt rates at exactly the threshold', () => {
    const usage = makeUsage(200_000, 1_000, { cachedInputTokens: 100_000 });
    // 0.1 x 3 + 0.1 x 0.3 = 0.33; 0.001 x 15 = 0.015
    expect(computeCost(usage, sonnet)).toEqual({ inputUsd: 0.33, outputUsd: 0.015, totalUsd: 0.345, estimated: false });
  });

  it('a rate the tier does not give is the base price\'s (reads), else falls back inside the tier (writes at the tier input)', () => {
    const usage = makeUsage(300_000, 0, { cachedInputTokens: 100_000, cacheWriteInputTokens: 100_000 });
    // 0.1 x 2.5 fresh + 0.1 x 0.31 reads (base read rate) + 0.1 x 2.5 writes (no write rate: tier input) = 0.531
    expect(computeCost(usage, { input: 1.25, output: 10, cachedInput: 0.31, longContext: [{ threshold: 200_000, input: 2.5, output: 15 }] }).inputUsd).toBe(0.531);
    // Reasoning without a tier rate: the base reasoning rate. 500 x 15 + 500 x 20 = 17 500 micro-dollars.
    const r = makeUsage(300_000, 1_000, { reasoningTokens: 500 });
    expect(computeCost(r, { input: 1.25, output: 10, reasoningOutput: 20, longContext: [{ threshold: 200_000, input: 2.5, output: 15 }] }).outputUsd).toBe(0.0175);
  });

  it('charges reasoning tokens at reasoningOutput, at most the output tokens, the rest at output', () => {
    const price = { input: 0.15, output: 0.6, reasoningOutput: 3.5 };
    // 200 x 0.6 + 800 x 3.5 = 120 + 2800 = 2920 micro-dollars
    expect(computeCost(makeUsage(1_000, 1_000, { reasoningTokens: 800 }), price).outputUsd).toBe(0.00292);
    // more reasoning than output (a provider's miscount): all 1 000 at the reasoning rate, never more
    expect(computeCost(makeUsage(1_000, 1_000, { reasoningTokens: 5_000 }), price).outputUsd).toBe(0.0035);
    // no reasoning price: all output at output, as before
    expect(computeCost(makeUsage(1_000, 1_000, { reasoningTokens: 800 }), { input: 0.15, output: 0.6 }).outputUsd).toBe(0.0006);
  });
});
