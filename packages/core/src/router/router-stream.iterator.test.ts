/**
 * The router stream's iterator as a consumer sees it, with mock engines: calls served in order (as an async
 * generator serves them), `return()` / `throw()` / `cancel()` at each phase, the end of the request (`.result`,
 * one `request:end`, the concurrency slot, the caller's signal listeners), how its methods are called, and what the
 * iterator shows of the stream (nothing: it reaches the request and the deployments' configuration).
 */
import { getEventListeners } from 'node:events';
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import type { CallOptions, GenerateRequest, StreamPart } from '../spec/index.js';
import { LLMRouter } from './llm-router.js';
import type { RouterEvents, RouterStream, RouterStreamPart } from './types.js';

/** An engine whose parts after the first one each wait for the test to open a gate (a pull pending on the engine). */
class GateEngine extends MockEngine {
  gates: Array<() => void> = [];
  closed = 0;
  constructor(private readonly failAt?: number) {
    super({ reply: 'x' });
  }
  /** Opens the gate the engine waits at (once it waits there). */
  async open(): Promise<void> {
    await expect.poll(() => this.gates.length, { timeout: 5_000, interval: 5 }).toBe(1);
    this.gates.shift()!();
  }
  override async *stream(_r: GenerateRequest, options: CallOptions = {}): AsyncGenerator<StreamPart> {
    try {
      yield { type: 'text-delta', delta: 'a' };
      for (let i = 1; i < 4; i++) {
        await new Promise<void>((res, rej) => {
          this.gates.push(res);
          options.signal?.addEventListener('abort', () => rej(options.signal!.reason as Error), { once: true });
        });
        if (this.failAt === i) throw new Error(`engine broke at ${i}`);
        yield { type: 'text-delta', delta: ` ${i}` };
      }
      yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 4, totalTokens: 5 } };
    } finally {
      this.closed++;
    }
  }
}

function setup(engine: MockEngine = new MockEngine({ reply: 'one two three four', chunkDelayMs: 1 }), extra?: { second?: MockEngine }) {
  const models = [{ name: 'm', engine: 'mock' as const, priority: 1, limits: { maxConcurrency: 1 } }];
  const engines: Record<string, MockEngine> = { m: engine };
  if (extra?.second) {
    models.push({ name: 'n', engine: 'mock' as const, priority: 2, limits: { maxConcurrency: 1 } });
    engines['n'] = extra.second;
  }
  const router = new LLMRouter({ models, routing: { retries: { max: 0 }, timeouts: { consumerIdleMs: 0 } } }, { engines });
  const ends: Array<RouterEvents['request:end']> = [];
  router.on('request:end', (e) => ends.push(e));
  return { router, ends };
}

function show(r: IteratorResult<RouterStreamPart>): string {
  if (r.done) return 'done';
  const p = r.value;
  if (p.type === 'error') return `error:${p.error.code}:${p.error.message}`;
  if (p.type === 'text-delta') return `text:${p.delta}`;
  if (p.type === 'route') return `route:${p.deployment}`;
  return p.type;
}

const part = (p: RouterStreamPart) => show({ value: p, done: false });

async function outcome(s: RouterStream): Promise<string> {
  try {
    return `ok:${(await s.result).text}`;
  } catch (e) {
    const x = e as { code?: string; message?: string };
    return `rejected:${x.code}:${x.message}`;
  }
}

/** The request ended once, its slot is free and the caller's signal has no listener of the router's left. */
async function expectEnded(router: LLMRouter, ends: unknown[], s: RouterStream, signal?: AbortSignal): Promise<string> {
  const result = await outcome(s);
  await vi.waitFor(
    () => {
      expect(ends).toHaveLength(1);
      expect(router.stats()['m']?.inFlight).toBe(0);
      if (signal) expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    },
    { timeout: 5_000, interval: 10 },
  );
  return result;
}

describe('router stream iterator: calls are served in order', () => {
  it('next() calls made at once before the first part', async () => {
    const { router, ends } = setup();
    const s = router.stream('x', { cache: false });
    const it = s[Symbol.asyncIterator]();
    const parts = (await Promise.all(Array.from({ length: 8 }, () => it.next()))).map(show);
    expect(await expectEnded(router, ends, s)).toBe('ok:one two three four');
    const end = parts.indexOf('finish');
    expect(parts[0]).toBe('route:m');
    const texts = parts.slice(1, end).filter((p) => p.startsWith('text:'));
    expect(texts.join('').replaceAll('text:', '')).toBe('one two three four');
    expect(parts.slice(end + 1).every((p) => p === 'done')).toBe(true);
  });

  it('next() calls made at once right after the first content part (the stream handed to the loop)', async () => {
    const engine = new GateEngine();
    const { router, ends } = setup(engine);
    const s = router.stream('x', { cache: false });
    const it = s[Symbol.asyncIterator]();
    expect(show(await it.next())).toBe('route:m');
    expect(show(await it.next())).toBe('text:a');
    const calls = [it.next(), it.next(), it.next(), it.next(), it.next()];
    for (let i = 0; i < 3; i++) await engine.open();
    expect((await Promise.all(calls)).map(show)).toEqual(['text: 1', 'text: 2', 'text: 3', 'finish', 'done']);
    expect(await expectEnded(router, ends, s)).toBe('ok:a 1 2 3');
  });

  it('next() calls made at once in the live phase', async () => {
    const engine = new GateEngine();
    const { router, ends } = setup(engine);
    const s = router.stream('x', { cache: false });
    const it = s[Symbol.asyncIterator]();
    expect([show(await it.next()), show(await it.next())]).toEqual(['route:m', 'text:a']);
    const first = it.next();
    await engine.open();
    expect(show(await first)).toBe('text: 1');
    const calls = [it.next(), it.next(), it.next(), it.next()];
    for (let i = 0; i < 2; i++) await engine.open();
    expect((await Promise.all(calls)).map(show)).toEqual(['text: 2', 'text: 3', 'finish', 'done']);
    expect(await expectEnded(router, ends, s)).toBe('ok:a 1 2 3');
  });

  it('return() made with a next() that hands the stream to the loop: the next() gets its part first', async () => {
    const engine = new GateEngine();
    const { router, ends } = setup(engine);
    const s = router.stream('x', { cache: false });
    const it = s[Symbol.asyncIterator]();
    expect([show(await it.next()), show(await it.next())]).toEqual(['route:m', 'text:a']);
    const pending = it.next();
    const closing = it.return!();
    await engine.open();
    expect(show(await pending)).toBe('text: 1');
    expect(show(await closing)).toBe('done');
    expect(await expectEnded(router, ends, s)).toBe('rejected:aborted:The stream was closed by its consumer before it ended');
    await vi.waitFor(() => expect(engine.closed).toBe(1), { timeout: 5_000, interval: 10 });
  });
});

describe('router stream iterator: closing it', () => {
  it('return() and throw() before the first next(): the request ends, nothing is sent', async () => {
    for (const how of ['return', 'throw'] as const) {
      const { router, ends } = setup();
      const s = router.stream('x', { cache: false });
      const it = s[Symbol.asyncIterator]();
      const closed = how === 'return' ? show(await it.return!()) : await it.throw!(new Error('early')).then(show, (e: Error) => `threw:${e.message}`);
      expect(closed).toBe(how === 'return' ? 'done' : 'threw:early');
      expect(show(await it.next())).toBe('done');
      expect(await expectEnded(router, ends, s)).toBe('rejected:aborted:The stream was closed by its consumer before it started');
      expect(router.stats()['m']?.requests ?? 0).toBe(0);
    }
  });

  it('return() / throw() / cancel() while the first next() waits for the engine', async () => {
    for (const how of ['return', 'throw', 'cancel'] as const) {
      const { router, ends } = setup(new MockEngine({ reply: 'one two', delayMs: 50 }));
      const s = router.stream('x', { cache: false });
      const it = s[Symbol.asyncIterator]();
      const pending = it.next();
      let closing: Promise<unknown> | undefined;
      if (how === 'return') closing = it.return!();
      else if (how === 'throw') closing = it.throw!(new Error('stop'));
      else s.cancel!('bye');
      const parts = [show(await pending)];
      if (closing) parts.push(await closing.then((r) => show(r as IteratorResult<RouterStreamPart>), (e: Error) => `threw:${e.message}`));
      parts.push(show(await it.next()));
      const result = await expectEnded(router, ends, s);
      expect(parts.at(-1)).toBe('done');
      expect(result).toMatch(/^rejected:/);
    }
  });

  it('return() / throw() / cancel() while a live next() waits for the engine', async () => {
    const expected = {
      return: { parts: ['route:m', 'text:a', 'text: 1', 'done', 'done'], result: 'rejected:aborted:The stream was closed by its consumer before it ended' },
      throw: { parts: ['route:m', 'text:a', 'text: 1', 'error:internal:stop', 'done'], result: 'rejected:internal:stop' },
      cancel: { parts: ['route:m', 'text:a', 'done', 'done'], result: 'rejected:aborted:The stream was cancelled by its consumer' },
    };
    for (const how of ['return', 'throw', 'cancel'] as const) {
      const engine = new GateEngine();
      const { router, ends } = setup(engine);
      const s = router.stream('x', { cache: false });
      const it = s[Symbol.asyncIterator]();
      const parts = [show(await it.next()), show(await it.next())];
      const pending = it.next();
      await expect.poll(() => engine.gates.length, { timeout: 5_000, interval: 5 }).toBe(1);
      let closing: Promise<unknown> | undefined;
      if (how === 'return') closing = it.return!();
      else if (how === 'throw') closing = it.throw!(new Error('stop'));
      else s.cancel!('bye');
      if (how !== 'cancel') engine.gates.shift()!();
      parts.push(show(await pending));
      if (closing) parts.push(await closing.then((r) => show(r as IteratorResult<RouterStreamPart>), (e: Error) => `threw:${e.message}`));
      parts.push(show(await it.next()));
      expect({ parts, result: await expectEnded(router, ends, s) }).toEqual(expected[how]);
      await vi.waitFor(() => expect(engine.closed).toBe(1), { timeout: 5_000, interval: 10 });
    }
  });

  it('for await: break, and an exception in the loop body (return() is called)', async () => {
    for (const how of ['break', 'throw'] as const) {
      const { router, ends } = setup();
      const ac = new AbortController();
      const s = router.stream('x', { cache: false, signal: ac.signal });
      const parts: string[] = [];
      try {
        for await (const p of s) {
          if (p.type === 'route' || p.type === 'text-delta') parts.push(part(p));
          if (p.type === 'text-delta') {
            if (how === 'break') break;
            throw new Error('consumer onPart threw');
          }
        }
      } catch (e) {
        parts.push(`threw:${(e as Error).message}`);
      }
      expect(parts).toEqual(how === 'break' ? ['route:m', 'text:one '] : ['route:m', 'text:one ', 'threw:consumer onPart threw']);
      expect(await expectEnded(router, ends, s, ac.signal)).toBe('rejected:aborted:The stream was closed by its consumer before it ended');
    }
  });

  it('return() after the finish part, next() after the end, a second iteration refused', async () => {
    const { router, ends } = setup();
    const s = router.stream('x', { cache: false });
    const it = s[Symbol.asyncIterator]();
    for (;;) {
      const r = await it.next();
      if (!r.done && r.value.type === 'finish') break;
    }
    expect([show(await it.return!()), show(await it.next()), show(await it.next())]).toEqual(['done', 'done', 'done']);
    expect(() => s[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    expect(await expectEnded(router, ends, s)).toBe('ok:one two three four');
  });
});

describe('router stream iterator: ends', () => {
  it('a full read with a caller signal leaves no listener on it', async () => {
    const { router, ends } = setup();
    const ac = new AbortController();
    const s = router.stream('x', { cache: false, signal: ac.signal });
    const parts: string[] = [];
    for await (const p of s) parts.push(part(p));
    expect(parts.at(-1)).toBe('finish');
    expect(await expectEnded(router, ends, s, ac.signal)).toBe('ok:one two three four');
  });

  it('an engine error after a part: an error part, then the end', async () => {
    const engine = new GateEngine(2);
    const { router, ends } = setup(engine);
    const s = router.stream('x', { cache: false });
    const it = s[Symbol.asyncIterator]();
    const parts = [show(await it.next()), show(await it.next())];
    for (let i = 0; i < 2; i++) {
      const p = it.next();
      await engine.open();
      parts.push(show(await p));
    }
    parts.push(show(await it.next()));
    expect(parts).toEqual(['route:m', 'text:a', 'text: 1', 'error:internal:engine broke at 2', 'done']);
    expect(await expectEnded(router, ends, s)).toBe('rejected:internal:engine broke at 2');
  });

  it('an engine error before the first part fails over to the next deployment', async () => {
    const first = new MockEngine({ reply: 'nope', failures: [{ code: 'provider_error', times: 1, afterChunks: 0 }] });
    const { router, ends } = setup(first, { second: new MockEngine({ reply: 'from n' }) });
    const s = router.stream('x', { cache: false });
    const parts: string[] = [];
    for await (const p of s) parts.push(part(p));
    expect(parts[0]).toBe('route:n');
    expect(await expectEnded(router, ends, s)).toBe('ok:from n');
  });

  it("the caller's signal aborted while a live next() waits, and while the consumer does not pull", async () => {
    for (const pulling of [true, false]) {
      const engine = new GateEngine();
      const { router, ends } = setup(engine);
      const ac = new AbortController();
      const s = router.stream('x', { cache: false, signal: ac.signal });
      const it = s[Symbol.asyncIterator]();
      const parts = [show(await it.next()), show(await it.next())];
      const pending = pulling ? it.next() : undefined;
      if (pulling) await expect.poll(() => engine.gates.length, { timeout: 5_000, interval: 5 }).toBe(1);
      ac.abort(new Error('caller gone'));
      if (!pulling) await expect.poll(() => ends.length, { timeout: 5_000, interval: 5 }).toBe(1);
      if (pending) parts.push(show(await pending));
      parts.push(show(await it.next()), show(await it.next()));
      expect(parts.slice(0, 2)).toEqual(['route:m', 'text:a']);
      expect(parts.at(-1)).toBe('done');
      expect(parts.filter((p) => p.startsWith('error:aborted:'))).toHaveLength(1);
      expect(await expectEnded(router, ends, s, ac.signal)).toMatch(/^rejected:aborted:/);
    }
  });

  it('a cached answer replayed', async () => {
    const { router, ends } = setup();
    await router.generate('same', {});
    ends.length = 0;
    const hit = router.stream('same', {});
    const types: string[] = [];
    for await (const p of hit) types.push(p.type);
    expect(types[0]).toBe('route');
    expect(types.at(-1)).toBe('finish');
    expect(await expectEnded(router, ends, hit)).toBe('ok:one two three four');
  });
});

describe('router stream iterator: its methods are called on it (as an async generator\'s)', () => {
  it('a method taken off it returns a rejected promise (TypeError), as a generator\'s does, and leaves the stream alone', async () => {
    const generator = (async function* () {})();
    const { next: generatorNext } = generator;
    await expect(generatorNext()).rejects.toBeInstanceOf(TypeError);

    const { router, ends } = setup();
    const s = router.stream('x', { cache: false });
    const it = s[Symbol.asyncIterator]();
    const { next, return: close, throw: fail } = it;
    let detached: Array<Promise<unknown>> = [];
    // Never a synchronous throw: a rejection, as for any failure of an iterator's method.
    expect(() => {
      detached = [next(), close!(), fail!(new Error('x')), it.next.call({}), it.return!.call(undefined)];
    }).not.toThrow();
    for (const p of detached) await expect(p).rejects.toBeInstanceOf(TypeError);
    // The iterator itself is untouched: it reads the whole stream.
    const parts: string[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) parts.push(show(r));
    expect(parts[0]).toBe('route:m');
    expect(parts.at(-1)).toBe('finish');
    expect(await expectEnded(router, ends, s)).toBe('ok:one two three four');
  });

  it('is iterable itself (for await over the iterator)', async () => {
    const { router, ends } = setup();
    const s = router.stream('x', { cache: false });
    const it = s[Symbol.asyncIterator]() as AsyncIterableIterator<RouterStreamPart>;
    expect(it[Symbol.asyncIterator]()).toBe(it);
    const types: string[] = [];
    for await (const p of it) types.push(p.type);
    expect(types[0]).toBe('route');
    expect(types.at(-1)).toBe('finish');
    expect(await expectEnded(router, ends, s)).toBe('ok:one two three four');
  });
});

describe('router stream iterator: what it shows', () => {
  function keyedRouter() {
    return new LLMRouter({ models: [{ name: 'm', engine: 'mock', apiKey: 'sk-iterator-secret' } as never] }, { engines: { m: new MockEngine({ reply: 'one two' }) } });
  }

  it('no own properties; JSON.stringify gives {} (default timeouts: the idle watch holds a timer)', async () => {
    const it = keyedRouter().stream('x', { cache: false })[Symbol.asyncIterator]();
    // Past the first content part: the live loop holds the attempt.
    while (((await it.next()).value as RouterStreamPart).type !== 'text-delta');
    expect(Object.keys(it)).toEqual([]);
    expect(Object.getOwnPropertyNames(it)).toEqual([]);
    expect(JSON.stringify(it)).toBe('{}');
    await it.return!();
  });

  it("inspecting it (any depth, hidden properties too) shows neither the deployment's API key nor the prompt", async () => {
    const it = keyedRouter().stream('a private prompt', { cache: false })[Symbol.asyncIterator]();
    await it.next();
    for (let r = await it.next(); !r.done && r.value.type !== 'text-delta'; r = await it.next());
    const shown = inspect(it, { depth: Infinity, showHidden: true });
    expect(shown).not.toContain('sk-iterator-secret');
    expect(shown).not.toContain('a private prompt');
    await it.return!();
  });
});

describe('router stream: .result awaited without iterating', () => {
  it('settles with the answer: the router reads the stream, and request:end follows request:start', { timeout: 20_000 }, async () => {
    const { router, ends } = setup();
    const starts: string[] = [];
    router.on('request:start', (e) => starts.push(e.requestId));
    const s = router.stream('hello');
    expect(await expectEnded(router, ends, s)).toBe('ok:one two three four');
    expect(ends.map((e) => e.requestId)).toEqual(starts);
    await router.close();
  });

  it('an iterator asked for after .then(fn) and an await gets every part in order (those read meanwhile first), the engine called once', async () => {
    const engine = new GateEngine();
    const { router, ends } = setup(engine);
    const calls = vi.spyOn(engine, 'stream');
    const s = router.stream('hello');
    let text: string | undefined;
    void s.result.then((r) => (text = r.text));
    // The router reads the stream meanwhile: it waits at the engine's first gate.
    await engine.open();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const p of s) seen.push(part(p));
    })();
    await engine.open();
    await engine.open();
    await reading;
    expect(seen).toEqual(['route:m', 'text:a', 'text: 1', 'text: 2', 'text: 3', 'finish']);
    expect(await expectEnded(router, ends, s)).toBe('ok:a 1 2 3');
    expect(text).toBe('a 1 2 3');
    expect(calls).toHaveBeenCalledTimes(1);
    expect(() => s[Symbol.asyncIterator]()).toThrow(/only once/);
    await router.close();
  });

  it('a break out of the iterator that took over closes the stream (aborted, the engine stream closed)', async () => {
    const engine = new GateEngine();
    const { router, ends } = setup(engine);
    const s = router.stream('hello');
    s.result.then(
      () => {},
      () => {},
    );
    await expect.poll(() => engine.gates.length, { timeout: 5_000, interval: 5 }).toBe(1);
    for await (const p of s) if (p.type === 'text-delta') break;
    expect(await expectEnded(router, ends, s)).toMatch(/^rejected:aborted:/);
    expect(engine.closed).toBe(1);
    await router.close();
  });

  it('.catch() alone does not start the stream (it stays lazy until read or awaited)', async () => {
    const engine = new MockEngine({ reply: 'x' });
    const { router, ends } = setup(engine);
    const calls = vi.spyOn(engine, 'stream');
    const s = router.stream('hello');
    s.result.catch(() => {});
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(calls).not.toHaveBeenCalled();
    expect(ends).toHaveLength(0);
    expect(await collectText(s)).toBe('x');
    await router.close();
  });
});

async function collectText(s: RouterStream): Promise<string> {
  let text = '';
  for await (const p of s) if (p.type === 'text-delta') text += p.delta;
  return text;
}
