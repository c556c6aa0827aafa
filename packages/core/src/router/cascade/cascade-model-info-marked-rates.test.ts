import { describe, expect, it } from 'vitest';
import { parsePriceTable } from '../../pricing/index.js';
import type { ModelPrice } from '../../spec/index.js';
import { LLMRouter } from '../llm-router.js';

// A cascade's write prices bound what both steps may charge a marked prompt token (found in review of 1e29c02).
// A mark is a request: a provider that caches without writes (LiteLLM's rows for DeepSeek and gemini-2.5-flash
// carry cache_creation_input_token_cost 0) charges the token as input, Anthropic charges the write. Summed kind
// by kind, the cascade's cacheWrite (0 + 3.75) and input (0.27 + 3) both fell short of the 0.27 + 3.75 one call
// can cost. No network: models() does not call the deployments.

type Price = ModelPrice;

async function cascadePrice(weak: Price, strong: Price): Promise<Price | undefined> {
  const router = new LLMRouter({
    models: [
      { name: 'weak', engine: 'mock', price: weak },
      { name: 'strong', engine: 'mock', price: strong },
    ],
    routing: { cascades: [{ name: 'c', weak: 'weak', strong: 'strong' }] },
  });
  try {
    return router.models().find((m) => m.name === 'c')?.price;
  } finally {
    await router.close();
  }
}

/** The dearest rate a step charges a prompt token: `input`, or with a mark any write rate it allows (as ModelPrice falls back). */
function stepRates(p: Price, mark: '5m' | '1h'): number[] {
  const five = p.cacheWrite ?? p.input;
  return mark === '5m' ? [p.input, five] : [p.input, five, p.cacheWrite1h ?? five];
}

/** The dearest prompt rate of a price under a mark, as the gateway's reservation takes it (`maxInputRate`). */
function dearest(p: Price, mark: '5m' | '1h'): number {
  return Math.max(...stepRates(p, mark));
}

describe('a cascade\'s write prices bound a marked prompt token on both steps', () => {
  it('DeepSeek (LiteLLM row, cacheWrite 0) -> Claude Sonnet 4.5: cacheWrite is 0.27 + 3.75, the rest summed as before', async () => {
    const table = parsePriceTable({
      'deepseek-chat': { input_cost_per_token: 2.7e-7, output_cost_per_token: 1.1e-6, cache_read_input_token_cost: 7e-8, cache_creation_input_token_cost: 0.0 },
      'claude-sonnet-4-5': { input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5, cache_read_input_token_cost: 3e-7, cache_creation_input_token_cost: 3.75e-6 },
    });
    const router = new LLMRouter(
      {
        models: [
          { name: 'cheap', engine: 'openai-compatible', model: 'deepseek-chat', baseURL: 'http://127.0.0.1:9', apiKey: 'k' },
          { name: 'sonnet', engine: 'anthropic', model: 'claude-sonnet-4-5', baseURL: 'http://127.0.0.1:9', apiKey: 'sk-ant-test' },
        ],
        routing: { cascades: [{ name: 'cascade', weak: 'cheap', strong: 'sonnet' }] },
      },
      { priceTable: table },
    );
    try {
      const models = router.models();
      const cheap = models.find((m) => m.name === 'cheap')!.price!;
      const sonnet = models.find((m) => m.name === 'sonnet')!.price!;
      expect(cheap.cacheWrite).toBe(0);
      const price = models.find((m) => m.name === 'cascade')!.price!;
      expect(price).toEqual({
        input: cheap.input + sonnet.input,
        output: cheap.output + sonnet.output,
        cachedInput: cheap.cachedInput! + sonnet.cachedInput!,
        cacheWrite: cheap.input + sonnet.cacheWrite!,
      });
      expect(price.cacheWrite).toBeCloseTo(4.02, 12);
      expect(dearest(price, '5m')).toBeCloseTo(4.02, 12);
    } finally {
      await router.close();
    }
  });

  it('a 1-hour price: each step at its dearest of input, 5-minute and 1-hour writes', async () => {
    expect(await cascadePrice({ input: 1, output: 2, cacheWrite: 0 }, { input: 3, output: 15, cacheWrite: 3.75, cacheWrite1h: 6 })).toEqual({
      input: 4,
      output: 17,
      cacheWrite: 1 + 3.75,
      cacheWrite1h: 1 + 6,
    });
    // A table that prices 1-hour writes below 5-minute ones: a 1-hour mark may be demoted to 5 minutes.
    expect(await cascadePrice({ input: 1, output: 1, cacheWrite: 5, cacheWrite1h: 2 }, { input: 1, output: 1, cacheWrite: 1, cacheWrite1h: 5 })).toEqual({
      input: 2,
      output: 2,
      cacheWrite: 5 + 1,
      cacheWrite1h: 5 + 5,
    });
  });

  it('two steps that both write below input: the write prices are the input sum (marks change nothing)', async () => {
    expect(await cascadePrice({ input: 0.27, output: 1.1, cacheWrite: 0 }, { input: 0.3, output: 2.5, cacheWrite: 0, cacheWrite1h: 0 })).toEqual({
      input: 0.27 + 0.3,
      output: 1.1 + 2.5,
      cacheWrite: 0.27 + 0.3,
      cacheWrite1h: 0.27 + 0.3,
    });
  });

  it('an alias step with a member that writes for free: the dearest member, then the dearest marked rate', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'weak', engine: 'mock', price: { input: 0.27, output: 1.1, cacheWrite: 0 } },
        { name: 'big-a', alias: 'big', engine: 'mock', price: { input: 3, output: 15, cacheWrite: 3.75 } },
        { name: 'big-b', alias: 'big', engine: 'mock', price: { input: 5, output: 20, cacheWrite: 0 } },
      ],
      routing: { cascades: [{ name: 'c', weak: 'weak', strong: 'big' }] },
    });
    try {
      // big: input 5, cacheWrite 3.75 (the dearest of each kind); its dearest marked rate is 5 (big-b's input).
      expect(router.models().find((m) => m.name === 'c')?.price).toEqual({ input: 0.27 + 5, output: 1.1 + 20, cacheWrite: 0.27 + 5 });
    } finally {
      await router.close();
    }
  });

  it('over a grid of step prices: the dearest marked rate is exactly the sum of each step\'s, and unmarked input stays the sum', async () => {
    const options: Price[] = [
      { input: 2, output: 1 },
      { input: 2, output: 1, cacheWrite: 0 },
      { input: 2, output: 1, cacheWrite: 1 },
      { input: 2, output: 1, cacheWrite: 2.5 },
      { input: 2, output: 1, cacheWrite1h: 4 },
      { input: 2, output: 1, cacheWrite1h: 0.5 },
      { input: 2, output: 1, cacheWrite: 2.5, cacheWrite1h: 4 },
      { input: 2, output: 1, cacheWrite: 0, cacheWrite1h: 0 },
      { input: 2, output: 1, cacheWrite: 5, cacheWrite1h: 3 },
    ];
    let checked = 0;
    for (const weak of options) {
      for (const strong of options) {
        const price = (await cascadePrice(weak, strong))!;
        expect(price.input).toBe(weak.input + strong.input);
        expect(price.output).toBe(weak.output + strong.output);
        for (const mark of ['5m', '1h'] as const) {
          // Every way the two steps may charge one marked token is within the cascade's dearest marked rate...
          for (const w of stepRates(weak, mark)) for (const s of stepRates(strong, mark)) expect(dearest(price, mark)).toBeGreaterThanOrEqual(w + s);
          // ... and that rate is reached (the bound is tight: no more is reserved than both steps can charge).
          expect(dearest(price, mark)).toBe(dearest(weak, mark) + dearest(strong, mark));
        }
        checked++;
      }
    }
    expect(checked).toBe(options.length ** 2);
  });
});
