/**
 * The admin API's nullable PUT bodies (packages/gateway/README.md, "Admin API"): `PUT /admin/tenants/:id/limits`,
 * `PUT /admin/tenants/:id/budget` and `PUT /admin/keys/:id/limits` take `null` to remove the tenant's limits or
 * budget, or the key's own limits. Any other body that is not a JSON object is still a 400.
 */import { LLMRouter, createStateStores, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import type { Gateway } from '../types.js';

const ADMIN = 'admin-key-0123456789';

describe('admin PUT with a null body clears, as the README documents', () => {
  let router: LLMRouter | undefined;
  let stores: StateStores | undefined;
  let gateway: Gateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await router?.close();
    await stores?.close();
  });

  async function setUp(): Promise<string> {
    router = new LLMRouter({ models: [{ name: 'mock', engine: 'mock' }] });
    stores = await createStateStores({ mode: 'memory' });
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 10 }, budget: { amountUsd: 5, period: 'month' } });
    const { key } = await stores.tenants.createKey('acme', { name: 'laptop', limits: { rpm: 3 } });
    gateway = createGateway({ router, stores, auth: { adminKey: ADMIN } });
    return key.id;
  }

  async function put(path: string): Promise<{ status: number; body: string }> {
    const res = await gateway!.fetch(
      new Request(`http://gw${path}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: 'null' }),
    );
    return { status: res.status, body: (await res.text()).slice(0, 200) };
  }

  it('PUT /admin/tenants/:id/limits null removes the tenant limits', async () => {
    await setUp();
    const res = await put('/admin/tenants/acme/limits');
    expect(res.status, res.body).toBe(200);
    expect((await stores!.tenants.getTenant('acme'))?.limits).toBeUndefined();
  });

  it('PUT /admin/tenants/:id/budget null removes the tenant budget', async () => {
    await setUp();
    const res = await put('/admin/tenants/acme/budget');
    expect(res.status, res.body).toBe(200);
    expect((await stores!.tenants.getTenant('acme'))?.budget).toBeUndefined();
  });

  it('PUT /admin/keys/:id/limits null removes the key limits', async () => {
    const keyId = await setUp();
    const res = await put(`/admin/keys/${keyId}/limits`);
    expect(res.status, res.body).toBe(200);
    expect((await stores!.tenants.getKey(keyId))?.limits).toBeUndefined();
  });

  it('a body that is neither an object nor null is still refused as not a JSON object', async () => {
    await setUp();
    for (const body of ['[]', '3', '"x"']) {
      const res = await gateway!.fetch(
        new Request('http://gw/admin/tenants/acme/limits', { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body }),
      );
      expect({ body, status: res.status, text: await res.text() }).toMatchObject({ body, status: 400, text: expect.stringContaining('Request body must be a JSON object') });
    }
    expect((await stores!.tenants.getTenant('acme'))?.limits).toEqual({ rpm: 10 });
  });
});
