import { Readable } from 'node:stream';
import { Agent, fetch as undiciFetch } from 'undici';

export interface UpstreamFetchOptions {
  /** Most connections per upstream origin. Default 256. */
  connections?: number;
  /**
   * Requests sent on one connection before earlier answers arrive. Default 1: model calls take seconds
   * and stream, so a pipelined request would wait behind the one before it (head-of-line blocking).
   */
  pipelining?: number;
  /** How long an idle upstream connection stays open, ms. Default 30 000. */
  keepAliveTimeoutMs?: number;
  /** Time to the response headers, ms. Default 300 000 (the router's own timeouts come first). */
  headersTimeoutMs?: number;
  /** Longest silence between body chunks, ms. Default 300 000. */
  bodyTimeoutMs?: number;
}

/** A `fetch` for `RouterOptions.fetch` with its own connection pool; `close()` ends the pool's connections. */
export type UpstreamFetch = typeof globalThis.fetch & { close(): Promise<void> };

const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\b/i;

/**
 * The router's HTTP client to model providers, made for the gateway's hot path: undici's `request` API on
 * a keep-alive connection pool instead of the WHATWG `fetch` machinery. It skips what a server-side client
 * does not need per call (request object, body stream, CORS and redirect bookkeeping), which makes an
 * upstream call several times cheaper in CPU. Answers are real `Response` objects: JSON answers are read
 * whole first (the engines read them whole anyway), anything else (SSE) streams as it arrives.
 *
 * Differences from global `fetch`, on purpose: no `accept-encoding` is sent (providers answer
 * uncompressed) and redirects are followed by falling back to `fetch` on the same pool. Requests this
 * fast path does not handle (a `Request` object as input, a stream or form body) go to undici's `fetch`
 * on the same pool.
 */
export function createUpstreamFetch(options: UpstreamFetchOptions = {}): UpstreamFetch {
  const agent = new Agent({
    connections: options.connections ?? 256,
    pipelining: options.pipelining ?? 1,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    headersTimeout: options.headersTimeoutMs ?? 300_000,
    bodyTimeout: options.bodyTimeoutMs ?? 300_000,
  });
  const slow = (input: Parameters<typeof globalThis.fetch>[0], init?: RequestInit): Promise<Response> =>
    undiciFetch(input as never, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>;

  const fetchFn = async (input: Parameters<typeof globalThis.fetch>[0], init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    if (input instanceof Request || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array))) return slow(input, init);
    const url = typeof input === 'string' ? new URL(input) : input;
    const res = await agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: (init.method ?? 'GET').toUpperCase() as 'GET',
      headers: headerPairs(init.headers),
      body: body ?? null,
      signal: init.signal ?? null,
    });
    const status = res.statusCode;
    if (status >= 300 && status < 400 && res.headers.location !== undefined) {
      res.body.resume();
      return slow(input, init);
    }
    const headers = new Headers();
    for (const name in res.headers) {
      const v = res.headers[name];
      if (Array.isArray(v)) for (const item of v) headers.append(name, item);
      else if (v !== undefined) headers.append(name, v);
    }
    const init2 = { status, statusText: res.statusText, headers };
    // 204/304 and HEAD answers have no body (a Response refuses one).
    if (status === 204 || status === 304 || init.method === 'HEAD') {
      res.body.resume();
      return new Response(null, init2);
    }
    const type = headers.get('content-type') ?? '';
    if (JSON_TYPE.test(type)) return new Response(await res.body.arrayBuffer(), init2);
    return new Response(Readable.toWeb(res.body) as ReadableStream<Uint8Array>, init2);
  };
  return Object.assign(fetchFn as typeof globalThis.fetch, { close: () => agent.close() });
}

function headerPairs(h: HeadersInit | undefined): string[] {
  const out: string[] = [];
  if (h === undefined) return out;
  if (h instanceof Headers || Array.isArray(h)) {
    for (const [k, v] of h as Iterable<[string, string]>) out.push(k, v);
  } else {
    for (const k in h) out.push(k, (h as Record<string, string>)[k]!);
  }
  return out;
}
