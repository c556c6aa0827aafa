/**
 * The response caches in a Redis that stops answering without closing the connection (a partition, a stalled or
 * failing-over primary): every command of the exact cache's `RedisCacheStore` (shared mode's `stores.cache`) and
 * of the semantic cache's `RedisSemanticStore` is bounded by `timeoutMs` (1 s by default, like the affinity store
 * on the same connection), so a call is answered as a cache miss (`cache:error` with `store_unavailable`) instead
 * of hanging until the operating system gives up on the socket, and a stream's finish part is not held by a store
 * that does not answer. Real Redis (vitest.global-setup.ts) behind a loopback TCP relay that the test stops
 * forwarding.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { LLMRouter } from '../router/llm-router.js';
import { testServiceUrls } from '../stores/__fixtures__/store-fixtures.js';
import { settledWithin } from '../test/async.test-helpers.js';
import { startTcpRelay } from '../test/tcp-relay.js';
import type { RouterEvents } from '../router/types.js';
import type { CachedAnswer } from './cached-answer.js';
import { RedisCacheStore } from './redis-cache-store.js';

const { redisUrl } = testServiceUrls();

describe.skipIf(!redisUrl)('response caches in a Redis that stops answering', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup) await Promise.race([c().catch(() => undefined), new Promise((r) => setTimeout(r, 3_000))]);
    cleanup = [];
  });

  it('a call is answered (as a cache miss) within a bounded time instead of hanging on the cache lookup', async () => {
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    cleanup.push(() => relay.close());
    const store = await RedisCacheStore.connect<CachedAnswer>(`redis://127.0.0.1:${relay.port}`, { keyPrefix: `stallcache${Date.now()}:` });
    cleanup.push(() => store.close());
    const router = new LLMRouter(
      { models: [{ name: 'm', engine: 'mock', options: { reply: 'hello there' } }], routing: { strategy: 'priority', retries: { max: 0 } }, cache: { exact: { enabled: true } } },
      { env: {}, cacheStore: store },
    );
    cleanup.push(() => router.close());
    // Working through the relay first: a miss, stored, then a hit.
    expect((await router.generate('first question', { tenant: 'acme' })).cached).toBe(false);
    expect((await router.generate('first question', { tenant: 'acme' })).cached).toBe('exact');

    const errors: Array<RouterEvents['cache:error']> = [];
    router.on('cache:error', (e) => errors.push(e));
    relay.stall();
    const call = router.generate('second question', { tenant: 'acme' });
    call.catch(() => undefined);
    // 5 s is five times the store's bound (1 s): the lookup and the store each give up once.
    expect(await settledWithin(call, 5_000)).toBe('resolved');
    expect((await call).cached).toBe(false);
    expect(errors.map((e) => [e.kind, e.error.code])).toEqual([
      ['exact', 'store_unavailable'],
      ['exact', 'store_unavailable'],
    ]);
  }, 20_000);

  it('a stream whose answer cannot be stored still gets its finish part within the bound', async () => {
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    cleanup.push(() => relay.close());
    const store = await RedisCacheStore.connect<CachedAnswer>(`redis://127.0.0.1:${relay.port}`, { keyPrefix: `stallstream${Date.now()}:` });
    cleanup.push(() => store.close());
    const router = new LLMRouter(
      { models: [{ name: 'm', engine: 'mock', options: { reply: 'one two three' } }], routing: { strategy: 'priority', retries: { max: 0 } }, cache: { exact: { enabled: true } } },
      { env: {}, cacheStore: store },
    );
    cleanup.push(() => router.close());
    const errors: Array<RouterEvents['cache:error']> = [];
    router.on('cache:error', (e) => errors.push(e));
    relay.stall();
    // `refresh` skips the lookup: only the store before the finish part meets the stalled Redis.
    const stream = router.stream('count to three', { tenant: 'acme', cache: 'refresh' });
    const parts: string[] = [];
    const read = (async () => {
      for await (const part of stream) parts.push(part.type);
    })();
    read.catch(() => undefined);
    expect(await settledWithin(read, 5_000)).toBe('resolved');
    expect(parts).toContain('finish');
    expect((await stream.result).text).toBe('one two three');
    expect(errors.map((e) => [e.kind, e.error.code])).toEqual([['exact', 'store_unavailable']]);
  }, 20_000);

  it('a RedisCacheStore call fails with store_unavailable after timeoutMs; the option is checked', async () => {
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    cleanup.push(() => relay.close());
    const store = await RedisCacheStore.connect<string>(`redis://127.0.0.1:${relay.port}`, { keyPrefix: `stallopt${Date.now()}:`, timeoutMs: 200 });
    cleanup.push(() => store.close());
    expect(store.timeoutMs).toBe(200);
    await store.set('k', 'v');
    expect(await store.get('k')).toBe('v');
    relay.stall();
    const started = Date.now();
    await expect(store.get('k')).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(store.set('k', 'w')).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(RedisCacheStore.connect(redisUrl!, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'config_invalid', param: 'timeoutMs' });
  }, 20_000);

  it('the same with the semantic cache in Redis (cache.semantic.store: redis): answered as a miss', async () => {
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    cleanup.push(() => relay.close());
    const router = new LLMRouter(
      {
        models: [
          { name: 'm', engine: 'mock', capabilities: ['chat'], options: { reply: 'hello there' } },
          { name: 'emb', engine: 'mock', capabilities: ['embeddings'] },
        ],
        routing: { strategy: 'priority', retries: { max: 0 } },
        cache: { semantic: { enabled: true, embedder: 'emb', store: { type: 'redis', url: `redis://127.0.0.1:${relay.port}`, prefix: `stallsem${Date.now()}` } } },
      },
      { env: {}, engines: { emb: new MockEngine({ modelId: 'mock-embed' }) } },
    );
    cleanup.push(() => router.close());
    expect((await router.generate('how tall is mount everest', { model: 'm', tenant: 'acme' })).cached).toBe(false);
    expect((await router.generate('how tall is mount everest', { model: 'm', tenant: 'acme' })).cached).toBe('semantic');

    const errors: Array<RouterEvents['cache:error']> = [];
    router.on('cache:error', (e) => errors.push(e));
    relay.stall();
    const call = router.generate('what is the capital of france', { model: 'm', tenant: 'acme' });
    call.catch(() => undefined);
    expect(await settledWithin(call, 5_000)).toBe('resolved');
    expect((await call).cached).toBe(false);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.kind === 'semantic' && e.error.code === 'store_unavailable')).toBe(true);
  }, 20_000);
});
