import { computeCost, LLMRouter, parsePriceTable, type DeploymentInfo, type GenerateRequest, type ModelPrice, type Usage } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { estimateInputTokens, estimateMaxCostUsd, promptCacheMark } from './estimate.js';

// Review of 1e29c02 (a marked request's budget reservation prices its prompt at the dearest write rate), and the
// fixes. The reservation is documented as a bound: "the reservation really bounds its cost" (gateway README, Budgets).

const m5 = { type: 'ephemeral' } as const;

describe('review 1e29c02: the reservation of a marked request over a cascade', () => {
  it('bounds what both steps can charge when the weak step\'s write price is below its input price (LiteLLM rows with cache_creation_input_token_cost 0)', async () => {
    // LiteLLM's rows for DeepSeek (and gemini-2.5-flash) carry "cache_creation_input_token_cost": 0.0 (those
    // providers charge no writes); parsePriceTable keeps it as cacheWrite 0. The Claude row is Sonnet 4.5's.
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
      const cascade = models.find((m) => m.name === 'cascade')!;
      const cheap = models.find((m) => m.name === 'cheap')!.price!;
      const sonnet = models.find((m) => m.name === 'sonnet')!.price!;
      expect(cheap.cacheWrite).toBe(0);
      const request: GenerateRequest = {
        messages: [
          { role: 'system', content: 'A long and stable system prompt that is worth caching. '.repeat(40), cacheControl: m5 },
          { role: 'user', content: 'Who pays the fees?' },
        ],
        maxTokens: 20,
      };
      const tokens = estimateInputTokens(request);
      // One cascade call may run both steps on the whole prompt: the weak one (DeepSeek ignores the mark and
      // charges every prompt token at its input price) and the strong one (Anthropic writes the whole prompt).
      const weakWorst = computeCost({ inputTokens: tokens, outputTokens: 20, totalTokens: tokens + 20 }, cheap).totalUsd;
      const strongWorst = computeCost({ inputTokens: tokens, cacheWriteInputTokens: tokens, outputTokens: 20, totalTokens: tokens + 20 }, sonnet).totalUsd;
      const reserved = estimateMaxCostUsd(request, [cascade], 4096, tokens);
      // Failed before the fix: the cascade's price summed each kind (input 3.27, cacheWrite 0 + 3.75) and
      // maxInputRate took max(3.27, 3.75) = 3.75 per 1M prompt tokens, while the call can cost 0.27 + 3.75 = 4.02.
      // The cascade's cacheWrite is now each step's dearest marked rate summed (core's cascade-model-info.ts).
      expect(reserved).toBeGreaterThanOrEqual(weakWorst + strongWorst);
    } finally {
      await router.close();
    }
  });
});

describe('review 1e29c02: marks given verbatim in providerOptions', () => {
  it('finds a mark on a text block inside a tool_result of providerOptions.anthropic.messages (depth 7)', () => {
    // Anthropic's ToolResultBlockParam.content items are TextBlockParam, which carry cache_control; the
    // Anthropic engine sends providerOptions.anthropic.messages as they are (convert-to-anthropic-request.ts),
    // so this mark makes Anthropic write the prompt. The search stops at PROVIDER_OPTIONS_DEPTH = 6, whose
    // comment says blocks sit at depth 3-4: message content blocks are at depth 5, a tool_result's at 7.
    const marked = (where: 'block' | 'nested'): GenerateRequest => ({
      messages: [{ role: 'user', content: 'Go on.' }],
      providerOptions: {
        anthropic: {
          messages: [
            { role: 'user', content: 'Look it up.' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} }] },
            {
              role: 'user',
              content: [
                {
                  type: 'tool_result',
                  tool_use_id: 'toolu_1',
                  ...(where === 'block' ? { cache_control: m5 } : {}),
                  content: [{ type: 'text', text: 'A long document. '.repeat(200), ...(where === 'nested' ? { cache_control: m5 } : {}) }],
                },
              ],
            },
          ],
        },
      },
    });
    // The same mark one level up (on the tool_result block itself, depth 5) is found.
    expect(promptCacheMark(marked('block'))).toBe('5m');
    // Failed before the fix (the search stopped at depth 6): undefined, so the reservation priced the prompt
    // at the input rate.
    expect(promptCacheMark(marked('nested'))).toBe('5m');
  });
});

/** USD as whole nano-dollars (computeCost's amounts are exact to 1e-9 USD): compares sums without float noise. */
const nano = (usd: number): number => Math.round(usd * 1e9);

describe('the reservation over a cascade bounds every way its two steps can charge a marked prompt', () => {
  // Step prices as price tables give them: LiteLLM rows with writes at 0 (DeepSeek, gemini-2.5-flash), rows
  // without write prices, Claude's, and odd ones (1-hour writes cheaper than 5-minute ones).
  const prices: ModelPrice[] = [
    { input: 0.27, output: 1.1, cachedInput: 0.07, cacheWrite: 0 },
    { input: 0.3, output: 2.5, cachedInput: 0.03, cacheWrite: 0, cacheWrite1h: 0 },
    { input: 2.5, output: 10, cachedInput: 1.25 },
    { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 },
    { input: 1, output: 5, cacheWrite: 1.25 },
    { input: 0.8, output: 4, cacheWrite: 1.7, cacheWrite1h: 0.9 },
  ];
  const m1h = { type: 'ephemeral', ttl: '1h' } as const;
  const request = (cacheControl: typeof m5 | typeof m1h | undefined): GenerateRequest => ({
    messages: [
      { role: 'system', content: 'A long and stable system prompt that is worth caching. '.repeat(37), ...(cacheControl ? { cacheControl } : {}) },
      { role: 'user', content: 'Who pays the fees?' },
    ],
    maxTokens: 333,
  });
  /** What one step may be charged for the whole prompt under a mark: as input, as 5-minute writes, as 1-hour writes. */
  const stepUsages = (tokens: number, mark: '5m' | '1h'): Usage[] => {
    const base = { inputTokens: tokens, outputTokens: 333, totalTokens: tokens + 333 };
    const out: Usage[] = [base, { ...base, cacheWriteInputTokens: tokens }];
    if (mark === '1h') out.push({ ...base, cacheWriteInputTokens: tokens, cacheWrite1hInputTokens: tokens });
    return out;
  };

  async function cascadeOver(weak: ModelPrice, strong: ModelPrice): Promise<DeploymentInfo> {
    const router = new LLMRouter({
      models: [
        { name: 'weak', engine: 'mock', price: weak },
        { name: 'strong', engine: 'mock', price: strong },
      ],
      routing: { cascades: [{ name: 'c', weak: 'weak', strong: 'strong' }] },
    });
    try {
      return router.models().find((m) => m.name === 'c')!;
    } finally {
      await router.close();
    }
  }

  it('for every pair of step prices and both TTLs: at least the dearest charge of each step added, and no more', async () => {
    let pairs = 0;
    for (const weak of prices) {
      for (const strong of prices) {
        const cascade = await cascadeOver(weak, strong);
        for (const [mark, cacheControl] of [['5m', m5], ['1h', m1h]] as const) {
          const marked = request(cacheControl);
          const tokens = estimateInputTokens(marked);
          const reserved = nano(estimateMaxCostUsd(marked, [cascade], 4096, tokens));
          let dearest = 0;
          for (const w of stepUsages(tokens, mark)) {
            for (const s of stepUsages(tokens, mark)) {
              const both = nano(computeCost(w, weak).totalUsd) + nano(computeCost(s, strong).totalUsd);
              expect({ weak, strong, mark, w, s, reserved }).toEqual({ weak, strong, mark, w, s, reserved: Math.max(reserved, both) });
              dearest = Math.max(dearest, both);
            }
          }
          // Tight: the reservation is what the dearest way costs (to the nano-dollar), not a blanket margin.
          expect(reserved).toBe(dearest);
        }
        pairs++;
      }
    }
    expect(pairs).toBe(prices.length ** 2);
  });

  it('an unmarked request over the cascade reserves as before: the prompt at both steps\' input prices summed', async () => {
    const plain = request(undefined);
    const tokens = estimateInputTokens(plain);
    for (const weak of prices) {
      for (const strong of prices) {
        const cascade = await cascadeOver(weak, strong);
        const reserved = estimateMaxCostUsd(plain, [cascade], 4096, tokens);
        const before = (tokens * (weak.input + strong.input) + 333 * (weak.output + strong.output)) / 1_000_000;
        expect(nano(reserved)).toBe(nano(before));
        const plainUsage = { inputTokens: tokens, outputTokens: 333, totalTokens: tokens + 333 };
        expect(nano(reserved)).toBe(nano(computeCost(plainUsage, weak).totalUsd) + nano(computeCost(plainUsage, strong).totalUsd));
      }
    }
  });

  it('a single deployment is reserved as computeCost charges, to the nano-dollar, also at rates a float product misses', () => {
    // 0.27 x 1125 tokens is 303.75 USD per 1M exactly; 1125 x (0.27 + 3.75) came out 4522.4999... in floating point.
    const d = { name: 'd', price: { input: 0.27 + 3.75, output: 1.1 + 15 }, config: {} } as unknown as DeploymentInfo;
    const r: GenerateRequest = { messages: [{ role: 'user', content: 'x' }], maxTokens: 20 };
    expect(estimateMaxCostUsd(r, [d], 4096, 1125)).toBe(0.0048445);
    // Sub-nano amounts round up (computeCost rounds them half up): 1 token at 0.0005 per 1M is 0.5 nano-dollars.
    const tiny = { name: 't', price: { input: 0.0005, output: 0 }, config: {} } as unknown as DeploymentInfo;
    expect(estimateMaxCostUsd({ ...r, maxTokens: 0 }, [tiny], 4096, 1)).toBe(1e-9);
    expect(computeCost({ inputTokens: 1, outputTokens: 0, totalTokens: 1 }, tiny.price).totalUsd).toBe(1e-9);
  });
});

describe('marks given verbatim in providerOptions: every block Anthropic marks, and odd objects', () => {
  const text = (extra: object = {}) => ({ type: 'text', text: 'A long document. '.repeat(50), ...extra });
  const withBlocks = (blocks: object[]): GenerateRequest => ({
    messages: [{ role: 'user', content: 'Go on.' }],
    providerOptions: {
      anthropic: {
        messages: [
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: blocks }] },
        ],
      },
    },
  });

  it('a search result\'s text block inside a tool_result (depth 9)', () => {
    const result = (mark: object | undefined) => ({ type: 'search_result', source: 'https://example.test/a', title: 'A', content: [text(mark ? { cache_control: mark } : {})] });
    expect(promptCacheMark(withBlocks([result(undefined)]))).toBeUndefined();
    expect(promptCacheMark(withBlocks([result(m5)]))).toBe('5m');
  });

  it('the text of a document with a content source inside a tool_result (depth 10); a 1-hour mark there wins', () => {
    const doc = (mark: object) => ({ type: 'document', source: { type: 'content', content: [text({ cache_control: mark })] } });
    expect(promptCacheMark(withBlocks([doc(m5)]))).toBe('5m');
    const request = withBlocks([text({ cache_control: m5 }), doc({ type: 'ephemeral', ttl: '1h' })]);
    expect(promptCacheMark(request)).toBe('1h');
    // The reservation follows: the nested mark prices the prompt at the write rate.
    const claude = { name: 'claude', price: { input: 3, output: 15, cacheWrite: 3.75, cacheWrite1h: 6 }, config: {} } as unknown as DeploymentInfo;
    const unmarked = withBlocks([text()]);
    const tokens = estimateInputTokens(unmarked);
    expect(estimateMaxCostUsd(request, [claude], 100, tokens)).toBe((tokens * 6 + 100 * 15) / 1_000_000);
    expect(estimateMaxCostUsd(unmarked, [claude], 100, tokens)).toBe((tokens * 3 + 100 * 15) / 1_000_000);
  });

  it('a cyclic in-process object ends the search, with or without a mark', () => {
    const cyclic = (mark: object | undefined): GenerateRequest => {
      const block: Record<string, unknown> = text(mark ? { cache_control: mark } : {});
      const message: Record<string, unknown> = { role: 'user', content: [block] };
      block.self = block;
      block.message = message;
      const anthropic: Record<string, unknown> = { messages: [message, message] };
      anthropic.again = anthropic;
      return { messages: [{ role: 'user', content: 'x' }], providerOptions: { anthropic } };
    };
    expect(promptCacheMark(cyclic(undefined))).toBeUndefined();
    expect(promptCacheMark(cyclic(m5))).toBe('5m');
  });

  it('an object reached both deep and shallow is searched where it is shallow', () => {
    // The same marked block sits under a chain 40 deep (past the search's depth) and in a message's content.
    const block = text({ cache_control: m5 });
    let chain: Record<string, unknown> = { block };
    for (let i = 0; i < 40; i++) chain = { next: chain };
    const request: GenerateRequest = {
      messages: [{ role: 'user', content: 'x' }],
      providerOptions: { anthropic: { metadata: chain, messages: [{ role: 'user', content: [block] }] } },
    };
    expect(promptCacheMark(request)).toBe('5m');
  });

  it('a very deep object ends the search (its depth is bounded, and it is searched without recursion)', () => {
    let deep: unknown[] = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const request: GenerateRequest = { messages: [{ role: 'user', content: 'x' }], providerOptions: { anthropic: { deep, system: [text({ cache_control: m5 })] } } };
    expect(promptCacheMark(request)).toBe('5m');
  });
});
