import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import type { StreamPart } from '../spec/stream-parts.js';
import { SsePartStream, type SsePartDecoder } from './sse-part-stream.js';

const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
const encoder = new TextEncoder();

/** Text deltas for each `data:`, `finish` for `[DONE]`; `end()` without `[DONE]` is an error, as for OpenAI. */
class TestDecoder implements SsePartDecoder {
  done = false;
  decode(data: string): StreamPart[] {
    if (data === 'THROW') throw new Error('decoder bug');
    if (data === '[DONE]') return this.terminal({ type: 'finish', finishReason: 'stop', usage });
    return [{ type: 'text-delta', delta: data }];
  }
  end(): StreamPart[] {
    return this.terminal({ type: 'error', error: new LLMError({ code: 'stream_interrupted', message: 'no [DONE]' }) });
  }
  interrupted(cause: unknown): StreamPart[] {
    return this.terminal({ type: 'error', error: new LLMError({ code: 'stream_interrupted', message: `cut: ${String(cause)}` }) });
  }
  private terminal(part: StreamPart): StreamPart[] {
    if (this.done) return [];
    this.done = true;
    return [part];
  }
}

/** A body that hands out `reads` one per `read()` (then waits forever when `hang`), recording cancellation. */
function body(reads: string[], options: { hang?: boolean; failAt?: number } = {}) {
  const state = { cancelled: false, pulls: 0 };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const i = state.pulls++;
        if (i === options.failAt) return controller.error(new Error('socket reset'));
        if (i < reads.length) return controller.enqueue(encoder.encode(reads[i]));
        if (!options.hang) return controller.close();
        return new Promise<void>(() => {});
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

function partStream(reads: string[], options: { hang?: boolean; failAt?: number; signal?: AbortSignal } = {}) {
  const b = body(reads, options);
  let opened = 0;
  const stream = new SsePartStream({
    signal: options.signal,
    open: async () => {
      opened++;
      return { response: new Response(b.stream), decoder: new TestDecoder() };
    },
    abortPart: () => ({ type: 'error', error: new LLMError({ code: 'aborted', message: 'aborted' }) }),
  });
  return { stream, state: b.state, opened: () => opened };
}

async function collect(iterable: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of iterable) parts.push(part);
  return parts;
}

const deltas = (parts: StreamPart[]) => parts.map((p) => (p.type === 'text-delta' ? p.delta : p.type === 'error' ? `error:${p.error.code}` : p.type));

describe('SsePartStream', () => {
  it('opens on the first next(), not before', async () => {
    const s = partStream(['data: a\n\n', 'data: [DONE]\n\n']);
    await Promise.resolve();
    expect(s.opened()).toBe(0);
    expect(deltas(await collect(s.stream))).toEqual(['a', 'finish']);
    expect(s.opened()).toBe(1);
  });

  it('hands out every event of one read in order, and events split across reads', async () => {
    const s = partStream(['data: a\n\ndata: b\n\nda', 'ta: c\n', '\ndata: [DONE]\n\ndata: ignored\n\n']);
    expect(deltas(await collect(s.stream))).toEqual(['a', 'b', 'c', 'finish']);
  });

  it('cancels the body as soon as the terminal part is decoded', async () => {
    const s = partStream(['data: a\n\ndata: [DONE]\n\n'], { hang: true });
    const it = s.stream[Symbol.asyncIterator]();
    expect(deltas([(await it.next()).value as StreamPart])).toEqual(['a']);
    expect(s.state.cancelled).toBe(true);
    expect(deltas([(await it.next()).value as StreamPart])).toEqual(['finish']);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('ends a body that stops without a terminal part with the decoder end() part', async () => {
    expect(deltas(await collect(partStream(['data: a\n\n', 'data: b']).stream))).toEqual(['a', 'error:stream_interrupted']);
  });

  it('ends a body that fails with the decoder interrupted() part', async () => {
    const parts = await collect(partStream(['data: a\n\n'], { failAt: 1 }).stream);
    expect(deltas(parts)).toEqual(['a', 'error:stream_interrupted']);
    expect(parts[1]).toMatchObject({ error: { message: expect.stringContaining('socket reset') } });
  });

  it('ends with an error part when the decoder throws (never a silent end)', async () => {
    const parts = await collect(partStream(['data: a\n\ndata: THROW\n\n']).stream);
    expect(deltas(parts)).toEqual(['a', 'error:stream_interrupted']);
  });

  it('a failure to open is the only part', async () => {
    const stream = new SsePartStream({
      open: async () => ({ part: { type: 'error', error: new LLMError({ code: 'rate_limited', message: '429' }) } }),
      abortPart: () => {
        throw new Error('not aborted');
      },
    });
    expect(deltas(await collect(stream))).toEqual(['error:rate_limited']);
  });

  it('an abort while waiting for the body ends with the abort part and cancels the body', async () => {
    const controller = new AbortController();
    const s = partStream(['data: a\n\n'], { hang: true, signal: controller.signal });
    const it = s.stream[Symbol.asyncIterator]();
    expect(deltas([(await it.next()).value as StreamPart])).toEqual(['a']);
    const pending = it.next();
    controller.abort();
    expect(deltas([(await pending).value as StreamPart])).toEqual(['error:aborted']);
    expect(s.state.cancelled).toBe(true);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('an abort between parts drops the queued parts and ends with the abort part', async () => {
    const controller = new AbortController();
    const s = partStream(['data: a\n\ndata: b\n\ndata: c\n\n'], { hang: true, signal: controller.signal });
    const it = s.stream[Symbol.asyncIterator]();
    expect(deltas([(await it.next()).value as StreamPart])).toEqual(['a']);
    controller.abort();
    expect(deltas(await collect({ [Symbol.asyncIterator]: () => it }))).toEqual(['error:aborted']);
    expect(s.state.cancelled).toBe(true);
  });

  it('return() while a next() waits is served after it, as an async generator does (the router aborts, then returns)', async () => {
    const controller = new AbortController();
    const s = partStream(['data: a\n\n'], { hang: true, signal: controller.signal });
    const it = s.stream[Symbol.asyncIterator]();
    await it.next();
    const order: string[] = [];
    const pending = it.next().then((r) => order.push(deltas([r.value as StreamPart])[0]!));
    const closing = it.return!().then((r) => order.push(r.done ? 'returned' : 'value'));
    controller.abort();
    await Promise.all([pending, closing]);
    expect(order).toEqual(['error:aborted', 'returned']);
    expect(s.state.cancelled).toBe(true);
  });

  it('return() after a part cancels the body; later next() calls are done', async () => {
    const s = partStream(['data: a\n\ndata: b\n\n'], { hang: true });
    const it = s.stream[Symbol.asyncIterator]();
    await it.next();
    expect(await it.return!()).toEqual({ done: true, value: undefined });
    expect(s.state.cancelled).toBe(true);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('serves calls made before the previous one settled in order', async () => {
    const s = partStream(['data: a\n\n', 'data: b\n\n', 'data: c\n\ndata: [DONE]\n\n']);
    const it = s.stream[Symbol.asyncIterator]();
    const results = await Promise.all([it.next(), it.next(), it.next(), it.next(), it.next()]);
    expect(results.map((r) => (r.done ? 'done' : deltas([r.value])[0]))).toEqual(['a', 'b', 'c', 'finish', 'done']);
  });
});
