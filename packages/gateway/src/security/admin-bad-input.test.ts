import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../test-support/harness.js';

const ADMIN = 'admin-key-0123456789abcdef';

describe('admin API: bad input is a 4xx, the admin key is required everywhere', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', gateway: { auth: { adminKey: ADMIN } } });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  });
  afterAll(() => h.close());

  const call = (method: string, path: string, body?: string, key: string | null = ADMIN) =>
    h.gateway.fetch(new Request(`http://g${path}`, { method, headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, ...(body !== undefined ? { body } : {}) }));

  it('no bad body or query gives a 5xx or a stack trace', async () => {
    const bodies = ['', 'null', '[]', '{"id":5}', '{"name":""}', '{"name":"x","tier":"gold"}', '{"amountUsd":-1,"period":"month"}', '{"amountUsd":"1","period":"year"}',
      '{"rpm":-5}', '{"rpm":1e309}', '{"name":"k","expiresAt":"yesterday"}', '{"name":"k","expiresAt":-1}', '{"name":"x","models":[{"name":"m","engine":"nope"}]}', '{"__proto__":{"x":1},"name":"x"}'];
    const targets: Array<[string, string]> = [
      ['POST', '/admin/tenants'], ['PATCH', '/admin/tenants/acme'], ['PUT', '/admin/tenants/acme/limits'], ['PUT', '/admin/tenants/acme/budget'],
      ['POST', '/admin/tenants/acme/keys'], ['PATCH', '/admin/keys/nope'], ['PUT', '/admin/keys/nope/limits'], ['POST', '/admin/tenants/nope/keys'],
    ];
    const failures: string[] = [];
    for (const [method, path] of targets) {
      for (const body of bodies) {
        const res = await call(method, path, body);
        const text = await res.text();
        if (res.status >= 500 || /\n\s+at /.test(text)) failures.push(`${method} ${path} ${body} -> ${res.status} ${text.slice(0, 160)}`);
      }
    }
    for (const path of ['/admin/usage?from=abc', '/admin/usage?groupBy=x', '/admin/usage/entries?limit=-1', '/admin/usage/entries?limit=1e400', '/admin/tenants/acme/invoice?period=13-2026',
      '/admin/tenants/acme/invoice?from=9e99', '/admin/audit?afterSeq=x', '/admin/audit?order=sideways', '/admin/audit?from=2026-13-45', '/admin/tenants?offset=1e20', '/admin/usage/entries?offset=1e20', '/admin/audit?afterSeq=1e20', '/admin/audit?beforeSeq=1e20', '/admin/audit?beforeSeq=x', '/admin/audit?limit=1e20', '/admin/keys/%00']) {
      const res = await call('GET', path);
      if (res.status >= 500) failures.push(`GET ${path} -> ${res.status} ${(await res.text()).slice(0, 160)}`);
    }
    expect(failures).toEqual([]);
  });

  it('every admin path refuses a missing or tenant key with 401', async () => {
    const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
    for (const key of [null, secret, `${ADMIN}x`, ADMIN.slice(0, -1)]) {
      for (const [method, path] of [['GET', '/admin/tenants'], ['GET', '/admin/usage'], ['GET', '/admin/audit'], ['POST', '/admin/tenants/acme/keys'], ['GET', '/admin/tenants/acme/invoice']]) {
        const res = await call(method!, path!, method === 'POST' ? '{"name":"x"}' : undefined, key);
        expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 401`);
        expect(await res.text()).not.toContain(ADMIN);
      }
    }
  });
});
