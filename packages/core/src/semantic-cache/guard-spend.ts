import { detailsCopy } from '../errors/details-copy.js';
import { LLMError } from '../errors/llm-error.js';
import { providerCacheUsage } from '../router/cascade/sum-usage.js';
import { reportedCost } from '../router/reported-cost.js';
import type { Cost, RouterResult, StreamSpend } from '../router/types.js';
import type { Usage } from '../spec/index.js';

/** A usage of no tokens: a guard call's spend has no answer's tokens (its own are its `guardUsage`). */
const NO_TOKENS = Object.freeze({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });

/**
 * The key of a failed call's guard cost in its error's `details`: a symbol (`Symbol.for`, so it works across duplicate
 * installs), which no provider's parsed error body can hold, so only the router puts a cost there.
 */
const GUARD_COST = Symbol.for('@llmrr/core.guardCost');
/** The key of that guard call's tokens (`withGuardCost`'s `usage`), beside its cost. */
const GUARD_USAGE = Symbol.for('@llmrr/core.guardUsage');

/**
 * A call's error with the cost of the semantic guard call its lookup paid before the call failed (`verify` said NO,
 * a rewrite was incomplete), and its tokens when it reported them (`usage`), read back with `guardCostOf` and
 * `guardUsageOf` (as a consumer that bills failures, the gateway, does). They are kept in `details` under symbol
 * keys, whatever their shape: an object's fields and a list's entries stay as they were (in a copy); a single value
 * (a provider's error body that is a JSON string or number) is put in `body`.
 */
export function withGuardCost(error: LLMError, cost: Cost, usage?: Usage): LLMError {
  const details = detailsCopy(error.details);
  details[GUARD_COST] = cost;
  if (usage) details[GUARD_USAGE] = usage;
  return error.with({ details });
}

/** The guard cost a failed call's error carries (`withGuardCost`), when it carries one that is a cost (`reportedCost`). */
export function guardCostOf(error: unknown): Cost | undefined {
  if (!LLMError.isInstance(error)) return undefined;
  const details: unknown = error.details;
  if (typeof details !== 'object' || details === null) return undefined;
  return reportedCost((details as Record<symbol, unknown>)[GUARD_COST]);
}

/** The tokens of the guard call a failed call's error carries (`withGuardCost`'s `usage`), when it carries its cost too. */
export function guardUsageOf(error: unknown): Usage | undefined {
  if (!guardCostOf(error)) return undefined;
  const usage = ((error as LLMError).details as Record<symbol, unknown>)[GUARD_USAGE];
  return typeof usage === 'object' && usage !== null ? (usage as Usage) : undefined;
}

/** A guard call's spend as a stream's `spent()` reports it: its cost, no answer's tokens, its own as `guardUsage`, not a replay. */
export function guardSpend(cost: Cost, usage?: Usage): StreamSpend {
  return { usage: { ...NO_TOKENS }, cost, replay: false, guardCost: cost, ...(usage ? { guardUsage: usage } : {}) };
}

/**
 * A semantic hit's spend as its stream's `spent()` reports it while the hit is replayed: a hit its guard call let
 * through (`guardCost`) cost that call, paid in full (`replay`), with the answer's tokens (no provider-cache counts,
 * as the hit's ledger row has them), the guard call's as `guardUsage`. Undefined for a hit that cost nothing.
 */
export function hitSpend(hit: RouterResult): StreamSpend | undefined {
  if (!hit.guardCost) return undefined;
  return { usage: providerCacheUsage(hit.usage, hit.cached), cost: hit.guardCost, replay: true, guardCost: hit.guardCost, ...(hit.guardUsage ? { guardUsage: hit.guardUsage } : {}) };
}
