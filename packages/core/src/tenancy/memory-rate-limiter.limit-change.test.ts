/**
 * A changed limit keeps the time a bucket still needs to drain (see `gcra.ts`), so a bucket is full again at the
 * same time whatever its limit becomes. The sweep of idle scopes (over 10 000 slots) drops only full buckets: what
 * a scope is admitted never depends on how many other scopes the limiter holds.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import type { RateScope } from './types.js';

/** Over 10 000 other scopes (or half as many again as the last sweep kept, or a minute after it): the limiter sweeps the idle ones. */
async function crowd(limiter: MemoryRateLimiter, tag: string): Promise<void> {
  for (let i = 0; i < 10_002; i++) await limiter.acquire([{ kind: 'key', id: `${tag}${i}`, limits: { rpm: 1000 } }], { estimatedTokens: 0 });
}

describe('MemoryRateLimiter: a changed limit and the sweep of idle scopes', () => {
  it('a lowered tpm keeps the time still to drain, with or without a sweep', async () => {
    let now = 1_000_000;
    const swept = new MemoryRateLimiter(() => now);
    const quiet = new MemoryRateLimiter(() => now);
    const before: RateScope = { kind: 'tenant', id: 'acme', limits: { tpm: 60_000 } };
    const after: RateScope = { kind: 'tenant', id: 'acme', limits: { tpm: 1_000 } };
    // The whole minute used at tpm 60 000: 60 s to drain.
    for (const l of [swept, quiet]) expect((await l.acquire([before], { estimatedTokens: 60_000 })).ok).toBe(true);
    // Lowered to 1000 tpm 30 s later: 30 s still to drain, half the new minute (500 tokens).
    now += 30_000;
    await crowd(swept, 'a');
    for (const l of [swept, quiet]) {
      expect((await l.peek([after])).remainingTokens).toBe(500);
      const d = await l.acquire([after], { estimatedTokens: 600 });
      expect({ ok: d.ok, retryAfterMs: d.ok ? 0 : d.retryAfterMs }).toEqual({ ok: false, retryAfterMs: 6_000 });
    }
    // 60 s after the charge the bucket is full under either limit.
    now += 30_000;
    await crowd(swept, 'b');
    for (const l of [swept, quiet]) {
      expect((await l.peek([after])).remainingTokens).toBe(1_000);
      expect((await l.acquire([after], { estimatedTokens: 1_000 })).ok).toBe(true);
    }
  });

  it('a charge drained under the old limit is not debt under the new one, with or without a sweep', async () => {
    let now = 1_000_000;
    const swept = new MemoryRateLimiter(() => now);
    const quiet = new MemoryRateLimiter(() => now);
    // 60 000 000 tpm: 1000 tokens drain in 1 ms.
    const before: RateScope = { kind: 'tenant', id: 'acme', limits: { tpm: 60_000_000 } };
    const after: RateScope = { kind: 'tenant', id: 'acme', limits: { tpm: 1_000 } };
    for (const l of [swept, quiet]) expect((await l.acquire([before], { estimatedTokens: 1_000 })).ok).toBe(true);
    now += 2;
    await crowd(swept, 'a');
    const got = [];
    for (const l of [swept, quiet]) got.push([(await l.peek([after])).remainingTokens, (await l.acquire([after], { estimatedTokens: 1_000 })).ok]);
    expect(got).toEqual([
      [1_000, true],
      [1_000, true],
    ]);
  });
});
