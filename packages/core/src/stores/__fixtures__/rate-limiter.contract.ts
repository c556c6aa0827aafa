import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { rateLimitHeaders } from '../../tenancy/rate-limit-headers.js';
import type { RateDecision, RateLimiter, RateScope } from '../../tenancy/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function granted(d: RateDecision): Extract<RateDecision, { ok: true }> {
  if (!d.ok) throw new Error(`expected a grant, got denied by ${d.limit}`);
  return d;
}
function denied(d: RateDecision): Extract<RateDecision, { ok: false }> {
  if (d.ok) throw new Error('expected a denial, got a grant');
  return d;
}

/**
 * Behaviour every RateLimiter has, with the real clock only: assertions bound times from the side
 * that a slow machine cannot break (a retry-after can only shrink as time passes).
 */
export function rateLimiterContract(label: string, make: () => Promise<{ limiter: RateLimiter; close(): Promise<void> }>): void {
  describe(`RateLimiter contract (${label})`, () => {
    let limiter: RateLimiter;
    let close: () => Promise<void>;
    let n = 0;
    const id = (s: string) => `${s}-${++n}-${Math.random().toString(36).slice(2, 8)}`;
    beforeEach(async () => {
      ({ limiter, close } = await make());
    });
    afterEach(async () => {
      await close();
    });

    it('enforces requests per minute with a retry-after', async () => {
      const scope: RateScope = { kind: 'tenant', id: id('rpm'), limits: { rpm: 3 } };
      const d1 = granted(await limiter.acquire([scope], { estimatedTokens: 0 }));
      expect(d1.info).toMatchObject({ limitRequests: 3, remainingRequests: 2 });
      granted(await limiter.acquire([scope], { estimatedTokens: 0 }));
      granted(await limiter.acquire([scope], { estimatedTokens: 0 }));
      const d = denied(await limiter.acquire([scope], { estimatedTokens: 0 }));
      expect(d.limit).toBe('rpm');
      expect(d.scope).toEqual({ kind: 'tenant', id: scope.id });
      // One request's worth (60 s / 3) must drain first.
      expect(d.retryAfterMs).toBeGreaterThan(10_000);
      expect(d.retryAfterMs).toBeLessThanOrEqual(20_000);
      expect(d.info.remainingRequests).toBe(0);
      const h = rateLimitHeaders(d.info, d);
      expect(h['x-ratelimit-limit']).toBe('3');
      expect(h['x-ratelimit-remaining']).toBe('0');
      expect(Number(h['retry-after'])).toBeGreaterThanOrEqual(11);
      expect(Number(h['retry-after'])).toBeLessThanOrEqual(20);
      expect(Number(h['x-ratelimit-reset'])).toBeLessThanOrEqual(60);
    });

    it('enforces tokens per minute and corrects the charge on release', async () => {
      const scope: RateScope = { kind: 'key', id: id('tpm'), limits: { tpm: 1000 } };
      const started = Date.now();
      const a = granted(await limiter.acquire([scope], { estimatedTokens: 600 }));
      expect(a.info.remainingTokens).toBeLessThanOrEqual(400);
      const d = denied(await limiter.acquire([scope], { estimatedTokens: 600 }));
      expect(d.limit).toBe('tpm');
      expect(d.retryAfterMs).toBeGreaterThan(6_000); // ~200 tokens at 1000/min = 12 s
      expect(d.retryAfterMs).toBeLessThanOrEqual(12_000);
      // The first request used only 100 tokens: 500 come back.
      await a.lease.release(100);
      granted(await limiter.acquire([scope], { estimatedTokens: 600 }));
      const remaining = (await limiter.peek([scope])).remainingTokens;
      // 1000 - 600 + 500 - 600, plus what refilled meanwhile (1 token per 60 ms: a loaded machine can take that
      // long); 100 tokens too many given back would show as 400.
      const refilled = Math.ceil(((Date.now() - started) * 1000) / 60_000);
      expect(remaining).toBeLessThanOrEqual(300 + refilled);
    });

    it('releaseAndPeek releases as release does and says what peek says right after (others counted)', async () => {
      const scopes: RateScope[] = [
        { kind: 'tenant', id: id('rap-t'), limits: { rpm: 10, tpm: 1000, maxConcurrency: 2 } },
        { kind: 'key', id: id('rap-k'), limits: { rpm: 5 } },
      ];
      const started = Date.now();
      const a = granted(await limiter.acquire(scopes, { estimatedTokens: 600 }));
      // Another request takes its place while the first runs: the answer counts it.
      const b = granted(await limiter.acquire(scopes, { estimatedTokens: 100 }));
      expect(a.lease.releaseAndPeek).toBeTypeOf('function');
      const after = await a.lease.releaseAndPeek!(50);
      const refilled = Math.ceil(((Date.now() - started) * 1000) / 60_000);
      // The key's 5 rpm is the tighter: 3 left. 1000 - 50 - 100 tokens; one slot free of two (b holds the other).
      expect(after).toMatchObject({ limitRequests: 5, remainingRequests: 3, limitConcurrency: 2, remainingConcurrency: 1 });
      expect(after.remainingTokens).toBeGreaterThanOrEqual(850);
      expect(after.remainingTokens).toBeLessThanOrEqual(850 + refilled);
      expect(await limiter.peek(scopes)).toMatchObject({ remainingRequests: 3, remainingConcurrency: 1 });
      // Released already: nothing freed or corrected twice, a peek.
      expect(await a.lease.releaseAndPeek!(50)).toMatchObject({ remainingConcurrency: 1, remainingRequests: 3 });
      await b.lease.release(100);
      expect((await limiter.peek(scopes)).remainingConcurrency).toBe(2);
    });

    it('admits one oversized request when idle and then makes it wait', async () => {
      const scope: RateScope = { kind: 'key', id: id('big'), limits: { tpm: 100 } };
      granted(await limiter.acquire([scope], { estimatedTokens: 250 }));
      const d = denied(await limiter.acquire([scope], { estimatedTokens: 1 }));
      expect(d.retryAfterMs).toBeGreaterThan(60_000); // the debt of 150 tokens is paid first
    });

    it('limits concurrency and frees a slot on release (once)', async () => {
      const scope: RateScope = { kind: 'tenant', id: id('conc'), limits: { maxConcurrency: 2 } };
      const a = granted(await limiter.acquire([scope], { estimatedTokens: 0 }));
      granted(await limiter.acquire([scope], { estimatedTokens: 0 }));
      const d = denied(await limiter.acquire([scope], { estimatedTokens: 0 }));
      expect(d.limit).toBe('concurrency');
      expect(d.retryAfterMs).toBeGreaterThan(0);
      expect(d.info).toMatchObject({ limitConcurrency: 2, remainingConcurrency: 0 });
      await a.lease.release();
      await a.lease.release(); // idempotent: does not free a second slot
      const c = granted(await limiter.acquire([scope], { estimatedTokens: 0 }));
      expect(c.info.remainingConcurrency).toBe(0);
      denied(await limiter.acquire([scope], { estimatedTokens: 0 }));
    });

    it('expires leases that are never released', async () => {
      const scope: RateScope = { kind: 'tenant', id: id('lease'), limits: { maxConcurrency: 1 } };
      granted(await limiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: 50 }));
      await sleep(200);
      granted(await limiter.acquire([scope], { estimatedTokens: 0 }));
    });

    it('checks all scopes and charges none when one refuses', async () => {
      const tenant: RateScope = { kind: 'tenant', id: id('t'), limits: { rpm: 10, tpm: 10_000 } };
      const key: RateScope = { kind: 'key', id: id('k'), limits: { rpm: 1 } };
      const g = granted(await limiter.acquire([tenant, key], { estimatedTokens: 100 }));
      expect(g.info.limitRequests).toBe(1); // the tighter scope speaks for the headers
      expect(g.info.remainingRequests).toBe(0);
      const d = denied(await limiter.acquire([tenant, key], { estimatedTokens: 100 }));
      expect(d.scope).toEqual({ kind: 'key', id: key.id });
      const t = await limiter.peek([tenant]);
      expect(t.remainingRequests).toBe(9); // the refused request charged the tenant nothing
      // 100 tokens charged once; refills at 1 token per 6 ms, so a little more may be back already.
      // A second (refused) charge would show as <= 9,800 plus the refill.
      expect(t.remainingTokens).toBeGreaterThanOrEqual(9_900);
      expect(t.remainingTokens).toBeLessThan(9_990);
    });

    it('grants everything when no limits are set', async () => {
      const scope: RateScope = { kind: 'tenant', id: id('free'), limits: {} };
      for (let i = 0; i < 20; i++) granted(await limiter.acquire([scope], { estimatedTokens: 1e6 }));
      expect(rateLimitHeaders((await limiter.peek([scope])))).toEqual({});
    });

    it('never grants more than the limit to concurrent callers', async () => {
      const scope: RateScope = { kind: 'tenant', id: id('burst'), limits: { rpm: 25, maxConcurrency: 1000 } };
      const results = await Promise.all(Array.from({ length: 100 }, () => limiter.acquire([scope], { estimatedTokens: 0 })));
      expect(results.filter((r) => r.ok)).toHaveLength(25);
    });

    it('rejects bad input with a typed error naming the field', async () => {
      const e = await limiter.acquire([{ kind: 'tenant', id: 'x', limits: { rpm: 0 } }], { estimatedTokens: 1 }).then(() => undefined, (x: unknown) => x);
      expect(LLMError.isInstance(e) && e.param).toBe('scopes.0.limits.rpm');
      const e2 = await limiter.acquire([], { estimatedTokens: -1 }).then(() => undefined, (x: unknown) => x);
      expect(LLMError.isInstance(e2) && e2.param).toBe('estimatedTokens');
    });
  });
}
