/**
 * A request refused after it took its place under the limits (a 402 budget refusal, a 404 for a model that does not
 * exist) gives that place back: its concurrency slot is freed and its tokens-per-minute charge refunded. Its
 * `x-ratelimit-*` headers say what is left after it (the request itself stays counted), as the limiter then does, so
 * a client pacing itself by them (they are exposed for that, CORS included) does not back off for nothing. The numbers
 * are the limiter's own, the most constrained scope chosen again after the refund: given back at once, its lease's
 * (`RateLease.releasedInfo`, also with core's Redis limiter, shared mode's, on a real Redis); after a cache lookup,
 * what the limiter says then (`peek`).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createStateStores, LLMRouter, MemoryCacheStore, type CachedAnswer, type CacheStore, type RateAcquireOptions, type RateLimiter, type RateLimitInfo, type RateScope, type StateStores } from '@llmrr/core';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { mockModel } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';

// (rpm 10: a request flows back in 6 s, so one refused a moment ago is still counted when its headers are read.)
const LIMITS = { maxConcurrency: 1, tpm: 100_000, rpm: 10 };
let gw: SdkGateway;

beforeAll(async () => {
  gw = await servedGateway({ models: [mockModel('mock')] });
  // A budget no call can fit (a call of the priced mock reserves about $0.008): every call is a 402.
  await gw.harness.stores!.tenants.updateTenant('acme', { limits: LIMITS, budget: { amountUsd: 0.000001, period: 'total' } });
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

async function refusal(model: string, extra: Record<string, unknown> = {}): Promise<InstanceType<typeof OpenAI.APIError>> {
  const e = await gw
    .openai()
    .chat.completions.create({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming)
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  expect(e).toBeInstanceOf(OpenAI.APIError);
  return e as InstanceType<typeof OpenAI.APIError>;
}

async function current(): Promise<{ remainingConcurrency?: number; remainingTokens?: number; remainingRequests?: number }> {
  return gw.harness.stores!.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits: LIMITS }]);
}

function shown(e: InstanceType<typeof OpenAI.APIError>): Record<string, string | null> {
  return {
    concurrency: e.headers!.get('x-ratelimit-remaining-concurrency'),
    tokens: e.headers!.get('x-ratelimit-remaining-tokens'),
    resetTokens: e.headers!.get('x-ratelimit-reset-tokens'),
    requests: e.headers!.get('x-ratelimit-remaining-requests'),
  };
}

/** The refused request stays counted (rpm): fewer left than the limit, no more than the limiter says later (it refills with time). */
function countsTheRequest(e: InstanceType<typeof OpenAI.APIError>, later: { remainingRequests?: number }): void {
  const requests = Number(e.headers!.get('x-ratelimit-remaining-requests'));
  expect(requests).toBeLessThan(LIMITS.rpm);
  expect(requests).toBeLessThanOrEqual(later.remainingRequests!);
}

describe('the rate-limit headers of a refusal that gave its place back', () => {
  it('a 402 budget refusal of a call that may be served from the caches (a miss): nothing is held after it, and its headers say so', async () => {
    const e = await refusal('mock');
    expect(e.status).toBe(402);
    // The limiter: the slot is free and the token charge refunded.
    const now = await current();
    expect(now).toMatchObject({ remainingConcurrency: 1, remainingTokens: 100_000 });
    expect(shown(e)).toEqual({ concurrency: '1', tokens: '100000', resetTokens: '0s', requests: expect.any(String) });
    countsTheRequest(e, now);
  });

  it('a 402 budget refusal of a call that reads no cache (given back at once): the same', async () => {
    const e = await refusal('mock', { llmrr: { cache: false } });
    expect(e.status).toBe(402);
    const now = await current();
    expect(now).toMatchObject({ remainingConcurrency: 1, remainingTokens: 100_000 });
    expect(shown(e)).toEqual({ concurrency: '1', tokens: '100000', resetTokens: '0s', requests: expect.any(String) });
    countsTheRequest(e, now);
  });

  it('a 404 for a model that does not exist: its slot was given back, its headers do not count it', async () => {
    const e = await refusal('no-such-model');
    expect(e.status).toBe(404);
    expect((await current()).remainingConcurrency).toBe(1);
    expect(e.headers!.get('x-ratelimit-remaining-concurrency')).toBe('1');
  });
});

describe('the rate-limit headers of a cache-only 402 (its miss after the lookup)', () => {
  it("say what the limiter says after the lookup: a place another request took meanwhile counted (not the admission's numbers)", async () => {
    const LIMITS2 = { maxConcurrency: 2, rpm: 10 };
    const stores = await createStateStores({ mode: 'memory' });
    // The exact cache's store: the first lookup waits for the first gate, the others for the second.
    const inner = new MemoryCacheStore<CachedAnswer>();
    const gate = () => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    };
    const gates = [gate(), gate()];
    let lookups = 0;
    const cacheStore: CacheStore<CachedAnswer> = {
      get: async (k) => {
        await gates[Math.min(lookups++, 1)]!.promise;
        return inner.get(k);
      },
      set: (k, v, ttl) => inner.set(k, v, ttl),
      delete: (k) => inner.delete(k),
      clear: () => inner.clear(),
    };
    const router = new LLMRouter({ models: [mockModel('mock')], routing: { strategy: 'priority', retries: { max: 0 } }, cache: { exact: { enabled: true } } }, { env: {}, cacheStore });
    const gateway = createGateway({ router, stores, log: () => {} });
    const served = await serveGateway(gateway, { port: 0 });
    try {
      // A budget no call can fit: each call is a cache-only one (a 402 on a miss), holding its place across its lookup.
      await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS2, budget: { amountUsd: 0.000001, period: 'total' } });
      const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
      const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
      const ask = (content: string) => client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content }] }).then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
      const first = ask('hello there');
      await expect.poll(() => lookups, { timeout: 5_000, interval: 10 }).toBe(1);
      // Another request takes the second place while the first looks up (and holds it).
      const second = ask('something else');
      await expect.poll(() => lookups, { timeout: 5_000, interval: 10 }).toBe(2);
      gates[0]!.resolve();
      const e = (await first)!;
      expect(e.status).toBe(402);
      // The first's place is back, the second's still taken: one left (its admission's numbers, its own place given
      // back, said two); both requests counted.
      expect(e.headers!.get('x-ratelimit-remaining-concurrency')).toBe('1');
      expect(Number(e.headers!.get('x-ratelimit-remaining-requests'))).toBeLessThanOrEqual(LIMITS2.rpm - 2);
      gates[1]!.resolve();
      expect((await second)!.status).toBe(402);
    } finally {
      for (const g of gates) g.resolve();
      await served.close(1000);
      await gateway.close();
      await router.close();
      await stores.close();
    }
  });
});

describe('the rate-limit headers of a 402 on core\'s Redis limiter, two scopes as constrained after the refund', () => {
  const W = 60_000;
  // Small limits: a token drains in 600 ms (tenant) and 300 ms (key), so the limiter right after the release still
  // has the levels the release left.
  const TENANT_TPM = 100;
  const KEY_TPM = 200;
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await startTestRedis();
  }, 60_000);
  afterAll(() => redis?.stop());

  it('tenant tpm 100 and key tpm 200, as few tokens left in both once the charge is refunded: the headers name the scope the limiter names', async () => {
    const memory = await createStateStores({ mode: 'memory' });
    const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
    const [connection, rl] = await Promise.all(['redis-connection', 'redis-rate-limiter'].map((n) => import(/* @vite-ignore */ file(n))));
    const prefix = `scope${randomBytes(4).toString('hex')}:`;
    const handle = await connection.connectRedis(redis!.url, prefix);
    const redisLimiter = new rl.RedisRateLimiter(handle, { timeoutMs: 2000 }) as RateLimiter;
    let keyId = '';
    let charged: number | undefined;
    let afterRelease: RateLimitInfo | undefined;
    /** Ms from the charging acquire's answer to the limiter's numbers after the release (the buckets drain meanwhile). */
    let elapsed = 0;
    // Core's Redis limiter; before the call's acquire, the buckets are set for its charge `t` (a bucket stamped ahead
    // of Redis's clock drains nothing until the acquire takes it: the levels are exact); right after its release,
    // what the limiter says.
    const limiter: RateLimiter = {
      async acquire(scopes: RateScope[], options: RateAcquireOptions) {
        const t = options.estimatedTokens;
        if (t > 0) {
          charged = t;
          const ahead = Date.now() + 3_600_000;
          // Tenant: exactly t left. Key: t and 0.01 of a token left (full again a bit earlier than the tenant once
          // charged: the acquire's numbers name the tenant, none left in either).
          await handle.command(['SET', `${prefix}rl:tenant:acme:tpm-level`, `${ahead} ${(TENANT_TPM - t) * W} ${TENANT_TPM}`]);
          await handle.command(['SET', `${prefix}rl:key:${keyId}:tpm-level`, `${ahead} ${(KEY_TPM - t) * W - 600} ${KEY_TPM}`]);
        }
        const d = await redisLimiter.acquire(scopes, options);
        if (!d.ok || t === 0) return d;
        expect(d.info).toMatchObject({ limitTokens: TENANT_TPM, remainingTokens: 0 });
        const answered = Date.now();
        const release = d.lease.release.bind(d.lease);
        d.lease.release = async (actual?: number) => {
          await release(actual);
          afterRelease = await redisLimiter.peek(scopes);
          elapsed = Date.now() - answered;
        };
        return d;
      },
      peek: (scopes) => redisLimiter.peek(scopes),
      renew: (leases) => redisLimiter.renew!(leases),
      close: () => redisLimiter.close(),
    };
    const stores = { ...memory, mode: 'shared', rateLimiter: limiter } as StateStores;
    const router = new LLMRouter({ models: [mockModel('mock')], routing: { strategy: 'priority', retries: { max: 0 } } }, { env: {} });
    const gateway = createGateway({ router, stores, log: () => {} });
    let served: ServedGateway | undefined;
    try {
      await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { tpm: TENANT_TPM }, budget: { amountUsd: 0.000001, period: 'total' } });
      const created = await stores.tenants.createKey('acme', { name: 'k', limits: { tpm: KEY_TPM } });
      keyId = created.key.id;
      served = await serveGateway(gateway, { port: 0 });
      const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: created.secret, maxRetries: 0 });
      const e = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 1, llmrr: { cache: false } } as OpenAI.ChatCompletionCreateParamsNonStreaming).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(OpenAI.APIError);
      const refusal = e as InstanceType<typeof OpenAI.APIError>;
      expect(refusal.status).toBe(402);
      expect(charged).toBeGreaterThan(0);
      expect(charged).toBeLessThan(TENANT_TPM);
      // The limiter: the key (200), `charged` left, full again in about 60 - charged * 0.3 s (the tenant's 100 would
      // be full again in 60 - charged * 0.6 s).
      expect(afterRelease).toMatchObject({ limitTokens: KEY_TPM, remainingTokens: charged });
      expect({ limit: refusal.headers!.get('x-ratelimit-limit-tokens'), remaining: refusal.headers!.get('x-ratelimit-remaining-tokens') }).toEqual({
        limit: String(KEY_TPM),
        remaining: String(charged),
      });
      // The headers are the numbers at the acquire's time: the limiter's reset later, by the ms elapsed since.
      const reset = Number(/^(\d+)s$/.exec(refusal.headers!.get('x-ratelimit-reset-tokens') ?? '')?.[1]);
      const truth = afterRelease!.resetTokensMs!;
      expect(reset).toBeGreaterThanOrEqual(Math.ceil(truth / 1000));
      expect(reset).toBeLessThanOrEqual(Math.ceil((truth + elapsed) / 1000));
    } finally {
      await served?.close(1000);
      await gateway.close();
      await router.close();
      await limiter.close();
      await memory.close();
    }
  });
});
