import type { RateLimitInfo } from '@llmrr/core';

function seconds(ms: number): string {
  return String(Math.max(0, Math.ceil(ms / 1000)));
}

/**
 * `X-RateLimit-Limit/Remaining/Reset` (requests; reset in seconds), `X-RateLimit-*-Tokens`, and the
 * OpenAI-style `x-ratelimit-{limit,remaining,reset}-requests` some clients read. Only limits that exist.
 * Added to `h` (a reply's headers) and returned.
 */
export function rateLimitHeaders(info: RateLimitInfo, h: Record<string, string> = {}): Record<string, string> {
  if (info.limitRequests !== undefined) {
    const remaining = String(info.remainingRequests ?? 0);
    const reset = seconds(info.resetRequestsMs ?? 0);
    h['x-ratelimit-limit'] = String(info.limitRequests);
    h['x-ratelimit-remaining'] = remaining;
    h['x-ratelimit-reset'] = reset;
    h['x-ratelimit-limit-requests'] = String(info.limitRequests);
    h['x-ratelimit-remaining-requests'] = remaining;
    h['x-ratelimit-reset-requests'] = `${reset}s`;
  }
  if (info.limitTokens !== undefined) {
    h['x-ratelimit-limit-tokens'] = String(info.limitTokens);
    h['x-ratelimit-remaining-tokens'] = String(info.remainingTokens ?? 0);
    h['x-ratelimit-reset-tokens'] = `${seconds(info.resetTokensMs ?? 0)}s`;
  }
  if (info.limitConcurrency !== undefined) {
    h['x-ratelimit-limit-concurrency'] = String(info.limitConcurrency);
    h['x-ratelimit-remaining-concurrency'] = String(info.remainingConcurrency ?? 0);
  }
  return h;
}
