/**
 * A limit raised mid-minute keeps the time the bucket still needs to drain, rescaled to the new limit in exact
 * integers (see `mulDivCeil` in `gcra.ts`): a whole result is never pushed up by a rounding error, which would cost
 * a unit of the new limit (Remaining one lower, the last request of the minute refused).
 */
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import type { RateScope } from './types.js';

describe('MemoryRateLimiter: a limit raised mid-minute', () => {
  it('rpm 11 with 1 request used, raised to 22 (the clock still): 1/11 of the minute is 2 of 22, so 20 remain and 20 are admitted', async () => {
    const now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    const before: RateScope = { kind: 'tenant', id: 'acme', limits: { rpm: 11 } };
    expect((await limiter.acquire([before], { estimatedTokens: 0 })).ok).toBe(true);
    const after: RateScope = { kind: 'tenant', id: 'acme', limits: { rpm: 22 } };
    expect((await limiter.peek([after])).remainingRequests).toBe(20);
    let admitted = 0;
    for (let i = 0; i < 21; i++) if ((await limiter.acquire([after], { estimatedTokens: 0 })).ok) admitted++;
    expect(admitted).toBe(20);
  });

  it('tpm 9 with 5 tokens used, raised to 27: 5/9 of the minute is 15 of 27, so 12 tokens remain and fit', async () => {
    const now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    expect((await limiter.acquire([{ kind: 'tenant', id: 'acme', limits: { tpm: 9 } }], { estimatedTokens: 5 })).ok).toBe(true);
    const after: RateScope = { kind: 'tenant', id: 'acme', limits: { tpm: 27 } };
    expect((await limiter.peek([after])).remainingTokens).toBe(12);
    const d = await limiter.acquire([after], { estimatedTokens: 12 });
    expect(d.ok ? 'admitted' : `refused, retry in ${d.retryAfterMs} ms`).toBe('admitted');
  });
});
