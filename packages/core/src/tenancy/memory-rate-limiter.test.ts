import { describe, expect, it } from 'vitest';
import { rateLimiterContract } from '../stores/__fixtures__/rate-limiter.contract.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import type { RateLimitInfo, RateScope } from './types.js';

/** The limiter's map of scopes (internal: its size is the memory the limiter holds). */
function slotsOf(limiter: MemoryRateLimiter): Map<string, unknown> {
  return (limiter as unknown as { slots: Map<string, unknown> }).slots;
}

/** Counts the walks of the limiter's map of scopes from now on (its sweeps). */
function countWalks(limiter: MemoryRateLimiter): () => number {
  const slots = slotsOf(limiter);
  let walks = 0;
  const iterate = slots[Symbol.iterator].bind(slots);
  slots[Symbol.iterator] = () => {
    walks++;
    return iterate();
  };
  return () => walks;
}

/** Acquires and gives back at once (no tokens used): `releasedInfo` computed before the release, and `peek` after it. */
async function releasedAndPeeked(limiter: MemoryRateLimiter, scopes: RateScope[], estimatedTokens: number): Promise<{ computed: RateLimitInfo; truth: RateLimitInfo }> {
  const d = await limiter.acquire(scopes, { estimatedTokens });
  if (!d.ok) throw new Error(`refused by ${d.limit}`);
  const computed = d.lease.releasedInfo!();
  await d.lease.release(0);
  return { computed, truth: await limiter.peek(scopes) };
}

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
    // Over 10 000 idle scopes (rpm buckets that are full again a second later) make the limiter sweep (in vain: none
    // is full yet), and the map grown by half again makes it sweep once they are.
    for (let i = 0; i < 10_050; i++) await limiter.acquire([{ kind: 'key', id: `idle${i}`, limits: { rpm: 60_000 } }], { estimatedTokens: 0 });
    now = 5_000;
    for (let i = 0; i < 5_000; i++) await limiter.acquire([{ kind: 'key', id: `late${i}`, limits: {} }], { estimatedTokens: 0 });
    expect(slotsOf(limiter).size).toBeLessThan(100);
    expect((await limiter.acquire([busy], { estimatedTokens: 0 })).ok).toBe(false);
    expect((await limiter.acquire([spent], { estimatedTokens: 0 })).ok).toBe(false);
    await t.lease.release(900);
    // 100 charged at 0 and 800 more at 5 s: (60 000 - (6 000 + 48 000 - 5 000)) / 60 = 183 left.
    expect((await limiter.peek([tokens])).remainingTokens).toBe(183);
    if (held.ok) await held.lease.release();
    expect((await limiter.acquire([busy], { estimatedTokens: 0 })).ok).toBe(true);
    expect(await limiter.peek([{ kind: 'key', id: 'idle0', limits: { rpm: 60_000 } }])).toMatchObject({ remainingRequests: 60_000 });
  });

  it('past 10 000 scopes in use, does not walk every scope on every request (a sweep that frees nothing is not repeated)', async () => {
    const now = 1_700_000_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    // 10 001 keys, each charged once (a bucket that is full again only after its drain time: still in use).
    for (let i = 0; i <= 10_000; i++) {
      const d = await limiter.acquire([{ kind: 'key', id: `k${i}`, limits: { rpm: 60 } }], { estimatedTokens: 0 });
      expect(d.ok).toBe(true);
    }
    const walks = countWalks(limiter);
    for (let i = 0; i < 1000; i++) {
      const d = await limiter.acquire([{ kind: 'key', id: `k${i}`, limits: { rpm: 1_000_000 } }], { estimatedTokens: 0 });
      expect(d.ok).toBe(true);
    }
    // 1000 requests, none of which can free a scope (the clock does not move): no walk at all.
    expect(walks()).toBe(0);
  });

  it('with scopes coming and going, keeps the map bounded by its sweeps, each after many new scopes', async () => {
    let now = 1_700_000_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    const walks = countWalks(limiter);
    const slots = slotsOf(limiter);
    let most = 0;
    // 30 000 keys, one per ms, each in use for a second (rpm 60): about 1000 in use at any time.
    for (let i = 0; i < 30_000; i++) {
      now++;
      expect((await limiter.acquire([{ kind: 'key', id: `k${i}`, limits: { rpm: 60 } }], { estimatedTokens: 0 })).ok).toBe(true);
      if (slots.size > most) most = slots.size;
    }
    // Swept each time it passed 10 000 (down to the ~1000 in use): about 9000 new keys between two walks.
    expect(most).toBeLessThanOrEqual(10_000);
    expect(walks()).toBe(3);
  });

  it('after a burst of 20 000 scopes, with traffic down to one scope, drops the idle ones within a minute (one walk)', async () => {
    let now = 1_700_000_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    // A burst: 20 000 keys at one time, each in use for a second (rpm 60).
    for (let i = 0; i < 20_000; i++) expect((await limiter.acquire([{ kind: 'key', id: `burst${i}`, limits: { rpm: 60 } }], { estimatedTokens: 0 })).ok).toBe(true);
    expect(slotsOf(limiter).size).toBe(20_000);
    const walks = countWalks(limiter);
    // A minute later every one of them is full again ("no entry"); one key keeps being used, 10 times a second.
    now += 60_000;
    for (let i = 0; i < 1_000; i++) {
      now += 100;
      expect((await limiter.acquire([{ kind: 'key', id: 'hot', limits: { rpm: 1_000 } }], { estimatedTokens: 0 })).ok).toBe(true);
    }
    // No new scope came (the map did not grow by half), yet the sweep a minute after the last one dropped them.
    expect(slotsOf(limiter).size).toBe(1);
    expect(walks()).toBe(1);
  });
});

describe('MemoryRateLimiter: a lease\'s releasedInfo is what the limiter says once it is given back with no tokens', () => {
  it('for a tenant and a key: the request counted, its slot free, its tokens refunded (tokens in use, a charge past the minute)', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    const scopes: RateScope[] = [
      { kind: 'tenant', id: 't', limits: { rpm: 10, tpm: 1_000, maxConcurrency: 3 } },
      { kind: 'key', id: 'k', limits: { tpm: 600, maxConcurrency: 2 } },
    ];
    // Earlier calls: 300 tokens used 7 s ago, one still in flight.
    const used = await limiter.acquire(scopes, { estimatedTokens: 300 });
    if (!used.ok) throw new Error('refused');
    await used.lease.release(300);
    now += 7_000;
    expect((await limiter.acquire(scopes, { estimatedTokens: 0 })).ok).toBe(true);
    // Within the minute (200 tokens), then past the key's whole minute (a full bucket admits it: 5 minutes later).
    for (const [estimatedTokens, wait] of [
      [200, 0],
      [5_000, 300_000],
    ] as const) {
      now += wait;
      const { computed, truth } = await releasedAndPeeked(limiter, scopes, estimatedTokens);
      expect(computed, String(estimatedTokens)).toEqual(truth);
      expect(computed.remainingConcurrency, String(estimatedTokens)).toBe(1);
    }
  });

  it('the tokens\' reset to the ms, not a reset already rounded less the refund (tpm 7: 2 tokens used, a 1-token charge 143 ms later)', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    const scopes: RateScope[] = [{ kind: 'key', id: 'k', limits: { tpm: 7 } }];
    const used = await limiter.acquire(scopes, { estimatedTokens: 2 });
    if (!used.ok) throw new Error('refused');
    await used.lease.release(2);
    now += 143;
    const { computed, truth } = await releasedAndPeeked(limiter, scopes, 1);
    // 2 tokens of tpm 7 drain in 17 142.86 ms: 17 000 ms left, 17 s (the acquire's reset rounded up, less the
    // refund's drain, was 17 001: 18 s).
    expect(truth.resetTokensMs).toBe(17_000);
    expect(computed).toEqual(truth);
    expect(rateLimitHeaders(computed)['x-ratelimit-reset-tokens']).toBe('17');
  });

  it('of a tenant and a key with as few tokens left after the refund, names the one the limiter names (full again last), not the acquire\'s', async () => {
    const now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    const tenant: RateScope = { kind: 'tenant', id: 't', limits: { tpm: 100 } };
    const key: RateScope = { kind: 'key', id: 'k', limits: { tpm: 200 } };
    // 90 tokens used in both, 100 more in the key alone: after a 10-token charge neither has any left (a tie the
    // acquire's info gives the tenant), after its refund both have 10 left, the key full again last (57 s, not 54 s).
    for (const [scopes, tokens] of [
      [[tenant, key], 90],
      [[key], 100],
    ] as const) {
      const d = await limiter.acquire([...scopes], { estimatedTokens: tokens });
      if (!d.ok) throw new Error('refused');
      await d.lease.release(tokens);
    }
    const d = await limiter.acquire([tenant, key], { estimatedTokens: 10 });
    if (!d.ok) throw new Error('refused');
    expect(d.info).toMatchObject({ limitTokens: 100, remainingTokens: 0 });
    const computed = d.lease.releasedInfo!();
    await d.lease.release(0);
    expect(computed).toEqual({ limitTokens: 200, remainingTokens: 10, resetTokensMs: 57_000 });
    expect(computed).toEqual(await limiter.peek([tenant, key]));
  });
});
