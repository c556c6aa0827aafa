import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayLogEntry } from '../types.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { expectGatewayError } from '../test-support/expect-error.js';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';
import { rawExchange, rawRequest, send, type WireAnswer } from '../test-support/raw-http.js';

/**
 * The HTTP layer under attack, through a real `serveGateway` on port 0: requests node:http cannot parse,
 * bad Host headers and request targets, unknown routes and wrong methods, bodies over the limit (declared
 * or chunked) and bodies that end early, on the direct (Node) path and the `gateway.fetch` path alike.
 */

const ADMIN = 'admin-key-0123456789abcdef';
const MAX_BODY = 4096;

/** POST routes, the ones served by the Node direct path first. */
const DIRECT_POSTS = ['/v1/chat/completions', '/v1/completions', '/v1/responses', '/v1/embeddings', '/v1/messages', '/api/quick', '/api/chat'];
const FETCH_POSTS = ['/v1/feedback', '/api/route', '/admin/tenants', '/admin/tenants/acme/keys'];
const POSTS = [...DIRECT_POSTS, ...FETCH_POSTS];

const GETS = ['/v1/models', '/api/health', '/api/status', '/api/models', '/health', '/ready', '/metrics'];

describe('hostile HTTP through serveGateway', () => {
  let h: Harness;
  let served: ServedGateway;
  let secret: string;
  const errors: GatewayLogEntry[] = [];

  beforeAll(async () => {
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('mock')],
      gateway: { auth: { adminKey: ADMIN }, limits: { maxBodyBytes: MAX_BODY }, log: (e) => void (e.level === 'error' && errors.push(e)) },
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 5, period: 'month' } });
    secret = (await h.stores!.tenants.createKey('acme', { name: 'test' })).secret;
    served = await serveGateway(h.gateway, { port: 0 });
  });
  afterAll(async () => {
    await served?.close(1000);
    await h?.close();
  });

  const auth = (path: string) => ({ authorization: `Bearer ${path.startsWith('/admin') ? ADMIN : secret}`, 'content-type': 'application/json' });
  const chat = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });

  const style = (path: string) => (path === '/v1/messages' ? 'anthropic' : 'openai');

  /** The server still answers a good request on a new connection (nothing broke). */
  const stillServes = async () => expect((await send(served.url, 'POST', '/v1/chat/completions', chat, auth('/v1'))).status).toBe(200);

  describe('requests node:http cannot parse get the error body, not a bare status line', () => {
    const post = (headers: Record<string, string>, body = chat) => rawRequest('POST', '/v1/chat/completions', { 'content-type': 'application/json', ...headers }, body);
    const cases: Array<{ name: string; bytes: () => Buffer; status: number; code: string; param: string | null }> = [
      { name: 'a control character in a header value', bytes: () => post({ authorization: `Bearer ${secret}`, 'x-trace': 'a\u0001b' }), status: 400, code: 'invalid_request', param: 'headers' },
      { name: 'a control character in the key', bytes: () => post({ 'x-api-key': `${secret}\u0000` }), status: 400, code: 'invalid_request', param: 'headers' },
      { name: 'a space in a header name', bytes: () => post({ 'x bad': '1' }), status: 400, code: 'invalid_request', param: 'headers' },
      { name: 'headers over 16 KB (a 20 KB key)', bytes: () => post({ 'x-api-key': `llmrr_${'k'.repeat(20_000)}` }), status: 431, code: 'invalid_request', param: 'headers' },
      { name: 'an unknown method', bytes: () => rawRequest('BREW', '/v1/models', {}), status: 400, code: 'invalid_request', param: 'method' },
      { name: 'a Content-Length that is not a number', bytes: () => post({ 'content-length': 'ten' }), status: 400, code: 'invalid_request', param: 'content-length' },
      { name: 'two different Content-Lengths', bytes: () => Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!`), status: 400, code: 'invalid_request', param: 'content-length' },
      { name: 'Content-Length with Transfer-Encoding', bytes: () => post({ 'content-length': '5', 'transfer-encoding': 'chunked' }), status: 400, code: 'invalid_request', param: 'transfer-encoding' },
      { name: 'a chunk size that is not hex', bytes: () => Buffer.concat([post({ 'transfer-encoding': 'chunked' }, ''), Buffer.from('zz\r\nhello\r\n0\r\n\r\n')]), status: 400, code: 'invalid_request', param: 'transfer-encoding' },
      { name: 'a TLS handshake on the plain port', bytes: () => Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]), status: 400, code: 'invalid_request', param: 'method' },
      { name: 'a bare line feed inside a header line', bytes: () => Buffer.from('GET /v1/models HTTP/1.1\r\nhost: x\nx-a: 1\r\n\r\n'), status: 400, code: 'invalid_request', param: 'headers' },
    ];
    it.each(cases)('$name -> $status', async (c) => {
      const answer = (await rawExchange(served.url, c.bytes())) as WireAnswer;
      expect(answer, 'an answer').toBeDefined();
      expectGatewayError(answer, { status: c.status, code: c.code, param: c.param }, c.name);
      expect(answer.headers.connection).toBe('close');
      expect(answer.body).not.toContain(secret);
      expect(answer.body).not.toContain('kkkkkkkkkk');
    });

    it('an Expect other than 100-continue is a 417 in the error shape; 100-continue still works', async () => {
      const answer = (await rawExchange(served.url, post({ authorization: `Bearer ${secret}`, expect: 'teapot' }))) as WireAnswer;
      expectGatewayError(answer, { status: 417, code: 'invalid_request', param: 'expect' });
      // On /v1/messages in the Anthropic shape, as every other error there.
      const messages = rawRequest('POST', '/v1/messages', { 'content-type': 'application/json', 'x-api-key': secret, expect: 'teapot' }, '{}');
      expectGatewayError((await rawExchange(served.url, messages)) as WireAnswer, { status: 417, code: 'invalid_request', param: 'expect', style: 'anthropic' }, '/v1/messages');
      const ok = await send(served.url, 'POST', '/v1/chat/completions', chat, { ...auth('/v1'), expect: '100-continue' });
      expect(ok.status).toBe(200);
    });

    it('the server keeps serving after all of them', stillServes);
  });

  describe('request targets and Host headers the fetch bridge refuses are a 400 naming the part', () => {
    const cases: Array<{ name: string; bytes: string; param: string }> = [
      { name: 'a Host with a space', bytes: 'GET /v1/models HTTP/1.1\r\nhost: a b\r\nconnection: close\r\n\r\n', param: 'url' },
      { name: 'a Host with a path', bytes: 'GET /v1/models HTTP/1.1\r\nhost: evil.example/x\r\nconnection: close\r\n\r\n', param: 'host' },
      // (`OPTIONS *` is about the server, a 200 with Allow: src/node/edge-requests.test.ts.)
      { name: 'GET *', bytes: 'GET * HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', param: 'url' },
      { name: 'a backslash in the path', bytes: 'GET /v1\\models HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', param: 'url' },
    ];
    it.each(cases)('$name', async (c) => {
      const answer = (await rawExchange(served.url, c.bytes)) as WireAnswer;
      expectGatewayError(answer, { status: 400, code: 'invalid_request', param: c.param }, c.name);
    });

    it('an HTTP/1.1 request without Host (RFC 9112 3.2) is a 400 with the error body and request id naming host, on both paths, closing the connection', async () => {
      const noHost = (head: string, body = '') => rawExchange(served.url, `${head}\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      for (const [head, style] of [
        ['GET /v1/models HTTP/1.1', 'openai'],
        [`POST /v1/chat/completions HTTP/1.1\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json`, 'openai'],
        [`POST /v1/messages HTTP/1.1\r\nx-api-key: ${secret}\r\ncontent-type: application/json`, 'anthropic'],
      ] as const) {
        const answer = (await noHost(head, head.startsWith('POST') ? chat : '')) as WireAnswer;
        const error = expectGatewayError(answer, { status: 400, code: 'invalid_request', param: 'host', style }, head);
        expect(answer.headers['x-request-id']).toMatch(/^req_/);
        expect(error.request_id).toBe(answer.headers['x-request-id']);
        expect(answer.headers.connection).toBe('close');
      }
      // With a Host, the same requests are served.
      expect((await rawExchange(served.url, 'GET /health HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n'))?.status).toBe(200);
    });
  });

  describe('unknown routes are a 404 and wrong methods a 405 with Allow, in the error shape', () => {
    const unknown = ['/v2/chat/completions', '/v1/chat/completions/', '//v1/chat/completions', '/v1/chat%2Fcompletions', '/V1/CHAT/COMPLETIONS', '/v1/models/mock/../../admin/tenants', '/admin/nothing', '/%00', `/${'a'.repeat(4000)}`];
    it.each(unknown.map((path) => ({ path: path.slice(0, 60), full: path })))('POST $path -> 404', async ({ full }) => {
      const answer = await send(served.url, 'POST', full, chat, auth('/v1'));
      const error = expectGatewayError(answer, { status: 404, code: 'not_found', param: 'path' }, full);
      expect(error.message.length).toBeLessThan(5000);
    });

    const wrong: Array<[string, string, string]> = [
      ...DIRECT_POSTS.flatMap((p): Array<[string, string, string]> => [['GET', p, 'POST'], ['PUT', p, 'POST'], ['DELETE', p, 'POST'], ['PATCH', p, 'POST']]),
      ['GET', '/v1/feedback', 'POST'],
      ['GET', '/api/route', 'POST'],
      // A GET route serves HEAD too, so its Allow lists both (RFC 9110 10.2.1).
      ...GETS.flatMap((p): Array<[string, string, string]> => [['POST', p, 'GET, HEAD'], ['DELETE', p, 'GET, HEAD']]),
    ];
    it.each(wrong)('%s %s -> 405, Allow: %s', async (method, path, allow) => {
      const answer = await send(served.url, method, path, method === 'GET' || method === 'DELETE' ? undefined : chat, auth(path));
      // Anthropic paths answer in Anthropic's shape (`type: "error"` at the top), as the rest of /v1/messages.
      const style = path.startsWith('/v1/messages') ? 'anthropic' : 'openai';
      expectGatewayError(answer, { status: 405, code: 'method_not_allowed', param: 'method', style }, `${method} ${path}`);
      expect(answer.headers.allow).toBe(allow);
    });

    it('OPTIONS without CORS is a 405 with Allow; HEAD on a POST route is a 405 with no body; HEAD on a GET route is its GET without a body', async () => {
      const options = await send(served.url, 'OPTIONS', '/v1/chat/completions', undefined, { 'access-control-request-method': 'POST', origin: 'https://x.example' });
      expectGatewayError(options, { status: 405, code: 'method_not_allowed', param: 'method' });
      expect(options.headers.allow).toBe('POST');
      expect(options.headers['access-control-allow-origin']).toBeUndefined();
      const headPost = await send(served.url, 'HEAD', '/v1/messages', undefined, auth('/v1'));
      expect([headPost.status, headPost.headers.allow, headPost.body]).toEqual([405, 'POST', '']);
      const headGet = await send(served.url, 'HEAD', '/health');
      expect([headGet.status, headGet.body]).toEqual([200, '']);
      const headModels = await send(served.url, 'HEAD', '/v1/models', undefined, auth('/v1'));
      expect([headModels.status, headModels.body]).toEqual([200, '']);
    });
  });

  describe('bodies over the limit are a 413 on every POST route, declared or chunked', () => {
    let ledgered = 0;
    beforeAll(async () => {
      ledgered = (await h.stores!.ledger.query({ tenantId: 'acme' })).length;
    });
    it.each(POSTS)('%s: Content-Length over the limit', async (path) => {
      const answer = (await rawExchange(served.url, rawRequest('POST', path, { ...auth(path), 'content-length': String(MAX_BODY + 1) }, '{}'))) as WireAnswer;
      expectGatewayError(answer, { status: 413, code: 'payload_too_large', param: 'body', style: style(path) }, path);
      expect(answer.headers.connection).toBe('close');
    });

    // Before the fix, the routes served through gateway.fetch read a web Request's body with its own
    // `bytes()` (which has no limit): a chunked body of any size was read whole, then refused as bad JSON.
    it.each(POSTS)('%s: a chunked body over the limit, without Content-Length', async (path) => {
      const chunk = `{"pad":"${'x'.repeat(990)}"}`;
      const chunks = Array.from({ length: 8 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
      const answer = (await rawExchange(served.url, Buffer.concat([rawRequest('POST', path, { ...auth(path), 'transfer-encoding': 'chunked' }), Buffer.from(`${chunks}0\r\n\r\n`)]))) as WireAnswer;
      expectGatewayError(answer, { status: 413, code: 'payload_too_large', param: 'body', style: style(path) }, path);
    });

    it('nothing was ledgered, reserved or created for them', async () => {
      expect(await h.stores!.ledger.query({ tenantId: 'acme' })).toHaveLength(ledgered);
      expect((await h.stores!.budgets.spent('acme', 'month')).reservedUsd).toBe(0);
      expect((await h.stores!.tenants.listTenants()).map((t) => t.id)).toEqual(['acme']);
      expect(await h.stores!.tenants.listKeys('acme')).toHaveLength(1);
    });
  });

  describe('a client that aborts mid-body leaves nothing behind', () => {
    it.each(POSTS)('%s: Content-Length 1000, 20 bytes sent, then the connection drops', async (path) => {
      const logged = errors.length;
      const before = await h.stores!.ledger.query({ tenantId: 'acme' });
      await rawExchange(served.url, rawRequest('POST', path, { ...auth(path), 'content-length': '1000' }, '{"model":"mock","pr'), { destroyAfterMs: 50, timeoutMs: 2000 });
      // Give the server time to see the close and settle whatever it started.
      await new Promise((r) => setTimeout(r, 100));
      expect(await h.stores!.ledger.query({ tenantId: 'acme' })).toEqual(before);
      expect((await h.stores!.budgets.spent('acme', 'month')).reservedUsd).toBe(0);
      // Before the fix, the routes behind gateway.fetch turned the socket's reset into an internal error (logged).
      expect(errors.slice(logged)).toEqual([]);
    });

    it('the server keeps serving after them', stillServes);
  });
});

describe('gateway.fetch: a body stream that breaks is a 400, never a 500', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', gateway: { auth: { adminKey: ADMIN, demoTenantId: 'demo' } } });
    await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
  });
  afterAll(() => h?.close());

  it.each(POSTS)('%s', async (path) => {
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!sent) {
          sent = true;
          controller.enqueue(new TextEncoder().encode('{"model":"mo'));
        } else controller.error(new Error('socket hang up'));
      },
    });
    const res = await h.gateway.fetch(
      new Request(`http://gateway.test${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, duplex: 'half' } as RequestInit),
    );
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    const error = expectGatewayError({ status: res.status, headers, body: await res.text() }, { status: 400, code: 'invalid_request', param: 'body', style: path === '/v1/messages' ? 'anthropic' : 'openai' }, path);
    expect(error.message).toBe('Could not read the request body');
  });
});
