import type { RetryConfig } from '../../config/schema.js';
import type { LLMError } from '../../errors/llm-error.js';
import { MAX_RETRY_AFTER_MS } from '../../util/retry-after.js';

/**
 * Delay before retry number `retry` (0 for the first retry): exponential backoff
 * `initialDelayMs * factor^retry`, capped at `maxDelayMs`, with full jitter (uniform in [0, cap)).
 */
export function backoffDelay(retry: number, config: RetryConfig, random: () => number): number {
  const cap = Math.min(config.maxDelayMs, config.initialDelayMs * Math.pow(config.factor, retry));
  return config.jitter ? Math.floor(random() * cap) : cap;
}

/** What to do before retrying the same deployment. */
export type RetryPlan = { kind: 'wait'; delayMs: number } | { kind: 'move-on'; reason: string };

/**
 * The wait before retrying after `error`: the provider's Retry-After when given and allowed (a Retry-After longer
 * than `maxRetryAfterMs`, or of a day or more, `MAX_RETRY_AFTER_MS`, which is what a longer one is read as, moves on
 * to the next deployment instead), else the backoff.
 */
export function retryPlan(error: LLMError, retry: number, config: RetryConfig, random: () => number): RetryPlan {
  const after = error.retryAfterMs;
  if (config.respectRetryAfter && after !== undefined && after >= 0) {
    if (after > config.maxRetryAfterMs) {
      return { kind: 'move-on', reason: `Retry-After ${after} ms exceeds maxRetryAfterMs ${config.maxRetryAfterMs} ms` };
    }
    if (after >= MAX_RETRY_AFTER_MS) {
      return { kind: 'move-on', reason: `Retry-After ${after} ms is a day or more (MAX_RETRY_AFTER_MS ${MAX_RETRY_AFTER_MS} ms), never waited` };
    }
    return { kind: 'wait', delayMs: after };
  }
  return { kind: 'wait', delayMs: backoffDelay(retry, config, random) };
}
