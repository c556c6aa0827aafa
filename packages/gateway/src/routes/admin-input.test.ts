import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../test-support/harness.js';
import { nulPath } from './admin-input.js';

/**
 * A NUL character in admin input (a path or query parameter, a JSON string or key) is a 400 naming the field
 * in every state mode: PostgreSQL text and jsonb cannot hold one (shared mode used to answer 500), and no id,
 * name or setting needs one. The shared-mode run is apps/gateway-server/src/shared-mode-admin-input.test.ts.
 */
const ADMIN = 'admin-secret-for-tests-0123456789';

describe('nulPath', () => {
  it('names the first string or key holding a NUL, as a dotted path', () => {
    expect(nulPath({ name: 'ok', preferences: { note: 'a\0b' } })).toBe('preferences.note');
    expect(nulPath({ models: [{ name: 'm' }, { name: 'x', options: { k: ['', '\0'] } }] })).toBe('models.1.options.k.1');
    expect(nulPath({ preferences: { 'a\0': 1 } })).toBe('preferences.a\\0');
    expect(nulPath('\0', 'id')).toBe('id');
    expect(nulPath({ name: 'Acme', n: 1, on: true, none: null })).toBeUndefined();
  });
});

describe('the admin API and a NUL character (memory stores: SQLite in memory)', () => {
  let h: Harness;
  const admin = (method: string, path: string, body?: string) =>
    h.gateway.fetch(new Request(`http://gateway.test${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body } : {}) }));

  beforeEach(async () => {
    h = await createHarness({ stores: 'memory', gateway: { auth: { adminKey: ADMIN } } });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  });
  afterEach(() => h.close());

  for (const [method, path, body, param] of [
    ['GET', '/admin/tenants/a%00b', undefined, 'id'],
    ['GET', '/admin/keys/key_%00', undefined, 'keyId'],
    ['GET', '/admin/usage?tenant=a%00', undefined, 'tenant'],
    ['GET', '/admin/audit?actor=%00', undefined, 'actor'],
    ['POST', '/admin/tenants', JSON.stringify({ name: 'Ac\u0000me' }), 'name'],
    ['POST', '/admin/tenants', JSON.stringify({ name: 'Acme2', preferences: { note: '\u0000' } }), 'preferences.note'],
    ['POST', '/admin/tenants/acme/keys', JSON.stringify({ name: 'ci\u0000' }), 'name'],
  ] as const) {
    it(`${method} ${path} ${body ?? ''}: 400 naming ${param}`, async () => {
      const res = await admin(method, path, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error?: { code?: string; param?: string } }).error).toMatchObject({ code: 'invalid_request', param });
    });
  }

  it('nothing was stored', async () => {
    await admin('POST', '/admin/tenants', JSON.stringify({ name: 'Ac\u0000me' }));
    expect((await h.stores!.tenants.listTenants()).map((t) => t.id)).toEqual(['acme']);
  });
});
