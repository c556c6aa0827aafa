/**
 * Errors node:http raises before the gateway's routes run (a request that stalls: 408; headers too large: 431; a
 * request its parser refuses: 400), answered by `serveGateway` in the gateway's error shape, carry the CORS headers
 * the gateway's routes would (so a browser page reads the status and body instead of an opaque network error): with
 * a list of origins, the request's own Origin when it is listed and known (a 408 on a stalled body, whose head was
 * read; a 431 or a 400 whose head is in the bytes node:http was parsing), on `/v1` or `/api`; with `*`, always `*`
 * unless the path is known to be another. On `/v1/messages` the body is in the Anthropic shape. A 413 for a body over
 * the limit has them too (answered by the route, or before `100 Continue` for a declared length).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGatewayError } from '../test-support/expect-error.js';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';
import { rawExchange } from '../test-support/raw-http.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

const ORIGIN = 'https://app.example.com';
const TIMEOUT_MS = 400;
const ADMIN_KEY = 'admin-key-0123456789abcdef';

/** Headers up to and including `origin`, then a body that stops halfway (a 408 after the request timeout). */
const stalledBody = (path: string, origin: string) =>
  `POST ${path} HTTP/1.1\r\nhost: gw\r\norigin: ${origin}\r\n${path.startsWith('/admin') ? `authorization: Bearer ${ADMIN_KEY}\r\n` : ''}content-type: application/json\r\ncontent-length: 100\r\n\r\n{"model":"mock",`;
const hugeHeader = (origin: string) => `GET /v1/models HTTP/1.1\r\nhost: gw\r\norigin: ${origin}\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`;
const badHeader = (origin: string) => `GET /v1/models HTTP/1.1\r\nhost: gw\r\norigin: ${origin}\r\nbad header: x\r\n\r\n`;

async function servedWith(origins: '*' | string[]): Promise<{ h: Harness; served: ServedGateway }> {
  const h = await createHarness({ models: [mockModel('mock')], stores: 'memory', gateway: { cors: { origins }, limits: { maxBodyBytes: 1024 }, auth: { adminKey: ADMIN_KEY, demoTenantId: 'demo' } } });
  await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
  return { h, served: await serveGateway(h.gateway, { port: 0, requestTimeoutMs: TIMEOUT_MS }) };
}

const exposed = (v: unknown) => String(v ?? '').split(',').map((s) => s.trim().toLowerCase());

describe('CORS on the errors node:http raises (a list of origins)', () => {
  let h: Harness;
  let served: ServedGateway;
  beforeAll(async () => ({ h, served } = await servedWith([ORIGIN])));
  afterAll(async () => {
    await served?.close(500);
    await h?.close();
  });

  it('a stalled body from a listed origin: the 408 allows that origin and exposes the request id', async () => {
    const answer = (await rawExchange(served.url, stalledBody('/v1/chat/completions', ORIGIN), { timeoutMs: 10_000 }))!;
    expectGatewayError(answer, { status: 408, code: 'timeout' });
    expect(answer.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(answer.headers['vary']).toMatch(/origin/i);
    expect(exposed(answer.headers['access-control-expose-headers'])).toEqual(expect.arrayContaining(['x-request-id', 'request-id']));
  });

  it('on /v1/messages the 408 is in the Anthropic shape', async () => {
    const answer = (await rawExchange(served.url, stalledBody('/v1/messages', ORIGIN), { timeoutMs: 10_000 }))!;
    expectGatewayError(answer, { status: 408, code: 'timeout', style: 'anthropic' });
    expect(answer.headers['access-control-allow-origin']).toBe(ORIGIN);
  });

  it('an origin not listed, or a path without CORS (/admin), gets no CORS headers', async () => {
    const other = (await rawExchange(served.url, stalledBody('/v1/chat/completions', 'https://evil.example'), { timeoutMs: 10_000 }))!;
    expectGatewayError(other, { status: 408, code: 'timeout' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const admin = (await rawExchange(served.url, stalledBody('/admin/tenants', ORIGIN), { timeoutMs: 10_000 }))!;
    expectGatewayError(admin, { status: 408, code: 'timeout' });
    expect(admin.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('a 431 and a parser 400 from a listed origin allow that origin (read from the head node:http was parsing), in their route\'s shape', async () => {
    const huge = (await rawExchange(served.url, hugeHeader(ORIGIN)))!;
    expectGatewayError(huge, { status: 431, param: 'headers' });
    const bad = (await rawExchange(served.url, badHeader(ORIGIN)))!;
    expectGatewayError(bad, { status: 400, param: 'headers' });
    const messages = (await rawExchange(served.url, badHeader(ORIGIN).replace('GET /v1/models', 'POST /v1/messages')))!;
    expectGatewayError(messages, { status: 400, param: 'headers', style: 'anthropic' });
    for (const answer of [huge, bad, messages]) {
      expect({ status: answer.status, origin: answer.headers['access-control-allow-origin'], vary: answer.headers['vary'] }).toEqual({ status: answer.status, origin: ORIGIN, vary: 'Origin' });
      expect(exposed(answer.headers['access-control-expose-headers'])).toEqual(expect.arrayContaining(['x-request-id', 'request-id']));
    }
  });

  it('a 431 or a parser 400 from an origin not listed, on /admin, or with two Origin headers gets no CORS headers', async () => {
    const answers = [
      (await rawExchange(served.url, hugeHeader('https://evil.example')))!,
      (await rawExchange(served.url, badHeader('https://evil.example')))!,
      (await rawExchange(served.url, badHeader(ORIGIN).replace('/v1/models', '/admin/tenants')))!,
      (await rawExchange(served.url, badHeader(ORIGIN).replace('host: gw\r\n', `host: gw\r\norigin: https://evil.example\r\n`)))!,
    ];
    expect(answers.map((a) => [a.status, a.headers['access-control-allow-origin']])).toEqual([
      [431, undefined],
      [400, undefined],
      [400, undefined],
      [400, undefined],
    ]);
  });

  it('a declared body over the limit with Expect: 100-continue (413 before the body) allows the origin too', async () => {
    const answer = (await rawExchange(
      served.url,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\norigin: ${ORIGIN}\r\ncontent-type: application/json\r\ncontent-length: 5000\r\nexpect: 100-continue\r\n\r\n`,
    ))!;
    expectGatewayError(answer, { status: 413, code: 'payload_too_large' });
    expect(answer.headers['access-control-allow-origin']).toBe(ORIGIN);
  });

  it('a body over the limit (the route answers the 413) allows the origin too', async () => {
    const body = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'x'.repeat(2000) }] });
    const answer = (await rawExchange(
      served.url,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\norigin: ${ORIGIN}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    ))!;
    expectGatewayError(answer, { status: 413, code: 'payload_too_large' });
    expect(answer.headers['access-control-allow-origin']).toBe(ORIGIN);
  });
});

describe('CORS on the errors node:http raises (any origin)', () => {
  let h: Harness;
  let served: ServedGateway;
  beforeAll(async () => ({ h, served } = await servedWith('*')));
  afterAll(async () => {
    await served?.close(500);
    await h?.close();
  });

  it('a 408, a 431 and a parser 400 all allow any origin', async () => {
    const stalled = (await rawExchange(served.url, stalledBody('/v1/chat/completions', ORIGIN), { timeoutMs: 10_000 }))!;
    expectGatewayError(stalled, { status: 408, code: 'timeout' });
    const huge = (await rawExchange(served.url, hugeHeader(ORIGIN)))!;
    expectGatewayError(huge, { status: 431, param: 'headers' });
    const bad = (await rawExchange(served.url, badHeader(ORIGIN)))!;
    expectGatewayError(bad, { status: 400, param: 'headers' });
    for (const answer of [stalled, huge, bad]) {
      expect({ status: answer.status, origin: answer.headers['access-control-allow-origin'] }).toEqual({ status: answer.status, origin: '*' });
      expect(exposed(answer.headers['access-control-expose-headers'])).toEqual(expect.arrayContaining(['x-request-id', 'request-id']));
    }
  });
});
