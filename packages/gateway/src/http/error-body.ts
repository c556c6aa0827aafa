import { LLMError, toLLMError } from '@llmrr/core';
import { replyToResponse, type Reply } from './reply.js';

/** The wire shape of every gateway error. Anthropic-style routes add `type: "error"` at the top. */
export interface ErrorBody {
  type?: 'error';
  error: { type: string; code: string; message: string; param: string | null; request_id: string | null };
}

export type ErrorStyle = 'openai' | 'anthropic';

/**
 * Turns any thrown value into the public error: status from `LLMError.statusCode`, never a stack trace.
 * Internal errors (5xx that are not upstream failures) keep their code but hide their message.
 */
export function toPublicError(e: unknown): LLMError {
  const err = toLLMError(e);
  if (err.code === 'internal' || err.code === 'config_invalid') {
    return new LLMError({ code: err.code, message: 'Internal gateway error; see the server log for this request id', cause: err });
  }
  return err;
}

export function errorBody(err: LLMError, requestId: string, style: ErrorStyle = 'openai'): ErrorBody {
  const body: ErrorBody = err.toJSON(requestId);
  return style === 'anthropic' ? { type: 'error', error: body.error } : body;
}

/** Status to answer with: the error's own, clamped to a valid HTTP status (aborted 499 stays). */
export function errorStatus(err: LLMError): number {
  const s = err.statusCode;
  return Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}

/** The error reply: status from the error, `retry-after` when it has one; `headers` (lower-case names) are kept. */
export function errorReply(e: unknown, requestId: string, style: ErrorStyle = 'openai', headers: Record<string, string> = {}): Reply {
  const err = toPublicError(e);
  const h: Record<string, string> = { ...headers, 'content-type': 'application/json', 'x-request-id': requestId };
  if (err.retryAfterMs !== undefined) h['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  return { status: errorStatus(err), headers: h, body: JSON.stringify(errorBody(err, requestId, style)) };
}

export function errorResponse(e: unknown, requestId: string, style: ErrorStyle = 'openai', headers: Record<string, string> = {}): Response {
  return replyToResponse(errorReply(e, requestId, style, headers));
}
