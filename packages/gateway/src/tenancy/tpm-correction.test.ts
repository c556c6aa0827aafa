/**
 * The tpm charge taken before a call is the admission bound (one token a UTF-8 byte, about 4 times the real count of
 * English): it must hold tpm room only while the call runs, `finish` correcting the charge to the usage the upstream
 * reported. Checked with the memory limiter and with core's Redis limiter (shared mode's) on a real Redis
 * (tools/services, unless LLMRR_TEST_REDIS_URL is set), a JSON call and a streamed one, through the openai client
 * against a served gateway and an OpenAI-wire upstream.
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
import type { Gateway } from '../types.js';

/** English prose: 3,900 bytes, bounded at 3,908 tokens; the upstream reports 100 (what a real tokenizer makes of it). */
const PROSE = 'hello world. '.repeat(300);
const TPM = 5_000;
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

interface Setup {
  stores: StateStores;
  gateway: Gateway;
  served: ServedGateway;
  client: OpenAI;
  close(): Promise<void>;
}

async function setup(kind: 'memory' | 'redis'): Promise<Setup> {
  const memory = await createStateStores({ mode: 'memory' });
  let stores: StateStores = memory;
  let limiter: RateLimiter | undefined;
  if (kind === 'redis') {
    const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
    const [connection, rl] = await Promise.all(['redis-connection', 'redis-rate-limiter'].map((n) => import(/* @vite-ignore */ file(n))));
    const handle = await connection.connectRedis(redis!.url, `tpm${randomBytes(4).toString('hex')}:`);
    limiter = new rl.RedisRateLimiter(handle, { timeoutMs: 2000 }) as RateLimiter;
    stores = { ...memory, mode: 'shared', rateLimiter: limiter } as StateStores;
  }
  const router = new LLMRouter({
    models: [{ name: 'remote', engine: 'openai-compatible', baseURL: `${upstream.baseURL}`, apiKey: 'sk-test', model: 'gpt-test' }],
    routing: { strategy: 'priority', retries: { max: 0 } },
  });
  const gateway = createGateway({ router, stores, log: () => {} });
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { tpm: TPM } });
  const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
  const served = await serveGateway(gateway, { port: 0 });
  const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
  return {
    stores,
    gateway,
    served,
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

describe.each(['memory', 'redis'] as const)('the tpm charge of the one-token-a-byte bound is corrected at release (%s limiter)', (kind) => {
  it('a second call of the same prompt fits once the first has ended, JSON and streamed, and the room left is the real usage', async () => {
    const s = await setup(kind);
    try {
      const started = Date.now();
      const scopes = [{ kind: 'tenant' as const, id: 'acme', limits: { tpm: TPM } }];
      // Bound: 3,908 + 5 = 3,913 of 5,000: a second one beside an uncorrected first would be refused (429).
      for (let i = 0; i < 3; i++) {
        const r = await s.client.chat.completions.create({ model: 'remote', max_tokens: 5, messages: [{ role: 'user', content: PROSE }] });
        expect(r.usage?.total_tokens).toBe(105);
      }
      const stream = await s.client.chat.completions.create({ model: 'remote', max_tokens: 5, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: PROSE }] });
      for await (const _ of stream) void _;
      const remaining = (await s.stores.rateLimiter.peek(scopes)).remainingTokens!;
      // Four calls of 105 real tokens: 5,000 - 420, plus what refilled meanwhile (5,000 a minute).
      const refilled = Math.ceil(((Date.now() - started) * TPM) / 60_000);
      expect(remaining).toBeGreaterThanOrEqual(TPM - 4 * 105);
      expect(remaining).toBeLessThanOrEqual(Math.min(TPM, TPM - 4 * 105 + refilled));
    } finally {
      await s.close();
    }
  });
});
