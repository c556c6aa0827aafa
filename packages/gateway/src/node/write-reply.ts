import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FrameStream, Reply } from '../http/reply.js';

/** An unread request body up to this size is read and dropped, keeping the connection for the next request. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * Writes a gateway reply to a Node response: a whole body in one `end`, a stream one `write` per piece
 * (the headers go out with the first piece), waiting for `drain` when the client reads slowly. A client
 * that goes away cancels the stream (which stops the upstream call and settles the request). A request
 * refused before its body was read (bad key, too large) keeps its connection when the rest of the body is
 * small and declared; otherwise the reply says `connection: close`, so the rest is never read.
 */
export function writeReply(reply: Reply, req: IncomingMessage, res: ServerResponse): void {
  let headers = reply.headers;
  if (!req.complete) {
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length <= DRAIN_LIMIT) req.resume();
    else headers = { ...headers, connection: 'close' };
  }
  const { body } = reply;
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
      await stream.pipe({ write: (piece) => gone || res.write(piece), drained: () => drained(res) });
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
