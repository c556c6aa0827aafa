import { isCapacityRefusal } from '../../engines/shared/capacity-refusal.js';
import type { LLMErrorCode } from '../../errors/codes.js';
import type { LLMError } from '../../errors/llm-error.js';
import { isUnservableOwnModel } from '../unservable-own-model.js';

/**
 * Errors that say the request itself is wrong: another deployment would refuse it too,
 * so they neither retry nor fall over; the caller gets them as they are. `context_length_exceeded` is one too, but
 * another deployment with a larger context may take the prompt (the router plans by an estimate of its tokens): it
 * falls over to those only (see `fitsLargerContext`).
 */
const REQUEST_FAULTS: ReadonlySet<LLMErrorCode> = new Set<LLMErrorCode>([
  'invalid_request',
  'invalid_json',
  'context_length_exceeded',
  'content_filter',
  'payload_too_large',
  'unsupported_media_type',
]);

/**
 * Errors that say this deployment cannot serve this kind of request (an engine refusing a feature or a schema it
 * cannot express, before sending anything; a provider refusing one kind of request, e.g. OpenAI streaming a model
 * to an unverified organisation): another deployment may, so they fall over, but they say nothing about the
 * deployment's health. So too a tenant's own model that cannot be served as it is set (its secrets not set, its model
 * file gone: the `no_deployment` errors `isUnservableOwnModel` tells), but not the router's other `no_deployment`
 * (a deployment retired under the call: retryable, and reported over a later deployment's refusal, `laterError`).
 */
const UNSERVABLE: ReadonlySet<LLMErrorCode> = new Set<LLMErrorCode>(['unsupported']);

/**
 * After a failed attempt:
 * - `stop`: return the error (caller aborted, the request is at fault, or the failure came after the provider
 *   accepted the request: `afterResponse`, a cut or unparseable 2xx body whose answer may be billed; that one
 *   is the deployment's own, so under hedging a lane already waiting on another deployment may still answer,
 *   but nothing is sent again);
 * - `retry`: try the same deployment again (retryable errors: 5xx, 429, timeouts, network);
 * - `next`: move on to the next deployment (auth, permission, not found, unsupported, other non-retryable;
 *   `context_length_exceeded`, to a later deployment with a larger or unknown context window only; an engine's
 *   refusal for its own capacity, `capacityRefusal`: a local model busy now is busy after a backoff too).
 */
export type FailureAction = 'stop' | 'retry' | 'next';

export function failureAction(error: LLMError): FailureAction {
  if (error.code === 'context_length_exceeded' && !error.afterResponse) return 'next';
  if (error.code === 'aborted' || error.afterResponse || REQUEST_FAULTS.has(error.code)) return 'stop';
  return error.isRetryable && !isCapacityRefusal(error) ? 'retry' : 'next';
}

/**
 * Whether a failure counts against the deployment's health (circuit breaker, error rate). An `afterResponse` failure
 * counts: a deployment (or the path to it) that cuts its answers is not healthy, even if this request is not sent again.
 * An engine's refusal for its own capacity (`capacityRefusal`: a local model busy, not failing) does not, nor does a
 * tenant's own model that cannot be served as set (`isUnservableOwnModel`); a provider's own 529/overloaded does.
 */
export function countsAgainstDeployment(error: LLMError): boolean {
  // The model's answer to this request (a Gemini failed tool call: `modelFault`), which its provider served.
  if (error.modelFault) return false;
  return error.code !== 'aborted' && !REQUEST_FAULTS.has(error.code) && !UNSERVABLE.has(error.code) && !isCapacityRefusal(error) && !isUnservableOwnModel(error);
}

export function isRequestFault(code: LLMErrorCode): boolean {
  return REQUEST_FAULTS.has(code);
}

/**
 * After `context_length_exceeded` from deployments whose largest known context window is `overflowed`: whether a
 * deployment with `contextWindow` may take the prompt (its window is larger, or one of the two is unknown).
 */
export function fitsLargerContext(contextWindow: number | undefined, overflowed: number | undefined): boolean {
  return contextWindow === undefined || overflowed === undefined || contextWindow > overflowed;
}
