/**
 * The gateway server's exact cache in shared mode and the Redis of the limits and budgets. LLMRR_CACHE_REDIS_URL gives
 * the cache a Redis of its own (e.g. `maxmemory` with `allkeys-lru`): its entries go there, none to LLMRR_REDIS_URL's.
 * The start reads the stores' Redis `maxmemory-policy` and warns in the log when it can evict keys (the limits' and
 * budgets'); a cache Redis that cannot be reached fails the start naming its variable, without its credentials.
 * Gateway processes on the test's PostgreSQL (vitest.global-setup.ts) and two Redis servers of their own
 * (`startTestRedis({ own: true })`: their configuration is changed), the mock engine.
 */
import { execFileSync } from 'node:child_process';
import { startTestRedis, type TestRedis } from '@llmrr/gateway/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, dropSharedState, gatewayRequest, sharedModeSetup, sharedServices, startGateway, stopGateway, type Gateway, type SharedRun } from './test-support/gateway-processes.js';

const services = sharedServices('shared mode: the exact cache Redis');
const CONFIG = { version: 2, models: [{ name: 'mock', engine: 'mock' }], cache: { exact: { enabled: true } } };
const run: SharedRun = { schema: `cache_redis_${process.pid}`, prefix: `cacheredis${process.pid}:`, adminKey: 'shared-mode-cache-redis-admin-key-0' };

const cli = (url: string, args: string[]) => execFileSync('redis-cli', ['-u', url, ...args], { encoding: 'utf8', timeout: 30_000 }).trim();

describe.skipIf(services.skip !== undefined)(services.skip ?? 'shared mode: the exact cache and the stores\' Redis', () => {
  const redises: TestRedis[] = [];
  let storesRedis: string;
  let cacheRedis: string;
  let dir: string | undefined;
  let g: Gateway | undefined;

  beforeAll(async () => {
    // Both bounded as a cache Redis is (the stores' one wrongly: the start says so).
    for (let i = 0; i < 2; i++) {
      const redis = await startTestRedis({ own: true });
      redises.push(redis);
      const url = redis.url;
      cli(url, ['CONFIG', 'SET', 'maxmemory', '64mb', 'maxmemory-policy', 'allkeys-lru']);
      if (storesRedis === undefined) storesRedis = url;
      else cacheRedis = url;
    }
  }, 120_000);

  afterAll(async () => {
    await stopGateway(g);
    dropSharedState('shared-mode-cache-redis', { ...services, redisUrl: storesRedis }, run, dir);
    for (const redis of redises) redis.stop();
  });

  it("LLMRR_CACHE_REDIS_URL takes the cache's entries; a stores' Redis that can evict keys is warned about at the start", async () => {
    const setup = sharedModeSetup(CONFIG, { ...services, redisUrl: storesRedis }, run);
    dir = setup.dir;
    g = await startGateway('C', { ...setup.env, LLMRR_CACHE_REDIS_URL: cacheRedis });
    // The warning names the policy of LLMRR_REDIS_URL's Redis and the way out.
    expect(g.output()).toMatch(/The stores' Redis \(redis:\/\/127\.0\.0\.1:\d+\/?\) has maxmemory-policy allkeys-lru \(maxmemory 67108864 bytes\): when full it evicts rate-limit and budget keys.*set it to noeviction/);
    await adminCall(g, run.adminKey, 'POST', '/admin/tenants', { id: 'acme', name: 'Acme' }, 201);
    const { secret } = await adminCall<{ secret: string }>(g, run.adminKey, 'POST', '/admin/tenants/acme/keys', { name: 'k' }, 201);
    const chat = () => gatewayRequest(g!, 'POST', '/v1/chat/completions', { model: 'mock', temperature: 0, messages: [{ role: 'user', content: 'cache me' }], max_tokens: 4 }, { authorization: `Bearer ${secret}` });
    const first = await chat();
    expect(first.status).toBe(200);
    await first.text();
    const second = await chat();
    expect(second.headers.get('x-llmrr-cache')).toBe('hit-exact');
    await second.text();
    expect(cli(cacheRedis, ['--scan', '--pattern', `${run.prefix}cache:*`])).not.toBe('');
    expect(cli(storesRedis, ['--scan', '--pattern', `${run.prefix}cache*`])).toBe('');
  }, 120_000);

  it("LLMRR_CACHE_MAX_BYTES bounds the cache; an LLMRR_CACHE_REDIS_URL naming another database of the stores' server keeps it bounded, said at the start in the server's variables", async () => {
    const db1 = `${storesRedis.replace(/\/$/, '')}/1`;
    const own = { ...run, schema: `${run.schema}_db1` };
    const setup = sharedModeSetup(CONFIG, { ...services, redisUrl: storesRedis }, own);
    let e: Gateway | undefined;
    try {
      e = await startGateway('E', { ...setup.env, LLMRR_CACHE_REDIS_URL: db1, LLMRR_CACHE_MAX_BYTES: '50000' });
      expect(e.output()).toMatch(/LLMRR_CACHE_REDIS_URL \(redis:\/\/127\.0\.0\.1:\d+\/1\) is a database of the stores' own Redis server, which shares one maxmemory: the exact cache is kept within 50000 bytes there \(LLMRR_CACHE_MAX_BYTES\)/);
      expect(e.output()).not.toMatch(/cacheMaxBytes|cacheRedisUrl/);
      await adminCall(e, own.adminKey, 'POST', '/admin/tenants', { id: 'acme', name: 'Acme' }, 201);
      const { secret } = await adminCall<{ secret: string }>(e, own.adminKey, 'POST', '/admin/tenants/acme/keys', { name: 'k' }, 201);
      for (let i = 0; i < 100; i++) {
        const r = await gatewayRequest(e, 'POST', '/v1/chat/completions', { model: 'mock', temperature: 0, messages: [{ role: 'user', content: `cache me ${i} ${'x'.repeat(1000)}` }], max_tokens: 4 }, { authorization: `Bearer ${secret}` });
        expect(r.status).toBe(200);
        await r.text();
      }
      const bytes = Number(cli(db1, ['GET', `${own.prefix}cache#bound:bytes`]));
      expect(bytes).toBeGreaterThan(0);
      expect(bytes).toBeLessThanOrEqual(50_000);
    } finally {
      await stopGateway(e);
      dropSharedState('shared-mode-cache-redis', { ...services, redisUrl: storesRedis }, own, setup.dir);
    }
  }, 120_000);

  it('a cache Redis that cannot be reached fails the start naming LLMRR_CACHE_REDIS_URL, without its password', async () => {
    const setup = sharedModeSetup(CONFIG, { ...services, redisUrl: storesRedis }, { ...run, schema: `${run.schema}_dead` });
    try {
      const out = await startGateway('D', { ...setup.env, LLMRR_CACHE_REDIS_URL: 'redis://:CACHE-PW@127.0.0.1:1' }).then(
        async (started) => {
          await stopGateway(started);
          return 'started';
        },
        (e: unknown) => (e as Error).message,
      );
      expect(out).toContain('llmrr gateway failed to start: LLMRR_CACHE_REDIS_URL (Redis of the exact cache at 127.0.0.1:1): Cannot connect to Redis');
      expect(out).not.toContain('CACHE-PW');
    } finally {
      dropSharedState('shared-mode-cache-redis', { ...services, redisUrl: storesRedis }, { ...run, schema: `${run.schema}_dead` }, setup.dir);
    }
  }, 120_000);
});
