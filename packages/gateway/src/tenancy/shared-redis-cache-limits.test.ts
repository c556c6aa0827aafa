/**
 * Shared mode's exact cache and the Redis of the limits and budgets. `createStateStores` puts the cache (`stores.cache`,
 * which the gateway server gives the router) on the stores' Redis unless it is given a Redis of its own
 * (`cacheRedisUrl`). Unbounded there, a cache filling `maxmemory` had Redis evict the limiter's and budget store's keys
 * (`allkeys-lru`/`volatile-lru`, which the docs advised: a tenant got a second slot past `maxConcurrency: 1` and a
 * second budget's worth of calls after its 402) or refuse their writes (`noeviction`: every limited or budgeted call a
 * 503). The cache on the stores' Redis now keeps its entries within a bound (a quarter of `maxmemory` by default), and
 * the start warns when the stores' Redis can evict keys.
 * Real Redis servers of their own (`maxmemory` 6 MB; the policy under test), a real PostgreSQL, the official openai
 * client on a served gateway, an OpenAI-wire upstream answering ~16 KB a call.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createStateStores, LLMRouter, type StateStores } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { startTestPostgres, type TestPostgres } from '../test-support/test-postgres.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';

/** An answer of about 16 KB: each cached answer takes that much of Redis. */
const BIG = 'lorem ipsum dolor sit amet '.repeat(600);
const USAGE = { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 };

let upstream: OpenAIWireServer;
let postgres: TestPostgres;
const redises: TestRedis[] = [];

beforeAll(async () => {
  upstream = await startOpenAIWireServer({
    script: (req) => {
      // The held stream: one chunk, then nothing until the client goes.
      if (JSON.stringify(req.body).includes('hold the slot')) return { text: 'a b c', hangAfterChunks: 1, usage: USAGE };
      return { text: BIG, usage: USAGE };
    },
  });
  postgres = await startTestPostgres();
}, 120_000);

afterAll(async () => {
  await upstream?.close();
  for (const r of redises) r.stop();
  postgres?.stop();
});

/** A Redis of its own with `maxmemory` 6 MB and `policy`. */
async function boundedRedis(policy: string): Promise<string> {
  const r = await startTestRedis({ own: true });
  redises.push(r);
  execFileSync('redis-cli', ['-u', r.url, 'CONFIG', 'SET', 'maxmemory', '6mb', 'maxmemory-policy', policy], { stdio: 'ignore', timeout: 30_000 });
  return r.url;
}

interface Setup {
  client(tenant: string): OpenAI;
  warnings: string[];
  stores: StateStores;
}

/** Shared stores (`createStateStores`, as the gateway server opens them) and a gateway whose router caches in them. */
function sharedGateway(redis: () => Promise<{ redisUrl: string; cacheRedisUrl?: string }>): () => Setup {
  let setup: Setup | undefined;
  let router: LLMRouter | undefined;
  let served: ServedGateway | undefined;
  const id = randomBytes(5).toString('hex');
  beforeAll(async () => {
    const warnings: string[] = [];
    const stores = await createStateStores({ mode: 'shared', ...(await redis()), postgresUrl: postgres.url, postgresSchema: `cache_limits_${id}`, onWarning: (m) => warnings.push(m) });
    router = new LLMRouter(
      {
        models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'k', model: 'gpt-test', price: { input: 1000, output: 1000 }, capabilities: ['chat', 'streaming'] }],
        routing: { strategy: 'priority', retries: { max: 0 } },
        cache: { exact: { enabled: true } },
      },
      { env: {}, cacheStore: stores.cache! },
    );
    served = await serveGateway(createGateway({ router, stores, log: () => {} }), { port: 0 });
    await stores.tenants.createTenant({ id: 'filler', name: 'Filler' });
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { maxConcurrency: 1 } });
    // $1000 per million tokens: a call of 20 tokens costs $0.02; the reservation of one call (the prompt bound and
    // max_tokens 20) is about $0.05.
    await stores.tenants.createTenant({ id: 'capped', name: 'Capped', budget: { amountUsd: 0.2, period: 'month' } });
    const keys: Record<string, string> = {};
    for (const t of ['filler', 'acme', 'capped']) keys[t] = (await stores.tenants.createKey(t, { name: 'k' })).secret;
    const url = served.url;
    setup = { warnings, stores, client: (tenant) => new OpenAI({ baseURL: `${url}/v1`, apiKey: keys[tenant]!, maxRetries: 0 }) };
  }, 120_000);
  afterAll(async () => {
    await served?.close(500);
    await router?.close();
    await setup?.stores.close();
  });
  return () => setup!;
}

/** Distinct cacheable calls of a tenant without limits until the cache has written several times `maxmemory`. */
async function churnTheCache(s: Setup, rounds: number): Promise<void> {
  const filler = s.client('filler');
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      Array.from({ length: 16 }, (_, i) => filler.chat.completions.create({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content: `fill ${round}-${i}` }] })),
    );
  }
}

const statusOf = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { status?: number; error?: { code?: string } }) => `${e.status} ${e.error?.code}`,
  );

describe("shared mode, the exact cache on the stores' Redis under an eviction policy (allkeys-lru, maxmemory 6 MB)", () => {
  const s = sharedGateway(async () => ({ redisUrl: await boundedRedis('allkeys-lru') }));

  it('the start warns that this Redis can evict the limits and budgets, naming the policy and the way out', () => {
    expect(s().warnings).toHaveLength(1);
    expect(s().warnings[0]).toMatch(/maxmemory-policy allkeys-lru .*evicts rate-limit and budget keys.*set it to noeviction/);
  });

  it('a concurrency slot held by a running stream stays held while the exact cache churns', async () => {
    const holder = new AbortController();
    const acme = s().client('acme');
    const stream = await acme.chat.completions.create({ model: 'gpt', stream: true, messages: [{ role: 'user', content: 'hold the slot' }] }, { signal: holder.signal });
    await stream[Symbol.asyncIterator]().next();
    try {
      // The slot is taken: a second call of the tenant is refused.
      expect(await statusOf(acme.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'second' }] }))).toMatch(/^429 /);
      await churnTheCache(s(), 80);
      // Still one stream running: still refused.
      expect(await statusOf(acme.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'second again' }] }))).toMatch(/^429 /);
    } finally {
      holder.abort();
    }
  }, 180_000);

  it("a tenant's spent budget stays spent while the exact cache churns, and the cache still answers", async () => {
    const capped = s().client('capped');
    const call = (n: number) => statusOf(capped.chat.completions.create({ model: 'gpt', max_tokens: 20, messages: [{ role: 'user', content: `paid ${n}` }] }));
    const answered: Array<number | string> = [];
    for (let n = 0; n < 30; n++) {
      answered.push(await call(n));
      if (answered.at(-1) !== 200) break;
    }
    expect(answered.at(-1)).toMatch(/^402 /);
    expect(answered.filter((x) => x === 200).length).toBeGreaterThan(0);
    await churnTheCache(s(), 80);
    // The month's budget is spent: the next call is the 402 again.
    expect(await call(100)).toMatch(/^402 /);
    // The newest answers are cached (the bound drops the oldest).
    const hit = await s().client('filler').chat.completions.create({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content: 'fill 79-15' }] }).withResponse();
    expect(hit.response.headers.get('x-llmrr-cache')).toBe('hit-exact');
  }, 180_000);
});

describe("shared mode, the exact cache on the stores' Redis under noeviction (maxmemory 6 MB)", () => {
  const s = sharedGateway(async () => ({ redisUrl: await boundedRedis('noeviction') }));

  it('a tenant with limits and a budget is still served once the exact cache has written far past maxmemory; no warning', async () => {
    expect(s().warnings).toEqual([]);
    await churnTheCache(s(), 40);
    // A new question (not cached): the limits and the budget are taken in Redis.
    expect(await statusOf(s().client('capped').chat.completions.create({ model: 'gpt', max_tokens: 20, messages: [{ role: 'user', content: 'after the churn' }] }))).toBe(200);
    expect(await statusOf(s().client('acme').chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'after the churn, with limits' }] }))).toBe(200);
  }, 180_000);
});

describe('shared mode, the exact cache on a Redis of its own (cacheRedisUrl: allkeys-lru, maxmemory 6 MB; the stores on noeviction)', () => {
  const s = sharedGateway(async () => ({ redisUrl: await boundedRedis('noeviction'), cacheRedisUrl: await boundedRedis('allkeys-lru') }));

  it('limits and budgets hold and serve while the cache churns its own Redis, which keeps answering hits', async () => {
    expect(s().warnings).toEqual([]);
    await churnTheCache(s(), 40);
    expect(await statusOf(s().client('capped').chat.completions.create({ model: 'gpt', max_tokens: 20, messages: [{ role: 'user', content: 'after the churn' }] }))).toBe(200);
    expect(await statusOf(s().client('acme').chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'after the churn, with limits' }] }))).toBe(200);
    const hit = await s().client('filler').chat.completions.create({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content: 'fill 39-15' }] }).withResponse();
    expect(hit.response.headers.get('x-llmrr-cache')).toBe('hit-exact');
  }, 180_000);
});
