import { afterEach, describe, expect, it } from 'vitest';
import '../index.js';
import type { LLMError } from '../../errors/llm-error.js';
import { LLMRouter } from '../../router/llm-router.js';
import { collect, rejection } from '../../test/async.test-helpers.js';
import { createMockEngine, MockEngine } from './mock-engine.js';

const hello = { messages: [{ role: 'user' as const, content: 'hello there' }] };

describe('mock engine', () => {
  it('answers, streams and embeds deterministically, counting words as tokens', async () => {
    const e = new MockEngine();
    expect(await e.generate(hello)).toMatchObject({ text: 'Mock answer to: hello there', finishReason: 'stop', usage: { inputTokens: 2, outputTokens: 5, totalTokens: 7 } });
    const parts = await collect(e.stream(hello));
    expect(parts.flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('')).toBe('Mock answer to: hello there');
    const a = await e.embed(['the cat sat', 'a dog']);
    expect(a.embeddings).toHaveLength(2);
    expect(a.embeddings[0]).toHaveLength(64);
    expect(Math.hypot(...a.embeddings[0]!)).toBeCloseTo(1, 9);
    expect(a.usage).toEqual({ inputTokens: 5, outputTokens: 0, totalTokens: 5 });
    expect((await e.embed(['the cat sat'])).embeddings[0]).toEqual(a.embeddings[0]);
    expect([e.calls, e.embedCalls]).toEqual([2, 2]);
  });

  it('embed makes vectors of the dimensions asked (normalized, deterministic), up to 4096; it has no embedTokens', async () => {
    const e = new MockEngine();
    expect([e.embedDimensions, 'embedTokens' in e]).toEqual([true, false]);
    const short = await e.embed(['the cat sat', 'a dog'], { dimensions: 5 });
    expect(short.embeddings.map((v) => v.length)).toEqual([5, 5]);
    expect(Math.hypot(...short.embeddings[0]!)).toBeCloseTo(1, 9);
    expect((await e.embed(['the cat sat'], { dimensions: 5 })).embeddings[0]).toEqual(short.embeddings[0]);
    expect((await e.embed(['the cat sat'], { dimensions: 4096 })).embeddings[0]).toHaveLength(4096);
    // Asking 64 is the default.
    expect((await e.embed(['a dog'], { dimensions: 64 })).embeddings[0]).toEqual((await e.embed(['a dog'])).embeddings[0]);
    for (const dimensions of [0, 4097, 2.5]) {
      expect(await rejection(e.embed(['x'], { dimensions }))).toMatchObject({ code: 'unsupported', param: 'dimensions' });
    }
  });

  it('embed takes scripted failures in turn with generate, then succeeds', async () => {
    const e = new MockEngine({
      failures: [
        { code: 'provider_unavailable', times: 2, message: 'overloaded' },
        { code: 'rate_limited', retryAfterMs: 1500 },
      ],
    });
    const first = await rejection(e.embed(['x']));
    expect(first).toMatchObject({ code: 'provider_unavailable', message: 'overloaded', provider: 'mock', isRetryable: true });
    expect((await rejection(e.generate(hello))).code).toBe('provider_unavailable');
    expect(await rejection(e.embed(['x']))).toMatchObject({ code: 'rate_limited', retryAfterMs: 1500 });
    expect((await e.embed(['x'])).embeddings).toHaveLength(1);
    expect(e.embedCalls).toBe(3);
  });

  it('embed honours the abort signal: already aborted, and aborted while it waits', async () => {
    const e = new MockEngine({ delayMs: 60_000 });
    const aborted = new AbortController();
    aborted.abort();
    expect(await rejection(e.embed(['x'], { signal: aborted.signal }))).toMatchObject({ code: 'aborted', provider: 'mock' });
    const later = new AbortController();
    const pending = e.embed(['x'], { signal: later.signal });
    later.abort();
    expect((await rejection(pending)).code).toBe('aborted');
    // A scripted failure is used up by an aborted call too, as for generate.
    const f = new MockEngine({ failures: [{ code: 'provider_error' }] });
    expect((await rejection(f.embed(['x'], { signal: aborted.signal }))).code).toBe('aborted');
    expect((await f.embed(['x'])).embeddings).toHaveLength(1);
  });

  it('stream() honours an already aborted signal as generate() does, a tool-call answer and a scripted failure included', async () => {
    const withTool = {
      ...hello,
      tools: [{ name: 'weather', description: 'the weather', parameters: { type: 'object', properties: {} } }],
      toolChoice: 'required' as const,
    };
    const aborted = new AbortController();
    aborted.abort();
    const e = new MockEngine();
    for (const request of [withTool, hello]) {
      expect((await rejection(e.generate(request, { signal: aborted.signal }))).code).toBe('aborted');
      // Nothing is answered: only the abort (engine spec, Failure contract: both generate and stream honour the signal).
      const parts = await collect(e.stream(request, { signal: aborted.signal }));
      expect(parts).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'aborted', provider: 'mock' }) }]);
    }
    // An aborted stream uses up a scripted failure too, as generate does, and reports the abort.
    const f = new MockEngine({ failures: [{ code: 'provider_error' }] });
    expect(await collect(f.stream(hello, { signal: aborted.signal }))).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'aborted' }) }]);
    expect((await f.generate(hello)).text).toBe('Mock answer to: hello there');
  });

  it('embed waits delayMs before answering', async () => {
    const e = new MockEngine({ delayMs: 30 });
    const started = Date.now();
    await e.embed(['x']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});

describe('mock engine: reasoning', () => {
  const ask = (reasoning: unknown) => ({ ...hello, reasoning }) as Parameters<MockEngine['generate']>[0];

  it('answers a line of reasoning naming the effort or budget (generate and stream), counted as reasoning tokens', async () => {
    const e = new MockEngine();
    const r = await e.generate(ask({ effort: 'high' }));
    expect(r).toMatchObject({ text: 'Mock answer to: hello there', reasoning: 'Mock reasoning at effort high.', usage: { outputTokens: 10, reasoningTokens: 5 } });
    const parts = await collect(e.stream(ask({ budgetTokens: 2048 })));
    expect(parts.map((p) => p.type).slice(0, 3)).toEqual(['response-metadata', 'reasoning-delta', 'text-delta']);
    expect(parts[1]).toEqual({ type: 'reasoning-delta', delta: 'Mock reasoning within 2048 tokens.' });
  });

  it('no thinking asked (none, 0, absent): no reasoning; a bad value rejects naming the field', async () => {
    const e = new MockEngine();
    expect((await e.generate(ask({ effort: 'none' }))).reasoning).toBeUndefined();
    expect((await e.generate(ask({ budgetTokens: 0 }))).usage.reasoningTokens).toBeUndefined();
    expect(await rejection(e.generate(ask({ effort: 'x' })))).toMatchObject({ code: 'invalid_request', param: 'reasoning.effort' });
  });
});

describe('mock engine: scripted warnings', () => {
  const W = [{ code: 'setting_not_sent', field: 'seed', message: 'seed was not sent.' }];

  it('sampling settings, penalties included, are ignored by design and say nothing; parallelToolCalls false holds (one call at most)', async () => {
    const e = new MockEngine({ toolArguments: { city: 'Paris' } });
    const request = {
      ...hello,
      temperature: 0.2,
      frequencyPenalty: 1.5,
      presencePenalty: -1,
      parallelToolCalls: false,
      tools: [{ name: 'weather', parameters: { type: 'object' } }, { name: 'time', parameters: { type: 'object' } }],
    };
    const r = await e.generate(request);
    expect(r).not.toHaveProperty('warnings');
    expect(r.toolCalls).toHaveLength(1);
    const parts = await collect(e.stream(request));
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
    expect(parts.filter((p) => p.type === 'tool-call')).toHaveLength(1);
    expect((await e.generate({ ...hello, frequencyPenalty: 2 })).text).toBe((await e.generate(hello)).text);
  });

  it('none unless scripted: no warnings field, no warnings part', async () => {
    const e = new MockEngine();
    const r = await e.generate({ messages: [{ role: 'user', content: 'hi' }], seed: 1, temperature: 0.3, user: 'u' });
    expect(r).not.toHaveProperty('warnings');
    const parts = await collect(e.stream({ messages: [{ role: 'user', content: 'hi' }], seed: 1 }));
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
  });

  it('scripted: on every result (a copy), and as the first stream part, before a scripted failure too', async () => {
    const e = new MockEngine({ warnings: W, failures: [{ code: 'overloaded', afterChunks: 0 }] });
    const failed = await collect(e.stream({ messages: [{ role: 'user', content: 'hi' }] }));
    expect(failed.map((p) => p.type)).toEqual(['warnings', 'error']);
    const parts = await collect(e.stream({ messages: [{ role: 'user', content: 'hi' }] }));
    expect(parts[0]).toEqual({ type: 'warnings', warnings: W });
    expect(parts.filter((p) => p.type === 'warnings')).toHaveLength(1);
    expect(parts.at(-1)?.type).toBe('finish');
    const r = await e.generate({ messages: [{ role: 'user', content: 'hi' }] });
    expect(r.warnings).toEqual(W);
    expect(r.warnings).not.toBe(W);
  });
});

describe('mock engine: logitBias (its token id of a character is the code point; -100 bans it)', () => {
  const text = (parts: Array<{ type: string; delta?: string }>) => parts.flatMap((p) => (p.type === 'text-delta' ? [p.delta!] : [])).join('');

  it('a character at -100 never appears in the answer (generate and stream, a fixed reply too), without a warning', async () => {
    const e = new MockEngine();
    const banned = { ...hello, logitBias: { '101': -100, '32': -100 } };
    const r = await e.generate(banned);
    expect(r.text).toBe('Mockanswrto:hllothr');
    expect(r).not.toHaveProperty('warnings');
    const parts = await collect(e.stream(banned));
    expect(text(parts)).toBe(r.text);
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
    expect((await new MockEngine({ reply: 'yes or no' }).generate({ ...hello, logitBias: { '111': -100 } })).text).toBe('yes r n');
  });

  it('other biases are not applied, and said so; the ones at -100 still are', async () => {
    const e = new MockEngine({ reply: 'yes' });
    const r = await e.generate({ ...hello, logitBias: { '121': -100, '50256': 5, '9642': 100 } });
    expect(r.text).toBe('es');
    expect(r.warnings).toEqual([{ code: 'setting_not_sent', field: 'logitBias', message: 'logitBias was not applied to 2 tokens: the mock engine only bans a character (its code point as the token id) at -100.' }]);
    const parts = await collect(e.stream({ ...hello, logitBias: { '50256': -5 } }));
    expect(parts[0]).toMatchObject({ type: 'warnings', warnings: [{ field: 'logitBias' }] });
    expect(text(parts)).toBe('yes');
  });
});

describe('mock engine logprobs (the mock\'s own: each token is certain, logprob 0)', () => {
  const ask = (topLogprobs?: number) => ({ ...hello, logprobs: topLogprobs === undefined ? {} : { topLogprobs } });

  it('generate returns one logprob per streamed word, joined they are the text; none unless asked', async () => {
    const e = new MockEngine();
    expect((await e.generate(hello)).logprobs).toBeUndefined();
    const r = await e.generate(ask());
    expect(r.logprobs).toEqual(['Mock ', 'answer ', 'to: ', 'hello ', 'there'].map((token) => ({ token, logprob: 0 })));
    expect(r.logprobs!.map((t) => t.token).join('')).toBe(r.text);
    const top = await e.generate(ask(3));
    expect(top.logprobs![1]).toEqual({ token: 'answer ', logprob: 0, topLogprobs: [{ token: 'answer ', logprob: 0 }] });
    expect((await e.generate(ask(0))).logprobs![0]).toEqual({ token: 'Mock ', logprob: 0 });
  });

  it('stream emits a logprobs part right after each text-delta, with that delta\'s tokens', async () => {
    const e = new MockEngine({ wordsPerChunk: 2 });
    const parts = await collect(e.stream(ask(1)));
    const types = parts.map((p) => p.type);
    expect(types).toEqual(['response-metadata', 'text-delta', 'logprobs', 'text-delta', 'logprobs', 'text-delta', 'logprobs', 'finish']);
    parts.forEach((p, i) => {
      if (p.type !== 'logprobs') return;
      const before = parts[i - 1]!;
      expect(before.type).toBe('text-delta');
      expect(p.logprobs.map((t) => t.token).join('')).toBe(before.type === 'text-delta' ? before.delta : '');
      for (const t of p.logprobs) expect(t.topLogprobs).toEqual([{ token: t.token, logprob: 0 }]);
    });
    expect((await collect(e.stream(hello))).some((p) => p.type === 'logprobs')).toBe(false);
  });

  it('a tool-call answer has no text and no logprobs', async () => {
    const e = new MockEngine({ toolArguments: { q: 1 } });
    const tools = [{ name: 'lookup', parameters: { type: 'object' } }];
    const r = await e.generate({ ...ask(2), tools });
    expect(r.toolCalls).toHaveLength(1);
    expect(r.logprobs).toBeUndefined();
    expect((await collect(e.stream({ ...ask(2), tools }))).some((p) => p.type === 'logprobs')).toBe(false);
  });
});

describe('mock engine: maxTokens', () => {
  // Cut to 2 words, the JSON answer is not valid JSON: the finish reason must say it was cut.
  const cutJson = { messages: [{ role: 'user' as const, content: 'hello there my friend' }], maxTokens: 2, responseFormat: { type: 'json_object' as const } };

  it('generate: an answer cut at maxTokens ends with finishReason length', async () => {
    const result = await new MockEngine().generate(cutJson);
    expect(() => JSON.parse(result.text)).toThrow();
    expect(result.finishReason).toBe('length');
  });

  it('stream: an answer cut at maxTokens ends with finishReason length', async () => {
    const parts = await collect(new MockEngine().stream(cutJson));
    expect(parts.find((p) => p.type === 'finish')).toMatchObject({ finishReason: 'length' });
  });

  it('an answer that fits in maxTokens (exactly, or a fixed reply) ends with stop', async () => {
    const e = new MockEngine();
    // "Mock answer to: hello there" is 5 words.
    expect(await e.generate({ ...hello, maxTokens: 5 })).toMatchObject({ text: 'Mock answer to: hello there', finishReason: 'stop' });
    expect((await collect(e.stream({ ...hello, maxTokens: 5 }))).find((p) => p.type === 'finish')).toMatchObject({ finishReason: 'stop' });
    expect(await e.generate({ ...hello, maxTokens: 4 })).toMatchObject({ text: 'Mock answer to: hello', finishReason: 'length' });
    expect(await new MockEngine({ reply: 'one two three' }).generate({ ...hello, maxTokens: 1 })).toMatchObject({ finishReason: 'stop' });
  });
});

// The mock's options were never checked: a scripted failure with a code that is no error code made every call an
// `internal` TypeError naming no field; a misspelt option (`replly`) or one of the wrong type (`delayMs: 'slow'`) was
// ignored. They are refused when the router is built, as the gguf, onnx and gemini engines' options are.
describe('mock engine: options are checked when the router is built', () => {
  const routers: LLMRouter[] = [];
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
  });
  /** The router's construction error (code and param), or undefined when the config was accepted. */
  function buildError(options: Record<string, unknown>): { code: string; param: string | undefined } | undefined {
    try {
      routers.push(new LLMRouter({ models: [{ name: 'ok', engine: 'mock' }, { name: 'demo', engine: 'mock', options }] }));
      return undefined;
    } catch (e) {
      return { code: (e as LLMError).code, param: (e as LLMError).param };
    }
  }

  it('a scripted failure whose code is no error code is refused as config_invalid naming the field', () => {
    expect(buildError({ failures: [{ code: 'provider_error' }, { code: 'bogus' }] })).toEqual({ code: 'config_invalid', param: 'models.1.options.failures.1.code' });
    expect(buildError({ failures: [{ code: 'timeout', tims: 2 }] })).toEqual({ code: 'config_invalid', param: 'models.1.options.failures.0.tims' });
  });

  it('a misspelt option is refused as config_invalid naming it', () => {
    expect(buildError({ replly: 'Hello from the demo' })).toEqual({ code: 'config_invalid', param: 'models.1.options.replly' });
  });

  it('an option of the wrong type or range is refused as config_invalid naming it', () => {
    expect(buildError({ delayMs: 'slow' })).toEqual({ code: 'config_invalid', param: 'models.1.options.delayMs' });
    expect(buildError({ chunkDelayMs: -1 })).toEqual({ code: 'config_invalid', param: 'models.1.options.chunkDelayMs' });
    expect(buildError({ wordsPerChunk: 1.5 })).toEqual({ code: 'config_invalid', param: 'models.1.options.wordsPerChunk' });
    expect(buildError({ warnings: [{ code: 'setting_not_sent' }] })).toEqual({ code: 'config_invalid', param: 'models.1.options.warnings.0.message' });
    expect(routers).toHaveLength(0);
  });

  it('every documented option is taken; load() and the factory check them too', async () => {
    const options = {
      reply: 'fixed',
      delayMs: 0,
      chunkDelayMs: 0,
      wordsPerChunk: 2,
      toolArguments: { city: 'Paris' },
      failures: [{ code: 'provider_unavailable', message: 'down', times: 1, retryAfterMs: 10, afterChunks: 0 }],
      modelId: 'demo-1',
      warnings: [{ code: 'setting_not_sent', field: 'seed', message: 'no seed' }],
    };
    expect(buildError(options)).toBeUndefined();
    const router = routers[0]!;
    const result = await router.generate('hi', { model: 'demo' });
    expect(result).toMatchObject({ text: 'fixed', providerModel: 'demo-1', warnings: [{ code: 'setting_not_sent', field: 'seed' }] });
    expect(result.attempts.map((a) => [a.deployment, a.errorCode])).toEqual([['demo', 'provider_unavailable'], ['demo', undefined]]);
    expect(() => router.load({ name: 'later', engine: 'mock', options: { delayMs: 'slow' } })).toThrow(expect.objectContaining({ code: 'config_invalid', param: '0.options.delayMs' }));
    expect(() => createMockEngine({ name: 'direct', engine: 'mock', options: { replly: 'x' } } as never)).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'options.replly' }));
  });
});
