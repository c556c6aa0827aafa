import { LLMError } from './llm-error.js';

function isAbortLike(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const name = (e as { name?: unknown }).name;
  return name === 'AbortError';
}

function isTimeoutLike(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'TimeoutError';
}

/**
 * fetch's rejection for a redirect answer to a `redirect: 'error'` request (a `TypeError` whose cause is
 * `unexpected redirect`; the gateway's `createUpstreamFetch` rejects so too).
 */
function isRefusedRedirect(e: TypeError): boolean {
  const cause = e.cause as { message?: unknown } | undefined;
  return typeof cause?.message === 'string' && /^unexpected redirect\b/.test(cause.message);
}

/**
 * fetch's (and `Headers`') refusal of a header it cannot send: `Headers.append: "<the value>" is an invalid header
 * value.` (CR, LF, NUL) or `Cannot convert argument to a ByteString ...` (a character above U+00FF). The first
 * quotes the value - an API key, in clear - so neither message nor error is kept (see `toLLMError`).
 */
function isHeaderRefusal(e: TypeError): boolean {
  return /^Headers\.\w+: [\s\S]* is an invalid header (value|name)\.?$|^Cannot convert argument to a ByteString\b/.test(e.message) || isDispatchHeaderRefusal(e.cause);
}

/**
 * undici's refusal, when the request is dispatched, of a header value `Headers` took: another control character
 * (U+0001-U+001F but tab, CR, LF; U+007F). fetch rejects with `fetch failed` whose cause is an `InvalidArgumentError`
 * (`UND_ERR_INVALID_ARG`, `invalid authorization header`): nothing was sent.
 */
function isDispatchHeaderRefusal(cause: unknown): boolean {
  if (typeof cause !== 'object' || cause === null) return false;
  const { code, message } = cause as { code?: unknown; message?: unknown };
  return code === 'UND_ERR_INVALID_ARG' && typeof message === 'string' && /^invalid \S+ header$/.test(message);
}

/**
 * Turns any thrown value into an `LLMError`. `AbortError` becomes `aborted`, `TimeoutError`
 * (from `AbortSignal.timeout`) becomes `timeout`, network failures from fetch become `network_error`; fetch's
 * refusal of a redirect (`redirect: 'error'`) is a `provider_error` that is not retried (the deployment would
 * redirect again; the router tries the next one), as a redirect answer the engines do not follow is. fetch's refusal of
 * a header value (a key with a line break) is a `config_invalid` that quotes neither the value nor the original error.
 */
export function toLLMError(e: unknown, context: { provider?: string; deployment?: string } = {}): LLMError {
  if (LLMError.isInstance(e)) {
    if ((context.provider && !e.provider) || (context.deployment && !e.deployment)) {
      return e.with({ provider: e.provider ?? context.provider, deployment: e.deployment ?? context.deployment });
    }
    return e;
  }
  if (isTimeoutLike(e)) {
    return new LLMError({ code: 'timeout', message: 'The request timed out', cause: e, ...context });
  }
  if (isAbortLike(e)) {
    const reason = (e as { cause?: unknown }).cause;
    if (isTimeoutLike(reason)) {
      return new LLMError({ code: 'timeout', message: 'The request timed out', cause: e, ...context });
    }
    return new LLMError({ code: 'aborted', message: 'The request was aborted', cause: e, ...context });
  }
  if (e instanceof TypeError && isHeaderRefusal(e)) {
    // No `cause` and not the message: either would carry the header value (an API key) into logs and spans.
    return new LLMError({
      code: 'config_invalid',
      message: 'A request header could not be sent: its value has a line break (CR, LF), NUL, another control character or a character above U+00FF; check the API key (apiKey, apiKeyEnv or the provider variable) and `headers`',
      isRetryable: false,
      ...context,
    });
  }
  if (e instanceof TypeError && isRefusedRedirect(e)) {
    return new LLMError({ code: 'provider_error', message: `The upstream answered with a redirect, which the request refused (redirect: 'error'): ${e.message}`, isRetryable: false, cause: e, ...context });
  }
  if (e instanceof TypeError && /fetch failed|terminated|socket|ECONN|network/i.test(`${e.message} ${String(e.cause ?? '')}`)) {
    return new LLMError({ code: 'network_error', message: `Network error: ${e.message}`, cause: e, ...context });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new LLMError({ code: 'internal', message, cause: e, ...context });
}

/** If `signal` is aborted, the matching LLMError (`timeout` for timeout reasons, else `aborted`). */
export function abortError(signal: AbortSignal, context: { provider?: string; deployment?: string } = {}): LLMError {
  const reason: unknown = signal.reason;
  if (LLMError.isInstance(reason)) return reason;
  if (isTimeoutLike(reason)) return new LLMError({ code: 'timeout', message: 'The request timed out', cause: reason, ...context });
  return new LLMError({ code: 'aborted', message: 'The request was aborted', cause: reason, ...context });
}

/**
 * A failure while reading or parsing the body of a 2xx answer to a non-streamed call: the provider accepted the
 * request and may have generated and billed the answer, so the error is marked `afterResponse` (not retryable; the
 * router neither retries nor falls over) and says the answer was lost. A caller's abort stays `aborted`.
 */
export function afterResponseError(e: unknown, signal: AbortSignal | undefined, context: { provider?: string; deployment?: string } = {}): LLMError {
  const error = signal?.aborted ? abortError(signal, context) : toLLMError(e, context);
  if (error.code === 'aborted' || error.afterResponse) return error;
  return error.with({
    afterResponse: true,
    isRetryable: false,
    message: `${error.message} (after the provider accepted the request: the answer is lost and was not requested again, as it may be billed)`,
  });
}
