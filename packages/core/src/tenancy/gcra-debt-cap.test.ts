/**
 * The debt cap (`GCRA_MAX_DRAIN_MS`, a year) and the release correction: the part of an estimate's charge the cap
 * dropped is not refunded at release (`GcraCheck.uncharged`, the Lua scripts alike), so a call that used more than a
 * year's worth of the limit leaves a year of debt whatever its estimate was, the same in memory and in Redis.
 */
import { describe, expect, it } from 'vitest';
import { GCRA_MAX_DRAIN_MS } from './gcra.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import type { RateLimiter, RateScope } from './types.js';
import { testServiceUrls } from '../stores/__fixtures__/store-fixtures.js';
import { connectRedis } from '../stores/redis/redis-connection.js';
import { RedisRateLimiter } from '../stores/redis/redis-rate-limiter.js';

const YEAR_OF_TOKENS = GCRA_MAX_DRAIN_MS / 60_000; // at tpm 1: 525 600 tokens

/** After one call that estimated `estimate` and used `actual` tokens: the wait (ms) before the next token. */
async function waitAfter(limiter: RateLimiter, id: string, estimate: number, actual: number): Promise<number> {
  const scope: RateScope = { kind: 'tenant', id, limits: { tpm: 1 } };
  const d = await limiter.acquire([scope], { estimatedTokens: estimate });
  if (!d.ok) throw new Error('the first call of a full bucket is admitted');
  await d.lease.release(actual);
  const next = await limiter.acquire([scope], { estimatedTokens: 1 });
  return next.ok ? 0 : next.retryAfterMs;
}

async function check(make: () => Promise<{ limiter: RateLimiter; close(): Promise<void> }>) {
  const { limiter, close } = await make();
  try {
    const actual = YEAR_OF_TOKENS + 74_400; // 600 000 tokens: more than a year's worth at tpm 1
    const exact = await waitAfter(limiter, `exact${Date.now()}`, actual, actual);
    const over = await waitAfter(limiter, `over${Date.now()}`, 1_000_000, actual);
    const days = (ms: number) => Math.round(ms / 86_400_000);
    expect({ exactEstimate: days(exact), overEstimate: days(over) }).toEqual({ exactEstimate: 365, overEstimate: 365 });
  } finally {
    await close();
  }
}

describe('the debt cap and the release correction', () => {
  it('memory: the same usage leaves the same debt whatever the estimate', async () => {
    await check(async () => ({ limiter: new MemoryRateLimiter(), close: async () => {} }));
  });

  it.skipIf(!testServiceUrls().redisUrl)('redis: the same usage leaves the same debt whatever the estimate', async () => {
    await check(async () => {
      const redis = new RedisRateLimiter(await connectRedis(testServiceUrls().redisUrl!, `rl-cap${Date.now()}:`));
      return { limiter: redis, close: () => redis.close() };
    });
  });
});
