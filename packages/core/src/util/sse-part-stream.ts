import { createParser, type EventSourceParser } from 'eventsource-parser';
import { LLMError } from '../errors/llm-error.js';
import { toLLMError } from '../errors/to-llm-error.js';
import type { StreamPart } from '../spec/stream-parts.js';

/** Turns the `data:` payloads of one SSE stream into stream parts (e.g. `OpenAIStreamDecoder`). */
export interface SsePartDecoder {
  /** True once a terminal part (`finish` or `error`) was produced; later input is ignored. */
  readonly done: boolean;
  decode(data: string): StreamPart[];
  /** The body ended without an error. */
  end(): StreamPart[];
  /** Reading the body failed (connection reset, socket closed). */
  interrupted(cause: unknown): StreamPart[];
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

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;

/**
 * The parts of an SSE response body as an async iterator, without an async generator per layer: one
 * `reader.read()` feeds eventsource-parser through one streaming `TextDecoder`, every event is decoded into
 * parts at once, and `next()` hands queued parts out as resolved promises. Behaves as the async generator
 * it replaced (`for await (event of sseEvents(...)) yield* decoder.decode(event.data)`): lazy (nothing is
 * sent before the first `next()`), calls are served in order, the signal's abort ends the stream with
 * `abortPart` (parts not yet handed out are dropped, unless the terminal part is already decoded), a body
 * that ends or breaks ends with the decoder's `end()`/`interrupted()` parts, and `return()` cancels the body.
 * The body is cancelled and its lock released as soon as the terminal part is decoded.
 */
export class SsePartStream implements AsyncIterableIterator<StreamPart> {
  private queue: StreamPart[] = [];
  private at = 0;
  /** Nothing more will be queued (a terminal part is queued, or the stream was closed). */
  private ended = false;
  private started = false;
  private decoder: SsePartDecoder | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private parser: EventSourceParser | undefined;
  private readonly text = new TextDecoder();
  /** The read in progress: later calls wait for it, so they are served in order. */
  private pulling: Promise<IteratorResult<StreamPart, undefined>> | undefined;

  constructor(private readonly options: SsePartStreamOptions) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<StreamPart, undefined>> {
    if (this.pulling) return this.pulling.then(() => this.next());
    const signal = this.options.signal;
    // Aborted between parts: stop here, as the generator did when it resumed.
    if (signal?.aborted && this.started && !this.ended) this.stop([this.options.abortPart(signal)], true);
    if (this.at < this.queue.length) return Promise.resolve({ done: false, value: this.take() });
    if (this.ended) return Promise.resolve(DONE);
    this.pulling = this.pull();
    return this.pulling;
  }

  return(): Promise<IteratorResult<StreamPart, undefined>> {
    if (this.pulling) return this.pulling.then(() => this.return());
    this.started = true;
    this.stop([], true);
    return Promise.resolve(DONE);
  }

  private take(): StreamPart {
    const part = this.queue[this.at++]!;
    if (this.at === this.queue.length) {
      this.queue.length = 0;
      this.at = 0;
    }
    return part;
  }

  /**
   * Reads until a part is queued or the stream ended; never rejects. Awaits before it returns, so `pulling`
   * is set by then. (The read loop is inline: an async function per read would cost a promise per chunk.)
   */
  private async pull(): Promise<IteratorResult<StreamPart, undefined>> {
    try {
      if (!this.started) await this.open();
      while (this.at >= this.queue.length && !this.ended) {
        let read: ReadResult;
        try {
          read = await this.reader!.read();
        } catch (e) {
          this.readFailed(e);
          break;
        }
        this.received(read);
      }
    } catch (e) {
      // A decoder that threw (a bug): still a terminal part, never a silent end.
      this.stop(this.decoder ? this.decoder.interrupted(e) : [{ type: 'error', error: toLLMError(e) }]);
    } finally {
      this.pulling = undefined;
    }
    return this.at < this.queue.length ? { done: false, value: this.take() } : DONE;
  }

  private async open(): Promise<void> {
    this.started = true;
    const opened = await this.options.open();
    if ('part' in opened) {
      this.stop([opened.part]);
      return;
    }
    const signal = this.options.signal;
    const decoder = opened.decoder;
    this.decoder = decoder;
    if (!opened.response.body) {
      this.stop(decoder.interrupted(new LLMError({ code: 'invalid_response', message: 'Response has no body' })));
      return;
    }
    this.reader = opened.response.body.getReader();
    this.parser = createParser({
      onEvent: (event) => {
        if (!decoder.done) this.push(decoder.decode(event.data));
      },
    });
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) this.stop([this.options.abortPart(signal)], true);
  }

  /** Decodes one read of the body (its events' parts are queued); ends the stream at its end or on abort. */
  private received({ done, value }: ReadResult): void {
    const signal = this.options.signal;
    if (signal?.aborted) {
      this.stop([this.options.abortPart(signal)], true);
      return;
    }
    const decoder = this.decoder!;
    this.parser!.feed(done ? this.text.decode() : this.text.decode(value, { stream: true }));
    if (decoder.done) this.stop([]);
    else if (done) this.stop(decoder.end());
  }

  private readFailed(e: unknown): void {
    const signal = this.options.signal;
    if (signal?.aborted) this.stop([this.options.abortPart(signal)], true);
    else this.stop(this.decoder!.interrupted(e));
  }

  private push(parts: StreamPart[]): void {
    if (this.ended) return;
    for (let i = 0; i < parts.length; i++) this.queue.push(parts[i]!);
  }

  private readonly onAbort = (): void => {
    void this.reader?.cancel(this.options.signal?.reason).catch(() => {});
  };

  /**
   * Nothing more is read: `last` are the final parts, after the queued ones unless `drop` (abort, `return()`);
   * the body is cancelled and released.
   */
  private stop(last: StreamPart[], drop = false): void {
    if (this.ended) return;
    if (drop) {
      this.queue.length = 0;
      this.at = 0;
    }
    this.push(last);
    this.ended = true;
    const reader = this.reader;
    if (!reader) return;
    this.reader = undefined;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
