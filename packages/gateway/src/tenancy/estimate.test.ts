import { CACHED_QUESTION_FACTOR, computeCost, type DeploymentInfo, type GenerateRequest } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { estimateGuardMaxCostUsd, estimateInputTokens, estimateMaxCostUsd, estimateRequestTokenBound, IMAGE_INPUT_TOKENS, maxInputRate, promptCacheMark, TOOL_PROMPT_TOKENS, utf8ByteLength } from './estimate.js';

const encoder = new TextEncoder();

describe('utf8ByteLength', () => {
  it('counts what TextEncoder writes: ASCII, 2-, 3- and 4-byte characters, lone and reversed surrogates', () => {
    const samples = ['', 'hello', 'é', 'ß€', '漢字', '😀', 'a😀b', '\ud83d', '\ude00', 'x\ud83d', '\ude00\ud83d', '\ud83d\ud83d\ude00', '\u007f\u0080\u07ff\u0800\uffff'];
    for (const s of samples) expect({ s, n: utf8ByteLength(s) }).toEqual({ s, n: encoder.encode(s).byteLength });
  });

  it('agrees with TextEncoder on 2,000 random strings over the whole UTF-16 range', () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const ranges = [0x80, 0x800, 0xd800, 0xdc00, 0xe000, 0x10000];
    for (let i = 0; i < 2000; i++) {
      const units = Array.from({ length: Math.floor(next() * 12) }, () => Math.floor(next() * ranges[Math.floor(next() * ranges.length)]!));
      const s = String.fromCharCode(...units);
      expect(utf8ByteLength(s)).toBe(encoder.encode(s).byteLength);
    }
  });
});

describe('estimates', () => {
  const request = { messages: [{ role: 'user' as const, content: 'héllo 😀' }, { role: 'user' as const, content: [{ type: 'text' as const, text: 'abc' }] }] };

  it('input tokens: one token a UTF-8 byte of the text plus 8 a message', () => {
    expect(estimateInputTokens(request)).toBe(encoder.encode('héllo 😀').byteLength + 8 + 3 + 8);
  });

  it('input tokens: every part the provider reads, one token a byte; 8 a message and a tool call; 5,000 an image; the tool prompt once', () => {
    const tools = [{ name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    const full: GenerateRequest = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: '漢字?' }, { type: 'image', url: 'https://example.test/a.png' }], name: 'ann' },
        { role: 'assistant', content: 'ok', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }], reasoning: [{ type: 'reasoning', text: 'hm', signature: 'sig' }, { type: 'reasoning', text: '', redactedData: 'QUJD' }] },
        { role: 'tool', toolCallId: 'call_1', content: 'sunny', parts: [{ type: 'text', text: 'sunny' }, { type: 'image', data: 'AAAA', mediaType: 'image/png' }] },
      ],
      tools,
      responseFormat: { type: 'json_schema', name: 'a', description: 'An answer.', schema },
    };
    const bytes = (s: string) => encoder.encode(s).byteLength;
    const expected =
      4 * 8 +
      bytes('Be brief.') +
      (bytes('漢字?') + 5_000 + bytes('ann')) +
      (bytes('ok') + 8 + bytes('call_1') + bytes('get_weather') + bytes('{"city":"Oslo"}') + bytes('hm') + bytes('QUJD')) +
      (bytes('call_1') + bytes('sunny') + 5_000) +
      bytes(JSON.stringify(tools)) +
      // The response format: its schema, name and description, and the fixed text of Anthropic's forced JSON tool.
      (bytes(JSON.stringify(schema)) + bytes('a') + bytes('An answer.') + 256) +
      // Tools and a JSON format share one hidden tool-use prompt.
      600;
    expect(IMAGE_INPUT_TOKENS).toBe(5_000);
    expect(TOOL_PROMPT_TOKENS).toBe(600);
    expect(estimateInputTokens(full)).toBe(expected);
  });

  it('the cost bound is the same with the input estimate given or computed', () => {
    const d = { name: 'd', price: { input: 3, output: 15 }, config: { maxOutputTokens: 100 } } as unknown as DeploymentInfo;
    const computed = estimateMaxCostUsd(request, [d], 50);
    expect(computed).toBe(estimateMaxCostUsd(request, [d], 50, estimateInputTokens(request)));
    expect(computed).toBeCloseTo((estimateInputTokens(request) * 3 + 100 * 15) / 1e6, 12);
  });
});

describe('the cost bound of long-context and reasoning prices', () => {
  const gemini = (price: DeploymentInfo['price']) => ({ name: 'g', price, config: { maxOutputTokens: 1_000 } }) as unknown as DeploymentInfo;
  const longContext = { input: 1.25, output: 10, longContext: [{ threshold: 200_000, input: 2.5, output: 15 }] };
  /** A prompt whose bound is `tokens`: one message (8 tokens of framing) of `tokens - 8` bytes. */
  const prompt = (tokens: number) => ({ messages: [{ role: 'user' as const, content: 'x'.repeat(tokens - 8) }] });

  it('prices a prompt estimated above the threshold at the tier rates, as computeCost bills the call', () => {
    const request = prompt(250_000);
    const input = estimateInputTokens(request);
    expect(input).toBeGreaterThan(200_000);
    const bound = estimateMaxCostUsd(request, [gemini(longContext)], 1_000);
    expect(bound).toBeCloseTo((input * 2.5 + 1_000 * 15) / 1e6, 9);
    expect(bound).toBeGreaterThanOrEqual(computeCost({ inputTokens: input, outputTokens: 1_000, totalTokens: input + 1_000 }, longContext).totalUsd);
  });

  it('keeps the short-prompt rates for a prompt at or below the threshold', () => {
    const request = prompt(1_000);
    const input = estimateInputTokens(request);
    expect(estimateMaxCostUsd(request, [gemini(longContext)], 1_000)).toBeCloseTo((input * 1.25 + 1_000 * 10) / 1e6, 9);
  });

  it('prices the output at the reasoning rate when it is dearer (all output may be reasoning)', () => {
    const request = prompt(1_000);
    const input = estimateInputTokens(request);
    const price = { input: 0.15, output: 0.6, reasoningOutput: 3.5 };
    const bound = estimateMaxCostUsd(request, [gemini(price)], 1_000);
    expect(bound).toBeCloseTo((input * 0.15 + 1_000 * 3.5) / 1e6, 9);
    expect(bound).toBeGreaterThanOrEqual(computeCost({ inputTokens: input, outputTokens: 1_000, totalTokens: input + 1_000, reasoningTokens: 1_000 }, price).totalUsd);
  });

  it('picks the tier from the prompt bound: a prompt bounded at the threshold is billed at most at it, so its reservation at the short-prompt rates covers the call', () => {
    // The bound is one token a byte plus framing, more than any tokenizer makes of the text: a prompt it puts at or
    // under a threshold is billed at or under it, so the tier never applies to the settlement and not to the reservation.
    const d = { name: 'g', price: longContext, config: { maxOutputTokens: 65_536 } } as unknown as DeploymentInfo;
    const request = { ...prompt(200_000), maxTokens: 65_536 };
    expect(estimateInputTokens(request)).toBe(200_000);
    const reserved = estimateMaxCostUsd(request, [d], 65_536);
    // 200 000 x $1.25/1M + 65 536 x $10/1M: the short-prompt rates.
    expect(reserved).toBeCloseTo(0.90536, 9);
    // The most the call can be billed: the whole bound, not above the threshold.
    const billed = computeCost({ inputTokens: 200_000, outputTokens: 65_536, totalTokens: 265_536 }, longContext).totalUsd;
    expect(billed).toBeLessThanOrEqual(reserved);
    // One byte more and the bound is above the threshold: the whole call is reserved at the tier
    // (200 001 x $2.50/1M + 65 536 x $15/1M), what it would settle at if billed there.
    const longer = { ...prompt(200_001), maxTokens: 65_536 };
    expect(estimateMaxCostUsd(longer, [d], 65_536)).toBeCloseTo(1.4830425, 9);
    expect(computeCost({ inputTokens: 200_001, outputTokens: 65_536, totalTokens: 265_537 }, longContext).totalUsd).toBeCloseTo(1.4830425, 9);
    // An over-estimated prompt (bounded above, billed below the threshold) is reserved at the tier.
    const over = prompt(200_010);
    expect(estimateInputTokens(over)).toBeGreaterThan(200_000);
    expect(estimateMaxCostUsd(over, [gemini(longContext)], 1_000)).toBeCloseTo((estimateInputTokens(over) * 2.5 + 1_000 * 15) / 1e6, 9);
  });
});

describe('the tokens-per-minute bound (estimateRequestTokenBound)', () => {
  const capped = (name: string, maxOutputTokens?: number) => ({ name, config: maxOutputTokens === undefined ? {} : { maxOutputTokens } }) as unknown as DeploymentInfo;
  const small = capped('small', 10);
  const large = capped('large');
  const cascade = { name: 'cas', config: {}, cascade: { weak: 'small', strong: 'large' } } as unknown as DeploymentInfo;
  const steps = new Map([
    ['small', [small]],
    ['large', [large]],
  ]);
  const verify = { mode: 'verify' as const, deployments: [] };
  const adapt = { mode: 'adapt' as const, deployments: [] };

  it('one call: the prompt and the output bound (max_tokens at the largest cap, else the default output)', () => {
    expect(estimateRequestTokenBound({ messages: [], maxTokens: 500 }, [small], 1000, 256)).toBe(1000 + 10);
    expect(estimateRequestTokenBound({ messages: [], maxTokens: 500 }, [small, large], 1000, 256)).toBe(1000 + 500);
    expect(estimateRequestTokenBound({ messages: [] }, [small], 1000, 256)).toBe(1000 + 256);
  });

  it('a cascade: the prompt sent to both steps and each step\u2019s own output bound', () => {
    expect(estimateRequestTokenBound({ messages: [], maxTokens: 500 }, [cascade, small, large], 1000, 256, steps)).toBe(2 * 1000 + 10 + 500);
    expect(estimateRequestTokenBound({ messages: [] }, [cascade, small, large], 1000, 256, steps)).toBe(2 * 1000 + 256 + 256);
  });

  it('a model guard: one guard call per lookup (two for a cascade), its prompt 256 + the prompt, the cached question (1.5 prompts) and twice the output bound', () => {
    expect(CACHED_QUESTION_FACTOR).toBe(1.5);
    const guardCall = (out: number) => 256 + 1000 + 1500 + 2 * 500 + out;
    expect(estimateRequestTokenBound({ messages: [], maxTokens: 500 }, [large], 1000, 256, undefined, verify)).toBe(1000 + 500 + guardCall(3));
    expect(estimateRequestTokenBound({ messages: [], maxTokens: 500 }, [large], 1000, 256, undefined, adapt)).toBe(1000 + 500 + guardCall(500));
    expect(estimateRequestTokenBound({ messages: [], maxTokens: 500 }, [cascade, small, large], 1000, 256, steps, verify)).toBe(2 * 1000 + 10 + 500 + 2 * guardCall(3));
  });

  it('a max_tokens above every candidate\u2019s cap counts at the largest cap in the guard call too (twice the output bound); an adapt rewrite at the guard model\u2019s cap', () => {
    // A candidate the router sends at most 4096 output tokens (core's `outputCap`): a cached answer of it is no longer.
    const big = capped('big', 4096);
    const maxTokens = 1_000_000;
    const guardCall = (out: number) => 256 + 100 + 150 + 2 * 4096 + out;
    expect(estimateRequestTokenBound({ messages: [], maxTokens }, [big], 100, 256, undefined, verify)).toBe(100 + 4096 + guardCall(3));
    // The rewrite is the guard model's call, capped by its own `maxOutputTokens`, not the candidates'.
    const judge = { mode: 'adapt' as const, deployments: [capped('judge', 8192)] };
    expect(estimateRequestTokenBound({ messages: [], maxTokens }, [big], 100, 256, undefined, judge)).toBe(100 + 4096 + guardCall(8192));
  });
});

describe('the budget bound of a guard call (estimateGuardMaxCostUsd)', () => {
  const deployment = (name: string, maxOutputTokens: number, price: { input: number; output: number }) => ({ name, price, config: { maxOutputTokens } }) as unknown as DeploymentInfo;
  it('prices the cached answer in its prompt at the candidates\u2019 output bound, and an adapt rewrite at the guard model\u2019s cap', () => {
    const candidates = [deployment('big', 4096, { input: 1, output: 1 })];
    const judge = deployment('judge', 8192, { input: 10, output: 40 });
    const request: GenerateRequest = { messages: [], maxTokens: 1_000_000 };
    const prompt = 256 + 100 + 150 + 2 * 4096;
    expect(estimateGuardMaxCostUsd(request, { mode: 'verify', deployments: [judge] }, 256, 100, candidates)).toBeCloseTo((prompt * 10 + 3 * 40) / 1e6, 12);
    expect(estimateGuardMaxCostUsd(request, { mode: 'adapt', deployments: [judge] }, 256, 100, candidates)).toBeCloseTo((prompt * 10 + 8192 * 40) / 1e6, 12);
  });
});

describe('the cost bound of requests with prompt-cache marks', () => {
  const m5 = { type: 'ephemeral' } as const;
  const m1h = { type: 'ephemeral', ttl: '1h' } as const;
  const claude = { name: 'claude', price: { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 }, config: {} } as unknown as DeploymentInfo;
  const gpt = { name: 'gpt', price: { input: 2.5, output: 10, cachedInput: 1.25 }, config: {} } as unknown as DeploymentInfo;
  const base: GenerateRequest = {
    messages: [
      { role: 'system', content: 'A long and stable system prompt. '.repeat(20) },
      { role: 'user', content: [{ type: 'text', text: 'The question' }] },
    ],
    tools: [{ name: 'lookup', parameters: { type: 'object' } }],
    maxTokens: 100,
  };
  const tokens = estimateInputTokens(base);
  const bound = (request: GenerateRequest, d: DeploymentInfo[]) => estimateMaxCostUsd(request, d, 50);

  it('finds marks on the request, messages, parts and tools, and in provider options verbatim; 1h wins', () => {
    expect(promptCacheMark(base)).toBeUndefined();
    expect(promptCacheMark({ ...base, cacheControl: m5 })).toBe('5m');
    expect(promptCacheMark({ ...base, messages: [{ role: 'system', content: 'S', cacheControl: m1h }, ...base.messages] })).toBe('1h');
    expect(promptCacheMark({ ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cacheControl: m5 }] }] })).toBe('5m');
    expect(promptCacheMark({ ...base, tools: [{ name: 't', parameters: {}, cacheControl: m1h }] })).toBe('1h');
    expect(promptCacheMark({ ...base, tools: [{ name: 't', parameters: {}, cacheControl: m5 }], cacheControl: m1h })).toBe('1h');
    const verbatim = (cache_control: unknown): GenerateRequest => ({ ...base, providerOptions: { anthropic: { system: [{ type: 'text', text: 'S', cache_control }] } } });
    expect(promptCacheMark(verbatim(m1h))).toBe('1h');
    expect(promptCacheMark(verbatim(m5))).toBe('5m');
    expect(promptCacheMark(verbatim(null))).toBeUndefined(); // null is no mark (as Anthropic reads it)
    expect(promptCacheMark({ ...base, providerOptions: { anthropic: { cache_control: m5 } } })).toBe('5m');
  });

  it('leaves the bound of an unmarked request exactly as before: all input at the input rate', () => {
    expect(bound(base, [claude])).toBe((tokens * 3 + 100 * 15) / 1_000_000);
    expect(bound(base, [claude, gpt])).toBe((tokens * 3 + 100 * 15) / 1_000_000);
  });

  it('prices the prompt of a request with 5-minute marks at cacheWrite, with a 1-hour mark at cacheWrite1h', () => {
    const five = { ...base, messages: [{ ...base.messages[0]!, cacheControl: m5 }, base.messages[1]!] } as GenerateRequest;
    const hour = { ...base, tools: [{ ...base.tools![0]!, cacheControl: m1h }] };
    expect(bound(five, [claude])).toBe((tokens * 3.75 + 100 * 15) / 1_000_000);
    // (a marked tool's JSON is a few bytes longer: the estimate counts them)
    const hourTokens = estimateInputTokens(hour);
    expect(bound(hour, [claude])).toBe((hourTokens * 6 + 100 * 15) / 1_000_000);
    expect(bound({ ...base, cacheControl: m5 }, [claude])).toBe((tokens * 3.75 + 100 * 15) / 1_000_000);
    expect(bound({ ...base, cacheControl: m5 }, [claude, gpt])).toBe((tokens * 3.75 + 100 * 15) / 1_000_000);
  });

  it('is at least what computeCost charges when the whole estimated prompt is written to the cache', () => {
    const hour = { ...base, cacheControl: m1h };
    const five = { ...base, cacheControl: m5 };
    const usage = (writes1h: number) => ({ inputTokens: tokens, outputTokens: 100, totalTokens: tokens + 100, cacheWriteInputTokens: tokens, cacheWrite1hInputTokens: writes1h });
    expect(bound(hour, [claude])).toBeGreaterThanOrEqual(computeCost(usage(tokens), claude.price).totalUsd);
    expect(bound(five, [claude])).toBeGreaterThanOrEqual(computeCost(usage(0), claude.price).totalUsd);
    // Without the marks' rates the old bound fell short of that cost.
    expect(bound(base, [claude])).toBeLessThan(computeCost(usage(tokens), claude.price).totalUsd);
  });

  it('a deployment without write prices keeps the input rate (a mark cannot make it dearer)', () => {
    const hour = { ...base, cacheControl: m1h };
    expect(bound(hour, [gpt])).toBe(bound(base, [gpt]));
  });

  it('falls back as ModelPrice documents: cacheWrite1h -> cacheWrite -> input, never below input', () => {
    const p = (price: Record<string, number>) => ({ input: 2, output: 1, ...price });
    expect(maxInputRate(p({}), undefined)).toBe(2);
    expect(maxInputRate(p({ cacheWrite: 9, cacheWrite1h: 20 }), undefined)).toBe(2);
    expect(maxInputRate(p({}), '1h')).toBe(2);
    expect(maxInputRate(p({ cacheWrite: 2.5 }), '1h')).toBe(2.5);
    expect(maxInputRate(p({ cacheWrite: 2.5 }), '5m')).toBe(2.5);
    expect(maxInputRate(p({ cacheWrite1h: 4 }), '5m')).toBe(2);
    expect(maxInputRate(p({ cacheWrite1h: 4 }), '1h')).toBe(4);
    // A 1-hour mark allows 5-minute writes after it: the dearer of the two when a table prices them oddly.
    expect(maxInputRate(p({ cacheWrite: 5, cacheWrite1h: 3 }), '1h')).toBe(5);
    expect(maxInputRate(p({ cacheWrite: 1, cacheWrite1h: 1.5 }), '5m')).toBe(2);
  });
});

