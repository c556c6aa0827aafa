/**
 * `router.close()`: it stops new calls, aborts the calls in flight (their upstream requests cancelled, their retry
 * loops ended, their `request:end` still emitted), waits for them, then closes the engines; a stream first read after
 * it creates no engine; a second call waits for the first. A stream whose consumer stopped at its last part (its
 * `finish` or `error`, without the pull after it) has ended: `close()` does not wait for it, and its call keeps no
 * listener on the caller's signal.
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { MockEngine } from '../engines/mock/index.js';
import type { EngineFactory } from '../engines/types.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { LLMRouter } from './llm-router.js';
import type { RouterStream, RouterStreamPart } from './types.js';

const servers: OpenAIWireServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The last part of a stream as `type` (an error part as `error:<code>`), and every part before it. */
async function partsOf(stream: AsyncIterable<{ type: string; error?: { code: string } }>): Promise<string[]> {
  const parts: string[] = [];
  for await (const p of stream) parts.push(p.type === 'error' ? `error:${p.error!.code}` : p.type);
  return parts;
}

describe('LLMRouter close() with calls in flight', () => {
  it('ends an in-flight stream and generate with shutting_down, emits their request:end and closes their upstream sockets', { timeout: 30_000 }, async () => {
    const server = await startOpenAIWireServer({ script: { hang: true } });
    servers.push(server);
    const router = new LLMRouter({ models: [{ name: 'slow', engine: 'openai-compatible', baseURL: server.baseURL, model: 'x', apiKey: 'k' }] });
    const ends: string[] = [];
    router.on('request:end', (e) => ends.push(`${e.kind}:${e.error?.code ?? 'ok'}`));
    const caller = new AbortController();
    const generate = router.generate('hi', { signal: caller.signal });
    generate.catch(() => {});
    const stream = router.stream('hi');
    const consumed = partsOf(stream);
    await expect.poll(() => server.requests.length, { timeout: 10_000 }).toBe(2);
    await router.close();
    // Settled before close() resolved: the calls were aborted and waited for.
    await expect(generate).rejects.toMatchObject({ code: 'shutting_down' });
    expect((await consumed).at(-1)).toBe('error:shutting_down');
    await expect(stream.result).rejects.toMatchObject({ code: 'shutting_down' });
    expect(ends.sort()).toEqual(['generate:shutting_down', 'stream:shutting_down']);
    // The caller's signal keeps no listener of the call's.
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    await server.waitForSocketClose(server.connectionsOpened, 5000);
  });

  it('ends a retry loop waiting in its backoff (no further attempt)', { timeout: 20_000 }, async () => {
    let calls = 0;
    const engine = new MockEngine({ failures: [{ code: 'provider_unavailable', times: 100 }] });
    const generate = engine.generate.bind(engine);
    engine.generate = (r, o) => {
      calls++;
      return generate(r, o);
    };
    const router = new LLMRouter(
      { models: [{ name: 'm', engine: 'mock' }], routing: { retries: { max: 5, initialDelayMs: 600_000, maxDelayMs: 600_000 } } },
      { engines: { m: engine } },
    );
    let retrying!: () => void;
    const retried = new Promise<void>((r) => (retrying = r));
    router.on('retry', () => retrying());
    const call = router.generate('hi');
    call.catch(() => {});
    await retried;
    await router.close();
    await expect(call).rejects.toMatchObject({ code: 'shutting_down' });
    expect(calls).toBe(1);
  });

  it('a stream created before close() and first read after it creates no engine and ends with shutting_down', async () => {
    let created = 0;
    let closed = 0;
    const factory: EngineFactory = () => {
      created++;
      return Object.assign(new MockEngine({ modelId: 'local' }), {
        close: async () => {
          closed++;
        },
      });
    };
    const router = new LLMRouter({ models: [{ name: 'local', engine: 'lazy-local' }] }, { engineFactories: { 'lazy-local': factory } });
    const stream = router.stream('hi');
    await router.close();
    expect(await partsOf(stream)).toEqual(['error:shutting_down']);
    await expect(stream.result).rejects.toMatchObject({ code: 'shutting_down' });
    expect(created).toBe(0);
    expect(closed).toBe(0);
  });

  it('a second close() resolves only once the engines are closed (it returns the same promise)', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let engineClosed = false;
    const engine = Object.assign(new MockEngine({ modelId: 'slow-close' }), {
      close: async () => {
        await released;
        engineClosed = true;
      },
    });
    const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { engines: { m: engine } });
    await router.generate('hi');
    const first = router.close();
    const second = router.close();
    expect(second).toBe(first);
    let secondDone = false;
    void second.then(() => (secondDone = true));
    // Every pending microtask and a macrotask run: the engine is still closing.
    await new Promise((r) => setImmediate(r));
    expect(secondDone).toBe(false);
    release();
    await second;
    expect(engineClosed).toBe(true);
  });

  it('a generate without a signal hands the engine none (no abort scope per attempt), and close() still ends it with shutting_down', async () => {
    const engine = new MockEngine({ modelId: 'hang' });
    const given: Array<AbortSignal | undefined> = [];
    let hang = false;
    const generate = engine.generate.bind(engine);
    engine.generate = (r, o) => {
      given.push(o?.signal);
      return hang ? new Promise<never>(() => {}) : generate(r, o);
    };
    const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { engines: { m: engine } });
    const ends: string[] = [];
    router.on('request:end', (e) => ends.push(e.error?.code ?? 'ok'));
    expect((await router.generate('hi')).text).toBeTruthy();
    hang = true;
    const call = router.generate('hi');
    call.catch(() => {});
    await expect.poll(() => given.length, { timeout: 5000 }).toBe(2);
    // The engine never settles: the call is raced against the router's own signal, so close() does not wait for it.
    expect(await closeWithin(router.close())).toBe('closed');
    await expect(call).rejects.toMatchObject({ code: 'shutting_down' });
    expect({ ends, given }).toEqual({ ends: ['ok', 'shutting_down'], given: [undefined, undefined] });
  });
});

/** Pulls `stream` by hand until a part of type `last` (no further pull, no `return()`). */
async function readUntil(stream: RouterStream, last: RouterStreamPart['type']): Promise<string[]> {
  const it = stream[Symbol.asyncIterator]();
  const seen: string[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) return seen;
    seen.push(r.value.type);
    if (r.value.type === last) return seen;
  }
}

/** `close()`, or 'still waiting' after a hang guard of 5 s (the router's own bound is 10 s). */
async function closeWithin(close: Promise<void>): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const out = await Promise.race([close.then(() => 'closed'), new Promise<string>((r) => (timer = setTimeout(() => r('still waiting'), 5_000)))]);
  clearTimeout(timer);
  await close;
  return out;
}

describe('LLMRouter close() and streams read to their last part', () => {
  it('does not wait for a stream whose consumer read its finish part and no further: the stream ended with it', { timeout: 30_000 }, async () => {
    const server = await startOpenAIWireServer({ script: { text: 'one two' } });
    servers.push(server);
    const { router } = openAIWireRouter([{ name: 'm', engine: 'openai-compatible', baseURL: server.baseURL, model: 'x', apiKey: 'k' }]);
    const ends: string[] = [];
    router.on('request:end', (e) => ends.push(`${e.kind}:${e.error?.code ?? e.result?.text}`));
    const stream = router.stream('hi');
    expect((await readUntil(stream, 'finish')).at(-1)).toBe('finish');
    // Its request:end came with the finish part, not with a pull the consumer never makes.
    expect(ends).toEqual(['stream:one two']);
    expect((await stream.result).text).toBe('one two');
    expect(await closeWithin(router.close())).toBe('closed');
  });

  it('does not wait for streams that ended with an error part, which leave no listener on the caller signal', { timeout: 30_000 }, async () => {
    const server = await startOpenAIWireServer({ script: { error: { status: 400, message: 'bad' } } });
    servers.push(server);
    const { router } = openAIWireRouter([{ name: 'm', engine: 'openai-compatible', baseURL: server.baseURL, model: 'x', apiKey: 'k' }]);
    const ends: string[] = [];
    router.on('request:end', (e) => ends.push(`${e.kind}:${e.error?.code ?? 'ok'}`));
    // A long-lived signal (a connection's, a worker's) shared by the calls.
    const caller = new AbortController();
    const streams = [0, 1, 2].map((i) => router.stream(`call ${i}`, { signal: caller.signal }));
    for (const s of streams) expect((await readUntil(s, 'error')).at(-1)).toBe('error');
    for (const s of streams) await expect(s.result).rejects.toMatchObject({ code: 'invalid_request' });
    expect(ends).toEqual(['stream:invalid_request', 'stream:invalid_request', 'stream:invalid_request']);
    const listeners = getEventListeners(caller.signal, 'abort').length;
    expect({ listeners, close: await closeWithin(router.close()) }).toEqual({ listeners: 0, close: 'closed' });
  });

  it('does not wait for a stream cut after its first content whose consumer read its error part', { timeout: 30_000 }, async () => {
    const server = await startOpenAIWireServer({ script: { text: 'one two three four', chunks: 4, cutAfterChunks: 2 } });
    servers.push(server);
    const { router } = openAIWireRouter([{ name: 'm', engine: 'openai-compatible', baseURL: server.baseURL, model: 'x', apiKey: 'k' }]);
    const caller = new AbortController();
    const stream = router.stream('hi', { signal: caller.signal });
    const parts = await readUntil(stream, 'error');
    expect({ content: parts.includes('text-delta'), last: parts.at(-1) }).toEqual({ content: true, last: 'error' });
    await expect(stream.result).rejects.toMatchObject({ code: 'stream_interrupted' });
    const listeners = getEventListeners(caller.signal, 'abort').length;
    expect({ listeners, close: await closeWithin(router.close()) }).toEqual({ listeners: 0, close: 'closed' });
  });
});
