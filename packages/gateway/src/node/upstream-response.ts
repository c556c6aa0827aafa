import { DIRECT_BODY, RELEASE_LINGER_MS, type BodySink, type BodyTap, type DirectBody } from '@llmrr/core';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** Bytes a streamed body holds for its reader before the socket is paused. */
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * The streamed body of an upstream answer: the dispatch handler feeds it (`data`, `end`, `fail`), its reader
 * taps it (`tap`, through `DIRECT_BODY`; or `Response.body`, a web stream built on the same tap). Bytes that
 * come before the tap are kept (the socket pauses at `HIGH_WATER_BYTES`). A cancel aborts the upstream
 * request. A release (the reader's terminal event came) drops the rest of the body and lets it end by
 * itself, which keeps the connection for the next request; one that has not ended `RELEASE_LINGER_MS` later
 * is aborted. The linger timer is armed only when the end did not come in the same socket read.
 */
export class UpstreamBody implements DirectBody, BodyTap {
  private sink: BodySink | undefined;
  /** Chunks that came before the tap. */
  private early: Buffer[] | undefined = [];
  private earlyBytes = 0;
  /** The upstream answer is over: it ended, failed or was aborted here. */
  private finished = false;
  private failure: { cause: unknown } | undefined;
  private cancelled = false;
  private pausedByReader = false;
  private linger: ReturnType<typeof setTimeout> | undefined;

  /** `onAbort`: this body aborts the upstream request (the fetch's own bookkeeping runs first). */
  constructor(
    private readonly controller: Dispatcher.DispatchController,
    private readonly onAbort: () => void,
  ) {}

  /** Tapped or cancelled: the body cannot be read again. */
  get used(): boolean {
    return this.sink !== undefined || this.cancelled;
  }

  data(chunk: Buffer): void {
    if (this.finished || this.cancelled) return;
    if (this.sink) {
      this.sink.data(chunk);
      return;
    }
    this.early!.push(chunk);
    this.earlyBytes += chunk.byteLength;
    if (this.earlyBytes >= HIGH_WATER_BYTES) this.controller.pause();
  }

  end(): void {
    if (this.finished) return;
    this.settle();
    if (!this.cancelled) this.sink?.end();
  }

  fail(cause: unknown): void {
    if (this.finished) return;
    this.settle();
    if (this.cancelled) return;
    if (this.sink) this.sink.error(cause);
    else this.failure = { cause };
  }

  tap(sink: BodySink): BodyTap {
    if (this.used) throw new TypeError('Body is unusable: Body has already been read');
    this.sink = sink;
    const early = this.early!;
    this.early = undefined;
    for (let i = 0; i < early.length && !this.cancelled; i++) sink.data(early[i]!);
    if (this.cancelled) return this;
    if (this.finished) {
      if (this.failure) sink.error(this.failure.cause);
      else sink.end();
    } else if (this.controller.paused && !this.pausedByReader) {
      this.controller.resume();
    }
    return this;
  }

  pause(): void {
    this.pausedByReader = true;
    if (!this.finished) this.controller.pause();
  }

  resume(): void {
    this.pausedByReader = false;
    if (!this.finished && this.controller.paused) this.controller.resume();
  }

  cancel(reason?: unknown): void {
    if (this.cancelled) return;
    this.drop();
    this.abort(reason);
  }

  release(): void {
    if (this.cancelled) return;
    this.drop();
    if (this.finished) return;
    if (this.controller.paused) this.controller.resume();
    // The rest of this socket read (often the body's end) is parsed before a microtask runs.
    queueMicrotask(() => {
      if (this.finished) return;
      const t = setTimeout(() => this.abort(undefined), RELEASE_LINGER_MS);
      (t as { unref?: () => void }).unref?.();
      this.linger = t;
    });
  }

  /** No more calls to the sink. */
  private drop(): void {
    this.cancelled = true;
    this.sink = undefined;
    this.early = undefined;
  }

  private abort(reason: unknown): void {
    if (this.finished) return;
    this.settle();
    this.onAbort();
    this.controller.abort(reason instanceof Error ? reason : new DOMException('The response body was cancelled', 'AbortError'));
  }

  private settle(): void {
    this.finished = true;
    if (this.linger !== undefined) clearTimeout(this.linger);
    this.linger = undefined;
  }
}

const BYTES = Symbol('bytes');
const USED = Symbol('used');
const STREAM = Symbol('stream');
const RAW_HEADERS = Symbol('rawHeaders');
const HEADERS = Symbol('headers');
const SOURCE = Symbol('source');

/** The state both kinds of upstream response keep on the instance. */
interface UpstreamState {
  [USED]: boolean;
  [STREAM]: ReadableStream<Uint8Array> | undefined;
  [RAW_HEADERS]: IncomingHttpHeaders;
  [HEADERS]: Headers | undefined;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array>;
  readonly bodyUsed: boolean;
}

interface Buffered extends UpstreamState {
  [BYTES]: Buffer;
}

interface Streaming extends UpstreamState {
  [SOURCE]: UpstreamBody;
  [DIRECT_BODY]: UpstreamBody;
}

function init(self: UpstreamState, headers: IncomingHttpHeaders): void {
  self[USED] = false;
  self[STREAM] = undefined;
  self[RAW_HEADERS] = headers;
  self[HEADERS] = undefined;
}

/**
 * A `Response` whose body was read whole: `text()`, `json()` and `arrayBuffer()` answer from the bytes
 * (no web stream is built unless `body` itself is asked for), and `headers` is built from the raw ones on
 * first use, which halves the cost of a JSON answer.
 * (The overrides are set on the prototype below: the DOM typings declare these members as properties.)
 */
export class BufferedResponse extends Response {
  constructor(bytes: Buffer, responseInit: ResponseInit, headers: IncomingHttpHeaders) {
    super(null, responseInit);
    const self = this as unknown as Buffered;
    init(self, headers);
    self[BYTES] = bytes;
  }
}

/**
 * A `Response` whose body streams from the socket: engines that know `DIRECT_BODY` (the SSE reader) take
 * the bytes from the socket's callbacks; `body` is a web stream on the same source, built on first use;
 * `text()`, `json()`, `arrayBuffer()` and `blob()` read it whole. `headers` is built on first use.
 * `bodyUsed` is true once the body was tapped directly or read whole (not for a read through `body`).
 */
export class StreamingResponse extends Response {
  constructor(source: UpstreamBody, responseInit: ResponseInit, headers: IncomingHttpHeaders) {
    super(null, responseInit);
    const self = this as unknown as Streaming;
    init(self, headers);
    self[SOURCE] = source;
    self[DIRECT_BODY] = source;
  }
}

const unusable = () => new TypeError('Body is unusable: Body has already been read');

function take(r: Buffered): Buffer {
  if (r[USED]) throw unusable();
  r[USED] = true;
  return r[BYTES];
}

/** UTF-8 with a leading BOM dropped, as Response.text() decodes. */
function utf8(b: Buffer): string {
  const start = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  return b.toString('utf8', start);
}

async function readWhole(r: Streaming): Promise<Buffer> {
  if (r[USED] || (r[SOURCE].used && !r[STREAM])) throw unusable();
  r[USED] = true;
  const chunks: Uint8Array[] = [];
  for await (const chunk of r.body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A web stream on `source` (for readers that do not know `DIRECT_BODY`). */
function webStream(source: UpstreamBody): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        source.tap({
          data(chunk) {
            c.enqueue(chunk);
            if (c.desiredSize! <= 0) source.pause();
          },
          end() {
            c.close();
          },
          error(e) {
            c.error(e);
          },
        });
      },
      pull() {
        source.resume();
      },
      cancel(reason) {
        source.cancel(reason);
      },
    },
    { highWaterMark: HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
  );
}

const lazyHeaders: PropertyDescriptor = {
  configurable: true,
  get(this: UpstreamState): Headers {
    return (this[HEADERS] ??= toHeaders(this[RAW_HEADERS]));
  },
};

const method = (value: unknown): PropertyDescriptor => ({ configurable: true, writable: true, value });

Object.defineProperties(BufferedResponse.prototype, {
  headers: lazyHeaders,
  body: {
    configurable: true,
    get(this: Buffered): ReadableStream<Uint8Array> {
      if (!this[STREAM]) {
        const bytes = this[BYTES];
        this[STREAM] = new ReadableStream<Uint8Array>({
          start: (c) => {
            this[USED] = true;
            c.enqueue(bytes);
            c.close();
          },
        });
      }
      return this[STREAM];
    },
  },
  bodyUsed: {
    configurable: true,
    get(this: Buffered): boolean {
      return this[USED];
    },
  },
  text: method(async function text(this: Buffered): Promise<string> {
    return utf8(take(this));
  }),
  json: method(async function json(this: Buffered): Promise<unknown> {
    return JSON.parse(utf8(take(this))) as unknown;
  }),
  arrayBuffer: method(async function arrayBuffer(this: Buffered): Promise<ArrayBuffer> {
    const b = take(this);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }),
  blob: method(async function blob(this: Buffered): Promise<Blob> {
    return new Blob([take(this)], { type: this.headers.get('content-type') ?? '' });
  }),
  clone: method(function clone(this: Buffered): Response {
    if (this[USED]) throw new TypeError('Response.clone: Body has already been consumed.');
    return new BufferedResponse(Buffer.from(this[BYTES]), { status: this.status, statusText: this.statusText }, this[RAW_HEADERS]);
  }),
});

Object.defineProperties(StreamingResponse.prototype, {
  headers: lazyHeaders,
  body: {
    configurable: true,
    get(this: Streaming): ReadableStream<Uint8Array> {
      return (this[STREAM] ??= webStream(this[SOURCE]));
    },
  },
  bodyUsed: {
    configurable: true,
    get(this: Streaming): boolean {
      return this[USED] || (this[SOURCE].used && !this[STREAM]);
    },
  },
  text: method(async function text(this: Streaming): Promise<string> {
    return utf8(await readWhole(this));
  }),
  json: method(async function json(this: Streaming): Promise<unknown> {
    return JSON.parse(utf8(await readWhole(this))) as unknown;
  }),
  arrayBuffer: method(async function arrayBuffer(this: Streaming): Promise<ArrayBuffer> {
    const b = await readWhole(this);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }),
  blob: method(async function blob(this: Streaming): Promise<Blob> {
    return new Blob([await readWhole(this)], { type: this.headers.get('content-type') ?? '' });
  }),
  clone: method(function clone(this: Streaming): Response {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    const [mine, theirs] = this.body.tee();
    this[STREAM] = mine;
    return new Response(theirs, { status: this.status, statusText: this.statusText, headers: this.headers });
  }),
});

export function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const name in raw) {
    const v = raw[name];
    if (Array.isArray(v)) for (const item of v) headers.append(name, item);
    else if (v !== undefined) headers.append(name, v);
  }
  return headers;
}
