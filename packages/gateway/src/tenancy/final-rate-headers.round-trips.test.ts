/**
 * A JSON answer's `x-ratelimit-*` headers say what is left once its call is done (`Admission.finalInfo`), at no more
 * Redis round trips than the call's release makes anyway. Under rpm limits only, a lease has nothing to free or correct:
 * its release sends nothing, and its final numbers are the acquire's as the release leaves them (`releasedInfo`). Before,
 * the release-and-read script ran for it anyway: one call cost two EVALSHA, not one (counted here by Redis itself, INFO
 * commandstats on a Redis of this file's own). A stream refused before it opened (its upstream failed) is answered with
 * a JSON error whose headers go out after its place was given back: they say so too (before: the admission's numbers,
 * its slot still shown taken), and a stream that opened costs no more than before. An upstream's error on a JSON call
 * (chat and embeddings) says the same. A 402 raised after admission (a cache-only call's miss) counts the requests others
 * made while the call ran, under Redis rpm limits too (before: the acquire's numbers, one request short). A client that
 * left gets its place given back by a plain release, nothing read. The openai client against a served gateway and an
 * OpenAI-wire upstream.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createStateStores, LLMRouter, type Limits, type RateLimiter, type StateStores } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';

/** English prose: 3,900 bytes, bounded at about 3,900 tokens at admission; the upstream reports 105 used. */
const PROSE = 'hello world. '.repeat(300);
const USED = { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105 };

let upstream: OpenAIWireServer;
let failing: OpenAIWireServer;
/** Answers after the client has had time to leave (a lower bound only: the client leaves once its request arrived). */
let slow: OpenAIWireServer;
let redis: TestRedis;

beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: { text: 'hi there you', usage: USED } });
  failing = await startOpenAIWireServer({ script: { error: { status: 500, message: 'upstream is down' } } });
  slow = await startOpenAIWireServer({ script: { text: 'late', usage: USED, delayMs: 3_000 } });
  // Its own server: its command statistics are this file's alone.
  redis = await startTestRedis({ own: true });
}, 60_000);
afterAll(async () => {
  await upstream?.close();
  await failing?.close();
  await slow?.close();
  redis?.stop();
});

async function redisHandle(prefix: string) {
  const file = fileURLToPath(new URL('../../../core/src/stores/redis/redis-connection.ts', import.meta.url));
  const connection = await import(/* @vite-ignore */ file);
  return connection.connectRedis(redis.url, prefix);
}

/** `inner`, but each granted acquire lets one other request take a place under the same scopes at once (while the call runs). */
function withOtherRequest(inner: RateLimiter): RateLimiter {
  return {
    async acquire(scopes, options) {
      const decision = await inner.acquire(scopes, options);
      if (decision.ok) await inner.acquire(scopes, { estimatedTokens: 0 });
      return decision;
    },
    peek: (scopes) => inner.peek(scopes),
    close: () => inner.close(),
  };
}

async function setup(kind: 'memory' | 'redis', limits: Limits, options: { budgetUsd?: number; wrap?: (inner: RateLimiter) => RateLimiter } = {}) {
  const memory = await createStateStores({ mode: 'memory' });
  let stores: StateStores = memory;
  let limiter: RateLimiter | undefined;
  if (kind === 'redis') {
    const file = fileURLToPath(new URL('../../../core/src/stores/redis/redis-rate-limiter.ts', import.meta.url));
    const rl = await import(/* @vite-ignore */ file);
    limiter = new rl.RedisRateLimiter(await redisHandle(`frt${randomBytes(4).toString('hex')}:`), { timeoutMs: 5000 }) as RateLimiter;
    stores = { ...memory, mode: 'shared', rateLimiter: limiter } as StateStores;
  }
  if (options.wrap) stores = { ...stores, rateLimiter: options.wrap(stores.rateLimiter) } as StateStores;
  const base = { engine: 'openai-compatible' as const, apiKey: 'test-upstream', model: 'gpt-test', capabilities: ['chat', 'streaming', 'embeddings'] as ('chat' | 'streaming' | 'embeddings')[] };
  const router = new LLMRouter({
    models: [
      { ...base, name: 'remote', baseURL: upstream.baseURL },
      { ...base, name: 'broken', baseURL: failing.baseURL },
      { ...base, name: 'priced', baseURL: upstream.baseURL, price: { input: 3, output: 15 } },
      { ...base, name: 'slow', baseURL: slow.baseURL },
    ],
    routing: { strategy: 'priority', retries: { max: 0 } },
  });
  const gateway = createGateway({ router, stores, log: () => {} });
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits, ...(options.budgetUsd !== undefined ? { budget: { amountUsd: options.budgetUsd, period: 'month' as const } } : {}) });
  const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
  const served: ServedGateway = await serveGateway(gateway, { port: 0 });
  const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
  return {
    stores,
    client,
    ask: (model = 'remote') => client.chat.completions.create({ model, max_tokens: 5, messages: [{ role: 'user', content: PROSE }] }).withResponse(),
    async close() {
      await served.close(1000);
      await gateway.close();
      await router.close();
      await limiter?.close();
      await memory.close();
    },
  };
}

/** The headers of an error the openai client threw. */
async function errorHeaders(call: Promise<unknown>, status: number): Promise<Headers> {
  const e = await call.then(
    () => expect.unreachable('answered'),
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(OpenAI.APIError);
  expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
  return (e as InstanceType<typeof OpenAI.APIError>).headers ?? new Headers();
}

const shown = (h: Headers) => ({
  requests: Number(h.get('x-ratelimit-remaining-requests')),
  tokens: h.has('x-ratelimit-remaining-tokens') ? Number(h.get('x-ratelimit-remaining-tokens')) : undefined,
  concurrency: h.has('x-ratelimit-remaining-concurrency') ? Number(h.get('x-ratelimit-remaining-concurrency')) : undefined,
});

/** Calls per command name since the last `CONFIG RESETSTAT`, as Redis counts them (INFO commandstats). */
async function commandStats(): Promise<Record<string, number>> {
  const probe = await redisHandle('stats:');
  try {
    const text = String(await probe.command(['INFO', 'commandstats']));
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
    return out;
  } finally {
    await probe.release();
  }
}

async function resetStats(): Promise<void> {
  const probe = await redisHandle('stats:');
  try {
    await probe.command(['CONFIG', 'RESETSTAT']);
  } finally {
    await probe.release();
  }
}

/** EVALSHA (and EVAL: a script's first run) per call of `calls` runs of `run`, after one run that loads the scripts. */
async function scriptsPerCall(run: () => Promise<unknown>, calls = 5): Promise<{ evalsha: number; eval: number }> {
  await run();
  await resetStats();
  for (let i = 0; i < calls; i++) await run();
  const stats = await commandStats();
  return { evalsha: (stats.evalsha ?? 0) / calls, eval: (stats.eval ?? 0) / calls };
}

describe('Redis round trips of one call (its own Redis, INFO commandstats)', () => {
  it('rpm limits only: a JSON answer costs one EVALSHA (the acquire), its headers counting it', async () => {
    const limits = { rpm: 10 };
    const s = await setup('redis', limits);
    try {
      // Before: 2 (the acquire, then the release-and-read script of a lease with nothing to release).
      expect(await scriptsPerCall(() => s.ask())).toEqual({ evalsha: 1, eval: 0 });
      // Seven calls so far: the headers count this one too (3 left, and what refilled since, one each 6 s).
      const requests = shown((await s.ask()).response.headers).requests;
      expect(requests).toBeGreaterThanOrEqual(10 - 7);
      expect(requests).toBeLessThanOrEqual((await s.stores.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits }])).remainingRequests!);
    } finally {
      await s.close();
    }
  });

  it('rpm limits only: a JSON upstream error, and a stream that failed before it opened, cost one EVALSHA', async () => {
    const s = await setup('redis', { rpm: 100 });
    try {
      expect(await scriptsPerCall(() => s.ask('broken').catch(() => undefined))).toEqual({ evalsha: 1, eval: 0 });
      const stream = () => s.client.chat.completions.create({ model: 'broken', stream: true, messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined);
      expect(await scriptsPerCall(stream)).toEqual({ evalsha: 1, eval: 0 });
    } finally {
      await s.close();
    }
  });

  it('under a concurrency limit: two EVALSHA per call, the JSON answer, a stream, a stream that failed to open alike', async () => {
    const s = await setup('redis', { rpm: 1000, tpm: 1_000_000, maxConcurrency: 4 });
    try {
      // The acquire, and the release (which reads what is left in the same script for a reply sent after it).
      expect(await scriptsPerCall(() => s.ask())).toEqual({ evalsha: 2, eval: 0 });
      const stream = async (model: string) => {
        const it = await s.client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] });
        for await (const _ of it) void _;
      };
      expect(await scriptsPerCall(() => stream('remote'))).toEqual({ evalsha: 2, eval: 0 });
      expect(await scriptsPerCall(() => stream('broken').catch(() => undefined))).toEqual({ evalsha: 2, eval: 0 });
    } finally {
      await s.close();
    }
  });
});

describe.each(['memory', 'redis'] as const)('the headers of a call that failed after admission (%s limiter)', (kind) => {
  const LIMITS = { rpm: 10, tpm: 5_000, maxConcurrency: 2 };

  it('a stream whose upstream failed before it opened: the JSON 502 says its slot is free and its tokens refunded', async () => {
    const s = await setup(kind, LIMITS);
    try {
      const h = shown(await errorHeaders(s.client.chat.completions.create({ model: 'broken', stream: true, max_tokens: 5, messages: [{ role: 'user', content: PROSE }] }), 502));
      // Before: concurrency 1 (its own slot, given back before the reply) and tokens 5,000 less its admission bound.
      expect(h).toMatchObject({ requests: 9, concurrency: 2 });
      expect(h.tokens).toBeGreaterThanOrEqual(5_000 - 1);
      expect((await s.stores.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits: LIMITS }])).remainingConcurrency).toBe(2);
    } finally {
      await s.close();
    }
  });

  it('a JSON chat call whose upstream failed: the 502 says where the limits stand once it gave its place back', async () => {
    const s = await setup(kind, LIMITS);
    try {
      const h = shown(await errorHeaders(s.ask('broken'), 502));
      expect(h).toMatchObject({ requests: 9, concurrency: 2 });
      expect(h.tokens).toBeGreaterThanOrEqual(5_000 - 1);
    } finally {
      await s.close();
    }
  });

  it('an embeddings call whose upstream failed: the same', async () => {
    const s = await setup(kind, LIMITS);
    try {
      const h = shown(await errorHeaders(s.client.embeddings.create({ model: 'broken', input: PROSE }), 502));
      expect(h).toMatchObject({ requests: 9, concurrency: 2 });
      expect(h.tokens).toBeGreaterThanOrEqual(5_000 - 1);
      // A stream request's successful answer keeps the admission's numbers (its headers went out while it ran).
      const { response } = await s.client.chat.completions.create({ model: 'remote', stream: true, max_tokens: 5, messages: [{ role: 'user', content: PROSE }] }).withResponse();
      expect(shown(response.headers)).toMatchObject({ requests: 8, concurrency: 1 });
    } finally {
      await s.close();
    }
  });
});

describe.each(['memory', 'redis'] as const)('a 402 raised after admission under rpm limits only (%s limiter)', (kind) => {
  // The budget cannot cover the priced call: it is admitted cache-only, misses, and is refused after its `finish`.
  // Meanwhile one other request takes a place under the same limits: the 402's headers count it (10 - 2).
  it('a JSON call: its headers count the request another made while it ran', async () => {
    const s = await setup(kind, { rpm: 10 }, { budgetUsd: 0.000001, wrap: withOtherRequest });
    try {
      // Before: 9 under Redis (the acquire's numbers as the release left them, no read), 8 in memory.
      expect(shown(await errorHeaders(s.ask('priced'), 402)).requests).toBe(8);
    } finally {
      await s.close();
    }
  });

  it('a stream refused before it opened: the same', async () => {
    const s = await setup(kind, { rpm: 10 }, { budgetUsd: 0.000001, wrap: withOtherRequest });
    try {
      const h = await errorHeaders(s.client.chat.completions.create({ model: 'priced', stream: true, max_tokens: 5, messages: [{ role: 'user', content: PROSE }] }), 402);
      expect(shown(h).requests).toBe(8);
    } finally {
      await s.close();
    }
  });
});

describe('a client that left before its answer', () => {
  /** `inner`, its leases' plain releases and releases that read what is left (`releaseAndPeek`) counted. */
  function counting(inner: RateLimiter, counts: { releases: number; reads: number }): RateLimiter {
    return {
      async acquire(scopes, options) {
        const d = await inner.acquire(scopes, options);
        if (!d.ok) return d;
        const release = d.lease.release.bind(d.lease);
        const releaseAndPeek = d.lease.releaseAndPeek!.bind(d.lease);
        d.lease.release = (t) => (counts.releases++, release(t));
        d.lease.releaseAndPeek = (t, fresh) => (counts.reads++, releaseAndPeek(t, fresh));
        return d;
      },
      peek: (scopes) => inner.peek(scopes),
      close: () => inner.close(),
    };
  }

  it.each([false, true])('stream %s: its place is given back by a plain release (nobody reads what is left)', async (stream) => {
    const counts = { releases: 0, reads: 0 };
    const s = await setup('memory', { rpm: 100, maxConcurrency: 2 }, { wrap: (inner) => counting(inner, counts) });
    try {
      const seen = slow.requests.length;
      const leaving = new AbortController();
      const call = s.client.chat.completions.create({ model: 'slow', stream, messages: [{ role: 'user', content: 'hi' }] }, { signal: leaving.signal }).then(
        () => undefined,
        () => undefined,
      );
      await vi.waitFor(() => expect(slow.requests.length).toBeGreaterThan(seen), { timeout: 5_000 });
      leaving.abort();
      await call;
      // Before: read (a JSON call's, a stream's that had not opened), for headers nobody receives.
      await vi.waitFor(() => expect(counts.releases + counts.reads).toBe(1), { timeout: 5_000 });
      expect(counts).toEqual({ releases: 1, reads: 0 });
    } finally {
      await s.close();
    }
  });
});
