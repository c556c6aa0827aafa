/**
 * The Redis rate limiter answers as the memory limiter (the reference, `tenancy/gcra.ts`) for the same calls at the
 * same clock reading: the same decisions, waits (whole ms, rounded up) and headers, under limits that change between
 * calls (the level rescaled in exact integers by the Lua copy of `mulDivCeil`), for a cost far past the limit (a
 * year's debt at most, an expiry Redis takes), and with concurrency leases of different TTLs (the lease set never
 * expires before its longest lease); a lease's `releasedInfo` too.
 */
import { describe, expect, it } from 'vitest';
import { GCRA_MAX_DRAIN_MS, gcraLevel } from '../../tenancy/gcra.js';
import { MemoryRateLimiter } from '../../tenancy/memory-rate-limiter.js';
import type { RateDecision, RateLease, RateScope } from '../../tenancy/types.js';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { ACQUIRE_SCRIPT, PEEK_SCRIPT } from './rate-limit-scripts.js';
import { connectRedis, type RedisHandle } from './redis-connection.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

const redisUrl = testServiceUrls().redisUrl;

/** A Redis limiter, and the Redis clock reading (ms) of its last acquire or peek (from the script's reply). */
async function open(tag: string): Promise<{ handle: RedisHandle; redis: RedisRateLimiter; redisNow: () => number }> {
  const handle = await connectRedis(redisUrl!, `rl-${tag}${Date.now()}:`);
  let last = Number.NaN;
  const evaluate = handle.eval.bind(handle);
  handle.eval = async <T>(...args: Parameters<RedisHandle['eval']>): Promise<T> => {
    const reply = await evaluate<T>(...args);
    // ACQUIRE answers { granted, kind, scope, retryAfterMs, now, ... }; PEEK { now, then 3 per scope }.
    if (args[0] === ACQUIRE_SCRIPT) last = Number((reply as string[])[4]);
    else if (args[0] === PEEK_SCRIPT) last = Number((reply as string[])[0]);
    return reply;
  };
  return { handle, redis: new RedisRateLimiter(handle), redisNow: () => last };
}

/** What a decision shows a caller. */
const shown = (d: RateDecision) => (d.ok ? { ok: true, info: d.info } : { ok: false, limit: d.limit, scope: d.scope, retryAfterMs: d.retryAfterMs, info: d.info });

describe.skipIf(!redisUrl)('Redis rate limiter answers as the memory limiter', () => {
  it('a random sequence of calls under changing limits: the same decisions and headers at the same clock reading', { timeout: 60_000 }, async () => {
    const { redis, redisNow } = await open('seq');
    let now = Number.NaN;
    const memory = new MemoryRateLimiter(() => now);
    let seed = 12_345;
    const rand = (n: number) => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
    const held: Array<[RateLease, RateLease]> = [];
    let admitted = 0;
    let refused = 0;
    try {
      for (let step = 0; step < 400; step++) {
        // Limits that change between calls (the buckets rescaled each time), with little room left so both answers come.
        const tenant: RateScope = { kind: 'tenant', id: 'acme', limits: { rpm: pick([110, 220, 70, 33]), tpm: pick([900, 2_700, 10_000, 60_001]), maxConcurrency: pick([2, 3]) } };
        const key: RateScope = { kind: 'key', id: 'k1', limits: { rpm: pick([50, 100, 130]), tpm: pick([1_000, 3_001]) } };
        const scopes = rand(3) === 0 ? [key] : [tenant, key];
        if (rand(10) === 0) {
          const r = await redis.peek(scopes);
          now = redisNow();
          expect({ step, info: await memory.peek(scopes) }).toEqual({ step, info: r });
          continue;
        }
        const options = { estimatedTokens: pick([0, 1, 5, 12, 90, 299, 700]), leaseTtlMs: pick([3, 20, 600_000]) };
        const r = await redis.acquire(scopes, options);
        now = redisNow();
        const m = await memory.acquire(scopes, options);
        expect({ step, ...shown(m) }).toEqual({ step, ...shown(r) });
        if (r.ok && m.ok) {
          // What is left once the lease is given back with no tokens, from the states the acquire read: the same.
          expect({ step, released: r.lease.releasedInfo!() }).toEqual({ step, released: m.lease.releasedInfo!() });
          admitted++;
          held.push([r.lease, m.lease]);
        } else refused++;
        // Leases end in any order (a release with no count corrects no tokens: no clock involved).
        if (held.length > 0 && rand(2) === 0) {
          const [rl, ml] = held.splice(rand(held.length), 1)[0]!;
          await rl.release();
          await ml.release();
        }
      }
      // The sequence covered both answers.
      expect(admitted).toBeGreaterThan(20);
      expect(refused).toBeGreaterThan(20);
    } finally {
      await redis.close();
    }
  });

  it('a limit changed mid-minute is rescaled in exact integers as in memory, large limits too', async () => {
    const { handle, redis, redisNow } = await open('rescale');
    try {
      // Buckets stored with a time ahead of the clock drain nothing (see `gcraRebase`): the rescale alone is compared.
      const cases: Array<[level: number, was: number, limit: number]> = [
        [60_000, 11, 22],
        [5 * 60_000, 9, 27],
        [120_000, 3, 7],
        [7 * 60_000, 100, 61],
        [150e6 * 60_000 * 0.5 + 12_345, 150e6, 200e6],
        [199_999_999 * 30_000 - 1, 199_999_999, 150_000_001],
      ];
      for (let was = 2; was <= 24; was++) for (let limit = was + 1; limit <= 48; limit += 5) cases.push([60_000 * Math.ceil(was / 2), was, limit]);
      for (const [i, [level, was, limit]] of cases.entries()) {
        const scope: RateScope = { kind: 'tenant', id: `t${i}`, limits: { rpm: limit } };
        const key = `${handle.prefix}rl:tenant:t${i}:rpm-level`;
        await handle.command(['SET', key, `${Date.now() + 3_600_000} ${level} ${was}`]);
        expect({ i, ok: (await redis.acquire([scope], { estimatedTokens: 0 })).ok }).toEqual({ i, ok: true });
        const [at, stored, storedLimit] = (await handle.command<string>(['GET', key])).split(' ').map(Number);
        const fromMemory = gcraLevel({ at: redisNow() + 1, level, limit: was }, redisNow(), limit);
        expect({ i, at, level: stored! - 60_000, limit: storedLimit }).toEqual({ i, at: redisNow(), level: fromMemory, limit });
        expect(fromMemory).toBe(Number((BigInt(level) * BigInt(limit) + BigInt(was) - 1n) / BigInt(was)));
      }
    } finally {
      await redis.close();
    }
  });

  it('retryAfterMs of a refusal is rounded up as in memory: the ms the bucket needs to drain', async () => {
    const { redis } = await open('retry');
    const now = 5_000_000;
    const memory = new MemoryRateLimiter(() => now);
    try {
      // tpm 60001: a full minute charged, then 60000 tokens: the wait is 60000*60000/60001 = 59999.0000167 ms
      // minus the time elapsed since the charge (whole ms); rounded up it is the time the bucket needs to drain.
      const scope: RateScope = { kind: 'tenant', id: 'acme', limits: { tpm: 60_001 } };
      expect((await memory.acquire([scope], { estimatedTokens: 60_001 })).ok).toBe(true);
      expect((await redis.acquire([scope], { estimatedTokens: 60_001 })).ok).toBe(true);
      const m = await memory.acquire([scope], { estimatedTokens: 60_000 });
      const r = await redis.acquire([scope], { estimatedTokens: 60_000 });
      expect(m.ok).toBe(false);
      expect(r.ok).toBe(false);
      if (m.ok || r.ok) return;
      // Memory: 60000 ms, and the bucket is full again in 60000 ms (resetTokensMs).
      expect(m.retryAfterMs).toBe(60_000);
      expect(m.retryAfterMs).toBe(m.info.resetTokensMs);
      // Redis: the same relation holds whatever ms elapsed between its two calls.
      expect(r.retryAfterMs).toBe(r.info.resetTokensMs);
    } finally {
      await redis.close();
    }
  });

  it('a first charge of 2e12 tokens under tpm 1 is admitted (a full bucket takes any cost) with a year of debt, as in memory', async () => {
    const { handle, redis } = await open('huge');
    const memory = new MemoryRateLimiter(() => 5_000_000);
    try {
      const scope: RateScope = { kind: 'tenant', id: 'acme', limits: { tpm: 1 } };
      const m = await memory.acquire([scope], { estimatedTokens: 2e12 });
      const r = await redis.acquire([scope], { estimatedTokens: 2e12 }).then(
        (d) => ({ ok: d.ok }),
        (e: unknown) => ({ threw: String((e as Error)?.message ?? e) }),
      );
      expect(m.ok).toBe(true);
      expect(r).toEqual({ ok: true });
      // The next token waits a year in memory; in Redis a year less the ms since its charge. The key lives as long.
      const m2 = await memory.acquire([scope], { estimatedTokens: 1 });
      const r2 = await redis.acquire([scope], { estimatedTokens: 1 });
      expect(m2.ok ? 0 : m2.retryAfterMs).toBe(GCRA_MAX_DRAIN_MS);
      const wait = r2.ok ? 0 : r2.retryAfterMs;
      expect(wait).toBeLessThanOrEqual(GCRA_MAX_DRAIN_MS);
      expect(wait).toBeGreaterThan(GCRA_MAX_DRAIN_MS - 10_000);
      const ttl = await handle.command<number>(['PTTL', `${handle.prefix}rl:tenant:acme:tpm-level`]);
      expect(ttl).toBeGreaterThan(GCRA_MAX_DRAIN_MS - 10_000);
      expect(ttl).toBeLessThanOrEqual(GCRA_MAX_DRAIN_MS + 1_000);
    } finally {
      await redis.close();
    }
  });

  // With as few left in the tenant as in the key, the headers come from the one full again last (found in review of
  // the memory limiter: the tenant's reset was reported on a tie, a time at which the key still refuses).
  it('none left in the tenant nor the key, requests and tokens, either order of scopes: the same headers as in memory, the later reset', async () => {
    const { redis, redisNow } = await open('tie');
    let now = Number.NaN;
    const memory = new MemoryRateLimiter(() => now);
    const tenant: RateScope = { kind: 'tenant', id: 't', limits: { rpm: 2, tpm: 200 } };
    const key: RateScope = { kind: 'key', id: 'a', limits: { rpm: 1, tpm: 100 } };
    const keyOnlyTokens: RateScope = { kind: 'key', id: 'b', limits: { tpm: 100 } };
    try {
      const calls: Array<[RateScope[], number]> = [
        [[tenant], 100], // another key of the tenant (no limits of its own)
        [[tenant, key], 100], // key a: none left in either, requests and tokens
        [[key, tenant], 0], // refused: the order of the scopes reversed
        [[tenant, keyOnlyTokens], 1], // a key with no rpm: the tenant's requests headers
      ];
      const seen: Array<ReturnType<typeof shown>> = [];
      for (const [scopes, estimatedTokens] of calls) {
        const r = await redis.acquire(scopes, { estimatedTokens });
        now = redisNow();
        expect(shown(await memory.acquire(scopes, { estimatedTokens }))).toEqual(shown(r));
        seen.push(shown(r));
        for (const order of [scopes, [...scopes].reverse()]) {
          const p = await redis.peek(order);
          now = redisNow();
          expect(await memory.peek(order)).toEqual(p);
        }
        // Redis's clock (whole ms) moves on before the next call, so the tenant's reset is before the key's.
        const at = now;
        do await redis.peek([tenant]);
        while (redisNow() === at);
      }
      // After the second call both have none left: the key (rpm 1, tpm 100, charged last) is full again last, at 60 s.
      expect(seen[1]!.info).toMatchObject({ limitRequests: 1, remainingRequests: 0, resetRequestsMs: 60_000, limitTokens: 100, remainingTokens: 0, resetTokensMs: 60_000 });
    } finally {
      await redis.close();
    }
  });
});

describe.skipIf(!redisUrl)('Redis rate limiter: concurrency leases of different TTLs', () => {
  it('a short lease, taken or renewed, never brings the lease set to expire before a longer lease still held', async () => {
    const { handle, redis } = await open('lease');
    const key = `${handle.prefix}rl:tenant:acme:leases`;
    /** When the set expires and when its longest lease does (Redis clock, ms; read at one instant). */
    const expiries = async () => {
      const script = "local t = redis.call('TIME') return { t[1], t[2], redis.call('PTTL', KEYS[1]), redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2] }";
      const [s, us, ttl, longest] = await handle.command<Array<string | number>>(['EVAL', script, '1', key]);
      return { set: Number(s) * 1000 + Math.floor(Number(us) / 1000) + Number(ttl), lease: Number(longest) };
    };
    try {
      const two: RateScope = { kind: 'tenant', id: 'acme', limits: { maxConcurrency: 2 } };
      const long = await redis.acquire([two], { estimatedTokens: 0, leaseTtlMs: 600_000 });
      expect(long.ok).toBe(true);
      const short = await redis.acquire([two], { estimatedTokens: 0, leaseTtlMs: 100 });
      expect(short.ok).toBe(true);
      let e = await expiries();
      // The long lease ends in ~10 minutes; the set (which holds it) lives at least until then, plus the 60 s margin.
      expect(e.lease).toBeGreaterThan(Date.now() + 590_000);
      expect(e.set).toBeGreaterThanOrEqual(e.lease + 60_000);
      if (short.ok) await redis.renew([short.lease]);
      e = await expiries();
      expect(e.set).toBeGreaterThanOrEqual(e.lease + 60_000);
      // The short lease ends by expiry: the long one still holds one of the two slots.
      await new Promise((r) => setTimeout(r, 150));
      expect((await redis.peek([two])).remainingConcurrency).toBe(1);
    } finally {
      await redis.close();
    }
  });
});
