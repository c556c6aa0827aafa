import type { RouterResult, Usage } from '@llmrr/core';

/**
 * The usage an answer reports: the call's, but a router cache hit (exact or semantic) read nothing from and wrote
 * nothing to the provider's prompt cache, so its cache reads and writes are 0 (as the ledger records them), not
 * the original call's; its input and output tokens stay the original's. The fields a deployment reported stay
 * present (as 0), so the answer's shape does not depend on the cache. An escalated cascade's usage is returned
 * unchanged: it is the sum of both steps, each already without a router cache hit's counts, and its `cached` is
 * only the strong step's (as the ledger records it, `calls/settle.ts`).
 */
export function answerUsage(result: Pick<RouterResult, 'usage' | 'cached' | 'cascade'>): Usage {
  const usage = result.usage;
  if (!result.cached || result.cascade?.strong) return usage;
  if (usage.cachedInputTokens === undefined && usage.cacheWriteInputTokens === undefined && usage.cacheWrite1hInputTokens === undefined) return usage;
  const out: Usage = { ...usage };
  if (out.cachedInputTokens !== undefined) out.cachedInputTokens = 0;
  if (out.cacheWriteInputTokens !== undefined) out.cacheWriteInputTokens = 0;
  if (out.cacheWrite1hInputTokens !== undefined) out.cacheWrite1hInputTokens = 0;
  return out;
}
