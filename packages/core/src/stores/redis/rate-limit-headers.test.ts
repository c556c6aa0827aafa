/**
 * The rate-limit headers of the Redis limiter (shared mode) against what it then admits: the buckets are kept
 * as integers (a level in 1/limit ms at a whole-ms Redis time, as `tenancy/gcra.ts`), so X-RateLimit-Remaining
 * after a request into an idle bucket is the limit minus its cost, and that many more are then admitted.
 */
import { describe, expect, it } from 'vitest';
import type { RateScope } from '../../tenancy/types.js';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { connectRedis } from './redis-connection.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

describe.skipIf(!testServiceUrls().redisUrl)('Redis rate limiter headers', () => {
  it('X-RateLimit-Remaining after the first request into an idle bucket is the limit minus one (rpm 1..120, tpm)', async () => {
    const handle = await connectRedis(testServiceUrls().redisUrl!, `rl-headers${Date.now()}:`);
    const limiter = new RedisRateLimiter(handle);
    try {
      const wrong: string[] = [];
      for (let rpm = 1; rpm <= 120; rpm++) {
        const d = await limiter.acquire([{ kind: 'key', id: `r${rpm}`, limits: { rpm } }], { estimatedTokens: 0 });
        if (d.info.remainingRequests !== rpm - 1) wrong.push(`rpm ${rpm}: remaining ${d.info.remainingRequests}`);
      }
      for (let tpm = 1_000; tpm <= 30_000; tpm += 1_000) {
        const d = await limiter.acquire([{ kind: 'key', id: `t${tpm}`, limits: { tpm } }], { estimatedTokens: 700 });
        if (d.info.remainingTokens !== tpm - 700) wrong.push(`tpm ${tpm}: remaining ${d.info.remainingTokens}`);
      }
      expect(wrong).toEqual([]);
    } finally {
      await limiter.close();
    }
  });

  it('after the first of rpm 9 the header promises as many requests as the limiter then admits', async () => {
    const handle = await connectRedis(testServiceUrls().redisUrl!, `rl-headers9${Date.now()}:`);
    const limiter = new RedisRateLimiter(handle);
    try {
      // Several idle buckets (a TAT rounded to 0.001 ms used to make the header one short in most of them).
      const seen: Array<{ remaining: number | undefined; admitted: number }> = [];
      for (let k = 0; k < 5; k++) {
        const scope: RateScope = { kind: 'key', id: `nine${k}`, limits: { rpm: 9 } };
        const first = await limiter.acquire([scope], { estimatedTokens: 0 });
        let admitted = 0;
        for (let i = 0; i < 9; i++) if ((await limiter.acquire([scope], { estimatedTokens: 0 })).ok) admitted++;
        seen.push({ remaining: first.info.remainingRequests, admitted });
      }
      expect(seen.filter((s) => s.remaining !== s.admitted)).toEqual([]);
    } finally {
      await limiter.close();
    }
  });
});
