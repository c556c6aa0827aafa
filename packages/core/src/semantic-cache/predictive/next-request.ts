import type { ChatMessage, GenerateRequest, ReasoningPart } from '../../spec/index.js';
import { requestFieldsFor } from '../../spec/request-fields.js';
import { questionOf } from '../semantic-namespace.js';
import type { Prediction } from './sequence-model.js';

/** The live call a prediction follows: its request and the answer its user got. */
export interface ObservedCall {
  request: GenerateRequest;
  answer: { text: string; toolCalls: readonly unknown[]; finishReason: string; reasoningParts?: ReasoningPart[] };
}

/**
 * The request fields a user's next request of the same conversation is assumed to keep (`keptInFollowUp` in
 * `REQUEST_FIELDS`): `messages` is built, `user` is the live request's (set apart).
 */
const KEPT = requestFieldsFor('keptInFollowUp');

/**
 * The request to pre-compute for a prediction, or undefined when none can be built.
 *
 * - A continuation (the user usually follows up in the same conversation): the live conversation, the
 *   answer the user just got, then the predicted question, with the live request's parameters. This is
 *   what the client will send (it sends back the answer it received, with its signed thinking blocks when
 *   it had some, as the Anthropic Messages API's clients do), so it lands in the same exact-cache key and
 *   semantic namespace. Not built when the answer called tools or was cut off by an error.
 * - Otherwise the request that was seen on that transition, as it was (its own context and parameters),
 *   for the current user.
 */
export function nextRequest(prediction: Prediction, observed: ObservedCall): GenerateRequest | undefined {
  const question = questionOf(prediction.request);
  if (question === undefined) return undefined;
  const user = observed.request.user;
  if (!prediction.continuation) {
    const { user: _previous, ...rest } = prediction.request;
    return user !== undefined ? { ...rest, user } : rest;
  }
  const a = observed.answer;
  if (a.toolCalls.length > 0 || (a.finishReason !== 'stop' && a.finishReason !== 'length') || a.text === '') return undefined;
  const assistant: ChatMessage = { role: 'assistant', content: a.text };
  if (a.reasoningParts !== undefined && a.reasoningParts.length > 0) assistant.reasoning = a.reasoningParts;
  const next: GenerateRequest = { messages: [...observed.request.messages, assistant, { role: 'user', content: question }] };
  for (const k of KEPT) if (observed.request[k] !== undefined) (next as unknown as Record<string, unknown>)[k] = observed.request[k];
  if (user !== undefined) next.user = user;
  return next;
}
