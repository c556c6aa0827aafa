import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request body as read off the wire: its text, and its JSON (undefined when empty or not JSON). */
export interface WireBody {
  rawBody: string;
  json: unknown;
}

export type WireHandler = (req: IncomingMessage, res: ServerResponse, body: WireBody) => void | Promise<void>;

/** How a scripted stream is written, frame by frame (indexes count frames, from 0). */
export interface FrameScript {
  /** Pause before every frame after the first. */
  delayMs?: number | undefined;
  /** Destroy the connection instead of writing this frame. */
  cutAt?: number | undefined;
  /** Stop writing at this frame and keep the connection open. */
  hangAt?: number | undefined;
  /** End the response cleanly at this frame. */
  endAt?: number | undefined;
  /** At this frame, end the response with `errorFrame` instead (a provider's in-stream error). */
  errorAt?: number | undefined;
  errorFrame?: string | undefined;
  /** Called after each frame (the error frame included) is handed to the socket. */
  onFrame?: () => void;
  /** Stop when this says the client is gone (besides a destroyed response or a closing server). */
  gone?: () => boolean;
}

/** The stream-shaping fields of a scripted reply (Anthropic and Gemini wire servers). */
export interface ReplyStreamScript {
  /** Pause before every frame after the first. */
  delayMs?: number | undefined;
  /** Replace frame `afterEvents` with the provider's error frame and end. */
  streamError?: { afterEvents: number } | undefined;
  /** End the response cleanly at this frame. */
  endAfterEvents?: number | undefined;
  /** Stop at this frame and keep the connection open. */
  hangAfterEvents?: number | undefined;
  /** Destroy the connection at this frame. */
  cutAfterEvents?: number | undefined;
}

/** A received request as the Anthropic and Gemini servers record it. */
export interface TrackedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The JSON body, parsed (undefined when empty or not a JSON object). */
  body: Record<string, unknown> | undefined;
  rawBody: string;
  /** Stream frames written so far. */
  eventsSent: number;
  /** True when the client closed the connection before the response was complete (abort, early cancel). */
  clientClosed: boolean;
  /** Resolves when the response is over: completed, or cut by either side. */
  done: Promise<void>;
}

/** What the reply-queue servers (Anthropic, Gemini) offer a test. */
export interface ReplyQueueServer<Request, Reply> {
  /** `http://127.0.0.1:<port>`: the baseURL for clients. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: Request[];
  /** Client connections that have closed so far. */
  readonly closedSockets: number;
  /** Appends replies to the queue. */
  enqueue(...replies: Reply[]): void;
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`, default 10 000). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Closes every connection (ending hanging responses) and the server. */
  close(): Promise<void>;
}

/** The JSON value when it is an object (not an array), else undefined. */
export function jsonObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Splits text into at most `n` pieces of near-equal length (code points kept whole; `''` is one empty piece). */
export function splitEven(text: string, n: number): string[] {
  const chars = Array.from(text);
  const count = Math.max(1, Math.min(Math.floor(n), chars.length));
  const size = Math.ceil(chars.length / count);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += size) pieces.push(chars.slice(i, i + size).join(''));
  return pieces.length > 0 ? pieces : [''];
}

async function readBody(req: IncomingMessage): Promise<WireBody> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const rawBody = Buffer.concat(chunks).toString('utf8');
  let json: unknown;
  try {
    json = rawBody ? JSON.parse(rawBody) : undefined;
  } catch {
    json = undefined;
  }
  return { rawBody, json };
}

/**
 * The plumbing the provider wire servers (test doubles) share: an HTTP server on 127.0.0.1 and a free
 * port, request bodies read and parsed, handler failures answered in the provider's format, connection
 * and timer tracking, scripted frame-by-frame streams (delays, cuts, hangs, in-stream errors), waiting
 * for a condition, and a `close()` that ends hanging responses too.
 *
 * ```ts
 * const kit = new WireServerKit((res, e) => sendError(res, 500, String(e)));
 * const url = await kit.listen((req, res, body) => { ... kit.wait(10, res) ... kit.cut(res) ... });
 * await kit.close();
 * ```
 */
export class WireServerKit {
  /** `http://127.0.0.1:<port>` once listening. */
  url = '';
  /** True from the start of `close()`. */
  closing = false;
  /** TCP connections accepted so far. */
  connectionsOpened = 0;
  /** TCP connections closed so far (by either side). */
  socketsClosed = 0;
  private readonly server: Server;
  private handler: WireHandler | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly socketListeners = new Set<() => void>();
  private readonly waiters = new Set<() => void>();
  private readonly cutByServer = new WeakSet<ServerResponse>();

  /** `fail` answers a request whose handler threw before sending headers (after them the response is destroyed). */
  constructor(fail: (res: ServerResponse, error: unknown) => void) {
    this.server = createServer((req, res) => {
      readBody(req)
        .then((body) => this.handler?.(req, res, body))
        .catch((e: unknown) => {
          if (!res.headersSent) fail(res, e);
          else res.destroy();
        });
    });
    this.server.on('connection', (socket: Socket) => {
      this.connectionsOpened++;
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.socketsClosed++;
        for (const listener of this.socketListeners) listener();
        this.notify();
      });
    });
  }

  /** Starts listening on 127.0.0.1 and a free port; resolves with the base URL. */
  async listen(handler: WireHandler): Promise<string> {
    this.handler = handler;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Calls `listener` whenever a connection closes; returns the unsubscribe function. */
  onSocketClose(listener: () => void): () => void {
    this.socketListeners.add(listener);
    return () => this.socketListeners.delete(listener);
  }

  /** Re-checks pending `waitUntil` conditions (call it when what they watch changed, e.g. a request arrived). */
  notify(): void {
    for (const check of this.waiters) check();
  }

  /** Resolves once `done()` holds (checked now, on `notify()` and on every socket close); rejects after `timeoutMs`. */
  waitUntil(done: () => boolean, timeoutMs: number, failure: () => string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(failure()));
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  /** Resolves true after `ms`, or false as soon as `res` closes or the server closes. */
  wait(ms: number, res?: ServerResponse): Promise<boolean> {
    if (this.closing || res?.destroyed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onClose = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        res?.off('close', onClose);
        resolve(!res?.destroyed && !this.closing);
      }, ms);
      this.timers.set(timer, onClose);
      res?.once('close', onClose);
    });
  }

  /** Destroys the response's connection, marked as cut by the server (not a client abort). */
  cut(res: ServerResponse): void {
    this.cutByServer.add(res);
    res.socket?.destroy();
  }

  /** A record of the request whose `clientClosed` and `done` follow its response; `notify()` is called for it. */
  track(req: IncomingMessage, res: ServerResponse, { rawBody, json }: WireBody): TrackedRequest {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let resolveDone!: () => void;
    const record: TrackedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: jsonObject(json),
      rawBody,
      eventsSent: 0,
      clientClosed: false,
      done: new Promise<void>((resolve) => (resolveDone = resolve)),
    };
    this.watch(res, ({ byClient }) => {
      if (byClient) record.clientClosed = true;
      resolveDone();
    });
    return record;
  }

  /** Calls `onEnd` when the response is over: `finished` (written completely) or not, and then whether the client went away. */
  watch(res: ServerResponse, onEnd: (end: { finished: boolean; byClient: boolean }) => void): void {
    res.on('close', () => {
      const finished = res.writableFinished;
      onEnd({ finished, byClient: !finished && !this.closing && !this.cutByServer.has(res) });
    });
  }

  /**
   * Writes `frames` one by one as `script` says, each awaited until handed to the socket (so a cut
   * right after cannot swallow it). True when every frame was written (the caller ends the response),
   * false when the script or the client stopped it first.
   */
  async writeFrames(res: ServerResponse, frames: readonly string[], script: FrameScript = {}): Promise<boolean> {
    for (let i = 0; i < frames.length; i++) {
      if (i > 0 && script.delayMs && !(await this.wait(script.delayMs, res))) return false;
      if (this.closing || res.destroyed || script.gone?.()) return false;
      if (script.errorAt === i && script.errorFrame !== undefined) {
        res.end(script.errorFrame);
        script.onFrame?.();
        return false;
      }
      if (script.endAt === i) {
        res.end();
        return false;
      }
      if (script.hangAt === i) return false;
      if (script.cutAt === i) {
        this.cut(res);
        return false;
      }
      await new Promise<void>((resolve) => res.write(frames[i]!, () => resolve()));
      script.onFrame?.();
    }
    return true;
  }

  /**
   * Streams `frames` (headers already sent) as `reply` scripts it, counting them in `record.eventsSent`
   * and stopping once the client is gone. After the last frame, a cut or hang at or past it still
   * happens; otherwise the response ends cleanly.
   */
  async streamReply(res: ServerResponse, record: TrackedRequest, reply: ReplyStreamScript, frames: readonly string[], errorFrame: string | undefined): Promise<void> {
    const written = await this.writeFrames(res, frames, {
      delayMs: reply.delayMs,
      errorAt: reply.streamError?.afterEvents,
      errorFrame,
      endAt: reply.endAfterEvents,
      hangAt: reply.hangAfterEvents,
      cutAt: reply.cutAfterEvents,
      onFrame: () => record.eventsSent++,
      gone: () => record.clientClosed,
    });
    if (!written) return;
    if (reply.cutAfterEvents !== undefined && reply.cutAfterEvents >= frames.length) this.cut(res);
    else if (reply.hangAfterEvents === undefined || reply.hangAfterEvents < frames.length) res.end();
  }

  /** The reply-queue server face over this kit (`name` goes into timeout messages). */
  replyQueueServer<Request, Reply>(name: string, requests: Request[], queue: Reply[]): ReplyQueueServer<Request, Reply> {
    const kit = this;
    return {
      url: this.url,
      requests,
      get closedSockets() {
        return kit.socketsClosed;
      },
      enqueue(...replies) {
        queue.push(...replies);
      },
      waitForRequests(count, timeoutMs = 10_000) {
        return kit.waitUntil(() => requests.length >= count, timeoutMs, () => `${name}: ${requests.length} of ${count} requests after ${timeoutMs} ms`);
      },
      close: () => this.close(),
    };
  }

  /** Ends every response and connection (waits end as `false`), then the server. */
  async close(): Promise<void> {
    this.closing = true;
    for (const [timer, stop] of this.timers) {
      clearTimeout(timer);
      stop();
    }
    this.timers.clear();
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
