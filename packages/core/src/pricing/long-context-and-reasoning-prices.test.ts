import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceSchema } from '../config/schema.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { LLMRouter } from '../router/llm-router.js';
import { startGeminiWireServer, type GeminiWireServer } from '../test/gemini-wire-server.js';
import { makeUsage } from '../spec/index.js';
import { computeCost } from './compute-cost.js';
import { parsePriceTable } from './load-price-table.js';
import { resolveModelPrice } from './price-for.js';

// What the router bills for Gemini calls priced from the shipped table and LiteLLM-format price files: long-context
// tiers (`longContext`), reasoning output (`reasoningOutput`) and the Gemini API's `gemini/<model>` rows.

const SHARED_PRICES = join(process.env['LLMRR_SHARED_DIR'] ?? '/work/shared', 'data/pricing/model_prices.json');

let server: GeminiWireServer;
let dir: string;
beforeAll(async () => {
  server = await startGeminiWireServer({ apiKey: 'gm-test' });
  dir = await mkdtemp(join(tmpdir(), 'llmrr-long-context-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function router(model: string, pricesFile: string): LLMRouter {
  return new LLMRouter(
    { models: [{ name: 'gem', engine: 'gemini', model, baseURL: server.url, apiKey: 'gm-test' }] },
    { env: { LLMRR_PRICES_FILE: pricesFile } },
  );
}

describe('Gemini call cost through the router', () => {
  it('a prompt above the 128k tier is billed at the *_above_128k_tokens prices (LiteLLM / Google bill the whole call at the long-context rate)', async () => {
    const file = join(dir, 'tiered.json');
    await writeFile(
      file,
      JSON.stringify({
        'gemini-1.5-pro': {
          input_cost_per_token: 3.5e-6,
          input_cost_per_token_above_128k_tokens: 7e-6,
          output_cost_per_token: 1.05e-5,
          output_cost_per_token_above_128k_tokens: 2.1e-5,
          litellm_provider: 'gemini',
        },
      }),
    );
    server.enqueue({ parts: 'ok', usage: { promptTokenCount: 200_000, candidatesTokenCount: 1_000 } });
    const r = router('gemini-1.5-pro', file);
    await r.ready();
    const res = await r.generate('long prompt');
    expect(res.usage.inputTokens).toBe(200_000);
    // Prompt 200 000 > 128 000 tokens: input 200 000 x $7e-6 = $1.40; output 1 000 x $2.1e-5 = $0.021; total $1.421.
    // (Billed at the short-prompt rate instead: 200 000 x 3.5e-6 = $0.70 + 1 000 x 1.05e-5 = $0.0105 = $0.7105.)
    expect(res.cost.inputUsd).toBeCloseTo(1.4, 9);
    expect(res.cost.outputUsd).toBeCloseTo(0.021, 9);
    expect(res.cost.totalUsd).toBeCloseTo(1.421, 9);
  });

  it('shipped table: gemini-2.5-pro with a prompt over 200k tokens is billed at the long-context price', async () => {
    // Google's price (https://ai.google.dev/gemini-api/docs/pricing): prompts <= 200k: $1.25 in / $10 out per 1M;
    // prompts > 200k: $2.50 in / $15 out per 1M, for the whole call.
    server.enqueue({ parts: 'ok', usage: { promptTokenCount: 250_000, candidatesTokenCount: 1_000 } });
    const r = new LLMRouter({ models: [{ name: 'gem', engine: 'gemini', model: 'gemini-2.5-pro', baseURL: server.url, apiKey: 'gm-test' }] }, { env: {} });
    await r.ready();
    const res = await r.generate('long prompt');
    // input 250 000 x $2.50 / 1M = $0.625; output 1 000 x $15 / 1M = $0.015; total $0.64.
    // (Short-prompt rate: 250 000 x 1.25 / 1M = $0.3125 + 1 000 x 10 / 1M = $0.01 = $0.3225, about half.)
    expect(res.cost.inputUsd).toBeCloseTo(0.625, 9);
    expect(res.cost.outputUsd).toBeCloseTo(0.015, 9);
    expect(res.cost.totalUsd).toBeCloseTo(0.64, 9);
  });

  it('thinking tokens are billed at output_cost_per_reasoning_token when the price file sets it', async () => {
    const file = join(dir, 'reasoning.json');
    await writeFile(
      file,
      JSON.stringify({
        'gemini-2.5-flash-preview-04-17': {
          input_cost_per_token: 1.5e-7,
          output_cost_per_token: 6e-7,
          output_cost_per_reasoning_token: 3.5e-6,
          litellm_provider: 'gemini',
        },
      }),
    );
    server.enqueue({ parts: 'ok', usage: { promptTokenCount: 1_000, candidatesTokenCount: 200, thoughtsTokenCount: 800 } });
    const r = router('gemini-2.5-flash-preview-04-17', file);
    await r.ready();
    const res = await r.generate('think');
    expect(res.usage).toMatchObject({ outputTokens: 1_000, reasoningTokens: 800 });
    // input 1 000 x 1.5e-7 = $0.00015; output 200 x 6e-7 = $0.00012 + thoughts 800 x 3.5e-6 = $0.0028 -> $0.00292;
    // total $0.00307. (All 1 000 output tokens at 6e-7 instead: $0.0006, total $0.00075.)
    expect(res.cost.inputUsd).toBeCloseTo(0.00015, 9);
    expect(res.cost.outputUsd).toBeCloseTo(0.00292, 9);
    expect(res.cost.totalUsd).toBeCloseTo(0.00307, 9);
  });

  it('a config price with longContext and reasoningOutput bills as a price file row does; the schema checks the tier', async () => {
    const price = { input: 1, output: 2, reasoningOutput: 4, longContext: [{ threshold: 100_000, input: 3, output: 5, reasoningOutput: 8 }] };
    expect(PriceSchema.safeParse(price).success).toBe(true);
    expect(PriceSchema.safeParse({ input: 1, output: 2, longContext: [{ input: 3, output: 5 }] }).success).toBe(false);
    expect(PriceSchema.safeParse({ input: 1, output: 2, longContext: [{ threshold: 10, input: 3, output: 5, typo: 1 }] }).success).toBe(false);
    expect(PriceSchema.safeParse({ input: 1, output: 2, longContext: { threshold: 10, input: 3, output: 5 } }).success).toBe(false);
    expect(PriceSchema.safeParse({ input: 1, output: 2, longContext: [{ threshold: 10, input: 3, output: 5 }, { threshold: 10, input: 4, output: 6 }] }).success).toBe(false);
    server.enqueue({ parts: 'ok', usage: { promptTokenCount: 150_000, candidatesTokenCount: 300, thoughtsTokenCount: 100 } });
    const r = new LLMRouter({ models: [{ name: 'gem', engine: 'gemini', model: 'gemini-2.5-pro', baseURL: server.url, apiKey: 'gm-test', price }] }, { env: {} });
    await r.ready();
    const res = await r.generate('long prompt');
    // Prompt 150 000 > 100 000: input 0.15 x $3 = $0.45; output 300 + 100 thoughts = 400: 300 x $5 + 100 x $8 per 1M = $0.0023.
    expect(res.usage).toMatchObject({ inputTokens: 150_000, outputTokens: 400, reasoningTokens: 100 });
    expect(res.cost).toEqual({ inputUsd: 0.45, outputUsd: 0.0023, totalUsd: 0.4523, estimated: false });
  });

  it('engine gemini (Gemini Developer API) is priced from the gemini/<model> row, not the unprefixed Vertex row', async () => {
    // Shared model_prices.json: "gemini/gemini-1.5-pro" (litellm_provider gemini) = $3.5e-6 in / $1.05e-5 out per token;
    // "gemini-1.5-pro" (litellm_provider vertex_ai-language-models) = $5e-6 in / $1.5e-5 out per token.
    server.enqueue({ parts: 'ok', usage: { promptTokenCount: 1_000, candidatesTokenCount: 100 } });
    const r = router('gemini-1.5-pro', SHARED_PRICES);
    await r.ready();
    const res = await r.generate('hello');
    // Expected (Gemini API row): 1 000 x 3.5e-6 = $0.0035 + 100 x 1.05e-5 = $0.00105 -> $0.00455.
    // (Vertex row: 1 000 x 5e-6 = $0.005 + 100 x 1.5e-5 = $0.0015 -> $0.0065, 43% more.)
    expect(res.cost.inputUsd).toBeCloseTo(0.0035, 9);
    expect(res.cost.outputUsd).toBeCloseTo(0.00105, 9);
    expect(res.cost.totalUsd).toBeCloseTo(0.00455, 9);
  });
});

describe('long-context tiers outside computeCost', () => {
  it('cost-optimized ranks a long prompt by the tier rates it will be billed at', async () => {
    // `tiered` is cheap for short prompts (1/1) and dear above 10 prompt tokens (100/100); `flat` costs 5/5 always.
    const r = new LLMRouter(
      {
        models: [
          { name: 'tiered', engine: 'fake', price: { input: 1, output: 1, longContext: [{ threshold: 10, input: 100, output: 100 }] } },
          { name: 'flat', engine: 'fake', price: { input: 5, output: 5 } },
        ],
        routing: { strategy: 'cost-optimized', retries: { max: 0 } },
      },
      { engineFactories: { fake: (m) => new MockEngine({ modelId: m.model ?? m.name }) } },
    );
    const factors = (d: Awaited<ReturnType<LLMRouter['route']>>) => d.candidates.map((c) => [c.name, c.factors?.['expectedCostUsd']]);
    const long = await r.route('word '.repeat(2_000), { maxTokens: 100 }); // far above 10 tokens: `tiered` bills it at 100/100
    expect(long.order[0], JSON.stringify(factors(long))).toBe('flat');
    const short = await r.route('hi', { maxTokens: 100 }); // under the threshold: `tiered` at 1/1 is cheaper
    expect(short.order[0], JSON.stringify(factors(short))).toBe('tiered');
  });

  it('models() hands out a configured price whose longContext tier is frozen: editing it throws and never reprices', async () => {
    const r = new LLMRouter(
      {
        models: [
          {
            name: 'gem',
            engine: 'gemini',
            model: 'gemini-2.5-pro',
            baseURL: server.url,
            apiKey: 'gm-test',
            price: { input: 1.25, output: 10, longContext: [{ threshold: 200_000, input: 2.5, output: 15 }] },
          },
        ],
        routing: { retries: { max: 0 } },
      },
      { env: {} },
    );
    await r.ready();
    const price = r.models()[0]!.price!;
    expect(Object.isFrozen(price)).toBe(true);
    expect(Object.isFrozen(price.longContext)).toBe(true);
    expect(() => {
      (price.longContext![0] as { input: number }).input = 0;
    }).toThrow(TypeError);
    server.enqueue({ parts: 'ok', usage: { promptTokenCount: 250_000, candidatesTokenCount: 1_000 } });
    const res = await r.generate('long prompt');
    // 250 000 x $2.50/1M + 1 000 x $15/1M = $0.64.
    expect(res.cost.totalUsd).toBe(0.64);
  });
});

describe('tier rates a tier does not set', () => {
  it('above the threshold, cache reads without a tier read rate are billed at the base read rate, not the tier input rate', () => {
    // Claude Sonnet 4.5 with the 1M beta: <=200k $3 in / $0.30 cache read / $15 out; >200k $6 / $0.60 / $22.50.
    const base = { input: 3, output: 15, cachedInput: 0.3 };
    const usage = { inputTokens: 250_000, cachedInputTokens: 200_000, outputTokens: 0, totalTokens: 250_000 };
    // The tier gives no read rate: 50 000 x $6 + 200 000 x $0.30 (the base read rate) = $0.36.
    expect(computeCost(usage, { ...base, longContext: [{ threshold: 200_000, input: 6, output: 22.5 }] }).inputUsd).toBeCloseTo(0.36, 9);
    // The tier gives one: 50 000 x $6 + 200 000 x $0.60 = $0.42.
    expect(computeCost(usage, { ...base, longContext: [{ threshold: 200_000, input: 6, output: 22.5, cachedInput: 0.6 }] }).inputUsd).toBeCloseTo(0.42, 9);
    // Neither gives one: the tier input rate.
    expect(computeCost(usage, { input: 3, output: 15, longContext: [{ threshold: 200_000, input: 6, output: 22.5 }] }).inputUsd).toBeCloseTo(1.5, 9);
  });

  it('a LiteLLM tier without tier cache prices keeps the row\'s cache-read price above the threshold, as LiteLLM bills it', () => {
    // LiteLLM _get_token_base_cost: above the threshold, cache_read_input_token_cost_above_<x>_tokens if present,
    // else cache_read_input_token_cost (the base read price).
    const table = parsePriceTable({
      'cached-tiered': {
        input_cost_per_token: 1.25e-6,
        output_cost_per_token: 1e-5,
        cache_read_input_token_cost: 3.125e-7,
        input_cost_per_token_above_200k_tokens: 2.5e-6,
        output_cost_per_token_above_200k_tokens: 1.5e-5,
      },
    });
    const price = resolveModelPrice({ name: 'cached-tiered', engine: 'openai-compatible' }, table)!;
    const cost = computeCost({ inputTokens: 250_000, cachedInputTokens: 200_000, outputTokens: 0, totalTokens: 250_000 }, price);
    // 50 000 x $2.50/1M + 200 000 x $0.3125/1M = $0.125 + $0.0625 = $0.1875.
    expect(cost.inputUsd).toBeCloseTo(0.1875, 9);
  });
});

describe('a LiteLLM row with several _above_<n>k_tokens thresholds', () => {
  it('keeps one tier per threshold and bills a prompt at the highest threshold it is above (LiteLLM\'s rule)', () => {
    const table = parsePriceTable({
      'two-tier': {
        input_cost_per_token: 1e-6,
        output_cost_per_token: 2e-6,
        input_cost_per_token_above_128k_tokens: 2e-6,
        output_cost_per_token_above_128k_tokens: 4e-6,
        input_cost_per_token_above_200k_tokens: 3e-6,
        output_cost_per_token_above_200k_tokens: 6e-6,
      },
      'odd-threshold': { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, input_cost_per_token_above_272k_tokens: 2e-6 },
    });
    const price = resolveModelPrice({ name: 'two-tier', engine: 'openai-compatible' }, table)!;
    const cost = computeCost({ inputTokens: 250_000, outputTokens: 1_000, totalTokens: 251_000 }, price);
    // 250 000 x $3/1M + 1 000 x $6/1M = $0.756 (the 200k tier).
    expect(cost.totalUsd).toBeCloseTo(0.756, 9);
    // 150 000 x $2/1M + 1 000 x $4/1M = $0.304 (the 128k tier); 100 000 x $1/1M + 1 000 x $2/1M = $0.102 (base).
    expect(computeCost({ inputTokens: 150_000, outputTokens: 1_000, totalTokens: 151_000 }, price).totalUsd).toBeCloseTo(0.304, 9);
    expect(computeCost({ inputTokens: 100_000, outputTokens: 1_000, totalTokens: 101_000 }, price).totalUsd).toBeCloseTo(0.102, 9);
    expect(price.longContext?.map((t) => t.threshold)).toEqual([128_000, 200_000]);
    expect(table.get('odd-threshold')?.longContext).toEqual([{ threshold: 272_000, input: 2, output: 2 }]);
  });

  it('a threshold is a tier only with its own input price; a tier without an output price takes the next-lower tier\'s, so a longer prompt never bills less', () => {
    const table = parsePriceTable({
      'output-only-above-200k': {
        input_cost_per_token: 1e-6,
        output_cost_per_token: 2e-6,
        input_cost_per_token_above_128k_tokens: 4e-6,
        output_cost_per_token_above_128k_tokens: 8e-6,
        output_cost_per_token_above_200k_tokens: 9e-6,
      },
      'input-only-above-200k': {
        input_cost_per_token: 1e-6,
        output_cost_per_token: 2e-6,
        input_cost_per_token_above_128k_tokens: 4e-6,
        output_cost_per_token_above_128k_tokens: 8e-6,
        input_cost_per_token_above_200k_tokens: 5e-6,
      },
    });
    const at = (model: string, input: number) => computeCost(makeUsage(input, 1000), table.get(model)!).totalUsd;
    // No input_cost_per_token_above_200k_tokens: not a tier (LiteLLM ignores it); 300k bills at the 128k tier.
    expect(table.get('output-only-above-200k')!.longContext).toEqual([{ threshold: 128_000, input: 4, output: 8 }]);
    expect(at('output-only-above-200k', 300_000)).toBeCloseTo((300_000 * 4 + 1000 * 8) / 1e6, 9);
    expect(at('output-only-above-200k', 300_000)).toBeGreaterThanOrEqual(at('output-only-above-200k', 150_000));
    // The 200k tier's output is the 128k tier's, not the short-prompt $2/1M.
    expect(table.get('input-only-above-200k')!.longContext).toEqual([
      { threshold: 128_000, input: 4, output: 8 },
      { threshold: 200_000, input: 5, output: 8 },
    ]);
    expect(at('input-only-above-200k', 300_000)).toBeCloseTo((300_000 * 5 + 1000 * 8) / 1e6, 9);
  });
});
