import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { expectGatewayError } from '../test-support/expect-error.js';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';
import { send } from '../test-support/raw-http.js';

/**
 * The admin API with bad bodies and queries, through a real `serveGateway` on port 0: a 4xx in the error
 * shape naming the field, and no tenant, key, limit or budget changed by a refused request.
 */

const ADMIN = 'admin-key-0123456789abcdef';

describe('hostile admin requests through serveGateway', () => {
  let h: Harness;
  let served: ServedGateway;
  let keyId = '';

  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { auth: { adminKey: ADMIN } } });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 60 }, budget: { amountUsd: 5, period: 'month' } });
    keyId = (await h.stores!.tenants.createKey('acme', { name: 'k' })).key.id;
    served = await serveGateway(h.gateway, { port: 0 });
  });
  afterAll(async () => {
    await served?.close(1000);
    await h?.close();
  });

  const call = (method: string, path: string, body?: string) =>
    send(served.url, method, path.replace('{key}', keyId), body, { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' });

  const bodies: Array<[string, string, string, string]> = [
    ['POST', '/admin/tenants', '{"name":"x","owner":"me"}', 'owner'],
    ['POST', '/admin/tenants', '{"id":"a b","name":"x"}', 'id'],
    ['POST', '/admin/tenants', '{"name":5}', 'name'],
    ['POST', '/admin/tenants', '{"name":"x","tier":"gold"}', 'tier'],
    ['POST', '/admin/tenants', '{"name":"x","limits":{"rpm":"60"}}', 'limits.rpm'],
    ['POST', '/admin/tenants', '{"name":"x","budget":{"amountUsd":1e999}}', 'budget.amountUsd'],
    ['POST', '/admin/tenants', `{"name":"x","models":[{"name":"${'m'.repeat(300)}","engine":"mock"}]}`, 'models.0.name'],
    ['POST', '/admin/tenants', '{"name":"x","models":[{"name":"ok","alias":"a\\u001b[2J","engine":"mock"}]}', 'models.0.alias'],
    ['POST', '/admin/tenants', '{"name":"x","models":[{"name":"m\\n","engine":"mock"}]}', 'models.0.name'],
    ['POST', '/admin/tenants', '{"name":"x","models":[{"name":"m","engine":"warp-drive"}]}', 'models.0.engine'],
    ['PATCH', '/admin/tenants/acme', '{"models":[{"name":"ok","engine":"mock"},{"name":"ok","engine":"mock"}]}', 'models.1.name'],
    ['PATCH', '/admin/tenants/acme', `{"models":[{"name":"${'m'.repeat(600)}","engine":"mock"}]}`, 'models.0.name'],
    ['PATCH', '/admin/tenants/acme', '{"disabled":"yes"}', 'disabled'],
    ['POST', '/admin/tenants', '{"name":"x","preferences":{"strategy":"warp-drive"}}', 'preferences.strategy'],
    ['PATCH', '/admin/tenants/acme', '{"preferences":{"strategy":"warp-drive"}}', 'preferences.strategy'],
    ['PUT', '/admin/tenants/acme/limits', '{"rpm":-5}', 'rpm'],
    ['PUT', '/admin/tenants/acme/limits', '{"rpm":1.5,"tpm":0}', 'rpm'],
    ['PUT', '/admin/tenants/acme/limits', '[]', 'body'],
    ['PUT', '/admin/tenants/acme/budget', '{"amountUsd":-1}', 'amountUsd'],
    ['PUT', '/admin/tenants/acme/budget', '{"amountUsd":1,"period":"year"}', 'period'],
    ['POST', '/admin/tenants/acme/keys', '{"name":"k","expiresAt":"yesterday"}', 'expiresAt'],
    ['POST', '/admin/tenants/acme/keys', '{"name":"k","expiresAt":-1}', 'expiresAt'],
    ['POST', '/admin/tenants/acme/keys', '{"name":"k","scopes":["admin"]}', 'scopes'],
    ['PATCH', '/admin/keys/{key}', '{"limits":{"maxConcurrency":0}}', 'limits.maxConcurrency'],
    ['PUT', '/admin/keys/{key}/limits', '{"tpm":"lots"}', 'tpm'],
  ];

  it.each(bodies.map(([method, path, body, param]) => ({ method, path, body, param })))('$method $path -> 400 naming $param', async ({ method, path, body, param }) => {
    const answer = await call(method, path, body);
    expectGatewayError(answer, { status: 400, param }, `${method} ${path} ${body.slice(0, 80)}`);
  });

  it.each([
    ['/admin/usage?from=yesterday', 'from'],
    ['/admin/usage?groupBy=planet', 'groupBy'],
    ['/admin/usage/entries?limit=-1', 'limit'],
    ['/admin/tenants/acme/invoice?period=2026-13', 'period'],
    ['/admin/audit?order=sideways', 'order'],
  ])('GET %s -> 400 naming %s', async (path, param) => {
    expectGatewayError(await call('GET', path), { status: 400, param }, path);
  });

  it('a long unknown id is a 404 in the error shape', async () => {
    expectGatewayError(await call('GET', `/admin/tenants/${'x'.repeat(3000)}`), { status: 404, code: 'not_found' });
    expectGatewayError(await call('GET', '/admin/usage/req_nope'), { status: 404, code: 'not_found' });
  });

  it('no refused request changed anything', async () => {
    expect((await h.stores!.tenants.listTenants()).map((t) => t.id)).toEqual(['acme']);
    const acme = await h.stores!.tenants.getTenant('acme');
    expect(acme).toMatchObject({ name: 'Acme', limits: { rpm: 60 }, budget: { amountUsd: 5, period: 'month' } });
    expect(acme?.models).toBeUndefined();
    expect(acme?.preferences.strategy).toBeUndefined();
    expect(await h.stores!.tenants.listKeys('acme')).toHaveLength(1);
    expect(await h.stores!.audit.list({ action: 'tenant.create' })).toEqual([]);
    expect(await h.stores!.audit.list({ action: 'tenant.update' })).toEqual([]);
  });

  it('a strategy the router has is accepted as a tenant preference', async () => {
    const answer = await call('POST', '/admin/tenants', '{"id":"beta","name":"Beta","preferences":{"strategy":"cost-optimized"}}');
    expect(answer.status).toBe(201);
    expect((await h.stores!.tenants.getTenant('beta'))?.preferences.strategy).toBe('cost-optimized');
    await h.stores!.tenants.deleteTenant('beta');
  });
});
