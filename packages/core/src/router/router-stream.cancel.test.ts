/**
 * `RouterStream.cancel`: a consumer ends a stream from outside its iteration (the gateway, when its client's
 * response body is cancelled) without an `AbortSignal` of its own. Real HTTP: the openai-compatible engine
 * against local OpenAI wire servers that stall, fail or hang, so "the upstream request is aborted" is a
 * socket the server sees closed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelConfigInput, RouterConfigInput } from '../config/schema.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { createOpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import { LLMRouter } from './llm-router.js';
import type { RouterEvents, RouterStream, RouterStreamPart } from './types.js';

let a: OpenAIWireServer;
let b: OpenAIWireServer;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

beforeEach(async () => {
  a = await startOpenAIWireServer();
  b = await startOpenAIWireServer();
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  process.off('unhandledRejection', onUnhandled);
  await Promise.all([a.close(), b.close()]);
});

function model(name: string, server: OpenAIWireServer, priority: number, extra: Partial<ModelConfigInput> = {}): ModelConfigInput {
  return { name, engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-test', apiKey: 'k', priority, ...extra };
}

function wireRouter(models: ModelConfigInput[], routing: NonNullable<RouterConfigInput['routing']> = {}) {
  const { router } = openAIWireRouter(models, { retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 30_000 }, ...routing });
  const ends: Array<RouterEvents['request:end']> = [];
  const circuit: string[] = [];
  router.on('request:end', (e) => ends.push(e));
  router.on('circuit', (e) => circuit.push(`${e.deployment}:${e.from}->${e.to}`));
  return { router, ends, circuit };
}

/** Polls `cond` every 5 ms for up to `ms`. */
async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Pulls up to the first text delta (the stream is live: past failover). */
async function readToContent(it: AsyncIterator<RouterStreamPart>): Promise<RouterStreamPart[]> {
  const parts: RouterStreamPart[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await it.next();
    if (r.done) break;
    parts.push(r.value);
    if (r.value.type === 'text-delta') return parts;
  }
  throw new Error(`no text delta: ${JSON.stringify(parts)}`);
}

/** Lets pending callbacks run (an unhandled rejection is reported after the microtasks of its turn). */
const settleTurns = () => new Promise((r) => setTimeout(r, 20));

describe('RouterStream.cancel after the first content', () => {
  it('aborts the upstream request, ends a waiting pull, rejects .result as aborted, frees the slot, strikes nothing', async () => {
    a.setScript({ text: 'one two three four', hangAfterChunks: 2 });
    const { router, ends, circuit } = wireRouter([model('a', a, 1, { limits: { maxConcurrency: 1 } })]);
    const s = router.stream('x');
    const it = s[Symbol.asyncIterator]();
    const parts = await readToContent(it);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'a' });
    const closed = a.waitForSocketClose(1, 5_000);
    // A pull waits for a part the upstream never sends; cancel comes from elsewhere.
    const pending = it.next();
    const reason = new Error('client gone');
    s.cancel!(reason);
    expect(await pending).toEqual({ done: true, value: undefined });
    const error = await rejection(s.result);
    expect(error).toMatchObject({ code: 'aborted', message: 'The stream was cancelled by its consumer' });
    expect(error.cause).toBe(reason);
    await closed;
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ error: { code: 'aborted' } });
    expect(circuit).toEqual([]);
    // The concurrency slot (1) is free again: the next stream answers.
    a.setScript({ text: 'again' });
    const again = await collect(router.stream('y'));
    expect(again.at(-1)).toMatchObject({ type: 'finish' });
    // Cancelling again, or returning, changes nothing.
    s.cancel!();
    await it.return!();
    expect(ends).toHaveLength(2);
    await settleTurns();
    expect(unhandled).toEqual([]);
    await router.close();
  });

  it('without a waiting pull: the next pull gets the end', async () => {
    a.setScript({ text: 'one two three four', chunkDelayMs: 20 });
    const { router, ends } = wireRouter([model('a', a, 1)]);
    const s = router.stream('x');
    const it = s[Symbol.asyncIterator]();
    await readToContent(it);
    s.cancel!();
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect((await rejection(s.result)).code).toBe('aborted');
    await a.waitForSocketClose(1, 5_000);
    expect(ends).toHaveLength(1);
    await router.close();
  });

  it('after the end it does nothing: .result keeps its answer and request:end is not sent again', async () => {
    a.setScript({ text: 'one two' });
    const { router, ends } = wireRouter([model('a', a, 1)]);
    const s = router.stream('x');
    const parts = await collect(s);
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    s.cancel!(new Error('late'));
    const result = await s.result;
    expect(result.text).toBe('one two');
    expect(ends).toHaveLength(1);
    expect(ends[0]).not.toHaveProperty('error');
    await router.close();
  });

  it('after the finish part, before the pull that ends the stream: the answer stands', async () => {
    a.setScript({ text: 'one' });
    const { router, ends } = wireRouter([model('a', a, 1)]);
    const s = router.stream('x');
    const it = s[Symbol.asyncIterator]();
    for (;;) {
      const r = await it.next();
      if (r.done || r.value.type === 'finish') break;
    }
    s.cancel!();
    expect((await s.result).text).toBe('one');
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(ends).toHaveLength(1);
    await router.close();
  });
});

describe('RouterStream.cancel before the first content', () => {
  it('before iteration: .result rejects, request:end once, and iterating sends nothing upstream', async () => {
    const { router, ends } = wireRouter([model('a', a, 1)]);
    const s = router.stream('x');
    s.cancel!();
    expect((await rejection(s.result)).code).toBe('aborted');
    expect(await collect(s)).toEqual([]);
    expect(a.requests).toHaveLength(0);
    expect(ends).toHaveLength(1);
    await router.close();
  });

  it('while the upstream has not answered: its request is aborted and the waiting pull ends', async () => {
    a.setScript({ hang: true });
    const { router, ends, circuit } = wireRouter([model('a', a, 1)]);
    const s = router.stream('x');
    const it = s[Symbol.asyncIterator]();
    const pending = it.next();
    await until(() => a.requests.length === 1);
    const closed = a.waitForSocketClose(1, 5_000);
    s.cancel!();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect((await rejection(s.result)).code).toBe('aborted');
    await closed;
    expect(ends).toHaveLength(1);
    expect(circuit).toEqual([]);
    await settleTurns();
    expect(unhandled).toEqual([]);
    await router.close();
  });

  it('during failover: the attempt in flight is aborted and no later deployment is tried', async () => {
    const c = await startOpenAIWireServer({ script: { text: 'never asked' } });
    try {
      a.setScript({ error: { status: 500, message: 'down' } });
      b.setScript({ hang: true });
      const { router, ends } = wireRouter([model('a', a, 1), model('b', b, 2), model('c', c, 3)]);
      const s = router.stream('x');
      const it = s[Symbol.asyncIterator]();
      const pending = it.next();
      // `a` failed, the router fell over to `b`, which hangs.
      await until(() => b.requests.length === 1);
      const closed = b.waitForSocketClose(1, 5_000);
      s.cancel!();
      expect(await pending).toEqual({ done: true, value: undefined });
      expect((await rejection(s.result)).code).toBe('aborted');
      await closed;
      await settleTurns();
      expect(a.requests).toHaveLength(1);
      expect(c.requests).toHaveLength(0);
      expect(ends).toHaveLength(1);
      expect(unhandled).toEqual([]);
      await router.close();
    } finally {
      await c.close();
    }
  });

  it('during hedging: every lane\'s request is aborted', async () => {
    a.setScript({ hang: true });
    b.setScript({ hang: true });
    const { router, ends } = wireRouter([model('a', a, 1), model('b', b, 2)], { hedging: { enabled: true, delayMs: 1 } });
    const s: RouterStream = router.stream('x');
    const it = s[Symbol.asyncIterator]();
    const pending = it.next();
    await until(() => a.requests.length === 1 && b.requests.length === 1);
    const closed = Promise.all([a.waitForSocketClose(1, 5_000), b.waitForSocketClose(1, 5_000)]);
    s.cancel!();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect((await rejection(s.result)).code).toBe('aborted');
    await closed;
    expect(ends).toHaveLength(1);
    await settleTurns();
    expect(unhandled).toEqual([]);
    await router.close();
  });

  it('a retry waiting to start sends nothing once cancelled', async () => {
    a.setScript([{ error: { status: 500, message: 'down' } }, { text: 'never asked' }]);
    let wake!: () => void;
    let waiting = false;
    const { router } = openAIWireRouter([model('a', a, 1)], { retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 } }, {
      // The retry's wait ends only when the test says so.
      sleep: () =>
        new Promise<void>((r) => {
          waiting = true;
          wake = r;
        }),
    });
    const s = router.stream('x');
    const it = s[Symbol.asyncIterator]();
    const pending = it.next();
    await until(() => waiting);
    s.cancel!();
    expect((await rejection(s.result)).code).toBe('aborted');
    wake();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(a.requests).toHaveLength(1);
    await router.close();
  });
});

// The router's own default `sleep` (a timer its signal cancels), not the helper's recording one.
describe('RouterStream.cancel during a retry backoff', () => {
  it('ends the waiting pull at once (not when the backoff is over)', async () => {
    a.setScript([{ error: { status: 500, message: 'down' } }, { text: 'never asked' }]);
    const router = new LLMRouter(
      {
        models: [{ name: 'a', engine: 'openai-compatible', baseURL: a.baseURL, model: 'gpt-test', apiKey: 'k' }],
        routing: { strategy: 'priority', retries: { max: 1, initialDelayMs: 4_000, maxDelayMs: 4_000, jitter: false } },
      },
      { engineFactories: { 'openai-compatible': createOpenAICompatibleEngine }, env: {} },
    );
    let retrying = false;
    router.on('retry', () => {
      retrying = true;
    });
    try {
      const s = router.stream('x');
      const it = s[Symbol.asyncIterator]();
      const pending = it.next();
      // The first attempt failed; the router now waits 4 s before the retry.
      await until(() => retrying);
      const t0 = Date.now();
      s.cancel!(new Error('client gone'));
      await expect(s.result).rejects.toMatchObject({ code: 'aborted' });
      const r = await pending;
      const waited = Date.now() - t0;
      expect(r).toEqual({ done: true, value: undefined });
      // "ends the stream at once": the pull that was waiting gets the end without sitting out the backoff.
      expect(waited).toBeLessThan(1_000);
      expect(a.requests).toHaveLength(1);
    } finally {
      await router.close();
    }
  }, 15_000);
});

describe('RouterStream.cancel during a semantic-cache lookup', () => {
  it('ends the waiting pull at once (not when the embedding answers) and sends no chat request', async () => {
    // The embedder (on b) does not answer: the lookup waits on it.
    b.setScript({ hang: true });
    const router = new LLMRouter(
      {
        models: [
          { name: 'chat', engine: 'openai-compatible', baseURL: a.baseURL, model: 'gpt-test', apiKey: 'k' },
          { name: 'emb', engine: 'openai-compatible', baseURL: b.baseURL, model: 'text-embedding-test', apiKey: 'k', capabilities: ['embeddings'] },
        ],
        routing: { strategy: 'priority', retries: { max: 0 } },
        cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.9 } },
      },
      { engineFactories: { 'openai-compatible': createOpenAICompatibleEngine }, env: {} },
    );
    try {
      const s = router.stream('x', { model: 'chat' });
      const it = s[Symbol.asyncIterator]();
      const pending = it.next();
      await until(() => b.requests.length === 1);
      const t0 = Date.now();
      s.cancel!(new Error('client gone'));
      await expect(s.result).rejects.toMatchObject({ code: 'aborted' });
      expect(await pending).toEqual({ done: true, value: undefined });
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(await it.next()).toEqual({ done: true, value: undefined });
      expect(a.requests).toHaveLength(0);
      await settleTurns();
      expect(unhandled).toEqual([]);
    } finally {
      await router.close();
    }
  }, 15_000);
});
