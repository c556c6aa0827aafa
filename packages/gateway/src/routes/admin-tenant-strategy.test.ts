import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminApi, createAdminHarness } from '../test-support/admin-api.js';
import { mockModel, post, type Harness } from '../test-support/harness.js';

/**
 * A tenant's `preferences.strategy` set through the admin API must be one the router has, checked when the tenant
 * is created or changed (POST and PATCH `/admin/tenants`): else a 400 naming `preferences.strategy` and the tenant
 * as it was, rather than a tenant each of whose calls fails. The router's strategies are read at that moment, so one
 * registered with `router.addStrategy` after the gateway was built is taken, and serves the tenant's calls.
 */

describe('preferences.strategy on the admin tenant routes', () => {
  let h: Harness;
  const request = adminApi(() => h.gateway);
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await request(method, path, body);
    return { status: res.status, body: (await res.json()) as { error?: { code?: string; param?: string; message?: string }; preferences?: { strategy?: string } } };
  };

  beforeEach(async () => {
    h = await createAdminHarness({ models: [mockModel('first', {}, { priority: 1 }), mockModel('second', {}, { priority: 2 })] });
  });
  afterEach(() => h.close());

  it('an unknown strategy is a 400 naming preferences.strategy, on create and on change; the tenant stays as it was', async () => {
    const created = await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', preferences: { strategy: 'last-first' } });
    expect(created.status).toBe(400);
    expect(created.body.error).toMatchObject({ code: 'invalid_request', param: 'preferences.strategy' });
    expect(created.body.error?.message).toContain('"last-first"');
    expect((await admin('GET', '/admin/tenants/acme')).status).toBe(404);

    expect((await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', preferences: { strategy: 'priority' } })).status).toBe(201);
    const changed = await admin('PATCH', '/admin/tenants/acme', { preferences: { strategy: 'last-first' } });
    expect(changed.status).toBe(400);
    expect(changed.body.error).toMatchObject({ param: 'preferences.strategy' });
    expect((await admin('GET', '/admin/tenants/acme')).body.preferences?.strategy).toBe('priority');
  });

  it('a strategy added with addStrategy after the gateway was built is taken, and routes the tenant\'s calls', async () => {
    h.router.addStrategy('last-first', (ctx) => [...ctx.candidates].reverse().map((deployment, i) => ({ deployment, score: -i })));
    expect((await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', preferences: { strategy: 'last-first' } })).status).toBe(201);
    const { secret } = (await (await request('POST', '/admin/tenants/acme/keys', { name: 'k' })).json()) as { secret: string };
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'auto', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('x-llmrr-model')).toBe('second');
    await res.text();
  });
});
