import type { LLMError } from '@llmrr/core';

/**
 * A chunked body: text to send piece by piece (each piece one or more SSE frames, written as it comes).
 * `cancel` is for a client that went away: it stops the upstream call and settles the request.
 */
export interface FrameStream {
  readonly frames: AsyncIterator<string, void>;
  /**
   * The same pieces as `frames` gives, written to `sink` one after another until the end, without a promise per
   * piece (the Node adapter's path); resolves once the stream is done. Use either this or `frames`.
   */
  pipe?(sink: FrameSink): Promise<void>;
  cancel(): Promise<void>;
  /**
   * Ends the stream early with `error` as its last piece (the protocol's error event), the client still there (a
   * server whose shutdown grace ended): the upstream call is cancelled and the request settled as an error. Does
   * nothing once the stream has settled, or after `cancel`.
   */
  interrupt?(error: LLMError): void;
  /**
   * For a stream read through `frames`: `abandon` is called as `FrameSink.abandon` is, once the stream gave up on a
   * client that stopped reading (`replyToResponse`'s `abandon`).
   */
  onAbandon?(abandon: () => void): void;
}

/** Where `FrameStream.pipe` writes: `write` returns false when the piece was buffered (then `drained()` is awaited). */
export interface FrameSink {
  write(piece: string): boolean;
  drained(): Promise<void>;
  /**
   * The stream gave up on a client that stopped reading while a write waited for `drained()` (the router abandoned
   * the stream after `timeouts.consumerIdleMs`, or at `totalMs`; or the write waited that long: `SseResponseOptions.idleMs`): the call is settled, and the stream's last pieces (its
   * error event) follow once the client reads again. The response is dropped (its connection closed) if it is not all
   * written within a bound. Called at most once per stream.
   */
  abandon?(): void;
}

/**
 * A response before it is bound to a transport: `replyToResponse` makes the web `Response`; the Node
 * adapter writes it straight to a `ServerResponse` (no Request/Response objects on its hot path).
 */
export interface Reply {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The whole body (JSON text), or a stream of frames. */
  body: string | FrameStream;
}

const encoder = new TextEncoder();

/**
 * The web `Response` of `reply`. `abandon`: what the transport does once a streamed body gave up on a client that
 * stopped reading (`FrameSink.abandon`: `serveGateway` drops the response if it is not all written in time).
 */
export function replyToResponse(reply: Reply, abandon?: () => void): Response {
  const { body } = reply;
  if (typeof body === 'string') return new Response(body, { status: reply.status, headers: reply.headers });
  if (abandon !== undefined) body.onAbandon?.(abandon);
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await body.frames.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    cancel: () => body.cancel(),
  });
  return new Response(stream, { status: reply.status, headers: reply.headers });
}

/**
 * A JSON reply. `headers` become the reply's (content type and request id are added to them, not copied). The
 * request id goes out twice: as `x-request-id` (OpenAI's name, read by its SDKs) and as `request-id` (Anthropic's,
 * read by its SDKs as `_request_id` and `APIError.requestID`).
 */
export function jsonReply(body: unknown, requestId: string, headers: Record<string, string> = {}, status = 200): Reply {
  headers['content-type'] = 'application/json';
  headers['x-request-id'] = requestId;
  headers['request-id'] = requestId;
  return { status, headers, body: JSON.stringify(body) };
}
