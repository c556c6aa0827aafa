import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
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

/**
 * The admin API's query strings are strict, as its bodies are: a parameter the route does not take, an empty one or
 * one given twice is a 400 naming it. Dropped silently, a misspelt filter was answered as if absent: `?tenantId=acme`
 * or `?tenant_id=acme` gave every tenant's usage and ledger rows as acme's, `?month=2026-10` the all-time invoice,
 * `?tenant=` everyone's, all with a 200.
 */
describe('admin query strings: an unknown, empty or repeated parameter is refused, not dropped', () => {
  let gw: SdkGateway;
  const get = async (path: string) => {
    const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code?: string; param?: string }; data?: Array<{ tenantId: string }> } };
  };

  beforeAll(async () => {
    gw = await servedGateway({ models: [mockModel('mock')], gateway: { auth: { adminKey: ADMIN } } });
    // Two customers with one call each, through the official client.
    await gw.harness.stores!.tenants.createTenant({ id: 'other', name: 'Other' });
    const { secret: otherSecret } = await gw.harness.stores!.tenants.createKey('other', { name: 'k' });
    const msgs = [{ role: 'user' as const, content: 'hello' }];
    await gw.openai().chat.completions.create({ model: 'mock', messages: msgs });
    await new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: otherSecret, maxRetries: 0 }).chat.completions.create({ model: 'mock', messages: msgs });
    await vi.waitFor(async () => expect((await get('/admin/usage/entries')).body.data).toHaveLength(2), { timeout: 10_000 });
  });
  afterAll(() => gw?.close());

  it('the documented filters work: ?tenant=acme counts and lists acme only', async () => {
    expect(await get('/admin/usage?tenant=acme')).toMatchObject({ status: 200, body: { requests: 1 } });
    const entries = await get('/admin/usage/entries?tenant=acme');
    expect({ status: entries.status, tenants: entries.body.data?.map((r) => r.tenantId) }).toEqual({ status: 200, tenants: ['acme'] });
  });

  // Every parameter each route documents (README, Admin API), all at once: each is taken.
  for (const path of [
    '/admin/tenants?limit=10&offset=0',
    '/admin/usage?tenant=acme&key=key_x&model=mock&from=2020-01&to=2999-01&groupBy=model',
    '/admin/usage/entries?tenant=acme&key=key_x&model=mock&from=2020-01&to=2999-01&limit=10&offset=0',
    '/admin/tenants/acme/invoice?period=2026-11',
    '/admin/tenants/acme/invoice?from=2020-01&to=2999-01',
    '/admin/audit?actor=admin&action=tenant.create&target=acme&from=2020-01&to=2999-01&afterSeq=0&beforeSeq=9&limit=10&order=desc',
  ]) {
    it(`${path}: 200`, async () => {
      expect((await get(path)).status).toBe(200);
    });
  }

  for (const [path, param] of [
    ['/admin/usage?tenantId=acme', 'tenantId'],
    ['/admin/usage?tenant_id=acme', 'tenant_id'],
    ['/admin/usage/entries?tenant_id=acme', 'tenant_id'],
    ['/admin/tenants/acme/invoice?month=2026-10', 'month'],
    ['/admin/audit?tenant=acme', 'tenant'],
    ['/admin/tenants?page=2', 'page'],
    // Routes that take no query parameter at all.
    ['/admin/tenants/acme?fields=name', 'fields'],
    ['/admin/tenants/acme/keys?limit=1', 'limit'],
    ['/admin/audit/verify?from=2026-11', 'from'],
    // An empty name (a template whose name came out empty): Hono's c.req.queries() drops it, the URL keeps it.
    ['/admin/usage?=acme', '""'],
    ['/admin/usage/entries?tenant=acme&=x', '""'],
    ['/admin/tenants/acme/invoice?=2026-10', '""'],
  ] as const) {
    it(`${path} is a 400 naming ${param} (not an unfiltered answer)`, async () => {
      const res = await get(path);
      expect({ status: res.status, error: res.body.error, data: res.body.data, requests: res.body.requests }).toMatchObject({ status: 400, error: { code: 'invalid_request', param }, data: undefined, requests: undefined });
    });
  }

  for (const [path, param] of [
    ['/admin/usage?tenant=', 'tenant'],
    ['/admin/usage?tenant', 'tenant'],
    ['/admin/usage/entries?from=', 'from'],
    ['/admin/usage?tenant=acme&tenant=other', 'tenant'],
    ['/admin/tenants/acme/invoice?period=2026-11&from=2026-10', 'from'],
  ] as const) {
    it(`${path} is a 400 naming ${param} (empty, repeated or conflicting)`, async () => {
      const res = await get(path);
      expect({ status: res.status, error: res.body.error }).toMatchObject({ status: 400, error: { code: 'invalid_request', param } });
    });
  }

  it('an unknown parameter without the admin key is a 401 (the key is checked first)', async () => {
    const res = await fetch(`${gw.url}/admin/usage?tenant_id=acme`);
    expect(res.status).toBe(401);
  });
});
