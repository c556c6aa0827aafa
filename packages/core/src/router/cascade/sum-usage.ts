import type { Usage } from '../../spec/index.js';
import type { Cost } from '../types.js';

const OPTIONAL_COUNTS = ['cachedInputTokens', 'cacheWriteInputTokens', 'cacheWrite1hInputTokens', 'reasoningTokens'] as const;
const PROVIDER_CACHE_COUNTS = ['cachedInputTokens', 'cacheWriteInputTokens', 'cacheWrite1hInputTokens'] as const;

/** The usage of two calls together (estimated when either was). */
export function sumUsage(a: Usage, b: Usage): Usage {
  const u: Usage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens, totalTokens: a.totalTokens + b.totalTokens };
  // The optional counts: present in the sum when either call reported them.
  for (const k of OPTIONAL_COUNTS) if (a[k] !== undefined || b[k] !== undefined) u[k] = (a[k] ?? 0) + (b[k] ?? 0);
  if (a.estimated === true || b.estimated === true) u.estimated = true;
  return u;
}

/**
 * A call's usage as its provider's prompt cache saw it: a router cache hit (`cached` not false) called no
 * provider, so it read nothing from and wrote nothing to a provider's prompt cache, and the original call's
 * `cachedInputTokens`, `cacheWriteInputTokens` and `cacheWrite1hInputTokens` are left out (its other counts
 * stay: they describe the answer). Any other call's usage is returned as it is. For sums and ledger rows, so
 * cache writes are counted once, by the call that made them.
 */
export function providerCacheUsage(usage: Usage, cached: false | 'exact' | 'semantic' | undefined): Usage {
  if (!cached) return usage;
  if (!PROVIDER_CACHE_COUNTS.some((k) => usage[k] !== undefined)) return usage;
  const u: Usage = { ...usage };
  for (const k of PROVIDER_CACHE_COUNTS) delete u[k];
  return u;
}

/** The cost of two calls together (estimated when either was). */
export function sumCost(a: Cost, b: Cost): Cost {
  return { inputUsd: a.inputUsd + b.inputUsd, outputUsd: a.outputUsd + b.outputUsd, totalUsd: a.totalUsd + b.totalUsd, estimated: a.estimated || b.estimated };
}
