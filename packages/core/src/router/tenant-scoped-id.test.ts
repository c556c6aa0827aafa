import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../config/schema.js';
import type { GenerateRequest } from '../spec/index.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { LLMRouter } from './llm-router.js';
import { tenantScopedId, tenantScopedRequest } from './tenant-scoped-id.js';

describe('tenantScopedId', () => {
  it('is llmrr- and the base64url HMAC-SHA256 of tenant NUL value keyed by the tenant: fixed across processes and releases', () => {
    const expected = `llmrr-${createHmac('sha256', 'acme').update('acme\0u-1').digest('base64url')}`;
    expect(tenantScopedId('acme', 'u-1')).toBe(expected);
    // A literal: a change of the derivation would make every end user a new one to the providers (abuse history, caches).
    expect(tenantScopedId('acme', 'u-1')).toBe('llmrr-a3LLIPLhdcBDHtkhmzZtx88x0-YC-e-6xbdrN63ZzOE');
  });

  it('differs per tenant and per value, and fits OpenAI\u2019s 64 characters whatever the value\u2019s length', () => {
    const ids = [tenantScopedId('acme', 'bob'), tenantScopedId('globex', 'bob'), tenantScopedId('acme', 'bob2'), tenantScopedId('acme', 'x'.repeat(10_000))];
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^llmrr-[A-Za-z0-9_-]{43}$/);
  });

  it('with an operator secret, is keyed by it (same message): unknown to whoever knows only the tenant id', () => {
    const keyed = tenantScopedId('acme', 'u-1', 'op-secret');
    expect(keyed).toBe(`llmrr-${createHmac('sha256', 'op-secret').update('acme\0u-1').digest('base64url')}`);
    expect(keyed).not.toBe(tenantScopedId('acme', 'u-1'));
    expect(tenantScopedId('globex', 'u-1', 'op-secret')).not.toBe(keyed);
    // An empty secret is none (keyed by the tenant id).
    expect(tenantScopedId('acme', 'u-1', '')).toBe(tenantScopedId('acme', 'u-1'));
  });
});

describe('tenantScopedRequest', () => {
  const request: GenerateRequest = { messages: [{ role: 'user', content: 'hi' }], user: 'bob', promptCacheKey: 'session-1' };

  it('scopes a non-empty user and promptCacheKey, leaving the rest and the original request as they are', () => {
    const scoped = tenantScopedRequest(request, 'acme');
    expect(scoped).toEqual({ ...request, user: tenantScopedId('acme', 'bob'), promptCacheKey: tenantScopedId('acme', 'session-1') });
    expect(request).toMatchObject({ user: 'bob', promptCacheKey: 'session-1' });
  });

  it('is the request itself (no copy) without a tenant, or without either field (empty strings are none)', () => {
    expect(tenantScopedRequest(request, undefined)).toBe(request);
    const plain: GenerateRequest = { messages: request.messages };
    expect(tenantScopedRequest(plain, 'acme')).toBe(plain);
    const empty: GenerateRequest = { messages: request.messages, user: '', promptCacheKey: '' };
    expect(tenantScopedRequest(empty, 'acme')).toBe(empty);
    expect(tenantScopedRequest({ ...empty, user: 'bob' }, 'acme')).toEqual({ ...empty, user: tenantScopedId('acme', 'bob') });
  });

  it('scopes the ids given through providerOptions (user, safety_identifier, prompt_cache_key, metadata.user_id) in copies', () => {
    const openai = { user: 'bob', safety_identifier: 'bob', prompt_cache_key: 'session-1', store: false };
    const anthropic = { metadata: { user_id: 'bob', note: 'kept' }, top_k: 5 };
    const gemini = { generationConfig: { seed: 1 } };
    const given: GenerateRequest = { messages: request.messages, providerOptions: { openai, deepseek: { user: 'carol', prompt_cache_key: '' }, anthropic, gemini } };
    const before = structuredClone(given);
    const scoped = tenantScopedRequest(given, 'acme', 'op-secret');
    const id = (value: string) => tenantScopedId('acme', value, 'op-secret');
    expect(scoped.providerOptions).toEqual({
      openai: { user: id('bob'), safety_identifier: id('bob'), prompt_cache_key: id('session-1'), store: false },
      deepseek: { user: id('carol'), prompt_cache_key: '' },
      anthropic: { metadata: { user_id: id('bob'), note: 'kept' }, top_k: 5 },
      gemini,
    });
    // The caller's objects are as they were; a namespace without an id is passed on as it is.
    expect(given).toEqual(before);
    expect(scoped.providerOptions!.gemini).toBe(gemini);
    // Nothing to scope (no tenant, no id, ids that are not strings): the request itself.
    expect(tenantScopedRequest(given, undefined)).toBe(given);
    const none: GenerateRequest = { messages: request.messages, providerOptions: { openai: { store: false, user: 42 }, anthropic: { metadata: { user_id: '' } } } };
    expect(tenantScopedRequest(none, 'acme')).toBe(none);
  });
});

describe('LLMRouter: what a shared deployment and a tenant\u2019s own model receive', () => {
  let wire: OpenAIWireServer;
  beforeAll(async () => {
    wire = await startOpenAIWireServer();
  });
  afterAll(() => wire.close());
  afterEach(() => {
    wire.requests.length = 0;
    wire.setScript({});
  });

  const shared = (): ModelConfigInput => ({ name: 'shared', engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, apiKey: 'k-operator', model: 'gpt-shared', priority: 2, capabilities: ['chat', 'streaming', 'embeddings'] });
  const own = (): ModelConfigInput => ({ name: 'own', engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, apiKey: 'k-tenant', model: 'gpt-own', priority: 1 });
  const sent = () => wire.requests.map((r) => [(r.body as Record<string, unknown>).model, (r.body as Record<string, unknown>).user, (r.body as Record<string, unknown>).prompt_cache_key]);
  const ask = { messages: [{ role: 'user' as const, content: 'hi' }], user: 'bob', promptCacheKey: 'session-1' };

  it('a call without a tenant sends them as they are (library use); a tenant\u2019s call sends them scoped', async () => {
    const router = new LLMRouter({ models: [shared()], routing: { strategy: 'priority', retries: { max: 0 } } });
    try {
      await router.generate(ask);
      await router.generate(ask, { tenant: 'acme' });
      for await (const _ of router.stream(ask, { tenant: 'acme' })) void _;
      const embedded = await router.embed('x', { tenant: 'acme', user: 'bob' });
      expect(embedded.embeddings).toHaveLength(1);
      expect(sent()).toEqual([
        ['gpt-shared', 'bob', 'session-1'],
        ['gpt-shared', tenantScopedId('acme', 'bob'), tenantScopedId('acme', 'session-1')],
        ['gpt-shared', tenantScopedId('acme', 'bob'), tenantScopedId('acme', 'session-1')],
        ['gpt-shared', tenantScopedId('acme', 'bob'), undefined],
      ]);
    } finally {
      await router.close();
    }
  });

  it('a v3 config\u2019s defaultTenant scopes the calls that name no tenant, as those that name it', async () => {
    const router = new LLMRouter({ version: 3, models: [shared()], tenants: [{ id: 'main' }], defaultTenant: 'main', routing: { strategy: 'priority', retries: { max: 0 } } });
    try {
      await router.generate(ask);
      await router.generate(ask, { tenant: 'main' });
      expect(sent()).toEqual(Array(2).fill(['gpt-shared', tenantScopedId('main', 'bob'), tenantScopedId('main', 'session-1')]));
    } finally {
      await router.close();
    }
  });

  it('the tenant\u2019s own model (its own account: useEnv false) gets them as sent; the shared deployment it falls back to, scoped', async () => {
    const router = new LLMRouter({ models: [shared()], routing: { strategy: 'priority', retries: { max: 0 } } }).setTenant({ id: 'acme', models: [own()] }, { useEnv: false });
    try {
      wire.setScript([{ error: { status: 500 } }, {}]);
      const result = await router.generate(ask, { tenant: 'acme' });
      expect(result.deployment).toBe('shared');
      expect(sent()).toEqual([
        ['gpt-own', 'bob', 'session-1'],
        ['gpt-shared', tenantScopedId('acme', 'bob'), tenantScopedId('acme', 'session-1')],
      ]);
      expect(wire.requests.map((r) => r.headers.authorization)).toEqual(['Bearer k-tenant', 'Bearer k-operator']);
    } finally {
      await router.close();
    }
  });

  it('a tenant\u2019s own model (useEnv false) naming apiKeyEnv may be on the operator\u2019s key: scoped; with its apiKey, as sent', async () => {
    const named = (name: string, apiKeyEnv: string): ModelConfigInput => ({ name, engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, model: `gpt-${name}`, apiKeyEnv });
    const router = new LLMRouter({ models: [shared()], routing: { strategy: 'priority', retries: { max: 0 } } }, { env: { OPENAI_API_KEY: 'sk-operator', ACME_KEY: 'k-acme' } }).setTenant(
      { id: 'acme', models: [own(), named('operator', 'OPENAI_API_KEY'), named('kept', 'ACME_KEY')] },
      { useEnv: false },
    );
    try {
      for (const model of ['own', 'operator', 'kept']) await router.generate(ask, { tenant: 'acme', model });
      for await (const _ of router.stream(ask, { tenant: 'acme', model: 'operator' })) void _;
      expect(wire.requests.map((r) => r.headers.authorization)).toEqual(['Bearer k-tenant', 'Bearer sk-operator', 'Bearer k-acme', 'Bearer sk-operator']);
      // (Whatever the variable holds: the router cannot tell the operator's key from one it keeps for the tenant.)
      const scoped = [tenantScopedId('acme', 'bob'), tenantScopedId('acme', 'session-1')];
      expect(sent()).toEqual([['gpt-own', 'bob', 'session-1'], ['gpt-operator', ...scoped], ['gpt-kept', ...scoped], ['gpt-operator', ...scoped]]);
    } finally {
      await router.close();
    }
  });

  it('a tenant\u2019s model on the router\u2019s environment (a v3 config\u2019s tenants[].models, setTenant by default) is the operator\u2019s account: scoped', async () => {
    // The operator gives each tenant a deployment of its own in the config, on its own provider key (the env).
    const dedicated = (name: string): ModelConfigInput => ({ name, engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, model: 'gpt-4o' });
    const router = new LLMRouter(
      {
        version: 3,
        models: [{ name: 'spare', engine: 'mock' }],
        tenants: [
          { id: 'acme', models: [dedicated('acme-gpt')] },
          { id: 'globex', models: [dedicated('globex-gpt')] },
        ],
        routing: { strategy: 'priority', retries: { max: 0 } },
      },
      { env: { OPENAI_API_KEY: 'sk-operator' } },
    ).setTenant({ id: 'initech', models: [dedicated('initech-gpt')] });
    try {
      for (const tenant of ['acme', 'globex', 'initech']) await router.generate(ask, { tenant, model: `${tenant}-gpt` });
      expect(wire.requests.map((r) => r.headers.authorization)).toEqual(Array(3).fill('Bearer sk-operator'));
      // (Before, every model with a tenant was taken for the tenant's account: "bob" and "session-1" three times.)
      expect(sent()).toEqual(['acme', 'globex', 'initech'].map((t) => ['gpt-4o', tenantScopedId(t, 'bob'), tenantScopedId(t, 'session-1')]));
    } finally {
      await router.close();
    }
  });

  it('providerOptions\u2019 ids on a tenant\u2019s call reach the operator\u2019s account scoped (stream and embed too), the tenant\u2019s own model as sent', async () => {
    const router = new LLMRouter({ models: [shared()], routing: { strategy: 'priority', retries: { max: 0 } } }).setTenant({ id: 'acme', models: [own()] }, { useEnv: false });
    const openai = { user: 'bob', prompt_cache_key: 'session-1', safety_identifier: 'bob' };
    const viaOptions = { messages: [{ role: 'user' as const, content: 'hi' }], providerOptions: { openai } };
    try {
      // (The documented escape hatch: "providerOptions.openai still wins (it is merged last)".)
      await router.generate(viaOptions, { tenant: 'acme', model: 'shared' });
      for await (const _ of router.stream(viaOptions, { tenant: 'acme', model: 'shared' })) void _;
      await router.generate(viaOptions, { tenant: 'acme', model: 'own' });
      const scoped = { user: tenantScopedId('acme', 'bob'), prompt_cache_key: tenantScopedId('acme', 'session-1'), safety_identifier: tenantScopedId('acme', 'bob') };
      const bodies = wire.requests.map((r) => r.body as Record<string, unknown>);
      expect(bodies.map((b) => [b.model, b.user, b.prompt_cache_key, b.safety_identifier])).toEqual([
        ['gpt-shared', scoped.user, scoped.prompt_cache_key, scoped.safety_identifier],
        ['gpt-shared', scoped.user, scoped.prompt_cache_key, scoped.safety_identifier],
        ['gpt-own', 'bob', 'session-1', 'bob'],
      ]);
      expect(wire.requests[0]!.rawBody).not.toMatch(/"bob"|session-1/);
      // The caller's options are as given.
      expect(openai).toEqual({ user: 'bob', prompt_cache_key: 'session-1', safety_identifier: 'bob' });
    } finally {
      await router.close();
    }
  });

  it('RouterOptions.endUserIdSecret keys the scoped ids (generate, stream, embed); an empty or non-string one is config_invalid', async () => {
    const router = new LLMRouter({ models: [shared()], routing: { strategy: 'priority', retries: { max: 0 } } }, { endUserIdSecret: 'op-secret' });
    try {
      await router.generate(ask, { tenant: 'acme' });
      for await (const _ of router.stream(ask, { tenant: 'acme' })) void _;
      await router.embed('x', { tenant: 'acme', user: 'bob' });
      await router.generate(ask);
      const id = (value: string) => tenantScopedId('acme', value, 'op-secret');
      expect(sent()).toEqual([
        ['gpt-shared', id('bob'), id('session-1')],
        ['gpt-shared', id('bob'), id('session-1')],
        ['gpt-shared', id('bob'), undefined],
        ['gpt-shared', 'bob', 'session-1'],
      ]);
      expect(id('bob')).not.toBe(tenantScopedId('acme', 'bob'));
    } finally {
      await router.close();
    }
    for (const endUserIdSecret of ['', 42]) {
      expect(() => new LLMRouter({ models: [shared()] }, { endUserIdSecret } as never)).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'endUserIdSecret' }));
    }
  });
});
