import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, get, mockModel, post, type Harness } from '../test-support/harness.js';

// A tenant with an allow-list and a model of its own named like a shared deployment's alias: its own models are
// its by ownership (the router's view of the tenant holds them and the shared deployments its list names), so the
// name never opens the shared deployments carrying it as alias, in the lists, by name, or through `auto`.

let h: Harness;
let served: ServedGateway;
let secret: string;
const auth = () => ({ authorization: `Bearer ${secret}` });
beforeAll(async () => {
  h = await createHarness({
    stores: 'memory',
    models: [
      // `auto` under the priority strategy would pick a premium deployment first if it could see one.
      mockModel('cheap', { reply: 'shared cheap' }, { priority: 5 }),
      mockModel('premium-a', { reply: 'shared premium' }, { alias: 'premium', priority: 1, price: { input: 50, output: 50 } }),
      mockModel('premium-b', { reply: 'shared premium' }, { alias: 'premium', priority: 1, price: { input: 50, output: 50 } }),
    ],
  });
  // Allowed: `cheap` only, plus its own model, which it happens to call `premium`.
  await h.stores!.tenants.createTenant({
    id: 'acme',
    name: 'Acme',
    allowedModels: ['cheap'],
    models: [{ name: 'premium', engine: 'mock', priority: 9, price: { input: 1, output: 1 }, options: { reply: 'own premium' } }],
  });
  secret = (await h.stores!.tenants.createKey('acme', { name: 'sdk' })).secret;
  served = await serveGateway(h.gateway, { port: 0 });
});
afterAll(async () => {
  await served?.close(1000);
  await h?.close();
});

describe('allow-list and a tenant model named like a shared alias', () => {
  it('models.list() shows the allowed model and the own model only', async () => {
    const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids.sort()).toEqual(['cheap', 'premium']);
  });

  it('/api/models and /api/status list the same two, the own model at its own price', async () => {
    const models = (await (await get(h.gateway, '/api/models', auth())).json()) as { models: Array<{ id: string; price?: { input: number } }> };
    expect(models.models.map((m) => [m.id, m.price?.input]).sort()).toEqual([
      ['cheap', 1],
      ['premium', 1],
    ]);
    const status = (await (await get(h.gateway, '/api/status', auth())).json()) as { deployments: Array<{ name: string }> };
    expect(status.deployments.map((d) => d.name).sort()).toEqual(['cheap', 'premium']);
  });

  it('a shared deployment outside the allow-list is refused (404), not served', async () => {
    const res = await post(h.gateway, '/v1/completions', { model: 'premium-a', prompt: 'hi' }, auth());
    expect({ status: res.status, served: res.headers.get('x-llmrr-model') }).toEqual({ status: 404, served: null });
    expect((await get(h.gateway, '/v1/models/premium-a', auth())).status).toBe(404);
  });

  it('`premium` is the own model, and `auto` never lands on a shared premium deployment', async () => {
    const named = await post(h.gateway, '/v1/completions', { model: 'premium', prompt: 'hi' }, auth());
    expect(named.status).toBe(200);
    expect(named.headers.get('x-llmrr-model')).toBe('premium');
    expect(((await named.json()) as { choices: Array<{ text: string }> }).choices[0]!.text).toBe('own premium');
    const seen = new Set<string | null>();
    for (let i = 0; i < 3; i++) {
      const res = await post(h.gateway, '/v1/completions', { model: 'auto', prompt: 'hi' }, auth());
      expect(res.status).toBe(200);
      seen.add(res.headers.get('x-llmrr-model'));
    }
    expect([...seen]).toEqual(['cheap']);
    const entries = await h.stores!.ledger.query({ tenantId: 'acme' });
    expect(entries.filter((e) => e.deployment?.startsWith('premium-'))).toEqual([]);
  });
});

describe('allow-list and a cascade with an own model as a step', () => {
  it('the cascade the tenant may use is listed and served, its step by the own model', async () => {
    const c = await createHarness({
      stores: 'memory',
      models: [mockModel('weak', { reply: 'shared weak' }), mockModel('strong', { reply: 'shared strong' })],
      routing: { cascades: [{ name: 'cas', weak: 'weak', strong: 'strong' }] },
    });
    try {
      // `strong` is the tenant's own model (shadowing the shared one); the list names the weak step and the cascade.
      await c.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', allowedModels: ['weak', 'cas'], models: [{ name: 'strong', engine: 'mock', options: { reply: 'own strong' } }] });
      const key = { authorization: `Bearer ${(await c.stores!.tenants.createKey('acme', { name: 'k' })).secret}` };
      const list = (await (await get(c.gateway, '/v1/models', key)).json()) as { data: Array<{ id: string }> };
      expect(list.data.map((m) => m.id).sort()).toEqual(['cas', 'strong', 'weak']);
      const res = await post(c.gateway, '/v1/completions', { model: 'cas', prompt: 'hi' }, key);
      expect(res.status).toBe(200);
    } finally {
      await c.close();
    }
  });
});

describe('/api/status to a tenant', () => {
  it("shows its own model's traffic, and a shared deployment's circuit without the other tenants' traffic", async () => {
    await h.stores!.tenants.createTenant({ id: 'beta', name: 'Beta', allowedModels: ['cheap'] });
    const beta = (await h.stores!.tenants.createKey('beta', { name: 'sdk' })).secret;
    for (let i = 0; i < 2; i++) expect((await post(h.gateway, '/v1/completions', { model: 'cheap', prompt: 'hi' }, { authorization: `Bearer ${beta}` })).status).toBe(200);
    expect((await post(h.gateway, '/v1/completions', { model: 'premium', prompt: 'hi' }, auth())).status).toBe(200);
    type Line = { name: string; circuit: string; requests?: number; inFlight?: number; latencyMs?: number | null };
    const status = (await (await get(h.gateway, '/api/status', auth())).json()) as { deployments: Line[] };
    const byName = new Map(status.deployments.map((d) => [d.name, d]));
    expect(byName.get('cheap')).toEqual({ name: 'cheap', engine: 'mock', model: 'cheap', circuit: 'closed' });
    expect(byName.get('premium')).toMatchObject({ circuit: 'closed', inFlight: 0 });
    expect(byName.get('premium')!.requests).toBeGreaterThanOrEqual(1);
    // The demo tenant or a gateway without stores is the only user: it sees every count (api-routes.test.ts).
  });
});

