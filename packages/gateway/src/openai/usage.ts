import type { Usage } from '@llmrr/core';
import type { OpenAIUsage } from '../schemas/openai-chat.js';

/**
 * Our usage in OpenAI's terms: `prompt_tokens` counts all input (cache reads and writes included, as ours does),
 * `prompt_tokens_details.cached_tokens` the cache reads. Cache writes, which OpenAI has no field for (it does not
 * bill them), go in `prompt_tokens_details.cache_write_tokens`, as OpenRouter reports them: beside
 * `cached_tokens`, inside the total, so no client counts them twice (see the README, "Prompt caching").
 */
export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  const out: OpenAIUsage = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.totalTokens,
  };
  if (usage.cacheWriteInputTokens !== undefined) {
    out.prompt_tokens_details = { cached_tokens: usage.cachedInputTokens ?? 0, cache_write_tokens: usage.cacheWriteInputTokens };
  } else if (usage.cachedInputTokens !== undefined) {
    out.prompt_tokens_details = { cached_tokens: usage.cachedInputTokens };
  }
  if (usage.reasoningTokens !== undefined) out.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  return out;
}
