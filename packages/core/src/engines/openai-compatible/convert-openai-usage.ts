import type { Usage } from '../../spec/usage.js';
import type { OpenAIUsage } from './openai-wire-schemas.js';

/**
 * OpenAI usage -> our Usage: cached prompt tokens and reasoning tokens when reported, and prompt-cache writes
 * (`prompt_tokens_details.cache_write_tokens`, which OpenRouter and the llmrr gateway report for providers that
 * bill them, such as Anthropic's models; like `cached_tokens`, part of `prompt_tokens`, as ours are of the input).
 */
export function convertOpenAIUsage(usage: OpenAIUsage): Usage {
  const inputTokens = usage.prompt_tokens ?? 0;
  const outputTokens = usage.completion_tokens ?? 0;
  const result: Usage = { inputTokens, outputTokens, totalTokens: usage.total_tokens ?? inputTokens + outputTokens };
  const cached = usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens;
  if (cached != null) result.cachedInputTokens = cached;
  const writes = usage.prompt_tokens_details?.cache_write_tokens;
  if (writes != null) result.cacheWriteInputTokens = writes;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  if (reasoning != null) result.reasoningTokens = reasoning;
  return result;
}
