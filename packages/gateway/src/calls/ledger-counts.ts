import { sumUsage, type Usage } from '@llmrr/core';

/** The token counts of one usage row (ledger) and of its metrics. */
export interface LedgerCounts {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteInputTokens: number;
  cacheWrite1hInputTokens: number;
}

/** A count the ledger takes: a non-negative integer (anything else, a provider bug, is 0, as `computeCost` takes it). */
function count(n: number | undefined): number {
  return n !== undefined && Number.isFinite(n) && n >= 0 ? Math.min(Math.round(n), Number.MAX_SAFE_INTEGER) : 0;
}

/**
 * What a usage row records of `usage`, the counts clamped as `computeCost` prices them: cache reads at most
 * the input, cache writes at most what the reads leave, 1-hour writes at most the writes. An engine's counts
 * that do not add up (1-hour writes without their total) are priced without complaint, so they are recorded
 * the same way: an answered call never loses its row (nor turns into a 500) over them.
 */
export function ledgerCounts(usage: Usage | undefined): LedgerCounts {
  const inputTokens = count(usage?.inputTokens);
  const cachedInputTokens = Math.min(count(usage?.cachedInputTokens), inputTokens);
  const cacheWriteInputTokens = Math.min(count(usage?.cacheWriteInputTokens), inputTokens - cachedInputTokens);
  const cacheWrite1hInputTokens = Math.min(count(usage?.cacheWrite1hInputTokens), cacheWriteInputTokens);
  return { inputTokens, outputTokens: count(usage?.outputTokens), cachedInputTokens, cacheWriteInputTokens, cacheWrite1hInputTokens };
}

/**
 * `usage` with the tokens of the router's semantic guard calls for the same request added (`RouterResult.guardUsage`,
 * `StreamSpend.guardUsage`: `guardModel`'s tokens, whose cost the request pays), clamped as `ledgerCounts` takes them
 * so a guard's odd counts (a custom guard's) never spoil the answer's. `usage` itself when there were none. The same
 * for the request's other calls besides the answer: failed attempts' reported prompts, a cascade verifier's judgement.
 */
export function withGuardTokens(usage: Usage | undefined, guard: Usage | undefined): Usage | undefined {
  if (!guard) return usage;
  const c = ledgerCounts(guard);
  const tokens: Usage = { inputTokens: c.inputTokens, outputTokens: c.outputTokens, totalTokens: c.inputTokens + c.outputTokens };
  if (c.cachedInputTokens > 0) tokens.cachedInputTokens = c.cachedInputTokens;
  if (c.cacheWriteInputTokens > 0) tokens.cacheWriteInputTokens = c.cacheWriteInputTokens;
  if (c.cacheWrite1hInputTokens > 0) tokens.cacheWrite1hInputTokens = c.cacheWrite1hInputTokens;
  return usage ? sumUsage(usage, tokens) : tokens;
}
