/**
 * The parts of one network chunk after the first go through the router stream without a promise each
 * (`takeReadyPart`, the live loop's `liveTake` over `SsePartStream`'s `TAKE_QUEUED`): in order, mixed with `next()`
 * calls, the same parts as `next()` alone gives; none taken once the chunk's parts are out or the stream was
 * cancelled; an abort in the middle of a chunk's parts ends the stream with the abort error (the rest dropped), and a
 * finish taken at once settles the stream before it is handed out. The upstream is the openai-compatible engine's
 * SSE body pushed chunk by chunk as a socket delivers it (a `DIRECT_BODY`), so that which events share a chunk is
 * known: a real socket may split or join them.
 */
import { describe, expect, it } from 'vitest';
import { rejection } from '../test/async.test-helpers.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { RELEASES_ABORT_LISTENERS, TAKES_ATTEMPT_SIGNALS } from '../util/abort.js';
import { DIRECT_BODY, type BodySink } from '../util/direct-body.js';
import { takeReadyPart, waitReadyPart } from './router-stream.js';
import type { RouterStreamPart } from './types.js';

const encoder = new TextEncoder();
const event = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const text = (s: string) => event({ content: s });
const ending = `${event({}, 'stop')}data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } })}\n\ndata: [DONE]\n\n`;

/** A router over one openai-compatible deployment whose upstream body the test pushes chunk by chunk (`push`). */
function pushedUpstream(timeouts: { consumerIdleMs?: number } = {}) {
  let sink: BodySink | undefined;
  const state = { cancelled: false, released: false };
  const early: string[] = [];
  const fetchFn = async (): Promise<Response> => {
    const tap = (s: BodySink) => {
      sink = s;
      for (const c of early.splice(0)) s.data(encoder.encode(c));
      return {
        pause() {},
        resume() {},
        cancel: () => void (state.cancelled = true),
        release: () => void (state.released = true),
      };
    };
    return Object.assign(new Response(null, { status: 200, headers: { 'content-type': 'text/event-stream' } }), { [DIRECT_BODY]: { tap } });
  };
  const fetch = Object.assign(fetchFn, { [RELEASES_ABORT_LISTENERS]: true, [TAKES_ATTEMPT_SIGNALS]: true }) as unknown as typeof globalThis.fetch;
  const { router } = openAIWireRouter([{ name: 'main', engine: 'openai-compatible', baseURL: 'http://upstream.invalid/v1', model: 'gpt-test', apiKey: 'k' }], { retries: { max: 0 }, timeouts }, { fetch });
  return {
    router,
    state,
    /** One network chunk: the events in it are decoded together. */
    push(chunk: string) {
      if (sink) sink.data(encoder.encode(chunk));
      else early.push(chunk);
    },
    /** The connection breaks. */
    fail(cause: unknown) {
      sink!.error(cause);
    },
  };
}

/** A stream past its head (route and first content), its iterator handed to the live loop by the `next()` that reads `after`. */
async function live(up: ReturnType<typeof pushedUpstream>, after: string[], signal?: AbortSignal) {
  up.push(event({ role: 'assistant', content: '' }) + text('zero'));
  const s = up.router.stream('x', signal ? { signal } : {});
  const it = s[Symbol.asyncIterator]();
  expect((await it.next()).value).toMatchObject({ type: 'route' });
  // (Metadata parts first.)
  let first = await it.next();
  while (!first.done && first.value.type !== 'text-delta') first = await it.next();
  expect(first.value).toMatchObject({ type: 'text-delta', delta: 'zero' });
  // Nothing taken while `runStream` still serves the calls.
  expect(takeReadyPart(it)).toBeUndefined();
  up.push(after.map(text).join(''));
  return { s, it };
}

const delta = (r: IteratorResult<RouterStreamPart> | undefined) => (r && !r.done && r.value.type === 'text-delta' ? r.value.delta : r);

describe('router stream: the parts of one chunk taken at once (takeReadyPart)', () => {
  it('hands out the rest of a chunk in order without waiting, then nothing until the next chunk; mixed with next()', async () => {
    const up = pushedUpstream();
    const { s, it } = await live(up, ['a', 'b', 'c', 'd']);
    expect(delta(await it.next())).toBe('a');
    expect(delta(takeReadyPart(it) as IteratorResult<RouterStreamPart>)).toBe('b');
    expect(delta(await it.next())).toBe('c');
    expect(delta(takeReadyPart(it) as IteratorResult<RouterStreamPart>)).toBe('d');
    expect(takeReadyPart(it)).toBeUndefined();
    // A pull that waits for the upstream, served in order with what is taken after it.
    const waiting = it.next();
    up.push(text('e') + text('f'));
    expect(delta(await waiting)).toBe('e');
    expect(delta(takeReadyPart(it) as IteratorResult<RouterStreamPart>)).toBe('f');
    // The finish, taken at once: the stream settles (the answer stored, `.result`) before it is handed out.
    up.push(text('g') + ending);
    expect(delta(takeReadyPart(it) as IteratorResult<RouterStreamPart>)).toBe('g');
    // (The usage part, then the finish.)
    let finish = takeReadyPart(it);
    expect(finish).toMatchObject({ done: false, value: { type: 'usage' } });
    finish = takeReadyPart(it);
    expect(finish).toBeInstanceOf(Promise);
    // While the finish is being settled, nothing more is taken (the step is in progress).
    expect(takeReadyPart(it)).toBeUndefined();
    expect((await finish)?.value).toMatchObject({ type: 'finish', finishReason: 'stop' });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect((await s.result).text).toBe('zeroabcdefg');
    expect(up.state.cancelled).toBe(false);
  });

  it('gives the parts next() alone gives, in the same order', async () => {
    const read = async (take: boolean) => {
      const up = pushedUpstream();
      const { s, it } = await live(up, ['a', 'b', 'c']);
      const parts: RouterStreamPart[] = [];
      let pushedEnd = false;
      for (;;) {
        const ready = take ? takeReadyPart(it) : undefined;
        if (ready === undefined && !pushedEnd) {
          // (The chunk's parts are out: the next chunk carries the end.)
          const next = it.next();
          if (take) {
            pushedEnd = true;
            up.push(text('d') + ending);
          }
          const r = await next;
          if (r.done) break;
          parts.push(r.value);
          if (!take && parts.length === 3) {
            pushedEnd = true;
            up.push(text('d') + ending);
          }
          continue;
        }
        const r = ready === undefined ? await it.next() : await ready;
        if (r.done) break;
        parts.push(r.value);
      }
      await s.result;
      return parts;
    };
    const taken = await read(true);
    expect(taken.map((p) => p.type)).toEqual(['text-delta', 'text-delta', 'text-delta', 'text-delta', 'usage', 'finish']);
    expect(taken).toEqual(await read(false));
  });

  it("an abort in the middle of a chunk's parts ends the stream with the abort error: the rest is dropped", async () => {
    const up = pushedUpstream();
    const controller = new AbortController();
    const { s, it } = await live(up, ['a', 'b', 'c', 'd'], controller.signal);
    expect(delta(await it.next())).toBe('a');
    expect(delta(takeReadyPart(it) as IteratorResult<RouterStreamPart>)).toBe('b');
    controller.abort();
    const last = takeReadyPart(it) ?? (await it.next());
    expect(await last).toMatchObject({ done: false, value: { type: 'error', error: { code: 'aborted' } } });
    expect(takeReadyPart(it)).toBeUndefined();
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect((await rejection(s.result)).code).toBe('aborted');
    expect(up.state.cancelled).toBe(true);
  });

  it("a stream cancelled in the middle of a chunk's parts takes none of the rest: its pulls get the end", async () => {
    const up = pushedUpstream();
    const { s, it } = await live(up, ['a', 'b', 'c']);
    expect(delta(await it.next())).toBe('a');
    s.cancel!();
    expect(takeReadyPart(it)).toBeUndefined();
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect((await rejection(s.result)).code).toBe('aborted');
    expect(up.state.cancelled).toBe(true);
  });

  it('takes nothing from an iterator that is not a router stream iterator', () => {
    const other: AsyncIterator<RouterStreamPart> = { next: async () => ({ done: true, value: undefined }) };
    expect(takeReadyPart(other)).toBeUndefined();
    expect(waitReadyPart(other)).toBeUndefined();
  });
});

describe('router stream: a wait for the next part without taking it (waitReadyPart)', () => {
  it('resolves once the next chunk came, whose parts are then taken at once; none while parts are ready', async () => {
    const up = pushedUpstream();
    const { s, it } = await live(up, ['a', 'b']);
    // Nothing to wait for while `runStream` serves the calls, nor while parts are ready.
    expect(waitReadyPart(it)).toBeUndefined();
    expect(delta(await it.next())).toBe('a');
    expect(waitReadyPart(it)).toBeUndefined();
    expect(delta(takeReadyPart(it) as IteratorResult<RouterStreamPart>)).toBe('b');
    const wait = waitReadyPart(it);
    expect(wait).toBeInstanceOf(Promise);
    let woken = false;
    void wait!.then(() => (woken = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(woken).toBe(false);
    // Still nothing to take until the chunk comes.
    expect(takeReadyPart(it)).toBeUndefined();
    up.push(text('c') + text('d'));
    await wait;
    expect(delta(takeReadyPart(it) as IteratorResult<RouterStreamPart>)).toBe('c');
    expect(delta(takeReadyPart(it) as IteratorResult<RouterStreamPart>)).toBe('d');
    // The end comes as the next chunk: waited for, then taken (usage, then the finish being settled).
    const last = waitReadyPart(it)!;
    up.push(ending);
    await last;
    expect(takeReadyPart(it)).toMatchObject({ done: false, value: { type: 'usage' } });
    expect(await takeReadyPart(it)).toMatchObject({ done: false, value: { type: 'finish' } });
    expect(waitReadyPart(it)).toBeUndefined();
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect((await s.result).text).toBe('zeroabcd');
  });

  it('a wait is the consumer asking: a slow upstream is not an idle consumer (consumerIdleMs)', async () => {
    const up = pushedUpstream({ consumerIdleMs: 20 });
    const { s, it } = await live(up, ['a']);
    expect(delta(await it.next())).toBe('a');
    const wait = waitReadyPart(it)!;
    // Several idle limits without a chunk: the router waits for its upstream, not for its consumer.
    await new Promise((r) => setTimeout(r, 120));
    up.push(text('b') + ending);
    await wait;
    expect(delta(takeReadyPart(it) as IteratorResult<RouterStreamPart>)).toBe('b');
    expect(takeReadyPart(it)).toMatchObject({ done: false, value: { type: 'usage' } });
    expect(await takeReadyPart(it)).toMatchObject({ done: false, value: { type: 'finish' } });
    expect((await s.result).text).toBe('zeroab');
  });

  it('a consumer that stops after a part taken at once is still given up on (consumerIdleMs)', async () => {
    const up = pushedUpstream({ consumerIdleMs: 20 });
    const { s, it } = await live(up, ['a', 'b']);
    expect(delta(await it.next())).toBe('a');
    expect(delta(takeReadyPart(it) as IteratorResult<RouterStreamPart>)).toBe('b');
    // No pull for several limits: the upstream request is cancelled and the stream ends with the timeout.
    expect((await rejection(s.result)).code).toBe('timeout');
    expect(up.state.cancelled).toBe(true);
    expect(await it.next()).toMatchObject({ done: false, value: { type: 'error', error: { code: 'timeout' } } });
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('a consumer that stops after an empty take is still given up on (consumerIdleMs): an empty take is no pull', async () => {
    const up = pushedUpstream({ consumerIdleMs: 20 });
    const { s, it } = await live(up, ['a', 'b']);
    expect(delta(await it.next())).toBe('a');
    expect(delta(takeReadyPart(it) as IteratorResult<RouterStreamPart>)).toBe('b');
    expect(takeReadyPart(it)).toBeUndefined();
    // Before: the empty take marked the consumer as pulling, and the stream was held with no timeout.
    expect((await rejection(s.result)).code).toBe('timeout');
    expect(up.state.cancelled).toBe(true);
  });

  it('a stream cancelled during the wait: the wait ends, nothing is taken, the next pull gets the end', async () => {
    const up = pushedUpstream();
    const { s, it } = await live(up, ['a']);
    expect(delta(await it.next())).toBe('a');
    const wait = waitReadyPart(it)!;
    s.cancel!();
    await wait;
    expect(takeReadyPart(it)).toBeUndefined();
    expect(waitReadyPart(it)).toBeUndefined();
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect((await rejection(s.result)).code).toBe('aborted');
    expect(up.state.cancelled).toBe(true);
  });

  it("the caller's abort during the wait: the wait ends and the abort error is the last part", async () => {
    const up = pushedUpstream();
    const controller = new AbortController();
    const { s, it } = await live(up, ['a'], controller.signal);
    expect(delta(await it.next())).toBe('a');
    const wait = waitReadyPart(it)!;
    controller.abort();
    await wait;
    const last = takeReadyPart(it) ?? it.next();
    expect(await last).toMatchObject({ done: false, value: { type: 'error', error: { code: 'aborted' } } });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect((await rejection(s.result)).code).toBe('aborted');
    expect(up.state.cancelled).toBe(true);
  });

  it('an upstream that breaks during the wait: the wait ends and its error is the last part (never a silent end)', async () => {
    const up = pushedUpstream();
    const { s, it } = await live(up, ['a']);
    expect(delta(await it.next())).toBe('a');
    const wait = waitReadyPart(it)!;
    up.fail(new Error('socket reset'));
    await wait;
    const last = takeReadyPart(it) ?? it.next();
    expect(await last).toMatchObject({ done: false, value: { type: 'error', error: { code: 'stream_interrupted' } } });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect((await rejection(s.result)).code).toBe('stream_interrupted');
  });
});
