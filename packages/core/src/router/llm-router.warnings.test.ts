/**
 * The router passes on the warnings of the attempt that answered (`RouterResult.warnings`, the stream's one
 * `warnings` part before its first content), over real HTTP: local servers speaking the OpenAI wire format behind
 * openai-compatible deployments, whose engine warns about what a preset does not send (a generic server is not
 * sent `promptCacheKey`; Mistral is not sent `user`; the `openai` preset is sent both).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../config/schema.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import type { CallWarning, StreamPart } from '../spec/index.js';
import { isContentPart } from '../spec/index.js';
import { collect } from '../test/async.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { mockChatRouter } from '../test/mock-chat-router.test-helpers.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { LLMRouter } from './llm-router.js';
import type { RouterEvents, RouterStreamPart } from './types.js';

let a: OpenAIWireServer;
let b: OpenAIWireServer;
beforeEach(async () => {
  a = await startOpenAIWireServer({ script: { text: 'from a' } });
  b = await startOpenAIWireServer({ script: { text: 'from b' } });
});
afterEach(async () => {
  await Promise.all([a.close(), b.close()]);
});

/** Both warnings a Mistral deployment gives for `ASK`; a generic server gives only the first. */
const ASK = { user: 'u-1', promptCacheKey: 'conv-1' } as const;
const NOT_SENT_KEY = { code: 'setting_not_sent', field: 'promptCacheKey', message: expect.stringContaining('promptCacheKey was not sent') };
const NOT_SENT_USER = { code: 'setting_not_sent', field: 'user', message: 'user was not sent: Mistral takes no user field.' };

const generic = (name: string, server: OpenAIWireServer, priority: number): ModelConfigInput => ({ name, engine: 'openai-compatible', baseURL: server.baseURL, model: 'm', priority });
const mistral = (name: string, server: OpenAIWireServer, priority: number): ModelConfigInput => ({ ...generic(name, server, priority), preset: 'mistral', apiKey: 'k' });
const openai = (name: string, server: OpenAIWireServer, priority: number): ModelConfigInput => ({ ...generic(name, server, priority), preset: 'openai', apiKey: 'k' });

/** A stream's warnings, checking the contract: at most one part, after `route` and before the first content. */
function warningsOf(parts: RouterStreamPart[]): CallWarning[] | undefined {
  const at = parts.flatMap((p, i) => (p.type === 'warnings' ? [i] : []));
  expect(at.length).toBeLessThanOrEqual(1);
  if (at.length === 0) return undefined;
  expect(at[0]).toBeGreaterThan(parts.findIndex((p) => p.type === 'route'));
  expect(at[0]).toBeLessThan(parts.findIndex((p) => p.type !== 'route' && (isContentPart(p as never) || p.type === 'finish')));
  return (parts[at[0]!] as Extract<RouterStreamPart, { type: 'warnings' }>).warnings;
}

/** A first chunk with no content, then the end of the body without a finish: the attempt fails before content. */
const NO_CONTENT_SSE = 'data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n';

describe('router: warnings of the answering deployment', () => {
  it('generate: RouterResult.warnings is the engine\'s, and request:end carries it', async () => {
    const { router } = openAIWireRouter([mistral('a', a, 1)]);
    const ends: Array<RouterEvents['request:end']> = [];
    router.on('request:end', (e) => ends.push(e));
    const r = await router.generate('hi', ASK);
    expect(r.deployment).toBe('a');
    expect(r.warnings).toEqual([NOT_SENT_KEY, NOT_SENT_USER]);
    expect(ends[0]?.result?.warnings).toEqual(r.warnings);
  });

  it('stream: one warnings part after route and before the first content; .result carries the same list', async () => {
    const { router } = openAIWireRouter([mistral('a', a, 1)]);
    const s = router.stream('hi', ASK);
    const parts = await collect(s);
    expect(parts.map((p) => p.type).slice(0, 2)).toEqual(['route', 'warnings']);
    expect(warningsOf(parts)).toEqual([NOT_SENT_KEY, NOT_SENT_USER]);
    expect((await s.result).warnings).toEqual([NOT_SENT_KEY, NOT_SENT_USER]);
  });

  it('nothing to say: no warnings field and no warnings part', async () => {
    const { router } = openAIWireRouter([openai('a', a, 1)]);
    const r = await router.generate('hi', ASK);
    expect(r).not.toHaveProperty('warnings');
    const s = router.stream('hi', ASK);
    const parts = await collect(s);
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
    expect(await s.result).not.toHaveProperty('warnings');
  });

  it('stream failover: the failed attempt\'s warnings part is dropped with it; the answer carries its own deployment\'s', async () => {
    a.setScript({ rawSSE: NO_CONTENT_SSE });
    const { router } = openAIWireRouter([mistral('a', a, 1), generic('b', b, 2)], { retries: { max: 0 } });
    const s = router.stream('hi', ASK);
    const parts = await collect(s);
    expect(a.requests).toHaveLength(1);
    const result = await s.result;
    expect(result.deployment).toBe('b');
    expect(result.attempts.map((x) => [x.deployment, x.ok])).toEqual([['a', false], ['b', true]]);
    // a said both; b (a generic server, sent `user`) only the key.
    expect(warningsOf(parts)).toEqual([NOT_SENT_KEY]);
    expect(result.warnings).toEqual([NOT_SENT_KEY]);
  });

  it('stream failover to a deployment with nothing to say: no warnings part at all', async () => {
    a.setScript({ rawSSE: NO_CONTENT_SSE });
    const { router } = openAIWireRouter([mistral('a', a, 1), openai('b', b, 2)], { retries: { max: 0 } });
    const s = router.stream('hi', ASK);
    const parts = await collect(s);
    expect((await s.result).deployment).toBe('b');
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
    expect(await s.result).not.toHaveProperty('warnings');
  });

  it('generate failover: only the answering deployment\'s warnings', async () => {
    a.setScript({ error: { status: 503, message: 'overloaded' } });
    const { router } = openAIWireRouter([mistral('a', a, 1), generic('b', b, 2)], { retries: { max: 0 } });
    const r = await router.generate('hi', ASK);
    expect(r.deployment).toBe('b');
    expect(r.warnings).toEqual([NOT_SENT_KEY]);
  });

  it('hedged stream: the loser had sent its warnings part; only the winner\'s reach the consumer', async () => {
    // a sends its first (content-less) chunk, then nothing: the hedge on b starts and wins.
    a.setScript({ rawSSE: `${NO_CONTENT_SSE}data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"late"}}]}\n\n`, hangAfterChunks: 1 });
    const { router } = openAIWireRouter([mistral('a', a, 1), generic('b', b, 2)], { hedging: { enabled: true, delayMs: 20 } });
    const s = router.stream('hi', ASK);
    const parts = await collect(s);
    const result = await s.result;
    expect(result.deployment).toBe('b');
    expect(result.text).toBe('from b');
    expect(a.requests).toHaveLength(1);
    expect(warningsOf(parts)).toEqual([NOT_SENT_KEY]);
    expect(result.warnings).toEqual([NOT_SENT_KEY]);
  });

  it('cache hits carry none: nothing was sent upstream (the original call\'s warnings are not stored)', async () => {
    const { router } = openAIWireRouter([mistral('a', a, 1)], {}, {});
    const first = await router.generate('hi', { ...ASK, cache: true, temperature: 0 });
    expect(first.warnings).toEqual([NOT_SENT_KEY, NOT_SENT_USER]);
    const hit = await router.generate('hi', { ...ASK, cache: true, temperature: 0 });
    expect(hit.cached).toBe('exact');
    expect(hit).not.toHaveProperty('warnings');
    const s = router.stream('hi', { ...ASK, cache: true, temperature: 0 });
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', cached: 'exact' });
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
    expect(await s.result).not.toHaveProperty('warnings');
    expect(a.requests).toHaveLength(1);
  });

  it('a streamed answer stored in the cache replays without warnings too', async () => {
    const { router } = openAIWireRouter([mistral('a', a, 1)]);
    const live = router.stream('hi', { ...ASK, cache: true, temperature: 0 });
    expect(warningsOf(await collect(live))).toEqual([NOT_SENT_KEY, NOT_SENT_USER]);
    const replay = router.stream('hi', { ...ASK, cache: true, temperature: 0 });
    const parts = await collect(replay);
    expect((await replay.result).cached).toBe('exact');
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
    expect(a.requests).toHaveLength(1);
  });

  it('warnings change no routing, retry or cost: the same attempts and cost with and without them', async () => {
    const price = { input: 1, output: 2 };
    const { router: warned } = openAIWireRouter([{ ...mistral('a', a, 1), price }]);
    const { router: quiet } = openAIWireRouter([{ ...openai('a', b, 1), price }]);
    b.setScript({ text: 'from a' });
    const x = await warned.generate('hi', ASK);
    const y = await quiet.generate('hi', ASK);
    expect(x.warnings).toHaveLength(2);
    expect(y.warnings).toBeUndefined();
    expect(x.cost).toEqual(y.cost);
    expect(x.attempts.map((t) => [t.deployment, t.ok])).toEqual(y.attempts.map((t) => [t.deployment, t.ok]));
    expect(x.finishReason).toBe(y.finishReason);
  });
});

describe('router: warnings and the semantic cache', () => {
  const routers: LLMRouter[] = [];
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
  });

  it('a semantic hit carries none, generate or stream', async () => {
    const W: CallWarning[] = [{ code: 'setting_not_sent', field: 'seed', message: 'not sent' }];
    const { router, engine } = mockChatRouter(routers, { semantic: { enabled: true, embedder: 'emb', threshold: 0.9, guardAbove: 0.9 } }, { warnings: W });
    const first = await router.generate('What is the capital of France?');
    expect(first.warnings).toEqual(W);
    const hit = await router.generate('what is the capital of france');
    expect(hit.cached).toBe('semantic');
    expect(hit).not.toHaveProperty('warnings');
    const s = router.stream('what is the capital of france');
    const parts = await collect(s);
    expect((await s.result).cached).toBe('semantic');
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
    expect(engine.calls).toBe(1);
  });
});

describe('router: warnings on cascades', () => {
  const WEAK: CallWarning[] = [{ code: 'setting_not_sent', field: 'seed', message: 'seed was not sent (weak).' }];
  const STRONG: CallWarning[] = [{ code: 'setting_not_sent', field: 'topP', message: 'topP was not sent (strong).' }];

  function cascadeRouter(weakReply: string, strong: MockEngine = new MockEngine({ reply: 'strong answer', warnings: STRONG })) {
    return new LLMRouter(
      {
        models: [{ name: 'weak', engine: 'mock' }, { name: 'strong', engine: 'mock' }],
        routing: { strategy: 'priority', retries: { max: 0 }, cascades: [{ name: 'c', weak: 'weak', strong: 'strong', verifier: 'flag', threshold: 0.5 }] },
      },
      {
        engines: { weak: new MockEngine({ reply: weakReply, warnings: WEAK }), strong },
        // Flags an answer that says "wrong".
        verifiers: { flag: (_req, w) => (w.text.includes('wrong') ? 1 : 0) },
      },
    );
  }

  it('accepted weak answer: the weak step\'s warnings, on the result and as the replayed stream\'s warnings part', async () => {
    const r = await cascadeRouter('fine answer').generate('q', { model: 'c' });
    expect(r.deployment).toBe('weak');
    expect(r.warnings).toEqual(WEAK);
    expect(r.cascade?.weak.warnings).toEqual(WEAK);
    const s = cascadeRouter('fine answer').stream('q', { model: 'c' });
    const parts = await collect(s);
    expect(parts.map((p) => p.type).slice(0, 2)).toEqual(['route', 'warnings']);
    expect(warningsOf(parts)).toEqual(WEAK);
    expect((await s.result).warnings).toEqual(WEAK);
  });

  it('escalated: the strong step\'s warnings only (the weak step keeps its own on cascade.weak)', async () => {
    const r = await cascadeRouter('wrong answer').generate('q', { model: 'c' });
    expect(r.deployment).toBe('strong');
    expect(r.warnings).toEqual(STRONG);
    expect(r.cascade?.weak.warnings).toEqual(WEAK);
    expect(r.cascade?.strong?.warnings).toEqual(STRONG);
    const s = cascadeRouter('wrong answer').stream('q', { model: 'c' });
    const parts = await collect(s);
    expect(warningsOf(parts)).toEqual(STRONG);
    const result = await s.result;
    expect(result.warnings).toEqual(STRONG);
    expect(result.cascade?.weak.warnings).toEqual(WEAK);
  });

  it('escalated to a strong step with nothing to say: no warnings on the answer', async () => {
    const r = await cascadeRouter('wrong answer', new MockEngine({ reply: 'strong answer' })).generate('q', { model: 'c' });
    expect(r.deployment).toBe('strong');
    expect(r).not.toHaveProperty('warnings');
    expect(r.cascade?.weak.warnings).toEqual(WEAK);
    const parts = await collect(cascadeRouter('wrong answer', new MockEngine({ reply: 'strong answer' })).stream('q', { model: 'c' }));
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
  });
});

describe('router: mock engine warnings (the test double other packages use)', () => {
  it('a failed attempt whose stream said its warnings before failing: the fallback\'s answer has none of them', async () => {
    const W: CallWarning[] = [{ code: 'setting_not_sent', field: 'seed', message: 'not sent' }];
    const router = new LLMRouter(
      { models: [{ name: 'x', engine: 'mock', priority: 1 }, { name: 'y', engine: 'mock', priority: 2 }], routing: { strategy: 'priority', retries: { max: 0 } } },
      { engines: { x: new MockEngine({ warnings: W, failures: [{ code: 'overloaded' }] }), y: new MockEngine({ reply: 'ok' }) } },
    );
    const s = router.stream('hi');
    const parts = await collect(s);
    expect((await s.result).deployment).toBe('y');
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
    expect(await s.result).not.toHaveProperty('warnings');
  });

  it('a plain-JS engine whose warnings part is not a list (null) still answers, stream as JSON does', async () => {
    const odd = new MockEngine({ reply: 'ok' });
    const inner = odd.stream.bind(odd);
    odd.stream = async function* (request, options) {
      yield { type: 'warnings', warnings: null } as unknown as StreamPart;
      yield* inner(request, options);
    };
    const router = new LLMRouter({ models: [{ name: 'x', engine: 'mock' }] }, { engines: { x: odd } });
    const s = router.stream('hi');
    const parts = await collect(s);
    expect(parts.some((p) => p.type === 'error')).toBe(false);
    const result = await s.result;
    expect(result.text).toBe('ok');
    expect(result).not.toHaveProperty('warnings');
  });
});
