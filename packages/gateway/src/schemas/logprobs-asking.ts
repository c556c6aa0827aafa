import type { LogprobsOptions } from '@llmrr/core';

/**
 * The core request's `logprobs` asking for `top` alternatives per token: `{ topLogprobs: top }`, or `{}` (the chosen
 * token's own log probability only) for 0 or null. Chat's `top_logprobs`, the legacy `logprobs` count, Responses'
 * `top_logprobs`.
 */
export function logprobsAsking(top: number | null | undefined): LogprobsOptions {
  return top != null && top > 0 ? { topLogprobs: top } : {};
}
