import { LLMError } from '@llmrr/core';

/**
 * The error as the gateway logs it: without a model's `finishMessage` in its `details` (Gemini's words on a failed
 * tool call, which may quote the call's input: the tool call it tried to make), in it or any error of its `cause`
 * chain; its code, provider, deployment, status and `finishReason` stay. Any other value is returned as it is, and
 * so is an error without one (no copy).
 */
export function loggedError(error: unknown): unknown {
  if (!LLMError.isInstance(error)) return error;
  const cause = error.cause === undefined ? undefined : loggedError(error.cause);
  const details = error.details;
  const quoting = typeof details === 'object' && details !== null && Object.hasOwn(details, 'finishMessage');
  if (!quoting && cause === error.cause) return error;
  let kept = details;
  if (quoting) {
    // (Its symbol keys too: the usage a failed answer reported.)
    const { finishMessage: _dropped, ...rest } = details as Record<string, unknown>;
    kept = rest;
  }
  const copy = error.with({ details: kept, cause });
  copy.stack = error.stack;
  return copy;
}
