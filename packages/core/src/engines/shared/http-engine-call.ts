import { LLMError } from '../../errors/llm-error.js';
import { afterResponseError } from '../../errors/to-llm-error.js';
import type { CallOptions } from '../../spec/engine-v1.js';
import { fetchOrThrow, NO_REDIRECT, parseJsonOrThrow, type FetchFn } from '../../util/http.js';

/** Provider and deployment, put on every error of a call. */
export interface HttpCallContext {
  provider: string;
  deployment?: string;
}

/** One JSON POST of an HTTP engine (see postJson). */
export interface JsonPost {
  fetch: FetchFn;
  url: string;
  body: unknown;
  options: CallOptions;
  context: HttpCallContext;
  apiKey: string | undefined;
  /** Where the key was looked for, for the error when it is missing. */
  apiKeySource: string;
  /** The provider's own headers (the key, a version), after `content-type` and before the configured ones. */
  providerHeaders: (apiKey: string) => Record<string, string>;
  /** Headers of the model config; the call's own `options.headers` come after them. */
  headers: Record<string, string>;
  /** Maps a non-2xx response to the provider's LLMError. */
  responseError: (response: Response, context: HttpCallContext) => Promise<LLMError>;
}

/**
 * POSTs JSON; resolves with a 2xx response, else rejects with the mapped LLMError (`authentication` when there is no key;
 * a redirect is followed only within the request's origin, any other is a `provider_error`: see `NO_REDIRECT`).
 */
export async function postJson(post: JsonPost): Promise<Response> {
  const { apiKey, context, options } = post;
  if (!apiKey) {
    throw new LLMError({ code: 'authentication', message: `${context.provider}: no API key (looked in ${post.apiKeySource})`, ...context });
  }
  const response = await fetchOrThrow(
    post.fetch,
    post.url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...post.providerHeaders(apiKey), ...post.headers, ...options.headers },
      body: JSON.stringify(post.body),
      signal: options.signal,
      redirect: NO_REDIRECT,
    },
    context,
  );
  if (!response.ok) throw await post.responseError(response, context);
  return response;
}

/**
 * Reads and parses the JSON body of a 2xx response; a cut connection or a body that is not JSON becomes an
 * `afterResponse` error (not sent again: the answer may be billed), an abort while reading the matching LLMError.
 */
export async function readJsonBody(response: Response, signal: AbortSignal | undefined, context: HttpCallContext): Promise<unknown> {
  try {
    return parseJsonOrThrow(await response.text(), context.provider);
  } catch (e) {
    throw afterResponseError(e, signal, context);
  }
}
