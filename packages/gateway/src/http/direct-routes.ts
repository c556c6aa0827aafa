import type { ModelRoute, ModelRoutes } from '../calls/model-route.js';
import type { HeaderSource } from './incoming.js';

/** Where a gateway keeps its direct routes (a registered symbol, so it works across duplicate installs). */
export const DIRECT_ROUTES: unique symbol = Symbol.for('@llmrr/gateway.directRoutes') as never;

/**
 * The gateway's hot POST routes (model endpoints) as plain functions, for a platform adapter that can
 * serve them without building a web `Request` and `Response` (the Node adapter does). Everything else,
 * and any request that needs the Hono app's middleware (CORS for a browser's `Origin`), goes through
 * `Gateway.fetch`; both ways run the same route code.
 */
export interface DirectRoutes {
  /** The route for this request, or undefined when it must go through `fetch`. */
  route(method: string, path: string, origin: string | undefined): ModelRoute | undefined;
  /** The gateway's own id for a new request (a client's `x-request-id` is never used; see `clientRequestIdFrom`). */
  requestId(headers: HeaderSource): string;
  /** The gateway's clock (ms). */
  now(): number;
  /** The gateway's `limits.maxBodyBytes`: a larger declared body is refused (413) before `100 Continue`. */
  readonly maxBodyBytes: number;
  /**
   * The CORS headers of an error answered outside the gateway's app (`corsHeadersOf`), when CORS is on: `origin` and
   * `path` are the request's, undefined when its head could not be read.
   */
  readonly corsHeaders: ((origin: string | undefined, path: string | undefined) => Record<string, string> | undefined) | undefined;
}

export function createDirectRoutes(routes: Pick<ModelRoutes, 'get'>, options: { cors: boolean; requestId: (headers: HeaderSource) => string; now: () => number; maxBodyBytes: number; corsHeaders: DirectRoutes['corsHeaders'] }): DirectRoutes {
  return {
    route(method, path, origin) {
      if (method !== 'POST' || (options.cors && origin !== undefined)) return undefined;
      return routes.get(path);
    },
    requestId: options.requestId,
    now: options.now,
    maxBodyBytes: options.maxBodyBytes,
    corsHeaders: options.corsHeaders,
  };
}

/** The direct routes of a gateway made by `createGateway` (undefined for any other `Gateway`). */
export function directRoutesOf(gateway: object): DirectRoutes | undefined {
  return (gateway as { [DIRECT_ROUTES]?: DirectRoutes })[DIRECT_ROUTES];
}
