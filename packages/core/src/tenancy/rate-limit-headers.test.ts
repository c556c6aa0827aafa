import { describe, expect, it } from 'vitest';
import { rateLimitHeaders } from './rate-limit-headers.js';

describe('rateLimitHeaders', () => {
  it('writes request and token headers with reset in whole seconds', () => {
    expect(rateLimitHeaders({ limitRequests: 60, remainingRequests: 59, resetRequestsMs: 1_001, limitTokens: 1000, remainingTokens: 10, resetTokensMs: 0 })).toEqual({
      'x-ratelimit-limit': '60',
      'x-ratelimit-remaining': '59',
      'x-ratelimit-reset': '2',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '10',
      'x-ratelimit-reset-tokens': '0',
    });
  });

  it('adds Retry-After (at least 1 s, rounded up) on a refusal', () => {
    const h = rateLimitHeaders({}, { ok: false, limit: 'concurrency', scope: { kind: 'key', id: 'k' }, retryAfterMs: 1, info: {} });
    expect(h).toEqual({ 'retry-after': '1' });
    expect(rateLimitHeaders({}, { ok: false, limit: 'rpm', scope: { kind: 'key', id: 'k' }, retryAfterMs: 20_000.5, info: {} })['retry-after']).toBe('21');
  });
});
