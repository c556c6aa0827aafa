import { createParser, type EventSourceParser } from 'eventsource-parser';
import { LLMError } from '../errors/llm-error.js';
import { toLLMError } from '../errors/to-llm-error.js';
import type { StreamPart } from '../spec/stream-parts.js';
import { tapBody, type BodySink, type BodyTap } from './direct-body.js';
import { Utf8ChunkDecoder } from './utf8-chunk-decoder.js';

/** Turns the `data:` payloads of one SSE stream into stream parts (e.g. `OpenAIStreamDecoder`). */
export interface SsePartDecoder {
  /** True once a terminal part (`finish` or `error`) was produced; later input is ignored. */
  readonly done: boolean;
  decode(data: string): StreamPart[];
  /** The body ended without an error. */
  end(): StreamPart[];
  /** Reading the body failed (connection reset, socket closed). */
  interrupted(cause: unknown): StreamPart[];
  /**
   * The value of an `error:` line, a field outside the SSE spec that llama.cpp's server sends for a failed
   * stream (`error: {"code":400,"message":...}`, then `data: [DONE]`). Absent: the stream ends with
   * `interrupted()`'s parts for a `provider_error` carrying the value.
   */
  errorField?(value: string): StreamPart[];
  /**
   * Given (with `wholeStart`): a body whose first non-whitespace character is `{` is not an event stream but a whole
   * JSON answer (a server that ignored `stream: true`), read to its end and given here; its parts end with a terminal
   * part, or undefined: not an answer, the text is decoded as SSE. Any other first character: the body is decoded as
   * SSE as it arrives (the content-type is never looked at: a real event stream may be labelled JSON).
   */
  whole?(text: string): StreamPart[] | undefined;
  /** A whole JSON answer began (see `whole`), before the rest of it is read. */
  wholeStart?(): void;
}

/** How an `SsePartStream` opens its response (called on the first `next()`). */
export type SseOpening = { response: Response; decoder: SsePartDecoder } | { part: StreamPart };

export interface SsePartStreamOptions {
  /** Sends the request. Never throws: a failure before the body is a single (error) part. */
  open: () => Promise<SseOpening>;
  /** Aborting stops reading, cancels the body (closing the connection) and ends with `abortPart`. */
  signal?: AbortSignal | undefined;
  /** The last part of a stream whose signal fired. */
  abortPart: (signal: AbortSignal) => StreamPart;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** `SsePartStream.mode`: the body is an event stream; not known yet; a whole JSON answer. */
const SSE = 0;
const UNDECIDED = 1;
const WHOLE = 2;

/** Parts queued and not yet handed out at which the body is paused (resumed when the queue is empty). */
const HIGH_WATER_PARTS = 64;

/**
 * Set (true) on an iterator that ends by itself as soon as its call's signal aborts: an `SsePartStream` (the abort
 * cancels its body read and it hands out its abort part), or a wrapper that hands such a stream's parts through
 * one by one (the tool-name restorer of engines/shared/short-tool-names.ts). The router then need not race each
 * part against the abort (`PrimedStream.endsOnAbort`).
 */
export const ENDS_ON_ABORT: unique symbol = Symbol('llmrr.endsOnAbort');

/** True when `iterator` carries the `ENDS_ON_ABORT` mark. */
export function endsOnAbort(iterator: object): boolean {
  return (iterator as { [ENDS_ON_ABORT]?: boolean })[ENDS_ON_ABORT] === true;
}

/**
 * The parts of an SSE response body as an async iterator. The body is tapped (`tapBody`: straight from the
 * socket's callbacks when the `fetch` offers a `DirectBody`, else its web stream), each chunk goes through one
 * streaming UTF-8 decoder (`Utf8ChunkDecoder`) and eventsource-parser, every event is decoded into parts at
 * once, and `next()` hands queued parts out as resolved promises, or waits for the next chunk. Behaves as the async generator
 * it replaced (`for await (event of sseEvents(...)) yield* decoder.decode(event.data)`): lazy (nothing is
 * sent before the first `next()`), calls are served in order, the signal's abort ends the stream with
 * `abortPart` (parts not yet handed out are dropped, unless the terminal part is already decoded), a body
 * that ends or breaks ends with the decoder's `end()`/`interrupted()` parts, and `return()` cancels the body.
 * Once the terminal part is decoded the body is released (`BodyTap.release`: read to its end and dropped,
 * so its connection is kept; cancelled if it does not end soon); it is paused while `HIGH_WATER_PARTS` parts
 * wait for the consumer.
 */
export class SsePartStream implements AsyncIterableIterator<StreamPart> {
  readonly [ENDS_ON_ABORT] = true;
  /**
   * Parts `at` to `len` wait to be handed out. The array is kept and refilled from the start once emptied (slots
   * handed out are cleared): setting `length = 0` gives up its backing store, a new one per chunk.
   */
  private queue: (StreamPart | undefined)[] = [];
  private at = 0;
  private len = 0;
  /** Nothing more will be queued (a terminal part is queued, or the stream was closed). */
  private ended = false;
  private started = false;
  private decoder: SsePartDecoder | undefined;
  private parser: EventSourceParser | undefined;
  /** The body being read; undefined before it is tapped and once the stream ended. */
  private body: BodyTap | undefined;
  private paused = false;
  /** The stream ended at its terminal part before the body was tapped: release the body, do not cancel it. */
  private releaseOnTap = false;
  private readonly text = new Utf8ChunkDecoder();
  /** The start of an `error:` line cut at the end of a chunk, held for the next (see `feed`). */
  private carry = '';
  /**
   * How the body is read (`SsePartDecoder.whole`): SSE as it arrives (`SSE`), or still undecided (only whitespace
   * so far, held in `whole`), or a whole JSON answer being read into `whole`.
   */
  private mode = SSE;
  private whole = '';
  /** The call in progress (opening, or waiting for a chunk): later calls wait for it, so they are served in order. */
  private pulling: Promise<IteratorResult<StreamPart, undefined>> | undefined;
  /** Settles `pulling` once a part is queued or the stream ended. */
  private waiter: ((r: IteratorResult<StreamPart, undefined>) => void) | undefined;

  constructor(private readonly options: SsePartStreamOptions) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<StreamPart, undefined>> {
    if (this.pulling) return this.pulling.then(() => this.next());
    if (this.at < this.len) return Promise.resolve({ done: false, value: this.take() });
    if (this.ended) return Promise.resolve(DONE);
    this.pulling = this.started ? this.wait() : this.open();
    return this.pulling;
  }

  return(): Promise<IteratorResult<StreamPart, undefined>> {
    if (this.pulling) return this.pulling.then(() => this.return());
    this.started = true;
    this.stop([], true);
    return Promise.resolve(DONE);
  }

  private take(): StreamPart {
    const part = this.queue[this.at]!;
    this.queue[this.at++] = undefined;
    if (this.at === this.len) {
      this.at = 0;
      this.len = 0;
      // Not from inside this call: resuming may deliver the next chunk at once.
      if (this.paused) queueMicrotask(this.resume);
    }
    return part;
  }

  private readonly resume = (): void => {
    if (!this.paused) return;
    this.paused = false;
    this.body?.resume();
  };

  private wait(): Promise<IteratorResult<StreamPart, undefined>> {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Hands the waiting call its part (or the end), once there is one. */
  private deliver(): void {
    const waiter = this.waiter;
    if (!waiter || (this.at >= this.len && !this.ended)) return;
    this.waiter = undefined;
    this.pulling = undefined;
    waiter(this.at < this.len ? { done: false, value: this.take() } : DONE);
  }

  /** Sends the request and taps the body, then hands out the first part. Never rejects. */
  private async open(): Promise<IteratorResult<StreamPart, undefined>> {
    this.started = true;
    try {
      const opened = await this.options.open();
      if ('part' in opened) this.stop([opened.part]);
      else this.attach(opened.response, opened.decoder);
    } catch (e) {
      // A decoder that threw (a bug): still a terminal part, never a silent end.
      this.stop(this.interrupted(e));
    }
    if (this.at < this.len || this.ended) {
      this.pulling = undefined;
      return this.at < this.len ? { done: false, value: this.take() } : DONE;
    }
    return this.wait();
  }

  private attach(response: Response, decoder: SsePartDecoder): void {
    this.decoder = decoder;
    if (decoder.whole !== undefined) this.mode = UNDECIDED;
    this.parser = createParser({
      onEvent: (event) => {
        if (!decoder.done) this.push(decoder.decode(event.data));
      },
      // Other parse errors (unknown fields, an invalid `retry`) are ignored, as the SSE spec says.
      onError: (error) => {
        if (error.type === 'unknown-field' && error.field === 'error' && !decoder.done) this.push(this.errorField(decoder, error.value ?? ''));
      },
    });
    const signal = this.options.signal;
    // Bytes that came before may be delivered during the tap.
    const body = tapBody(response, this.sink);
    if (!body) {
      this.stop(this.interrupted(new LLMError({ code: 'invalid_response', message: 'Response has no body' })));
      return;
    }
    if (this.ended) {
      // Ended while the bytes that came before were delivered.
      if (this.releaseOnTap) body.release();
      else body.cancel();
      return;
    }
    this.body = body;
    if (this.paused) body.pause();
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) this.stop(this.aborted(signal), true);
  }

  private readonly sink: BodySink = {
    data: (chunk) => {
      if (this.ended) return;
      try {
        const text = this.text.decode(chunk);
        if (this.mode === SSE) this.feed(text);
        else this.read(text);
        if (this.decoder!.done) this.stop([], false, true);
      } catch (e) {
        this.stop(this.interrupted(e));
      }
      if (!this.ended && !this.paused && this.len - this.at >= HIGH_WATER_PARTS) {
        this.paused = true;
        this.body?.pause();
      }
      this.deliver();
    },
    end: () => {
      if (this.ended) return;
      try {
        const text = this.text.end();
        if (this.mode === SSE) this.feed(text, true);
        else this.readEnd(text);
        this.stop(this.decoder!.done ? [] : this.decoder!.end());
      } catch (e) {
        this.stop(this.interrupted(e));
      }
      this.deliver();
    },
    error: (cause) => {
      if (this.ended) return;
      const signal = this.options.signal;
      if (signal?.aborted) this.stop(this.aborted(signal), true);
      else this.stop(this.interrupted(cause));
      this.deliver();
    },
  };

  /**
   * Text of a body not known to be SSE (`mode` UNDECIDED or WHOLE): its first non-whitespace character decides; `{`
   * starts a whole JSON answer (`wholeStart`, then held to the end), anything else is SSE, fed with what came before.
   */
  private read(text: string): void {
    if (this.mode === UNDECIDED) {
      const first = text.search(/\S/);
      if (first === -1) {
        this.whole += text;
        return;
      }
      // 123: '{'
      const json = text.charCodeAt(first) === 123;
      text = this.whole + text;
      this.whole = '';
      if (!json) {
        this.mode = SSE;
        this.feed(text);
        return;
      }
      this.mode = WHOLE;
      this.decoder!.wholeStart?.();
    }
    this.whole += text;
  }

  /** The end of a body not known to be SSE: a whole JSON answer's parts, or the text decoded as SSE (see `read`). */
  private readEnd(text: string): void {
    this.read(text);
    if (this.mode === SSE) {
      this.feed('', true);
      return;
    }
    const whole = this.whole;
    this.whole = '';
    const parts = this.mode === WHOLE ? this.decoder!.whole!(whole) : undefined;
    if (parts) this.push(parts);
    else this.feed(whole, true);
  }

  /**
   * Feeds the parser. eventsource-parser drops the rest of a line of an unknown field that a chunk cuts (it
   * buffers only `data`, `event`, `id` and `retry` lines), so the start of an `error:` line at the end of a
   * chunk is held back and fed with the next one; at the body's end it is fed as a whole line.
   */
  private feed(text: string, last = false): void {
    if (this.carry) {
      text = this.carry + text;
      this.carry = '';
    }
    const end = text.length > 0 ? text.charCodeAt(text.length - 1) : 10;
    if (end !== 10 && end !== 13) {
      const start = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r')) + 1;
      // 101: 'e'
      if (text.charCodeAt(start) === 101 && 'error:'.startsWith(text.slice(start, start + 6))) {
        if (last) {
          text += '\n';
        } else {
          this.carry = text.slice(start);
          text = text.slice(0, start);
        }
      }
    }
    this.parser!.feed(text);
  }

  private push(parts: StreamPart[]): void {
    if (this.ended) return;
    for (let i = 0; i < parts.length; i++) this.queue[this.len++] = parts[i]!;
  }

  /** Aborted: the parts not handed out yet are dropped for the abort part (unless the stream already ended). */
  private readonly onAbort = (): void => {
    this.stop(this.aborted(this.options.signal!), true);
    this.deliver();
  };

  /** The parts of an `error:` line (see `SsePartDecoder.errorField`). */
  private errorField(decoder: SsePartDecoder, value: string): StreamPart[] {
    if (decoder.errorField) return decoder.errorField(value);
    return this.interrupted(new LLMError({ code: 'provider_error', message: `The stream sent an error: ${value.slice(0, 500)}`, details: value }));
  }

  /** The decoder's parts for a broken body; an error part if it has none to give or throws (a bug). */
  private interrupted(cause: unknown): StreamPart[] {
    try {
      if (this.decoder) return this.decoder.interrupted(cause);
    } catch (e) {
      return [{ type: 'error', error: toLLMError(e) }];
    }
    return [{ type: 'error', error: toLLMError(cause) }];
  }

  private aborted(signal: AbortSignal): StreamPart[] {
    try {
      return [this.options.abortPart(signal)];
    } catch (e) {
      return [{ type: 'error', error: toLLMError(e) }];
    }
  }

  /**
   * Nothing more is read: `last` are the final parts, after the queued ones unless `drop` (abort, `return()`).
   * The body is cancelled (a no-op for one that ended), or released after a terminal part (`release`: read
   * to its end so its connection can be kept).
   */
  private stop(last: StreamPart[], drop = false, release = false): void {
    if (this.ended) return;
    if (drop) {
      this.queue = [];
      this.at = 0;
      this.len = 0;
    }
    this.push(last);
    this.ended = true;
    this.parser = undefined;
    const signal = this.options.signal;
    signal?.removeEventListener('abort', this.onAbort);
    const body = this.body;
    if (!body) {
      this.releaseOnTap = release;
      return;
    }
    this.body = undefined;
    if (release) body.release();
    else body.cancel(signal?.aborted ? signal.reason : undefined);
  }
}
