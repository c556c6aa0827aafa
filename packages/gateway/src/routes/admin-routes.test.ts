import { cacheKeyPrefix, canonicalJson, createStateStores, LLMError, LLMRouter, MemoryCacheStore, verifyAuditChain, type CachedAnswer, type RouterConfigInput } from '@llmrr/core';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { adminApi, createAdminHarness, TEST_ADMIN_KEY } from '../test-support/admin-api.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';
import { startRawUpstream } from '../test-support/raw-upstream.js';

const ADMIN = 'admin-secret-for-tests-0123456789';
const chat = { model: 'mock', messages: [{ role: 'user', content: 'hello there' }] };

describe('admin API', () => {
  let h: Harness;
  const admin = (method: string, path: string, body?: unknown, key = ADMIN) =>
    h.gateway.fetch(
      new Request(`http://gateway.test${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    );
  const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;

  beforeEach(async () => {
    h = await createHarness({ stores: 'memory', gateway: { auth: { adminKey: ADMIN } } });
  });
  afterEach(() => h.close());

  it('refuses a wrong admin key (401 + audit) and is off without one', async () => {
    const res = await admin('GET', '/admin/tenants', undefined, 'not-the-key');
    expect(res.status).toBe(401);
    const audit = await h.stores!.audit.list({ action: 'auth.failure' });
    expect(audit[0]!.details).toMatchObject({ scope: 'admin', reason: 'wrong_admin_key' });

    const off = await createHarness({ stores: 'memory' });
    try {
      const r = await off.gateway.fetch(new Request('http://g/admin/tenants', { headers: { authorization: `Bearer ${ADMIN}` } }));
      expect(r.status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('tenants CRUD with validation naming the field', async () => {
    const created = await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', tier: 'pro', limits: { rpm: 100 } });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: 'acme', tier: 'pro', limits: { rpm: 100 } });
    const bad = await admin('POST', '/admin/tenants', { name: 'X', tier: 'gold' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('tier');
    expect((await admin('POST', '/admin/tenants', { id: 'acme', name: 'Again' })).status).toBe(409);

    expect((await json<{ data: unknown[] }>(admin('GET', '/admin/tenants'))).data).toHaveLength(1);
    const patched = await json<{ name: string; limits?: unknown }>(admin('PATCH', '/admin/tenants/acme', { name: 'Acme Inc', limits: null }));
    expect(patched.name).toBe('Acme Inc');
    expect(patched.limits).toBeUndefined();
    expect((await admin('GET', '/admin/tenants/nope')).status).toBe(404);
    expect((await admin('DELETE', '/admin/tenants/acme')).status).toBe(200);
    expect((await admin('GET', '/admin/tenants/acme')).status).toBe(404);
  });

  it('tenant.update records the new values: disabling and enabling are told apart; models by name and engine only', async () => {
    await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme' });
    expect((await admin('PATCH', '/admin/tenants/acme', { disabled: true })).status).toBe(200);
    expect((await admin('PATCH', '/admin/tenants/acme', { disabled: false, tier: 'pro', limits: null })).status).toBe(200);
    const model = { name: 'own-model', engine: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', apiKey: 'sk-tenant-model-secret', headers: { 'x-extra': 'header-secret-value' } };
    expect((await admin('PATCH', '/admin/tenants/acme', { models: [model] })).status).toBe(200);
    const entries = await h.stores!.audit.list({ action: 'tenant.update', target: 'acme' });
    expect(entries.map((e) => ({ fields: e.details?.fields, changes: e.details?.changes }))).toEqual([
      { fields: ['disabled'], changes: { disabled: true } },
      { fields: ['tier', 'limits', 'disabled'], changes: { tier: 'pro', limits: null, disabled: false } },
      { fields: ['models'], changes: { models: [{ name: 'own-model', engine: 'openai-compatible' }] } },
    ]);
    expect(JSON.stringify(entries)).not.toMatch(/sk-tenant-model-secret|header-secret-value/);
  });

  it('tenant.update and key.update record the values stored (a name as core trimmed it), not the text sent', async () => {
    await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme' });
    expect((await admin('PATCH', '/admin/tenants/acme', { name: '  Acme Corp  ' })).status).toBe(200);
    expect((await h.stores!.tenants.getTenant('acme'))!.name).toBe('Acme Corp');
    const [entry] = await h.stores!.audit.list({ action: 'tenant.update', target: 'acme' });
    expect(entry!.details?.changes).toEqual({ name: 'Acme Corp' });

    const { key } = await json<{ key: { id: string } }>(admin('POST', '/admin/tenants/acme/keys', { name: ' ci key ' }));
    expect((await h.stores!.audit.list({ action: 'key.create', target: key.id }))[0]!.details).toMatchObject({ name: 'ci key' });
    expect((await admin('PATCH', `/admin/keys/${key.id}`, { name: ' ci\t', expiresAt: '2030-01-01T00:00:00Z' })).status).toBe(200);
    expect((await h.stores!.tenants.getKey(key.id))!.name).toBe('ci');
    const [keyEntry] = await h.stores!.audit.list({ action: 'key.update', target: key.id });
    expect(keyEntry!.details).toMatchObject({ fields: ['name', 'expiresAt'], changes: { name: 'ci', expiresAt: Date.UTC(2030, 0, 1) } });
  });

  it('tenant.update records preferences by key names and the SHA-256 of its canonical JSON: a 2 MB PATCH is no 2 MB audit row', async () => {
    await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme' });
    const blob = 'x'.repeat(2_000_000);
    for (let i = 0; i < 2; i++) expect((await admin('PATCH', '/admin/tenants/acme', { preferences: { strategy: 'priority', note: blob } })).status).toBe(200);
    // Any other value past 4096 characters of JSON: its SHA-256 and length.
    const allowed = Array.from({ length: 500 }, (_, i) => `model-${i}`);
    expect((await admin('PATCH', '/admin/tenants/acme', { allowedModels: allowed })).status).toBe(200);
    const entries = await h.stores!.audit.list({ action: 'tenant.update', target: 'acme' });
    expect(entries).toHaveLength(3);
    for (const e of entries) expect(JSON.stringify(e.details).length).toBeLessThan(1024);
    // The hash is the one of the preferences the tenant holds (an operator can compare it with the tenant read back).
    const stored = (await h.stores!.tenants.getTenant('acme'))!;
    const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
    expect(entries[0]!.details?.changes).toEqual({ preferences: { keys: ['note', 'strategy'], sha256: sha256(canonicalJson(stored.preferences)) } });
    expect(entries[2]!.details?.changes).toEqual({ allowedModels: { sha256: sha256(canonicalJson(stored.allowedModels)), length: canonicalJson(allowed).length } });
    expect((await verifyAuditChain(h.stores!.audit)).ok).toBe(true);
  });

  it('tenant.create records its models by name, and a list past 4096 characters of JSON by its SHA-256 and length', async () => {
    const models = Array.from({ length: 3000 }, (_, i) => ({ name: `model-${i}`, engine: 'mock' }));
    expect((await admin('POST', '/admin/tenants', { id: 'many', name: 'Many', models })).status).toBe(201);
    expect((await admin('POST', '/admin/tenants', { id: 'few', name: 'Few', models: models.slice(0, 2) })).status).toBe(201);
    const [many] = await h.stores!.audit.list({ action: 'tenant.create', target: 'many' });
    expect(JSON.stringify(many!.details).length).toBeLessThan(1024);
    const names = models.map((m) => m.name);
    const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
    expect(many!.details?.models).toEqual({ sha256: sha256(canonicalJson(names)), length: canonicalJson(names).length });
    const [few] = await h.stores!.audit.list({ action: 'tenant.create', target: 'few' });
    expect(few!.details?.models).toEqual(['model-0', 'model-1']);
  });

  it('tenant.update and key.update record clears as null and false as false; preferences hash alike in any key order (nested), as GET answers them', async () => {
    const changes = async (action: string, target: string) => (await h.stores!.audit.list({ action, target })).map((e) => e.details?.changes);
    const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
    expect((await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', allowedModels: ['mock'], limits: { rpm: 5 }, budget: { amountUsd: 5, period: 'month' }, models: [{ name: 'own', engine: 'mock' }] })).status).toBe(201);
    expect((await admin('PATCH', '/admin/tenants/acme', { disabled: true })).status).toBe(200);
    expect((await admin('PATCH', '/admin/tenants/acme', { disabled: false })).status).toBe(200);
    expect((await admin('PATCH', '/admin/tenants/acme', { allowedModels: null, limits: null, budget: null, models: null })).status).toBe(200);
    // The same preferences, keys in another order at every depth (arrays keep theirs).
    expect((await admin('PATCH', '/admin/tenants/acme', { preferences: { strategy: 'priority', weights: { b: [3, { y: 1, x: 2 }], a: 1 } } })).status).toBe(200);
    expect((await admin('PATCH', '/admin/tenants/acme', { preferences: { weights: { a: 1, b: [3, { x: 2, y: 1 }] }, strategy: 'priority' } })).status).toBe(200);
    const got = await json<{ preferences?: unknown; tenant?: { preferences?: unknown } }>(admin('GET', '/admin/tenants/acme'));
    const readBack = got.tenant?.preferences ?? got.preferences;
    const all = await changes('tenant.update', 'acme');
    expect(all.slice(0, 3)).toEqual([{ disabled: true }, { disabled: false }, { allowedModels: null, limits: null, budget: null, models: null }]);
    expect(all[3]).toEqual(all[4]);
    expect(all[3]).toEqual({ preferences: { keys: Object.keys(readBack as object).sort(), sha256: sha256(canonicalJson(readBack)) } });

    const { key } = await json<{ key: { id: string } }>(admin('POST', '/admin/tenants/acme/keys', { name: 'k', limits: { rpm: 1 }, expiresAt: Date.UTC(2030, 0, 1) }));
    expect((await admin('PATCH', `/admin/keys/${key.id}`, { limits: null, expiresAt: null })).status).toBe(200);
    expect(await changes('key.update', key.id)).toEqual([{ limits: null, expiresAt: null }]);
  });

  it('GET /admin/audit pages newest-first with beforeSeq (afterSeq stays a lower bound)', async () => {
    await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme' });
    for (let i = 0; i < 5; i++) expect((await admin('PATCH', '/admin/tenants/acme', { name: `Acme ${i}` })).status).toBe(200);
    const seqs = async (query: string) => (await json<{ data: Array<{ seq: number }> }>(admin('GET', `/admin/audit?${query}`))).data.map((e) => e.seq);
    expect(await seqs('order=desc&limit=2')).toEqual([6, 5]);
    expect(await seqs('order=desc&limit=2&beforeSeq=5')).toEqual([4, 3]);
    expect(await seqs('order=desc&limit=2&beforeSeq=3')).toEqual([2, 1]);
    expect(await seqs('order=desc&limit=2&beforeSeq=1')).toEqual([]);
    expect(await seqs('order=desc&afterSeq=3')).toEqual([6, 5, 4]);
    expect(await seqs('afterSeq=2&beforeSeq=5')).toEqual([3, 4]);
    // Where paging ends (beforeSeq one above afterSeq): an empty page.
    expect(await seqs('afterSeq=4&beforeSeq=5')).toEqual([]);
    // Decimal digits only; a range of seqs that holds nothing (as a `to` before `from`) is a mistake, not an empty page.
    for (const query of ['beforeSeq=-1', 'afterSeq=5&beforeSeq=3', 'afterSeq=5&beforeSeq=5', 'beforeSeq=0', 'order=desc&beforeSeq=0x10', 'beforeSeq=1e1', 'beforeSeq=%205', 'beforeSeq=5.0', 'beforeSeq=+5']) {
      const bad = await admin('GET', `/admin/audit?${query}`);
      expect({ query, status: bad.status, param: (await json<{ error: { param: string } }>(bad)).error.param }).toEqual({ query, status: 400, param: 'beforeSeq' });
    }
    for (const [path, param] of [['/admin/audit?afterSeq=0x10', 'afterSeq'], ['/admin/audit?afterSeq=5.0', 'afterSeq'], ['/admin/audit?limit=1e1', 'limit'], ['/admin/tenants?limit=%2010', 'limit'], ['/admin/tenants?offset=1e1', 'offset'], ['/admin/usage/entries?offset=0x1', 'offset']] as const) {
      const bad = await admin('GET', path);
      expect({ path, status: bad.status, param: (await json<{ error: { param: string } }>(bad)).error.param }).toEqual({ path, status: 400, param });
    }
    expect((await admin('GET', '/admin/tenants?limit=10&offset=0')).status).toBe(200);
  });

  it('refuses a tenant id made only of dots (URL dot segments: no path could name it), naming id', async () => {
    for (const id of ['.', '..', '...']) {
      const res = await admin('POST', '/admin/tenants', { id, name: 'Dots' });
      expect({ id, status: res.status, param: (await json<{ error: { param: string } }>(res)).error.param }).toEqual({ id, status: 400, param: 'id' });
    }
    expect((await h.stores!.tenants.listTenants()).length).toBe(0);
    // Dots among other characters are ids like any other.
    expect((await admin('POST', '/admin/tenants', { id: '.acme..', name: 'Dotted' })).status).toBe(201);
    expect((await json<{ id: string }>(admin('GET', '/admin/tenants/.acme..'))).id).toBe('.acme..');
  });

  it('keys: the secret is shown once, rotation invalidates the old one, revocation works', async () => {
    await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme' });
    const created = await json<{ key: { id: string; prefix: string; hash?: string }; secret: string }>(admin('POST', '/admin/tenants/acme/keys', { name: 'ci' }));
    expect(created.secret).toMatch(/^llmrr_/);
    expect(created.key.hash).toBeUndefined();
    const listed = await json<{ data: Array<Record<string, unknown>> }>(admin('GET', '/admin/tenants/acme/keys'));
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(listed.data[0]).not.toHaveProperty('hash');

    const call = (secret: string) => post(h.gateway, '/v1/chat/completions', chat, { authorization: `Bearer ${secret}` });
    expect((await call(created.secret)).status).toBe(200);
    const rotated = await json<{ key: { id: string }; secret: string }>(admin('POST', `/admin/keys/${created.key.id}/rotate`));
    expect(rotated.key.id).toBe(created.key.id);
    expect(rotated.secret).not.toBe(created.secret);
    expect((await call(created.secret)).status).toBe(401);
    expect((await call(rotated.secret)).status).toBe(200);
    expect((await admin('POST', `/admin/keys/${created.key.id}/revoke`)).status).toBe(200);
    expect((await call(rotated.secret)).status).toBe(401);

    const actions = (await h.stores!.audit.list({ actor: 'admin' })).map((a) => a.action);
    expect(actions).toEqual(['tenant.create', 'key.create', 'key.rotate', 'key.revoke']);
    expect(JSON.stringify(await h.stores!.audit.list())).not.toContain(rotated.secret);
    expect(await json<{ ok: boolean; count: number }>(admin('GET', '/admin/audit/verify'))).toMatchObject({ ok: true });
  });

  it('limits, budgets, usage and invoices', async () => {
    await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme' });
    expect((await admin('PUT', '/admin/tenants/acme/limits', { rpm: 10 })).status).toBe(200);
    expect((await admin('PUT', '/admin/tenants/acme/limits', { rpm: -1 })).status).toBe(400);
    expect((await admin('PUT', '/admin/tenants/acme/budget', { amountUsd: 5, period: 'month' })).status).toBe(200);
    const { secret } = await json<{ secret: string }>(admin('POST', '/admin/tenants/acme/keys', { name: 'k' }));
    for (let i = 0; i < 3; i++) await (await post(h.gateway, '/v1/chat/completions', chat, { 'x-api-key': secret })).text();

    const limits = await json<{ limits: { rpm: number }; current: { remainingRequests: number } }>(admin('GET', '/admin/tenants/acme/limits'));
    expect(limits.limits.rpm).toBe(10);
    expect(limits.current.remainingRequests).toBe(7);
    const budget = await json<{ budget: { amountUsd: number }; spentUsd: number; remainingUsd: number }>(admin('GET', '/admin/tenants/acme/budget'));
    expect(budget.budget.amountUsd).toBe(5);
    expect(budget.spentUsd).toBeCloseTo(3 * 0.000012, 9);

    const usage = await json<{ requests: number; costUsd: number; groups: Array<{ key: string; requests: number }> }>(admin('GET', '/admin/usage?tenant=acme&groupBy=model'));
    expect(usage.requests).toBe(3);
    expect(usage.groups).toEqual([expect.objectContaining({ key: 'mock', requests: 3 })]);
    const entries = await json<{ data: unknown[] }>(admin('GET', '/admin/usage/entries?tenant=acme&limit=2'));
    expect(entries.data).toHaveLength(2);
    const month = new Date().toISOString().slice(0, 7);
    const invoice = await json<{ lines: Array<{ model: string; requests: number }>; totalUsd: number; currency: string }>(admin('GET', `/admin/tenants/acme/invoice?period=${month}`));
    expect(invoice.currency).toBe('USD');
    expect(invoice.lines).toEqual([expect.objectContaining({ model: 'mock', requests: 3 })]);
    expect(invoice.totalUsd).toBeCloseTo(usage.costUsd, 9);
    expect((await admin('GET', '/admin/tenants/acme/invoice?period=2026-13')).status).toBe(400);
    // An id that never was a tenant is a 404, as on /budget, /limits and /keys; a deleted tenant's invoice stays.
    for (const path of ['invoice', 'budget', 'limits', 'keys']) expect((await admin('GET', `/admin/tenants/nobody/${path}`)).status, path).toBe(404);
    expect((await admin('DELETE', '/admin/tenants/acme')).status).toBe(200);
    const kept = await json<{ lines: Array<{ model: string; requests: number }> }>(admin('GET', `/admin/tenants/acme/invoice?period=${month}`));
    expect(kept.lines).toEqual([expect.objectContaining({ model: 'mock', requests: 3 })]);
    await admin('POST', '/admin/tenants', { id: 'unused', name: 'Unused' });
    await admin('DELETE', '/admin/tenants/unused');
    expect((await admin('GET', '/admin/tenants/unused/invoice')).status).toBe(200); // deleted without usage: an empty invoice
    expect((await admin('GET', '/admin/usage?groupBy=colour')).status).toBe(400);
  });

  it('usage by status (?status=): summaries and entries; aborted calls counted apart from errors; an unknown status is a 400 naming status', async () => {
    await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme' });
    const { secret } = await json<{ secret: string }>(admin('POST', '/admin/tenants/acme/keys', { name: 'k' }));
    for (let i = 0; i < 2; i++) await (await post(h.gateway, '/v1/chat/completions', chat, { 'x-api-key': secret })).text();
    // A failed call and two the client ended (as the settle writes them).
    const row = { tenantId: 'acme', model: 'mock', inputTokens: 1, outputTokens: 0, costUsd: 0, latencyMs: 1 };
    await h.stores!.ledger.record({ ...row, requestId: 'r-err', status: 'error', errorCode: 'upstream_error' });
    await h.stores!.ledger.record({ ...row, requestId: 'r-ab1', status: 'aborted', errorCode: 'client_closed' });
    await h.stores!.ledger.record({ ...row, requestId: 'r-ab2', status: 'aborted', errorCode: 'client_closed' });

    const all = await json<{ requests: number; errors: number; aborted: number; groups: Array<{ key: string; requests: number; errors: number; aborted: number }> }>(admin('GET', '/admin/usage?tenant=acme&groupBy=status'));
    expect(all).toMatchObject({ requests: 5, errors: 1, aborted: 2 });
    expect(all.groups.map((g) => [g.key, g.requests, g.errors, g.aborted])).toEqual([
      ['aborted', 2, 0, 2],
      ['error', 1, 1, 0],
      ['success', 2, 0, 0],
    ]);
    for (const [status, n] of [['success', 2], ['error', 1], ['aborted', 2]] as const) {
      expect(await json(admin('GET', `/admin/usage?tenant=acme&status=${status}`)), status).toMatchObject({ requests: n });
      const entries = await json<{ data: Array<{ status: string }> }>(admin('GET', `/admin/usage/entries?tenant=acme&status=${status}`));
      expect(entries.data.map((e) => e.status), status).toEqual(Array(n).fill(status));
    }
    for (const path of ['/admin/usage?status=failed', '/admin/usage?status=Error', '/admin/usage/entries?status=ok']) {
      const res = await admin('GET', path);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { error: unknown }).error, path).toMatchObject({ code: 'invalid_request', param: 'status' });
    }
  });
});

/** Stands for Redis pub/sub between processes' gateways (`stores.tenantEvents`): `told` lists the deletions sent. */
function eventBus() {
  const listeners: Array<(id: string) => void> = [];
  const told: string[] = [];
  const tenantEvents = {
    deleted: async (id: string) => {
      told.push(id);
      listeners.forEach((l) => l(id));
    },
    onDeleted: async (listener: (id: string) => void) => {
      listeners.push(listener);
      return { caughtUp: () => Promise.resolve(), close: () => {} };
    },
    close: () => Promise.resolve(),
  };
  return { tenantEvents, listeners, told };
}

describe("DELETE /admin/tenants/:id erases the tenant's cached answers", () => {
  const cache: RouterConfigInput['cache'] = { exact: { enabled: true }, semantic: { enabled: true, embedder: 'emb', threshold: 0.9, guardAbove: 0.9 } };
  const models = [mockModel('chat'), mockModel('emb', {}, { capabilities: ['embeddings'] })];
  const ask = (content: string) => ({ model: 'chat', messages: [{ role: 'user', content }] });

  it('exact and semantic: the caches hold nothing of the deleted tenant; other tenants keep theirs', async () => {
    const exactStore = new MemoryCacheStore<CachedAnswer>();
    const h = await createAdminHarness({ models, cache, routerOptions: { cacheStore: exactStore } });
    try {
      const keyOf = async (id: string) => {
        await h.stores!.tenants.createTenant({ id, name: id });
        return { authorization: `Bearer ${(await h.stores!.tenants.createKey(id, { name: 'k' })).secret}` };
      };
      const cacheOf = async (auth: Record<string, string>, content: string) => (await post(h.gateway, '/v1/chat/completions', ask(content), auth)).headers.get('x-llmrr-cache');
      const acme = await keyOf('acme');
      const globex = await keyOf('globex');
      for (const auth of [acme, globex]) {
        expect(await cacheOf(auth, 'What is the capital of France?')).toBe('miss');
        expect(await cacheOf(auth, 'What is the capital of France?')).toBe('hit-exact');
        expect(await cacheOf(auth, 'what is the capital of france')).toBe('hit-semantic');
      }
      expect((await adminApi(() => h.gateway)('DELETE', '/admin/tenants/acme')).status).toBe(200);
      expect(await cacheOf(globex, 'What is the capital of france')).toBe('hit-semantic');
      // The exact store holds no key of acme; erasing again finds nothing in either cache (globex's entries are there).
      expect(exactStore.deleteByPrefix(cacheKeyPrefix({ tenant: 'acme' }))).toBe(0);
      expect(await h.router.eraseTenantCaches('acme')).toEqual({ exact: 0, semantic: 0 });
      expect(await h.router.eraseTenantCaches('globex')).toEqual({ exact: 1, semantic: 1 });
    } finally {
      await h.close();
    }
  });

  it('a call of the tenant still running when it is deleted stores its answer in neither cache', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const completion = JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-test',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Paris' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
    const up = await startRawUpstream((_req, res) => void held.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(completion)));
    const exactStore = new MemoryCacheStore<CachedAnswer>();
    const h = await createAdminHarness({
      models: [{ name: 'chat', engine: 'openai-compatible', baseURL: `${up.url}/v1`, model: 'gpt-test', apiKey: 'k', capabilities: ['chat'] }, models[1]!],
      cache,
      routerOptions: { cacheStore: exactStore },
    });
    try {
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'acme' });
      const auth = { authorization: `Bearer ${(await h.stores!.tenants.createKey('acme', { name: 'k' })).secret}` };
      const call = post(h.gateway, '/v1/chat/completions', ask('What is the capital of France?'), auth);
      await vi.waitFor(() => expect(up.requests).toBe(1), { timeout: 10_000 });
      expect((await adminApi(() => h.gateway)('DELETE', '/admin/tenants/acme')).status).toBe(200);
      release();
      const res = await call;
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llmrr-cache')).toBe('miss');
      // Its answer came after the erasure: stored in neither cache.
      expect(exactStore.size).toBe(0);
      expect(await h.router.eraseTenantCaches('acme')).toEqual({ exact: 0, semantic: 0 });
    } finally {
      release();
      await h.close();
      await up.close();
    }
  }, 30_000);

  it("another process's memory caches: erased when it hears the deletion (stores.tenantEvents)", async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const { tenantEvents, listeners } = eventBus();
    const processes = [0, 1].map(() => {
      const exactStore = new MemoryCacheStore<CachedAnswer>();
      const router = new LLMRouter({ models, routing: { strategy: 'priority', retries: { max: 0 } }, cache }, { cacheStore: exactStore });
      const gateway = createGateway({ router, stores: { ...stores, tenantEvents }, auth: { adminKey: TEST_ADMIN_KEY }, log: () => {} });
      return { exactStore, router, gateway };
    });
    try {
      await vi.waitFor(() => expect(listeners).toHaveLength(2), { timeout: 5_000 });
      await stores.tenants.createTenant({ id: 'acme', name: 'acme' });
      const auth = { authorization: `Bearer ${(await stores.tenants.createKey('acme', { name: 'k' })).secret}` };
      for (const p of processes) expect((await post(p.gateway, '/v1/chat/completions', ask('What is the capital of France?'), auth)).headers.get('x-llmrr-cache')).toBe('miss');
      // Deleted through process 0: process 1 erases its own memory caches on the notice.
      expect((await adminApi(() => processes[0]!.gateway)('DELETE', '/admin/tenants/acme')).status).toBe(200);
      await vi.waitFor(() => expect(processes.map((p) => p.exactStore.size)).toEqual([0, 0]), { timeout: 5_000 });
      // (The semantic erasure runs with the exact one, in the same turn of the notice.) A paraphrase finds nothing.
      for (const p of processes) {
        const r = await p.router.generate({ messages: [{ role: 'user', content: 'what is the capital of france' }] }, { model: 'chat', tenant: 'acme' });
        expect(r.cached).toBe(false);
      }
    } finally {
      for (const p of processes) {
        await p.gateway.close();
        await p.router.close();
      }
      await stores.close();
    }
  });

  it('a custom stores.tenantEvents that throws synchronously: logged as a rejecting one is, the gateway made and the deletion answered', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const down = () => {
      throw new Error('the event bus is down');
    };
    const tenantEvents = { deleted: down, onDeleted: down, close: () => Promise.resolve() };
    const router = new LLMRouter({ models: [mockModel('mock')], routing: { strategy: 'priority', retries: { max: 0 } } });
    const logged: string[] = [];
    const gateway = createGateway({ router, stores: { ...stores, tenantEvents }, auth: { adminKey: TEST_ADMIN_KEY }, log: (e) => void (e.level === 'error' && logged.push(e.message)) });
    try {
      await vi.waitFor(() => expect(logged).toContain('tenant deletions of other processes are not heard (their tenants are forgotten here only when created again)'), { timeout: 5_000 });
      await stores.tenants.createTenant({ id: 'acme', name: 'acme' });
      const res = await adminApi(() => gateway)('DELETE', '/admin/tenants/acme');
      expect(res.status).toBe(200);
      expect(logged).toContain('tenant "acme" deleted, but other processes were not told');
      expect(await stores.tenants.getTenant('acme')).toBeUndefined();
    } finally {
      await gateway.close();
      await router.close();
      await stores.close();
    }
  });

  it("a custom router whose eraseTenantCaches throws synchronously: logged as a rejecting one is, in the deleting process and in one hearing the deletion", async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const { tenantEvents, listeners } = eventBus();
    const processes = [0, 1].map(() => {
      const router = new LLMRouter({ models, routing: { strategy: 'priority', retries: { max: 0 } }, cache });
      // A plain-JS custom router (no async): its erasure throws instead of rejecting.
      const custom = Object.assign(Object.create(router) as LLMRouter, {
        eraseTenantCaches: () => {
          throw new Error('the cache is down');
        },
      });
      const logged: string[] = [];
      const gateway = createGateway({ router: custom, stores: { ...stores, tenantEvents }, auth: { adminKey: TEST_ADMIN_KEY }, log: (e) => void (e.level === 'error' && logged.push(e.message)) });
      return { router, gateway, logged };
    });
    try {
      await vi.waitFor(() => expect(listeners).toHaveLength(2), { timeout: 5_000 });
      await stores.tenants.createTenant({ id: 'acme', name: 'acme' });
      const res = await adminApi(() => processes[0]!.gateway)('DELETE', '/admin/tenants/acme');
      expect(res.status).toBe(200);
      expect(await stores.tenants.getTenant('acme')).toBeUndefined();
      expect(processes[0]!.logged).toContain('tenant "acme" deleted, but its cached answers could not be erased');
      // The notice reached the other process (its listener did not throw back into the bus) and it logged its own failure.
      expect(processes[0]!.logged).not.toContain('tenant "acme" deleted, but other processes were not told');
      expect(processes[1]!.logged).toContain('tenant "acme" deleted in another process: could not erase its cached answers here');
    } finally {
      for (const p of processes) {
        await p.gateway.close();
        await p.router.close();
      }
      await stores.close();
    }
  });

  it.each(['synchronously', 'asynchronously'] as const)('a custom router whose forgetTenant throws %s: logged (here and where told), the deletion answered 200, its cached answers still erased and other processes told, no unhandled rejection', async (how) => {
    const stores = await createStateStores({ mode: 'memory' });
    const { tenantEvents, listeners, told } = eventBus();
    const router = new LLMRouter({ models, routing: { strategy: 'priority', retries: { max: 0 } }, cache });
    const erased: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    // A plain-JS custom router: forgetting the tenant throws instead of failing quietly (or an async one rejects).
    const custom = Object.assign(Object.create(router) as LLMRouter, {
      forgetTenant:
        how === 'synchronously'
          ? () => {
              throw new Error('the learning store is down');
            }
          : () => Promise.reject(new Error('the learning store is down')),
      eraseTenantCaches: (id: string) => {
        erased.push(id);
        return Promise.resolve({ exact: 0, semantic: 0 });
      },
    });
    const logged: string[] = [];
    const gateway = createGateway({ router: custom, stores: { ...stores, tenantEvents }, auth: { adminKey: TEST_ADMIN_KEY }, log: (e) => void (e.level === 'error' && logged.push(e.message)) });
    try {
      await vi.waitFor(() => expect(listeners).toHaveLength(1), { timeout: 5_000 });
      await stores.tenants.createTenant({ id: 'acme', name: 'acme' });
      const res = await adminApi(() => gateway)('DELETE', '/admin/tenants/acme');
      expect(await stores.tenants.getTenant('acme')).toBeUndefined();
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { id: 'acme', deleted: true } });
      await vi.waitFor(() => expect(logged).toContain('tenant "acme" deleted, but its models and learning could not be forgotten here'), { timeout: 5_000 });
      expect(erased[0]).toBe('acme');
      expect(told).toContain('acme');
      // The bus tells this process's own listener too: its forgetting fails the same way, logged.
      await vi.waitFor(() => expect(logged).toContain('tenant "acme" deleted in another process: could not forget it here'), { timeout: 5_000 });
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await gateway.close();
      await router.close();
      await stores.close();
    }
  });

  it('a custom router whose forgetTenant never settles holds nothing back: the deletion answered 200, its cached answers erased, other processes told', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const { tenantEvents, listeners, told } = eventBus();
    const router = new LLMRouter({ models, routing: { strategy: 'priority', retries: { max: 0 } }, cache });
    const erased: string[] = [];
    const custom = Object.assign(Object.create(router) as LLMRouter, {
      forgetTenant: () => new Promise<void>(() => {}),
      eraseTenantCaches: (id: string) => {
        erased.push(id);
        return Promise.resolve({ exact: 0, semantic: 0 });
      },
    });
    const gateway = createGateway({ router: custom, stores: { ...stores, tenantEvents }, auth: { adminKey: TEST_ADMIN_KEY }, log: () => {} });
    try {
      await vi.waitFor(() => expect(listeners).toHaveLength(1), { timeout: 5_000 });
      await stores.tenants.createTenant({ id: 'acme', name: 'acme' });
      const res = await adminApi(() => gateway)('DELETE', '/admin/tenants/acme');
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { id: 'acme', deleted: true } });
      expect(erased[0]).toBe('acme');
      expect(told).toContain('acme');
    } finally {
      await gateway.close();
      await router.close();
      await stores.close();
    }
  });

  // A deletion the store cannot confirm (PostgreSQL: its COMMIT's answer lost, the read-back unable to tell; core's
  // shared-stores tests make it for real) that did happen skipped what a done one does next: the tenant's own models
  // stayed in the router, its cached answers in every process, and other processes kept its key lookups cached (their
  // auth cache) as they were never told. A retry is a 404, which ran none of it either. The unconfirmed deletion now
  // runs them before its 503 (each is idempotent: a tenant that was not deleted only loses its learning and cached
  // answers, which its next requests make again, and its models are set again on its next request).
  it('a deletion the store cannot confirm still forgets the tenant, erases its caches and tells other processes, before its 503', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const { tenantEvents, listeners, told } = eventBus();
    const processes = [0, 1].map(() => {
      const exactStore = new MemoryCacheStore<CachedAnswer>();
      const router = new LLMRouter({ models, routing: { strategy: 'priority', retries: { max: 0 } }, cache }, { cacheStore: exactStore });
      const gateway = createGateway({ router, stores: { ...stores, tenantEvents }, auth: { adminKey: TEST_ADMIN_KEY }, log: () => {} });
      return { exactStore, router, gateway };
    });
    const admin = adminApi(() => processes[0]!.gateway);
    try {
      await vi.waitFor(() => expect(listeners).toHaveLength(2), { timeout: 5_000 });
      const own = { name: 'acme-llm', engine: 'mock', capabilities: ['chat'], options: { reply: 'acme answer' } };
      expect((await admin('POST', '/admin/tenants', { id: 'acme', name: 'acme', models: [own] })).status).toBe(201);
      const auth = { authorization: `Bearer ${(await stores.tenants.createKey('acme', { name: 'k' })).secret}` };
      const owned = (router: LLMRouter) => router.models('acme').filter((d) => d.tenant === 'acme').map((d) => d.name);
      for (const p of processes) {
        expect((await post(p.gateway, '/v1/chat/completions', ask('What is the capital of France?'), auth)).headers.get('x-llmrr-cache')).toBe('miss');
        expect(owned(p.router)).toEqual(['acme-llm']);
      }
      // The store deletes the tenant, then fails as a lost COMMIT answer does.
      const deleteTenant = stores.tenants.deleteTenant.bind(stores.tenants);
      vi.spyOn(stores.tenants, 'deleteTenant').mockImplementationOnce(async (id) => {
        await deleteTenant(id);
        throw new LLMError({ code: 'store_unavailable', message: 'PostgreSQL did not finish a transaction within 300 ms (at its COMMIT: the change may have been written)', details: { mayHaveBeenWritten: true } });
      });
      const res = await admin('DELETE', '/admin/tenants/acme');
      expect(res.status).toBe(503);
      expect(res.headers.get('x-llmrr-may-have-been-written')).toBe('true');
      // Before the answer: this process forgot it and erased its caches, and told the others (which erase theirs).
      expect(told).toEqual(['acme']);
      expect(owned(processes[0]!.router)).toEqual([]);
      await vi.waitFor(() => expect(processes.map((p) => p.exactStore.size)).toEqual([0, 0]), { timeout: 5_000 });
      expect(owned(processes[1]!.router)).toEqual([]);
      // Audited as unconfirmed only; a retry finds nothing to delete (404) and is not audited again.
      expect((await admin('DELETE', '/admin/tenants/acme')).status).toBe(404);
      expect(await stores.audit.list({ action: 'tenant.delete' })).toMatchObject([{ target: 'acme', details: { confirmed: false } }]);
    } finally {
      vi.restoreAllMocks();
      for (const p of processes) {
        await p.gateway.close();
        await p.router.close();
      }
      await stores.close();
    }
  });
});
