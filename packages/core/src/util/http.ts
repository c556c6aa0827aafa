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
 * the provider-specific body parsed by `extract`.
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
  return new LLMError({
    code,
    message: `${context.provider} responded ${response.status}: ${info.message ?? (text.slice(0, 500) || response.statusText)}`,
    isRetryable: retryable,
    retryAfterMs,
    upstreamStatus: response.status,
    provider: context.provider,
    deployment: context.deployment,
    details: info.details ?? body,
  });
}

/**
 * What the engines send with every provider request: a redirect is not followed. Fetch drops only `Authorization` on a
 * cross-origin redirect, not the providers' own key headers (`x-api-key`, `x-goog-api-key`, Azure's `api-key`), so a
 * redirecting proxy would receive the deployment's key. The 3xx comes back as the answer (`redirectError`).
 */
export const NO_REDIRECT: NonNullable<RequestInit['redirect']> = 'manual';

/** A redirect answer: a 3xx, or the `opaqueredirect` (status 0) a browser gives for `redirect: 'manual'`. */
function isRedirect(response: Response): boolean {
  return (response.status >= 300 && response.status < 400) || response.type === 'opaqueredirect';
}

/**
 * A provider request answered with a redirect (see `NO_REDIRECT`): `provider_error` (a 502 to a client), not retried on
 * the deployment (it would redirect again) but tried on the next one. The message names neither the `Location` nor
 * anything of it (it may carry a signed URL); the server log has its origin in `details`.
 */
function redirectError(response: Response, context: { provider: string; deployment?: string }): LLMError {
  void response.body?.cancel().catch(() => {});
  let location: string | undefined;
  try {
    const raw = response.headers.get('location');
    location = raw === null ? undefined : new URL(raw, response.url || undefined).origin;
  } catch {
    location = undefined;
  }
  const status = response.status || undefined;
  return new LLMError({
    code: 'provider_error',
    message: `${context.provider} answered with a redirect${status ? ` (HTTP ${status})` : ''} instead of an answer; provider requests do not follow redirects (they would carry the deployment's credentials to another address): set the deployment's baseURL to the address that answers`,
    isRetryable: false,
    upstreamStatus: status,
    provider: context.provider,
    deployment: context.deployment,
    details: location === undefined ? undefined : { redirectOrigin: location },
  });
}

/** fetch that turns network failures and aborts into LLMErrors. */
export async function fetchOrThrow(
  fetchFn: FetchFn,
  url: string,
  init: RequestInit,
  context: { provider: string; deployment?: string },
): Promise<Response> {
  try {
    return await fetchFn(url, init);
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
