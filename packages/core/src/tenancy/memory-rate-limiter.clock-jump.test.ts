/**
 * A wall clock that jumps forward (NTP correcting a drifted host, a VM resumed after a pause, an operator setting the
 * date) by more than the lease TTL must not free the concurrency places of calls still running: a lease expires on
 * the limiter's monotonic clock (`monotonicClock`; `performance.now()` by default), while the wall clock keeps timing
 * the rpm/tpm buckets. Each clock is injected here; the wall clock jumps, the monotonic one moves by what really passed.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import type { RateScope } from './types.js';

const TTL = 600_000;

function clocks() {
  const c = { wall: Date.UTC(2026, 10, 29, 3, 0, 0), mono: 1_000 };
  return { c, limiter: new MemoryRateLimiter(() => c.wall, { monotonicClock: () => c.mono }) };
}

const scope: RateScope = { kind: 'tenant', id: 'acme', limits: { maxConcurrency: 1 } };

describe('MemoryRateLimiter leases and a wall clock that jumps forward', () => {
  it('a call running when the wall clock jumps 15 minutes keeps its concurrency place', async () => {
    const { c, limiter } = clocks();
    const first = await limiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: TTL });
    expect(first.ok).toBe(true);
    c.wall += 15 * 60_000; // the jump; 1 s really passed
    c.mono += 1_000;
    const second = await limiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: TTL });
    expect(second).toMatchObject({ ok: false, limit: 'concurrency' });
    expect((await limiter.peek([scope])).remainingConcurrency).toBe(0);
  });

  it('a renewal after the jump still finds the lease held and extends it; it expires a TTL after the renewal (monotonic)', async () => {
    const { c, limiter } = clocks();
    const first = await limiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: TTL });
    if (!first.ok) throw new Error('refused');
    c.wall += 15 * 60_000;
    c.mono += 200_000;
    await limiter.renew([first.lease]);
    c.mono += TTL - 1; // just short of the renewed TTL
    expect(await limiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: TTL })).toMatchObject({ ok: false, limit: 'concurrency' });
    c.mono += 1; // the TTL since the renewal really passed: a crashed call's place is free again
    expect((await limiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: TTL })).ok).toBe(true);
  });

  it('the wall clock still times the request buckets (a jump forward refills rpm)', async () => {
    const { c, limiter } = clocks();
    const rpm: RateScope = { kind: 'key', id: 'k', limits: { rpm: 1 } };
    expect((await limiter.acquire([rpm], { estimatedTokens: 0 })).ok).toBe(true);
    expect((await limiter.acquire([rpm], { estimatedTokens: 0 })).ok).toBe(false);
    c.wall += 60_000;
    expect((await limiter.acquire([rpm], { estimatedTokens: 0 })).ok).toBe(true);
  });

  it('with only an injected clock, that clock also times the leases (as before: tests that move it expire them)', async () => {
    let now = Date.UTC(2026, 10, 29, 3, 0, 0);
    const limiter = new MemoryRateLimiter(() => now);
    expect((await limiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: TTL })).ok).toBe(true);
    now += TTL;
    expect((await limiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: TTL })).ok).toBe(true);
  });
});
