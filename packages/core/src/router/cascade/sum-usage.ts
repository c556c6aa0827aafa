import type { Usage } from '../../spec/index.js';
import type { Cost } from '../types.js';

const OPTIONAL_COUNTS = ['cachedInputTokens', 'cacheWriteInputTokens', 'cacheWrite1hInputTokens', 'reasoningTokens'] as const;

/** The usage of two calls together (estimated when either was). */
export function sumUsage(a: Usage, b: Usage): Usage {
  const u: Usage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens, totalTokens: a.totalTokens + b.totalTokens };
  // The optional counts: present in the sum when either call reported them.
  for (const k of OPTIONAL_COUNTS) if (a[k] !== undefined || b[k] !== undefined) u[k] = (a[k] ?? 0) + (b[k] ?? 0);
  if (a.estimated === true || b.estimated === true) u.estimated = true;
  return u;
}

/** The cost of two calls together (estimated when either was). */
export function sumCost(a: Cost, b: Cost): Cost {
  return { inputUsd: a.inputUsd + b.inputUsd, outputUsd: a.outputUsd + b.outputUsd, totalUsd: a.totalUsd + b.totalUsd, estimated: a.estimated || b.estimated };
}
