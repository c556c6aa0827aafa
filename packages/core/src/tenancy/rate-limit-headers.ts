import type { RateDecision, RateLimitInfo } from './types.js';

/**
 * Response headers for a rate-limit decision: `X-RateLimit-Limit`, `-Remaining`, `-Reset` (seconds
 * until fully replenished) for requests, the same with a `-Tokens` suffix for tokens, and
 * `Retry-After` (whole seconds, rounded up) on a refusal.
 */
export function rateLimitHeaders(info: RateLimitInfo, decision?: RateDecision): Record<string, string> {
  const h: Record<string, string> = {};
  if (info.limitRequests !== undefined) {
    h['x-ratelimit-limit'] = String(info.limitRequests);
    h['x-ratelimit-remaining'] = String(info.remainingRequests ?? 0);
    h['x-ratelimit-reset'] = String(Math.ceil((info.resetRequestsMs ?? 0) / 1000));
  }
  if (info.limitTokens !== undefined) {
    h['x-ratelimit-limit-tokens'] = String(info.limitTokens);
    h['x-ratelimit-remaining-tokens'] = String(info.remainingTokens ?? 0);
    h['x-ratelimit-reset-tokens'] = String(Math.ceil((info.resetTokensMs ?? 0) / 1000));
  }
  if (decision && !decision.ok) h['retry-after'] = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  return h;
}
