import { getRequestListener } from '@hono/node-server';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelRoute } from '../calls/model-route.js';
import { directRoutesOf, type DirectRoutes } from '../http/direct-routes.js';
import { errorReply } from '../http/error-body.js';
import { defaultRequestId } from '../http/request-id.js';
import { timerDelay } from '@llmrr/core';
import type { Gateway, GatewayEnv } from '../types.js';
import { answerClientError, answerExpectation, fetchBridgeError } from './client-error.js';
import { NodeIncoming } from './node-incoming.js';
import { writeReply } from './write-reply.js';

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
   * Stops accepting connections, lets requests in flight finish for up to `graceMs` (default 10 s; one past the
   * longest timer, 2^31 - 1 ms, `Infinity` too, waits that long), then closes what is left. Resolves when the
   * server is closed. Keep-alive connections take no new request meanwhile: an idle one is closed at once, a busy
   * one as soon as its answer is sent (an answer whose headers go out after `close()` says `connection: close`),
   * and a `/ready` taken meanwhile answers 503.
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
  const drain: Drain = { closing: false, viaFetch: new Set() };
  const viaFetch = getRequestListener(
    (request, env) => {
      const facts: GatewayEnv = {};
      const clientIp = env.incoming.socket.remoteAddress;
      if (clientIp) facts.clientIp = clientIp;
      // A request taken while closing (one already pipelined on a busy connection): `/ready` answers 503.
      if (drain.closing) facts.draining = true;
      return gateway.fetch(request, facts);
    },
    { hostname: host, overrideGlobalObjects: false, errorHandler: fetchBridgeError(newId) },
  );
  // Repeated header fields are joined into a list, as web `Headers` join them for `gateway.fetch` (node:http
  // would keep the first `Authorization`, `Host` or `Content-Type` only): both paths see the same request, and
  // a repeated key header is refused on both (`extractApiKey`). Costs nothing for a request without repeats.
  const server = createServer({ ...timeoutOptions(options), joinDuplicateHeaders: true }, (req, res) => {
    taken(req);
    const route = direct ? directRoute(direct, req) : undefined;
    if (direct && route) serveDirect(direct, route, req, res, drain);
    else {
      // Tracked until written, so close() can mark the ones whose headers are not out yet.
      drain.viaFetch.add(res);
      res.once('close', () => {
        drain.viaFetch.delete(res);
        answered(req);
      });
      if (drain.closing) lastOnConnection(req, res);
      void viaFetch(req, res);
    }
  });
  // Requests node:http cannot parse get the gateway's error body too (Node's own answer has none).
  server.on('clientError', answerClientError(newId));
  server.on('checkExpectation', answerExpectation(newId));
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
      closing ??= new Promise<void>((resolve) => {
        drain.closing = true;
        for (const res of drain.viaFetch) if (!res.headersSent) lastOnConnection(res.req, res);
        // A connection busy at close time is closed once its answer is sent (its headers may have promised
        // keep-alive already). node:http tells that only on a diagnostics channel, process-wide and cheap
        // while nobody listens: it is listened to while closing only.
        const closeIdle = () => server.closeIdleConnections();
        const onFinish = (message: unknown) => {
          if ((message as { server?: unknown }).server === server) process.nextTick(closeIdle);
        };
        subscribe(RESPONSE_FINISH, onFinish);
        const timer = setTimeout(() => server.closeAllConnections(), timerDelay(graceMs));
        timer.unref();
        // (server.close() closes the idle connections itself.)
        server.close(() => {
          clearTimeout(timer);
          unsubscribe(RESPONSE_FINISH, onFinish);
          resolve();
        });
      });
      return closing;
    },
  };
}

const NO_HEADERS = { get: () => null };

/** Published by node:http as each answer is sent, after 'finish' and before the connection is released. */
const RESPONSE_FINISH = 'http.server.response.finish';

/** Set once `close()` starts: answers written from then on say `connection: close`. */
interface Drain {
  closing: boolean;
  /** Answers of requests served through `gateway.fetch` not yet closed (not the model routes: they check at write time). */
  viaFetch: Set<ServerResponse>;
}

/** Requests of a connection taken and not yet answered (more than one: pipelined). */
const PENDING = Symbol('llmrr.pending');
type Counted = { [PENDING]?: number };

function taken(req: IncomingMessage): void {
  const socket = req.socket as Counted;
  socket[PENDING] = (socket[PENDING] ?? 0) + 1;
}

/**
 * Marks `res` as the connection's last answer (`connection: close`) while closing, unless another request is
 * already taken on the connection (pipelined: node:http would close the connection after this answer and the
 * next request, whose model call runs, would never be answered). Counts the request as answered.
 */
function lastOnConnection(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as Counted;
  const pending = socket[PENDING] ?? 1;
  if (pending <= 1) res.shouldKeepAlive = false;
}

function answered(req: IncomingMessage): void {
  const socket = req.socket as Counted;
  const pending = socket[PENDING];
  if (pending !== undefined && pending > 0) socket[PENDING] = pending - 1;
}

function directRoute(direct: DirectRoutes, req: IncomingMessage): ModelRoute | undefined {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return direct.route(req.method ?? 'GET', q < 0 ? url : url.slice(0, q), req.headers.origin);
}

function serveDirect(direct: DirectRoutes, route: ModelRoute, req: IncomingMessage, res: ServerResponse, drain: Drain): void {
  const incoming = new NodeIncoming(req, res);
  const requestId = direct.requestId(incoming.headers);
  route(incoming, requestId, direct.now())
    .then(
      (reply) => {
        // Checked when the answer is written, so one in flight when close() started says it too.
        if (drain.closing) lastOnConnection(req, res);
        answered(req);
        writeReply(reply, req, res);
      },
      // Routes answer their own errors; this is the last resort.
      (e: unknown) => {
        if (drain.closing) lastOnConnection(req, res);
        answered(req);
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
