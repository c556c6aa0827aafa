/**
 * What `RateLease.releaseAndPeek` of core's Redis limiter sends to Redis. A lease whose release has nothing to do there
 * (no concurrency slot to free, no token charge to correct: an rpm-only limit, or a tpm charge the call used exactly)
 * sends nothing, as its `release` does: its answer is the acquire's numbers as the release leaves them
 * (`releasedInfo`, its token charge kept). Before, such a lease ran the release-and-read script anyway: a non-streamed
 * gateway call of an rpm-only tenant cost two Redis round trips, not one. A lease that has something to release still
 * reads what is left in that same script (one command). Real Redis (vitest.global-setup.ts), every command counted.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import type { RateScope } from '../../tenancy/types.js';
import { connectRedis } from './redis-connection.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

const { redisUrl } = testServiceUrls();

describe.skipIf(!redisUrl)('RedisRateLimiter: releaseAndPeek round trips', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    cleanup = [];
  });

  /** A limiter on its own key prefix; `sent` lists each command it sends from now on (a script as `script`). */
  async function limiter() {
    const handle = await connectRedis(redisUrl!, `rap-rt${Date.now()}${Math.random()}:`);
    const l = new RedisRateLimiter(handle, { timeoutMs: 5_000 });
    cleanup.push(() => l.close());
    const sent: string[] = [];
    const evalOf = handle.eval.bind(handle);
    const commandOf = handle.command.bind(handle);
    vi.spyOn(handle, 'eval').mockImplementation((...a: Parameters<typeof handle.eval>) => (sent.push('script'), evalOf(...a)));
    vi.spyOn(handle, 'command').mockImplementation((...a: Parameters<typeof handle.command>) => (sent.push(String(a[0][0])), commandOf(...a)));
    return { limiter: l, sent };
  }

  it('an rpm-only lease: nothing sent, the request counted in the answer', async () => {
    const { limiter: l, sent } = await limiter();
    const scopes: RateScope[] = [
      { kind: 'tenant', id: 'acme', limits: { rpm: 10 } },
      { kind: 'key', id: 'k', limits: { rpm: 5 } },
    ];
    const a = await l.acquire(scopes, { estimatedTokens: 300 });
    if (!a.ok) throw new Error('refused');
    sent.length = 0;
    const info = await a.lease.releaseAndPeek!(120);
    expect(sent).toEqual([]);
    expect(info).toEqual(await l.peek(scopes).then((p) => ({ ...p, resetRequestsMs: info.resetRequestsMs })));
    expect(info).toMatchObject({ limitRequests: 5, remainingRequests: 4 });
    // Released: its request stays counted, a second acquire sees it.
    const b = await l.acquire(scopes, { estimatedTokens: 0 });
    expect(b.ok && b.info.remainingRequests).toBe(3);
  });

  it('a tpm lease used exactly as charged (or with no count): nothing sent, its charge kept in the answer', async () => {
    const { limiter: l, sent } = await limiter();
    const scopes: RateScope[] = [{ kind: 'tenant', id: 'acme', limits: { rpm: 10, tpm: 60_000 } }];
    for (const used of [400, undefined]) {
      const a = await l.acquire(scopes, { estimatedTokens: 400 });
      if (!a.ok) throw new Error('refused');
      sent.length = 0;
      const info = await a.lease.releaseAndPeek!(used);
      expect(sent).toEqual([]);
      const peek = await l.peek(scopes);
      // The charge kept (not refunded as `releasedInfo` of a `release(0)` says): what peek says, give or take the refill since.
      expect(info.remainingTokens).toBeLessThanOrEqual(peek.remainingTokens!);
      expect(peek.remainingTokens! - info.remainingTokens!).toBeLessThan(400);
    }
  });

  it('an invalid count on a lease with nothing to release: rejected, nothing sent, released all the same', async () => {
    const { limiter: l, sent } = await limiter();
    // A tpm limit: the invalid count corrects nothing, so nothing is sent; a release of the lease not released would
    // send the script that corrects its charge to another count.
    const scopes: RateScope[] = [{ kind: 'tenant', id: 'acme', limits: { rpm: 10, tpm: 60_000 } }];
    const a = await l.acquire(scopes, { estimatedTokens: 400 });
    if (!a.ok) throw new Error('refused');
    sent.length = 0;
    await expect(a.lease.releaseAndPeek!(-1)).rejects.toThrow();
    expect(sent).toEqual([]);
    // Released: a later release with another count sends nothing (its charge stays as taken).
    await a.lease.release(100);
    expect(sent).toEqual([]);
    expect((await l.peek(scopes)).remainingTokens).toBeLessThanOrEqual(60_000 - 400 + 60);
  });

  it('an rpm-only lease held over a second, or asked fresh: read (one script), the requests others made meanwhile counted', async () => {
    const { limiter: l, sent } = await limiter();
    const scopes: RateScope[] = [{ kind: 'tenant', id: 'acme', limits: { rpm: 10 } }];
    const take = async () => {
      const a = await l.acquire(scopes, { estimatedTokens: 0 });
      if (!a.ok) throw new Error('refused');
      return a.lease;
    };
    // Fresh: another request took a place meanwhile, counted (10 - 2; one comes back each 6 s).
    const asked = await take();
    await take();
    sent.length = 0;
    expect(await asked.releaseAndPeek!(undefined, true)).toMatchObject({ remainingRequests: 8 });
    expect(sent).toEqual(['script']);
    // Held briefly, not fresh: the acquire's numbers (this lease's request, not the other's).
    const brief = await take();
    await take();
    sent.length = 0;
    expect(await brief.releaseAndPeek!()).toMatchObject({ remainingRequests: 7 });
    expect(sent).toEqual([]);
    // Held past a second (a lower bound only): read.
    const held = await take();
    await take();
    await new Promise((r) => setTimeout(r, 1_100));
    sent.length = 0;
    const info = await held.releaseAndPeek!();
    expect(sent).toEqual(['script']);
    // What Redis says, the other request counted (its acquire's numbers said 5 left).
    expect(info).toEqual(await l.peek(scopes).then((p) => ({ ...p, resetRequestsMs: info.resetRequestsMs })));
  });

  // The release is done before the read: a read that fails answers the acquire's numbers rather than rejecting (a
  // rejection read as a failed release: logged as one, a retry queued, and a 402's headers read a second time).
  it('an rpm-only lease asked fresh whose read fails: the acquire\'s numbers, released, not a rejection', async () => {
    const { limiter: l } = await limiter();
    const scopes: RateScope[] = [{ kind: 'tenant', id: 'acme', limits: { rpm: 10 } }];
    const a = await l.acquire(scopes, { estimatedTokens: 0 });
    if (!a.ok) throw new Error('refused');
    vi.spyOn(l, 'peek').mockRejectedValueOnce(new Error('Redis did not answer'));
    await expect(a.lease.releaseAndPeek!(undefined, true)).resolves.toMatchObject({ remainingRequests: 9 });
    expect(l.peek).toHaveBeenCalledTimes(1);
  });

  it('a lease with a slot or a token correction: one script, which releases and reads', async () => {
    const { limiter: l, sent } = await limiter();
    for (const limits of [{ rpm: 10, maxConcurrency: 2 }, { rpm: 10, tpm: 60_000 }]) {
      const scopes: RateScope[] = [{ kind: 'tenant', id: `acme${Object.keys(limits).join('')}`, limits }];
      const a = await l.acquire(scopes, { estimatedTokens: 400 });
      if (!a.ok) throw new Error('refused');
      sent.length = 0;
      const info = await a.lease.releaseAndPeek!(100);
      // (Not the UNLINK of the release's marker, not awaited, after a token correction; nor the EVAL a script's first
      // run falls back to, NOSCRIPT, once per server.)
      expect(sent.filter((c) => c !== 'UNLINK' && c !== 'EVAL')).toEqual(['script']);
      expect(info.remainingRequests).toBe(9);
      if (limits.maxConcurrency) expect(info.remainingConcurrency).toBe(2);
      else expect(info.remainingTokens).toBeGreaterThanOrEqual(60_000 - 100);
    }
  });
});
