/**
 * The `x-ratelimit-*` headers of a JSON answer say where the limits stand once the call is done, what a client paces
 * its next request by (as OpenAI's `x-ratelimit-remaining-*` and LiteLLM's post-call headers do): the request counted,
 * its tokens counted as the upstream reported them (not the admission's one-token-a-byte bound plus max output), its
 * concurrency slot free again. Before, they carried the admission's numbers: a tokens-left far below what the next
 * request really has, and a concurrency slot taken that was already given back. A stream's headers go out while it
 * runs: they keep the admission's numbers (documented). Checked through the openai client against a served gateway
 * and an OpenAI-wire upstream, with the memory limiter and with core's Redis limiter on a real Redis (tools/services,
 * unless LLMRR_TEST_REDIS_URL is set).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createStateStores, LLMRouter, type RateLimiter, type StateStores } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';

/** English prose: 3,900 bytes, bounded at 3,908 tokens at admission; the upstream reports 105 used. */
const PROSE = 'hello world. '.repeat(300);
const LIMITS = { rpm: 10, tpm: 5_000, maxConcurrency: 2 };
const USED = { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105 };

let upstream: OpenAIWireServer;
let redis: TestRedis | undefined;

beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: { text: 'hi there you', usage: USED } });
  redis = await startTestRedis();
}, 60_000);
afterAll(async () => {
  await upstream?.close();
  redis?.stop();
});

async function setup(kind: 'memory' | 'redis') {
  const memory = await createStateStores({ mode: 'memory' });
  let stores: StateStores = memory;
  let limiter: RateLimiter | undefined;
  if (kind === 'redis') {
    const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
    const [connection, rl] = await Promise.all(['redis-connection', 'redis-rate-limiter'].map((n) => import(/* @vite-ignore */ file(n))));
    const handle = await connection.connectRedis(redis!.url, `frh${randomBytes(4).toString('hex')}:`);
    limiter = new rl.RedisRateLimiter(handle, { timeoutMs: 2000 }) as RateLimiter;
    stores = { ...memory, mode: 'shared', rateLimiter: limiter } as StateStores;
  }
  const router = new LLMRouter({
    models: [{ name: 'remote', engine: 'openai-compatible', baseURL: `${upstream.baseURL}`, apiKey: 'test-upstream', model: 'gpt-test' }],
    routing: { strategy: 'priority', retries: { max: 0 } },
  });
  const gateway = createGateway({ router, stores, log: () => {} });
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS });
  const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
  const served: ServedGateway = await serveGateway(gateway, { port: 0 });
  const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
  return {
    stores,
    client,
    async close() {
      await served.close(1000);
      await gateway.close();
      await router.close();
      await limiter?.close();
      await memory.close();
    },
  };
}

const shown = (h: Headers) => ({
  requests: Number(h.get('x-ratelimit-remaining-requests')),
  legacyRequests: Number(h.get('x-ratelimit-remaining')),
  tokens: Number(h.get('x-ratelimit-remaining-tokens')),
  concurrency: Number(h.get('x-ratelimit-remaining-concurrency')),
  resetTokens: h.get('x-ratelimit-reset-tokens'),
});

describe.each(['memory', 'redis'] as const)('x-ratelimit-* headers of an answer (%s limiter)', (kind) => {
  it('a JSON answer says what is left once the call is done: its real tokens counted, its slot free', async () => {
    const s = await setup(kind);
    try {
      const started = Date.now();
      const ask = () => s.client.chat.completions.create({ model: 'remote', max_tokens: 5, messages: [{ role: 'user', content: PROSE }] }).withResponse();
      const first = await ask();
      expect(first.data.usage?.total_tokens).toBe(105);
      const h1 = shown(first.response.headers);
      // Before: tokens 5,000 - 3,913 (the admission bound) = 1,087 and concurrency 1 (its own slot, freed before the reply).
      expect(h1.concurrency).toBe(2);
      expect(h1.tokens).toBeGreaterThanOrEqual(5_000 - 105);
      expect(h1.tokens).toBeLessThanOrEqual(5_000);
      expect(h1.requests).toBe(9);
      expect(h1.legacyRequests).toBe(9);
      // What the limiter itself says now (the same numbers, give or take what refilled since the answer).
      const peek = await s.stores.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits: LIMITS }]);
      expect(peek.remainingConcurrency).toBe(2);
      expect(Math.abs(peek.remainingTokens! - h1.tokens)).toBeLessThanOrEqual(Math.ceil(((Date.now() - started) * LIMITS.tpm) / 60_000) + 1);

      const second = shown((await ask()).response.headers);
      expect(second).toMatchObject({ requests: 8, concurrency: 2 });
      expect(second.tokens).toBeGreaterThanOrEqual(5_000 - 2 * 105);
      // The tokens bucket is full again within a minute of the last charge: `<seconds>s`, at most 60.
      expect(second.resetTokens).toMatch(/^\d+s$/);
      expect(Number.parseInt(second.resetTokens!, 10)).toBeLessThanOrEqual(60);
    } finally {
      await s.close();
    }
  });

  it("a stream's headers, sent while it runs, keep the admission's numbers (its bound charged, its slot held)", async () => {
    const s = await setup(kind);
    try {
      const { data: stream, response } = await s.client.chat.completions
        .create({ model: 'remote', max_tokens: 5, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: PROSE }] })
        .withResponse();
      for await (const _ of stream) void _;
      const h = shown(response.headers);
      expect(h).toMatchObject({ requests: 9, concurrency: 1 });
      expect(h.tokens).toBeLessThan(5_000 - 3_000);
      // Once it ended, the charge was corrected to the usage and the slot freed (the next answer's headers say so).
      const after = shown((await s.client.chat.completions.create({ model: 'remote', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }).withResponse()).response.headers);
      expect(after.concurrency).toBe(2);
      expect(after.tokens).toBeGreaterThanOrEqual(5_000 - 2 * 105);
    } finally {
      await s.close();
    }
  });
});
