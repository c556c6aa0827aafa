import { LLMError } from '@llmrr/core';
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

export interface GatewayCorsOptions {
  /**
   * Browser origins allowed to call the public API (`/v1/*`, `/api/*`): `'*'` for any, or exact origins
   * such as `https://app.example.com` (scheme, host and port; no path).
   */
  origins: '*' | readonly string[];
  /** How long browsers may cache a preflight answer (`Access-Control-Max-Age`, seconds). Default 600. */
  maxAgeSeconds?: number;
}

/** Paths that get CORS headers: the model and original API routes, never `/admin`, `/metrics` or health. */
export const CORS_PATHS = ['/v1/*', '/api/*'] as const;

/**
 * Response headers a browser page may read: ids, routing info, costs, rate limits, and `x-should-retry` (an
 * answer lost after the provider took the call: the openai and Anthropic SDKs do not send it again).
 */
export const CORS_EXPOSED_HEADERS = [
  'x-request-id',
  'request-id',
  'x-client-request-id',
  'x-llmrr-model',
  'x-llmrr-cache',
  'x-llmrr-cache-score',
  'x-llmrr-cascade',
  'x-llmrr-cost-usd',
  'x-llmrr-decision',
  'x-llmrr-demo',
  'x-llmrr-tenant',
  'x-llmrr-token-count',
  'x-llmrr-warnings',
  'retry-after',
  'x-should-retry',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
  'x-ratelimit-limit-concurrency',
  'x-ratelimit-remaining-concurrency',
];

function invalid(param: string, message: string): LLMError {
  return new LLMError({ code: 'config_invalid', message: `Invalid gateway cors option: ${param} ${message}`, param });
}

/** Checks the options (config_invalid naming the field) and normalizes origins to `URL.origin` form. */
export function parseCorsOptions(options: GatewayCorsOptions): { origins: '*' | string[]; maxAgeSeconds: number } {
  if (typeof options !== 'object' || options === null) throw invalid('cors', 'must be an object with origins');
  const maxAgeSeconds = options.maxAgeSeconds ?? 600;
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0) throw invalid('cors.maxAgeSeconds', 'must be an integer >= 0');
  if (options.origins === '*') return { origins: '*', maxAgeSeconds };
  if (!Array.isArray(options.origins) || options.origins.length === 0) throw invalid('cors.origins', 'must be "*" or a non-empty list of origins');
  const origins = options.origins.map((o, i) => {
    let url: URL | undefined;
    try {
      url = typeof o === 'string' ? new URL(o) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== o.replace(/\/$/, '')) {
      throw invalid(`cors.origins.${i}`, `must be an origin like https://app.example.com (got ${JSON.stringify(o)})`);
    }
    return url.origin;
  });
  return { origins, maxAgeSeconds };
}

/**
 * CORS for browsers calling the public API, with Hono's `cors` middleware: the listed origins get
 * `Access-Control-Allow-Origin` (others get none, so the browser blocks them), preflights (`OPTIONS`)
 * answer 204 with the methods, the requested headers (so SDK headers such as `x-stainless-*` or
 * `anthropic-version` pass) and a max age. Keys travel in headers, never cookies: no credentials mode.
 */
export function publicCors(options: GatewayCorsOptions): MiddlewareHandler {
  const { origins, maxAgeSeconds } = parseCorsOptions(options);
  return cors({
    origin: origins === '*' ? '*' : origins,
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    exposeHeaders: CORS_EXPOSED_HEADERS,
    maxAge: maxAgeSeconds,
  });
}

/**
 * The CORS headers of an answer made outside the Hono app (an error node:http raised before the routes ran, answered
 * by `serveGateway`), as the middleware would give them: for `path` under `/v1/` or `/api/` and a listed `origin`,
 * or any when the origins are `*`. `path` and `origin` undefined: the request's head is not known (headers too large
 * or malformed in bytes that do not hold the head's start or one Origin, or that never ended), so only `*` can be
 * answered.
 */
export function corsHeadersOf(options: GatewayCorsOptions): (origin: string | undefined, path: string | undefined) => Record<string, string> | undefined {
  const { origins } = parseCorsOptions(options);
  const expose = CORS_EXPOSED_HEADERS.join(',');
  return (origin, path): Record<string, string> | undefined => {
    if (path !== undefined && !path.startsWith('/v1/') && !path.startsWith('/api/')) return undefined;
    if (origins === '*') return { 'access-control-allow-origin': '*', 'access-control-expose-headers': expose };
    if (origin === undefined || !origins.includes(origin)) return undefined;
    return { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': expose };
  };
}
