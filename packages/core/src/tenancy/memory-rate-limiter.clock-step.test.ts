/**
 * The limiter runs on a wall clock (`Date.now` in `createStateStores`), which NTP may step back. A clock behind a
 * bucket's time drains nothing and adds no debt: a step back costs at most the debt the bucket held.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import type { RateScope } from './types.js';

describe('MemoryRateLimiter and a wall clock stepped back', () => {
  it('a bucket full again for 10 minutes still admits after the wall clock steps back one hour (NTP step)', async () => {
    let now = Date.UTC(2026, 10, 27, 9, 0, 0);
    const limiter = new MemoryRateLimiter(() => now);
    const scope: RateScope = { kind: 'tenant', id: 'acme', limits: { rpm: 60 } };
    expect((await limiter.acquire([scope], { estimatedTokens: 0 })).ok).toBe(true);
    // One request charged, drained after 1 s; ten minutes pass, the bucket is full (peek agrees).
    now += 600_000;
    expect((await limiter.peek([scope])).remainingRequests).toBe(60);
    // The clock steps back one hour.
    now -= 3_600_000;
    const d = await limiter.acquire([scope], { estimatedTokens: 0 });
    expect({ ok: d.ok, retryAfterMs: d.ok ? 0 : d.retryAfterMs }).toEqual({ ok: true, retryAfterMs: 0 });
  });

  it('a full bucket stays full, not longer, after a step back: the debt held drains from the earlier time', async () => {
    let now = Date.UTC(2026, 10, 27, 9, 0, 0);
    const limiter = new MemoryRateLimiter(() => now);
    const scope: RateScope = { kind: 'tenant', id: 'acme', limits: { rpm: 6 } };
    for (let i = 0; i < 6; i++) expect((await limiter.acquire([scope], { estimatedTokens: 0 })).ok).toBe(true);
    now -= 3_600_000;
    // Still the 60 s of debt it held (a request frees up in 10 s), not an hour more.
    const refused = await limiter.acquire([scope], { estimatedTokens: 0 });
    expect({ ok: refused.ok, retryAfterMs: refused.ok ? 0 : refused.retryAfterMs }).toEqual({ ok: false, retryAfterMs: 10_000 });
    expect((await limiter.peek([scope])).resetRequestsMs).toBe(60_000);
    now += 10_000;
    expect((await limiter.acquire([scope], { estimatedTokens: 0 })).ok).toBe(true);
  });
});
