import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { expectGatewayError } from '../test-support/expect-error.js';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';
import { rawExchange, rawRequest, send, type WireAnswer } from '../test-support/raw-http.js';

/**
 * Keys as a hostile client presents them, through a real `serveGateway` on port 0: every failure is the same
 * 401 in the error shape (no oracle for which keys exist or why one failed), the key is never echoed or
 * stored, nothing is ledgered or reserved, and one tenant's key reaches nothing of another's.
 */

const ADMIN = 'admin-key-0123456789abcdef';
const METRICS = 'metrics-key-0123456789';
const chat = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });

describe('hostile keys through serveGateway', () => {
  let h: Harness;
  let served: ServedGateway;
  const keys = { acme: '', globex: '', revoked: '', disabled: '', expired: '' };

  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { auth: { adminKey: ADMIN, metricsKey: METRICS } } });
    const t = h.stores!.tenants;
    await t.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 5, period: 'month' } });
    await t.createTenant({ id: 'globex', name: 'Globex', models: [mockModel('globex-private')] });
    await t.createTenant({ id: 'gone', name: 'Gone' });
    keys.acme = (await t.createKey('acme', { name: 'laptop' })).secret;
    keys.globex = (await t.createKey('globex', { name: 'server' })).secret;
    const revoked = await t.createKey('acme', { name: 'old' });
    await t.revokeKey(revoked.key.id);
    keys.revoked = revoked.secret;
    keys.disabled = (await t.createKey('gone', { name: 'k' })).secret;
    await t.updateTenant('gone', { disabled: true });
    keys.expired = (await t.createKey('acme', { name: 'temp', expiresAt: Date.now() - 60_000 })).secret;
    served = await serveGateway(h.gateway, { port: 0 });
  });
  afterAll(async () => {
    await served?.close(1000);
    await h?.close();
  });

  const json = { 'content-type': 'application/json' };
  const MODEL_ROUTES: Array<[string, string]> = [
    ['/v1/chat/completions', chat],
    ['/v1/completions', JSON.stringify({ model: 'mock', prompt: 'hi' })],
    ['/v1/responses', JSON.stringify({ model: 'mock', input: 'hi' })],
    ['/v1/embeddings', JSON.stringify({ model: 'mock', input: 'hi' })],
    ['/v1/messages', JSON.stringify({ model: 'mock', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })],
    ['/api/quick', JSON.stringify({ prompt: 'hi' })],
    ['/api/chat', JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] })],
    ['/api/route', JSON.stringify({ prompt: 'hi' })],
    ['/v1/feedback', JSON.stringify({ request_id: 'req_x', score: 1 })],
  ];
  const GET_ROUTES = ['/v1/models', '/api/models', '/api/status'];

  const presentations = (): Array<[string, Record<string, string>]> => [
    ['no key', {}],
    ['Authorization: Bearer with nothing after it', { authorization: 'Bearer' }],
    ['Authorization: Bearer and spaces', { authorization: 'Bearer    ' }],
    ['Basic auth carrying the key', { authorization: `Basic ${Buffer.from(`acme:${keys.acme}`).toString('base64')}` }],
    ['another scheme', { authorization: `Token ${keys.acme}` }],
    ['Bearer twice', { authorization: `Bearer Bearer ${keys.acme}` }],
    ['two keys in one Authorization', { authorization: `Bearer ${keys.acme}, Bearer ${keys.globex}` }],
    ['the key with a character changed', { authorization: `Bearer ${keys.acme.slice(0, -1)}${keys.acme.endsWith('A') ? 'B' : 'A'}` }],
    ['a prefix of the key', { 'x-api-key': keys.acme.slice(0, 20) }],
    ['a key of 12 KB', { 'x-api-key': `llmrr_${'k'.repeat(12_000)}` }],
    ['a revoked key', { authorization: `Bearer ${keys.revoked}` }],
    ["a disabled tenant's key", { authorization: `Bearer ${keys.disabled}` }],
    ['an expired key', { 'x-api-key': keys.expired }],
    ['the admin key', { authorization: `Bearer ${ADMIN}` }],
    ['the metrics key', { authorization: `Bearer ${METRICS}` }],
    ['a wrong X-API-Key beside a good Bearer (X-API-Key is the one used)', { 'x-api-key': 'llmrr_wrong', authorization: `Bearer ${keys.acme}` }],
  ];

  it('every bad presentation on every model and listing route is the same 401, with nothing ledgered or reserved and no key echoed', async () => {
    const messages = new Set<string>();
    for (const [name, headers] of presentations()) {
      for (const [path, body] of MODEL_ROUTES) {
        const answer = await send(served.url, 'POST', path, body, { ...json, ...headers });
        const error = expectGatewayError(answer, { status: 401, code: 'authentication', param: null, style: path === '/v1/messages' ? 'anthropic' : 'openai' }, `${name} ${path}`);
        messages.add(error.message);
        expect(await h.stores!.ledger.get(error.request_id)).toBeUndefined();
        for (const secret of Object.values(keys)) expect(answer.body).not.toContain(secret.slice(6, 20));
      }
      for (const path of GET_ROUTES) {
        const answer = await send(served.url, 'GET', path, undefined, headers);
        messages.add(expectGatewayError(answer, { status: 401, code: 'authentication', param: null }, `${name} ${path}`).message);
      }
    }
    // One message for every reason: which keys exist, or why one failed, is not revealed.
    expect([...messages]).toEqual(['Invalid or missing API key (send Authorization: Bearer <key> or X-API-Key: <key>)']);
    expect(await h.stores!.ledger.query({ tenantId: 'acme' })).toEqual([]);
    expect((await h.stores!.budgets.spent('acme', 'month')).reservedUsd).toBe(0);
  });

  it('the audit log records the failures with a reason, never a whole key', async () => {
    const rows = await h.stores!.audit.list({ action: 'auth.failure', limit: 1000 });
    expect(new Set(rows.map((r) => r.details?.reason))).toEqual(new Set(['missing_key', 'malformed', 'unknown_key', 'revoked', 'expired', 'tenant_disabled']));
    const text = JSON.stringify(rows);
    for (const secret of Object.values(keys)) expect(text).not.toContain(secret);
    expect(text).not.toContain('kkkkkkkkkkkkkkkk');
    expect(text).not.toContain(ADMIN);
  });

  it('a key with bytes that are not ASCII (latin1 or UTF-8 in the header) is a 401 in the error shape on both paths', async () => {
    for (const key of ['llmrr_\xff\xfe\xfd', Buffer.from('llmrr_ключ€', 'utf8').toString('latin1')]) {
      for (const [method, path] of [['POST', '/v1/chat/completions'], ['GET', '/v1/models']] as const) {
        const answer = (await rawExchange(served.url, rawRequest(method, path, { ...json, 'x-api-key': key }, method === 'POST' ? chat : ''))) as WireAnswer;
        expectGatewayError(answer, { status: 401, code: 'authentication', param: null }, `${path} ${JSON.stringify(key)}`);
      }
    }
  });

  it('good keys still work however the header is written: lower-case scheme, tabs, spaces around X-API-Key', async () => {
    for (const headers of [{ authorization: `bearer ${keys.acme}` } as Record<string, string>, { authorization: `Bearer\t${keys.acme}` }, { 'x-api-key': `  ${keys.acme}  ` }, { authorization: `BEARER   ${keys.acme}   ` }]) {
      const answer = await send(served.url, 'POST', '/v1/chat/completions', chat, { ...json, ...headers });
      expect(answer.status, JSON.stringify(headers)).toBe(200);
    }
  });

  it('two different keys in X-API-Key and Authorization: X-API-Key is used (documented), the request is ledgered for its tenant only', async () => {
    const answer = await send(served.url, 'POST', '/v1/chat/completions', chat, { ...json, 'x-api-key': keys.globex, authorization: `Bearer ${keys.acme}` });
    expect(answer.status).toBe(200);
    expect(await h.stores!.ledger.get(answer.headers['x-request-id'] as string)).toMatchObject({ tenantId: 'globex' });
    // A repeated X-API-Key is joined by node (`a, b`) and matches no key.
    const twice = (await rawExchange(
      served.url,
      Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\nx-api-key: ${keys.acme}\r\nx-api-key: ${keys.globex}\r\ncontent-length: ${chat.length}\r\n\r\n${chat}`),
    )) as WireAnswer;
    expectGatewayError(twice, { status: 401, code: 'authentication', param: null });
  });

  it('repeated Authorization headers (documented): joined into one value on every route (the server joins repeats as fetch does), which matches no key', async () => {
    const twice = (method: string, path: string, body = '') =>
      rawExchange(
        served.url,
        Buffer.from(`${method} ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\nauthorization: Bearer ${keys.globex}\r\nauthorization: Bearer ${keys.acme}\r\ncontent-length: ${body.length}\r\n\r\n${body}`),
      ) as Promise<WireAnswer>;
    expectGatewayError(await twice('POST', '/v1/chat/completions', chat), { status: 401, code: 'authentication', param: null });
    expectGatewayError(await twice('GET', '/v1/models'), { status: 401, code: 'authentication', param: null });
  });

  describe("one tenant's key reaches nothing of another's", () => {
    let globexRequest = '';
    beforeAll(async () => {
      const answer = await send(served.url, 'POST', '/v1/chat/completions', JSON.stringify({ model: 'globex-private', messages: [{ role: 'user', content: 'hi' }] }), { ...json, 'x-api-key': keys.globex });
      expect(answer.status).toBe(200);
      globexRequest = answer.headers['x-request-id'] as string;
    });

    it.each([
      ['GET', '/admin/tenants'],
      ['GET', '/admin/tenants/globex'],
      ['GET', '/admin/tenants/globex/keys'],
      ['GET', '/admin/tenants/globex/budget'],
      ['GET', '/admin/usage?tenant=globex'],
      ['GET', '/admin/usage/entries?tenant=globex'],
      ['GET', '/admin/usage/{id}'],
      ['GET', '/admin/tenants/globex/invoice?period=2026-11'],
      ['GET', '/admin/audit'],
      ['POST', '/admin/tenants/acme/keys'],
      ['PATCH', '/admin/tenants/acme'],
      ['PUT', '/admin/tenants/acme/budget'],
      ['DELETE', '/admin/tenants/globex'],
    ])("acme's key on %s %s is a 401 that names no data", async (method, template) => {
      const path = template.replace('{id}', globexRequest);
      const body = method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify({ name: 'x', amountUsd: 1000, period: 'month' });
      for (const headers of [{ authorization: `Bearer ${keys.acme}` } as Record<string, string>, { 'x-api-key': keys.acme }]) {
        const answer = await send(served.url, method, path, body, { ...json, ...headers });
        expectGatewayError(answer, { status: 401, code: 'authentication', param: null }, `${method} ${path}`);
        expect(answer.body).not.toMatch(/globex/i);
      }
    });

    it('feedback on the other tenant’s request id is the same 404 as an id that does not exist', async () => {
      const theirs = await send(served.url, 'POST', '/v1/feedback', JSON.stringify({ request_id: globexRequest, score: 0 }), { ...json, 'x-api-key': keys.acme });
      const none = await send(served.url, 'POST', '/v1/feedback', JSON.stringify({ request_id: 'req_00000000000000000000000000000000', score: 0 }), { ...json, 'x-api-key': keys.acme });
      const a = expectGatewayError(theirs, { status: 404, code: 'not_found', param: 'request_id' });
      const b = expectGatewayError(none, { status: 404, code: 'not_found', param: 'request_id' });
      expect(a.message.replace(globexRequest, 'ID')).toBe(b.message.replace('req_00000000000000000000000000000000', 'ID'));
    });

    it("the other tenant's own model is a 404 like a model that does not exist, and is not listed", async () => {
      const theirs = await send(served.url, 'POST', '/v1/chat/completions', JSON.stringify({ model: 'globex-private', messages: [{ role: 'user', content: 'hi' }] }), { ...json, 'x-api-key': keys.acme });
      const none = await send(served.url, 'POST', '/v1/chat/completions', JSON.stringify({ model: 'globex-privatf', messages: [{ role: 'user', content: 'hi' }] }), { ...json, 'x-api-key': keys.acme });
      const a = expectGatewayError(theirs, { status: 404, code: 'model_not_found', param: 'model' });
      const b = expectGatewayError(none, { status: 404, code: 'model_not_found', param: 'model' });
      expect(a.message.replace('globex-private', 'M')).toBe(b.message.replace('globex-privatf', 'M'));
      for (const path of ['/v1/models', '/api/models', '/api/status']) {
        const listed = await send(served.url, 'GET', path, undefined, { 'x-api-key': keys.acme });
        expect(listed.status).toBe(200);
        expect(listed.body).not.toContain('globex');
      }
    });

    it('metrics need the metrics key: a tenant key is a 401', async () => {
      for (const key of [keys.acme, ADMIN, '']) {
        const answer = await send(served.url, 'GET', '/metrics', undefined, key ? { authorization: `Bearer ${key}` } : {});
        expectGatewayError(answer, { status: 401, code: 'authentication', param: null });
      }
      expect((await send(served.url, 'GET', '/metrics', undefined, { 'x-api-key': METRICS })).status).toBe(200);
    });
  });
});
