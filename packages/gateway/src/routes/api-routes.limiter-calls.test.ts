/**
 * What one `/api/route` preview costs the rate limiter. It took its place (acquire), gave it back (a release: a Redis
 * script when a concurrency limit holds a slot) and then read what was left for its headers (a peek): three calls,
 * three Redis scripts. Now the release reads what is left in its own script (`RateLease.releaseAndPeek`): two. Under no
 * concurrency limit nothing is held, so nothing is given back and the headers are the acquire's numbers: one. Counted on
 * core's Redis limiter against a real Redis (each `EVALSHA`/`EVAL` and other command the limiter sends), and on the
 * memory limiter (its calls), with the headers still saying where the limits stand.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createStateStores, LLMRouter, type CountTokensOptions, type GenerateRequest, type Limits, type RateLease, type RateLimiter, type StateStores } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { mockModel } from '../test-support/harness.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';

let redis: TestRedis | undefined;
beforeAll(async () => {
  redis = await startTestRedis();
}, 60_000);
afterAll(() => redis?.stop());

/** The memory limiter, its calls and its leases' calls counted by name. */
function counted(inner: RateLimiter, calls: string[]): RateLimiter {
  const lease = (l: RateLease): RateLease => ({
    release: (t) => (calls.push('release'), l.release(t)),
    ...(l.releaseAndPeek ? { releaseAndPeek: (t?: number) => (calls.push('releaseAndPeek'), l.releaseAndPeek!(t)) } : {}),
    ...(l.releasedInfo ? { releasedInfo: () => l.releasedInfo!() } : {}),
  });
  return {
    acquire: async (scopes, options) => {
      calls.push('acquire');
      const d = await inner.acquire(scopes, options);
      return d.ok ? { ...d, lease: lease(d.lease) } : d;
    },
    peek: (scopes) => (calls.push('peek'), inner.peek(scopes)),
    close: () => inner.close(),
  };
}

async function setup(kind: 'memory' | 'redis', limits: Limits) {
  const memory = await createStateStores({ mode: 'memory' });
  const calls: string[] = [];
  let stores: StateStores;
  let limiter: RateLimiter;
  if (kind === 'redis') {
    const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
    const [connection, rl] = await Promise.all(['redis-connection', 'redis-rate-limiter'].map((n) => import(/* @vite-ignore */ file(n))));
    const handle = await connection.connectRedis(redis!.url, `alc${randomBytes(4).toString('hex')}:`);
    // Every command the limiter sends: its scripts (`eval`) and the rest (`command`).
    const evalOf = handle.eval.bind(handle);
    const commandOf = handle.command.bind(handle);
    vi.spyOn(handle, 'eval').mockImplementation((...a: unknown[]) => (calls.push('script'), evalOf(...a)));
    // (Not the EVAL a script's first run falls back to once Redis has not seen it yet: NOSCRIPT, loaded once per server.)
    vi.spyOn(handle, 'command').mockImplementation((...a: unknown[]) => {
      const name = String((a[0] as string[])[0]);
      if (name !== 'EVAL') calls.push(name);
      return commandOf(...a);
    });
    limiter = new rl.RedisRateLimiter(handle, { timeoutMs: 2000 }) as RateLimiter;
    stores = { ...memory, mode: 'shared', rateLimiter: limiter } as StateStores;
  } else {
    limiter = counted(memory.rateLimiter, calls);
    stores = { ...memory, rateLimiter: limiter };
  }
  const router = new LLMRouter({ models: [mockModel('a')], routing: { strategy: 'priority', retries: { max: 0 } } });
  const gateway = createGateway({ router, stores, log: () => {} });
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits });
  const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
  const route = () =>
    gateway.fetch(
      new Request('http://gateway/api/route', {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'which one?' }),
      }),
    );
  return {
    calls,
    route,
    peek: () => limiter.peek([{ kind: 'tenant', id: 'acme', limits }]),
    async close() {
      await gateway.close();
      await router.close();
      if (kind === 'redis') await limiter.close();
      await memory.close();
    },
  };
}

describe.each(['memory', 'redis'] as const)('/api/route: the limiter calls of one preview (%s limiter)', (kind) => {
  it('under a concurrency limit: two (take the place; give it back and read what is left at once), headers after the release', async () => {
    const s = await setup(kind, { rpm: 10, maxConcurrency: 2 });
    try {
      s.calls.length = 0;
      const res = await s.route();
      expect(res.status).toBe(200);
      // Before: acquire, release, peek (three scripts on Redis).
      expect(s.calls).toEqual(kind === 'redis' ? ['script', 'script'] : ['acquire', 'releaseAndPeek']);
      expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('9');
      expect(res.headers.get('x-ratelimit-remaining-concurrency')).toBe('2');
      s.calls.length = 0;
      expect((await s.route()).headers.get('x-ratelimit-remaining-requests')).toBe('8');
      expect(s.calls).toEqual(kind === 'redis' ? ['script', 'script'] : ['acquire', 'releaseAndPeek']);
      expect((await s.peek()).remainingConcurrency).toBe(2);
    } finally {
      await s.close();
    }
  });

  it('under no concurrency limit: one, the acquire (nothing held, nothing to give back)', async () => {
    const s = await setup(kind, { rpm: 10, tpm: 1_000 });
    try {
      s.calls.length = 0;
      const res = await s.route();
      expect(res.status).toBe(200);
      // Before: acquire and peek (two scripts on Redis; the release of a lease holding nothing sends none).
      expect(s.calls.filter((c) => c !== 'release')).toEqual(kind === 'redis' ? ['script'] : ['acquire']);
      expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('9');
      expect(res.headers.get('x-ratelimit-remaining-tokens')).toBe('1000');
      expect((await s.route()).headers.get('x-ratelimit-remaining-requests')).toBe('8');
    } finally {
      await s.close();
    }
  });
});

describe('POST /v1/messages/count_tokens: the limiter calls of a remote count (memory limiter)', () => {
  it('two: take the place, give it back with a plain release (nobody reads what is left: the count sends no headers)', async () => {
    const memory = await createStateStores({ mode: 'memory' });
    const calls: string[] = [];
    const router = new LLMRouter({ models: [mockModel('a')], routing: { strategy: 'priority', retries: { max: 0 } } });
    // A count that does network I/O (Anthropic's count endpoint) takes its place under the limits for it.
    const countTokens = async (_request: GenerateRequest, options?: CountTokensOptions) => {
      const permit = await options?.admitRemote?.({ deployment: 'a', provider: 'anthropic' });
      try {
        return { tokens: 3, exact: true, deployment: 'a', model: 'a' };
      } finally {
        await permit?.release();
      }
    };
    const proxied = new Proxy(router, {
      get(target, prop) {
        if (prop === 'countTokens') return countTokens;
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const gateway = createGateway({ router: proxied, stores: { ...memory, rateLimiter: counted(memory.rateLimiter, calls) }, log: () => {} });
    const limits = { rpm: 10, maxConcurrency: 1 };
    try {
      await memory.tenants.createTenant({ id: 'acme', name: 'Acme', limits });
      const { secret } = await memory.tenants.createKey('acme', { name: 'k' });
      const res = await gateway.fetch(
        new Request('http://gateway/v1/messages/count_tokens', {
          method: 'POST',
          headers: { 'x-api-key': secret, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'a', messages: [{ role: 'user', content: 'hi' }] }),
        }),
      );
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await res.json()).toEqual({ input_tokens: 3 });
      // Before: acquire, releaseAndPeek (the release-and-read script on Redis, its answer dropped).
      expect(calls).toEqual(['acquire', 'release']);
      expect((await memory.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits }])).remainingConcurrency).toBe(1);
    } finally {
      await gateway.close();
      await router.close();
      await memory.close();
    }
  });
});
