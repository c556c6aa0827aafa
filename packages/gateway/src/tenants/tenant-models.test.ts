import { LLMRouter, createStateStores, type RouterOptions, type StateStores } from '@llmrr/core';
import type { ServerResponse } from 'node:http';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { adminApi, createAdminHarness, TEST_ADMIN_KEY } from '../test-support/admin-api.js';
import { mockModel, post, sseJson, type Harness } from '../test-support/harness.js';
import { expectGatewayError } from '../test-support/expect-error.js';
import type { WireAnswer } from '../test-support/raw-http.js';
import { startRawUpstream, type RawUpstream } from '../test-support/raw-upstream.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import type { Gateway } from '../types.js';

/** A tenant's own model: a mock with its own reply, so answers show which deployment served. */
const own = (name: string, reply: string, extra: Record<string, unknown> = {}) => ({ name, engine: 'mock', price: { input: 1, output: 2 }, options: { reply }, ...extra });

describe('tenant custom models', () => {
  let h: Harness;
  const admin = adminApi(() => h.gateway);
  const keyFor = async (tenant: string): Promise<string> => {
    const res = await admin('POST', `/admin/tenants/${tenant}/keys`, { name: 'k' });
    expect(res.status).toBe(201);
    return ((await res.json()) as { secret: string }).secret;
  };
  const chat = (secret: string, model: string, extra: Record<string, unknown> = {}) =>
    post(h.gateway, '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }], ...extra }, { authorization: `Bearer ${secret}` });
  const text = async (res: Response) => ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
  const modelIds = async (secret: string) =>
    ((await (await h.gateway.fetch(new Request('http://gateway.test/v1/models', { headers: { authorization: `Bearer ${secret}` } }))).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id).sort();

  beforeEach(async () => {
    // `mock` is shared; `cheap` too, with priority 1 so `auto` would prefer an own model of priority 0.
    h = await createAdminHarness({ models: [mockModel('mock', { reply: 'shared mock' }, { priority: 5 }), mockModel('cheap', { reply: 'shared cheap' }, { priority: 1 })] });
  });
  afterEach(() => h.close());

  it('serves a tenant its own models (JSON and stream), visible to that tenant only', async () => {
    const created = await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', models: [own('acme-llm', 'acme private answer', { priority: 0 })] });
    expect(created.status).toBe(201);
    await admin('POST', '/admin/tenants', { id: 'beta', name: 'Beta' });
    const acme = await keyFor('acme');
    const beta = await keyFor('beta');

    const res = await chat(acme, 'acme-llm');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmrr-model')).toBe('acme-llm');
    expect(await text(res)).toBe('acme private answer');
    const streamed = await chat(acme, 'acme-llm', { stream: true });
    expect(streamed.headers.get('x-llmrr-model')).toBe('acme-llm');
    const chunks = sseJson(await streamed.text());
    expect(chunks.map((c) => (c.choices as Array<{ delta?: { content?: string } }>)[0]?.delta?.content ?? '').join('')).toBe('acme private answer');
    const ledger = await h.stores!.ledger.query({ tenantId: 'acme' });
    expect(ledger.map((e) => e.deployment)).toEqual(['acme-llm', 'acme-llm']);
    expect(ledger.every((e) => e.costUsd > 0)).toBe(true);

    expect(await modelIds(acme)).toEqual(['acme-llm', 'cheap', 'mock']);
    expect(await modelIds(beta)).toEqual(['cheap', 'mock']);
    // Another tenant can neither name it nor reach it through `auto` (which would rank it first).
    const denied = await chat(beta, 'acme-llm');
    expect(denied.status).toBe(404);
    expect(((await denied.json()) as { error: { param: string } }).error.param).toBe('model');
    for (let i = 0; i < 3; i++) expect(await text(await chat(beta, 'auto'))).toBe('shared cheap');
    expect(await text(await chat(acme, 'auto'))).toBe('acme private answer');
    // Nor as a fallback: refused as if it did not exist.
    const fb = await chat(beta, 'mock', { llmrr: { fallbacks: ['acme-llm'] } });
    expect(fb.status).toBe(400);
    const fbError = ((await fb.json()) as { error: { param: string; message: string } }).error;
    const none = ((await (await chat(beta, 'mock', { llmrr: { fallbacks: ['no-such-llm'] } })).json()) as { error: { param: string; message: string } }).error;
    expect(fbError.param).toBe('llmrr.fallbacks.0');
    expect(fbError.message.replace('acme-llm', '<m>')).toBe(none.message.replace('no-such-llm', '<m>'));

    // /api/route explains with the public name.
    const route = await post(h.gateway, '/api/route', { prompt: 'hi', model: 'acme-llm' }, { authorization: `Bearer ${acme}` });
    expect(((await route.json()) as { selectedModel: string }).selectedModel).toBe('acme-llm');
  });

  it('an own model shadows a shared one of the same name, and its allow-list keeps its own models', async () => {
    await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', allowedModels: ['cheap'], models: [own('mock', 'acme mock'), own('extra', 'acme extra')] });
    const acme = await keyFor('acme');
    await admin('POST', '/admin/tenants', { id: 'beta', name: 'Beta' });
    const beta = await keyFor('beta');
    expect(await text(await chat(acme, 'mock'))).toBe('acme mock');
    expect(await text(await chat(acme, 'extra'))).toBe('acme extra');
    expect(await text(await chat(acme, 'cheap'))).toBe('shared cheap');
    expect(await text(await chat(beta, 'mock'))).toBe('shared mock');
    expect(await modelIds(acme)).toEqual(['cheap', 'extra', 'mock']);
    // The stored tenant keeps the allow-list it was given.
    expect(((await (await admin('GET', '/admin/tenants/acme')).json()) as { allowedModels: string[] }).allowedModels).toEqual(['cheap']);
  });

  it('follows changes: models replaced, removed, changed in the store by another process, tenant deleted', async () => {
    await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', models: [own('a1', 'first')] });
    const acme = await keyFor('acme');
    expect(await text(await chat(acme, 'a1'))).toBe('first');

    const patched = await admin('PATCH', '/admin/tenants/acme', { models: [own('a1', 'second'), own('a2', 'new one')] });
    expect(patched.status).toBe(200);
    expect(await text(await chat(acme, 'a1'))).toBe('second');
    expect(await text(await chat(acme, 'a2'))).toBe('new one');

    // Written straight to the store (as another gateway process would): picked up on the next request.
    await h.stores!.tenants.updateTenant('acme', { models: [own('a2', 'from elsewhere')] });
    expect(await text(await chat(acme, 'a2'))).toBe('from elsewhere');
    expect((await chat(acme, 'a1')).status).toBe(404);
    // The router holds them as the tenant's own: never among the shared deployments.
    const names = (tenant?: string) => h.router.models(tenant).map((d) => d.name);
    expect(names('acme')).toEqual(['mock', 'cheap', 'a2']);
    expect(names()).toEqual(['mock', 'cheap']);

    await admin('PATCH', '/admin/tenants/acme', { models: null });
    expect((await chat(acme, 'a2')).status).toBe(404);
    expect(names('acme')).toEqual(['mock', 'cheap']);

    await admin('PATCH', '/admin/tenants/acme', { models: [own('a3', 'third')] });
    expect(names('acme')).toEqual(['mock', 'cheap', 'a3']);
    expect((await admin('DELETE', '/admin/tenants/acme')).status).toBe(200);
    expect(names('acme')).toEqual(['mock', 'cheap']);
    expect(names()).toEqual(['mock', 'cheap']);
  });

  it('never serves a cached answer of a model that has changed since (the exact cache is on)', async () => {
    const cached = await createAdminHarness({ cache: { exact: { enabled: true } } });
    try {
      await cached.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', models: [own('mine', 'version one')] });
      const { secret } = await cached.stores!.tenants.createKey('acme', { name: 'k' });
      const ask = () => post(cached.gateway, '/v1/chat/completions', { model: 'mine', messages: [{ role: 'user', content: 'same question' }] }, { authorization: `Bearer ${secret}` });
      expect(await text(await ask())).toBe('version one');
      const again = await ask();
      expect(again.headers.get('x-llmrr-cache')).toBe('hit-exact');
      expect(await text(again)).toBe('version one');
      await cached.stores!.tenants.updateTenant('acme', { models: [own('mine', 'version two')] });
      const changed = await ask();
      expect(changed.headers.get('x-llmrr-cache')).toBe('miss');
      expect(await text(changed)).toBe('version two');
    } finally {
      await cached.close();
    }
  });

  it('refuses models it could not serve, naming the field, and stores nothing', async () => {
    const bad = await admin('POST', '/admin/tenants', { id: 'x', name: 'X', models: [own('ok', 'y'), { name: 'nope', engine: 'no-such-engine' }] });
    expect(bad.status).toBe(400);
    const err = ((await bad.json()) as { error: { param: string; message: string } }).error;
    expect(err.param).toBe('models.1.engine');
    expect(err.message).toContain('no-such-engine');
    expect((await admin('GET', '/admin/tenants/x')).status).toBe(404);
    const dup = await admin('POST', '/admin/tenants', { id: 'x', name: 'X', models: [own('same', 'a'), own('same', 'b')] });
    expect(dup.status).toBe(400);
    expect(((await dup.json()) as { error: { param: string } }).error.param).toBe('models.1.name');
    await admin('POST', '/admin/tenants', { id: 'x', name: 'X' });
    const badPatch = await admin('PATCH', '/admin/tenants/x', { models: [{ name: 'n', engine: 'bogus' }] });
    expect(badPatch.status).toBe(400);
    expect(((await badPatch.json()) as { error: { param: string } }).error.param).toBe('models.0.engine');
  });

  it('is off with tenantModels: false (own models stay unserved)', async () => {
    const off = await createAdminHarness({ gateway: { tenantModels: false } });
    try {
      await off.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', models: [own('acme-llm', 'x')] });
      const { secret } = await off.stores!.tenants.createKey('acme', { name: 'k' });
      const res = await post(off.gateway, '/v1/chat/completions', { model: 'acme-llm', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
      expect(res.status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('a model that cannot be set is logged once and left unserved; the tenant keeps the shared models', async () => {
    const logs: string[] = [];
    const logged = await createAdminHarness({ models: [mockModel('mock', { reply: 'shared mock' })], gateway: { log: (e) => logs.push(e.message) } });
    try {
      // Written straight to the store, past the admin API's checks (as an older process might have).
      await logged.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', models: [{ name: 'odd', engine: 'not-here' }] });
      const { secret } = await logged.stores!.tenants.createKey('acme', { name: 'k' });
      const ask = (model: string) => post(logged.gateway, '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
      expect((await ask('odd')).status).toBe(404);
      expect((await ask('mock')).status).toBe(200);
      expect(logs).toEqual(['tenant "acme": its models could not be set']);
    } finally {
      await logged.close();
    }
  });
});

describe('tenant custom models over a v3 router', () => {
  let router: LLMRouter;
  let stores: StateStores;
  let gateway: Gateway;
  const logs: string[] = [];

  async function open(options: RouterOptions): Promise<void> {
    router = new LLMRouter(
      {
        version: 3,
        models: [mockModel('mock', { reply: 'shared mock' })],
        routing: { strategy: 'priority', retries: { max: 0 } },
        cache: { exact: { enabled: true } },
        tenants: [{ id: 'configured', models: [own('cfg-llm', 'from the config')] }],
      },
      options,
    );
    stores = await createStateStores({ mode: 'memory' });
    gateway = createGateway({ router, stores, auth: { adminKey: TEST_ADMIN_KEY }, log: (e) => logs.push(e.message) });
  }
  afterEach(async () => {
    logs.length = 0;
    await gateway.close();
    await router.close();
    await stores.close();
  });

  const tenantKey = async (input: { id: string; name: string; models?: unknown[] }): Promise<string> => {
    const created = await adminApi(() => gateway)('POST', '/admin/tenants', input);
    expect(created.status).toBe(201);
    return (await stores.tenants.createKey(input.id, { name: 'k' })).secret;
  };
  const ask = async (secret: string, model: string) => {
    const res = await post(gateway, '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
    return res.status === 200 ? ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content : res.status;
  };

  it("with unknownTenant: 'shared', admin-created tenants get the shared models and their own; the config's tenants keep theirs", async () => {
    await open({ unknownTenant: 'shared' });
    const plain = await tenantKey({ id: 'plain', name: 'Plain' });
    const acme = await tenantKey({ id: 'acme', name: 'Acme', models: [own('acme-llm', 'acme private')] });
    expect(await ask(plain, 'mock')).toBe('shared mock');
    expect(await ask(plain, 'auto')).toBe('shared mock');
    expect(await ask(plain, 'acme-llm')).toBe(404);
    expect(await ask(plain, 'cfg-llm')).toBe(404);
    expect(await ask(acme, 'acme-llm')).toBe('acme private');
    expect(await ask(acme, 'mock')).toBe('shared mock');

    // A store tenant with the id of a config tenant: the config's models are served, the admin's are not.
    const configured = await tenantKey({ id: 'configured', name: 'Configured', models: [own('admin-llm', 'from the admin API')] });
    expect(await ask(configured, 'cfg-llm')).toBe('from the config');
    expect(await ask(configured, 'admin-llm')).toBe(404);
    expect(await ask(configured, 'admin-llm')).toBe(404);
    expect(logs).toEqual(['tenant "configured" is defined by the router\'s v3 config: its models set through the admin API are not served']);
  });

  it('by default (reject), admin-created tenants with models of their own are known to the router and served', async () => {
    await open({});
    const acme = await tenantKey({ id: 'acme', name: 'Acme', models: [own('acme-llm', 'acme private')] });
    expect(await ask(acme, 'acme-llm')).toBe('acme private');
    expect(await ask(acme, 'mock')).toBe('shared mock');
    const plain = await tenantKey({ id: 'plain', name: 'Plain' });
    expect(await ask(plain, 'mock')).toBe(400);
  });
});

/**
 * A tenant's own models bring their own key and address: they never read a variable of the server's environment
 * that they do not name (the gateway hands them to the router with `useEnv: false`): a preset's key such as
 * `OPENAI_API_KEY` or `AZURE_OPENAI_ENDPOINT` is not read for them, the variable an `apiKeyEnv` names is (the
 * operator keeps the tenant's upstream key out of the tenant record so). The admin API refuses what could never be
 * called (a provider that needs a key, and neither `apiKey` nor `apiKeyEnv`) and what the engine does not take
 * (a misplaced `options.apiKey`).
 */
describe("a tenant's own model and the server's environment", () => {
  const MARKER = 'sk-server-secret-marker';
  let h: Harness;
  let wire: OpenAIWireServer;
  const logs: string[] = [];
  const admin = adminApi(() => h.gateway);
  const sentKeys = () => wire.requests.map((r) => r.headers.authorization ?? r.headers['api-key'] ?? null);

  beforeEach(async () => {
    logs.length = 0;
    wire = await startOpenAIWireServer();
    const env = { OPENAI_API_KEY: MARKER, VLLM_API_KEY: MARKER, AZURE_OPENAI_API_KEY: MARKER, AZURE_OPENAI_ENDPOINT: wire.url, ACME_OPENAI_KEY: 'sk-acme-from-env' };
    h = await createAdminHarness({
      models: [mockModel('mock')],
      routerOptions: { env },
      gateway: { log: (e) => logs.push(`${e.message} ${e.error instanceof Error ? e.error.message : ''}`) },
    });
  });
  afterEach(async () => {
    await h.close();
    await wire.close();
  });

  /** Creates tenant `acme` with `model`, asks for it once; the status of both. */
  async function createAndAsk(model: Record<string, unknown>) {
    const created = await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', models: [model] });
    const error = created.status === 201 ? undefined : ((await created.json()) as { error: { param: string } }).error;
    if (error) return { created: created.status, param: error.param };
    return { created: created.status, call: await ask(model.name as string) };
  }

  /** A call of tenant `acme`'s model `name` with a new key; its status. */
  async function ask(name: string): Promise<number> {
    const { secret } = (await (await admin('POST', '/admin/tenants/acme/keys', { name: 'k' })).json()) as { secret: string };
    const res = await post(h.gateway, '/v1/chat/completions', { model: name, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
    await res.text();
    return res.status;
  }

  it('refuses misplaced options.apiKey / options.baseURL and a model that needs a key it is not given (400 naming the field); stores nothing', async () => {
    const misplaced = { name: 'own', engine: 'openai-compatible', model: 'gpt-x', options: { apiKey: 'sk-tenant', baseURL: wire.baseURL } };
    expect(await createAndAsk(misplaced)).toEqual({ created: 400, param: 'models.0.options.apiKey' });
    // Azure without its baseURL: not taken from the server's AZURE_OPENAI_ENDPOINT.
    const azure = { name: 'own', engine: 'openai-compatible', preset: 'azure-openai', apiKey: 'sk-tenant' };
    expect(await createAndAsk(azure)).toEqual({ created: 400, param: 'models.0.baseURL' });
    // A bad value of an option it takes is named in the model's place too.
    expect(await createAndAsk({ name: 'own', engine: 'openai-compatible', baseURL: wire.baseURL, options: { streamUsage: 'yes' } })).toEqual({ created: 400, param: 'models.0.options.streamUsage' });
    // OpenAI (or Anthropic) takes no call without a key, and OPENAI_API_KEY is not read for a tenant's model.
    expect(await createAndAsk({ name: 'own', engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, model: 'gpt-x' })).toEqual({ created: 400, param: 'models.0.apiKey' });
    expect(await createAndAsk({ name: 'own', engine: 'anthropic', baseURL: wire.url, model: 'claude-x' })).toEqual({ created: 400, param: 'models.0.apiKey' });
    expect((await admin('GET', '/admin/tenants/acme')).status).toBe(404);
    expect(wire.requests).toEqual([]);
  });

  it('takes options.prefill "none" (a vLLM before 0.6.4: the preset\'s continue_final_message off); another value is a 400 naming it', async () => {
    const own = (prefill: string) => ({ name: 'own', engine: 'openai-compatible', preset: 'vllm', baseURL: wire.baseURL, model: 'qwen3-8b', options: { prefill } });
    expect(await createAndAsk(own('off'))).toEqual({ created: 400, param: 'models.0.options.prefill' });
    expect(await createAndAsk(own('none'))).toEqual({ created: 201, call: 200 });
  });

  it("never sends the server's key: a preset's key variable is not read for it", async () => {
    // vLLM takes a key when there is one (VLLM_API_KEY): the tenant's server gets none.
    expect(await createAndAsk({ name: 'own', engine: 'openai-compatible', preset: 'vllm', baseURL: wire.baseURL, model: 'm' })).toEqual({ created: 201, call: 200 });
    // OpenAI needs one (OPENAI_API_KEY): a model stored without one (straight to the store, past the admin API's
    // check, as an older version took it) fails without calling out, and the log says what the model lacks.
    await h.stores!.tenants.updateTenant('acme', { models: [{ name: 'own', engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, model: 'gpt-x' }] });
    expect(await ask('own')).toBe(502);
    expect(logs).toContainEqual(expect.stringContaining('set apiKey or apiKeyEnv on model "own" (OPENAI_API_KEY is not read for it)'));
    // Its own key is sent.
    await admin('PATCH', '/admin/tenants/acme', { models: [{ name: 'own', engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, model: 'gpt-x', apiKey: 'sk-tenant' }] });
    expect(await ask('own')).toBe(200);
    expect(sentKeys()).toEqual([null, 'Bearer sk-tenant']);
  });

  it('a model naming its key by apiKeyEnv is stored without the secret and called with that variable', async () => {
    const model = { name: 'team', engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, model: 'm', apiKeyEnv: 'ACME_OPENAI_KEY' };
    expect(await createAndAsk(model)).toEqual({ created: 201, call: 200 });
    expect(sentKeys()).toEqual(['Bearer sk-acme-from-env']);
    expect(JSON.stringify(await (await admin('GET', '/admin/tenants/acme')).json())).not.toContain('sk-acme-from-env');
    // Stored so by a previous version (or written straight to the store): served alike.
    await h.stores!.tenants.createTenant({ id: 'beta', name: 'Beta', models: [{ ...model, name: 'beta-team' }] });
    const { secret } = await h.stores!.tenants.createKey('beta', { name: 'k' });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'beta-team', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
    expect(res.status, await res.text()).toBe(200);
    expect(sentKeys()).toEqual(['Bearer sk-acme-from-env', 'Bearer sk-acme-from-env']);
    expect(logs.filter((m) => /ACME_OPENAI_KEY/.test(m))).toEqual([]);
  });
});

describe("a tenant's own model whose secrets the store holds as \"[redacted]\" (a v3 config's tenant the config no longer lists)", () => {
  let h: Harness;
  let wire: OpenAIWireServer;
  const admin = adminApi(() => h.gateway);

  beforeEach(async () => {
    wire = await startOpenAIWireServer();
    h = await createAdminHarness({ models: [mockModel('mock')], routerOptions: { env: {} }, gateway: { log: () => {} } });
  });
  afterEach(async () => {
    await h.close();
    await wire.close();
  });

  /** A chat call of tenant `acme`'s model as the wire gives it (for `expectGatewayError`). */
  async function ask(secret: string, model: string, stream = false): Promise<WireAnswer> {
    const res = await post(h.gateway, '/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  }

  it('each call fails at once (503 no_deployment naming the model and its key, not retried), nothing goes upstream; GET shows the placeholder; once set, it is sent', async () => {
    // As the server stores a config's tenant (`redactModelSecrets`): a server of the tenant's own, which takes calls
    // without a key when none is sent, so only the gateway can tell that one is missing.
    const own = { name: 'own', engine: 'openai-compatible', baseURL: wire.baseURL, model: 'x' };
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', models: [{ ...own, apiKey: '[redacted]' }] });
    const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
    for (const stream of [false, true]) {
      const answer = await ask(secret, 'own', stream);
      const error = expectGatewayError(answer, { status: 503, code: 'no_deployment' }, stream ? 'stream' : 'json');
      expect(error.message).toContain('Model "own" cannot be called until its apiKey (or apiKeyEnv) is set');
      // A retry gets the same until an admin sets the key: the official clients send it once, not three times.
      expect(answer.headers['x-should-retry']).toBe('false');
    }
    expect(wire.requests).toEqual([]);
    // Shown as any stored key is: a model read back and saved as shown is the 400 naming the field, never one stored
    // without its key and called so.
    const shown = (await (await admin('GET', '/admin/tenants/acme')).json()) as { models: Array<Record<string, unknown>> };
    expect(shown.models).toEqual([{ ...shown.models[0], ...own, apiKey: '[redacted]' }]);

    expect((await admin('PATCH', '/admin/tenants/acme', { models: [{ ...own, apiKey: 'sk-acme-set' }] })).status).toBe(200);
    expect((await ask(secret, 'own')).status).toBe(200);
    expect(wire.requests.map((r) => r.headers.authorization)).toEqual(['Bearer sk-acme-set']);
    expect((await (await admin('GET', '/admin/tenants/acme')).json()) as unknown).toMatchObject({ models: [{ apiKey: '[redacted]' }] });
  });

  // An admin reads the tenant back and saves it with an unrelated edit, as admins do: the placeholder echoed is the
  // 400 naming the field to set, and the model still fails naming it; it never goes upstream without its secret.
  for (const [label, stored, param] of [
    ['apiKey', { apiKey: '[redacted]' }, 'models.0.apiKey'],
    ['an Authorization header', { headers: { authorization: '[redacted]', 'x-plain': 'kept' } }, 'models.0.headers.authorization'],
  ] as const) {
    it(`GET -> edit -> PATCH of such a model whose ${label} is "[redacted]" is a 400 naming ${param}; nothing is stored, nothing called`, async () => {
      const own = { name: 'own', engine: 'openai-compatible', baseURL: wire.baseURL, model: 'x' };
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', models: [{ ...own, ...stored }] });
      const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
      const shown = (await (await admin('GET', '/admin/tenants/acme')).json()) as { models: Array<Record<string, unknown>> };
      const patched = await admin('PATCH', '/admin/tenants/acme', { models: shown.models.map((m) => ({ ...m, tags: ['edited'] })) });
      expect({ status: patched.status, error: ((await patched.json()) as { error?: unknown }).error }).toMatchObject({ status: 400, error: { code: 'invalid_request', param } });
      expect((await h.stores!.tenants.getTenant('acme'))?.models?.[0]).toMatchObject(stored);
      expectGatewayError(await ask(secret, 'own'), { status: 503, code: 'no_deployment' });
      expect(wire.requests).toEqual([]);
    });
  }

  // The placeholder beside apiKeyEnv stands for nothing the model needs (that variable is its key, as served): shown
  // without it, so the model read back and saved keeps working with the variable.
  it('a "[redacted]" apiKey beside apiKeyEnv: called with the variable; shown without apiKey, and GET -> PATCH round-trips', async () => {
    await h.close();
    h = await createAdminHarness({ models: [mockModel('mock')], routerOptions: { env: { ACME_KEY: 'sk-acme-env' } }, gateway: { log: () => {} } });
    const own = { name: 'own', engine: 'openai-compatible', baseURL: wire.baseURL, model: 'x', apiKeyEnv: 'ACME_KEY' };
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', models: [{ ...own, apiKey: '[redacted]' }] });
    const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
    expect((await ask(secret, 'own')).status).toBe(200);
    const shown = (await (await admin('GET', '/admin/tenants/acme')).json()) as { models: Array<Record<string, unknown>> };
    expect(shown.models[0]).toMatchObject(own);
    expect(shown.models[0]).not.toHaveProperty('apiKey');
    const patched = await admin('PATCH', '/admin/tenants/acme', { models: shown.models.map((m) => ({ ...m, tags: ['edited'] })) });
    expect(patched.status, await patched.text()).toBe(200);
    expect((await ask(secret, 'own')).status).toBe(200);
    expect(wire.requests.map((r) => r.headers.authorization)).toEqual(['Bearer sk-acme-env', 'Bearer sk-acme-env']);
  });
});

describe('tenant custom models and missed deletion notices (stores.tenantEvents)', () => {
  it('listening again after an interruption: each tenant with own models is looked up, and one deleted meanwhile is forgotten', async () => {
    const router = new LLMRouter({ models: [mockModel('mock', { reply: 'shared mock' })], routing: { strategy: 'priority', retries: { max: 0 } } });
    const stores = await createStateStores({ mode: 'memory' });
    // Stands for Redis pub/sub: the test says when notices are heard and when some may have been missed.
    let missed: (() => void) | undefined;
    const tenantEvents = {
      deleted: () => Promise.resolve(),
      onDeleted: (_listener: (id: string) => void, onMissed?: () => void) => {
        missed = onMissed;
        return Promise.resolve({ caughtUp: () => Promise.resolve(), close: () => {} });
      },
      close: () => Promise.resolve(),
    };
    const gateway = createGateway({ router, stores: { ...stores, tenantEvents }, auth: { adminKey: TEST_ADMIN_KEY }, log: () => {} });
    try {
      const owned = (tenant: string) => router.models(tenant).filter((d) => d.tenant === tenant).map((d) => d.name);
      for (const id of ['gone', 'kept']) {
        await stores.tenants.createTenant({ id, name: id, models: [own(`${id}-llm`, id)] as never });
        const { secret } = await stores.tenants.createKey(id, { name: 'k' });
        const res = await post(gateway, '/v1/chat/completions', { model: `${id}-llm`, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
        expect(res.status).toBe(200);
        expect(owned(id)).toEqual([`${id}-llm`]);
      }
      // Deleted through another process while this one's subscribed connection was down: no notice came.
      await stores.tenants.deleteTenant('gone');
      expect(missed).toBeTypeOf('function');
      missed!();
      await vi.waitFor(() => expect(owned('gone')).toEqual([]), { timeout: 5_000 });
      expect(owned('kept')).toEqual(['kept-llm']);
    } finally {
      await gateway.close();
      await router.close();
      await stores.close();
    }
  });
});

/**
 * A tenant's own model's stream that the client leaves after an admin changed the tenant's models mid-flight (removed,
 * re-priced, the tenant deleted): the tokens streamed are billed at the price of the deployment that served them
 * (core's route part carries it), not at what the router holds when the call settles (which was $0 for a removed
 * model or a deleted tenant, and the new price for a re-priced one). Official `openai` client on a served gateway;
 * the upstream is a raw OpenAI-wire server that streams some content and holds the stream open. The deleted-tenant
 * case runs last (it deletes `acme`).
 */
describe("a tenant's own model's stream left by its client after a mid-flight change of the models", () => {
  let raw: RawUpstream;
  let gw: SdkGateway;
  const held: ServerResponse[] = [];
  let requests = 0;
  const CONTENT = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
  const chunk = (delta: object) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;

  beforeAll(async () => {
    raw = await startRawUpstream((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ role: 'assistant', content: '' }));
      res.write(chunk({ content: CONTENT }));
      held.push(res); // never ends: the client leaves first
    });
    gw = await servedGateway({ models: [{ name: 'shared', engine: 'mock', options: { reply: 'shared' } }], gateway: { auth: { adminKey: TEST_ADMIN_KEY } }, upstreams: [raw] });
  }, 30_000);
  afterAll(async () => {
    for (const r of held) r.destroy();
    await gw?.close();
  });

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const ownModel = (price: { input: number; output: number }) => ({ name: 'own', engine: 'openai-compatible', baseURL: `${raw.url}/v1`, apiKey: 'tenant-key', model: 'up', price });
  /** The router takes a change on the tenant's next read: another request of the tenant. */
  const touch = async () => expect((await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${gw.secret}` } })).status).toBe(200);

  /** Streams `own` with the official client, reads all the content, runs `between`, then leaves. Returns the row. */
  async function leaveAfter(between: () => Promise<void>) {
    const before = requests;
    const controller = new AbortController();
    const { data: stream, response } = await gw
      .openai()
      .chat.completions.create({ model: 'own', messages: [{ role: 'user', content: 'go' }], stream: true }, { signal: controller.signal })
      .withResponse();
    const id = response.headers.get('x-request-id')!;
    const it = stream[Symbol.asyncIterator]();
    let text = '';
    while (!text.includes('word199')) text += (await it.next()).value?.choices[0]?.delta?.content ?? '';
    expect(requests).toBe(before + 1);
    await between();
    controller.abort();
    await it.return?.();
    return vi.waitFor(
      async () => {
        const row = await gw.ledger.get(id);
        expect(row).toBeDefined();
        return row!;
      },
      { timeout: 10_000, interval: 50 },
    );
  }

  it('with no change: the streamed tokens are billed at the model price', async () => {
    expect((await admin('PATCH', '/admin/tenants/acme', { models: [ownModel({ input: 1000, output: 1000 })] })).status).toBe(200);
    const row = await leaveAfter(async () => {});
    expect(row.status).toBe('aborted');
    expect(row.outputTokens).toBeGreaterThan(0);
    expect(row.costUsd).toBeGreaterThan(0);
  }, 30_000);

  it('the model removed mid-flight: the tokens it streamed are still billed at its price', async () => {
    expect((await admin('PATCH', '/admin/tenants/acme', { models: [ownModel({ input: 1000, output: 1000 })] })).status).toBe(200);
    const control = await leaveAfter(async () => {});
    const row = await leaveAfter(async () => {
      expect((await admin('PATCH', '/admin/tenants/acme', { models: null })).status).toBe(200);
      await touch();
    });
    expect(row.status).toBe('aborted');
    expect(row.outputTokens).toBe(control.outputTokens);
    expect(row.costUsd).toBeCloseTo(control.costUsd, 9);
  }, 30_000);

  it('the model re-priced mid-flight: the tokens streamed before are billed at the price they were served at', async () => {
    expect((await admin('PATCH', '/admin/tenants/acme', { models: [ownModel({ input: 1000, output: 1000 })] })).status).toBe(200);
    const control = await leaveAfter(async () => {});
    const row = await leaveAfter(async () => {
      expect((await admin('PATCH', '/admin/tenants/acme', { models: [ownModel({ input: 1, output: 1 })] })).status).toBe(200);
      await touch();
    });
    expect(row.status).toBe('aborted');
    expect(row.costUsd).toBeCloseTo(control.costUsd, 9);
  }, 30_000);

  it('the tenant deleted mid-flight: its in-flight call records its usage under its id, at the model price', async () => {
    expect((await admin('PATCH', '/admin/tenants/acme', { models: [ownModel({ input: 1000, output: 1000 })] })).status).toBe(200);
    const control = await leaveAfter(async () => {});
    const row = await leaveAfter(async () => {
      expect((await admin('DELETE', '/admin/tenants/acme')).status).toBe(200);
    });
    expect(row.tenantId).toBe('acme');
    expect(row.outputTokens).toBe(control.outputTokens);
    expect(row.costUsd).toBeCloseTo(control.costUsd, 9);
  }, 30_000);
});
