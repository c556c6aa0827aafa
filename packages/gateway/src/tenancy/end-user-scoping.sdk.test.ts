import Anthropic from '@anthropic-ai/sdk';
import { LLMRouter, tenantScopedId, type RouterConfigInput, type RouterEvents } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { ledgerRow } from '../test-support/ledger-wait.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// End-user ids (`user`, `safety_identifier`, Anthropic's `metadata.user_id`) and OpenAI's `prompt_cache_key` reach the
// operator's shared deployments scoped to the tenant (core's `tenantScopedId`): two tenants' "bob" are two end users
// to the operator's provider account (its abuse signals), and one tenant's prompt-cache key no longer steers its
// requests toward another's cache routing. Deterministic per (tenant, value), so the provider's per-user features still work per end user.
// A tenant's own model (its own key: an admin API model naming no `apiKeyEnv` reads no environment of the router's)
// gets them as sent: that account is the tenant's. One naming `apiKeyEnv` may be on the operator's key: scoped.

let globexSecret: string;
const starts: Array<RouterEvents['request:start']> = [];

const caps: Array<'chat' | 'streaming' | 'tools'> = ['chat', 'streaming', 'tools'];
/** A tenant-scoped id: `llmrr-` and 43 base64url characters (49, within OpenAI's 64 for `user` and `prompt_cache_key`). */
const SCOPED = /^llmrr-[A-Za-z0-9_-]{43}$/;

const wire = overWireUpstreams(
  (u) => [
    wireDeployment(u, 'gpt', { preset: 'openai', model: 'gpt-openai' }),
    wireDeployment(u, 'claude'),
    { name: 'emb', engine: 'openai-compatible', baseURL: u.openai.baseURL, apiKey: 'k', model: 'text-embedding-3-small', capabilities: ['embeddings'] },
  ],
  { routerOptions: { env: { OPENAI_API_KEY: 'sk-operator' } } },
);
beforeAll(async () => {
  const up = wire.upstreams;
  const tenants = wire.gw.harness.stores!.tenants;
  // Acme's own accounts (its keys), on the same local upstreams.
  await tenants.updateTenant('acme', {
    models: [
      { name: 'own-gpt', engine: 'openai-compatible', preset: 'openai', baseURL: up.openai.baseURL, model: 'gpt-own', apiKey: 'sk-acme', capabilities: caps },
      { name: 'own-claude', engine: 'anthropic', baseURL: up.anthropic.url, model: 'claude-own', apiKey: 'ak', capabilities: caps },
      { name: 'own-emb', engine: 'openai-compatible', baseURL: up.openai.baseURL, apiKey: 'sk-acme', model: 'text-embedding-3-small', capabilities: ['embeddings'] },
      // A dedicated deployment for Acme on the operator's account: the server's OPENAI_API_KEY.
      { name: 'operator-gpt', engine: 'openai-compatible', preset: 'openai', baseURL: up.openai.baseURL, model: 'gpt-dedicated', apiKeyEnv: 'OPENAI_API_KEY', capabilities: caps },
    ],
  });
  await tenants.createTenant({ id: 'globex', name: 'Globex' });
  ({ secret: globexSecret } = await tenants.createKey('globex', { name: 'sdk' }));
  wire.gw.harness.router.on('request:start', (e) => void starts.push(e));
});
afterEach(() => {
  starts.length = 0;
});
const openai = (tenant: 'acme' | 'globex') => (tenant === 'acme' ? wire.gw.openai() : new OpenAI({ baseURL: `${wire.gw.url}/v1`, apiKey: globexSecret, maxRetries: 0 }));
const anthropic = (tenant: 'acme' | 'globex') => (tenant === 'acme' ? wire.gw.anthropic() : new Anthropic({ baseURL: wire.gw.url, apiKey: globexSecret, maxRetries: 0 }));
type Sent = Record<string, unknown>;
const openaiBodies = () => wire.upstreams.openai.requests.map((r) => r.body as Sent);

describe('end-user ids and prompt-cache keys on shared deployments are scoped to the tenant', () => {
  it('chat completions: two tenants\u2019 same user and prompt_cache_key reach the shared deployment as two values, each tenant\u2019s the same every time (JSON and streamed)', async () => {
    for (const tenant of ['acme', 'globex', 'acme', 'globex'] as const) {
      const params = { model: 'gpt', messages: [{ role: 'user' as const, content: `Hi from ${tenant}` }], user: 'bob', prompt_cache_key: 'session-1' };
      const json = await openai(tenant).chat.completions.create(params).withResponse();
      expect(json.response.headers.get('x-llmrr-warnings')).toBeNull();
      const stream = await openai(tenant).chat.completions.create({ ...params, stream: true });
      for await (const _ of stream) void _;
    }
    const sent = openaiBodies();
    expect(sent.map((b) => b.model)).toEqual(Array(8).fill('gpt-openai'));
    const users = sent.map((b) => b.user as string);
    const keys = sent.map((b) => b.prompt_cache_key as string);
    const acme = { user: tenantScopedId('acme', 'bob'), key: tenantScopedId('acme', 'session-1') };
    const globex = { user: tenantScopedId('globex', 'bob'), key: tenantScopedId('globex', 'session-1') };
    expect(users).toEqual([acme.user, acme.user, globex.user, globex.user, acme.user, acme.user, globex.user, globex.user]);
    expect(keys).toEqual([acme.key, acme.key, globex.key, globex.key, acme.key, acme.key, globex.key, globex.key]);
    expect(new Set([acme.user, acme.key, globex.user, globex.key]).size).toBe(4);
    for (const v of [...users, ...keys]) expect(v).toMatch(SCOPED);
    for (const r of wire.upstreams.openai.requests) expect(r.rawBody).not.toMatch(/"bob"|session-1/);
    // The router's own record of the call (its events, caches, what the ledger settles from) keeps the values as sent.
    expect(starts.map((e) => [e.metadata.tenant, e.request?.user, e.request?.promptCacheKey])).toEqual(
      ['acme', 'globex', 'acme', 'globex'].flatMap((t) => [
        [t, 'bob', 'session-1'],
        [t, 'bob', 'session-1'],
      ]),
    );
  });

  it('/v1/messages: metadata.user_id reaches the shared Anthropic deployment scoped per tenant, JSON and streamed', async () => {
    for (const tenant of ['acme', 'globex'] as const) {
      const params = { model: 'claude', max_tokens: 50, messages: [{ role: 'user' as const, content: 'Hi' }], metadata: { user_id: 'bob' } };
      await anthropic(tenant).messages.create(params);
      await anthropic(tenant).messages.stream(params).finalMessage();
    }
    const ids = wire.upstreams.anthropic.requests.map((r) => (r.body as { metadata?: { user_id?: string } }).metadata?.user_id);
    const acme = tenantScopedId('acme', 'bob');
    const globex = tenantScopedId('globex', 'bob');
    expect(ids).toEqual([acme, acme, globex, globex]);
    expect(acme).not.toBe(globex);
  });

  it('/v1/responses: safety_identifier (or user) goes as the scoped user; the response echoes what the client sent', async () => {
    const response = await openai('globex').responses.create({ model: 'gpt', input: 'Hi', safety_identifier: 'bob', prompt_cache_key: 'session-1', store: false });
    expect(response.safety_identifier).toBe('bob');
    expect(response.prompt_cache_key).toBe('session-1');
    await openai('globex').responses.create({ model: 'gpt', input: 'Hi', user: 'bob', store: false });
    expect(openaiBodies().map((b) => [b.user, b.prompt_cache_key])).toEqual([
      [tenantScopedId('globex', 'bob'), tenantScopedId('globex', 'session-1')],
      [tenantScopedId('globex', 'bob'), undefined],
    ]);
    for (const b of openaiBodies()) expect(b).not.toHaveProperty('safety_identifier');
  });

  it('/v1/embeddings: user reaches the shared deployment scoped per tenant; the tenant\u2019s own embedding model gets it as sent', async () => {
    for (const tenant of ['acme', 'globex'] as const) await openai(tenant).embeddings.create({ model: 'emb', input: 'x', user: 'bob' });
    await openai('acme').embeddings.create({ model: 'own-emb', input: 'x', user: 'bob' });
    expect(wire.upstreams.openai.requests.map((r) => [r.headers.authorization, (r.body as Sent).user])).toEqual([
      ['Bearer k', tenantScopedId('acme', 'bob')],
      ['Bearer k', tenantScopedId('globex', 'bob')],
      ['Bearer sk-acme', 'bob'],
    ]);
  });

  it('a tenant\u2019s own models (its own keys) get user, prompt_cache_key and metadata.user_id as sent', async () => {
    await openai('acme').chat.completions.create({ model: 'own-gpt', messages: [{ role: 'user', content: 'Hi' }], user: 'bob', prompt_cache_key: 'session-1' });
    const stream = await openai('acme').chat.completions.create({ model: 'own-gpt', messages: [{ role: 'user', content: 'Hi' }], user: 'bob', prompt_cache_key: 'session-1', stream: true });
    for await (const _ of stream) void _;
    expect(wire.upstreams.openai.requests.map((r) => [r.headers.authorization, (r.body as Sent).model, (r.body as Sent).user, (r.body as Sent).prompt_cache_key])).toEqual(
      Array(2).fill(['Bearer sk-acme', 'gpt-own', 'bob', 'session-1']),
    );
    await anthropic('acme').messages.create({ model: 'own-claude', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }], metadata: { user_id: 'bob' } });
    expect(wire.upstreams.anthropic.requests.map((r) => [(r.body as Sent).model, (r.body as Sent).metadata])).toEqual([['claude-own', { user_id: 'bob' }]]);
  });

  it('a tenant\u2019s model naming apiKeyEnv (here the operator\u2019s OPENAI_API_KEY) reaches the operator\u2019s account: scoped, JSON and streamed', async () => {
    const params = { model: 'operator-gpt', messages: [{ role: 'user' as const, content: 'Hi' }], user: 'bob', prompt_cache_key: 'session-1' };
    await openai('acme').chat.completions.create(params);
    for await (const _ of await openai('acme').chat.completions.create({ ...params, stream: true })) void _;
    // (Before: 'bob' and 'session-1' as sent, the model being one the tenant brought, whatever key it read.)
    expect(wire.upstreams.openai.requests.map((r) => [r.headers.authorization, (r.body as Sent).model, (r.body as Sent).user, (r.body as Sent).prompt_cache_key])).toEqual(
      Array(2).fill(['Bearer sk-operator', 'gpt-dedicated', tenantScopedId('acme', 'bob'), tenantScopedId('acme', 'session-1')]),
    );
  });

  it('the ledger rows are the tenants\u2019 as before: tenant, model, deployment, success', async () => {
    const ids: Record<string, string> = {};
    for (const tenant of ['acme', 'globex'] as const) {
      const { response } = await openai(tenant).chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'Ledger?' }], user: 'bob' }).withResponse();
      ids[tenant] = response.headers.get('x-request-id')!;
    }
    for (const tenant of ['acme', 'globex']) {
      const row = await ledgerRow(wire.gw, ids[tenant]!);
      expect(row).toMatchObject({ tenantId: tenant, model: 'gpt', deployment: 'gpt', status: 'success', endpoint: '/v1/chat/completions' });
    }
  });
});

describe('a gateway without stores: its calls have no tenant, but a v3 config\u2019s defaultTenant is theirs', () => {
  let wire: OpenAIWireServer;
  let router: LLMRouter;
  let gateway: ReturnType<typeof createGateway>;
  let served: ServedGateway;
  beforeAll(async () => {
    wire = await startOpenAIWireServer();
    const config: RouterConfigInput = {
      version: 3,
      models: [{ name: 'gpt', engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, apiKey: 'k', model: 'gpt-openai', capabilities: ['chat', 'streaming'] }],
      routing: { strategy: 'priority', retries: { max: 0 } },
      tenants: [{ id: 'house' }],
      defaultTenant: 'house',
    };
    router = new LLMRouter(config, { env: {} });
    gateway = createGateway({ router, log: () => {} });
    served = await serveGateway(gateway, { port: 0 });
  });
  afterAll(async () => {
    await served?.close();
    await gateway?.close();
    await router?.close();
    await wire?.close();
  });

  it('user and prompt_cache_key reach the shared deployment scoped to the defaultTenant (as the README says)', async () => {
    const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'Hi' }], user: 'bob', prompt_cache_key: 'session-1' });
    const body = wire.requests.at(-1)!.body as Sent;
    expect([body.user, body.prompt_cache_key]).toEqual([tenantScopedId('house', 'bob'), tenantScopedId('house', 'session-1')]);
  });
});
