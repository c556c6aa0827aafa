import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../config/schema.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { OpenAICompatibleEngine } from '../engines/openai-compatible/openai-compatible-engine.js';
import { defaultEngineContext } from '../engines/types.js';
import { startAnthropicWireServer } from '../test/anthropic-wire-server.js';
import { startGeminiWireServer } from '../test/gemini-wire-server.js';
import { startOpenAIWireServer } from '../test/openai-wire-server.js';
import { LLMError } from '../errors/llm-error.js';
import type { CallOptions, GenerateRequest, GenerateResult, LanguageEngine, StreamPart } from '../spec/index.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import { LLMRouter } from './llm-router.js';
import type { RouterStreamPart } from './types.js';

/** An engine whose stream is the given script; `generate` answers plainly. */
function scripted(script: (signal: AbortSignal | undefined) => AsyncIterable<StreamPart>): LanguageEngine {
  return {
    specVersion: 'v1',
    provider: 'scripted',
    modelId: 'scripted',
    capabilities: { streaming: true },
    generate: async (_r: GenerateRequest): Promise<GenerateResult> => ({
      text: 'ok',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    }),
    stream: (_r: GenerateRequest, o?: CallOptions) => script(o?.signal),
  };
}

describe('LLMRouter review: no listeners or timers left behind', () => {
  it('1,000 calls on one long-lived signal leave no abort listener on it (generate, stream, retries, timeouts, hedging)', async () => {
    const controller = new AbortController();
    const signal = controller.signal;
    const router = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'mock', priority: 1 },
          { name: 'b', engine: 'mock', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 }, timeouts: { firstTokenMs: 60_000, totalMs: 60_000 } },
      },
      {
        engines: {
          a: new MockEngine({ reply: 'one two', failures: [{ code: 'provider_unavailable', times: 100 }] }),
          b: new MockEngine({ reply: 'three four' }),
        },
        sleep: async () => {},
      },
    );
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    for (let i = 0; i < 500; i++) {
      await router.generate(`g ${i}`, { signal, cache: false });
      await collect(router.stream(`s ${i}`, { signal, cache: false }));
    }
    // A consumer that stops early.
    for (let i = 0; i < 100; i++) {
      for await (const p of router.stream(`b ${i}`, { signal, cache: false })) if (p.type === 'text-delta') break;
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    // Every attempt armed two 60 s timers: none may outlive its call (a leak would leave ~2,000).
    expect(timers() - timersBefore).toBeLessThan(5);

    const hedged = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'mock', priority: 1 },
          { name: 'b', engine: 'mock', priority: 2 },
        ],
        routing: { strategy: 'priority', hedging: { enabled: true, delayMs: 1 } },
      },
      { engines: { a: new MockEngine({ reply: 'x', delayMs: 5 }), b: new MockEngine({ reply: 'y' }) } },
    );
    for (let i = 0; i < 50; i++) {
      await hedged.generate(`h ${i}`, { signal, cache: false });
      await collect(hedged.stream(`hs ${i}`, { signal, cache: false }));
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});

describe('LLMRouter review: streams never end silently', () => {
  it('a stream whose iterator is closed before the first next() still settles result and ends the request', { timeout: 3000 }, async () => {
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }] }, { engines: { a: new MockEngine({ reply: 'hi' }) } });
    const ends: unknown[] = [];
    router.on('request:end', (e) => ends.push(e));
    const s = router.stream('x', { cache: false });
    const it = s[Symbol.asyncIterator]();
    await it.return?.();
    const err = await rejection(s.result);
    expect(err.code).toBe('aborted');
    expect(ends).toHaveLength(1);
  });

  it('an engine that throws from next() after the first content ends with an error part', async () => {
    const router = new LLMRouter(
      { models: [{ name: 'a', engine: 'mock', priority: 1 }, { name: 'b', engine: 'mock', priority: 2 }], routing: { strategy: 'priority' } },
      {
        engines: {
          a: scripted(async function* () {
            yield { type: 'text-delta', delta: 'half' };
            throw new Error('socket hang up');
          }),
          b: new MockEngine({ reply: 'never' }),
        },
      },
    );
    const s = router.stream('x', { cache: false });
    const parts = await collect(s);
    expect(parts.map((p) => p.type)).toEqual(['route', 'text-delta', 'error']);
    expect((parts.at(-1) as Extract<RouterStreamPart, { type: 'error' }>).error.deployment).toBe('a');
    await rejection(s.result);
  });

  it('a caller abort during the retry backoff ends a stream at once with one aborted error part', async () => {
    const controller = new AbortController();
    const router = new LLMRouter(
      { models: [{ name: 'a', engine: 'mock' }], routing: { retries: { max: 3, initialDelayMs: 600_000, maxDelayMs: 600_000, jitter: false } } },
      { engines: { a: new MockEngine({ failures: [{ code: 'provider_unavailable', times: 5 }] }) } },
    );
    router.on('retry', () => setImmediate(() => controller.abort()));
    const parts = await collect(router.stream('x', { signal: controller.signal, cache: false }));
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ type: 'error', error: { code: 'aborted' } });
  });

  it('a caller timeout signal after the first byte is a timeout error part, a plain abort is aborted', async () => {
    const hang = scripted(async function* (signal) {
      yield { type: 'text-delta', delta: 'first' };
      await new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
    });
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }] }, { engines: { a: hang } });
    const t = await collect(router.stream('x', { signal: AbortSignal.timeout(30), cache: false }));
    expect(t.at(-1)).toMatchObject({ type: 'error', error: { code: 'timeout' } });
    const c = new AbortController();
    const s = router.stream('y', { signal: c.signal, cache: false });
    const parts: RouterStreamPart[] = [];
    for await (const p of s) {
      parts.push(p);
      if (p.type === 'text-delta') c.abort();
    }
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted' } });
    expect(LLMError.isInstance((parts.at(-1) as { error: unknown }).error)).toBe(true);
  });
});

describe('LLMRouter review: a real HTTP engine on a long-lived signal', () => {
  it('300 router calls over the OpenAI wire (generate, stream, early break) leave no abort listener on the caller signal', async () => {
    const server = await startOpenAIWireServer({ script: { text: 'one two three four' } });
    try {
      const model = ModelConfigSchema.parse({ name: 'w', model: 'gpt-test', baseURL: server.baseURL, apiKey: 'k' });
      const engine = new OpenAICompatibleEngine(model, defaultEngineContext({ env: {} }));
      // (An engine called directly hands the caller's signal to fetch, whose listeners undici removes only
      // when the request is garbage-collected; through the router each attempt has its own signal.)
      const signal = new AbortController().signal;
      const router = new LLMRouter(
        { models: [{ name: 'w', engine: 'openai-compatible', model: 'gpt-test', baseURL: server.baseURL, apiKey: 'k' }], routing: { timeouts: { totalMs: 60_000 } } },
        { engines: { w: engine } },
      );
      for (let i = 0; i < 100; i++) {
        await router.generate(`rg${i}`, { signal, cache: false });
        await collect(router.stream(`rs${i}`, { signal, cache: false }));
        for await (const p of router.stream(`rb${i}`, { signal, cache: false })) if (p.type === 'text-delta') break;
      }
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});

describe('LLMRouter review: hedging settles every attempt exactly once', () => {
  it('after hedged generate and stream calls (winner, loser, early break, abort) no deployment has a call in flight', async () => {
    const router = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'mock', priority: 1 },
          { name: 'b', engine: 'mock', priority: 2 },
        ],
        routing: { strategy: 'priority', hedging: { enabled: true, delayMs: 1 } },
      },
      { engines: { a: new MockEngine({ reply: 'slow answer', delayMs: 30 }), b: new MockEngine({ reply: 'fast answer here', chunkDelayMs: 1 }) } },
    );
    const winners = new Set<string>();
    for (let i = 0; i < 10; i++) {
      winners.add((await router.generate(`g${i}`, { cache: false })).deployment);
      const s = router.stream(`s${i}`, { cache: false });
      await collect(s);
      winners.add((await s.result).deployment);
      for await (const p of router.stream(`b${i}`, { cache: false })) if (p.type === 'text-delta') break;
      const c = new AbortController();
      const aborted = router.stream(`a${i}`, { signal: c.signal, cache: false });
      setTimeout(() => c.abort(), 2);
      const parts = await collect(aborted);
      expect(parts.at(-1)?.type === 'finish' || parts.at(-1)?.type === 'error').toBe(true);
    }
    expect(winners.has('b')).toBe(true);
    // Losers settle asynchronously once cancelled: give them a few turns.
    for (let i = 0; i < 50 && Object.values(router.stats()).some((s) => s.inFlight !== 0); i++) await new Promise((r) => setTimeout(r, 10));
    for (const s of Object.values(router.stats())) expect(s.inFlight).toBe(0);
  });
});

describe('LLMRouter review: Retry-After as an HTTP date', () => {
  it('a 429 with an HTTP-date Retry-After is waited out (not the backoff), then the same deployment answers', async () => {
    const server = await startOpenAIWireServer({
      script: (_r, n) =>
        n === 0
          ? { error: { status: 429, message: 'slow down', type: 'rate_limit_error', headers: { 'retry-after': new Date(Date.now() + 5_000).toUTCString() } } }
          : { text: 'after the wait' },
    });
    try {
      const sleeps: number[] = [];
      const router = new LLMRouter(
        {
          models: [{ name: 'w', engine: 'openai-compatible', model: 'gpt-test', baseURL: server.baseURL, apiKey: 'k' }],
          routing: { retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 } },
        },
        { sleep: async (ms) => void sleeps.push(ms) },
      );
      const r = await router.generate('x', { cache: false });
      expect(r.text).toBe('after the wait');
      expect(sleeps).toHaveLength(1);
      // Second resolution of HTTP dates: between 3 and 5 s from now, never the 1 ms backoff.
      expect(sleeps[0]).toBeGreaterThan(3_000);
      expect(sleeps[0]).toBeLessThanOrEqual(5_000);
    } finally {
      await server.close();
    }
  });
});

describe('LLMRouter review: streamed and non-streamed usage agree (OpenAI wire)', () => {
  const scripts = {
    'tool calls, cached and reasoning tokens': {
      reasoning: 'thinking it over',
      text: '',
      toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"weather in Paris"}' }],
      usage: { prompt_tokens: 40, completion_tokens: 25, prompt_tokens_details: { cached_tokens: 32 }, completion_tokens_details: { reasoning_tokens: 9 } },
      streamUsage: 'always' as const,
    },
    'no usage reported (estimated)': { reasoning: 'hmm', text: 'an answer of several words', usage: null, streamUsage: 'never' as const },
  };
  for (const [name, script] of Object.entries(scripts)) {
    it(`${name}: same usage, cost, text and tool calls`, async () => {
      const server = await startOpenAIWireServer({ script });
      try {
        const router = new LLMRouter(
          {
            models: [
              {
                name: 'w',
                engine: 'openai-compatible',
                model: 'gpt-test',
                baseURL: server.baseURL,
                apiKey: 'k',
                price: { input: 2.5, cachedInput: 1.25, output: 10 },
              },
            ],
          },
          {},
        );
        const request = { messages: [{ role: 'user' as const, content: 'what is the weather in Paris?' }], tools: [{ name: 'lookup', parameters: { type: 'object' } }] };
        const g = await router.generate(request, { cache: false });
        const s = router.stream(request, { cache: false });
        await collect(s);
        const sr = await s.result;
        expect(sr.usage).toEqual(g.usage);
        expect(sr.cost).toEqual(g.cost);
        expect(sr.text).toBe(g.text);
        expect(sr.reasoning).toBe(g.reasoning);
        expect(sr.toolCalls).toEqual(g.toolCalls);
        expect(sr.finishReason).toBe(g.finishReason);
      } finally {
        await server.close();
      }
    });
  }
});

describe("LLMRouter review: the caller's own deadline", () => {
  function hanging(): LanguageEngine & { calls: number } {
    const engine = {
      ...scripted(async function* (signal) {
        await new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }),
      calls: 0,
      generate(_r: GenerateRequest, o?: CallOptions): Promise<GenerateResult> {
        engine.calls++;
        return new Promise((_, reject) => o?.signal?.addEventListener('abort', () => reject(o.signal!.reason), { once: true }));
      },
    };
    return engine;
  }

  it('a caller AbortSignal.timeout is a timeout for the caller, but no retry, no fallback and no strike against the deployment', async () => {
    const a = hanging();
    const b = new MockEngine({ reply: 'b' });
    const router = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'mock', priority: 1 },
          { name: 'b', engine: 'mock', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 }, circuitBreaker: { failureThreshold: 1 } },
      },
      { engines: { a, b } },
    );
    const events: string[] = [];
    for (const n of ['retry', 'fallback', 'circuit', 'attempt:error'] as const) router.on(n, () => events.push(n));
    const err = await rejection(router.generate('x', { signal: AbortSignal.timeout(30), cache: false }));
    expect(err.code).toBe('timeout');
    expect(a.calls).toBe(1);
    expect(b.calls).toBe(0);
    expect(events.filter((e) => e !== 'attempt:error')).toEqual([]);
    // The circuit of `a` is still closed: the next call goes to it.
    const s = router.stream('y', { signal: AbortSignal.timeout(30), cache: false });
    const parts = await collect(s);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'timeout' } });
    expect(b.calls).toBe(0);
    expect(events.filter((e) => e !== 'attempt:error')).toEqual([]);
  });
});

describe('LLMRouter review: streamed and non-streamed usage agree (Anthropic and Gemini wire)', () => {
  const request = { messages: [{ role: 'user' as const, content: 'weather in Paris?' }], tools: [{ name: 'lookup', parameters: { type: 'object' } }] };
  const price = { input: 3, cachedInput: 0.3, output: 15 };

  async function compare(router: LLMRouter) {
    const g = await router.generate(request, { cache: false });
    const s = router.stream(request, { cache: false });
    await collect(s);
    const sr = await s.result;
    expect(sr.usage).toEqual(g.usage);
    expect(sr.cost).toEqual(g.cost);
    expect(sr.text).toBe(g.text);
    expect(sr.reasoning).toBe(g.reasoning);
    expect(sr.toolCalls.map((t) => ({ ...t, arguments: JSON.parse(t.arguments) as unknown }))).toEqual(
      g.toolCalls.map((t) => ({ ...t, arguments: JSON.parse(t.arguments) as unknown })),
    );
    expect(sr.finishReason).toBe(g.finishReason);
    return g;
  }

  it('anthropic: thinking, text, a tool call and prompt-cache tokens', async () => {
    const reply = {
      content: [
        { type: 'thinking' as const, thinking: 'let me look it up' },
        { type: 'text' as const, text: 'Checking.' },
        { type: 'tool_use' as const, id: 'toolu_1', name: 'lookup', input: { q: 'Paris' } },
      ],
      usage: { input_tokens: 20, output_tokens: 30, cache_creation_input_tokens: 5, cache_read_input_tokens: 100 },
      chunks: 3,
    };
    const server = await startAnthropicWireServer({ handler: () => reply });
    try {
      const router = new LLMRouter({ models: [{ name: 'c', engine: 'anthropic', model: 'claude-test-1', baseURL: server.url, apiKey: 'sk-ant-test', price }] });
      const g = await compare(router);
      expect(g.usage).toMatchObject({ inputTokens: 125, cachedInputTokens: 100, outputTokens: 30 });
    } finally {
      await server.close();
    }
  });

  it('gemini: thoughts, text, a function call, cached and thinking tokens', async () => {
    const reply = {
      parts: [{ text: 'pondering', thought: true }, { text: 'Checking the weather.' }, { functionCall: { name: 'lookup', args: { q: 'Paris' } } }],
      usage: { promptTokenCount: 50, candidatesTokenCount: 12, cachedContentTokenCount: 40, thoughtsTokenCount: 7 },
      chunks: 2,
      responseId: 'resp-1',
    };
    const server = await startGeminiWireServer({ handler: () => reply });
    try {
      const router = new LLMRouter({ models: [{ name: 'g', engine: 'gemini', model: 'gemini-test', baseURL: server.url, apiKey: 'gm-test', price }] });
      const g = await compare(router);
      expect(g.usage).toMatchObject({ inputTokens: 50, cachedInputTokens: 40, outputTokens: 19, reasoningTokens: 7 });
    } finally {
      await server.close();
    }
  });
});
