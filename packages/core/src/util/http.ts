import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { codeForHttpStatus, type LLMErrorCode } from '../errors/codes.js';
import { LLMError } from '../errors/llm-error.js';
import { abortError, toLLMError } from '../errors/to-llm-error.js';
import { parseRetryAfter } from './retry-after.js';

export type FetchFn = typeof globalThis.fetch;

export interface ProviderErrorInfo {
  /** Provider's message, already extracted from its error body. */
  message?: string;
  /** A more specific code than the status alone gives (e.g. `context_length_exceeded`). */
  code?: LLMErrorCode;
  details?: unknown;
}

/**
 * Turns a non-2xx provider response into an LLMError: status -> code, Retry-After honoured,
 * the provider-specific body parsed by `extract`. A 404 `extract` gives no code for (its words name no unknown model)
 * is a `provider_error`, not retryable, whose message names the path asked ("wrong base URL or endpoint?").
 */
export async function errorFromResponse(
  response: Response,
  context: { provider: string; deployment?: string },
  extract: (body: unknown, text: string) => ProviderErrorInfo = () => ({}),
): Promise<LLMError> {
  if (isRedirect(response)) return redirectError(response, context);
  const text = await response.text().catch(() => '');
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const info = extract(body, text);
  const code = info.code ?? codeForHttpStatus(response.status);
  const retryAfterMs = parseRetryAfter(response.headers);
  const retryable = code === 'rate_limited' || response.status === 408 || response.status === 409 || response.status >= 500;
  const said = info.message ?? (text.slice(0, 500) || response.statusText);
  // A 404 the provider's words do not explain (no unknown model, no unsupported request): the address is not there.
  const message =
    response.status === 404 && info.code === undefined
      ? `${context.provider} answered 404 for ${endpointOf(response)}: wrong base URL or endpoint? (${said})`
      : `${context.provider} responded ${response.status}: ${said}`;
  return new LLMError({
    code,
    message,
    isRetryable: retryable,
    retryAfterMs,
    upstreamStatus: response.status,
    provider: context.provider,
    deployment: context.deployment,
    details: info.details ?? body,
  });
}

/** The path a response answered (no query: it may carry a key), or "the endpoint" when the response has no URL. */
function endpointOf(response: Response): string {
  try {
    return new URL(response.url).pathname;
  } catch {
    return 'the endpoint';
  }
}

/**
 * What the engines send with every provider request: the fetch does not follow a redirect itself. Fetch drops only
 * `Authorization` on a cross-origin redirect, not the providers' own key headers (`x-api-key`, `x-goog-api-key`, Azure's
 * `api-key`), so a redirecting proxy would receive the deployment's key. `fetchOrThrow` follows, by hand, only a
 * redirect that keeps the request at its origin (`followRedirects`); any other 3xx comes back as the answer and is a
 * `provider_error` (`redirectError`).
 */
export const NO_REDIRECT: NonNullable<RequestInit['redirect']> = 'manual';

/** How many same-origin redirects one provider request follows (a trailing slash, http -> https) before refusing. */
export const MAX_REDIRECTS = 3;

/** A redirect answer: a 3xx, or the `opaqueredirect` (status 0) a browser gives for `redirect: 'manual'`. */
function isRedirect(response: Response): boolean {
  return (response.status >= 300 && response.status < 400) || response.type === 'opaqueredirect';
}

/** Why a redirect answer was not followed, and where it pointed: set by `fetchOrThrow`, read by `redirectError`. */
interface RefusedRedirect {
  /** The Location resolved against the request's URL (undefined: none, or not a URL). */
  target: URL | undefined;
  /** The client-safe reason, with a leading space (names no address). */
  reason: string;
}
const refusedRedirects = new WeakMap<Response, RefusedRedirect>();

/** Whether a URL is http: or https: (`URL.origin` of a `blob:` URL is its inner URL's origin). */
function isHttp(url: URL): boolean {
  return url.protocol === 'http:' || url.protocol === 'https:';
}

/**
 * Whether a redirect from `from` to `to` keeps the deployment's key where it was going: an http(s) address at the
 * same origin (scheme, host, port), or the same host moving from http to https (on the https default port or the
 * same port).
 */
function keepsOrigin(from: URL, to: URL): boolean {
  if (!isHttp(to)) return false;
  if (to.origin === from.origin) return true;
  return from.protocol === 'http:' && to.protocol === 'https:' && to.hostname === from.hostname && (to.port === '' || to.port === from.port);
}

/**
 * Follows the redirect answers of a `redirect: 'manual'` request (`NO_REDIRECT`; any other answer is returned as it
 * is) that stay at its origin (`keepsOrigin`), at most `MAX_REDIRECTS` of them, sending the same method, headers and
 * body again (307 and 308 say so; for 301 and 302 RFC 9110 allows it, and fetch's change of a POST to a GET without its
 * body could not reach a provider's API). A 303 (whose meaning is "GET the answer elsewhere"), a Location with a user
 * name or password (global fetch refuses it with an error quoting the whole Location, `createUpstreamFetch` drops
 * them) and any other address are not followed: that answer is returned, with what `redirectError` needs recorded.
 */
export async function followRedirects(fetchFn: FetchFn, url: string, init: RequestInit, first: Response): Promise<Response> {
  if (init.redirect !== NO_REDIRECT || !isRedirect(first)) return first;
  let response = first;
  let from = new URL(url);
  // The request's own user info (a baseURL's) is not the Location's: resolved against `from` without it, a target
  // with user info is one whose Location carries them.
  from.username = '';
  from.password = '';
  for (let hop = 0; ; hop++) {
    const location = response.headers.get('location');
    let target: URL | undefined;
    try {
      target = location === null ? undefined : new URL(location, from);
    } catch {
      target = undefined;
    }
    const status = response.status;
    const reason =
      target === undefined
        ? response.type === 'opaqueredirect'
          ? '' // a browser's: its Location is hidden
          : ' without a usable Location'
        : !keepsOrigin(from, target)
          ? ' to another address'
          : target.username !== '' || target.password !== ''
            ? ' with credentials in its Location'
            : status === 303
              ? ' that would turn the request into a GET'
              : status !== 301 && status !== 302 && status !== 307 && status !== 308
                ? ' that is not a move'
                : hop >= MAX_REDIRECTS
                  ? ` more than ${MAX_REDIRECTS} times`
                  : typeof init.body === 'string' || init.body === undefined || init.body === null
                    ? undefined
                    : ' for a request whose body cannot be sent again';
    if (reason !== undefined) {
      refusedRedirects.set(response, { target, reason });
      return response;
    }
    void response.body?.cancel().catch(() => {});
    from = target!;
    response = await fetchFn(from.href, init);
    if (!isRedirect(response)) return response;
  }
}

/**
 * A provider request answered with a redirect `fetchOrThrow` did not follow (see `NO_REDIRECT`): `provider_error` (a 502
 * to a client), not retried on the deployment (it would redirect again) but tried on the next one. The message names
 * the kind of redirect but nothing of its `Location` (it may carry a signed URL); the server log has the target's
 * origin and path (no query) in `details.redirectTo`.
 */
function redirectError(response: Response, context: { provider: string; deployment?: string }): LLMError {
  void response.body?.cancel().catch(() => {});
  const refused = refusedRedirects.get(response);
  let target = refused?.target;
  if (refused === undefined) {
    // A 3xx that did not come through fetchOrThrow: resolve what can be resolved.
    try {
      const raw = response.headers.get('location');
      target = raw === null ? undefined : new URL(raw, response.url || undefined);
    } catch {
      target = undefined;
    }
  }
  const status = response.status || undefined;
  return new LLMError({
    code: 'provider_error',
    message: `${context.provider} answered with a redirect${status ? ` (HTTP ${status})` : ''}${refused?.reason ?? ''} instead of an answer; provider requests follow redirects only within the same origin (others would carry the deployment's credentials to another address): set the deployment's baseURL to the address that answers`,
    isRetryable: false,
    upstreamStatus: status,
    provider: context.provider,
    deployment: context.deployment,
    // Another scheme's path may hold a whole URL (`blob:http://user:pw@host/...`): its scheme only.
    details: target === undefined ? undefined : { redirectTo: isHttp(target) ? `${target.origin}${target.pathname}` : target.protocol },
  });
}

/**
 * fetch that turns network failures and aborts into LLMErrors. A `redirect: 'manual'` request (`NO_REDIRECT`, the
 * engines' provider calls) follows only redirects within its origin (`followRedirects`).
 */
export async function fetchOrThrow(
  fetchFn: FetchFn,
  url: string,
  init: RequestInit,
  context: { provider: string; deployment?: string },
): Promise<Response> {
  try {
    const response = await fetchFn(url, init);
    return response.ok ? response : await followRedirects(fetchFn, url, init, response);
  } catch (e) {
    if (init.signal?.aborted) throw abortError(init.signal, context);
    throw toLLMError(e, context);
  }
}

/**
 * Server-sent events of a response body, parsed by eventsource-parser (`createParser`, fed from the body's
 * reader through one streaming `TextDecoder`: about a fifth of the CPU of `TextDecoderStream` +
 * `EventSourceParserStream`). Parse errors (unknown fields, invalid `retry`) are ignored and an event left
 * without its closing blank line at the end is dropped, as the SSE spec says. Throws `abortError(signal)`
 * when the signal fires, also while waiting for the next chunk. Cancels the body (closing the connection)
 * when the consumer stops early, on abort and on error.
 */
export async function* sseEvents(response: Response, signal?: AbortSignal): AsyncGenerator<EventSourceMessage> {
  if (!response.body) throw new LLMError({ code: 'invalid_response', message: 'Response has no body' });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  // One listener for the whole stream: cancelling ends a pending read, which then sees the signal.
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) throw abortError(signal);
    let done = false;
    while (!done) {
      let chunk: Uint8Array | undefined;
      try {
        ({ done, value: chunk } = await reader.read());
      } catch (e) {
        throw signal?.aborted ? abortError(signal) : e;
      }
      if (signal?.aborted) throw abortError(signal);
      parser.feed(done ? decoder.decode() : decoder.decode(chunk, { stream: true }));
      for (let i = 0; i < queue.length; i++) {
        yield queue[i]!;
        if (signal?.aborted) throw abortError(signal);
      }
      queue.length = 0;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Parses JSON, or throws an `invalid_response` LLMError. */
export function parseJsonOrThrow(text: string, provider: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LLMError({ code: 'invalid_response', message: `${provider} sent invalid JSON: ${text.slice(0, 200)}`, provider, cause: e });
  }
}
