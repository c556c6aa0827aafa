import type { Usage } from '../../spec/usage.js';
import type { GeminiUsageMetadata } from './gemini-api-types.js';

/**
 * Gemini `usageMetadata` -> ours. `promptTokenCount` already includes cached tokens
 * (`cachedContentTokenCount`); thinking tokens (`thoughtsTokenCount`) are billed as output, so they are
 * added to `outputTokens` and also reported as `reasoningTokens`.
 */
export function convertGeminiUsage(usage: GeminiUsageMetadata | undefined): Usage {
  const inputTokens = (usage?.promptTokenCount ?? 0) + (usage?.toolUsePromptTokenCount ?? 0);
  const thoughts = usage?.thoughtsTokenCount;
  const outputTokens = (usage?.candidatesTokenCount ?? 0) + (thoughts ?? 0);
  const result: Usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
  if (usage?.cachedContentTokenCount != null) result.cachedInputTokens = usage.cachedContentTokenCount;
  if (thoughts != null) result.reasoningTokens = thoughts;
  return result;
}
