import type { CallerTraceContext } from '@llmrr/core';
import type { Context } from 'hono';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { ReadBodyOptions } from '../http/read-json-body.js';
import type { GatewayAuthOptions, GatewayRouter, GatewayStores } from '../types.js';
import type { CallDeps } from './model-call.js';
import type { ModelRoutes } from './model-route.js';
import type { ServedEnv } from './served-streams.js';

/** Hono environment of the gateway app. */
export interface AppEnv {
  Bindings: ServedEnv;
  Variables: { requestId: string; startedAt: number };
}

export type AppContext = Context<AppEnv>;

/** Everything the route modules share. */
export interface GatewayDeps extends CallDeps {
  router: GatewayRouter;
  stores: GatewayStores | undefined;
  metrics: GatewayMetrics | undefined;
  auth: GatewayAuthOptions;
  maxBodyBytes: number;
  /** What `readJsonBody` takes on every route: `maxBodyBytes` and the budget of bodies read at once, if any. */
  bodyRead: ReadBodyOptions;
  maxMessages: number;
  ready: () => boolean | Promise<boolean>;
  /** Set when the gateway's `close()` starts: `/ready` answers 503 from then on. */
  closing?: boolean;
  info: { name: string; version: string };
  startedAt: number;
  /** The POST routes the Node adapter serves without Hono (filled as routes register). */
  routes: ModelRoutes;
  /** `GatewayOptions.callerTraceContext`: the model routes run in their caller's trace context. */
  callerTraceContext?: CallerTraceContext | undefined;
}

export function clientIp(c: AppContext): string | undefined {
  return c.env?.clientIp;
}
