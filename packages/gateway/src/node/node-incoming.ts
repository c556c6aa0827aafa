import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { tooLarge, unreadable, type HeaderSource, type Incoming } from '../http/incoming.js';

/** Node's parsed headers (lower-case names; repeats already joined, except `set-cookie`). */
class NodeHeaders implements HeaderSource {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return typeof v === 'string' ? v : v.join(', ');
  }
}

/**
 * A Node request as the gateway's `Incoming`: headers read in place, the body collected from the stream
 * (refused as soon as it passes the limit), and an abort signal, made on first use, that fires when the
 * client goes away before its answer is complete.
 */
export class NodeIncoming implements Incoming {
  readonly headers: HeaderSource;
  private controller: AbortController | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    this.headers = new NodeHeaders(req.headers);
  }

  get clientIp(): string | undefined {
    return this.req.socket.remoteAddress;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      const res = this.res;
      const onClose = () => {
        if (!res.writableFinished) controller.abort(new DOMException('The client closed the connection', 'AbortError'));
      };
      if (res.closed) onClose();
      else res.once('close', onClose);
    }
    return this.controller.signal;
  }

  bytes(maxBytes: number): Promise<Uint8Array> {
    const req = this.req;
    return new Promise<Uint8Array>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let total = 0;
      const cleanup = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('close', onClose);
      };
      const onData = (chunk: Buffer) => {
        total += chunk.length;
        if (total > maxBytes) {
          cleanup();
          // Keep draining what is in flight without storing it; the reply closes the connection.
          req.resume();
          reject(tooLarge(maxBytes));
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
      };
      const onError = (e: unknown) => {
        cleanup();
        reject(unreadable(e));
      };
      const onClose = () => {
        if (req.complete) return;
        cleanup();
        reject(unreadable(new Error('The client closed the connection before the body was complete')));
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('close', onClose);
    });
  }
}
