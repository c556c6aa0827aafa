import type { Usage } from '../../spec/usage.js';
import type { AnthropicUsageWire } from './anthropic-api-types.js';

/**
 * Anthropic usage -> ours. Anthropic's `input_tokens` excludes prompt-cache reads and writes, so our
 * `inputTokens` is their sum (everything the prompt cost); cache reads are also reported as `cachedInputTokens`,
 * cache writes (`cache_creation_input_tokens`) as `cacheWriteInputTokens`, and the 1-hour part of them
 * (`cache_creation.ephemeral_1h_input_tokens`) as `cacheWrite1hInputTokens`. Without the total, the writes are
 * the sum of the `cache_creation` breakdown.
 */
export function convertAnthropicUsage(usage: AnthropicUsageWire | undefined): Usage {
  const fresh = usage?.input_tokens ?? 0;
  const breakdown = usage?.cache_creation ?? undefined;
  const write5m = breakdown?.ephemeral_5m_input_tokens ?? undefined;
  const write1h = breakdown?.ephemeral_1h_input_tokens ?? undefined;
  const writeTotal = usage?.cache_creation_input_tokens ?? (write5m != null || write1h != null ? (write5m ?? 0) + (write1h ?? 0) : undefined);
  const cacheWrite = writeTotal ?? 0;
  const cacheRead = usage?.cache_read_input_tokens ?? 0;
  const inputTokens = fresh + cacheWrite + cacheRead;
  const outputTokens = usage?.output_tokens ?? 0;
  const result: Usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
  if (usage?.cache_read_input_tokens != null) result.cachedInputTokens = cacheRead;
  if (writeTotal !== undefined) result.cacheWriteInputTokens = cacheWrite;
  // The 1-hour writes are part of the writes: never more than their total.
  if (write1h != null) result.cacheWrite1hInputTokens = Math.min(write1h, cacheWrite);
  return result;
}

const NUMBER_FIELDS = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;
const BREAKDOWN_FIELDS = ['ephemeral_5m_input_tokens', 'ephemeral_1h_input_tokens'] as const;

/**
 * Later usage numbers (from `message_delta`) replace earlier ones (from `message_start`) field by field, the
 * `cache_creation` breakdown too (each of its numbers on its own).
 */
export function mergeAnthropicUsage(base: AnthropicUsageWire, update: AnthropicUsageWire | undefined): AnthropicUsageWire {
  if (!update) return base;
  const merged: AnthropicUsageWire = { ...base };
  for (const key of NUMBER_FIELDS) {
    const value = update[key];
    if (value != null) merged[key] = value;
  }
  const breakdown = update.cache_creation;
  if (breakdown != null && typeof breakdown === 'object') {
    const next = { ...(base.cache_creation ?? {}) };
    for (const key of BREAKDOWN_FIELDS) {
      const value = breakdown[key];
      if (value != null) next[key] = value;
    }
    merged.cache_creation = next;
  }
  return merged;
}
