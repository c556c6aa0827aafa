export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Input tokens served from the provider's prompt cache, where the provider reports them. */
  cachedInputTokens?: number;
  /**
   * Input tokens written to the provider's prompt cache (Anthropic `cache_creation_input_tokens`), part of
   * `inputTokens`; they cost more than plain input (Anthropic: 1.25x for 5 minutes, 2x for 1 hour).
   */
  cacheWriteInputTokens?: number;
  /** The part of `cacheWriteInputTokens` written with the 1-hour TTL (Anthropic `cache_creation.ephemeral_1h_input_tokens`). */
  cacheWrite1hInputTokens?: number;
  /** Output tokens spent on hidden reasoning, where the provider reports them. */
  reasoningTokens?: number;
  /** True when the numbers were estimated locally because the provider reported none. */
  estimated?: boolean;
}

export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error' | 'other';

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
}

export function makeUsage(inputTokens: number, outputTokens: number, extra: Partial<Usage> = {}): Usage {
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, ...extra };
}
