import type { IncomingHttpHeaders } from 'node:http';
import { RELEASES_ABORT_LISTENERS, TAKES_ATTEMPT_SIGNALS } from '@llmrr/core';
import type { Dispatcher } from 'undici';
import { Agent } from './undici-agent.js';
import { UpstreamBody } from './upstream-body.js';
import { BufferedResponse, StreamingResponse, toHeaders } from './upstream-response.js';

export interface UpstreamFetchOptions {
  /** Most connections per upstream origin. Default: no limit (as global `fetch`). */
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

type FetchInput = Parameters<typeof globalThis.fetch>[0];

const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\b/i;

/**
 * The router's HTTP client to model providers, made for the gateway's hot path: undici's `dispatch` on a
 * keep-alive connection pool instead of the WHATWG `fetch` machinery (request object, body stream, CORS
 * and redirect bookkeeping, a Node stream between the socket and the web stream). An upstream call costs
 * several times less CPU (tools/bench/gateway-bench-fetch.ts). Answers are real `Response` objects:
 * JSON answers are read whole before the promise resolves (the engines read them whole anyway), anything
 * else (SSE) streams as it arrives, with backpressure (a slow reader pauses the socket). A streamed body is
 * also offered under `DIRECT_BODY` (`UpstreamBody`): the engines' SSE reader takes the bytes from the
 * socket's callbacks without a web stream in between.
 *
 * Differences from global `fetch`, on purpose: `accept-encoding: identity` is sent (unless the caller sets one), so
 * answers come uncompressed and are not decoded; a redirect that is followed (`init.redirect` `'follow'`, the default; `'manual'` gives the 3xx
 * as the answer, `'error'` rejects as fetch does: a `TypeError` whose cause is `unexpected redirect`, which
 * `toLLMError` makes a `provider_error` the router does not retry), a `Request` object as input or a stream/form body go to Node's own `fetch` on
 * the same pool (its answer comes as a new `Response`, without `url` and `redirected`). A call settles as soon as
 * its signal aborts, even while it waits for a pool connection or for one to open, and leaves no abort listener on
 * the signal once it is over (`RELEASES_ABORT_LISTENERS`). Answers a `Response` cannot carry: a status past 599 rejects as a network error (`TypeError`,
 * which the router retries); a status text loses the characters a `Response` refuses (a Latin-1 byte, which
 * undici decodes as UTF-8, or a control character). Interim answers (1xx, such as 103 Early Hints) are skipped.
 */
export function createUpstreamFetch(options: UpstreamFetchOptions = {}): UpstreamFetch {
  const agent = new Agent({
    ...(options.connections !== undefined ? { connections: options.connections } : {}),
    pipelining: options.pipelining ?? 1,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    headersTimeout: options.headersTimeoutMs ?? 300_000,
    bodyTimeout: options.bodyTimeoutMs ?? 300_000,
  });
  // Node's own `fetch` on the same pool for the rare inputs above: it knows Node's `Request` and `FormData`
  // (undici's npm `fetch` does not take Node 20's), and it loads nothing more.
  const slow = (input: FetchInput, init: RequestInit): Promise<Response> => nodeFetch(agent, input, init);

  const fetchFn = (input: FetchInput, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    if (input instanceof Request || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array))) return slow(input, init);
    const url = typeof input === 'string' ? new URL(input) : input;
    return send(agent, url, init, body ?? null, () => slow(input, init));
  };
  // Its requests settle as soon as their signal aborts and remove their abort listener when they end (`finish` in
  // `send`, `nodeFetch` for the ones handed to Node's `fetch`), so the router may hand the engines a caller's signal as
  // it is (`RELEASES_ABORT_LISTENERS`). They use the signal only through `aborted`, `reason` and its abort listener (Node's
  // `fetch` gets a signal of its own, `nodeFetch`, for the listener it would leave; it takes an `AttemptSignal` too), so a
  // stream attempt's may be an `AttemptSignal` (`TAKES_ATTEMPT_SIGNALS`).
  // Both markers are non-enumerable: a wrapper that copies this fetch's properties (`Object.assign(wrapper, upstream)`,
  // to keep `close`) does not claim them for itself (one bounding its calls with `AbortSignal.any` would never be aborted
  // by an `AttemptSignal`).
  const upstream = Object.assign(fetchFn as typeof globalThis.fetch, { close: () => agent.close() });
  return Object.defineProperties(upstream, { [RELEASES_ABORT_LISTENERS]: { value: true }, [TAKES_ATTEMPT_SIGNALS]: { value: true } });
}

/**
 * Node's own `fetch` on the pool, given a signal of its own linked to the caller's (`init.signal`, or the `Request`'s)
 * until the answer's body ends, fails or is cancelled: Node's `fetch` leaves its listener on the signal it is given
 * until its request is garbage-collected, which a long-lived caller signal would collect. The answer is a new
 * `Response` around the body (its `url` and `redirected` are not kept).
 */
async function nodeFetch(agent: Agent, input: FetchInput, init: RequestInit): Promise<Response> {
  const given = init.signal ?? (input instanceof Request ? input.signal : undefined);
  if (!given) return globalThis.fetch(input, { ...init, dispatcher: agent } as RequestInit);
  if (given.aborted) throw given.reason;
  const own = new AbortController();
  const onAbort = () => own.abort(given.reason);
  given.addEventListener('abort', onAbort, { once: true });
  const release = () => given.removeEventListener('abort', onAbort);
  let response: Response;
  try {
    response = await globalThis.fetch(input, { ...init, signal: own.signal, dispatcher: agent } as RequestInit);
  } catch (e) {
    release();
    throw e;
  }
  if (response.body === null) {
    release();
    return response;
  }
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            release();
            c.close();
          } else {
            c.enqueue(value);
          }
        } catch (e) {
          release();
          throw e;
        }
      },
      cancel(reason) {
        release();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  try {
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  } catch (e) {
    // A status past 599, as `send` rejects it.
    release();
    void reader.cancel(e).catch(() => {});
    throw brokenAnswer(e);
  }
}

function send(agent: Agent, url: URL, init: RequestInit, body: string | Uint8Array | null, redirect: () => Promise<Response>): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const signal = init.signal ?? undefined;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    // Before the abort listener: a header value fetch would refuse rejects here (the executor's throw).
    const headers = headerPairs(init.headers);
    const method = (init.method ?? 'GET').toUpperCase();
    let ctrl: Dispatcher.DispatchController | undefined;
    let streamed: UpstreamBody | undefined;
    let buffered: Buffer[] | undefined;
    let responseInit: ResponseInit | undefined;
    let rawHeaders: IncomingHttpHeaders | undefined;
    let done = false;
    const onAbort = () => {
      // Settles at once (`RELEASES_ABORT_LISTENERS`): a request still waiting for a pool connection, or for its
      // connection to open, has no controller yet; it is aborted when undici starts it (`onRequestStart`), before
      // anything is sent.
      if (ctrl === undefined) {
        finish();
        reject(signal!.reason);
      } else {
        ctrl.abort(abortError(signal!));
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = () => {
      done = true;
      signal?.removeEventListener('abort', onAbort);
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(controller) {
        ctrl = controller;
        // Aborted while it waited: the promise rejected already.
        if (done) controller.abort(abortError(signal!));
      },
      onResponseStart(controller, status, headers, statusText) {
        // An interim answer (103 Early Hints): the final one follows.
        if (status < 200) return;
        // `redirect: 'manual'` (the engines' provider calls): the 3xx is the answer, as fetch gives it.
        if (status >= 300 && status < 400 && headers.location !== undefined && init.redirect !== 'manual') {
          finish();
          if (init.redirect === 'error') {
            const error = brokenAnswer(new Error(`unexpected redirect (status ${status})`));
            reject(error);
            controller.abort(error);
            return;
          }
          controller.abort(new Error('redirected'));
          resolve(redirect());
          return;
        }
        try {
          // A `Response` takes 200-599 only: a status past it (999 from some proxies) is a broken answer.
          if (status > 599) throw new RangeError(`the upstream answered status ${status}, outside 200-599`);
          // Headers stay raw until someone asks (the engines read them only on errors).
          responseInit = { status, statusText: reasonPhrase(statusText) };
          rawHeaders = headers;
          const type = headers['content-type'];
          if (status === 204 || status === 304 || method === 'HEAD' || (typeof type === 'string' && JSON_TYPE.test(type))) {
            buffered = [];
            return;
          }
          streamed = new UpstreamBody(controller, finish);
          resolve(new StreamingResponse(streamed, responseInit, headers));
        } catch (e) {
          // undici does not report a throw from its callbacks: the promise would stay pending for ever.
          finish();
          const error = brokenAnswer(e);
          reject(error);
          controller.abort(error);
        }
      },
      onResponseData(_controller, chunk) {
        if (done) return;
        if (buffered) buffered.push(chunk);
        else streamed!.data(chunk);
      },
      onResponseEnd() {
        if (done) return;
        finish();
        if (buffered) {
          const status = responseInit!.status!;
          const empty = status === 204 || status === 304 || method === 'HEAD';
          try {
            resolve(empty ? new Response(null, { ...responseInit, headers: toHeaders(rawHeaders!) }) : new BufferedResponse(buffered.length === 1 ? buffered[0]! : Buffer.concat(buffered), responseInit!, rawHeaders!));
          } catch (e) {
            reject(brokenAnswer(e));
          }
        } else {
          streamed!.end();
        }
      },
      onResponseError(_controller, error) {
        if (done) return;
        finish();
        if (streamed) streamed.fail(error);
        // A dropped or refused connection (undici's SocketError, ECONNREFUSED, its assertion on a 101 without
        // an upgrade) rejects as fetch does, a TypeError the router takes for a network error; an abort stays one.
        else reject(signal?.aborted || (error as { name?: string } | undefined)?.name === 'AbortError' ? error : brokenAnswer(error));
      },
    };
    agent.dispatch({ origin: url.origin, path: `${url.pathname}${url.search}`, method: method as Dispatcher.HttpMethod, headers, body }, handler);
  });
}

/** What undici's dispatch is aborted with for an aborted `signal`: its reason when that is an `Error`. */
function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

/** A network error, as `fetch` rejects with (the router retries it), for an answer no `Response` can carry. */
function brokenAnswer(e: unknown): TypeError {
  return new TypeError(`fetch failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** Characters a `Response` refuses in its status text: it takes HTAB, SP to `~` and U+0080-U+00FF. */
const NOT_REASON = /[^\t\x20-\x7e\x80-\xff]/;
const NOT_REASON_ALL = new RegExp(NOT_REASON.source, 'g');

/**
 * The reason phrase a `Response` takes: undici decodes it as UTF-8, so a Latin-1 byte (or any byte that is not
 * UTF-8) comes as U+FFFD, which is dropped, as are control characters.
 */
function reasonPhrase(text: string | undefined): string {
  if (text === undefined) return '';
  return NOT_REASON.test(text) ? text.replace(NOT_REASON_ALL, '') : text;
}

/**
 * What a header value may need before undici's `dispatch` takes it: HTTP whitespace at either end (tab, LF, CR,
 * space), or a character outside HTAB, SP to `~` and U+0080-U+00FF. Most values have none and are sent as given.
 */
const HEADER_VALUE_CARE = /^[\t\n\r ]|[\t\n\r ]$|[^\t\x20-\x7e\x80-\xff]/;
/**
 * What fetch refuses in a header value once trimmed (undici's rule): anything but HTAB, SP to `~` and U+0080-U+00FF -
 * CR, LF, NUL, every other control character, a character above U+00FF.
 */
const HEADER_VALUE_REFUSED = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * A header value as fetch sends it: leading and trailing HTTP whitespace trimmed (a key read from a file with its final
 * newline is sent without), a value fetch refuses rejected as fetch does, with a `TypeError` `toLLMError` makes a
 * `config_invalid` that is not retried - its message names the header, never the value (an API key).
 */
function headerValue(name: string, value: string): string {
  if (!HEADER_VALUE_CARE.test(value)) return value;
  let start = 0;
  let end = value.length;
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--;
  const trimmed = value.slice(start, end);
  if (HEADER_VALUE_REFUSED.test(trimmed)) throw new TypeError(`Headers.append: the value of the ${JSON.stringify(name)} header is an invalid header value.`);
  return trimmed;
}

/** Tab, LF, CR, space: what fetch trims from both ends of a header value. */
function isHttpWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function headerPairs(h: RequestInit['headers']): string[] {
  const out: string[] = [];
  if (h instanceof Headers) {
    // Trimmed and checked by `Headers` already.
    for (const [k, v] of h) out.push(k, v);
  } else if (Array.isArray(h)) {
    for (const [k, v] of h as Iterable<[string, string]>) out.push(k, headerValue(k, v));
  } else if (h !== undefined) {
    for (const k in h) out.push(k, headerValue(k, (h as Record<string, string>)[k]!));
  }
  // The answer in no content coding, as it is read (nothing here decodes one): a request without Accept-Encoding takes
  // any coding (RFC 9110 12.5.3), and a server or proxy may then compress it. (Unless the caller asks for one itself.)
  if (!hasAcceptEncoding(out)) out.push('accept-encoding', 'identity');
  return out;
}

/** `pairs` (name, value, name, value...) hold an Accept-Encoding header. */
function hasAcceptEncoding(pairs: string[]): boolean {
  for (let i = 0; i < pairs.length; i += 2) {
    const k = pairs[i]!;
    if (k.length === 15 && k.toLowerCase() === 'accept-encoding') return true;
  }
  return false;
}
