import { DIRECT_BODY } from '@llmrr/core';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { HIGH_WATER_BYTES, type UpstreamBody } from './upstream-body.js';

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
 * the bytes from the socket's callbacks; `body` is a web stream on the same source, built on first use
 * (from then on `DIRECT_BODY` is absent, so an SSE reader reads that stream); `text()`, `json()`,
 * `arrayBuffer()`, `bytes()`, `blob()` and `formData()` read it whole. `headers` is built on first use.
 */
export class StreamingResponse extends Response {
  constructor(source: UpstreamBody, responseInit: ResponseInit, headers: IncomingHttpHeaders) {
    super(null, responseInit);
    const self = this as unknown as Streaming;
    init(self, headers);
    self[SOURCE] = source;
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
  if (r.bodyUsed) throw unusable();
  r[USED] = true;
  const chunks: Uint8Array[] = [];
  for await (const chunk of r.body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A web stream on `source` (for readers that do not know `DIRECT_BODY`); errored if it was read already. */
function webStream(source: UpstreamBody): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        if (source.used) {
          c.error(unusable());
          return;
        }
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
  bytes: method(async function bytes(this: Buffered): Promise<Uint8Array> {
    return new Uint8Array(take(this));
  }),
  formData: method(async function formData(this: Buffered): Promise<FormData> {
    return new Response(take(this), { headers: this.headers }).formData();
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
  [DIRECT_BODY]: {
    configurable: true,
    get(this: Streaming): UpstreamBody | undefined {
      return this[STREAM] ? undefined : this[SOURCE];
    },
  },
  body: {
    configurable: true,
    get(this: Streaming): ReadableStream<Uint8Array> {
      return (this[STREAM] ??= webStream(this[SOURCE]));
    },
  },
  bodyUsed: {
    configurable: true,
    get(this: Streaming): boolean {
      const stream = this[STREAM];
      return this[USED] || (stream ? Readable.isDisturbed(stream as unknown as Readable) : this[SOURCE].used);
    },
  },
  text: method(async function text(this: Streaming): Promise<string> {
    return utf8(await readWhole(this));
  }),
  bytes: method(async function bytes(this: Streaming): Promise<Uint8Array> {
    return new Uint8Array(await readWhole(this));
  }),
  formData: method(async function formData(this: Streaming): Promise<FormData> {
    return new Response(await readWhole(this), { headers: this.headers }).formData();
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
