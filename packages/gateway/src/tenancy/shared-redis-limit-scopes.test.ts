/**
 * Two gateways sharing one real Redis (core's Redis limiter, a connection each; tenants and keys in one store): a key's
 * limit and its tenant's are each counted across both, and a 429 says which refused and when to come back: its
 * `x-ratelimit-*` headers are the refusing scope's, its `Retry-After` the wait until every scope admits the request
 * (the longest of the refusing scopes'). A streamed call the client leaves holds its token estimate while it runs and
 * leaves only what it used charged once it is given back, as the other gateway's limiter reads it.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createStateStores, LLMRouter, type RateLimiter, type StateStores } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { send } from '../test-support/raw-http.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';

let redis: TestRedis;
let upstream: OpenAIWireServer;
let memory: StateStores;
const closers: Array<() => Promise<unknown>> = [];
const urls: string[] = [];
const limiters: RateLimiter[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  upstream = await startOpenAIWireServer({
    script: (req) => {
      // The held stream: five chunks, then nothing until the client goes.
      if (JSON.stringify(req.body).includes('hold')) return { text: 'one two three four five six seven eight '.repeat(50), chunks: 20, hangAfterChunks: 5, usage: { prompt_tokens: 10, completion_tokens: 400, total_tokens: 410 } };
      return { text: 'one two three four five six seven eight', usage: { prompt_tokens: 10, completion_tokens: 8, total_tokens: 18 } };
    },
  });
  memory = await createStateStores({ mode: 'memory' });
  const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
  const [connection, rl] = await Promise.all(['redis-connection', 'redis-rate-limiter'].map((n) => import(/* @vite-ignore */ file(n))));
  const prefix = `scopes${randomBytes(4).toString('hex')}:`;
  for (let i = 0; i < 2; i++) {
    const handle = await connection.connectRedis(redis.url, prefix);
    const limiter = new rl.RedisRateLimiter(handle, { timeoutMs: 2000 }) as RateLimiter;
    limiters.push(limiter);
    const router = new LLMRouter(
      { models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'k', model: 'gpt-test', price: { input: 1, output: 1 }, capabilities: ['chat', 'streaming'] }], routing: { strategy: 'priority', retries: { max: 0 } } },
      { env: {} },
    );
    const gateway = createGateway({ router, stores: { ...memory, mode: 'shared', rateLimiter: limiter } as StateStores, log: () => {} });
    const served: ServedGateway = await serveGateway(gateway, { port: 0 });
    urls.push(served.url);
    closers.push(async () => {
      await served.close(1000);
      await gateway.close();
      await router.close();
      await limiter.close();
    });
  }
}, 120_000);

afterAll(async () => {
  for (const c of closers) await c();
  await memory?.close();
  await upstream?.close();
  redis?.stop();
});

const chat = (url: string, secret: string, body: Record<string, unknown>) =>
  send(url, 'POST', '/v1/chat/completions', JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hello' }], ...body }), { authorization: `Bearer ${secret}`, 'content-type': 'application/json' });

describe('two gateways, one Redis', () => {
  it('key and tenant scopes across gateways: a 429 names the refusing scope in its headers, Retry-After its wait', async () => {
    await memory.tenants.createTenant({ id: 't1', name: 'T1', limits: { rpm: 3 } });
    const a = await memory.tenants.createKey('t1', { name: 'a', limits: { rpm: 1 } });
    const b = await memory.tenants.createKey('t1', { name: 'b' });
    const shown = (r: Awaited<ReturnType<typeof chat>>) => ({ status: r.status, retryAfter: Number(r.headers['retry-after']), limit: r.headers['x-ratelimit-limit-requests'], remaining: r.headers['x-ratelimit-remaining-requests'] });
    expect((await chat(urls[0]!, a.secret, {})).status).toBe(200);
    // Key a's 1 rpm, taken through the other gateway: its wait is the minute (rpm 1), its headers the key's.
    const keyRefused = shown(await chat(urls[1]!, a.secret, {}));
    expect(keyRefused).toMatchObject({ status: 429, limit: '1', remaining: '0' });
    expect(keyRefused.retryAfter).toBeGreaterThanOrEqual(59);
    expect(keyRefused.retryAfter).toBeLessThanOrEqual(60);
    // The tenant's 3 rpm: a's request and b's two, through both gateways; b's next waits a third of a minute.
    expect((await chat(urls[1]!, b.secret, {})).status).toBe(200);
    expect((await chat(urls[0]!, b.secret, {})).status).toBe(200);
    const tenantRefused = await chat(urls[1]!, b.secret, {});
    expect(shown(tenantRefused)).toMatchObject({ status: 429, limit: '3', remaining: '0' });
    expect(shown(tenantRefused).retryAfter).toBeGreaterThanOrEqual(19);
    expect(shown(tenantRefused).retryAfter).toBeLessThanOrEqual(20);
    expect(tenantRefused.body).toContain('Rate limit of tenant \\"t1\\"');
    // Both refuse a's next: it waits for the key's minute, the longer.
    const both = await chat(urls[0]!, a.secret, {});
    expect(shown(both)).toMatchObject({ status: 429, remaining: '0' });
    expect(shown(both).retryAfter).toBeGreaterThanOrEqual(59);
    expect(both.body).toContain('Rate limit of key');
  });

  it('tpm: a streamed call the client leaves holds its estimate while it runs, and only what it used once given back', async () => {
    // (tpm 600: a token flows back every 100 ms, little beside the call's numbers.)
    const limits = { tpm: 600 };
    await memory.tenants.createTenant({ id: 't2', name: 'T2', limits });
    const k = await memory.tenants.createKey('t2', { name: 'k' });
    const scope = [{ kind: 'tenant' as const, id: 't2', limits }];
    const ac = new AbortController();
    const res = await fetch(`${urls[0]}/v1/chat/completions`, { method: 'POST', signal: ac.signal, headers: { authorization: `Bearer ${k.secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt', stream: true, messages: [{ role: 'user', content: 'hold' }] }) });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let got = '';
    while (!got.includes('five')) got += new TextDecoder().decode((await reader.read()).value);
    // Read through the other gateway's limiter: the estimate (prompt and 256 output tokens) is held.
    const held = 600 - (await limiters[1]!.peek(scope)).remainingTokens!;
    expect(held).toBeGreaterThanOrEqual(250);
    ac.abort();
    // Given back once the call settles: what it used (its prompt and the text it streamed, as its ledger row counts
    // them) stays charged, less what flowed back since.
    await expect.poll(async () => 600 - (await limiters[1]!.peek(scope)).remainingTokens!, { timeout: 10_000, interval: 20 }).toBeLessThan(held / 2);
    const rows = await memory.ledger.query({ tenantId: 't2' });
    expect(rows.map((r) => r.status)).toEqual(['aborted']);
    const used = rows[0]!.inputTokens + rows[0]!.outputTokens;
    const charged = 600 - (await limiters[1]!.peek(scope)).remainingTokens!;
    expect(used).toBeGreaterThan(0);
    expect(charged).toBeGreaterThan(0);
    expect(charged).toBeLessThanOrEqual(used);
  });
});
