import { describe, expect, it, vi } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import type { StreamPart } from '../spec/stream-parts.js';
import { DIRECT_BODY, RELEASE_LINGER_MS, type BodySink, type BodyTap } from './direct-body.js';
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

  describe("an `error:` line (llama.cpp's report of a failed stream)", () => {
    const errorOf = (parts: StreamPart[]) => (parts.at(-1)?.type === 'error' ? (parts.at(-1) as Extract<StreamPart, { type: 'error' }>).error : undefined);

    it.each([
      ['in one read', ['data: a\n\nerror: {"message":"boom"}\n\ndata: [DONE]\n\n']],
      ['cut after its first letter', ['data: a\n\ne', 'rror: {"message":"boom"}\n\ndata: [DONE]\n\n']],
      ['cut in its value, over three reads', ['data: a\n\nerr', 'or: {"mess', 'age":"boom"}\n', '\ndata: [DONE]\n\n']],
      ['cut before its line end', ['data: a\n\nerror: {"message":"boom"}', '\n\ndata: [DONE]\n\n']],
      ['at the end of the body without a line end', ['data: a\n\nerr', 'or: {"message":"boom"}']],
    ])('ends the stream with an error part (the decoder has no errorField: its interrupted part), %s', async (_, reads) => {
      const parts = await collect(partStream(reads).stream);
      expect(deltas(parts)).toEqual(['a', 'error:stream_interrupted']);
      expect(errorOf(parts)?.message).toContain('The stream sent an error: {"message":"boom"}');
    });

    it("hands the value to the decoder's errorField when it has one", async () => {
      const decoder = new TestDecoder();
      const seen: string[] = [];
      Object.assign(decoder, {
        errorField(value: string): StreamPart[] {
          seen.push(value);
          decoder.done = true;
          return [{ type: 'error', error: new LLMError({ code: 'context_length_exceeded', message: value }) }];
        },
      });
      const stream = new SsePartStream({
        open: async () => ({ response: new Response(body(['data: a\n\nerror: {"code":400}\n\ndata: [DONE]\n\n']).stream), decoder }),
        abortPart: () => ({ type: 'error', error: new LLMError({ code: 'aborted', message: 'aborted' }) }),
      });
      expect(deltas(await collect(stream))).toEqual(['a', 'error:context_length_exceeded']);
      expect(seen).toEqual(['{"code":400}']);
    });

    it('ignores other unknown fields, lines that only start like `error`, and an `error:` line after the terminal part', async () => {
      const parts = await collect(partStream(['foo: bar\n\nerrors: x\n\ne', 'vent: e\ndata: a\n\ndata: [DONE]\n\nerror: late\n\n']).stream);
      expect(deltas(parts)).toEqual(['a', 'finish']);
    });
  });

  it('after the terminal part reads the body to its end without handing it out (its connection is kept)', async () => {
    const s = partStream(['data: a\n\ndata: [DONE]\n\n', 'data: late\n\n']);
    expect(deltas(await collect(s.stream))).toEqual(['a', 'finish']);
    await vi.waitFor(() => expect(s.state.pulls).toBe(3));
    expect(s.state.cancelled).toBe(false);
  });

  it(`cancels a body that does not end ${RELEASE_LINGER_MS} ms after the terminal part`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const s = partStream(['data: a\n\ndata: [DONE]\n\n'], { hang: true });
      expect(deltas(await collect(s.stream))).toEqual(['a', 'finish']);
      vi.advanceTimersByTime(RELEASE_LINGER_MS - 1);
      expect(s.state.cancelled).toBe(false);
      vi.advanceTimersByTime(1);
      expect(s.state.cancelled).toBe(true);
    } finally {
      vi.useRealTimers();
    }
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

  it('a decoder whose interrupted() throws too still ends the stream with an error part (no hang)', async () => {
    class Broken extends TestDecoder {
      override interrupted(): StreamPart[] {
        throw new Error('decoder bug in interrupted');
      }
    }
    const b = body(['data: a\n\n'], { failAt: 1 });
    const stream = new SsePartStream({
      open: async () => ({ response: new Response(b.stream), decoder: new Broken() }),
      abortPart: () => ({ type: 'error', error: new LLMError({ code: 'aborted', message: 'aborted' }) }),
    });
    const parts = await collect(stream);
    expect(deltas(parts)).toEqual(['a', 'error:internal']);
    expect(parts[1]).toMatchObject({ error: { message: expect.stringContaining('decoder bug in interrupted') } });
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

/** A `DirectBody` driven by the test: `push`/`end`/`fail` feed the sink; the reader's calls are recorded. */
function directBody(early: string[] = [], options: { endEarly?: boolean } = {}) {
  const calls: string[] = [];
  let sink: BodySink | undefined;
  const tap: BodyTap = {
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    cancel: (reason) => calls.push(`cancel:${reason instanceof Error ? reason.name : String(reason)}`),
    release: () => calls.push('release'),
  };
  const direct = {
    tap(s: BodySink): BodyTap {
      if (sink) throw new TypeError('Body is unusable');
      sink = s;
      for (const chunk of early) s.data(encoder.encode(chunk));
      if (options.endEarly) s.end();
      return tap;
    },
  };
  const response = Object.assign(new Response(null), { [DIRECT_BODY]: direct });
  return {
    response,
    calls,
    push: (chunk: string) => sink!.data(encoder.encode(chunk)),
    end: () => sink!.end(),
    fail: (e: unknown) => sink!.error(e),
  };
}

function directStream(body: ReturnType<typeof directBody>, signal?: AbortSignal) {
  return new SsePartStream({
    signal,
    open: async () => ({ response: body.response, decoder: new TestDecoder() }),
    abortPart: () => ({ type: 'error', error: new LLMError({ code: 'aborted', message: 'aborted' }) }),
  });
}

describe('SsePartStream on a DirectBody (no web stream)', () => {
  it('takes chunks from the sink as they come: a waiting next() gets the first part of the next chunk', async () => {
    const b = directBody();
    const it = directStream(b)[Symbol.asyncIterator]();
    const first = it.next();
    await new Promise((r) => setImmediate(r));
    b.push('data: a\n\nda');
    expect(deltas([(await first).value as StreamPart])).toEqual(['a']);
    const second = it.next();
    b.push('ta: b\n\n');
    b.push('data: [DONE]\n\n');
    expect(deltas([(await second).value as StreamPart])).toEqual(['b']);
    expect(deltas([(await it.next()).value as StreamPart])).toEqual(['finish']);
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(b.calls).toEqual(['release']);
  });

  it('bytes delivered during the tap, up to the terminal part, are all handed out; the body is released', async () => {
    const b = directBody(['data: a\n\n', 'data: b\n\ndata: [DONE]\n\n']);
    expect(deltas(await collect(directStream(b)))).toEqual(['a', 'b', 'finish']);
    expect(b.calls).toEqual(['release']);
  });

  it('a body that ends during the tap without [DONE] ends with the decoder end() part', async () => {
    const b = directBody(['data: a\n\n'], { endEarly: true });
    expect(deltas(await collect(directStream(b)))).toEqual(['a', 'error:stream_interrupted']);
  });

  it('a failed body ends with the interrupted() part; an abort cancels with the reason and drops queued parts', async () => {
    const failed = directBody();
    const it = directStream(failed)[Symbol.asyncIterator]();
    const pending = it.next();
    await new Promise((r) => setImmediate(r));
    failed.fail(new Error('socket reset'));
    expect((await pending).value).toMatchObject({ type: 'error', error: { message: expect.stringContaining('socket reset') } });

    const controller = new AbortController();
    const aborted = directBody(['data: a\n\ndata: b\n\n']);
    const it2 = directStream(aborted, controller.signal)[Symbol.asyncIterator]();
    expect(deltas([(await it2.next()).value as StreamPart])).toEqual(['a']);
    controller.abort(new DOMException('gone', 'AbortError'));
    expect(deltas(await collect({ [Symbol.asyncIterator]: () => it2 }))).toEqual(['error:aborted']);
    expect(aborted.calls).toEqual(['cancel:AbortError']);
  });

  it('pauses the body while many parts wait for the consumer and resumes it once they are taken', async () => {
    const b = directBody();
    const it = directStream(b)[Symbol.asyncIterator]();
    const first = it.next();
    await new Promise((r) => setImmediate(r));
    b.push(Array.from({ length: 100 }, (_, i) => `data: ${i}\n\n`).join(''));
    expect((await first).value).toMatchObject({ delta: '0' });
    expect(b.calls).toEqual(['pause']);
    for (let i = 1; i < 100; i++) expect((await it.next()).value).toMatchObject({ delta: String(i) });
    await Promise.resolve();
    expect(b.calls).toEqual(['pause', 'resume']);
    b.push('data: [DONE]\n\n');
    expect(deltas([(await it.next()).value as StreamPart])).toEqual(['finish']);
  });

  it('keeps the order when chunks come while parts wait, and after the waiting parts were all taken', async () => {
    const b = directBody();
    const it = directStream(b)[Symbol.asyncIterator]();
    const first = it.next();
    await new Promise((r) => setImmediate(r));
    b.push('data: 1\n\ndata: 2\n\ndata: 3\n\n');
    expect((await first).value).toMatchObject({ delta: '1' });
    // Two parts still wait: the next chunk's parts go after them.
    b.push('data: 4\n\ndata: 5\n\n');
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push(deltas([(await it.next()).value as StreamPart])[0]!);
    expect(got).toEqual(['2', '3', '4', '5']);
    // All taken: fewer parts than before, then more, each handed out once.
    b.push('data: 6\n\n');
    expect((await it.next()).value).toMatchObject({ delta: '6' });
    b.push('data: 7\n\ndata: 8\n\ndata: 9\n\ndata: [DONE]\n\n');
    expect(deltas(await collect({ [Symbol.asyncIterator]: () => it }))).toEqual(['7', '8', '9', 'finish']);
    expect(b.calls).toEqual(['release']);
  });

  it('return() cancels the body; a second tap of the same body is an error part, not a throw', async () => {
    const b = directBody(['data: a\n\n']);
    const stream = directStream(b);
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    await it.return!();
    expect(b.calls).toEqual(['cancel:undefined']);
    const again = directStream(b);
    const parts = await collect(again);
    expect(deltas(parts)).toEqual(['error:stream_interrupted']);
  });
});

/** A decoder that takes whole JSON bodies (`whole`: `{"text":...}` is an answer, other JSON is not). */
class WholeDecoder extends TestDecoder {
  started = 0;
  wholes: string[] = [];
  wholeStart(): void {
    this.started++;
  }
  whole(text: string): StreamPart[] | undefined {
    this.wholes.push(text);
    const json = JSON.parse(text) as { text?: string };
    if (typeof json.text !== 'string') return undefined;
    this.done = true;
    return [{ type: 'text-delta', delta: json.text }, { type: 'finish', finishReason: 'stop', usage }];
  }
}

describe('SsePartStream with a decoder that takes whole JSON answers', () => {
  const wholeStream = (reads: string[], decoder: WholeDecoder, hang = false) => {
    const b = body(reads, { hang });
    return new SsePartStream({
      open: async () => ({ response: new Response(b.stream), decoder }),
      abortPart: () => ({ type: 'error', error: new LLMError({ code: 'aborted', message: 'aborted' }) }),
    });
  };

  it('a body whose first non-whitespace character is { is read to its end and given to whole() once', async () => {
    const decoder = new WholeDecoder();
    const parts = await collect(wholeStream(['\n  ', '  {"te', 'xt":"all"}', '\n'], decoder));
    expect(deltas(parts)).toEqual(['all', 'finish']);
    expect(decoder.started).toBe(1);
    expect(decoder.wholes).toEqual(['\n    {"text":"all"}\n']);
  });

  it('JSON that whole() does not take is decoded as SSE (its end() part)', async () => {
    const decoder = new WholeDecoder();
    expect(deltas(await collect(wholeStream(['{"other":1}'], decoder)))).toEqual(['error:stream_interrupted']);
    expect(decoder.wholes).toEqual(['{"other":1}']);
  });

  it('any other first character is SSE decoded as it arrives, whitespace before it included (whole() never called)', async () => {
    const decoder = new WholeDecoder();
    const iterator = wholeStream(['\n', 'data: a\n\n'], decoder, true);
    // The body never ends: the first part comes from the first event, not from a whole read.
    expect(await iterator.next()).toEqual({ done: false, value: { type: 'text-delta', delta: 'a' } });
    await iterator.return();
    expect([decoder.started, decoder.wholes.length]).toEqual([0, 0]);
  });
});
