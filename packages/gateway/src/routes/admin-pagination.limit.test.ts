import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServedGateway } from '../node/serve-gateway.js';
import { createAdminHarness, TEST_ADMIN_KEY } from '../test-support/admin-api.js';
import { createHarness, serveWithKey, type Harness } from '../test-support/harness.js';

/**
 * The admin lists (`GET /admin/tenants`, `/admin/usage/entries`, `/admin/audit`) take `limit` from 1 to 1000,
 * else a 400 naming `limit`. The stores list at most 1000 rows per call and take a larger limit as 1000 without an
 * error, so `limit=1200` used to answer 1000 rows and a client paging the usual way (`offset += limit`) skipped 200
 * rows per page without any sign (ledger rows of a billing export, tenants); `limit=0` answered one row.
 */
const ADMIN = 'admin-secret-for-tests-0123456789';
const ROWS = 1500;

describe('admin list limit', () => {
  let h: Harness;
  const get = async (path: string) => {
    const res = await h.gateway.fetch(new Request(`http://gateway.test${path}`, { headers: { authorization: `Bearer ${ADMIN}` } }));
    return { status: res.status, body: (await res.json()) as { data?: Array<{ requestId?: string; id?: string }>; error?: { param?: string } } };
  };

  beforeEach(async () => {
    h = await createHarness({ stores: 'memory', gateway: { auth: { adminKey: ADMIN } } });
  });
  afterEach(() => h.close());

  for (const path of ['/admin/usage/entries', '/admin/tenants', '/admin/audit']) {
    for (const limit of ['1001', '1200', '0', '-1', '1.5', '', 'abc']) {
      it(`${path}?limit=${limit} is a 400 naming limit`, async () => {
        const res = await get(`${path}?limit=${limit}`);
        expect(res.status).toBe(400);
        expect(res.body.error?.param).toBe('limit');
      });
    }
  }

  it('usage entries: paging with limit=1000 (the most) lists every row once', async () => {
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const t0 = Date.UTC(2026, 10, 1);
    await Promise.all(
      Array.from({ length: ROWS }, (_, i) =>
        h.stores!.ledger.record({ requestId: `r${String(i).padStart(5, '0')}`, tenantId: 'acme', model: 'mock', inputTokens: 1, outputTokens: 1, costUsd: 0.001, latencyMs: 1, status: 'success', createdAt: t0 + i }),
      ),
    );
    const seen = new Set<string>();
    const sizes: number[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await get(`/admin/usage/entries?tenant=acme&limit=1000&offset=${offset}`);
      expect(page.status).toBe(200);
      sizes.push(page.body.data!.length);
      for (const e of page.body.data!) seen.add(e.requestId!);
      if (page.body.data!.length === 0) break;
    }
    expect(sizes).toEqual([1000, 500, 0]);
    expect(seen.size).toBe(ROWS);
  });

  it('tenants: paging with limit=1000 lists every tenant once; limit=1 one', async () => {
    for (let i = 0; i < ROWS; i++) await h.stores!.tenants.createTenant({ id: `t${String(i).padStart(5, '0')}`, name: `T${i}` });
    const seen = new Set<string>();
    for (let offset = 0; ; offset += 1000) {
      const page = await get(`/admin/tenants?limit=1000&offset=${offset}`);
      expect(page.status).toBe(200);
      for (const t of page.body.data!) seen.add(t.id!);
      if (page.body.data!.length === 0) break;
    }
    expect(seen.size).toBe(ROWS);
    expect((await get('/admin/tenants?limit=1')).body.data).toHaveLength(1);
    expect((await get('/admin/tenants')).body.data, 'default limit').toHaveLength(100);
  });
});

/**
 * Paging the usage entries of a live gateway by `beforeId` (the last row of the page before): calls answered between
 * two pages move no page. With `offset` alone each call answered meanwhile made the first page's last row come again
 * on the second (an export summing `costUsd` billed it twice).
 */
describe('usage entries cursor (beforeId)', () => {
  let h: Harness;
  let served: ServedGateway;
  let client: OpenAI;
  beforeEach(async () => {
    h = await createAdminHarness();
    const s = await serveWithKey(h);
    served = s.served;
    client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: s.secret, maxRetries: 0 });
  });
  afterEach(async () => {
    await served.close();
    await h.close();
  });
  const page = async (query: string) => {
    const res = await fetch(`${served.url}/admin/usage/entries?tenant=acme&limit=2${query}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    return { status: res.status, body: (await res.json()) as { data?: Array<{ requestId: string }>; error?: { code?: string; param?: string } } };
  };
  const call = () => client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });

  it('lists every row once across pages while calls are answered between pages', async () => {
    for (let i = 0; i < 5; i++) await call();
    const seen: string[] = [];
    for (let cursor = ''; ; ) {
      const p = await page(cursor);
      expect(p.status).toBe(200);
      if (p.body.data!.length === 0) break;
      seen.push(...p.body.data!.map((e) => e.requestId));
      cursor = `&beforeId=${seen.at(-1)}`;
      await call(); // a new row, newest: ahead of every page read so far
      expect(seen.length).toBeLessThan(20); // hang guard
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(5);
  });

  it("a beforeId of a row outside the listing's filters (another tenant's, another model's) is the 400 of a row that does not exist", async () => {
    for (let i = 0; i < 2; i++) await call();
    // Another tenant's call, through its own key.
    await h.stores!.tenants.createTenant({ id: 'beta', name: 'Beta' });
    const beta = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: (await h.stores!.tenants.createKey('beta', { name: 'b' })).secret, maxRetries: 0 });
    const betaCall = await beta.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const betaId = betaCall.response.headers.get('x-request-id')!;
    const acme = await vi.waitFor(async () => {
      const p = await page('');
      expect(p.body.data).toHaveLength(2);
      expect(await h.stores!.ledger.get(betaId)).toMatchObject({ tenantId: 'beta' });
      return p.body.data!.map((e) => e.requestId);
    });
    // A row of the listing pages on from it.
    expect(await page(`&beforeId=${acme[0]}`)).toMatchObject({ status: 200, body: { data: [{ requestId: acme[1] }] } });
    // Paged by its position, beta's row would list acme's rows older than it and tell when beta called: refused as
    // a row that does not exist, in the same words.
    const shape = (p: Awaited<ReturnType<typeof page>>) => ({ status: p.status, ...(p.body.error as object), message: (p.body.error as { message: string }).message.replace(/"[^"]*"/, '"ID"'), request_id: undefined });
    const missing = shape(await page('&beforeId=no-such-request'));
    expect(missing).toMatchObject({ status: 400, code: 'invalid_request', param: 'beforeId' });
    expect(shape(await page(`&beforeId=${betaId}`))).toEqual(missing);
    expect(shape(await page(`&model=other-model&beforeId=${acme[0]}`))).toEqual(missing);
  });
});

/**
 * Paging the tenants of a live gateway by `after` (the id of the page's last tenant): by id, so a tenant deleted
 * between two pages (the cursor's own too) moves no page. With `offset` each deletion from a page read already made
 * the next page start one tenant later, and that tenant was never listed.
 */
describe('tenants cursor (after)', () => {
  let h: Harness;
  let served: ServedGateway;
  beforeEach(async () => {
    h = await createAdminHarness();
    served = (await serveWithKey(h)).served;
  });
  afterEach(async () => {
    await served.close();
    await h.close();
  });
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${served.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as { data?: Array<{ id: string }>; error?: unknown } };
  };

  it('lists every tenant left once, by id, while tenants of pages read already are deleted between pages', async () => {
    // serveWithKey's `acme` is there too; ids in byte order: `Beta` before `acme`.
    for (const id of ['t-3', 't-1', 'Beta', 't-5', 't-2', 't-4']) expect((await admin('POST', '/admin/tenants', { id, name: id })).status).toBe(201);
    const seen: string[] = [];
    for (let cursor = ''; ; ) {
      const p = await admin('GET', `/admin/tenants?limit=2${cursor}`);
      expect({ status: p.status, error: p.body.error }).toEqual({ status: 200, error: undefined });
      if (p.body.data!.length === 0) break;
      const ids = p.body.data!.map((t) => t.id);
      seen.push(...ids);
      cursor = `&after=${encodeURIComponent(ids.at(-1)!)}`;
      for (const id of ids) expect((await admin('DELETE', `/admin/tenants/${id}`)).status).toBe(200);
      expect(seen.length).toBeLessThan(20); // hang guard
    }
    expect(seen).toEqual(['Beta', 'acme', 't-1', 't-2', 't-3', 't-4', 't-5']);
  });
});
