import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceSchema } from '../config/schema.js';
import { LLMError } from '../errors/index.js';
import { makeUsage } from '../spec/index.js';
import { computeCost } from './compute-cost.js';
import { loadPriceTable, parsePriceTable } from './load-price-table.js';
import { priceFor, resolveModelPrice } from './price-for.js';
import { shippedPriceTable } from './price-table.js';

// Prompt-cache writes in prices and costs: `cacheWrite` (5-minute TTL) and `cacheWrite1h` (1-hour TTL).

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmrr-cache-prices-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sonnet = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 };

describe('computeCost with cache writes', () => {
  // 1,350,000 input tokens: 50,000 fresh, 1,000,000 cache reads, 100,000 5-minute writes, 200,000 1-hour writes.
  const usage = makeUsage(1_350_000, 10_000, { cachedInputTokens: 1_000_000, cacheWriteInputTokens: 300_000, cacheWrite1hInputTokens: 200_000 });

  it('charges fresh, read, 5-minute and 1-hour write tokens each at its own price', () => {
    // 0.05 x 3 + 1 x 0.3 + 0.1 x 3.75 + 0.2 x 6 = 0.15 + 0.3 + 0.375 + 1.2 = 2.025; output 0.01 x 15 = 0.15
    expect(computeCost(usage, sonnet)).toEqual({ inputUsd: 2.025, outputUsd: 0.15, totalUsd: 2.175, estimated: false });
  });

  it('falls back: 1-hour writes at cacheWrite, then all writes at input', () => {
    // 1h writes at 3.75: 0.15 + 0.3 + 0.375 + 0.75 = 1.575
    expect(computeCost(usage, { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 }).inputUsd).toBe(1.575);
    // writes at input: 0.15 + 0.3 + 0.3 x 3 = 1.35
    expect(computeCost(usage, { input: 3, output: 15, cachedInput: 0.3 }).inputUsd).toBe(1.35);
    // only a 1h price: the 5-minute writes cost input, the 1-hour ones 6: 0.15 + 0.3 + 0.3 + 1.2 = 1.95
    expect(computeCost(usage, { input: 3, output: 15, cachedInput: 0.3, cacheWrite1h: 6 }).inputUsd).toBe(1.95);
  });

  it('costs the same as before for usage without writes', () => {
    const plain = makeUsage(1_000, 500, { cachedInputTokens: 400 });
    expect(computeCost(plain, sonnet)).toEqual({ inputUsd: 0.00192, outputUsd: 0.0075, totalUsd: 0.00942, estimated: false });
  });

  it('never charges reads plus writes beyond inputTokens, nor more 1-hour writes than writes', () => {
    // 1,200,000 input: 1,000,000 reads, writes clamped to the 200,000 left, 1h clamped to the writes.
    const over = makeUsage(1_200_000, 0, { cachedInputTokens: 1_000_000, cacheWriteInputTokens: 500_000, cacheWrite1hInputTokens: 900_000 });
    // 1 x 0.3 + 0.2 x 6 = 1.5
    expect(computeCost(over, sonnet)).toEqual({ inputUsd: 1.5, outputUsd: 0, totalUsd: 1.5, estimated: false });
    const oneHourOver = makeUsage(100, 0, { cacheWriteInputTokens: 40, cacheWrite1hInputTokens: 50 });
    // 60 x 3 + 40 x 6 = 420 micro-USD
    expect(computeCost(oneHourOver, sonnet).inputUsd).toBe(0.00042);
  });

  it('marks the cost estimated when a write count is not a number', () => {
    const cost = computeCost(makeUsage(100, 0, { cacheWriteInputTokens: Number.NaN }), sonnet);
    expect(cost).toEqual({ inputUsd: 0.0003, outputUsd: 0, totalUsd: 0.0003, estimated: true });
    expect(computeCost(makeUsage(100, 0, { cacheWriteInputTokens: 10, cacheWrite1hInputTokens: -1 }), sonnet).estimated).toBe(true);
  });
});

describe('the shipped table: Anthropic cache-write prices', () => {
  const claude = [...shippedPriceTable()].filter(([, e]) => e.provider === 'anthropic');

  it('has 5-minute writes at 1.25x and 1-hour writes at 2x input, hits at most 0.12x, for every Claude row', () => {
    expect(claude.length).toBeGreaterThanOrEqual(15);
    for (const [id, e] of claude) {
      // Published prices are rounded: Claude 3 Haiku's 5-minute write is $0.30 on $0.25 input (1.2x).
      const fiveMinutes = id === 'claude-3-haiku' ? 0.3 : Number((e.input * 1.25).toFixed(6));
      expect({ id, cacheWrite: e.cacheWrite, cacheWrite1h: e.cacheWrite1h }).toEqual({ id, cacheWrite: fiveMinutes, cacheWrite1h: e.input * 2 });
      // 0.1x everywhere but Claude 3 Haiku (0.03 on 0.25, as published).
      expect(e.cachedInput! / e.input).toBeLessThanOrEqual(0.12);
    }
  });

  it('lists Opus 4.7, Opus 4.6 and Sonnet 4.6 at their published prices', () => {
    expect(priceFor('claude-opus-4-7')).toEqual({ provider: 'anthropic', input: 5, cachedInput: 0.5, cacheWrite: 6.25, cacheWrite1h: 10, output: 25 });
    expect(priceFor('anthropic/claude-opus-4.6')).toEqual({ provider: 'anthropic', input: 5, cachedInput: 0.5, cacheWrite: 6.25, cacheWrite1h: 10, output: 25 });
    expect(priceFor('claude-sonnet-4-6')).toEqual({ provider: 'anthropic', input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15 });
  });

  it('resolveModelPrice returns the write prices with the rest', () => {
    expect(resolveModelPrice({ name: 'c', engine: 'anthropic', model: 'claude-sonnet-4-5-20250929' })).toEqual({ input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 });
    expect(resolveModelPrice({ name: 'g', engine: 'openai', model: 'gpt-4o' })).toEqual({ input: 2.5, output: 10, cachedInput: 1.25 });
  });
});

describe('price files and config with cache-write prices', () => {
  it('reads LiteLLM cache_creation_input_token_cost and ..._above_1hr, and our cacheWrite / cacheWrite1h', () => {
    const table = parsePriceTable({
      'claude-x': {
        input_cost_per_token: 3e-6,
        output_cost_per_token: 1.5e-5,
        cache_read_input_token_cost: 3e-7,
        cache_creation_input_token_cost: 3.75e-6,
        cache_creation_input_token_cost_above_1hr: 6e-6,
      },
      ours: { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25, cacheWrite1h: 2 },
      'no-writes': { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 },
    });
    expect(table.get('claude-x')).toEqual({ input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 });
    expect(table.get('ours')).toEqual({ input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25, cacheWrite1h: 2 });
    expect(table.get('no-writes')).toEqual({ input: 1, output: 2 });
  });

  it('rejects a bad write price naming the model and field', () => {
    const bad = (row: Record<string, unknown>) => {
      try {
        parsePriceTable({ m: row }, 'test table');
      } catch (e) {
        if (LLMError.isInstance(e)) return e;
      }
      throw new Error('expected a config_invalid error');
    };
    expect(bad({ input: 1, output: 2, cacheWrite1h: -1 })).toMatchObject({ code: 'config_invalid', param: 'm.cacheWrite1h' });
    expect(bad({ input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, cache_creation_input_token_cost: 'x' })).toMatchObject({
      code: 'config_invalid',
      param: 'm.cache_creation_input_token_cost',
    });
  });

  it('loads them from a file over the shipped table', async () => {
    const path = join(dir, 'prices.json');
    await writeFile(path, JSON.stringify({ 'claude-sonnet-4-6': { input: 2, output: 10, cacheWrite: 2.5, cacheWrite1h: 4 } }));
    const table = await loadPriceTable(path);
    expect(priceFor('claude-sonnet-4-6', table)).toEqual({ input: 2, output: 10, cacheWrite: 2.5, cacheWrite1h: 4 });
    expect(resolveModelPrice({ name: 's', engine: 'anthropic', model: 'claude-sonnet-4-6' }, table)).toEqual({ input: 2, output: 10, cacheWrite: 2.5, cacheWrite1h: 4 });
  });

  it('config price takes cacheWrite and cacheWrite1h (non-negative)', () => {
    expect(PriceSchema.parse({ input: 3, output: 15, cacheWrite: 3.75, cacheWrite1h: 6 })).toEqual({ input: 3, output: 15, cacheWrite: 3.75, cacheWrite1h: 6 });
    expect(PriceSchema.safeParse({ input: 3, output: 15, cacheWrite1h: -6 }).success).toBe(false);
  });
});
