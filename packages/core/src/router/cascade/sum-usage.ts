import type { Usage } from '../../spec/index.js';
import type { Cost } from '../types.js';

/** The usage of two calls together (estimated when either was). */
export function sumUsage(a: Usage, b: Usage): Usage {
  const u: Usage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens, totalTokens: a.totalTokens + b.totalTokens };
  if (a.cachedInputTokens !== undefined || b.cachedInputTokens !== undefined) u.cachedInputTokens = (a.cachedInputTokens ?? 0) + (b.cachedInputTokens ?? 0);
  if (a.reasoningTokens !== undefined || b.reasoningTokens !== undefined) u.reasoningTokens = (a.reasoningTokens ?? 0) + (b.reasoningTokens ?? 0);
  if (a.estimated === true || b.estimated === true) u.estimated = true;
  return u;
}

/** The cost of two calls together (estimated when either was). */
export function sumCost(a: Cost, b: Cost): Cost {
  return { inputUsd: a.inputUsd + b.inputUsd, outputUsd: a.outputUsd + b.outputUsd, totalUsd: a.totalUsd + b.totalUsd, estimated: a.estimated || b.estimated };
}
