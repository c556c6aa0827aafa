import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { adminApi, createAdminHarness } from '../test-support/admin-api.js';
import { mockModel, type Harness } from '../test-support/harness.js';

/**
 * Tenant ids may name a property of Object.prototype ("constructor", "toString", "__proto__", ...): the id pattern
 * allows them, and every per-tenant setting core reads from the config (`cache.semantic.tenantThresholds`,
 * `cache.predictive.tenantBudgets`) is looked up as an own property, so such a tenant gets the defaults. (The
 * semantic cache used to read `tenantThresholds.constructor`, the `Object` function: every threshold check then
 * compared with NaN and passed, so any cached answer of the tenant was served for any question.)
 */
describe('a tenant id named like an Object.prototype member', () => {
  let h: Harness;
  let served: ServedGateway;
  const admin = adminApi(() => h.gateway);

  beforeAll(async () => {
    h = await createAdminHarness({
      models: [mockModel('chat'), mockModel('emb', {}, { capabilities: ['embeddings'] })],
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.95, tenantThresholds: { acme: 0.95 } } },
    });
    served = await serveGateway(h.gateway, { port: 0 });
  });
  afterAll(async () => {
    await served.close();
    await h.close();
  });

  /** The tenant's answer to a question unrelated to the one it asked first, with its cache header. */
  async function askTwo(tenantId: string) {
    expect((await admin('POST', '/admin/tenants', { id: tenantId, name: `Tenant ${tenantId}` })).status).toBe(201);
    const { secret } = (await (await admin('POST', `/admin/tenants/${tenantId}/keys`, { name: 'k' })).json()) as { secret: string };
    const client = new OpenAI({ apiKey: secret, baseURL: `${served.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'How do I bake sourdough bread at home?' }] });
    const { data, response } = await client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'Which river flows through Vienna?' }] })
      .withResponse();
    return { answer: data.choices[0]!.message.content, cache: response.headers.get('x-llmrr-cache') };
  }

  it('gets a fresh answer to an unrelated question, as tenant "acme" does (no cached answer of another question)', async () => {
    const acme = await askTwo('acme');
    expect(acme).toEqual({ answer: expect.stringContaining('Vienna'), cache: 'miss' });
    for (const id of ['constructor', 'toString', '__proto__']) expect({ id, ...(await askTwo(id)) }).toEqual({ id, ...acme });
  });
});
