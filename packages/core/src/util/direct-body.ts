/**
 * A response body handed to its reader chunk by chunk through callbacks, without a web stream.
 *
 * A `fetch` made for a hot path (the gateway's `createUpstreamFetch`) puts a `DirectBody` on the `Response`
 * it answers under `DIRECT_BODY`; the engines' SSE reader (`SsePartStream`) then takes the bytes straight
 * from the socket's callbacks: no `ReadableStream`, no read request, promise or result object per chunk.
 * Any other `Response` is read through its `body` as usual (`tapBody` does both).
 */
export const DIRECT_BODY: unique symbol = Symbol.for('@llmrr/direct-body');

/** Where a tapped body's bytes go. Called synchronously, never after `end` or `error`, never after `cancel`. */
export interface BodySink {
  data(chunk: Uint8Array): void;
  /** The body ended. */
  end(): void;
  /** Reading the body failed (connection reset, abort). */
  error(cause: unknown): void;
}

/** The reader's side of a tapped body. */
export interface BodyTap {
  /** Stop delivering (backpressure) until `resume`. Chunks may still arrive from a read already under way. */
  pause(): void;
  resume(): void;
  /** Nothing more is wanted: no more calls to the sink; a body that has not ended is aborted. */
  cancel(reason?: unknown): void;
  /**
   * The reader has all it wants (its terminal event came): no more calls to the sink; the rest of the body
   * is read and dropped, so an HTTP connection whose body ends cleanly is kept for the next request. A body
   * that has not ended `RELEASE_LINGER_MS` later is cancelled.
   */
  release(): void;
}

/**
 * How long a released body may take to end by itself. Providers end the body right after the terminal
 * event, often in a later packet than the event: cancelling at once would close a connection that was about
 * to be reusable (a new TCP and TLS handshake for the next request).
 */
export const RELEASE_LINGER_MS = 1000;

/** A body that can be tapped once. */
export interface DirectBody {
  /**
   * Starts delivering to `sink`. Bytes that came before are delivered during this call, and so may
   * the end. Throws a `TypeError` when the body was already read.
   */
  tap(sink: BodySink): BodyTap;
}

/** Taps `response`'s body: its `DirectBody` when it has one, else its web stream. Undefined: no body. */
export function tapBody(response: Response, sink: BodySink): BodyTap | undefined {
  const direct = (response as Response & { [DIRECT_BODY]?: DirectBody })[DIRECT_BODY];
  if (direct) return direct.tap(sink);
  const body = response.body;
  return body ? tapReader(body.getReader(), sink) : undefined;
}

/** Reads a web stream into `sink` until paused, cancelled or ended (one read at a time). */
function tapReader(reader: ReadableStreamDefaultReader<Uint8Array>, sink: BodySink): BodyTap {
  let paused = false;
  let reading = false;
  let closed = false;
  /** Released: read on to the end, dropping what comes; the timer cancels a body that does not end. */
  let released = false;
  let linger: ReturnType<typeof setTimeout> | undefined;
  const ended = (): void => {
    closed = true;
    if (linger !== undefined) clearTimeout(linger);
  };
  const loop = async (): Promise<void> => {
    reading = true;
    try {
      while ((!paused || released) && !closed) {
        const { done, value } = await reader.read();
        if (closed) return;
        if (done) {
          ended();
          if (!released) sink.end();
          return;
        }
        if (!released) sink.data(value);
      }
    } catch (e) {
      if (!closed) {
        ended();
        // A sink that throws from error() too (a bug) must not leave an unhandled rejection.
        try {
          if (!released) sink.error(e);
        } catch {
          // nothing more to tell
        }
      }
    } finally {
      reading = false;
    }
  };
  void loop();
  const tap: BodyTap = {
    pause() {
      paused = true;
    },
    resume() {
      if (!paused) return;
      paused = false;
      if (!reading && !closed) void loop();
    },
    cancel(reason) {
      if (closed) return;
      ended();
      reader.cancel(reason).catch(() => {});
      try {
        reader.releaseLock();
      } catch {
        // a read still pending on an old streams implementation: the cancel ends it
      }
    },
    release() {
      if (closed || released) return;
      released = true;
      const t = setTimeout(() => tap.cancel(), RELEASE_LINGER_MS);
      (t as { unref?: () => void }).unref?.();
      linger = t;
      if (!reading) void loop();
    },
  };
  return tap;
}
