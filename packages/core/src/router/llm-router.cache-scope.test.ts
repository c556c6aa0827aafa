/**
 * The exact cache's model scope when a call names its model (`model`), against the documented promise
 * (docs/core/cache.md) that "a call restricted to other models never gets an answer produced by a model outside
 * its set". Over local servers speaking the OpenAI wire format, as the router's wire tests do.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { createOpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import type { RouterConfigInput } from '../config/schema.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { LLMRouter } from './llm-router.js';

let primary: OpenAIWireServer;
let backup: OpenAIWireServer;

beforeEach(async () => {
  primary = await startOpenAIWireServer({ script: { text: 'from primary' } });
  backup = await startOpenAIWireServer({ script: { text: 'from backup' } });
});

afterEach(async () => {
  await Promise.all([primary.close(), backup.close()]);
});

/** The two servers as deployments, the exact cache on. */
function router(routing: NonNullable<RouterConfigInput['routing']>): LLMRouter {
  return new LLMRouter(
    {
      models: [
        { name: 'primary', engine: 'openai-compatible', baseURL: primary.baseURL, model: 'gpt-test', priority: 1, apiKey: 'k' },
        { name: 'backup', engine: 'openai-compatible', baseURL: backup.baseURL, model: 'gpt-backup', priority: 2, apiKey: 'k' },
      ],
      routing: { strategy: 'priority', ...routing },
      cache: { exact: { enabled: true } },
    },
    { engineFactories: { 'openai-compatible': createOpenAICompatibleEngine }, env: {} },
  );
}

describe('exact cache scope of a call that names its model', () => {
  it('a fallback answer given during an outage is not served later to calls for the requested model', async () => {
    const r = router({ fallbacks: ['backup'], circuitBreaker: { enabled: false }, retries: { max: 0 } });
    // The primary is down once: the configured fallback answers.
    primary.setScript([{ error: { status: 503, message: 'down' } }, { text: 'from primary' }]);
    const during = await r.generate('What is a CRDT?', { model: 'primary' });
    expect(during.deployment).toBe('backup');

    // The primary is back. A call restricted to the primary (no fallbacks) must get the primary's answer.
    const after = await r.generate('What is a CRDT?', { model: 'primary', fallbacks: [] });
    expect({ deployment: after.deployment, text: after.text, cached: after.cached }).toEqual({ deployment: 'primary', text: 'from primary', cached: false });
    await r.close();
  });

  it('a per-call allowedModels that excludes the named model is enforced even when the answer is cached', async () => {
    const r = router({});
    // Without the cache the router refuses the named model outside the allow-list.
    const refusedFresh = await rejection(r.generate('Tell me a secret', { model: 'primary', allowedModels: ['backup'], cache: false }));
    expect(refusedFresh.code).toBe('model_not_found');

    await r.generate('Tell me a secret', { model: 'primary' }); // stored for the primary
    const refused = await r.generate('Tell me a secret', { model: 'primary', allowedModels: ['backup'] }).then(
      (x) => ({ served: x.deployment, cached: x.cached }),
      (e: { code: string }) => ({ refused: e.code }),
    );
    expect(refused).toEqual({ refused: 'model_not_found' });
    await r.close();
  });

  it("a tenant's allow-list, once tightened with setTenant, applies to cached answers of the removed model too", async () => {
    const r = router({});
    r.setTenant({ id: 'acme', allowedModels: ['primary', 'backup'] });
    expect((await r.generate('Summarize our plan', { tenant: 'acme', model: 'primary' })).deployment).toBe('primary');
    // The operator withdraws the primary from acme.
    r.setTenant({ id: 'acme', allowedModels: ['backup'] });
    const fresh = await rejection(r.generate('Another question', { tenant: 'acme', model: 'primary' }));
    const again = await r.generate('Summarize our plan', { tenant: 'acme', model: 'primary' }).then(
      (x) => ({ served: x.deployment, cached: x.cached }),
      (e: { code: string }) => ({ refused: e.code }),
    );
    expect(again).toEqual({ refused: fresh.code });
    await r.close();
  });

  it('after unload() the named model is gone: a cached answer of it is not served', async () => {
    const r = router({});
    expect((await r.generate('What is a CRDT?', { model: 'primary' })).deployment).toBe('primary');
    expect(r.unload('primary')).toBe(true);
    const after = await r.generate('What is a CRDT?', { model: 'primary' }).then(
      (x) => ({ served: x.deployment, model: x.model, cached: x.cached }),
      (e: { code: string }) => ({ refused: e.code }),
    );
    expect(after).toEqual({ refused: 'model_not_found' });
    await r.close();
  });

  it('after load() replaces a deployment with another model, answers of the old model are not served under its name', async () => {
    const r = router({});
    const old = await r.generate('What is a CRDT?', { model: 'primary' });
    expect([old.model, old.text]).toEqual(['gpt-test', 'from primary']);
    // Same name, now another model on another server.
    r.load({ name: 'primary', engine: 'openai-compatible', baseURL: backup.baseURL, model: 'gpt-backup', priority: 1, apiKey: 'k' });
    const now = await r.generate('What is a CRDT?', { model: 'primary' });
    expect({ model: now.model, text: now.text, cached: now.cached }).toEqual({ model: 'gpt-backup', text: 'from backup', cached: false });
    await r.close();
  });
});

describe('semantic cache scope of a call that names its model', () => {
  it("a paraphrase asked of the primary, once it is back, does not get the fallback's answer", async () => {
    const r = new LLMRouter(
      {
        models: [
          { name: 'primary', engine: 'mock', priority: 1, capabilities: ['chat', 'streaming'], options: { reply: 'primary says hi', failures: [{ code: 'provider_unavailable', times: 1 }] } },
          { name: 'backup', engine: 'mock', priority: 2, capabilities: ['chat', 'streaming'], options: { reply: 'backup says hi' } },
          { name: 'emb', engine: 'mock', capabilities: ['embeddings'] },
        ],
        routing: { strategy: 'priority', retries: { max: 0 }, fallbacks: ['backup'], circuitBreaker: { enabled: false } },
        cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.9 } },
      },
      { engines: { emb: new MockEngine({ modelId: 'mock-embed' }) } },
    );
    const during = await r.generate('What is the capital of France?', { model: 'primary' });
    expect([during.deployment, during.text]).toEqual(['backup', 'backup says hi']);
    const after = await r.generate('what is the capital of france', { model: 'primary', fallbacks: [] });
    expect({ deployment: after.deployment, text: after.text, cached: after.cached }).toEqual({ deployment: 'primary', text: 'primary says hi', cached: false });
    await r.close();
  });
});

describe('cache scope: streams, routed calls, reloads', () => {
  it("a streamed fallback answer is not filed under the requested model; a stream for it then gets the model's own answer", async () => {
    const r = router({ fallbacks: ['backup'], circuitBreaker: { enabled: false }, retries: { max: 0 } });
    primary.setScript([{ error: { status: 503, message: 'down' } }, { text: 'from primary' }]);
    const during = r.stream('What is a CRDT?', { model: 'primary' });
    await collect(during);
    expect((await during.result).deployment).toBe('backup');

    const after = r.stream('What is a CRDT?', { model: 'primary', fallbacks: [] });
    await collect(after);
    expect(await after.result).toMatchObject({ deployment: 'primary', text: 'from primary', cached: false });
    // The primary's own streamed answer is filed for it, and shared with generate.
    expect(await r.generate('What is a CRDT?', { model: 'primary' })).toMatchObject({ deployment: 'primary', text: 'from primary', cached: 'exact' });
    await r.close();
  });

  it('a stream for a model outside its allowedModels gets the same error part on a cached answer as without the cache', async () => {
    const r = router({});
    await r.generate('Tell me a secret', { model: 'primary' });
    const s = r.stream('Tell me a secret', { model: 'primary', allowedModels: ['backup'] });
    const parts = await collect(s);
    expect(parts.map((p) => p.type)).toEqual(['error']);
    expect((await rejection(s.result)).code).toBe('model_not_found');
    expect(primary.requests).toHaveLength(1);
    await r.close();
  });

  it('a routed call (no model) keeps the answer of a fallback in its set', async () => {
    const r = router({ fallbacks: ['backup'], circuitBreaker: { enabled: false }, retries: { max: 0 } });
    primary.setScript([{ error: { status: 503, message: 'down' } }, { text: 'from primary' }]);
    expect((await r.generate('What is a CRDT?')).deployment).toBe('backup');
    // Both deployments could answer a routed call: the backup's answer is an answer of that set.
    expect(await r.generate('What is a CRDT?')).toMatchObject({ deployment: 'backup', text: 'from backup', cached: 'exact' });
    await r.close();
  });

  it("reloading a named model with routing changes only (priority, limits, key) keeps its answers, under its alias too", async () => {
    const r = router({});
    await r.generate('What is a CRDT?', { model: 'primary' });
    r.load({ name: 'primary', engine: 'openai-compatible', baseURL: primary.baseURL, model: 'gpt-test', priority: 3, limits: { maxConcurrency: 2 }, apiKey: 'k2', alias: 'main' });
    expect(await r.generate('What is a CRDT?', { model: 'primary' })).toMatchObject({ text: 'from primary', cached: 'exact' });
    // The alias names the same deployment: the same scope, so the same answer.
    expect(await r.generate('What is a CRDT?', { model: 'main' })).toMatchObject({ deployment: 'primary', cached: 'exact' });
    expect(primary.requests).toHaveLength(1);
    await r.close();
  });
});
