/**
 * Shared mode's exact cache and the Redis of the limits and budgets. `createStateStores` puts the cache (`stores.cache`,
 * which the gateway server gives the router) on the stores' Redis unless it is given a Redis of its own
 * (`cacheRedisUrl`). Unbounded there, a cache filling `maxmemory` had Redis evict the limiter's and budget store's keys
 * (`allkeys-lru`/`volatile-lru`, which the docs advised: a tenant got a second slot past `maxConcurrency: 1` and a
 * second budget's worth of calls after its 402) or refuse their writes (`noeviction`: every limited or budgeted call a
 * 503). The cache on the stores' Redis now keeps its entries within a bound (a quarter of `maxmemory` by default, read
 * from `INFO` where `CONFIG` is refused; a `cacheRedisUrl` naming another database of the stores' server is bounded the
 * same), and the start warns when the stores' Redis can evict keys or the cache's own Redis has no `maxmemory`.
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

/** A user of the Redis at `url` refused `CONFIG` (as managed services refuse it), and its URL. */
function userWithoutConfig(url: string): string {
  execFileSync('redis-cli', ['-u', url, 'ACL', 'SETUSER', 'app', 'on', '>app-pw', '~*', '&*', '+@all', '-config'], { stdio: 'ignore', timeout: 30_000 });
  const u = new URL(url);
  u.username = 'app';
  u.password = 'app-pw';
  return u.href;
}

/** Shared stores alone (no gateway), with the warnings their start said. */
function sharedStores(redis: () => Promise<{ redisUrl: string; cacheRedisUrl?: string }>): () => { stores: StateStores; warnings: string[] } {
  let opened: { stores: StateStores; warnings: string[] } | undefined;
  beforeAll(async () => {
    const warnings: string[] = [];
    const stores = await createStateStores({ mode: 'shared', ...(await redis()), postgresUrl: postgres.url, postgresSchema: `cache_stores_${randomBytes(5).toString('hex')}`, onWarning: (m) => warnings.push(m) });
    opened = { stores, warnings };
  }, 120_000);
  afterAll(async () => {
    await opened?.stores.close();
  });
  return () => opened!;
}

/** Writes ~12 MB of answers through the cache, then takes a reservation and a limit for 20 new tenants. */
async function churnThenUse(s: StateStores): Promise<{ cacheRefused: number; storeFailures: string[] }> {
  const answer = { text: 'x'.repeat(100_000) } as never;
  let cacheRefused = 0;
  for (let i = 0; i < 120; i++) await Promise.resolve(s.cache!.set(`k${i}`, answer, 600_000)).catch(() => cacheRefused++);
  const storeFailures: string[] = [];
  for (let t = 0; t < 20; t++) {
    await s.budgets
      .reserve({ tenantId: `t${t}`, period: 'month', limitUsd: 10, estimateUsd: 0.01, reservationId: `r${t}` })
      .then((r) => (r.ok ? undefined : storeFailures.push('refused')), (e: Error) => storeFailures.push(e.message.slice(0, 90)));
    await s.rateLimiter
      .acquire([{ kind: 'tenant', id: `t${t}`, limits: { rpm: 100 } }], { estimatedTokens: 10 })
      .then((r) => (r.ok ? undefined : storeFailures.push('limited')), (e: Error) => storeFailures.push(e.message.slice(0, 90)));
  }
  return { cacheRefused, storeFailures };
}

describe("shared mode, the stores' Redis refusing CONFIG, as managed services do (maxmemory 6 MB, noeviction)", () => {
  const s = sharedStores(async () => ({ redisUrl: userWithoutConfig(await boundedRedis('noeviction')) }));

  it("the cache's bound comes from INFO's maxmemory (no warning): reservations and limits are still taken after the cache has written twice maxmemory", async () => {
    expect(s().warnings).toEqual([]);
    expect(await churnThenUse(s().stores)).toEqual({ cacheRefused: 0, storeFailures: [] });
  }, 120_000);
});

describe("shared mode, cacheRedisUrl naming another database of the stores' Redis server (maxmemory 6 MB, noeviction)", () => {
  const s = sharedStores(async () => {
    const url = await boundedRedis('noeviction');
    return { redisUrl: url, cacheRedisUrl: `${url}/1` };
  });

  it("the cache is bounded as on the stores' Redis (the start says so), and limits and budgets keep working after it has churned", async () => {
    expect(s().warnings).toHaveLength(1);
    expect(s().warnings[0]).toMatch(/^cacheRedisUrl \(redis:\/\/.*\/1\) is a database of the stores' own Redis server.*kept within 1572864 bytes/);
    expect(await churnThenUse(s().stores)).toEqual({ cacheRefused: 0, storeFailures: [] });
  }, 120_000);
});

describe('shared mode, cacheRedisUrl a Redis server of its own without maxmemory', () => {
  const s = sharedStores(async () => {
    const own = await startTestRedis({ own: true });
    redises.push(own);
    return { redisUrl: await boundedRedis('noeviction'), cacheRedisUrl: own.url };
  });

  it("the start warns that the cache's Redis is unbounded, naming the way out", () => {
    expect(s().warnings).toHaveLength(1);
    expect(s().warnings[0]).toMatch(/^The exact cache's Redis \(redis:\/\/.*\) has no maxmemory: .*set maxmemory there with maxmemory-policy allkeys-lru/);
  });
});
