import { getRequestListener } from '@hono/node-server';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ServerResponse, createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ModelRoute } from '../calls/model-route.js';
import { SERVED_ABANDON, SERVED_ANSWERED, SERVED_SIGNAL, SERVED_STREAMS, ServedStreams, type ServedEnv } from '../calls/served-streams.js';
import { directRoutesOf, type DirectRoutes } from '../http/direct-routes.js';
import { errorReply } from '../http/error-body.js';
import { defaultRequestId } from '../http/request-id.js';
import { LLMError, timerDelay } from '@llmrr/core';
import type { Gateway } from '../types.js';
import { clientAddress, trustedProxies, type TrustedProxies } from './client-address.js';
import { answerClientError, answerConnect, answerContinue, answerExpectation, answerLengthRequired, answerMissingHost, answerServerOptions, fetchBridgeError, lacksHost } from './client-error.js';
import { ConnectionSignals, NodeIncoming, answeredWith, arrived, connectionSignal, cutBodyRead, lastArrived, latestArrived } from './node-incoming.js';
import { dropUnlessWritten, lingering, stopLingering, writeReply } from './write-reply.js';

export interface ServeOptions {
  /** Default 3006; `0` picks a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /**
   * How long a client may take to send a whole request, headers and body (default 60 s; Node's own default
   * is 300 s): a client that stalls mid-request then gets a 408 with the error body and its connection is
   * closed. It does not limit the answer: a long stream runs as long as it runs.
   */
  requestTimeoutMs?: number;
  /** How long a client may take to send the request headers (default: the smaller of 60 s and `requestTimeoutMs`). */
  headersTimeoutMs?: number;
  /**
   * How long an idle keep-alive connection stays open after an answer (default 5 s, Node's own). Behind a load
   * balancer that keeps its connections to the gateway open longer (AWS ALB: 60 s idle timeout), set it above
   * the balancer's, so the balancer closes an idle connection first: one the gateway closes while the balancer
   * sends a request on it makes a 502. Independent of `headersTimeoutMs` (counted per request, not while idle).
   */
  keepAliveTimeoutMs?: number;
  /**
   * How long `close()` keeps accepting and serving requests before it stops accepting (default 0: at once), with
   * `/ready` answering 503 from the start: the time a load balancer or Kubernetes needs to stop sending new requests
   * here once the readiness probe fails or the pod is terminating. `close()`'s grace starts after it.
   */
  shutdownDelayMs?: number;
  /**
   * How long the requests `close()` cuts at the end of its grace have to settle (ledger row, limits, budget) and send
   * their error (a stream's error event, a model request's 503 `shutting_down`) before every connection left is
   * closed anyway (a client that does not read, a store slower than that). Default 1000; an integer >= 0 (one past
   * 2^31 - 1 ms waits that long). `close()`
   * resolves as soon as those answers are sent, not at the end of this bound.
   */
  cutSettleMs?: number;
  /**
   * The proxies in front of the server (load balancers, ingresses) whose `X-Forwarded-For` is believed: addresses and
   * CIDR ranges, IPv4 or IPv6 (`['10.0.0.0/8', 'fd00::/8']`). A request whose connection comes from one of them is
   * taken to come from the right-most hop of its `X-Forwarded-For` that is not one of them (what the audit log
   * records). Default none: the header is never read (any client can write it). An entry that is neither throws.
   */
  trustedProxies?: readonly string[];
}

/** Default `requestTimeoutMs`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** Default `keepAliveTimeoutMs` (node:http's own). */
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** node:http's timeout options; the two request timeouts are checked every quarter of the shorter one (30 s at most). */
function timeoutOptions(options: ServeOptions): { requestTimeout: number; headersTimeout: number; keepAliveTimeout: number; connectionsCheckingInterval: number } {
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headersTimeout = options.headersTimeoutMs ?? Math.min(60_000, requestTimeout);
  const keepAliveTimeout = options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS;
  for (const [name, v] of [['requestTimeoutMs', requestTimeout], ['headersTimeoutMs', headersTimeout], ['keepAliveTimeoutMs', keepAliveTimeout]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`serveGateway: ${name} must be a positive integer (ms), got ${String(v)}`);
  }
  if (headersTimeout > requestTimeout) throw new RangeError(`serveGateway: headersTimeoutMs (${headersTimeout}) must not exceed requestTimeoutMs (${requestTimeout})`);
  return { requestTimeout, headersTimeout, keepAliveTimeout, connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(headersTimeout / 4))) };
}

export interface ServedGateway {
  server: Server;
  port: number;
  host: string;
  /** `http://host:port`. */
  url: string;
  /**
   * Stops accepting connections (after `shutdownDelayMs`, during which `/ready` answers 503 and requests are served),
   * lets requests in flight finish for up to `graceMs` (default 10 s; one past the longest timer, 2^31 - 1 ms,
   * `Infinity` too, waits that long), then closes what is left: a stream still running first ends with its
   * protocol's error event (also one committed by the gateway's `streamHoldMs` before its first content: its 200 is
   * out), a model request that is not streaming yet (a non-streamed answer, a stream not opened and still held;
   * served directly or through `gateway.fetch`) stops and answers the error (503, code `shutting_down`, in its route's
   * error shape; up to `cutSettleMs`, default 1 s, for either to be settled and sent); a request to another route is
   * not waited for (its connection is closed at once, unless an answer waits behind it on that connection). Resolves
   * when the server is closed. Keep-alive connections take no new request
   * meanwhile: an idle one is closed at once, a busy one as soon as its answer is all written (an answer whose headers
   * go out after `close()` says `connection: close` unless a request arrived behind it; a request pipelined behind one
   * that said it is not served), and a `/ready` taken meanwhile answers 503.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Serves a gateway over node:http. The model endpoints (`DirectRoutes`) are served straight from the
 * Node request and response, without web `Request`/`Response` objects; every other request goes through
 * `gateway.fetch` via `@hono/node-server`, with the client address passed on.
 */
export async function serveGateway(gateway: Gateway, options: ServeOptions = {}): Promise<ServedGateway> {
  const host = options.host ?? '127.0.0.1';
  const direct = directRoutesOf(gateway);
  const newId = direct ? () => direct.requestId(NO_HEADERS) : defaultRequestId;
  // Not overriding the global Request/Response: the lightweight ones would wrap every Response the
  // process makes (the router's upstream answers too) and build the real one on first use.
  const shutdownDelayMs = options.shutdownDelayMs ?? 0;
  if (!Number.isInteger(shutdownDelayMs) || shutdownDelayMs < 0) {
    throw new RangeError(`serveGateway: shutdownDelayMs must be an integer >= 0 (ms), got ${String(shutdownDelayMs)}`);
  }
  const cutSettleMs = options.cutSettleMs ?? DEFAULT_CUT_SETTLE_MS;
  if (!Number.isInteger(cutSettleMs) || cutSettleMs < 0) {
    throw new RangeError(`serveGateway: cutSettleMs must be an integer >= 0 (ms), got ${String(cutSettleMs)}`);
  }
  // The streamed calls this server carries (both ways: direct and through `gateway.fetch`): its shutdown cuts them.
  const drain: Drain = { unready: false, closing: false, calls: 0, answers: new Map(), streams: new ServedStreams(), connections: new ConnectionSignals(), trusted: trustedProxies(options.trustedProxies) };
  const viaFetch = getRequestListener(
    (request, env) => {
      const req = env.incoming as IncomingMessage;
      // The model routes take the connection's signal, as served directly: the shutdown cut reaches them through it.
      const res = env.outgoing as ServerResponse;
      const facts: ServedEnv = {
        [SERVED_STREAMS]: drain.streams,
        [SERVED_SIGNAL]: () => connectionSignal(req, res, drain.connections),
        // A stream that gave up on a client that stopped reading: its response dropped unless taken in time, as served directly.
        [SERVED_ABANDON]: () => dropUnlessWritten(res),
        // A body answered already (400, 408: `answerClientError`) fails its read with that error, as served directly.
        [SERVED_ANSWERED]: () => answeredWith(req),
      };
      const clientIp = clientAddress(req, drain.trusted);
      if (clientIp) facts.clientIp = clientIp;
      // A request taken once close() was called (during its delay, or pipelined on a busy connection): `/ready` answers 503.
      if (drain.unready) facts.draining = true;
      return gateway.fetch(request, facts);
    },
    { hostname: host, overrideGlobalObjects: false, errorHandler: fetchBridgeError(newId) },
  );
  // Repeated header fields are joined into a list, as web `Headers` join them for `gateway.fetch` (node:http
  // would keep the first `Authorization`, `Host` or `Content-Type` only): both paths see the same request, and
  // a repeated key header is refused on both (`extractApiKey`). Costs nothing for a request without repeats.
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    // While closing, a request pipelined behind an answer that said `connection: close` can never be answered (the
    // connection closes after that answer): it is not served, so no model call runs for nothing.
    if (drain.closing && behindLastAnswer(req)) return;
    // Nor one behind a body being dropped after its answer said `connection: close` (`discardBeforeClosing`).
    if (lingering(req.socket)) return;
    // (node:http's own check, `requireHostHeader`, answers a bare 400: the same lookup, done here.)
    if (lacksHost(req)) {
      arrived(req, res);
      noHost(req, res);
      return;
    }
    const route = direct ? directRoute(direct, req, req.headers.origin) : undefined;
    if (direct && route) {
      if (unframed(req)) {
        arrived(req, res);
        lengthRequired(req, res);
        return;
      }
      taken(req, drain, true);
      serveDirect(direct, route, req, res, drain);
    } else {
      if (req.url === '*' && req.method === 'OPTIONS') {
        arrived(req, res);
        answerServerOptions(res);
        return;
      }
      const method = req.method;
      if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && unframed(req)) {
        if (direct && directRoute(direct, req, undefined) !== undefined) {
          arrived(req, res);
          lengthRequired(req, res);
          return;
        }
        // Served with an empty body (RFC 9112 6.3), which other routes may take (a key's revoke, as curl -X POST sends
        // it): its answer closes the connection, so bytes the client sends after its head are not read as a request.
        res.shouldKeepAlive = false;
      }
      // A model route served through gateway.fetch (a browser's request, CORS on) is a model call the cut waits for,
      // as one served directly (any request is, for a gateway without direct routes: which are its model calls is unknown).
      const call = direct === undefined || (req.headers.origin !== undefined && directRoute(direct, req, undefined) !== undefined);
      taken(req, drain, call);
      arrived(req, res);
      // Tracked until closed, so close() can mark the ones whose headers are not out yet, and its cut close the others'.
      track(req, res, call, drain);
      if (drain.closing) lastAtHead(res);
      void viaFetch(req, res);
    }
  };
  const noHost = answerMissingHost(newId, direct?.corsHeaders);
  const lengthRequired = answerLengthRequired(newId, direct?.corsHeaders);
  const server = createServer({ ...timeoutOptions(options), joinDuplicateHeaders: true, requireHostHeader: false }, onRequest);
  // Requests node:http cannot parse get the gateway's error body too (Node's own answer has none).
  server.on('clientError', answerClientError(newId, direct?.corsHeaders));
  server.on('checkExpectation', answerExpectation(newId));
  // A CONNECT (a tunnel asked of a proxy) is a 405 with the error body (node:http would close the connection unanswered).
  // Its socket is no longer in node:http's connection list: the shutdown cut closes it with the others (`closeAll`).
  const connects = new Set<Duplex>();
  const notProxy = answerConnect(newId);
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    connects.add(socket);
    socket.once('close', () => connects.delete(socket));
    notProxy(req, socket);
  });
  const closeAll = () => {
    server.closeAllConnections();
    for (const socket of connects) socket.destroy();
  };
  // A body declared too large, or in a content coding, and a model call's unframed one (its 411) are refused before
  // `100 Continue` (node:http would send it, then the client the body).
  const unframedModelCall = direct ? (req: IncomingMessage) => unframed(req) && directRoute(direct, req, undefined) !== undefined : undefined;
  server.on('checkContinue', answerContinue(direct?.maxBodyBytes, newId, onRequest, direct?.corsHeaders, unframedModelCall));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3006, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    host,
    url: `http://${urlHost}:${port}`,
    close(graceMs = 10_000) {
      // Stops accepting; the connections left are closed once answered, or at the end of the grace.
      function stop(resolve: () => void): void {
        drain.closing = true;
        // (Those served directly decide when handed over, `handedOver`.)
        for (const res of drain.answers.keys()) if (!res.headersSent) lastAtHead(res);
        // node:http's closeIdleConnections(), which server.close() calls, counts a connection whose answer is ended
        // but still being written (a large answer, a slow client) as idle and destroys it, cutting that answer short
        // and losing any answer pipelined behind it: here a connection is idle when receiving no request (node:http's
        // test) and with no answer on it.
        const connections = connectionsOf(server);
        if (connections) server.closeIdleConnections = () => closeIdle(connections);
        // A connection busy at close time is closed once its last answer is all written (its headers may have promised
        // keep-alive already). node:http tells that only on a diagnostics channel, process-wide and cheap while nobody
        // listens: it is listened to while closing only. (An answer pipelined behind it is on the connection by then.)
        const closeIdleNow = () => server.closeIdleConnections();
        const onFinish = (message: unknown) => {
          if ((message as { server?: unknown }).server === server) process.nextTick(closeIdleNow);
        };
        subscribe(RESPONSE_FINISH, onFinish);
        let last: NodeJS.Timeout | undefined;
        // The grace is over: the streams still running end with their protocol's error event (their connections
        // close after it), and the other model requests still running stop and answer the cut's error, given up to
        // cutSettleMs to settle and send it; then every connection left is closed. A request to another route
        // (no model call: nothing to settle, no error of the cut to answer) is not waited for: its connection is closed
        // at once, unless a request pipelined behind it waits on the same connection (its answer, maybe a model call's
        // already settled, goes out after this one). With no model call left (`calls` counts a reply until written when
        // it waits behind another answer) and no stream, nothing is waited for.
        const cut = () => {
          const error = shutdownCut();
          const streams = drain.streams.cut(error);
          // (After the streams: those cut already tell their connection's abort from their client's leaving.)
          drain.connections.cut(error, busy);
          // A body still arriving (served directly) is not waited for: its request answers the cut's 503 at once.
          if (connections) for (const { socket } of connections.all()) if (socket) cutBodyRead(socket, error);
          if (streams === 0 && drain.calls === 0) closeAll();
          else {
            // (`res.socket` is null while an earlier answer on the connection is not sent: this one is not going out yet.)
            for (const [res, call] of drain.answers) if (!call && !res.writableFinished && res.socket !== null && lastArrived(res.req, res)) res.socket.destroy();
            last = setTimeout(closeAll, timerDelay(cutSettleMs));
            last.unref();
          }
        };
        const timer = setTimeout(cut, timerDelay(graceMs));
        timer.unref();
        // (server.close() closes the idle connections itself.)
        server.close(() => {
          clearTimeout(timer);
          clearTimeout(last);
          unsubscribe(RESPONSE_FINISH, onFinish);
          resolve();
        });
      }
      closing ??= new Promise<void>((resolve) => {
        drain.unready = true;
        // Still accepting and serving during the delay (not ready), then stopping.
        if (shutdownDelayMs > 0) setTimeout(() => stop(resolve), timerDelay(shutdownDelayMs));
        else stop(resolve);
      });
      return closing;
    },
  };
}

const NO_HEADERS = { get: () => null };

/** Default `cutSettleMs`. */
const DEFAULT_CUT_SETTLE_MS = 1_000;

/**
 * The error of a request cut at the end of `close()`'s grace: a stream's error event, the answer of any other model
 * request. Its own code (`shutting_down`, 503, retryable), so the ledger and `llm_requests_total{status}` tell it from
 * an upstream's broken stream (`stream_interrupted`).
 */
function shutdownCut(): LLMError {
  return new LLMError({ code: 'shutting_down', message: 'The gateway is shutting down: the request was cut at the end of its shutdown grace period; retry it' });
}

/** Published by node:http as each answer is sent, after 'finish' and before the connection is released. */
const RESPONSE_FINISH = 'http.server.response.finish';

/** node:http's list of a server's connections: `idle()`, those not receiving a request (each with its socket), `all()`. */
interface ConnectionsList {
  idle(): Array<{ socket?: Socket | null }>;
  all(): Array<{ socket?: Socket | null }>;
}

/** The server's `ConnectionsList` (node:http's own, set up once listening), if this Node keeps it where expected. */
function connectionsOf(server: Server): ConnectionsList | undefined {
  const key = Object.getOwnPropertySymbols(server).find((s) => s.description === 'http.server.connections');
  const list = key === undefined ? undefined : (server as unknown as Record<symbol, Partial<ConnectionsList> | undefined>)[key];
  return typeof list?.idle === 'function' && typeof list.all === 'function' ? (list as ConnectionsList) : undefined;
}

/**
 * Closes the connections receiving no request and with no answer on them (none being made, none still being written:
 * node:http releases a connection from its answer once all of it is written, after 'finish'), and those dropping the
 * rest of a refused body after its answer (`stopLingering`: node:http counts them as receiving a request, but nothing
 * is owed on them).
 */
function closeIdle(connections: ConnectionsList): void {
  for (const { socket } of connections.idle()) {
    if (socket && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) socket.destroy();
  }
  for (const { socket } of connections.all()) if (socket) stopLingering(socket);
}

/**
 * While closing: `res` (served through `gateway.fetch`) decides whether it is its connection's last answer
 * (`lastOnConnection`) when its headers go out, not before: a request may still arrive behind it until then.
 */
function lastAtHead(res: ServerResponse): void {
  res.writeHead = writeHeadWhileClosing as ServerResponse['writeHead'];
}

function writeHeadWhileClosing(this: ServerResponse, ...args: unknown[]): ServerResponse {
  lastOnConnection(this.req, this);
  return (ServerResponse.prototype.writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
}

/** The answer of the request that arrived before `req` on its connection says `connection: close` (node:http's `_last`). */
function behindLastAnswer(req: IncomingMessage): boolean {
  return (latestArrived(req.socket) as { _last?: boolean } | undefined)?._last === true;
}

interface Drain {
  /** Set once `close()` is called: `/ready` answers 503 (also during `shutdownDelayMs`). */
  unready: boolean;
  /** Set once `close()` stops accepting (after `shutdownDelayMs`): answers written from then on say `connection: close`. */
  closing: boolean;
  /**
   * Answers tracked until closed (`track`), each with whether it is a model request's (counted in `calls`): those of
   * requests served through `gateway.fetch`, and the replies served directly that wait behind an earlier answer on
   * their connection (pipelined); not the others served directly (they check at write time, and count as answered once
   * handed over).
   */
  answers: Map<ServerResponse, boolean>;
  /**
   * Model requests taken and not answered yet (a reply served directly not handed over, or handed over and waiting
   * behind an earlier answer on its connection; one served through `gateway.fetch` not closed): the end of the cut
   * waits for them, not for the requests to other routes.
   */
  calls: number;
  /** The connections whose signal a model request took: the cut aborts those of the requests not answered yet. */
  connections: ConnectionSignals;
  /** The streamed calls this server carries, until they settle. */
  streams: ServedStreams;
  /** `ServeOptions.trustedProxies`: whose `X-Forwarded-For` names the client (`clientAddress`). */
  trusted: TrustedProxies | undefined;
}

/** Requests of a connection taken and not yet answered (more than one: pipelined). */
const PENDING = Symbol('llmrr.pending');
/** The connection's close settles its tracked answers (`settleOnClose`). */
const WATCHED = Symbol('llmrr.watched');
type Counted = { [PENDING]?: number; [WATCHED]?: true };

/** A request is taken (`call`: a model request, counted in `drain.calls`). */
function taken(req: IncomingMessage, drain: Drain, call: boolean): void {
  const socket = req.socket as Counted;
  socket[PENDING] = (socket[PENDING] ?? 0) + 1;
  if (call) drain.calls++;
}

/**
 * Marks `res` as the connection's last answer (`connection: close`) while closing, unless another request arrived
 * after it on the connection (pipelined: node:http would close the connection after this answer, and the next one,
 * a model call's maybe already settled, would never be sent). Whether those requests are answered yet does not
 * matter: a reply handed over still waits behind this answer.
 */
function lastOnConnection(req: IncomingMessage, res: ServerResponse): void {
  if (lastArrived(req, res)) res.shouldKeepAlive = false;
}

/**
 * Tracks `res` until it closes (`drain.answers`), counted in `calls` if `call`. An answer waiting behind an earlier one
 * on its connection (pipelined: `res.socket` is null until that one is sent) gets neither `close` nor `finish` from
 * node:http if the connection closes first: the connection's close settles it (`settleOnClose`).
 */
function track(req: IncomingMessage, res: ServerResponse, call: boolean, drain: Drain): void {
  drain.answers.set(res, call);
  res.once('close', () => settled(res, drain));
  if (res.socket === null) settleOnClose(req.socket, drain);
}

/** A tracked answer is closed (or its connection is): it counts as answered, once. */
function settled(res: ServerResponse, drain: Drain): void {
  const call = drain.answers.get(res);
  if (call === undefined) return;
  drain.answers.delete(res);
  answered(res.req, drain, call);
}

/** Once per connection: its close settles the answers tracked on it that were never sent. */
function settleOnClose(socket: Socket, drain: Drain): void {
  const watched = socket as Socket & Counted;
  if (watched[WATCHED]) return;
  watched[WATCHED] = true;
  socket.once('close', () => {
    for (const res of drain.answers.keys()) if (res.req.socket === socket) settled(res, drain);
  });
}

/** The connection has a request taken and not answered yet (the cut aborts its signal). */
function busy(socket: object): boolean {
  return ((socket as Counted)[PENDING] ?? 0) > 0;
}

function answered(req: IncomingMessage, drain: Drain, call: boolean): void {
  const socket = req.socket as Counted;
  const pending = socket[PENDING];
  if (pending !== undefined && pending > 0) {
    socket[PENDING] = pending - 1;
    if (call) drain.calls--;
  }
}

/**
 * A request that declares no body length, neither `Content-Length` nor `Transfer-Encoding` (RFC 9112 6.3: its body is
 * empty; what the client sends after its head would be read as the next request).
 */
function unframed(req: IncomingMessage): boolean {
  return req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
}

function directRoute(direct: DirectRoutes, req: IncomingMessage, origin: string | undefined): ModelRoute | undefined {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return direct.route(req.method ?? 'GET', q < 0 ? url : url.slice(0, q), origin);
}

/**
 * A reply served directly is handed over, to be written now. Checked for `connection: close` now, so one in flight
 * when close() started says it too. It counts as answered at once (nothing allocated), unless it waits behind an
 * earlier answer on its connection (pipelined, `res.socket` null; rare): then it stays counted until written, or
 * until its connection closes (`track`), so the shutdown cut does not close the connection under it.
 */
function handedOver(req: IncomingMessage, res: ServerResponse, drain: Drain): void {
  if (drain.closing) lastOnConnection(req, res);
  if (res.socket === null && !req.socket.destroyed) track(req, res, true, drain);
  else answered(req, drain, true);
}

function serveDirect(direct: DirectRoutes, route: ModelRoute, req: IncomingMessage, res: ServerResponse, drain: Drain): void {
  const incoming = new NodeIncoming(req, res, drain.streams, drain.connections, drain.trusted);
  const requestId = direct.requestId(incoming.headers);
  route(incoming, requestId, direct.now())
    .then(
      (reply) => {
        handedOver(req, res, drain);
        writeReply(reply, req, res);
      },
      // Routes answer their own errors; this is the last resort.
      (e: unknown) => {
        handedOver(req, res, drain);
        if (!res.headersSent) writeReply(errorReply(e, requestId), req, res);
        else res.destroy();
      },
    )
    // Writing the reply failed (a header value node:http refuses): an unanswered request must not take the
    // process down as an unhandled rejection.
    .catch((e: unknown) => {
      if (res.headersSent) res.destroy();
      else {
        try {
          writeReply(errorReply(e, requestId), req, res);
        } catch {
          res.destroy();
        }
      }
    });
}
