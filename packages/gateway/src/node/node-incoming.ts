import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ServedStreams } from '../calls/served-streams.js';
import type { BodyBudget } from '../http/body-budget.js';
import type { LLMError } from '@llmrr/core';
import { bodyAbandoned, bodyReadFailure, tooLarge, type HeaderSource, type Incoming } from '../http/incoming.js';
import { clientAddress, type TrustedProxies } from './client-address.js';

/** Node's parsed headers (lower-case names; repeats joined, except `set-cookie`: `serveGateway`'s `joinDuplicateHeaders`). */
class NodeHeaders implements HeaderSource {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return typeof v === 'string' ? v : v.join(', ');
  }
}

/** The error a request was answered with by its server while its body arrived (`answeredWhileReading`), kept on it. */
const ANSWERED = Symbol('llmrr.answered');
type AnsweredRequest = IncomingMessage & { [ANSWERED]?: LLMError };

/**
 * The server answered `req` with `error` while its body was arriving (`answerClientError`: a 400 for a body node:http's
 * parser failed on, such as one cut short by a half-close; a 408 past `requestTimeoutMs`), closing its connection: the
 * body's read then fails with that error (`answeredWith`), so the request is counted as what the client was told, not
 * as the client's leaving (`aborted`).
 */
export function answeredWhileReading(req: IncomingMessage, error: LLMError): void {
  (req as AnsweredRequest)[ANSWERED] = error;
}

/** The error `req` was answered with while its body arrived (`answeredWhileReading`), if any. */
export function answeredWith(req: IncomingMessage): LLMError | undefined {
  return (req as AnsweredRequest)[ANSWERED];
}

/** The abort controller of a connection's signal, kept on its socket (see `connectionSignal`). */
const CONNECTION_SIGNAL = Symbol('llmrr.connectionSignal');
/** The response of the connection's latest request to arrive (answers go out in arrival order). */
const LATEST_RESPONSE = Symbol('llmrr.latestResponse');
/** Stops the read of the body arriving on the connection (`NodeIncoming.bytes`), with an error: the shutdown cut's. */
const BODY_READ = Symbol('llmrr.bodyRead');
/** The connection's slot in its server's `ConnectionSignals` while it is open. */
const CONNECTION_SLOT = Symbol('llmrr.connectionSlot');
type SignalledSocket = Socket & {
  [CONNECTION_SIGNAL]?: AbortController;
  [LATEST_RESPONSE]?: ServerResponse;
  [BODY_READ]?: ((error: unknown) => void) | undefined;
  [CONNECTION_SLOT]?: number | undefined;
};

/**
 * The shutdown cut (`serveGateway`'s `close()`, at the end of its grace) stops the read of a body still arriving on
 * `socket`, if any (a request served directly: `NodeIncoming.bytes`): the read fails with `error` at once, so its route
 * answers it (the 503 `shutting_down`, nothing being written yet) instead of waiting for a body that may never come.
 */
export function cutBodyRead(socket: Socket, error: unknown): void {
  const s = socket as SignalledSocket;
  // (The body being read is the latest request's: none arrives behind it before it is complete.)
  if (s[BODY_READ] !== undefined && s[LATEST_RESPONSE]?.req.complete !== true) s[BODY_READ](error);
}

/**
 * The connections of one server whose abort signal a request took (`connectionSignal`), until they close, so that
 * its shutdown cut (`cut`) can abort the signal of those with a request in flight with the cut's error, the client
 * still there: the calls on them stop and answer that error (the route tells it from the client's leaving by the
 * reason: `ServedStreams.cutOf`). Per connection one slot; nothing per request.
 *
 * The connections are kept in slots (as `ServedStreams` keeps its calls, and core's `SlotSet` a router's calls in
 * flight), not in a `Set`: a `Set` that connections go in and out of (clients that open one per request) keeps rehashing
 * into a new table, and V8 keeps each replaced table's entries, so once one table reached the old generation every
 * closed socket (its parser, request, response) stayed reachable past young-generation GCs until the next full GC.
 */
export class ConnectionSignals {
  /** The open connections, each at its `CONNECTION_SLOT`; `undefined` in a freed slot. */
  private readonly open: Array<SignalledSocket | undefined> = [];
  /** Freed slots of `open`, reused first. */
  private readonly free: number[] = [];
  private cutWith: unknown;
  private isCut = false;

  /** A connection's signal was made: tracked until its socket closes; once the cut started, aborted at once. */
  made(socket: SignalledSocket, controller: AbortController): void {
    if (this.isCut) controller.abort(this.cutWith);
    else if (socket[CONNECTION_SLOT] === undefined) {
      const slot = this.free.length > 0 ? this.free.pop()! : this.open.length;
      this.open[slot] = socket;
      socket[CONNECTION_SLOT] = slot;
    }
  }

  closed(socket: SignalledSocket): void {
    const slot = socket[CONNECTION_SLOT];
    if (slot === undefined || this.open[slot] !== socket) return;
    this.open[slot] = undefined;
    socket[CONNECTION_SLOT] = undefined;
    this.free.push(slot);
  }

  /** The cut's error once the cut started (`cut`): a body read then is not waited for (`NodeIncoming.bytes`). */
  get cutError(): unknown {
    return this.isCut ? this.cutWith : undefined;
  }

  /**
   * Aborts with `reason` the signal of each connection that `busy` says has a request in flight (a signal the client's
   * leaving aborted keeps its reason), and every connection signal made from then on (a request whose body was still
   * arriving takes it then).
   */
  cut(reason: unknown, busy: (socket: Socket) => boolean): void {
    this.isCut = true;
    this.cutWith = reason;
    // (A connection that closes meanwhile frees its slot: it is not visited, as a `Set` would not visit it.)
    for (let i = 0; i < this.open.length; i++) {
      const socket = this.open[i];
      if (socket !== undefined && busy(socket)) socket[CONNECTION_SIGNAL]?.abort(reason);
    }
  }
}

/**
 * Notes `res` as the answer of its connection's latest request (answers go out in arrival order): called as each
 * request arrives (`NodeIncoming` does it), not when a handler takes the signal, since a later request may read it
 * after an earlier one, or only after the client has left.
 */
export function arrived(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as SignalledSocket | null;
  if (socket) socket[LATEST_RESPONSE] = res;
}

/**
 * `res` answers the latest request to arrive on its connection (`arrived`): no request is pipelined behind it, so
 * nothing waits to be written after it on that connection.
 */
export function lastArrived(req: IncomingMessage, res: ServerResponse): boolean {
  return (req.socket as SignalledSocket | null)?.[LATEST_RESPONSE] === res;
}

/** The answer of the latest request to arrive on `socket` (`arrived`), if any. */
export function latestArrived(socket: Socket | null): ServerResponse | undefined {
  return (socket as SignalledSocket | null)?.[LATEST_RESPONSE];
}

/**
 * The abort signal of the connection carrying `req` (whose latest arrived request's answer is `res`: `arrived`).
 * One signal per connection, made on first use, aborted when the socket closes. The socket closing is the
 * client going away from whatever is in flight on it (pipelined requests are answered in arrival order; their
 * handlers may run at the same time); a response already complete has left nothing listening (each listener
 * is removed when its call settles). Node 20 spends several microseconds making an AbortController, which is
 * worth not doing for every request of a keep-alive connection. A connection that closes once the answer of
 * its latest arrived request is complete (answers go out in arrival order, so every earlier one is too) has
 * nothing in flight: its signal is left as it is (no abort error and abort event per connection, as when a
 * client's pool closes them all). A request that takes the signal after the client left gets it aborted. Its
 * server's shutdown cut may abort it too (`connections`), with the cut's error as the reason. The model routes
 * take it on both of `serveGateway`'s paths (directly, and through `gateway.fetch`: `ServedEnv`).
 */
export function connectionSignal(req: IncomingMessage, res: ServerResponse, connections: ConnectionSignals | undefined): AbortSignal {
  const socket = req.socket as SignalledSocket | null;
  if (!socket) return ownSignal(res);
  let controller = socket[CONNECTION_SIGNAL];
  if (!controller) {
    const made = new AbortController();
    controller = made;
    socket[CONNECTION_SIGNAL] = made;
    const onClose = () => {
      connections?.closed(socket);
      if (socket[LATEST_RESPONSE]?.writableFinished) return;
      made.abort(new DOMException('The client closed the connection', 'AbortError'));
    };
    if (socket.destroyed) onClose();
    else {
      connections?.made(socket, made);
      socket.once('close', onClose);
    }
  }
  return controller.signal;
}

/** A request without a socket (already detached): its own signal, aborted if its response never completes. */
function ownSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new DOMException('The client closed the connection', 'AbortError'));
  };
  if (res.closed) onClose();
  else res.once('close', onClose);
  return controller.signal;
}

/**
 * A Node request as the gateway's `Incoming`: headers read in place, the body collected from the stream
 * (refused as soon as it passes the limit), and an abort signal that fires when the client goes away
 * before its answer is complete.
 */
export class NodeIncoming implements Incoming {
  readonly headers: HeaderSource;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly served?: ServedStreams,
    /** The server's connections (`serveGateway`), whose shutdown cut aborts their signals. */
    private readonly connections?: ConnectionSignals,
    /** The server's trusted proxies (`ServeOptions.trustedProxies`): whose `X-Forwarded-For` names the client. */
    private readonly trusted?: TrustedProxies,
  ) {
    this.headers = new NodeHeaders(req.headers);
    arrived(req, res);
  }

  get clientIp(): string | undefined {
    return clientAddress(this.req, this.trusted);
  }

  /** The connection's signal (`connectionSignal`): one per connection, made on first use. */
  get signal(): AbortSignal {
    return connectionSignal(this.req, this.res, this.connections);
  }

  /** The body (see `Incoming.bytes`), its bytes charged to `budget` as they arrive. */
  bytes(maxBytes: number, budget?: BodyBudget): Promise<Uint8Array> {
    const req = this.req;
    return new Promise<Uint8Array>((resolve, reject) => {
      if (req.destroyed) {
        // The client left before the body was read (or was answered already): Node has already emitted everything it will.
        reject(answeredWith(req) ?? bodyAbandoned(new Error('The client closed the connection before the body was read')));
        return;
      }
      // (The server's shutdown cut has started: the body is not waited for. Nothing to check for a complete one.)
      const cut = req.complete ? undefined : this.connections?.cutError;
      if (cut !== undefined) {
        reject(cut);
        return;
      }
      const socket = req.socket as SignalledSocket | null;
      const chunks: Buffer[] = [];
      let total = 0;
      const cleanup = () => {
        // (Only its own: the read of a request pipelined ahead of it may end after this one started.)
        if (socket?.[BODY_READ] === fail) socket[BODY_READ] = undefined;
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('close', onClose);
      };
      /** Stops the read: what was charged is given back. */
      const fail = (error: unknown) => {
        cleanup();
        budget?.give(total);
        reject(error);
      };
      const onData = (chunk: Buffer) => {
        const refused = total + chunk.length > maxBytes ? tooLarge(maxBytes) : budget !== undefined && !budget.charge(total, chunk.length) ? budget.busy() : undefined;
        if (refused !== undefined) {
          fail(refused);
          // Keep draining what is in flight without storing it; the reply closes the connection.
          req.resume();
          return;
        }
        total += chunk.length;
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
      };
      // (Node's `aborted` error, ECONNRESET, when the client leaves mid-body: `bodyAbandoned`, as at 'close'; the error
      // the server answered the request with while its body arrived, if it did: `answeredWith`.)
      const onError = (e: unknown) => fail(answeredWith(req) ?? bodyReadFailure(e));
      const onClose = () => {
        if (req.complete) return;
        fail(answeredWith(req) ?? bodyAbandoned(new Error('The client closed the connection before the body was complete')));
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('close', onClose);
      // (The shutdown cut stops it: `cutBodyRead`. Only a body still arriving: the one read of a request pipelined
      // ahead, complete, must not take the place of the read of the one behind it, started first.)
      if (socket && !req.complete) socket[BODY_READ] = fail;
    });
  }
}
