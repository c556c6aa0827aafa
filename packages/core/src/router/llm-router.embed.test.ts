/**
 * `LLMRouter.embed`: candidates, result, events, and the same resilience as `generate`, over the mock
 * engine and over real HTTP against a server speaking OpenAI's `/embeddings` wire format.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RouterConfigInput } from '../config/schema.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import type { CallOptions, EmbedResult, LanguageEngine } from '../spec/index.js';
import { rejection } from '../test/async.test-helpers.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { LLMRouter } from './llm-router.js';
import type { RouterEvents, RouterOptions } from './types.js';

type Models = RouterConfigInput['models'];

/** A mock engine whose `embed` is replaced, for answers the mock never gives (a wrong vector count, no usage). */
function embedder(name: string, embed: (input: string[], options?: CallOptions) => Promise<EmbedResult>): LanguageEngine {
  const engine = new MockEngine({ modelId: `${name}-model` });
  return Object.assign(engine, { embed });
}

describe('LLMRouter.embed over the mock engine', () => {
  const models: Models = [
    { name: 'chat', engine: 'mock', priority: 1, capabilities: ['chat', 'streaming'] },
    { name: 'emb', engine: 'mock', model: 'mock-embed', alias: 'embedder', priority: 2, capabilities: ['embeddings'], price: { input: 0.02, output: 0 } },
    { name: 'both', engine: 'mock', priority: 3, price: { input: 1, output: 2 } },
  ];

  it('embeds a batch on the first fit deployment: vectors in input order, usage, cost from the input price, ids and timing', async () => {
    let t = 1_000;
    const router = new LLMRouter({ models, routing: { strategy: 'priority' } }, { now: () => (t += 5) });
    const direct = await new MockEngine().embed(['hello world', 'a second text here']);
    const r = await router.embed(['hello world', 'a second text here'], { requestId: 'emb-1' });
    expect(r.deployment).toBe('emb');
    expect(r.model).toBe('mock-embed');
    expect(r.provider).toBe('mock');
    expect(r.requestId).toBe('emb-1');
    expect(r.embeddings).toEqual(direct.embeddings);
    expect(r.embeddings).toHaveLength(2);
    expect(r.usage).toEqual({ inputTokens: 6, outputTokens: 0, totalTokens: 6 });
    // 6 tokens x $0.02 per 1M
    expect(r.cost).toEqual({ inputUsd: 1.2e-7, outputUsd: 0, totalUsd: 1.2e-7, estimated: false });
    expect(r.latencyMs).toBeGreaterThan(0);
    expect(r.attempts).toEqual([{ deployment: 'emb', attempt: 1, ok: true, latencyMs: expect.any(Number) }]);
    expect(router.stats()['emb']).toMatchObject({ requests: 1, failures: 0, inFlight: 0 });
  });

  it('takes one string; picks by name or alias; the deployment without the capability is excluded, and explain says so', async () => {
    const router = new LLMRouter({ models, routing: { strategy: 'priority' } });
    const one = await router.embed('just one', { explain: true });
    expect(one.embeddings).toHaveLength(1);
    expect(one.deployment).toBe('emb');
    expect(one.decision?.excluded).toEqual([{ name: 'chat', reason: 'lacks capabilities: embeddings', kind: 'unfit' }]);
    expect(one.decision?.order).toEqual(['emb', 'both']);
    expect((await router.embed(['x'], { model: 'both' })).deployment).toBe('both');
    expect((await router.embed(['x'], { model: 'embedder', explain: true })).decision?.order).toEqual(['emb']);
    const err = await rejection(router.embed('x', { model: 'chat' }));
    expect([err.code, err.statusCode, err.param]).toEqual(['unsupported', 400, 'model']);
    expect(err.message).toContain('chat: lacks capabilities: embeddings');
    expect((await rejection(router.embed('x', { model: 'nope' }))).code).toBe('model_not_found');
  });

  it('an embedding-only deployment (capabilities without chat or completion) never answers generate or stream', async () => {
    const router = new LLMRouter({ models: [models[1]!, models[2]!], routing: { strategy: 'priority' } });
    const r = await router.generate('hi', { explain: true });
    expect(r.deployment).toBe('both');
    expect(r.decision?.excluded).toEqual([{ name: 'emb', reason: 'an embedding model (capabilities list embeddings but not chat or completion)', kind: 'unfit' }]);
    expect(await rejection(router.generate('hi', { model: 'emb' }))).toMatchObject({ code: 'unsupported', statusCode: 400, param: 'model' });
  });

  it('leaves out a deployment whose engine has no embed(), even when its config claims the capability', async () => {
    const plain: LanguageEngine = Object.assign(new MockEngine(), { embed: undefined });
    const router = new LLMRouter(
      { models: [{ name: 'noembed', engine: 'mock', capabilities: ['chat', 'embeddings'] }, { name: 'ok', engine: 'mock', priority: 2 }], routing: { strategy: 'priority' } },
      { engines: { noembed: plain } },
    );
    const r = await router.embed('x', { explain: true });
    expect(r.deployment).toBe('ok');
    expect(r.decision?.excluded).toEqual([{ name: 'noembed', reason: 'engine "mock" has no embed()', kind: 'unfit' }]);
  });

  it('checks the input: a string or a non-empty array of strings, naming the bad field', async () => {
    const router = new LLMRouter({ models });
    for (const [input, param] of [
      [[], 'input'],
      [5, 'input'],
      [['ok', 7], 'input.1'],
      [null, 'input'],
    ] as const) {
      let err: unknown;
      try {
        await router.embed(input as unknown as string[]);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'invalid_request', param });
    }
  });

  it('emits request:start and request:end with kind "embed" and the result (generate and stream say their kind too)', async () => {
    const router = new LLMRouter({ models, routing: { strategy: 'priority' } });
    const starts: Array<RouterEvents['request:start']> = [];
    const ends: Array<RouterEvents['request:end']> = [];
    router.on('request:start', (e) => starts.push(e));
    router.on('request:end', (e) => ends.push(e));
    const r = await router.embed(['a'], { requestId: 'e1', metadata: { user: 'u' } });
    await rejection(router.embed(['a'], { requestId: 'e2', model: 'chat' }));
    await router.generate('hi', { requestId: 'g1' });
    for await (const _ of router.stream('hi', { requestId: 's1' })) void _;
    expect(starts.map((s) => [s.requestId, s.kind, s.stream])).toEqual([
      ['e1', 'embed', false],
      ['e2', 'embed', false],
      ['g1', 'generate', false],
      ['s1', 'stream', true],
    ]);
    expect(starts[0]!.metadata).toEqual({ user: 'u' });
    expect(ends[0]).toMatchObject({ requestId: 'e1', kind: 'embed', stream: false, embedResult: r });
    expect(ends[0]!.result).toBeUndefined();
    expect(ends[1]).toMatchObject({ requestId: 'e2', kind: 'embed', error: { code: 'unsupported' } });
    expect(ends[2]).toMatchObject({ requestId: 'g1', kind: 'generate', result: { deployment: 'chat' } });
    expect(ends[3]).toMatchObject({ requestId: 's1', kind: 'stream' });
  });

  it('an answer without one vector per input fails the attempt (invalid_response, retried) and falls over', async () => {
    let calls = 0;
    const broken = embedder('broken', async () => {
      calls++;
      return { embeddings: [[1, 0]], usage: { inputTokens: 2, outputTokens: 0, totalTokens: 2 } };
    });
    const fallbacks: Array<RouterEvents['fallback']> = [];
    const router = new LLMRouter(
      {
        models: [
          { name: 'broken', engine: 'mock', capabilities: ['embeddings'], priority: 1 },
          { name: 'good', engine: 'mock', capabilities: ['embeddings'], priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 } },
      },
      { engines: { broken }, sleep: async () => {} },
    );
    router.on('fallback', (e) => fallbacks.push(e));
    const r = await router.embed(['one', 'two']);
    expect(r.deployment).toBe('good');
    expect(calls).toBe(2);
    expect(r.attempts.map((a) => `${a.deployment}:${a.errorCode ?? 'ok'}`)).toEqual(['broken:invalid_response', 'broken:invalid_response', 'good:ok']);
    expect(fallbacks[0]?.error.message).toContain('answered embed() with 1 vectors for 2 inputs');
  });

  it('an answer with vectors of different lengths fails the attempt too (any engine: invalid_response) and falls over', async () => {
    const broken = embedder('broken', async () => ({ embeddings: [[1, 0, 0], [1, 0]], usage: { inputTokens: 2, outputTokens: 0, totalTokens: 2 } }));
    const router = new LLMRouter(
      {
        models: [
          { name: 'broken', engine: 'mock', capabilities: ['embeddings'], priority: 1 },
          { name: 'good', engine: 'mock', capabilities: ['embeddings'], priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 0 } },
      },
      { engines: { broken } },
    );
    const r = await router.embed(['one', 'two']);
    expect(r.deployment).toBe('good');
    expect(new Set(r.embeddings.map((v) => v.length)).size).toBe(1);
    expect(r.attempts.map((a) => `${a.deployment}:${a.errorCode ?? 'ok'}`)).toEqual(['broken:invalid_response', 'good:ok']);
    const alone = new LLMRouter({ models: [{ name: 'broken', engine: 'mock', capabilities: ['embeddings'] }], routing: { retries: { max: 0 } } }, { engines: { broken } });
    expect(await rejection(alone.embed(['one', 'two']))).toMatchObject({ code: 'invalid_response', message: expect.stringContaining('vectors of different lengths') });
  });

  it('an answer of empty vectors (or a first vector that is no array) is an invalid_response that says so, not "different lengths"', async () => {
    for (const embeddings of [[[], []], [null, [1, 2]]] as unknown as number[][][]) {
      const broken = embedder('broken', async () => ({ embeddings, usage: { inputTokens: 2, outputTokens: 0, totalTokens: 2 } }));
      const router = new LLMRouter({ models: [{ name: 'broken', engine: 'mock', capabilities: ['embeddings'] }], routing: { retries: { max: 0 } } }, { engines: { broken } });
      const error = await rejection(router.embed(['one', 'two']));
      expect(error, JSON.stringify(embeddings)).toMatchObject({ code: 'invalid_response', message: expect.stringContaining('an empty or non-array first vector for 2 inputs') });
      expect(error.message).not.toContain('different lengths');
      await router.close();
    }
  });

  it("the mock's scripted failures: retried, then a fallback; a request fault is returned at once; the circuit opens", async () => {
    const flaky = new MockEngine({ failures: [{ code: 'provider_unavailable', times: 4 }, { code: 'invalid_request', message: 'bad input' }] });
    const steady = new MockEngine();
    const events: string[] = [];
    const router = new LLMRouter(
      {
        models: [
          { name: 'flaky', engine: 'mock', capabilities: ['embeddings'], priority: 1 },
          { name: 'steady', engine: 'mock', capabilities: ['embeddings'], priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 }, circuitBreaker: { failureThreshold: 4, cooldownMs: 60_000 } },
      },
      { engines: { flaky, steady }, sleep: async () => {} },
    );
    router.on('retry', (e) => events.push(`retry:${e.deployment}`));
    router.on('fallback', (e) => events.push(`fallback:${e.from}->${e.to}`));
    router.on('circuit', (e) => events.push(`circuit:${e.deployment}:${e.to}`));
    const r = await router.embed(['x']);
    expect(r.deployment).toBe('steady');
    expect(r.attempts.map((a) => `${a.deployment}:${a.errorCode ?? 'ok'}`)).toEqual(['flaky:provider_unavailable', 'flaky:provider_unavailable', 'steady:ok']);
    expect((await router.embed(['x'])).deployment).toBe('steady');
    expect(events).toEqual(['retry:flaky', 'fallback:flaky->steady', 'retry:flaky', 'circuit:flaky:open', 'fallback:flaky->steady']);
    expect([flaky.embedCalls, steady.embedCalls]).toEqual([4, 2]);
    // The open circuit keeps `flaky` out until a call names it; its next scripted failure is a request fault.
    const err = await rejection(router.embed(['x'], { model: 'flaky' }));
    expect(err).toMatchObject({ code: 'invalid_request', message: 'bad input' });
    expect(steady.embedCalls).toBe(2);
  });

  it("the caller's abort stops a slow embed at once with aborted and tries nothing else", async () => {
    const slow = new MockEngine({ delayMs: 60_000 });
    const other = new MockEngine();
    const router = new LLMRouter(
      { models: [{ name: 'slow', engine: 'mock', capabilities: ['embeddings'], priority: 1 }, { name: 'other', engine: 'mock', capabilities: ['embeddings'], priority: 2 }], routing: { strategy: 'priority' } },
      { engines: { slow, other } },
    );
    const controller = new AbortController();
    const pending = router.embed(['x'], { signal: controller.signal });
    for (let i = 0; i < 200 && slow.embedCalls === 0; i++) await new Promise((res) => setTimeout(res, 1));
    controller.abort();
    expect((await rejection(pending)).code).toBe('aborted');
    expect(other.embedCalls).toBe(0);
    expect(router.stats()['slow']).toMatchObject({ inFlight: 0, circuit: 'closed' });
  });

  it('usage the engine does not report is estimated and marked; the cost is marked estimated too', async () => {
    const quiet = embedder('quiet', async (input) => ({ embeddings: input.map(() => [1]), usage: undefined as unknown as EmbedResult['usage'] }));
    const router = new LLMRouter(
      { models: [{ name: 'quiet', engine: 'mock', capabilities: ['embeddings'], price: { input: 1, output: 0 } }] },
      { engines: { quiet } },
    );
    const r = await router.embed(['abcdefgh', 'abcd']);
    expect(r.usage).toEqual({ inputTokens: 3, outputTokens: 0, totalTokens: 3, estimated: true });
    expect(r.cost.estimated).toBe(true);
    expect(r.cost.totalUsd).toBeCloseTo(3e-6, 12);
  });

  it('the longest input, not the batch, must fit a deployment context window; limits are charged input tokens only', async () => {
    const router = new LLMRouter(
      {
        models: [
          { name: 'small', engine: 'mock', capabilities: ['embeddings'], contextWindow: 10, priority: 1, limits: { tpm: 130 } },
          { name: 'large', engine: 'mock', capabilities: ['embeddings'], contextWindow: 1_000, priority: 2 },
        ],
        routing: { strategy: 'priority' },
      },
      { now: () => 1_000_000 }, // a still clock: the tpm window never refills
    );
    const many = Array.from({ length: 20 }, () => 'twelve chars'); // ~3 tokens each by estimate (60), 2 by the mock's count (40)
    expect((await router.embed(many)).deployment).toBe('small');
    // Charged 60 estimated input tokens, no expected output, corrected to the 40 used: 40 + 60 fit in 130.
    expect((await router.embed(many)).deployment).toBe('small');
    // 80 used + 60 do not.
    expect((await router.embed(many)).deployment).toBe('large');
    const long = await router.embed(['x'.repeat(200)], { explain: true });
    expect(long.deployment).toBe('large');
    expect(long.decision?.excluded).toEqual([{ name: 'small', reason: 'context window 10 < ~50 tokens of the longest input', kind: 'unfit' }]);
    // An input no deployment can take is the caller's error.
    const tooLong = await rejection(router.embed(['x'.repeat(8_000)]));
    expect([tooLong.code, tooLong.statusCode, tooLong.param]).toEqual(['context_length_exceeded', 400, 'input']);
    expect(tooLong.message).toContain('large: context window 1000 < ~2000 tokens of the longest input');
  });
});

describe('LLMRouter.embed over the OpenAI wire format (/embeddings)', () => {
  let primary: OpenAIWireServer;
  let backup: OpenAIWireServer;

  beforeEach(async () => {
    primary = await startOpenAIWireServer();
    backup = await startOpenAIWireServer({ script: { embeddingDimensions: 4 } });
  });

  afterEach(async () => {
    await Promise.all([primary.close(), backup.close()]);
  });

  function router(routing: NonNullable<RouterConfigInput['routing']> = {}, options: RouterOptions = {}, primaryTimeouts?: { totalMs: number }) {
    return openAIWireRouter(
      [
        { name: 'primary', engine: 'openai-compatible', baseURL: primary.baseURL, model: 'text-embedding-test', capabilities: ['embeddings'], priority: 1, apiKey: 'k', price: { input: 0.1, output: 0 }, ...(primaryTimeouts ? { timeouts: primaryTimeouts } : {}) },
        { name: 'backup', engine: 'openai-compatible', baseURL: backup.baseURL, model: 'embed-backup', capabilities: ['embeddings'], priority: 2, apiKey: 'k' },
        { name: 'chatty', engine: 'openai-compatible', baseURL: backup.baseURL, model: 'gpt-test', priority: 0, apiKey: 'k' },
      ],
      routing,
      options,
    );
  }

  it('posts the inputs to /embeddings and returns the vectors, usage and cost (the chat-only deployment is not asked)', async () => {
    const { router: r } = router();
    const res = await r.embed(['first text', 'second'], { headers: { 'x-trace': 't1' } });
    expect(primary.requests).toHaveLength(1);
    const req = primary.requests[0]!;
    expect(req.url).toBe('/v1/embeddings');
    expect(req.body).toEqual({ input: ['first text', 'second'], model: 'text-embedding-test', encoding_format: 'float' });
    expect(req.headers['x-trace']).toBe('t1');
    expect(res.deployment).toBe('primary');
    expect(res.provider).toBe('openai-compatible');
    expect(res.embeddings).toHaveLength(2);
    expect(res.embeddings[0]).toHaveLength(8);
    expect(Math.hypot(...res.embeddings[0]!)).toBeCloseTo(1, 6);
    // The server counts ceil(chars / 4): 3 + 2 tokens.
    expect(res.usage).toEqual({ inputTokens: 5, outputTokens: 0, totalTokens: 5 });
    expect(res.cost).toEqual({ inputUsd: 5e-7, outputUsd: 0, totalUsd: 5e-7, estimated: false });
    expect(backup.requests).toHaveLength(0);
  });

  it('a server answering 503 is retried, then the router falls back; the circuit opens and the primary gets no traffic', async () => {
    primary.setScript({ error: { status: 503, message: 'overloaded' } });
    const { router: r, sleeps } = router({ circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    const events: string[] = [];
    r.on('retry', (e) => events.push(`retry:${e.deployment}`));
    r.on('fallback', (e) => events.push(`fallback:${e.from}->${e.to}:${e.error.code}`));
    r.on('circuit', (e) => events.push(`circuit:${e.deployment}:${e.from}->${e.to}`));
    const res = await r.embed(['x']);
    expect(res.deployment).toBe('backup');
    expect(res.embeddings[0]).toHaveLength(4);
    expect(res.attempts.map((a) => `${a.deployment}:${a.errorCode ?? 'ok'}`)).toEqual(['primary:provider_unavailable', 'primary:provider_unavailable', 'backup:ok']);
    expect(sleeps).toHaveLength(1);
    expect(events).toEqual(['retry:primary', 'circuit:primary:closed->open', 'fallback:primary->backup:provider_unavailable']);
    expect(primary.requests).toHaveLength(2);
    expect((await r.embed(['y'])).deployment).toBe('backup');
    expect(primary.requests).toHaveLength(2);
    expect(r.stats()['primary']?.circuit).toBe('open');
  });

  it('honours Retry-After from a 429', async () => {
    primary.setScript([{ error: { status: 429, code: 'rate_limit_exceeded', headers: { 'retry-after': '2' } } }, {}]);
    const { router: r, sleeps } = router();
    const res = await r.embed('x');
    expect(res.deployment).toBe('primary');
    expect(sleeps).toEqual([2_000]);
  });

  it('a request fault (400) is returned at once: no retry, no fallback', async () => {
    primary.setScript({ error: { status: 400, message: 'bad input', param: 'input' } });
    const { router: r } = router();
    const err = await rejection(r.embed('x'));
    expect(err.code).toBe('invalid_request');
    expect(primary.requests).toHaveLength(1);
    expect(backup.requests).toHaveLength(0);
  });

  it('a timeout aborts the upstream request (the server sees the socket close) and falls back', async () => {
    primary.setScript({ hang: true });
    // Only the primary times out after 100 ms (its own deployment timeout); the backup keeps the default, so a
    // loaded machine cannot time out its answer too.
    const { router: r } = router({ retries: { max: 0 } }, {}, { totalMs: 100 });
    const res = await r.embed('x');
    expect(res.deployment).toBe('backup');
    expect(res.attempts[0]).toMatchObject({ deployment: 'primary', ok: false, errorCode: 'timeout' });
    await primary.waitForSocketClose(1);
  });

  it("the caller's abort stops everything with aborted, closes the connection, and tries nothing else", async () => {
    primary.setScript({ hang: true });
    const { router: r } = router();
    const controller = new AbortController();
    const pending = r.embed('x', { signal: controller.signal });
    for (let i = 0; i < 200 && primary.requests.length === 0; i++) await new Promise((res) => setTimeout(res, 5));
    controller.abort();
    const err = await rejection(pending);
    expect(err.code).toBe('aborted');
    await primary.waitForSocketClose(1);
    expect(backup.requests).toHaveLength(0);
    expect(r.stats()['primary']?.circuit).toBe('closed');
  });

  it('configured fallbacks must be able to embed: a chat-only fallback is skipped', async () => {
    primary.setScript({ error: { status: 500, message: 'boom' } });
    const { router: r } = router({ retries: { max: 0 }, fallbacks: ['chatty'], fallbackToRanked: false });
    const err = await rejection(r.embed('x', { model: 'primary' }));
    expect(err.code).toBe('provider_error');
    expect(backup.requests).toHaveLength(0);
  });
});
