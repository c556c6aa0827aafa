/**
 * A deployment removed (`unload`, replaced by `load`, a tenant's changed or dropped own model) is retired: no engine is
 * created for it any more (a call that planned it moves on: `no_deployment`, which clients retry), and its engine is
 * closed once idle - at once, or as the last call in flight on it ends; the router's `close()` is only the backstop.
 * (The gguf engine's own cases: gguf-engine.test.ts, "a gguf deployment retired while a call that planned it runs".)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MockEngine } from '../engines/mock/index.js';
import type { EngineFactory } from '../engines/types.js';
import { rejection } from '../test/async.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { LLMRouter } from './llm-router.js';

const servers: OpenAIWireServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A factory of mock engines that counts the engines it created and those closed. */
function countingFactory(delayMs = 0): { factory: EngineFactory; created: () => number; closed: () => number } {
  let created = 0;
  let closed = 0;
  const factory: EngineFactory = () => {
    created++;
    return Object.assign(new MockEngine({ modelId: 'local', delayMs }), {
      close: async () => {
        closed++;
      },
    });
  };
  return { factory, created: () => created, closed: () => closed };
}

describe('a retired deployment leaves no engine open', () => {
  it('unloaded before its engine was created, while a call that planned it runs: no engine is created on it', { timeout: 30_000 }, async () => {
    let router: LLMRouter | undefined;
    const remote = await startOpenAIWireServer({
      script: (_request, n) => {
        if (n === 0) expect(router!.unload('local')).toBe(true);
        return { error: { status: 503, message: 'remote is down' } };
      },
    });
    servers.push(remote);
    const local = countingFactory();
    router = new LLMRouter(
      {
        models: [
          { name: 'remote', engine: 'openai-compatible', baseURL: remote.baseURL, model: 'x', apiKey: 'k' },
          { name: 'local', engine: 'lazy-local' },
        ],
        routing: { retries: { max: 0 } },
      },
      { engineFactories: { 'lazy-local': local.factory } },
    );
    const error = await rejection(router.generate('hi', { model: 'remote', fallbacks: ['local'] }));
    await router.close();
    // The call ends with the error of the deployment it tried; local, removed before the call reached it, made none.
    expect({ code: error.code, deployment: error.deployment, created: local.created(), closed: local.closed() }).toEqual({
      code: 'provider_unavailable',
      deployment: 'remote',
      created: 0,
      closed: 0,
    });
  });

  it('unloaded while a call runs on it: the call ends normally, then its engine is closed (the router lives on)', { timeout: 30_000 }, async () => {
    const local = countingFactory(300);
    const router = new LLMRouter({ models: [{ name: 'local', engine: 'lazy-local' }, { name: 'other', engine: 'mock' }] }, { engineFactories: { 'lazy-local': local.factory } });
    try {
      const call = router.generate('hi', { model: 'local' });
      await expect.poll(() => local.created(), { timeout: 10_000 }).toBe(1);
      expect(router.unload('local')).toBe(true);
      expect(local.closed()).toBe(0);
      expect((await call).deployment).toBe('local');
      await expect.poll(() => local.closed(), { timeout: 5_000 }).toBe(1);
    } finally {
      await router.close();
    }
    // close() does not close it a second time.
    expect({ created: local.created(), closed: local.closed() }).toEqual({ created: 1, closed: 1 });
  });

  it('replaced by load() while a call runs on it: the old engine is closed once that call ends, the new one serves', { timeout: 30_000 }, async () => {
    const local = countingFactory(300);
    const router = new LLMRouter({ models: [{ name: 'local', engine: 'lazy-local' }] }, { engineFactories: { 'lazy-local': local.factory } });
    try {
      const call = router.generate('hi');
      call.catch(() => {});
      await expect.poll(() => local.created(), { timeout: 10_000 }).toBe(1);
      router.load([{ name: 'local', engine: 'lazy-local', maxOutputTokens: 100 }]);
      expect((await call).deployment).toBe('local');
      await expect.poll(() => local.closed(), { timeout: 5_000 }).toBe(1);
      expect((await router.generate('again')).deployment).toBe('local');
      expect({ created: local.created(), closed: local.closed() }).toEqual({ created: 2, closed: 1 });
    } finally {
      await router.close();
    }
    expect(local.closed()).toBe(2);
  });
});

describe('the error of a call whose every planned deployment was retired', () => {
  it('is no_deployment 503, retryable (a retry plans afresh)', { timeout: 30_000 }, async () => {
    const engine = new MockEngine({ modelId: 'only', failures: [{ code: 'provider_unavailable', times: 1 }] });
    const router: LLMRouter = new LLMRouter(
      { models: [{ name: 'only', engine: 'mock' }], routing: { retries: { max: 2 } } },
      {
        engines: { only: engine },
        // The retry wait after the first failure: the deployment is removed meanwhile (idle: retired at once).
        sleep: async () => {
          router.unload('only');
        },
      },
    );
    try {
      const error = await rejection(router.generate('hi'));
      expect({ code: error.code, status: error.statusCode, retryable: error.isRetryable, deployment: error.deployment }).toEqual({
        code: 'no_deployment',
        status: 503,
        retryable: true,
        deployment: 'only',
      });
    } finally {
      await router.close();
    }
  });

  // Only a tenant's own model that cannot be served as set (`isUnservableOwnModel`) is a `no_deployment` that says
  // nothing of health; this one is reported over a later deployment's refusal of the request (`laterError`).
  it('replaced under the call, then the next deployment refuses the request: the retryable no_deployment, not the refusal', { timeout: 30_000 }, async () => {
    const a = { name: 'a', alias: 'grp', engine: 'mock', priority: 1, capabilities: ['chat'], options: { delayMs: 300, failures: [{ code: 'provider_unavailable', times: 100 }] } };
    const b = { name: 'b', alias: 'grp', engine: 'mock', priority: 2, capabilities: ['chat'], options: { failures: [{ code: 'unsupported', times: 100 }] } };
    const router = new LLMRouter({ models: [a, b], routing: { strategy: 'priority', retries: { max: 0 } } } as never);
    try {
      const call = rejection(router.chat([{ role: 'user', content: 'hi' }], { model: 'grp' }));
      await vi.waitFor(() => expect(router.stats()['a']?.inFlight).toBe(1), { timeout: 10_000 });
      // The operator replaces "a" (its settings changed) while the call is on it.
      router.load({ ...a, options: { reply: 'replaced a' } } as never);
      const failed = await call;
      expect({ code: failed.code, retryable: failed.isRetryable, deployment: failed.deployment }).toEqual({ code: 'no_deployment', retryable: true, deployment: 'a' });
      // What the retry gets: the replaced deployment answers.
      expect((await router.chat([{ role: 'user', content: 'hi' }], { model: 'grp' })).text).toBe('replaced a');
    } finally {
      await router.close();
    }
  });
});
