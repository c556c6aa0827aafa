import type { Usage } from '../spec/usage.js';
import { detailsCopy } from './details-copy.js';
import type { LLMError } from './llm-error.js';

/**
 * The key under which an engine puts, in the `details` of an error it throws for an answer its provider completed and
 * billed (HTTP 200) but that is no usable answer (Gemini's failed tool call, `MALFORMED_FUNCTION_CALL`), the usage the
 * provider reported for it: what a stream says with a `usage` part before its `error` part. The router prices it at the
 * deployment's price and bills it as it bills a failed stream attempt's reported usage (`failedAttemptsCost` of the
 * answer a retry or fallback gives; on the call's final error, `details[REFUSED_ANSWER]`). A symbol (`Symbol.for`, so
 * that it works across duplicate installs), so that no provider's error body (JSON has no symbol keys) can name a spend.
 */
export const REPORTED_USAGE: unique symbol = Symbol.for('@llmrr/core.reportedUsage');

/**
 * `details` (an object, a list, or none) with `usage` under `REPORTED_USAGE`: a copy, its other fields as they were, a
 * list still a list (its entries and symbol keys kept: `detailsCopy`, as the router's `withBilledAttempts` keeps them).
 */
export function withReportedUsage<T extends object>(details: T | undefined, usage: Usage): T & { [REPORTED_USAGE]: Usage } {
  const copy = detailsCopy(details);
  copy[REPORTED_USAGE] = usage;
  return copy as T & { [REPORTED_USAGE]: Usage };
}

/** The usage an engine's error says its provider billed (`REPORTED_USAGE`), when it counts tokens. */
export function reportedUsageOf(error: Pick<LLMError, 'details'>): Usage | undefined {
  const details: unknown = error.details;
  if (typeof details !== 'object' || details === null) return undefined;
  const usage = (details as { [REPORTED_USAGE]?: unknown })[REPORTED_USAGE];
  if (typeof usage !== 'object' || usage === null) return undefined;
  const { inputTokens, outputTokens } = usage as Usage;
  return typeof inputTokens === 'number' && typeof outputTokens === 'number' && inputTokens >= 0 && outputTokens >= 0 && inputTokens + outputTokens > 0 ? (usage as Usage) : undefined;
}
