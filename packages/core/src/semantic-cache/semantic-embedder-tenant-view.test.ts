/**
 * The semantic cache's own calls (its embeddings through `router.embed`, its guard call to `guardModel`) are the
 * router's internal calls: planned over the router's shared deployments, never in a tenant's view nor the v3
 * config's `defaultTenant`'s. A default tenant that may not use the embedding deployment or `guardModel`
 * (`allowedModels`) does not turn every lookup into a miss for every tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { LLMRouter } from '../router/llm-router.js';
import type { RouterEvents } from '../router/types.js';

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer({ script: { text: 'Paris.' } });
});
afterAll(async () => {
  await server.close();
});

describe('semantic cache embeddings in a v3 config with a defaultTenant', () => {
  it('a repeated question of a tenant that may use everything is a semantic hit when the default tenant may not use the embedder', async () => {
    const r = new LLMRouter({
      version: 3,
      models: [
        { name: 'chat', engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-4o-mini', apiKey: 'k', capabilities: ['chat'] },
        { name: 'emb', engine: 'openai-compatible', baseURL: server.baseURL, model: 'text-embedding-3-large', apiKey: 'k', capabilities: ['embeddings'] },
      ],
      tenants: [
        { id: 'free', allowedModels: ['chat'] },
        { id: 'acme' },
      ],
      defaultTenant: 'free',
      routing: { strategy: 'priority', retries: { max: 0 } },
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.99 } },
    });
    const errors: string[] = [];
    r.on('cache:error', (e: RouterEvents['cache:error']) => errors.push(`${e.error.code}: ${e.error.message}`));
    const first = await r.generate('What is the capital of France?', { model: 'chat', tenant: 'acme' });
    expect(first.cached).toBe(false);
    const second = await r.generate('What is the capital of France?', { model: 'chat', tenant: 'acme' });
    expect({ cached: second.cached, cacheErrors: errors }).toEqual({ cached: 'semantic', cacheErrors: [] });
    await r.close();
  });

  it("a guarded match is adapted by guardModel when the default tenant may not use guardModel (it is the router's deployment)", async () => {
    const r = new LLMRouter({
      version: 3,
      models: [
        { name: 'chat', engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-4o-mini', apiKey: 'k', capabilities: ['chat'] },
        { name: 'judge', engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-4o-mini', apiKey: 'k', capabilities: ['chat'] },
        { name: 'emb', engine: 'openai-compatible', baseURL: server.baseURL, model: 'text-embedding-3-large', apiKey: 'k', capabilities: ['embeddings'] },
      ],
      tenants: [
        { id: 'free', allowedModels: ['chat', 'emb'] },
        { id: 'acme' },
      ],
      defaultTenant: 'free',
      routing: { strategy: 'priority', retries: { max: 0 } },
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'adapt', guardModel: 'judge' } },
    });
    const errors: string[] = [];
    r.on('request:end', (e: RouterEvents['request:end']) => {
      if (e.error) errors.push(`${e.error.code}: ${e.error.message}`);
    });
    const first = await r.generate('What is the capital of France?', { model: 'chat', tenant: 'acme' });
    expect(first.cached).toBe(false);
    const second = await r.generate('What is the capital city of France, please?', { model: 'chat', tenant: 'acme' });
    expect({ cached: second.cached, failedCalls: errors }).toEqual({ cached: 'semantic', failedCalls: [] });
    await r.close();
  });
});

describe("the semantic cache's embeddings of two tenants", () => {
  // A cached vector answers at once where the embedding deployment takes a provider call: were vectors shared, a
  // tenant could time whether another just asked a question (and `CachedEmbedder` keeps 10,000 of them).
  it("a question another tenant asked is embedded again for this tenant (its lookup's time tells nothing of the other's questions)", async () => {
    const embeddings = () => server.requests.filter((q) => q.url.endsWith('/embeddings')).length;
    const r = new LLMRouter({
      models: [
        { name: 'chat', engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-4o-mini', apiKey: 'k', capabilities: ['chat'] },
        { name: 'emb', engine: 'openai-compatible', baseURL: server.baseURL, model: 'text-embedding-3-large', apiKey: 'k', capabilities: ['embeddings'] },
      ],
      routing: { strategy: 'priority', retries: { max: 0 } },
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.99 } },
    });
    r.setTenant({ id: 'alpha' }).setTenant({ id: 'beta' });
    const before = embeddings();
    const question = 'Is our merger with Initech announced on Monday?';
    expect((await r.generate(question, { model: 'chat', tenant: 'alpha' })).cached).toBe(false);
    const beta = await r.generate(question, { model: 'chat', tenant: 'beta' });
    expect({ cached: beta.cached, embeddingCalls: embeddings() - before }).toEqual({ cached: false, embeddingCalls: 2 });
    // Within a tenant the vector is still reused: alpha's repeat is a hit without another embedding call.
    expect((await r.generate(question, { model: 'chat', tenant: 'alpha' })).cached).toBe('semantic');
    expect(embeddings() - before).toBe(2);
    await r.close();
  });
});
