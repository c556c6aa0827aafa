import type { LLMError } from '../../errors/llm-error.js';

const REFUSALS = new WeakSet<LLMError>();

/**
 * Marks `error` as an engine's refusal for its own capacity (a local model with every slot taken, its queue full):
 * the deployment is busy, not failing. The router neither counts it against the deployment's health (circuit,
 * error rate) nor retries the same deployment after a backoff: it moves on to the next one at once
 * (`failureAction`, `countsAgainstDeployment`). Returns `error`.
 */
export function capacityRefusal(error: LLMError): LLMError {
  REFUSALS.add(error);
  return error;
}

/** True for errors marked by `capacityRefusal` (not for a provider's own 529/overloaded). */
export function isCapacityRefusal(error: LLMError): boolean {
  return REFUSALS.has(error);
}
