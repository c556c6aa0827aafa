import { LLMError } from '../errors/llm-error.js';
import { providerCacheUsage } from '../router/cascade/sum-usage.js';
import { reportedCost } from '../router/reported-cost.js';
import type { Cost, RouterResult, StreamSpend } from '../router/types.js';

/** A usage of no tokens: a guard call's spend carries its cost only (its tokens are the guard model's, not the answer's). */
const NO_TOKENS = Object.freeze({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });

/**
 * The key of a failed call's guard cost in its error's `details`: a symbol (`Symbol.for`, so it works across duplicate
 * installs), which no provider's parsed error body can hold, so only the router puts a cost there.
 */
const GUARD_COST = Symbol.for('@llmrr/core.guardCost');

/**
 * A call's error with the cost of the semantic guard call its lookup paid before the call failed (`verify` said NO,
 * a rewrite was incomplete), read back with `guardCostOf` (as a consumer that bills failures, the gateway, does). It
 * is kept in `details` under a symbol key, whatever their shape: an object's fields and a list's entries stay as
 * they were (in a copy); a single value (a provider's error body that is a JSON string or number) is put in `body`.
 */
export function withGuardCost(error: LLMError, cost: Cost): LLMError {
  const own: unknown = error.details;
  const details: Record<PropertyKey, unknown> =
    own === undefined ? {} : Array.isArray(own) ? ([...own] as unknown as Record<PropertyKey, unknown>) : typeof own === 'object' && own !== null ? { ...own } : { body: own };
  details[GUARD_COST] = cost;
  return error.with({ details });
}

/** The guard cost a failed call's error carries (`withGuardCost`), when it carries one that is a cost (`reportedCost`). */
export function guardCostOf(error: unknown): Cost | undefined {
  if (!LLMError.isInstance(error)) return undefined;
  const details: unknown = error.details;
  if (typeof details !== 'object' || details === null) return undefined;
  return reportedCost((details as Record<symbol, unknown>)[GUARD_COST]);
}

/** A guard call's spend as a stream's `spent()` reports it: its cost, no tokens, not a replay. */
export function guardSpend(cost: Cost): StreamSpend {
  return { usage: { ...NO_TOKENS }, cost, replay: false };
}

/**
 * A semantic hit's spend as its stream's `spent()` reports it while the hit is replayed: a hit its guard call let
 * through (`guardCost`) cost that call, paid in full (`replay`), with the answer's tokens (no provider-cache counts,
 * as the hit's ledger row has them). Undefined for a hit that cost nothing.
 */
export function hitSpend(hit: RouterResult): StreamSpend | undefined {
  return hit.guardCost ? { usage: providerCacheUsage(hit.usage, hit.cached), cost: hit.guardCost, replay: true } : undefined;
}
