/**
 * Erasing a tenant in the Redis semantic store deletes its per-user erasure sets by `SCAN MATCH`, with the
 * glob characters of the key prefix escaped: erasing tenant `a*` leaves every other tenant's user sets (so
 * erasing one of their users still finds that user's entries). Runs against the real Redis started by
 * vitest.global-setup.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { testServiceUrls } from '../stores/__fixtures__/store-fixtures.js';
import { RedisSemanticStore } from './redis-semantic-store.js';
import { SemanticCache } from './semantic-cache.js';
import { BagOfWordsEmbedder } from './__fixtures__/bag-of-words-embedder.js';

const { redisUrl } = testServiceUrls();
const skip = redisUrl ? undefined : 'Redis (LLMRR_TEST_REDIS_URL) not available';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }] });
const answer = (text: string) => ({ text, toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(3, 1), deployment: 'm1', model: 'mock-1', provider: 'mock' });

describe('RedisSemanticStore erasure of a tenant id with glob characters', () => {
  it("erasing tenant 'a*' leaves tenant 'acme' able to erase its user's entries", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const prefix = `glob${process.pid}-${Date.now()}`;
    const store = await RedisSemanticStore.connect({ url: redisUrl!, prefix, maxEntries: 100 });
    const cache = new SemanticCache({ config: { enabled: true, threshold: 0.8, maxEntries: 100 }, embedder: new BagOfWordsEmbedder(), store });
    closers.push(() => cache.close());
    const acme = { models: ['m1'], tenant: 'acme' };
    await cache.store(ask('what is the refund policy for annual plans'), acme, answer('Bob: 30 days.'), { user: 'bob' });
    await cache.store(ask('how many seats does my plan include'), { models: ['m1'], tenant: 'a*' }, answer('Ten.'), { user: 'eve' });
    expect(await cache.eraseTenant('a*')).toBe(1);
    // Bob asks acme to erase his data.
    expect(await cache.eraseUser('acme', 'bob')).toBe(1);
    expect(await cache.lookup(ask('what is the refund policy for annual plans'), acme)).toBeUndefined();
  });
});
