/**
 * Abandoned router streams: a consumer that stops pulling without `return()` must not keep its attempt
 * (concurrency slot, in-flight count, half-open probe) for ever. The router gives up on it when the
 * attempt's `totalMs` fires, or after `consumerIdleMs` without a pull, cancels the upstream request and
 * records a caller abandonment, never a deployment failure. Real HTTP: the openai-compatible engine
 * against the local OpenAI wire server.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelConfigInput, RouterConfigInput } from '../config/schema.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { LLMRouter } from './llm-router.js';
import { consumerIdleLimit, DEFAULT_CONSUMER_IDLE_MS } from './router-stream.js';
import type { StreamPart } from '../spec/stream-parts.js';
import type { RouterEvents, RouterOptions, RouterStreamPart } from './types.js';

let server: OpenAIWireServer;

beforeEach(async () => {
  // Streams two chunks, then keeps the connection open without sending more: only a timeout ends it.
  server = await startOpenAIWireServer({ script: { text: 'one two three four five', hangAfterChunks: 2 } });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await server.close();
});

/** Generous for a loaded 2-core machine: long enough for the first chunk, short enough for a test. */
const TOTAL_MS = 1_500;

function model(extra: Partial<ModelConfigInput> = {}): ModelConfigInput {
  return { name: 'a', engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-test', apiKey: 'k', priority: 1, limits: { maxConcurrency: 1 }, ...extra };
}

function wireRouter(models: ModelConfigInput[], routing: NonNullable<RouterConfigInput['routing']> = {}, options: RouterOptions = {}) {
  const { router } = openAIWireRouter(models, { retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 30_000 }, ...routing }, options);
  const ends: Array<RouterEvents['request:end']> = [];
  const circuit: string[] = [];
  const attemptErrors: string[] = [];
  router.on('request:end', (e) => ends.push(e));
  router.on('circuit', (e) => circuit.push(`${e.deployment}:${e.from}->${e.to}`));
  router.on('attempt:error', (e) => attemptErrors.push(`${e.deployment}:${e.error.code}`));
  return { router, ends, circuit, attemptErrors };
}

/** Reads the `route` part up to the first text delta, then leaves the iterator alone (no `return()`). */
async function readOnceAndLeave(stream: AsyncIterable<RouterStreamPart>): Promise<AsyncIterator<RouterStreamPart>> {
  const it = stream[Symbol.asyncIterator]();
  const route = await it.next();
  expect(route.value).toMatchObject({ type: 'route', deployment: 'a' });
  for (let i = 0; i < 5; i++) {
    const r = await it.next();
    expect(r.done).toBe(false);
    if (r.value.type === 'text-delta') return it;
  }
  throw new Error('no text delta within 5 parts');
}

describe('router stream: a consumer that stops pulling (totalMs set)', { timeout: 20_000 }, () => {
  it('releases the concurrency slot when totalMs fires, closes the upstream socket, and does not strike the circuit', async () => {
    const { router, ends, circuit, attemptErrors } = wireRouter([model()], { timeouts: { totalMs: TOTAL_MS } });
    const s = router.stream('hello there', { cache: false });
    const it = await readOnceAndLeave(s);

    // While the stream holds it, the deployment's only slot is taken.
    const busy = await rejection(router.generate('second', { cache: false }));
    expect(busy.code).toBe('rate_limited');
    expect(router.stats()['a']?.inFlight).toBe(1);

    // A timeout, as for a consumer that kept reading (never `aborted`: the caller did not abort), naming the deployment.
    const err = await rejection(s.result);
    expect(err).toMatchObject({ code: 'timeout', deployment: 'a', provider: 'openai-compatible' });
    expect(err.message).toMatch(/^Timed out: .*"a" did not finish within totalMs \(1500 ms\).*abandoned while its consumer was not reading/);
    await server.waitForSocketClose(1, 10_000);
    expect(server.responsesAborted).toBe(1);

    // The slot is free again: a second request on the maxConcurrency=1 deployment gets through.
    server.setScript({ text: 'second answer' });
    const second = await router.generate('second', { cache: false });
    expect(second.deployment).toBe('a');
    expect(second.text).toBe('second answer');

    // Not the deployment's failure: no strike (threshold 1 would have opened it), no attempt error.
    const stats = router.stats()['a']!;
    expect(stats.failures).toBe(0);
    expect(stats.circuit).toBe('closed');
    expect(stats.inFlight).toBe(0);
    expect(circuit).toEqual([]);
    expect(attemptErrors).toEqual([]);

    // The request ended once, as an abandonment recorded on its attempt with the request's code, and no strike.
    const end = ends.find((e) => e.requestId === s.requestId)!;
    expect(end.error?.code).toBe('timeout');
    expect(end.attempts).toEqual([expect.objectContaining({ deployment: 'a', ok: false, errorCode: 'timeout' })]);
    expect(end.attempts?.[0]?.strike).toBeUndefined();

    // A consumer that comes back learns why, then the stream is over: never a silent end.
    expect((await it.next()).value).toMatchObject({ type: 'error', error: { code: 'timeout' } });
    expect((await it.next()).done).toBe(true);
    expect(ends.filter((e) => e.requestId === s.requestId)).toHaveLength(1);
  });

  it('an abandoned half-open probe gives its probe slot back: the next call probes the same deployment and closes the circuit', async () => {
    let t = 1_000_000;
    const backup = await startOpenAIWireServer({ script: { text: 'from backup' } });
    try {
      const { router, circuit } = wireRouter(
        [model({ limits: undefined }), { name: 'b', engine: 'openai-compatible', baseURL: backup.baseURL, model: 'gpt-backup', apiKey: 'k', priority: 2 }],
        { timeouts: { totalMs: TOTAL_MS } },
        { now: () => t },
      );
      server.setScript([{ error: { status: 503, message: 'overloaded' } }, { text: 'probe answer', hangAfterChunks: 2 }, { text: 'closed again' }]);
      expect((await router.generate('x', { cache: false })).deployment).toBe('b');
      expect(circuit).toEqual(['a:closed->open']);

      t += 30_000;
      const probe = router.stream('probe', { cache: false });
      await readOnceAndLeave(probe);
      expect(circuit).toEqual(['a:closed->open', 'a:open->half-open']);
      // The probe slot is taken: another call goes to the backup.
      expect((await router.generate('meanwhile', { cache: false })).deployment).toBe('b');

      expect((await rejection(probe.result)).code).toBe('timeout');
      const next = await router.generate('after', { cache: false });
      expect(next.deployment).toBe('a');
      expect(next.text).toBe('closed again');
      expect(circuit).toEqual(['a:closed->open', 'a:open->half-open', 'a:half-open->closed']);
    } finally {
      await backup.close();
    }
  });

  it('a consumer that keeps pulling while the upstream stalls past totalMs still gets a timeout that counts against the deployment', async () => {
    const { router, circuit } = wireRouter([model()], { timeouts: { totalMs: TOTAL_MS } });
    const parts = await collect(router.stream('hello', { cache: false }));
    expect(parts.filter((p) => p.type !== 'response-metadata').map((p) => p.type)).toEqual(['route', 'text-delta', 'text-delta', 'error']);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'timeout' } });
    expect(router.stats()['a']).toMatchObject({ failures: 1, inFlight: 0, circuit: 'open' });
    expect(circuit).toEqual(['a:closed->open']);
  });

  it("the caller's abort while the consumer is away releases the slot at once, as a caller abort", async () => {
    const { router, ends, circuit } = wireRouter([model()]);
    const controller = new AbortController();
    const s = router.stream('hello', { cache: false, signal: controller.signal });
    await readOnceAndLeave(s);
    controller.abort();
    expect((await rejection(s.result)).code).toBe('aborted');
    await server.waitForSocketClose(1, 10_000);
    expect(router.stats()['a']).toMatchObject({ failures: 0, inFlight: 0, circuit: 'closed' });
    expect(circuit).toEqual([]);
    expect(ends.find((e) => e.requestId === s.requestId)?.attempts).toEqual([expect.objectContaining({ deployment: 'a', ok: false, errorCode: 'aborted' })]);
    server.setScript({ text: 'next' });
    expect((await router.generate('next', { cache: false })).deployment).toBe('a');
  });
});

describe('router stream: a consumer that stops pulling (no totalMs: consumerIdleMs)', { timeout: 20_000 }, () => {
  it('after consumerIdleMs without a pull the slot is released, the upstream socket closed, and the circuit untouched', async () => {
    const { router, ends, circuit, attemptErrors } = wireRouter([model()], { timeouts: { consumerIdleMs: 400 } });
    const s = router.stream('hello there', { cache: false });
    const it = await readOnceAndLeave(s);

    const err = await rejection(s.result);
    expect(err.code).toBe('timeout');
    expect(err.message).toMatch(/did not ask for the next part within consumerIdleMs \(400 ms\)/);
    await server.waitForSocketClose(1, 10_000);
    expect(server.responsesAborted).toBe(1);

    server.setScript({ text: 'second answer' });
    expect((await router.generate('second', { cache: false })).deployment).toBe('a');
    expect(router.stats()['a']).toMatchObject({ failures: 0, inFlight: 0, circuit: 'closed' });
    expect(circuit).toEqual([]);
    expect(attemptErrors).toEqual([]);
    expect(ends.find((e) => e.requestId === s.requestId)?.attempts).toEqual([expect.objectContaining({ ok: false, errorCode: 'timeout' })]);
    expect((await it.next()).value).toMatchObject({ type: 'error', error: { code: 'timeout' } });
    expect((await it.next()).done).toBe(true);
  });

  it('time spent waiting for the upstream is not idle time: a slow stream read to its end is not abandoned', async () => {
    server.setScript({ text: 'a b c d e f', chunkDelayMs: 120 });
    const { router } = wireRouter([model({ timeouts: { consumerIdleMs: 300 } })]);
    const s = router.stream('hello', { cache: false });
    const parts: RouterStreamPart[] = [];
    for await (const p of s) parts.push(p);
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect((await s.result).text).toBe('a b c d e f');
  });

  it('a consumer that stops after the finish part (no further next()) still ends the request', async () => {
    server.setScript({ text: 'short answer' });
    const { router, ends } = wireRouter([model()]);
    const s = router.stream('hello', { cache: false, timeouts: { consumerIdleMs: 300 } });
    const it = s[Symbol.asyncIterator]();
    for (let i = 0; i < 20; i++) {
      const r = await it.next();
      if (r.done || r.value.type === 'finish') break;
    }
    expect((await s.result).text).toBe('short answer');
    await vi.waitFor(() => expect(ends.filter((e) => e.requestId === s.requestId)).toHaveLength(1), { timeout: 5_000, interval: 20 });
    expect(ends[0]?.result?.text).toBe('short answer');
    expect((await it.next()).done).toBe(true);
  });

  it('throw() by the consumer mid-stream ends with an error part and frees the attempt slot', async () => {
    const router = new LLMRouter(
      { models: [{ name: 'm', engine: 'mock', limits: { maxConcurrency: 1 } }], routing: { retries: { max: 0 }, timeouts: { consumerIdleMs: 0 } } },
      { engines: { m: new MockEngine({ reply: 'one two three four five six', chunkDelayMs: 20 }) } },
    );
    const s = router.stream('x', { cache: false });
    const it = s[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ type: 'route' });
    let part = (await it.next()).value as { type: string };
    while (part.type !== 'text-delta') part = (await it.next()).value as { type: string };
    expect((await it.next()).value).toMatchObject({ type: 'text-delta' }); // past the first content: the live phase
    expect(router.stats()['m']?.inFlight).toBe(1);
    const thrown = await it.throw!(new Error('the consumer gave up'));
    expect(thrown.value).toMatchObject({ type: 'error', error: { message: 'the consumer gave up' } });
    expect((await it.next()).done).toBe(true);
    expect((await rejection(s.result)).message).toBe('the consumer gave up');
    expect(router.stats()['m']).toMatchObject({ inFlight: 0, failures: 0 });
    expect((await router.generate('y', { cache: false })).text).toBe('one two three four five six');
  });

  it('throw() at the first part (the route) frees the slot and settles at once, without another pull', async () => {
    const router = new LLMRouter(
      { models: [{ name: 'm', engine: 'mock', limits: { maxConcurrency: 1 } }], routing: { retries: { max: 0 }, timeouts: { consumerIdleMs: 0 } } },
      { engines: { m: new MockEngine({ reply: 'one two three four five six', chunkDelayMs: 20 }) } },
    );
    const ends: Array<RouterEvents['request:end']> = [];
    router.on('request:end', (e) => ends.push(e));
    const s = router.stream('x', { cache: false });
    const it = s[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ type: 'route' });
    const thrown = await it.throw!(new Error('gave up early'));
    expect(thrown.value).toMatchObject({ type: 'error', error: { message: 'gave up early' } });
    expect((await rejection(s.result)).message).toBe('gave up early');
    expect(router.stats()['m']).toMatchObject({ inFlight: 0, failures: 0 });
    expect(ends).toHaveLength(1);
    expect((await it.next()).done).toBe(true);
    expect(ends).toHaveLength(1);
  });

  it('a malformed part from the engine after the first content ends the stream with an error part, never jams it', async () => {
    class BrokenAfterTwo extends MockEngine {
      override async *stream(): AsyncGenerator<StreamPart> {
        yield { type: 'text-delta', delta: 'one' };
        yield { type: 'text-delta', delta: ' two' };
        yield undefined as unknown as StreamPart;
      }
    }
    const router = new LLMRouter(
      { models: [{ name: 'm', engine: 'mock', limits: { maxConcurrency: 1 } }], routing: { retries: { max: 0 }, timeouts: { consumerIdleMs: 0 } } },
      { engines: { m: new BrokenAfterTwo() } },
    );
    const s = router.stream('x', { cache: false });
    const parts = await collect(s);
    expect(parts.at(-1)).toMatchObject({ type: 'error' });
    await rejection(s.result);
    expect(router.stats()['m']?.inFlight).toBe(0);
  });

  it('an engine iterator whose next() throws (not rejects) after the first content ends the stream with an error part, never jams it', async () => {
    let closed = 0;
    /** A hand-written iterator (not an async generator): a first content part, then a `next()` that throws. */
    class ThrowingNext extends MockEngine {
      override stream(): AsyncGenerator<StreamPart> {
        let n = 0;
        const iterator: AsyncIterator<StreamPart> = {
          next: () => {
            if (n++ === 0) return Promise.resolve({ done: false, value: { type: 'text-delta', delta: 'one' } });
            throw new Error('engine iterator broke');
          },
          return: () => {
            closed++;
            return Promise.resolve({ done: true, value: undefined });
          },
        };
        return { [Symbol.asyncIterator]: () => iterator } as AsyncGenerator<StreamPart>;
      }
    }
    const router = new LLMRouter(
      { models: [{ name: 'm', engine: 'mock', limits: { maxConcurrency: 1 } }], routing: { retries: { max: 0 } } },
      { engines: { m: new ThrowingNext() } },
    );
    const ends: Array<RouterEvents['request:end']> = [];
    router.on('request:end', (e) => ends.push(e));
    const s = router.stream('x', { cache: false });
    const parts = await collect(s);
    expect(parts.map((p) => p.type)).toEqual(['route', 'text-delta', 'error']);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { message: 'engine iterator broke', deployment: 'm' } });
    expect((await rejection(s.result)).message).toBe('engine iterator broke');
    expect(ends).toHaveLength(1);
    expect(router.stats()['m']?.inFlight).toBe(0);
    expect(closed).toBe(1);
  });

  it('consumerIdleMs 0 turns the watch off', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const router = new LLMRouter(
        { models: [{ name: 'm', engine: 'mock', limits: { maxConcurrency: 1 } }], routing: { retries: { max: 0 }, timeouts: { consumerIdleMs: 0 } } },
        { engines: { m: new MockEngine({ reply: 'one two three' }) } },
      );
      const it = router.stream('x', { cache: false })[Symbol.asyncIterator]();
      await it.next();
      await vi.advanceTimersByTimeAsync(10 * DEFAULT_CONSUMER_IDLE_MS);
      expect(router.stats()['m']?.inFlight).toBe(1);
      await it.return?.();
      expect(router.stats()['m']?.inFlight).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it(`the default (${DEFAULT_CONSUMER_IDLE_MS} ms) applies when neither consumerIdleMs nor totalMs is set`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const router = new LLMRouter(
        { models: [{ name: 'm', engine: 'mock', limits: { maxConcurrency: 1 } }], routing: { retries: { max: 0 } } },
        { engines: { m: new MockEngine({ reply: 'one two three' }) } },
      );
      const s = router.stream('x', { cache: false });
      const it = s[Symbol.asyncIterator]();
      expect((await it.next()).value).toMatchObject({ type: 'route' });
      // Abandoned between 1 and 1.25 limits after the last part.
      await vi.advanceTimersByTimeAsync(DEFAULT_CONSUMER_IDLE_MS - 1_000);
      expect(router.stats()['m']?.inFlight).toBe(1);
      await vi.advanceTimersByTimeAsync(DEFAULT_CONSUMER_IDLE_MS / 4 + 2_000);
      expect((await rejection(s.result)).code).toBe('timeout');
      expect(router.stats()['m']).toMatchObject({ inFlight: 0, failures: 0, circuit: 'closed' });
      expect((await it.next()).value).toMatchObject({ type: 'error', error: { code: 'timeout' } });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('consumerIdleLimit', () => {
  it('configured value, 0 = off, else off under totalMs, else the default', () => {
    expect(consumerIdleLimit({ consumerIdleMs: 250 })).toBe(250);
    expect(consumerIdleLimit({ consumerIdleMs: 250, totalMs: 10_000 })).toBe(250);
    expect(consumerIdleLimit({ consumerIdleMs: 0 })).toBeUndefined();
    expect(consumerIdleLimit({ totalMs: 10_000 })).toBeUndefined();
    expect(consumerIdleLimit({})).toBe(DEFAULT_CONSUMER_IDLE_MS);
    expect(consumerIdleLimit({ firstTokenMs: 5_000 })).toBe(DEFAULT_CONSUMER_IDLE_MS);
  });
});
