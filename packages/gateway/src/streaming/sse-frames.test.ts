import { LLMError, type RouterResult, type RouterStreamPart, type StreamPart } from '@llmrr/core';
import { describe, expect, it, vi } from 'vitest';
import type { OpenedStream, RoutePart } from './open-stream.js';
import type { HeadEncoder } from './sse-frames.js';
import { sseReply, type StreamEncoder, type StreamOutcome } from './sse-response.js';

const usage = { inputTokens: 1, outputTokens: 2, totalTokens: 3 };
const route: RoutePart = { type: 'route', requestId: 'req1', deployment: 'd', model: 'm', provider: 'p', cached: false };
const result = { requestId: 'req1', text: 'ab', finishReason: 'stop', usage } as unknown as RouterResult;

/** Frames as readable text, so the tests read as the wire would. */
const encoder: StreamEncoder = {
  start: () => ['<start>'],
  part: (p) => (p.type === 'text-delta' && p.delta !== '' ? [`<${p.delta}>`] : []),
  finish: (p) => [`<finish ${p.finishReason}>`, '<done>'],
  error: (e) => [`<error ${e.code}>`],
};

/**
 * A router stream of `parts` (then its end, or a wait that only `return()` or `cancel()` ends), recording
 * `return()` and `cancel()` (`noCancel`: a stream without `cancel`, as another `GatewayRouter` may return).
 */
function opened(parts: RouterStreamPart[], options: { hang?: boolean; result?: Promise<RouterResult>; noCancel?: boolean } = {}) {
  const state = { returned: 0, pulled: 0, cancelled: [] as unknown[] };
  let wake: (() => void) | undefined;
  const iterator: AsyncIterator<RouterStreamPart> = {
    async next() {
      const i = state.pulled++;
      if (i < parts.length) return { done: false, value: parts[i]! };
      if (options.hang) await new Promise<void>((r) => (wake = r));
      return { done: true, value: undefined };
    },
    async return() {
      state.returned++;
      wake?.();
      return { done: true, value: undefined };
    },
  };
  const resultPromise = options.result ?? Promise.resolve(result);
  resultPromise.catch(() => {});
  const stream: OpenedStream = {
    route,
    head: [{ type: 'response-metadata', id: 'x' }, { type: 'text-delta', delta: 'a' }],
    iterator,
    stream: {
      requestId: 'req1',
      result: resultPromise,
      [Symbol.asyncIterator]: () => iterator,
      // As the router's: the upstream call stops and a waiting pull gets the end.
      ...(options.noCancel
        ? {}
        : {
            cancel: (reason?: unknown) => {
              state.cancelled.push(reason);
              wake?.();
            },
          }),
    },
    firstPartMs: 5,
    startedAt: 0,
    now: () => 9,
  };
  return { stream, state };
}

function reply(o: OpenedStream, settle: (outcome: StreamOutcome) => Promise<void> = async () => {}) {
  const outcomes: StreamOutcome[] = [];
  const client = new AbortController();
  const r = sseReply(o, encoder, {
    requestId: 'req1',
    headers: {},
    signal: client.signal,
    settle: async (outcome) => {
      outcomes.push(outcome);
      await settle(outcome);
    },
  });
  if (typeof r.body === 'string') throw new Error('not a stream');
  return { body: r.body, outcomes, client };
}

async function read(frames: AsyncIterator<string, void>): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 100; i++) {
    const next = await frames.next();
    if (next.done) return out;
    out.push(next.value);
  }
  throw new Error('too many frames');
}

const finish: StreamPart = { type: 'finish', finishReason: 'stop', usage };

describe('sseReply frames', () => {
  it('sends the head with the start, one string per part, then settles and sends the finish frames', async () => {
    const o = opened([route, { type: 'text-delta', delta: 'b' }, { type: 'usage', usage }, { type: 'text-delta', delta: '' }, { type: 'text-delta', delta: 'c' }, finish]);
    let settledBeforeFinish = false;
    const r = reply(o.stream, async () => {
      settledBeforeFinish = true;
    });
    const frames: string[] = [];
    for (;;) {
      const next = await r.body.frames.next();
      if (next.done) break;
      if (next.value.includes('finish')) expect(settledBeforeFinish).toBe(true);
      frames.push(next.value);
    }
    expect(frames).toEqual(['<start><a>', '<b>', '<c>', '<finish stop><done>']);
    expect(r.outcomes).toEqual([{ status: 'success', result, ttftMs: 5 }]);
    expect(o.state.returned).toBe(1);
  });

  it('ends a stream that breaks with the error event, settled as an error with what it produced', async () => {
    const o = opened([{ type: 'text-delta', delta: 'b' }, { type: 'usage', usage }, { type: 'error', error: new LLMError({ code: 'provider_error', message: 'fell over' }) }]);
    const r = reply(o.stream);
    expect(await read(r.body.frames)).toEqual(['<start><a>', '<b>', '<error provider_error>']);
    expect(r.outcomes).toMatchObject([{ status: 'error', error: { code: 'provider_error' }, usage, outputText: 'ab', ttftMs: 5 }]);
    expect(o.state.returned).toBe(1);
  });

  it('an iterator whose next() throws (instead of rejecting) still ends with the error event, settled once', async () => {
    const o = opened([]);
    let calls = 0;
    o.stream.iterator.next = () => {
      calls++;
      throw new LLMError({ code: 'provider_error', message: 'thrown synchronously' });
    };
    const r = reply(o.stream);
    expect(await read(r.body.frames)).toEqual(['<start><a>', '<error provider_error>']);
    expect(calls).toBe(1);
    expect(r.outcomes).toMatchObject([{ status: 'error', error: { code: 'provider_error' } }]);
  });

  it('a router stream that ends without a finish is stream_interrupted, never a silent end', async () => {
    const r = reply(opened([{ type: 'text-delta', delta: 'b' }]).stream);
    expect(await read(r.body.frames)).toEqual(['<start><a>', '<b>', '<error stream_interrupted>']);
    expect(r.outcomes).toMatchObject([{ status: 'error', error: { code: 'stream_interrupted' } }]);
  });

  it('a failed result or a failed settle on success ends with the error event instead of the finish', async () => {
    const failed = reply(opened([finish], { result: Promise.reject(new LLMError({ code: 'internal', message: 'lost' })) }).stream);
    expect(await read(failed.body.frames)).toEqual(['<start><a>', '<error internal>']);
    expect(failed.outcomes).toMatchObject([{ status: 'error', finishReason: 'stop' }]);
    const ledgerDown = reply(opened([finish]).stream, async (o) => {
      if (o.status === 'success') throw new LLMError({ code: 'internal', message: 'ledger down' });
    });
    expect(await read(ledgerDown.body.frames)).toEqual(['<start><a>', '<error internal>']);
    expect(ledgerDown.outcomes.map((o) => o.status)).toEqual(['success']);
  });

  it('an encoder that cannot finish (the result contradicts what was streamed) is settled as an error, never a success', async () => {
    const o = opened([finish]);
    const outcomes: StreamOutcome[] = [];
    const r = sseReply(o.stream, { ...encoder, finish: () => { throw new LLMError({ code: 'invalid_response', message: 'call 0 contradicts its streamed arguments' }); } }, {
      requestId: 'req1',
      headers: {},
      signal: undefined,
      settle: async (outcome) => void outcomes.push(outcome),
    });
    if (typeof r.body === 'string') throw new Error('not a stream');
    expect(await read(r.body.frames)).toEqual(['<start><a>', '<error invalid_response>']);
    expect(outcomes).toMatchObject([{ status: 'error', error: { code: 'invalid_response' }, finishReason: 'stop', outputText: 'a' }]);
    // The failure came after the complete result: settled with it (its usage and cost, once), not an estimate.
    expect(outcomes[0]).toHaveProperty('result', result);
    expect(o.state.returned).toBe(1);
  });

  it('a failure before the result (a broken stream, a failed result) carries no result to settle with', async () => {
    const broken = reply(opened([{ type: 'text-delta', delta: 'b' }]).stream);
    await read(broken.body.frames);
    const failed = reply(opened([finish], { result: Promise.reject(new LLMError({ code: 'internal', message: 'lost' })) }).stream);
    await read(failed.body.frames);
    for (const o of [...broken.outcomes, ...failed.outcomes]) expect(o).not.toHaveProperty('result');
  });

  it('an `aborted` error part while the client is still there (the router gave up on the stream) is an error: its event is sent, settled as error', async () => {
    const abandoned = new LLMError({ code: 'aborted', message: 'The stream was abandoned: its consumer did not ask for the next part within consumerIdleMs (100 ms)' });
    const o = opened([{ type: 'text-delta', delta: 'b' }, { type: 'error', error: abandoned }]);
    const r = reply(o.stream);
    expect(await read(r.body.frames)).toEqual(['<start><a>', '<b>', '<error aborted>']);
    expect(r.outcomes).toMatchObject([{ status: 'error', error: { code: 'aborted', message: abandoned.message }, outputText: 'ab' }]);
    expect(o.state.returned).toBe(1);
  });

  it('an `aborted` error part after the client left (its signal) is settled as aborted and sends no error event', async () => {
    const o = opened([{ type: 'text-delta', delta: 'b' }, { type: 'error', error: new LLMError({ code: 'aborted', message: 'caller left' }) }]);
    const r = reply(o.stream);
    expect((await r.body.frames.next()).value).toBe('<start><a>');
    expect((await r.body.frames.next()).value).toBe('<b>');
    r.client.abort(new DOMException('The client closed the connection', 'AbortError'));
    expect(await r.body.frames.next()).toEqual({ done: true, value: undefined });
    expect(r.outcomes).toMatchObject([{ status: 'aborted', error: { code: 'aborted' }, outputText: 'ab' }]);
    expect(o.state.returned).toBe(1);
  });

  it('cancel() mid-stream aborts the upstream, settles as aborted once and closes the router stream', async () => {
    const o = opened([{ type: 'text-delta', delta: 'b' }], { hang: true });
    const r = reply(o.stream);
    expect((await r.body.frames.next()).value).toBe('<start><a>');
    expect((await r.body.frames.next()).value).toBe('<b>');
    await r.body.cancel();
    expect(o.state.cancelled).toHaveLength(1);
    expect(o.state.cancelled[0]).toMatchObject({ name: 'AbortError' });
    expect(r.outcomes).toMatchObject([{ status: 'aborted', error: { code: 'aborted' }, outputText: 'ab' }]);
    expect(o.state.returned).toBe(1);
    expect(await r.body.frames.next()).toEqual({ done: true, value: undefined });
  });

  it('cancel() while a frame is awaited cancels the router stream, whose end the waiting pull gets', async () => {
    const o = opened([], { hang: true });
    const r = reply(o.stream);
    await r.body.frames.next();
    const pending = r.body.frames.next();
    const cancelled = r.body.cancel();
    const [frame] = await Promise.all([pending, cancelled]);
    // The client is gone: aborted, without an error event (the stream's end without a finish is not an error).
    expect(frame).toEqual({ done: true, value: undefined });
    expect(o.state.cancelled).toHaveLength(1);
    expect(r.outcomes).toMatchObject([{ status: 'aborted', error: { code: 'aborted' } }]);
    expect(o.state.returned).toBe(1);
  });

  it('cancel() of a router stream without cancel() closes it with return(), served after the awaited frame', async () => {
    const o = opened([], { hang: true, noCancel: true });
    const r = reply(o.stream);
    await r.body.frames.next();
    const pending = r.body.frames.next();
    const cancelled = r.body.cancel();
    // Such a stream ends the waiting pull when it is returned (as the router's did before it had cancel()).
    await o.stream.iterator.return!();
    const [frame] = await Promise.all([pending, cancelled]);
    expect(frame).toEqual({ done: true, value: undefined });
    expect(r.outcomes).toMatchObject([{ status: 'aborted', error: { code: 'aborted' } }]);
  });

  it("the client's signal aborting mid-stream settles it as aborted with the signal's reason, no error event", async () => {
    const o = opened([{ type: 'text-delta', delta: 'b' }, { type: 'error', error: new LLMError({ code: 'provider_error', message: 'socket closed' }) }]);
    const r = reply(o.stream);
    expect((await r.body.frames.next()).value).toBe('<start><a>');
    expect((await r.body.frames.next()).value).toBe('<b>');
    r.client.abort(new DOMException('The client closed the connection', 'AbortError'));
    expect(await r.body.frames.next()).toEqual({ done: true, value: undefined });
    expect(r.outcomes).toMatchObject([{ status: 'aborted', error: { code: 'aborted', cause: { message: 'The client closed the connection' } }, outputText: 'ab' }]);
  });

  it('cancel() before the first frame still settles the stream as aborted', async () => {
    const o = opened([finish]);
    const r = reply(o.stream);
    await r.body.cancel();
    expect(r.outcomes).toMatchObject([{ status: 'aborted' }]);
    expect(o.state.cancelled).toHaveLength(1);
    expect(o.state.returned).toBe(1);
    expect(await r.body.frames.next()).toEqual({ done: true, value: undefined });
  });
});

describe('sseReply frames: the time to first token', () => {
  /** A wire that carries text only (as the legacy completion leaves reasoning out): `carriesContent` says so. */
  const textOnly: StreamEncoder = { ...encoder, carriesContent: (p) => p.type === 'text-delta' && p.delta !== '' };
  const reasoning = (delta: string): StreamPart => ({ type: 'reasoning-delta', delta });

  /** Settles `o` through `enc`, its clock the number of parts pulled so far (plus 100): which pull the time was taken at. */
  async function ttftOf(o: ReturnType<typeof opened>, enc: StreamEncoder): Promise<StreamOutcome> {
    o.stream.now = () => 100 + o.state.pulled;
    const outcomes: StreamOutcome[] = [];
    const r = sseReply(o.stream, enc, { requestId: 'req1', headers: {}, signal: undefined, settle: async (x) => void outcomes.push(x) });
    if (typeof r.body === 'string') throw new Error('not a stream');
    await read(r.body.frames);
    expect(outcomes).toHaveLength(1);
    return outcomes[0]!;
  }

  it("is the head's content part's (the opening's) on a wire that carries every content part, reasoning too", async () => {
    const o = opened([{ type: 'text-delta', delta: 'b' }, finish]);
    o.stream.head = [reasoning('hmm')];
    expect(await ttftOf(o, encoder)).toMatchObject({ status: 'success', ttftMs: 5 });
  });

  it('is the first part the wire carries, pulled after the head, on a wire that leaves the head\'s out', async () => {
    const o = opened([reasoning('more'), { type: 'text-delta', delta: '' }, { type: 'text-delta', delta: 'b' }, { type: 'text-delta', delta: 'c' }, finish]);
    o.stream.head = [reasoning('hmm')];
    // Pulled third: the empty text carries nothing.
    expect(await ttftOf(o, textOnly)).toMatchObject({ status: 'success', ttftMs: 103 });
  });

  it("is an answer's end when its wire carried no content; a finish in the head is the opening's", async () => {
    const o = opened([reasoning('more'), finish]);
    o.stream.head = [reasoning('hmm')];
    // The end is the third pull (the router stream's done after the finish).
    expect(await ttftOf(o, textOnly)).toMatchObject({ status: 'success', ttftMs: 103 });
    const empty = opened([]);
    empty.stream.head = [finish];
    expect(await ttftOf(empty, textOnly)).toMatchObject({ status: 'success', ttftMs: 5 });
  });

  it('is none for a stream that broke off before its wire carried content', async () => {
    const o = opened([reasoning('more'), { type: 'error', error: new LLMError({ code: 'provider_error', message: 'fell over' }) }]);
    o.stream.head = [reasoning('hmm')];
    const outcome = await ttftOf(o, textOnly);
    expect(outcome).toMatchObject({ status: 'error', outputText: 'hmmmore' });
    expect(outcome.status === 'error' && outcome.ttftMs).toBeUndefined();
  });
});

describe('sseReply frames: the head and usage parts', () => {
  it("an encoder's afterHead goes out in the first write, also when the head ends in the finish (before the settle)", async () => {
    const o = opened([]);
    o.stream.head = [{ type: 'usage', usage }, finish];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const enc: HeadEncoder = { ...encoder, start: () => [], afterHead: () => ['<opening>'] };
    const outcomes: StreamOutcome[] = [];
    const r = sseReply(o.stream, enc, { requestId: 'req1', headers: {}, signal: undefined, settle: async (x) => (outcomes.push(x), released) });
    if (typeof r.body === 'string') throw new Error('not a stream');
    expect(await r.body.frames.next()).toEqual({ done: false, value: '<opening>' });
    // The finish waits for the settle; the opening did not.
    const last = r.body.frames.next();
    await Promise.resolve();
    release();
    expect((await last).value).toBe('<finish stop><done>');
    expect(outcomes).toMatchObject([{ status: 'success' }]);
  });

  it("an escalated cascade's usage parts reach the encoder with the weak step's spend added; the bill keeps the parts' own", async () => {
    const weak = { inputTokens: 10, outputTokens: 5, totalTokens: 15, cacheWriteInputTokens: 1000, cacheWrite1hInputTokens: 0 };
    const strong = { inputTokens: 20, outputTokens: 0, totalTokens: 20, cacheWriteInputTokens: 300, cacheWrite1hInputTokens: 300 };
    const seen: StreamPart[] = [];
    const enc: StreamEncoder = { ...encoder, part: (p) => (seen.push(p), encoder.part(p)) };
    for (const replay of [false, true]) {
      seen.length = 0;
      const o = opened([{ type: 'error', error: new LLMError({ code: 'provider_error', message: 'broke' }) }]);
      o.stream.head = [{ type: 'usage', usage: strong }, { type: 'text-delta', delta: 'a' }];
      o.stream.stream.spent = () => ({ usage: weak, cost: { inputUsd: 0, outputUsd: 0, totalUsd: 0.01, estimated: false }, replay });
      const outcomes: StreamOutcome[] = [];
      const r = sseReply(o.stream, enc, { requestId: 'req1', headers: {}, signal: undefined, settle: async (x) => void outcomes.push(x) });
      if (typeof r.body === 'string') throw new Error('not a stream');
      await read(r.body.frames);
      const usages = seen.filter((p) => p.type === 'usage');
      if (replay) {
        // The parts are the weak answer itself (its usage is the whole spend): nothing to add.
        expect(usages).toEqual([{ type: 'usage', usage: strong }]);
      } else {
        // The weak step's spend first (a strong step that reports no usage before its content still opens with
        // it), then the strong step's part with it added.
        const sum = { inputTokens: 30, outputTokens: 5, totalTokens: 35, cacheWriteInputTokens: 1300, cacheWrite1hInputTokens: 300 };
        expect(usages).toEqual([{ type: 'usage', usage: weak }, { type: 'usage', usage: sum }]);
      }
      expect(seen.at(-1)).toEqual({ type: 'text-delta', delta: 'a' });
      // The settlement adds the spend itself (calls/settle.ts): the outcome has the strong call's own usage.
      expect(outcomes).toMatchObject([{ status: 'error', usage: strong }]);
    }
  });

  it("a router cache hit's usage part reaches the encoder with 0 cache reads and writes (as answerUsage counts the result); an escalated cascade's strong hit adds none", async () => {
    const original = { inputTokens: 50, outputTokens: 0, totalTokens: 50, cachedInputTokens: 40, cacheWriteInputTokens: 10, cacheWrite1hInputTokens: 10 };
    const weak = { inputTokens: 10, outputTokens: 5, totalTokens: 15, cacheWriteInputTokens: 1000, cacheWrite1hInputTokens: 0 };
    for (const escalated of [false, true]) {
      const seen: StreamPart[] = [];
      const enc: StreamEncoder = { ...encoder, part: (p) => (seen.push(p), encoder.part(p)) };
      const o = opened([{ type: 'error', error: new LLMError({ code: 'provider_error', message: 'broke' }) }]);
      o.stream.route = { ...route, cached: 'exact' };
      o.stream.head = [{ type: 'usage', usage: original }, { type: 'text-delta', delta: 'a' }];
      if (escalated) o.stream.stream.spent = () => ({ usage: weak, cost: { inputUsd: 0, outputUsd: 0, totalUsd: 0.01, estimated: false }, replay: false });
      const outcomes: StreamOutcome[] = [];
      const r = sseReply(o.stream, enc, { requestId: 'req1', headers: {}, signal: undefined, settle: async (x) => void outcomes.push(x) });
      if (typeof r.body === 'string') throw new Error('not a stream');
      await read(r.body.frames);
      const usages = seen.filter((p) => p.type === 'usage').map((p) => (p as { usage: unknown }).usage);
      if (escalated) expect(usages).toEqual([weak, { inputTokens: 60, outputTokens: 5, totalTokens: 65, cacheWriteInputTokens: 1000, cacheWrite1hInputTokens: 0 }]);
      else expect(usages).toEqual([{ ...original, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 }]);
      // The bill: the part's own usage (the settlement leaves a hit's counts out itself).
      expect(outcomes).toMatchObject([{ status: 'error', usage: original }]);
    }
  });
});

/** The pieces `pipe` writes (every write taken at once). */
async function piped(body: { pipe?: (sink: { write(piece: string): boolean; drained(): Promise<void> }) => Promise<void> }): Promise<string[]> {
  const out: string[] = [];
  await body.pipe!({ write: (piece) => (out.push(piece), true), drained: () => Promise.reject(new Error('never buffered')) });
  return out;
}

describe('sseReply pipe (the Node adapter path)', () => {
  const error = (code: 'provider_error' | 'aborted') => ({ type: 'error', error: new LLMError({ code, message: 'broke' }) }) as const;
  const cases: [string, () => { o: ReturnType<typeof opened>; settle?: (x: StreamOutcome) => Promise<void> }][] = [
    ['a success with usage and empty parts', () => ({ o: opened([route, { type: 'text-delta', delta: 'b' }, { type: 'usage', usage }, { type: 'text-delta', delta: '' }, { type: 'text-delta', delta: 'c' }, finish]) })],
    ['a broken stream', () => ({ o: opened([{ type: 'text-delta', delta: 'b' }, { type: 'usage', usage }, error('provider_error')]) })],
    ['an `aborted` error part, the client still there', () => ({ o: opened([{ type: 'text-delta', delta: 'b' }, error('aborted')]) })],
    ['a stream without a finish', () => ({ o: opened([{ type: 'text-delta', delta: 'b' }]) })],
    ['a failed result', () => ({ o: opened([finish], { result: Promise.reject(new LLMError({ code: 'internal', message: 'lost' })) }) })],
    [
      'a failed settle on success',
      () => ({
        o: opened([finish]),
        settle: async (x) => {
          if (x.status === 'success') throw new LLMError({ code: 'internal', message: 'ledger down' });
        },
      }),
    ],
    [
      'an iterator whose next() throws',
      () => {
        const o = opened([]);
        o.stream.iterator.next = () => {
          throw new LLMError({ code: 'provider_error', message: 'thrown synchronously' });
        };
        return { o };
      },
    ],
  ];
  it.each(cases)('%s: the same pieces, outcome and close as frames.next() gives', async (_, make) => {
    const results = [];
    for (const how of ['next', 'pipe'] as const) {
      const { o, settle } = make();
      const r = reply(o.stream, settle);
      const frames = how === 'next' ? await read(r.body.frames) : await piped(r.body);
      results.push({ frames, outcomes: r.outcomes, returned: o.state.returned });
      // Done: later calls get the end.
      expect(await r.body.frames.next()).toEqual({ done: true, value: undefined });
    }
    expect(results[0]!.frames.length).toBeGreaterThan(0);
    expect(results[1]).toEqual(results[0]);
  });

  it('waits for drained() after a buffered write before it pulls the next part', async () => {
    const o = opened([{ type: 'text-delta', delta: 'b' }, { type: 'text-delta', delta: 'c' }, finish]);
    const r = reply(o.stream);
    const out: string[] = [];
    let release!: () => void;
    let waits = 0;
    const done = r.body.pipe!({
      write: (piece) => (out.push(piece), piece !== '<b>'),
      drained: () => (waits++, new Promise<void>((resolve) => (release = resolve))),
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(out).toEqual(['<start><a>', '<b>']);
    expect(waits).toBe(1);
    expect(o.state.pulled).toBe(1);
    release();
    await done;
    expect(out).toEqual(['<start><a>', '<b>', '<c>', '<finish stop><done>']);
    expect(r.outcomes).toMatchObject([{ status: 'success' }]);
  });

  it('cancel() while it waits for a part: settled as aborted once, nothing more written, the router stream closed', async () => {
    const o = opened([{ type: 'text-delta', delta: 'b' }], { hang: true });
    const r = reply(o.stream);
    const out: string[] = [];
    const done = r.body.pipe!({ write: (piece) => (out.push(piece), true), drained: async () => {} });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(out).toEqual(['<start><a>', '<b>']);
    await Promise.all([r.body.cancel(), done]);
    expect(out).toEqual(['<start><a>', '<b>']);
    expect(o.state.cancelled).toHaveLength(1);
    // The waiting pull got the end of a cancelled stream: the client's abort.
    expect(r.outcomes).toMatchObject([{ status: 'aborted', error: { code: 'aborted', cause: { message: 'This operation was aborted' } }, outputText: 'ab' }]);
    expect(o.state.returned).toBe(1);
  });

  it('a client gone while it waits for drained(): closed as return() closes it (aborted, the client closed the stream)', async () => {
    const o = opened([{ type: 'text-delta', delta: 'b' }, { type: 'text-delta', delta: 'c' }, finish]);
    const r = reply(o.stream);
    const out: string[] = [];
    let release!: () => void;
    const done = r.body.pipe!({ write: (piece) => (out.push(piece), false), drained: () => new Promise<void>((resolve) => (release = resolve)) });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const cancelled = r.body.cancel();
    release();
    await Promise.all([cancelled, done]);
    expect(out).toEqual(['<start><a>']);
    expect(o.state.pulled).toBe(0);
    expect(r.outcomes).toMatchObject([{ status: 'aborted', error: { code: 'aborted', cause: { message: 'The client closed the stream' } }, outputText: 'a' }]);
    expect(o.state.returned).toBe(1);
  });
});

/**
 * A client that takes nothing for `idleMs` (the router's `consumerIdleMs`) is given up on by the gateway, whatever the
 * router stream (here one that never gives up itself, as a cache hit's replay or an escalated cascade's): the router
 * stream cancelled, the call settled once as a `timeout` error, the transport told (`abandon`), the error event last.
 * The router's own give-up coming after it settles nothing more.
 */
describe('sseReply: a client that takes nothing for idleMs', () => {
  function idleReply(o: OpenedStream) {
    const outcomes: StreamOutcome[] = [];
    const r = sseReply(o, encoder, { requestId: 'req1', headers: {}, signal: new AbortController().signal, idleMs: 30, settle: async (x) => void outcomes.push(x) });
    if (typeof r.body === 'string') throw new Error('not a stream');
    return { body: r.body, outcomes };
  }
  const timeout = new LLMError({ code: 'timeout', message: 'Timed out: the stream was abandoned: its consumer did not ask for the next part within consumerIdleMs (30 ms)' });

  it('pipe: a write that waits idleMs for drained() gives up (settled once, abandon once), the error event written once it drains', async () => {
    let rejectResult!: (e: unknown) => void;
    const result = new Promise<RouterResult>((_, reject) => (rejectResult = reject));
    const o = opened([{ type: 'text-delta', delta: 'b' }, { type: 'text-delta', delta: 'c' }, finish], { result });
    const r = idleReply(o.stream);
    const out: string[] = [];
    let release!: () => void;
    let abandoned = 0;
    const done = r.body.pipe!({
      write: (piece) => (out.push(piece), false),
      drained: () => new Promise<void>((resolve) => (release = resolve)),
      abandon: () => void abandoned++,
    });
    await vi.waitFor(() => expect(r.outcomes).toHaveLength(1), { timeout: 5000, interval: 5 });
    expect(r.outcomes[0]).toMatchObject({ status: 'error', error: { code: 'timeout', message: timeout.message }, outputText: 'a' });
    expect(o.state.cancelled).toEqual([expect.objectContaining({ code: 'timeout' })]);
    expect(abandoned).toBe(1);
    // The router's own give-up, later: nothing more.
    rejectResult(timeout);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(r.outcomes).toHaveLength(1);
    // The client reads again: the error event, then the end.
    release();
    await vi.waitFor(() => expect(out).toHaveLength(2), { timeout: 5000, interval: 5 });
    release();
    await done;
    expect(out).toEqual(['<start><a>', '<error timeout>']);
    expect(o.state.pulled).toBe(0);
    expect(o.state.returned).toBe(1);
    expect(abandoned).toBe(1);
  });

  it('next(): a reader that asks for no frame for 1 to 2 idleMs is given up on (settled once, onAbandon told), then gets the error event', async () => {
    const o = opened([{ type: 'text-delta', delta: 'b' }, finish]);
    const r = idleReply(o.stream);
    let abandoned = 0;
    r.body.onAbandon!(() => void abandoned++);
    expect(await r.body.frames.next()).toEqual({ done: false, value: '<start><a>' });
    await vi.waitFor(() => expect(r.outcomes).toHaveLength(1), { timeout: 5000, interval: 5 });
    expect(r.outcomes[0]).toMatchObject({ status: 'error', error: { code: 'timeout' } });
    expect(o.state.cancelled).toHaveLength(1);
    expect(abandoned).toBe(1);
    expect(await read(r.body.frames)).toEqual(['<error timeout>']);
    expect(r.outcomes).toHaveLength(1);
  });
});
