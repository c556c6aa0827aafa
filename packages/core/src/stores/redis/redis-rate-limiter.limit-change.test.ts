/**
 * Redis buckets (`"<at> <level> <limit>"`) under a changed limit agree with the memory limiter (the reference): a
 * bucket keeps the time it still needs to drain, and its key expires when it is full again, whatever the limit
 * becomes, so the expiry never drops a bucket in debt.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../tenancy/memory-rate-limiter.js';
import type { RateScope } from '../../tenancy/types.js';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { connectRedis } from './redis-connection.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!testServiceUrls().redisUrl)('Redis rate limiter: a changed limit', () => {
  it('a charge drained under the old limit is no debt under the lowered one, as in memory', async () => {
    const handle = await connectRedis(testServiceUrls().redisUrl!, `rl-limit${Date.now()}:`);
    const redis = new RedisRateLimiter(handle);
    let now = 5_000_000;
    const memory = new MemoryRateLimiter(() => now);
    try {
      // 60 000 000 tpm: 1000 tokens drain in 1 ms.
      const before: RateScope = { kind: 'tenant', id: 'acme', limits: { tpm: 60_000_000 } };
      expect((await redis.acquire([before], { estimatedTokens: 1000 })).ok).toBe(true);
      expect((await memory.acquire([before], { estimatedTokens: 1000 })).ok).toBe(true);
      const after: RateScope = { kind: 'tenant', id: 'acme', limits: { tpm: 1000 } };
      await sleep(1300);
      now += 1300;
      const fromMemory = await memory.acquire([after], { estimatedTokens: 1000 });
      const fromRedis = await redis.acquire([after], { estimatedTokens: 1000 });
      expect([fromMemory.ok, fromRedis.ok]).toEqual([true, true]);
    } finally {
      await redis.close();
    }
  });

  it('a bucket in debt under a lowered limit keeps the time still to drain, then is full, as in memory', async () => {
    const handle = await connectRedis(testServiceUrls().redisUrl!, `rl-limit${Date.now()}:`);
    const redis = new RedisRateLimiter(handle);
    let now = 5_000_000;
    const memory = new MemoryRateLimiter(() => now);
    try {
      // 60 000 tpm (1 token a ms): 3000 tokens take 3 s to drain.
      const before: RateScope = { kind: 'tenant', id: 'acme', limits: { tpm: 60_000 } };
      expect((await redis.acquire([before], { estimatedTokens: 3000 })).ok).toBe(true);
      expect((await memory.acquire([before], { estimatedTokens: 3000 })).ok).toBe(true);
      // Lowered to 1000 tpm; 1.3 s later ~1.7 s are still to drain: ~28 tokens of the new minute, 990 do not fit.
      const after: RateScope = { kind: 'tenant', id: 'acme', limits: { tpm: 1000 } };
      await sleep(1300);
      now += 1300;
      const m1 = await memory.acquire([after], { estimatedTokens: 990 });
      const r1 = await redis.acquire([after], { estimatedTokens: 990 });
      expect([m1.ok, r1.ok]).toEqual([false, false]);
      expect(r1.info.remainingTokens).toBeGreaterThanOrEqual(971);
      expect(r1.info.remainingTokens).toBeLessThan(990);
      // 3.3 s after the charge the bucket is full (the key expired at the drain time of its own limit).
      await sleep(2000);
      now += 2000;
      const m2 = await memory.acquire([after], { estimatedTokens: 1000 });
      const r2 = await redis.acquire([after], { estimatedTokens: 1000 });
      expect([m2.ok, r2.ok]).toEqual([true, true]);
    } finally {
      await redis.close();
    }
  });
});
