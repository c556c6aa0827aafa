/**
 * `routing.clientStrategies` (README "Router extension"): the operator decides whether a client may switch the routing
 * strategy with `x-llmrr-strategy` / `llmrr.strategy` (or the legacy endpoints' `strategy`). `true` (default): any
 * strategy the router has; `false`: none; a list: those only. A strategy the client may not ask for is a 400
 * `invalid_request` naming the field it came from, refused before admission (no ledger row), with the official
 * openai SDK as the client on a served gateway.
 */
import { LLMError, LLMRouter } from '@llmrr/core';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { adminApi, createAdminHarness } from '../test-support/admin-api.js';
import { mockModel, post, type Harness } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let gw: SdkGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const MODELS = [
  { name: 'cheap', engine: 'mock', price: { input: 0.1, output: 0.1 }, capabilities: ['chat', 'streaming'] },
  { name: 'dear', engine: 'mock', price: { input: 10, output: 10 }, capabilities: ['chat', 'streaming'] },
] as const;

async function serve(clientStrategies?: boolean | string[]): Promise<SdkGateway> {
  gw = await servedGateway({
    models: MODELS.map((m) => ({ ...m, capabilities: [...m.capabilities] })),
    routing: { strategy: 'priority', ...(clientStrategies !== undefined ? { clientStrategies } : {}) },
  });
  return gw;
}

/** The strategy the router used for a chat call of the official client (from `x-llmrr-decision`). */
async function chatWith(client: OpenAI, headers: Record<string, string>, body: Record<string, unknown> = {}): Promise<string> {
  const { response } = await client.chat.completions
    .create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }], ...body } as OpenAI.ChatCompletionCreateParamsNonStreaming, {
      headers: { 'x-llmrr-explain': 'true', ...headers },
    })
    .withResponse();
  return (JSON.parse(response.headers.get('x-llmrr-decision')!) as { strategy: string }).strategy;
}

async function refusal(p: Promise<unknown>): Promise<{ status: number; code: unknown; param: unknown; type: unknown; message: string }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OpenAI.BadRequestError);
  const err = e as InstanceType<typeof OpenAI.BadRequestError>;
  const body = err.error as { type: unknown; code: unknown; param: unknown };
  return { status: err.status, code: body.code, param: body.param, type: body.type, message: err.message };
}

describe('routing.clientStrategies: which strategies a client may ask for', () => {
  it('default (true): a client may switch to any strategy the router has (backward compatible)', async () => {
    const g = await serve();
    expect(await chatWith(g.openai(), { 'x-llmrr-strategy': 'cost-optimized' })).toBe('cost-optimized');
    expect(await chatWith(g.openai(), {})).toBe('priority');
  });

  it('a list: a listed strategy is served, another is a 400 naming x-llmrr-strategy with no ledger row', async () => {
    const g = await serve(['cost-optimized']);
    const client = g.openai();
    expect(await chatWith(client, { 'x-llmrr-strategy': 'cost-optimized' })).toBe('cost-optimized');
    const bad = await refusal(chatWith(client, { 'x-llmrr-strategy': 'round-robin' }));
    expect(bad).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_request', param: 'x-llmrr-strategy' });
    expect(bad.message).toContain('"round-robin" is not one a client may choose (routing.clientStrategies: cost-optimized)');
    const rows = await g.ledger.query({ tenantId: 'acme' });
    expect(rows.map((r) => r.errorCode ?? 'ok')).toEqual(['ok']);
  });

  it('false: any strategy a client names is refused, in the body field llmrr.strategy too; no strategy is served with the operator\'s', async () => {
    const g = await serve(false);
    const client = g.openai();
    const bad = await refusal(chatWith(client, { 'x-llmrr-strategy': 'cost-optimized' }, { llmrr: { strategy: 'cost-optimized' } }));
    expect(bad).toMatchObject({ status: 400, code: 'invalid_request', param: 'llmrr.strategy' });
    expect(bad.message).toContain('clients may not choose the routing strategy (routing.clientStrategies: false)');
    expect(await chatWith(client, {})).toBe('priority');
  });

  // Naming the strategy the call gets anyway (the router's default, or the tenant's preferred one) chooses nothing:
  // a client that always sends its header (a config shared by many deployments) keeps working.
  it('false or a list: naming the strategy the call would get anyway is served; naming another is refused', async () => {
    const g = await serve(false);
    const client = g.openai();
    expect(await chatWith(client, { 'x-llmrr-strategy': 'priority' })).toBe('priority');
    expect(await chatWith(client, {}, { llmrr: { strategy: 'priority' } })).toBe('priority');
    const tenants = g.harness.stores!.tenants;
    await tenants.createTenant({ id: 'pinned', name: 'Pinned', preferences: { strategy: 'cost-optimized' } });
    const pinned = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: (await tenants.createKey('pinned', { name: 'k' })).secret, maxRetries: 0 });
    expect(await chatWith(pinned, { 'x-llmrr-strategy': 'cost-optimized' })).toBe('cost-optimized');
    // The router's default is not what this tenant's calls get: naming it would switch the strategy.
    const bad = await refusal(chatWith(pinned, { 'x-llmrr-strategy': 'priority' }));
    expect(bad).toMatchObject({ status: 400, code: 'invalid_request', param: 'x-llmrr-strategy' });
    await g.close();
    gw = undefined;
    const listed = await serve(['cost-optimized']);
    expect(await chatWith(listed.openai(), { 'x-llmrr-strategy': 'priority' })).toBe('priority');
    const auth = { authorization: `Bearer ${listed.secret}` };
    const route = await post(listed.harness.gateway, '/api/route', { prompt: 'hi', strategy: 'priority' }, auth);
    expect(((await route.json()) as { strategy: string }).strategy).toBe('priority');
  });

  it('an unknown strategy is still named as unknown (not as not allowed)', async () => {
    const g = await serve(['cost-optimized']);
    const bad = await refusal(chatWith(g.openai(), { 'x-llmrr-strategy': 'cost-optimised' }));
    expect(bad.message).toContain('unknown strategy "cost-optimised"');
  });

  it('the legacy endpoints and /api/route: their `strategy` field is checked the same way', async () => {
    const g = await serve(['cost-optimized']);
    const auth = { authorization: `Bearer ${g.secret}` };
    const answers = await Promise.all([
      post(g.harness.gateway, '/api/chat', { messages: [{ role: 'user', content: 'hi' }], strategy: 'round-robin' }, auth),
      post(g.harness.gateway, '/api/quick', { prompt: 'hi', strategy: 'round-robin' }, auth),
      post(g.harness.gateway, '/api/route', { prompt: 'hi', strategy: 'round-robin' }, auth),
    ]);
    const errors = await Promise.all(answers.map(async (a) => ({ status: a.status, ...((await a.json()) as { error: { code: string; param: string } }).error })));
    expect(errors.map((e) => [e.status, e.code, e.param])).toEqual([
      [400, 'invalid_request', 'strategy'],
      [400, 'invalid_request', 'strategy'],
      [400, 'invalid_request', 'strategy'],
    ]);
    const ok = await post(g.harness.gateway, '/api/route', { prompt: 'hi', strategy: 'cost-optimized' }, auth);
    expect(((await ok.json()) as { strategy: string }).strategy).toBe('cost-optimized');
  });

  it('a tenant\'s preferences.clientStrategies wins over routing.clientStrategies for its keys', async () => {
    const g = await serve(false);
    const tenants = g.harness.stores!.tenants;
    await tenants.createTenant({ id: 'lab', name: 'Lab', preferences: { clientStrategies: true } });
    await tenants.createTenant({ id: 'pinned', name: 'Pinned', preferences: { strategy: 'cost-optimized', clientStrategies: ['speed-priority'] } });
    const client = (secret: string) => new OpenAI({ baseURL: `${g.url}/v1`, apiKey: secret, maxRetries: 0 });
    const lab = client((await tenants.createKey('lab', { name: 'k' })).secret);
    const pinned = client((await tenants.createKey('pinned', { name: 'k' })).secret);
    expect(await chatWith(lab, { 'x-llmrr-strategy': 'round-robin' })).toBe('round-robin');
    expect(await chatWith(pinned, {})).toBe('cost-optimized');
    expect(await chatWith(pinned, { 'x-llmrr-strategy': 'speed-priority' })).toBe('speed-priority');
    const bad = await refusal(chatWith(pinned, { 'x-llmrr-strategy': 'round-robin' }));
    expect(bad).toMatchObject({ status: 400, code: 'invalid_request', param: 'x-llmrr-strategy' });
    expect(bad.message).toContain('(preferences.clientStrategies of the tenant: speed-priority)');
    // The router's setting still holds for a tenant without its own.
    expect((await refusal(chatWith(g.openai(), { 'x-llmrr-strategy': 'round-robin' }))).param).toBe('x-llmrr-strategy');
  });

  it('a listed name the router does not have is the operator\'s config error at start (checkTenantStrategies), naming the field', async () => {
    const g = await serve(['cost-optimised']);
    let err: unknown;
    try {
      g.harness.router.checkTenantStrategies();
    } catch (e) {
      err = e;
    }
    expect(LLMError.isInstance(err) ? { code: err.code, param: err.param } : err).toEqual({ code: 'config_invalid', param: 'routing.clientStrategies.0' });
    // A v3 config tenant's own list is checked the same way.
    const v3 = new LLMRouter({
      version: 3,
      models: [{ name: 'mock', engine: 'mock' }],
      tenants: [{ id: 'acme', preferences: { clientStrategies: ['priority', 'nope'] } }],
    });
    try {
      expect(() => v3.checkTenantStrategies()).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'tenants.0.preferences.clientStrategies.1' }));
    } finally {
      await v3.close();
    }
  });
});

describe('preferences.clientStrategies on the admin tenant routes', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('must be true, false or a list of strategies the router has: else a 400 naming the field; PATCH sets it', async () => {
    h = await createAdminHarness({ models: [mockModel('mock')] });
    const admin = adminApi(() => h!.gateway);
    const error = async (res: Response) => ((await res.json()) as { error: { code: string; param: string; message: string } }).error;
    const unknown = await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', preferences: { clientStrategies: ['priority', 'cost-optimised'] } });
    expect(unknown.status).toBe(400);
    expect(await error(unknown)).toMatchObject({ code: 'invalid_request', param: 'preferences.clientStrategies.1' });
    const wrongType = await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', preferences: { clientStrategies: 'all' } });
    expect(wrongType.status).toBe(400);
    expect((await error(wrongType)).param).toBe('preferences.clientStrategies');
    expect((await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', preferences: { clientStrategies: false } })).status).toBe(201);
    const patched = await admin('PATCH', '/admin/tenants/acme', { preferences: { clientStrategies: ['priority'] } });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { preferences: unknown }).preferences).toEqual({ clientStrategies: ['priority'] });
    expect((await admin('PATCH', '/admin/tenants/acme', { preferences: { clientStrategies: ['nope'] } })).status).toBe(400);
  });
});
