import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FrameStream, Reply } from '../http/reply.js';

/** An unread request body up to this size is read and dropped, keeping the connection for the next request. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * Writes a gateway reply to a Node response: a whole body in one `end` (with its Content-Length), a stream one
 * `write` per piece (the headers go out with the first piece), waiting for `drain` when the client reads slowly. A client
 * that goes away cancels the stream (which stops the upstream call and settles the request). A request
 * refused before its body was read (bad key, too large) keeps its connection when the rest of the body is
 * small and declared; otherwise the reply says `connection: close`, and the rest is read and dropped before the
 * connection closes (`discardBeforeClosing`).
 */
export function writeReply(reply: Reply, req: IncomingMessage, res: ServerResponse): void {
  let headers = reply.headers;
  if (!req.complete) {
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length <= DRAIN_LIMIT) req.resume();
    else {
      headers = { ...headers, connection: 'close' };
      discardBeforeClosing(req);
    }
  }
  const { body } = reply;
  // A whole body says its length (as node:http's own `end(body)` would): an HTTP/1.0 client asking for keep-alive keeps
  // its connection (without it node:http must close it), and an HTTP/1.1 one reads no chunked framing. (The reply's
  // headers are its own: `jsonReply` and `errorReply` add theirs to them too.)
  if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
  try {
    res.writeHead(reply.status, headers);
  } catch (e) {
    // (A header value Node refuses.) A stream nobody will read is cancelled, so the request is settled.
    if (typeof body !== 'string') void body.cancel().catch(() => {});
    throw e;
  }
  if (typeof body === 'string') {
    res.end(body);
    return;
  }
  void pump(body, res);
}

/** How long a connection refused before its body was read stays open after its answer, dropping the rest of the body. */
const LINGER_MS = 10_000;
/** How much more of such a body is read (and dropped) at most before the connection closes anyway. */
const LINGER_BYTES = 64 * 1024 * 1024;

/**
 * Set on a connection whose answer said `connection: close` before the request's body was read (`discardBeforeClosing`):
 * a request that arrives behind it is not served (`serveGateway` looks for it), and `stopLingering` closes it at once.
 */
const LINGERING = Symbol('llmrr.lingering');
type Lingering = Socket & { destroySoon?: () => void; [LINGERING]?: () => void };

/** The connection is lingering (`discardBeforeClosing`): no request on it is served any more. */
export function lingering(socket: Socket): boolean {
  return (socket as Lingering)[LINGERING] !== undefined;
}

/**
 * A lingering connection is closed without waiting for the rest of the body (the server is closing: nothing is owed on
 * it); its answer is all written first. Nothing for another connection.
 */
export function stopLingering(socket: Socket): void {
  (socket as Lingering)[LINGERING]?.();
}

/**
 * node:http closes a connection whose answer says `connection: close` once that answer is written (`destroySoon`): the
 * rest of a body the client is still sending then meets a reset (or the client, seeing the close, fails its own
 * writes), and the client often sees EPIPE or ECONNRESET instead of the answer. Here that close waits until the body
 * has been read (and dropped), the client closed its side, or `LINGER_MS` / `LINGER_BYTES` passed, whichever comes
 * first, then closes as Node does. Only for such requests (a body not read, larger than `DRAIN_LIMIT` or not declared).
 * node:http keeps parsing meanwhile: a request pipelined behind that body is not served (`LINGERING`: its answer could
 * never be sent, and a model call would run for nothing).
 */
function discardBeforeClosing(req: IncomingMessage): void {
  const socket = req.socket as Lingering | null;
  if (!socket || socket.destroyed) return;
  req.resume();
  let stopped = false;
  let closeNow: (() => void) | undefined;
  socket[LINGERING] = () => {
    stopped = true;
    closeNow?.();
  };
  socket.destroySoon = function closeOnceRead(this: Socket) {
    let left = LINGER_BYTES;
    let done = false;
    const close = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', count);
      req.off('end', close);
      req.off('close', close);
      // As node:http's own: the answer is all written first.
      if (this.writable) this.end();
      if (this.writableFinished) this.destroy();
      else this.once('finish', () => this.destroy());
    };
    const count = (chunk: Buffer) => {
      left -= chunk.length;
      if (left < 0) close();
    };
    const timer = setTimeout(close, LINGER_MS);
    timer.unref();
    closeNow = close;
    if (stopped || req.complete || req.destroyed) {
      close();
      return;
    }
    req.on('data', count);
    req.once('end', close);
    req.once('close', close);
  };
}

async function pump(stream: FrameStream, res: ServerResponse): Promise<void> {
  let gone = false;
  const onClose = () => {
    if (res.writableFinished) return;
    gone = true;
    void stream.cancel().catch(() => {});
  };
  // A client gone before the reply came (while the call was admitted, or a cache hit replayed): 'close' was
  // emitted already and will not be again.
  if (res.destroyed || res.closed) onClose();
  else res.once('close', onClose);
  try {
    if (stream.pipe) {
      // Nothing more is written once the client is gone; the stream is cancelled (onClose) and ends soon.
      await stream.pipe({ write: (piece) => gone || res.write(piece), drained: () => drained(res), abandon: () => dropUnlessWritten(res) });
    } else {
      for (;;) {
        const next = await stream.frames.next();
        if (next.done || gone) break;
        if (!res.write(next.value)) await drained(res);
      }
    }
    if (!gone) res.end();
  } catch (e) {
    // The frame source settles and reports its own failures; this is a bug or a broken socket.
    res.destroy(e instanceof Error ? e : new Error(String(e)));
  } finally {
    res.off('close', onClose);
  }
}

/**
 * How long a streamed response the router gave up on (its client stopped reading: `FrameSink.abandon`) is given to be
 * all written, its error event last, before its connection is closed.
 */
const ABANDONED_LINGER_MS = 10_000;

/**
 * The stream gave up on a client that does not read (`FrameSink.abandon`; the call is settled): a client that reads
 * again within `ABANDONED_LINGER_MS` still gets the rest, the error event last; otherwise the response is destroyed,
 * so the connection and what is buffered for it are not held for as long as the client likes. One timer, per stream
 * given up on. Both of `serveGateway`'s paths: `pump`'s sink, and `gateway.fetch`'s (`SERVED_ABANDON`).
 */
export function dropUnlessWritten(res: ServerResponse): void {
  if (res.destroyed || res.closed) return;
  const timer = setTimeout(() => res.destroy(), ABANDONED_LINGER_MS);
  timer.unref();
  res.once('close', () => clearTimeout(timer));
}

/** Resolves once `res` has drained or closed; at once when it is destroyed already (a write to it never drains). */
function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed || res.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
