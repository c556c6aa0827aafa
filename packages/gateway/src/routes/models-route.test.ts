import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGatewayError } from '../test-support/expect-error.js';
import { createHarness, get, mockModel, post, type Harness } from '../test-support/harness.js';
import type { WireAnswer } from '../test-support/raw-http.js';

const ANTHROPIC = { 'anthropic-version': '2023-06-01' };

async function answer(res: Response): Promise<WireAnswer> {
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

let h: Harness;
let all: string;
let narrow: string;

beforeAll(async () => {
  h = await createHarness({
    stores: 'memory',
    models: [
      mockModel('mock'),
      mockModel('openai/gpt-4o', {}, { contextWindow: 128000, maxOutputTokens: 16384 }),
      mockModel('vendor/family/v2', {}, { alias: 'fam' }),
      mockModel('off', {}, { enabled: false, alias: 'off-alias' }),
      mockModel('m4'),
      mockModel('m5'),
    ],
  });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  all = (await h.stores!.tenants.createKey('acme', { name: 'all' })).secret;
  await h.stores!.tenants.createTenant({ id: 'narrow', name: 'Narrow', allowedModels: ['mock', 'fam'] });
  narrow = (await h.stores!.tenants.createKey('narrow', { name: 'narrow' })).secret;
});
afterAll(() => h.close());

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('GET /v1/models/{model} (OpenAI shape)', () => {
  it('answers the same object as the list, for a plain name', async () => {
    const list = (await (await get(h.gateway, '/v1/models', bearer(all))).json()) as { data: Array<{ id: string }> };
    const res = await get(h.gateway, '/v1/models/mock', bearer(all));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const model = await res.json();
    expect(model).toEqual(list.data.find((m) => m.id === 'mock'));
    expect(model).toMatchObject({ id: 'mock', object: 'model', owned_by: 'llmrr-mock', llmrr: { engine: 'mock' } });
  });

  it('matches a name with slashes, raw or percent-encoded', async () => {
    for (const path of ['/v1/models/openai/gpt-4o', '/v1/models/openai%2Fgpt-4o', '/v1/models/openai%2fgpt-4o']) {
      const res = await get(h.gateway, path, bearer(all));
      expect(res.status, path).toBe(200);
      expect(((await res.json()) as { id: string }).id, path).toBe('openai/gpt-4o');
    }
    const deep = await get(h.gateway, '/v1/models/vendor/family/v2', { 'x-api-key': all });
    expect(((await deep.json()) as { id: string; llmrr: { alias: string } }).llmrr.alias).toBe('fam');
  });

  it('an alias is its own object of the list (OpenAI shape); with anthropic-version the first visible deployment carrying it, under its own id', async () => {
    const list = (await (await get(h.gateway, '/v1/models', bearer(narrow))).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((m) => m.id)).toEqual(['mock', 'vendor/family/v2', 'fam']);
    const res = await get(h.gateway, '/v1/models/fam', bearer(narrow));
    expect(res.status).toBe(200);
    const alias = await res.json();
    expect(alias).toEqual(list.data.at(-1));
    expect(alias).toMatchObject({ id: 'fam', object: 'model', owned_by: 'llmrr', llmrr: { engine: 'alias', alias_of: ['vendor/family/v2'] } });
    const anthropic = await get(h.gateway, '/v1/models/fam', { 'x-api-key': narrow, ...ANTHROPIC });
    expect(anthropic.status).toBe(200);
    expect(((await anthropic.json()) as { id: string }).id).toBe('vendor/family/v2');
  });

  it('404 model_not_found naming model for an unknown, disabled, hidden name or an alias of only hidden ones, all alike', async () => {
    const messages: string[] = [];
    for (const [key, id] of [
      [all, 'nope'],
      [all, 'off'],
      [narrow, 'm4'],
      [narrow, 'openai%2Fgpt-4o'],
      [all, 'off-alias'],
      [all, 'auto'],
    ] as const) {
      const error = expectGatewayError(await answer(await get(h.gateway, `/v1/models/${id}`, bearer(key))), { status: 404, code: 'model_not_found', param: 'model' }, id);
      messages.push(error.message.replace(/"[^"]*"/, '"X"'));
    }
    // One message for every reason: a tenant cannot tell a hidden model from a missing one.
    expect(new Set(messages).size).toBe(1);
    // Nothing is called, so nothing is ledgered (a refused model on a model endpoint is).
    expect(await h.stores!.ledger.query({ tenantId: 'narrow' })).toEqual([]);
    expect(await h.stores!.ledger.query({ tenantId: 'acme' })).toEqual([]);
    // The narrow tenant sees what its allow-list names (by name or alias).
    expect((await get(h.gateway, '/v1/models/vendor%2Ffamily%2Fv2', bearer(narrow))).status).toBe(200);
  });

  it('a model name that no request could carry is a 400 naming model', async () => {
    expectGatewayError(await answer(await get(h.gateway, `/v1/models/${'x'.repeat(300)}`, bearer(all))), { status: 400, code: 'invalid_request', param: 'model' });
    expectGatewayError(await answer(await get(h.gateway, '/v1/models/a%07b', bearer(all))), { status: 400, code: 'invalid_request', param: 'model' });
  });

  it('needs a key like every route: 401 without one, either header works', async () => {
    expectGatewayError(await answer(await get(h.gateway, '/v1/models/mock')), { status: 401, code: 'authentication' });
    expectGatewayError(await answer(await get(h.gateway, '/v1/models/mock', bearer('llmrr_wrong'))), { status: 401, code: 'authentication' });
    expect((await get(h.gateway, '/v1/models/mock', { 'x-api-key': all })).status).toBe(200);
  });

  it('other methods are 405 with Allow: GET, HEAD', async () => {
    const res = await h.gateway.fetch(new Request('http://gateway.test/v1/models/openai/gpt-4o', { method: 'DELETE', headers: bearer(all) }));
    expectGatewayError(await answer(res.clone()), { status: 405, code: 'method_not_allowed', param: 'method' });
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect((await post(h.gateway, '/v1/models/mock', {}, bearer(all))).status).toBe(405);
    // `/v1/models/` with nothing after it is no model path.
    expect((await get(h.gateway, '/v1/models/', bearer(all))).status).toBe(404);
  });

  it('with anthropic-version, the 405 and the 404 of /v1/models/ use the Anthropic envelope', async () => {
    const res = await h.gateway.fetch(new Request('http://gateway.test/v1/models/mock', { method: 'DELETE', headers: { 'x-api-key': all, ...ANTHROPIC } }));
    expectGatewayError(await answer(res.clone()), { status: 405, code: 'method_not_allowed', style: 'anthropic' });
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expectGatewayError(await answer(await get(h.gateway, '/v1/models/', { 'x-api-key': all, ...ANTHROPIC })), { status: 404, code: 'not_found', style: 'anthropic' });
    // Without the header, OpenAI's envelope as before.
    expectGatewayError(await answer(await get(h.gateway, '/v1/models/', bearer(all))), { status: 404, code: 'not_found', param: 'path' });
  });
});

describe('Anthropic shape (request carries anthropic-version)', () => {
  type Page = { data: Array<Record<string, unknown>>; has_more: boolean; first_id: string | null; last_id: string | null };
  const page = async (query: string, key = all): Promise<Page> => {
    const res = await get(h.gateway, `/v1/models${query}`, { ...ANTHROPIC, 'x-api-key': key });
    expect(res.status, query).toBe(200);
    return (await res.json()) as Page;
  };
  const ids = (p: Page) => p.data.map((m) => m.id);

  it('lists the visible models as ModelInfo, first page of 20 by default', async () => {
    const p = await page('');
    expect(ids(p)).toEqual(['mock', 'openai/gpt-4o', 'vendor/family/v2', 'm4', 'm5']);
    expect(p).toMatchObject({ has_more: false, first_id: 'mock', last_id: 'm5' });
    expect(p.data[1]).toEqual({
      type: 'model',
      id: 'openai/gpt-4o',
      display_name: 'openai/gpt-4o',
      created_at: '1970-01-01T00:00:00Z',
      capabilities: null,
      deprecated_at: null,
      retires_at: null,
      lifecycle: 'active',
      line: null,
      max_input_tokens: 128000,
      max_tokens: 16384,
      llmrr: { engine: 'mock', capabilities: expect.any(Array) },
    });
    expect(p.data[0]).toMatchObject({ max_input_tokens: null, max_tokens: null });
    expect(ids(await page('', narrow))).toEqual(['mock', 'vendor/family/v2']);
  });

  it('pages forward with after_id and backward with before_id', async () => {
    const first = await page('?limit=2');
    expect(ids(first)).toEqual(['mock', 'openai/gpt-4o']);
    expect(first).toMatchObject({ has_more: true, first_id: 'mock', last_id: 'openai/gpt-4o' });
    const second = await page(`?limit=2&after_id=${encodeURIComponent(first.last_id!)}`);
    expect(ids(second)).toEqual(['vendor/family/v2', 'm4']);
    expect(second.has_more).toBe(true);
    const last = await page('?limit=2&after_id=m4');
    expect(last).toMatchObject({ has_more: false, first_id: 'm5', last_id: 'm5' });
    const back = await page('?limit=2&before_id=m4');
    expect(ids(back)).toEqual(['openai/gpt-4o', 'vendor/family/v2']);
    expect(back.has_more).toBe(true);
    expect(await page('?limit=2&before_id=openai%2Fgpt-4o')).toMatchObject({ data: [{ id: 'mock' }], has_more: false });
    expect(await page('?after_id=m5')).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
    expect(ids(await page('?limit=1000'))).toHaveLength(5);
  });

  it('bad pagination is a 400 in the Anthropic envelope naming the parameter', async () => {
    for (const [query, param] of [
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?limit=ten', 'limit'],
      ['?limit=-1', 'limit'],
      ['?after_id=nope', 'after_id'],
      ['?before_id=off', 'before_id'],
      ['?after_id=mock&before_id=m5', 'before_id'],
    ] as const) {
      const res = await get(h.gateway, `/v1/models${query}`, { ...ANTHROPIC, 'x-api-key': all });
      expectGatewayError(await answer(res), { status: 400, code: 'invalid_request', param, style: 'anthropic' }, query);
    }
    // A model outside the tenant's list is no cursor either.
    expectGatewayError(await answer(await get(h.gateway, '/v1/models?after_id=m4', { ...ANTHROPIC, 'x-api-key': narrow })), { status: 400, param: 'after_id', style: 'anthropic' });
  });

  it('the lifecycle filter: every model is active; other states list none; an unknown state is a 400 naming lifecycle', async () => {
    const everything = ['mock', 'openai/gpt-4o', 'vendor/family/v2', 'm4', 'm5'];
    expect(ids(await page('?lifecycle=active'))).toEqual(everything);
    expect(ids(await page('?lifecycle=deprecated&lifecycle=active'))).toEqual(everything);
    expect(ids(await page('?lifecycle=legacy,active&limit=2'))).toEqual(everything.slice(0, 2));
    expect(await page('?lifecycle=deprecated,retired')).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
    for (const query of ['?lifecycle=alive', '?lifecycle=active,alive', '?lifecycle=active&lifecycle=']) {
      const res = await get(h.gateway, `/v1/models${query}`, { ...ANTHROPIC, 'x-api-key': all });
      expectGatewayError(await answer(res), { status: 400, code: 'invalid_request', param: 'lifecycle', style: 'anthropic' }, query);
    }
  });

  it('retrieves one model, and refuses a hidden one with the Anthropic 404', async () => {
    const res = await get(h.gateway, '/v1/models/openai%2Fgpt-4o', { ...ANTHROPIC, authorization: `Bearer ${all}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ type: 'model', id: 'openai/gpt-4o', display_name: 'openai/gpt-4o', created_at: '1970-01-01T00:00:00Z' });
    expectGatewayError(await answer(await get(h.gateway, '/v1/models/m4', { ...ANTHROPIC, 'x-api-key': narrow })), { status: 404, code: 'model_not_found', param: 'model', style: 'anthropic' });
    expectGatewayError(await answer(await get(h.gateway, '/v1/models', ANTHROPIC)), { status: 401, code: 'authentication', style: 'anthropic' });
  });

  it('without anthropic-version the list is OpenAI\'s and ignores the Anthropic paging', async () => {
    const res = await get(h.gateway, '/v1/models?limit=1', bearer(all));
    const body = (await res.json()) as { object: string; data: unknown[] };
    expect(body.object).toBe('list');
    // The five enabled deployments and the alias `fam` (the disabled `off`'s alias is not listed).
    expect(body.data).toHaveLength(6);
  });
});

describe('without stores', () => {
  it('everyone sees every enabled model', async () => {
    const open = await createHarness({ models: [mockModel('a/b'), mockModel('c', {}, { enabled: false })] });
    try {
      expect((await get(open.gateway, '/v1/models/a%2Fb')).status).toBe(200);
      expect((await get(open.gateway, '/v1/models/c')).status).toBe(404);
      expect(await (await get(open.gateway, '/v1/models', ANTHROPIC)).json()).toMatchObject({ data: [{ id: 'a/b' }], has_more: false });
    } finally {
      await open.close();
    }
  });
});
