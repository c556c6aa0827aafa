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

  it('the tenant\u2019s own model gets them as sent; the shared deployment it falls back to, scoped', async () => {
    const router = new LLMRouter({ models: [shared()], routing: { strategy: 'priority', retries: { max: 0 } } }).setTenant({ id: 'acme', models: [own()] });
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
});
