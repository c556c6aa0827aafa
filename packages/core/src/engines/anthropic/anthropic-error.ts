import type { LLMErrorCode } from '../../errors/codes.js';
import { LLMError } from '../../errors/llm-error.js';
import { errorFromResponse, type ProviderErrorInfo } from '../../util/http.js';
import type { AnthropicErrorBody } from './anthropic-api-types.js';

/** Anthropic's `error.type` values (https://docs.anthropic.com/en/api/errors) -> our codes. */
const CODE_BY_TYPE: Readonly<Record<string, LLMErrorCode>> = {
  invalid_request_error: 'invalid_request',
  authentication_error: 'authentication',
  billing_error: 'budget_exceeded',
  permission_error: 'permission_denied',
  request_too_large: 'payload_too_large',
  rate_limit_error: 'rate_limited',
  api_error: 'provider_error',
  timeout_error: 'timeout',
  overloaded_error: 'overloaded',
};

/**
 * Message-based refinements of a plain (400) invalid_request_error: an oversized prompt, and the organisation's
 * billing state (no credit left, its spend limit reached), which another deployment (another organisation) does
 * not share, so the router falls over instead of failing the request.
 */
const CONTEXT_LENGTH = /prompt is too long|exceeds? the (?:model's )?context (?:window|limit)/i;
const OUT_OF_CREDIT = /credit balance is too low|reached your specified API usage limits|out of extra usage/i;

/**
 * A `not_found_error` naming the model (Anthropic's `model: claude-typo`): the deployment's model id is wrong. Any
 * other `not_found_error` (a path a proxy does not serve) is left to the status (`provider_error`).
 */
const MODEL_NOT_FOUND = /(?:^|\W)model:/i;

export function anthropicErrorCode(type: string | undefined, message: string | undefined): LLMErrorCode | undefined {
  if (type === undefined) return undefined;
  if (type === 'not_found_error') return message !== undefined && MODEL_NOT_FOUND.test(message) ? 'provider_model_not_found' : undefined;
  if (type === 'invalid_request_error' && message !== undefined) {
    if (CONTEXT_LENGTH.test(message)) return 'context_length_exceeded';
    if (OUT_OF_CREDIT.test(message)) return 'budget_exceeded';
  }
  return Object.hasOwn(CODE_BY_TYPE, type) ? CODE_BY_TYPE[type] : undefined;
}

function errorPart(body: unknown): { type?: string; message?: string } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as AnthropicErrorBody).error;
  if (typeof error !== 'object' || error === null) return undefined;
  return {
    type: typeof error.type === 'string' ? error.type : undefined,
    message: typeof error.message === 'string' ? error.message : undefined,
  };
}

/** Reads `{ type: 'error', error: { type, message } }` for `errorFromResponse`. */
export function extractAnthropicError(body: unknown): ProviderErrorInfo {
  const e = errorPart(body);
  if (!e) return {};
  const info: ProviderErrorInfo = {};
  if (e.message !== undefined) info.message = e.type ? `${e.type}: ${e.message}` : e.message;
  const code = anthropicErrorCode(e.type, e.message);
  if (code !== undefined) info.code = code;
  return info;
}

/** A non-2xx Messages API response as an LLMError (status, type, Retry-After honoured). */
export function anthropicResponseError(response: Response, context: { provider: string; deployment?: string }): Promise<LLMError> {
  return errorFromResponse(response, context, extractAnthropicError);
}

/** An `error` event inside a 200 stream (e.g. `overloaded_error`) as an LLMError. */
export function anthropicStreamError(body: unknown, context: { provider: string; deployment?: string }): LLMError {
  const e = errorPart(body);
  const code = anthropicErrorCode(e?.type, e?.message) ?? 'provider_error';
  return new LLMError({
    code,
    message: `${context.provider} stream error${e?.type ? ` (${e.type})` : ''}: ${e?.message ?? 'no message'}`,
    provider: context.provider,
    deployment: context.deployment,
    details: body,
  });
}
