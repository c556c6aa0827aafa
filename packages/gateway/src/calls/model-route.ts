import type { CallerTraceContext } from '@llmrr/core';
import type { Hono } from 'hono';
import { incomingFromRequest, type Incoming } from '../http/incoming.js';
import { replyToResponse, type Reply } from '../http/reply.js';
import { clientIp, type AppEnv } from './context.js';
import { SERVED_ABANDON, SERVED_ANSWERED, SERVED_SIGNAL, SERVED_STREAMS } from './served-streams.js';

/**
 * One POST endpoint as a transport-neutral function: the Hono app calls it with a web `Request`, the Node
 * adapter with the `IncomingMessage` itself (no Request/Response objects on the hot path).
 */
export type ModelRoute = (incoming: Incoming, requestId: string, startedAt: number) => Promise<Reply>;

/** POST routes the Node adapter may serve without Hono, by exact path. */
export type ModelRoutes = Map<string, ModelRoute>;

/**
 * `route` run in the trace context its caller sent (`GatewayOptions.callerTraceContext`: W3C `traceparent`), so that the
 * router's spans of the call are children of the caller's span; `route` itself (nothing per request) without one.
 */
export function inCallerTrace(trace: CallerTraceContext | undefined, route: ModelRoute): ModelRoute {
  return trace ? (incoming, requestId, startedAt) => trace(incoming.headers, () => route(incoming, requestId, startedAt)) : route;
}

/** Registers `route` under `POST path` in the Hono app and in the fast-path table. */
export function postRoute(app: Hono<AppEnv>, routes: ModelRoutes, path: string, route: ModelRoute): void {
  routes.set(path, route);
  app.post(path, async (c) => {
    const env = c.env;
    return replyToResponse(
      await route(incomingFromRequest(c.req.raw, clientIp(c), env?.[SERVED_STREAMS], env?.[SERVED_SIGNAL], env?.[SERVED_ANSWERED]), c.get('requestId'), c.get('startedAt')),
      env?.[SERVED_ABANDON],
    );
  });
}
