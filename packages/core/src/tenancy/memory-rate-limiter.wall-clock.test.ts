/**
 * The in-process limiter at real wall-clock times (epoch ms, as `Date.now()` gives them, not 0): a burst into an
 * idle bucket admits exactly the limit whatever the limit, X-RateLimit-Remaining says what is then admitted, and
 * any 60 s sees at most 2 x limit - 1 requests (a full burst, then the continuous refill), limit per minute after.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import type { RateScope } from './types.js';

// One rounding step of a double here is about 2.4e-4 ms: TATs built by adding 60000 / limit drifted.
const NOW = Date.UTC(2026, 10, 27, 8, 50, 0, 123);

async function burst(limiter: MemoryRateLimiter, scope: RateScope, tokens: number, n: number) {
  const out: Array<{ ok: boolean; remainingRequests?: number; remainingTokens?: number }> = [];
  for (let i = 0; i < n; i++) {
    const d = await limiter.acquire([scope], { estimatedTokens: tokens });
    out.push({ ok: d.ok, remainingRequests: d.info.remainingRequests, remainingTokens: d.info.remainingTokens });
  }
  return out;
}

describe('MemoryRateLimiter at a real wall-clock time', () => {
  it('admits a burst of exactly rpm requests when rpm does not divide 60000 (rpm 9), and the header agrees', async () => {
    const limiter = new MemoryRateLimiter(() => NOW);
    const scope: RateScope = { kind: 'key', id: 'k', limits: { rpm: 9 } };
    const got = await burst(limiter, scope, 0, 10);
    expect(got.filter((d) => d.ok).length).toBe(9);
    expect(got.map((d) => d.remainingRequests)).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0, 0]);
  });

  it('admits exactly rpm requests in a burst for every rpm from 1 to 200', async () => {
    const short: number[] = [];
    for (let rpm = 1; rpm <= 200; rpm++) {
      const limiter = new MemoryRateLimiter(() => NOW);
      const got = await burst(limiter, { kind: 'key', id: 'k', limits: { rpm } }, 0, rpm + 1);
      if (got.filter((d) => d.ok).length !== rpm || got[0]!.remainingRequests !== rpm - 1) short.push(rpm);
    }
    expect(short).toEqual([]);
  });

  it('admits tpm / cost calls of the same cost, and X-RateLimit-Remaining-Tokens agrees (tpm 9000, 1000 per call)', async () => {
    const limiter = new MemoryRateLimiter(() => NOW);
    const scope: RateScope = { kind: 'key', id: 'k', limits: { tpm: 9_000 } };
    const got = await burst(limiter, scope, 1_000, 10);
    expect(got[0]!.remainingTokens).toBe(8_000);
    expect(got.filter((d) => d.ok).length).toBe(9);
  });

  it('lets at most 2 x rpm - 1 through in any 60 s (burst, then refill), and rpm per minute after the burst', async () => {
    let now = NOW;
    const limiter = new MemoryRateLimiter(() => now);
    const rpm = 6;
    const scope: RateScope = { kind: 'key', id: 'k', limits: { rpm } };
    // A client that opens with a burst, then tries once a second for ten minutes.
    const admittedAt: number[] = [];
    for (let i = 0; i < 10; i++) if ((await limiter.acquire([scope], { estimatedTokens: 0 })).ok) admittedAt.push(0);
    for (let t = 1_000; t < 600_000; t += 1_000) {
      now = NOW + t;
      if ((await limiter.acquire([scope], { estimatedTokens: 0 })).ok) admittedAt.push(t);
    }
    // The most in any 60 s span [a, a + 60 000) (a span with the most starts at an admission).
    const most = Math.max(...admittedAt.map((a) => admittedAt.filter((t) => t >= a && t < a + 60_000).length));
    expect(most).toBe(2 * rpm - 1);
    // Each whole minute after the first: exactly rpm (one every 10 s).
    for (let m = 1; m < 10; m++) expect(admittedAt.filter((t) => t >= m * 60_000 && t < (m + 1) * 60_000).length).toBe(rpm);
  });
});
