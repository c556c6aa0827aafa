/**
 * The Redis semantic store's erasure index (per-tenant and per-user id sets) lists only entries the store still
 * ranks: ids leave the sets when their entry is evicted or deleted, and a set left empty is gone. Runs against
 * the real Redis started by vitest.global-setup.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { connectRedis, type RedisHandle } from '../stores/redis/redis-connection.js';
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

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }] });
const answer = (text: string) => ({ text, toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(3, 1), deployment: 'm1', model: 'mock-1', provider: 'mock' });

async function raw(prefix: string): Promise<RedisHandle> {
  const h = (await connectRedis(redisUrl!, prefix)).retain();
  closers.push(() => h.release());
  return h;
}

describe('RedisSemanticStore erasure index', () => {
  it('takes the ids of evicted entries out of the tenant and user sets (the index stays as small as the cap)', async (ctx) => {
    if (skip) return ctx.skip(skip);
    const prefix = `evict${process.pid}-${Date.now()}`;
    const store = await RedisSemanticStore.connect({ url: redisUrl!, prefix, maxEntries: 2 });
    const cache = new SemanticCache({ config: { enabled: true, threshold: 0.8, maxEntries: 2 }, embedder: new BagOfWordsEmbedder(), store });
    closers.push(() => cache.close());
    // 30 end users each ask one question; the cap keeps only the last 2 entries.
    for (let i = 0; i < 30; i++) await cache.store(ask(`question number ${i} about topic ${i}`), scope, answer(`A${i}`), { user: `user-${i}` });
    expect(await store.size()).toBe(2);
    const r = await raw(prefix);
    const tenantSet = Number(await r.command<number>(['SCARD', `${prefix}:sem:t:acme`]));
    const userSets: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await r.command<[string, string[]]>(['SCAN', cursor, 'MATCH', `${prefix}:sem:u:acme:*`, 'COUNT', '1000']);
      userSets.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    // The index of 2 live entries should hold 2 ids and at most 2 user sets, not one per entry ever stored.
    expect({ tenantSetMembers: tenantSet, userSetKeys: userSets.length }).toEqual({ tenantSetMembers: 2, userSetKeys: 2 });
    expect(Number(await r.command<number>(['HLEN', `${prefix}:sem:owners`]))).toBe(4); // a tenant and a user set per entry
  });

  it('delete and erasing a user take the ids out of the tenant set and drop the emptied sets', async (ctx) => {
    if (skip) return ctx.skip(skip);
    const prefix = `erasure${process.pid}-${Date.now()}`;
    const store = await RedisSemanticStore.connect({ url: redisUrl!, prefix, maxEntries: 10 });
    const cache = new SemanticCache({ config: { enabled: true, threshold: 0.8, maxEntries: 10 }, embedder: new BagOfWordsEmbedder(), store });
    closers.push(() => cache.close());
    for (let i = 0; i < 3; i++) await cache.store(ask(`question number ${i} about topic ${i}`), scope, answer(`A${i}`), { user: i === 2 ? 'bob' : 'ann' });
    const r = await raw(prefix);
    const members = async (key: string) => (await r.command<string[]>(['SMEMBERS', `${prefix}:sem:${key}`])).sort();
    expect(await members('t:acme')).toEqual(['1', '2', '3']);
    expect(await store.delete(3)).toBe(true);
    expect({ tenant: await members('t:acme'), bobSet: Number(await r.command<number>(['EXISTS', `${prefix}:sem:u:acme:bob`])) }).toEqual({ tenant: ['1', '2'], bobSet: 0 });
    expect(await cache.eraseUser('acme', 'ann')).toBe(2);
    expect(Number(await r.command<number>(['EXISTS', `${prefix}:sem:t:acme`, `${prefix}:sem:u:acme:ann`, `${prefix}:sem:owners`]))).toBe(0);
    expect(await store.size()).toBe(0);
  });
});
