import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, get, mockModel, post, type Harness } from '../test-support/harness.js';

// README (server section): in demo mode "requests without an API key act as the tenant `demo` and every such
// response carries `x-llmrr-demo: true`"; the header table lists `x-llmrr-demo: true`, `x-llmrr-tenant`. So do the
// model lists, /api/status and /api/route, as the model endpoints, errors after authentication included; a
// request with a key gets neither header.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const demo = (res: Response) => [res.headers.get('x-llmrr-demo'), res.headers.get('x-llmrr-tenant')];

describe('demo-mode headers on the routes that call no model', () => {
  it('GET /v1/models, /v1/models/{id}, /api/models, /api/status and POST /api/route carry x-llmrr-demo and x-llmrr-tenant, as /api/quick does', async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { auth: { demoTenantId: 'demo' } } });
    await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
    const quick = await post(h.gateway, '/api/quick', { prompt: 'hello' });
    expect(quick.status).toBe(200);
    expect(demo(quick)).toEqual(['true', 'demo']);
    const seen: Record<string, unknown> = {};
    for (const path of ['/v1/models', '/v1/models/mock', '/api/models', '/api/status']) {
      const res = await get(h.gateway, path);
      expect(res.status).toBe(200);
      seen[path] = demo(res);
    }
    const route = await post(h.gateway, '/api/route', { prompt: 'hello' });
    expect(route.status).toBe(200);
    seen['/api/route'] = demo(route);
    expect(seen).toEqual({
      '/v1/models': ['true', 'demo'],
      '/v1/models/mock': ['true', 'demo'],
      '/api/models': ['true', 'demo'],
      '/api/status': ['true', 'demo'],
      '/api/route': ['true', 'demo'],
    });
    // An error after authentication says so too.
    const missing = await get(h.gateway, '/v1/models/nope');
    expect(missing.status).toBe(404);
    expect(demo(missing)).toEqual(['true', 'demo']);
  });

  it('a request with a key carries neither header', async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { auth: { demoTenantId: 'demo' } } });
    await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const key = { authorization: `Bearer ${(await h.stores!.tenants.createKey('acme', { name: 'k' })).secret}` };
    for (const path of ['/v1/models', '/api/models', '/api/status']) {
      const res = await get(h.gateway, path, key);
      expect(res.status).toBe(200);
      expect(demo(res)).toEqual([null, null]);
    }
  });
});
