import { describe, expect, it } from 'vitest';
import { rateLimiterContract } from '../stores/__fixtures__/rate-limiter.contract.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import type { RateScope } from './types.js';

rateLimiterContract('memory', async () => {
  const limiter = new MemoryRateLimiter();
  return { limiter, close: () => limiter.close() };
});

describe('MemoryRateLimiter with a controlled clock', () => {
  it('refills rpm continuously (GCRA), with no window-edge burst', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    const scope: RateScope = { kind: 'tenant', id: 't', limits: { rpm: 6 } }; // one per 10 s
    for (let i = 0; i < 6; i++) expect((await limiter.acquire([scope], { estimatedTokens: 0 })).ok).toBe(true);
    const d = await limiter.acquire([scope], { estimatedTokens: 0 });
    expect(d.ok ? -1 : d.retryAfterMs).toBe(10_000);
    now += 9_999;
    expect((await limiter.acquire([scope], { estimatedTokens: 0 })).ok).toBe(false);
    now += 1;
    expect((await limiter.acquire([scope], { estimatedTokens: 0 })).ok).toBe(true);
    expect((await limiter.acquire([scope], { estimatedTokens: 0 })).ok).toBe(false);
    // A fixed window lets 12 through in a moment across a minute boundary; GCRA at most 6 at once, however long
    // the bucket was idle (any 60 s may still see up to 2 x 6 - 1: the burst, then one every 10 s).
    now += 60_000;
    let granted = 0;
    for (let i = 0; i < 20; i++) if ((await limiter.acquire([scope], { estimatedTokens: 0 })).ok) granted++;
    expect(granted).toBe(6);
  });

  it('reports reset as the time until the bucket is full again', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(() => now);
    const scope: RateScope = { kind: 'key', id: 'k', limits: { rpm: 60, tpm: 600 } };
    const d = await limiter.acquire([scope], { estimatedTokens: 300 });
    expect(d.info).toEqual({ limitRequests: 60, remainingRequests: 59, resetRequestsMs: 1_000, limitTokens: 600, remainingTokens: 300, resetTokensMs: 30_000 });
    now = 15_000;
    expect(await limiter.peek([scope])).toMatchObject({ remainingRequests: 60, resetRequestsMs: 0, remainingTokens: 450, resetTokensMs: 15_000 });
  });

  it('with no request left in the tenant nor the key, reports the reset of the one that is full again last', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    const tenant: RateScope = { kind: 'tenant', id: 't', limits: { rpm: 2 } }; // one per 30 s
    const key: RateScope = { kind: 'key', id: 'a', limits: { rpm: 1 } }; // one per 60 s
    // Another key of the tenant (no limit of its own) takes one request; key `a` takes the other 10 s later.
    expect((await limiter.acquire([tenant], { estimatedTokens: 0 })).ok).toBe(true);
    now += 10_000;
    const d = await limiter.acquire([tenant, key], { estimatedTokens: 0 });
    expect(d.ok).toBe(true);
    // The tenant is full again in 50 s, the key in 60 s: both have none left; the headers must not promise the
    // tenant's 50 s, after which key `a` is still refused.
    expect(d.info).toMatchObject({ limitRequests: 1, remainingRequests: 0, resetRequestsMs: 60_000 });
    expect(await limiter.peek([tenant, key])).toMatchObject({ limitRequests: 1, remainingRequests: 0, resetRequestsMs: 60_000 });
    now += 50_000;
    const refused = await limiter.acquire([tenant, key], { estimatedTokens: 0 });
    expect(refused.ok ? 0 : refused.retryAfterMs).toBe(10_000);
  });

  it('charges more on release when the actual tokens exceed the estimate', async () => {
    const now = 0;
    const limiter = new MemoryRateLimiter(() => now);
    const scope: RateScope = { kind: 'key', id: 'k', limits: { tpm: 1_000 } };
    const d = await limiter.acquire([scope], { estimatedTokens: 100 });
    if (!d.ok) throw new Error('denied');
    await d.lease.release(700);
    expect((await limiter.peek([scope])).remainingTokens).toBe(300);
  });

  it('expires leases by the clock', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(() => now);
    const scope: RateScope = { kind: 'tenant', id: 'c', limits: { maxConcurrency: 1 } };
    expect((await limiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: 1_000 })).ok).toBe(true);
    now = 999;
    expect((await limiter.acquire([scope], { estimatedTokens: 0 })).ok).toBe(false);
    now = 1_000;
    expect((await limiter.acquire([scope], { estimatedTokens: 0 })).ok).toBe(true);
  });

  it('keeps live state through the sweep of idle scopes (held leases, spent buckets, tpm corrections)', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(() => now);
    const busy: RateScope = { kind: 'tenant', id: 'busy', limits: { maxConcurrency: 1 } };
    const spent: RateScope = { kind: 'key', id: 'spent', limits: { rpm: 1 } };
    const tokens: RateScope = { kind: 'key', id: 'tokens', limits: { tpm: 1_000 } };
    const held = await limiter.acquire([busy], { estimatedTokens: 0 });
    expect(held.ok).toBe(true);
    expect((await limiter.acquire([spent], { estimatedTokens: 0 })).ok).toBe(true);
    const t = await limiter.acquire([tokens], { estimatedTokens: 100 });
    if (!t.ok) throw new Error('denied');
    // Over 10 000 idle scopes (rpm buckets that are full again a second later) make the limiter sweep.
    for (let i = 0; i < 10_050; i++) await limiter.acquire([{ kind: 'key', id: `idle${i}`, limits: { rpm: 60_000 } }], { estimatedTokens: 0 });
    now = 5_000;
    await limiter.acquire([{ kind: 'key', id: 'last', limits: {} }], { estimatedTokens: 0 });
    expect((await limiter.acquire([busy], { estimatedTokens: 0 })).ok).toBe(false);
    expect((await limiter.acquire([spent], { estimatedTokens: 0 })).ok).toBe(false);
    await t.lease.release(900);
    // 100 charged at 0 and 800 more at 5 s: (60 000 - (6 000 + 48 000 - 5 000)) / 60 = 183 left.
    expect((await limiter.peek([tokens])).remainingTokens).toBe(183);
    if (held.ok) await held.lease.release();
    expect((await limiter.acquire([busy], { estimatedTokens: 0 })).ok).toBe(true);
    expect(await limiter.peek([{ kind: 'key', id: 'idle0', limits: { rpm: 60_000 } }])).toMatchObject({ remainingRequests: 60_000 });
  });
});
