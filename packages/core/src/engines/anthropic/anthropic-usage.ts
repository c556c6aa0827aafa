import type { Usage } from '../../spec/usage.js';
import type { AnthropicUsageWire } from './anthropic-api-types.js';

/**
 * Anthropic usage -> ours. Anthropic's `input_tokens` excludes prompt-cache reads and writes, so our
 * `inputTokens` is their sum (everything the prompt cost); cache reads are also reported as `cachedInputTokens`.
 */
export function convertAnthropicUsage(usage: AnthropicUsageWire | undefined): Usage {
  const fresh = usage?.input_tokens ?? 0;
  const cacheWrite = usage?.cache_creation_input_tokens ?? 0;
  const cacheRead = usage?.cache_read_input_tokens ?? 0;
  const inputTokens = fresh + cacheWrite + cacheRead;
  const outputTokens = usage?.output_tokens ?? 0;
  const result: Usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
  if (usage?.cache_read_input_tokens != null) result.cachedInputTokens = cacheRead;
  return result;
}

/** Later usage numbers (from `message_delta`) replace earlier ones (from `message_start`) field by field. */
export function mergeAnthropicUsage(base: AnthropicUsageWire, update: AnthropicUsageWire | undefined): AnthropicUsageWire {
  if (!update) return base;
  const merged: AnthropicUsageWire = { ...base };
  for (const key of ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const) {
    const value = update[key];
    if (value != null) merged[key] = value;
  }
  return merged;
}
