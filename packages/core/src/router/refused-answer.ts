import type { Usage } from '../spec/index.js';
import type { Cost } from './types.js';

/**
 * The key under which the router puts, in an `LLMError`'s `details`, an answer it refused after its provider had
 * answered and billed it (embeddings whose vectors are not `dimensions` long): `{ usage, cost }`, the usage the
 * provider reported and its cost at the deployment's price. A symbol, so that no provider's error body (which an
 * engine may put in `details` as it came) can name a spend: JSON has no symbol keys.
 */
export const REFUSED_ANSWER: unique symbol = Symbol.for('@llmrr/core.refusedAnswer');

/** What a refused answer cost (see `REFUSED_ANSWER`). */
export interface RefusedAnswer {
  usage: Usage;
  cost: Cost;
}

/** `details` carrying a refused answer. */
export function refusedAnswerDetails(answer: RefusedAnswer): { [REFUSED_ANSWER]: RefusedAnswer } {
  return { [REFUSED_ANSWER]: answer };
}

/** The refused answer an error's `details` carries, if the router (or code using this key) put one there. */
export function refusedAnswerOf(details: unknown): RefusedAnswer | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const answer = (details as { [REFUSED_ANSWER]?: unknown })[REFUSED_ANSWER];
  return typeof answer === 'object' && answer !== null ? (answer as RefusedAnswer) : undefined;
}
