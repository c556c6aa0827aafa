import type { LLMErrorCode } from '../../errors/codes.js';
import { LLMError } from '../../errors/llm-error.js';
import { errorFromResponse, type ProviderErrorInfo } from '../../util/http.js';
import { clampRetryAfterMs } from '../../util/retry-after.js';
import type { GeminiErrorBody } from './gemini-api-types.js';

/** Google RPC status names (https://ai.google.dev/gemini-api/docs/troubleshooting) -> our codes. */
const CODE_BY_STATUS: Readonly<Record<string, LLMErrorCode>> = {
  INVALID_ARGUMENT: 'invalid_request',
  FAILED_PRECONDITION: 'invalid_request',
  OUT_OF_RANGE: 'invalid_request',
  UNAUTHENTICATED: 'authentication',
  PERMISSION_DENIED: 'permission_denied',
  RESOURCE_EXHAUSTED: 'rate_limited',
  INTERNAL: 'provider_error',
  UNKNOWN: 'provider_error',
  UNAVAILABLE: 'provider_unavailable',
  DEADLINE_EXCEEDED: 'timeout',
};

/**
 * NOT_FOUND naming a model (`models/gemini-typo is not found for API version v1beta, or is not supported for
 * generateContent`): the deployment's model id is wrong. Any other NOT_FOUND is left to the status (`provider_error`).
 */
const MODEL_NOT_FOUND = /\bmodels\/\S+ is not found\b/i;
/** Gemini reports an oversized prompt as INVALID_ARGUMENT with this message. */
const CONTEXT_LENGTH = /input token count.*exceeds the maximum/i;
/**
 * The project may not use the API from where it calls (400 FAILED_PRECONDITION: free tier not offered in the
 * region without billing, or a region not served): the deployment's state, not the request's; another may serve it.
 */
const PROJECT_NOT_ALLOWED = /free tier is not available|location is not supported/i;
/** A prepay billing account at zero (429 RESOURCE_EXHAUSTED): waiting does not refill it; another project may serve it. */
const PREPAYMENT_DEPLETED = /prepayment credits are depleted/i;

type GeminiError = NonNullable<GeminiErrorBody['error']>;

function errorOf(body: unknown): GeminiError | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as GeminiErrorBody).error;
  return typeof error === 'object' && error !== null ? error : undefined;
}

function details(error: GeminiError): Array<Record<string, unknown>> {
  return Array.isArray(error.details) ? error.details.filter((d) => typeof d === 'object' && d !== null) : [];
}

export function geminiErrorCode(error: GeminiError): LLMErrorCode | undefined {
  // An invalid key is a 400 INVALID_ARGUMENT whose ErrorInfo says API_KEY_INVALID.
  if (details(error).some((d) => d.reason === 'API_KEY_INVALID')) return 'authentication';
  const message = typeof error.message === 'string' ? error.message : '';
  if (CONTEXT_LENGTH.test(message)) return 'context_length_exceeded';
  if (PROJECT_NOT_ALLOWED.test(message)) return 'permission_denied';
  if (PREPAYMENT_DEPLETED.test(message)) return 'budget_exceeded';
  if (error.status === 'NOT_FOUND') return MODEL_NOT_FOUND.test(message) ? 'provider_model_not_found' : undefined;
  return typeof error.status === 'string' && Object.hasOwn(CODE_BY_STATUS, error.status) ? CODE_BY_STATUS[error.status] : undefined;
}

/** `RetryInfo.retryDelay` ("34.4s") in milliseconds: Gemini's 429s say when to retry there, not in a header. */
export function geminiRetryDelayMs(body: unknown): number | undefined {
  const error = errorOf(body);
  if (!error) return undefined;
  for (const d of details(error)) {
    if (d['@type'] !== 'type.googleapis.com/google.rpc.RetryInfo' || typeof d.retryDelay !== 'string') continue;
    const m = /^(\d+(?:\.\d+)?)s$/.exec(d.retryDelay.trim());
    if (m) return clampRetryAfterMs(Math.round(Number(m[1]) * 1000));
  }
  return undefined;
}

/** Reads `{ error: { code, message, status, details } }` for `errorFromResponse`. */
export function extractGeminiError(body: unknown): ProviderErrorInfo {
  const error = errorOf(body);
  if (!error) return {};
  const info: ProviderErrorInfo = {};
  if (typeof error.message === 'string') info.message = error.status ? `${error.status}: ${error.message}` : error.message;
  const code = geminiErrorCode(error);
  if (code !== undefined) info.code = code;
  return info;
}

/** A non-2xx Gemini response as an LLMError; Retry-After, else RetryInfo, gives `retryAfterMs`. */
export async function geminiResponseError(response: Response, context: { provider: string; deployment?: string }): Promise<LLMError> {
  const error = await errorFromResponse(response, context, extractGeminiError);
  if (error.retryAfterMs !== undefined) return error;
  const delay = geminiRetryDelayMs(error.details);
  return delay === undefined ? error : error.with({ retryAfterMs: delay });
}

/** An `{ error }` chunk inside a 200 stream as an LLMError. */
export function geminiStreamError(body: unknown, context: { provider: string; deployment?: string }): LLMError {
  const error = errorOf(body) ?? {};
  return new LLMError({
    code: geminiErrorCode(error) ?? 'provider_error',
    message: `${context.provider} stream error${error.status ? ` (${error.status})` : ''}: ${error.message ?? 'no message'}`,
    upstreamStatus: typeof error.code === 'number' ? error.code : undefined,
    retryAfterMs: geminiRetryDelayMs(body),
    provider: context.provider,
    deployment: context.deployment,
    details: body,
  });
}
