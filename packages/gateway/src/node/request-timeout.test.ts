/**
 * `serveGateway`'s request timeout: a client that stalls in the middle of its request gets a 408 in the
 * error shape and loses its connection (instead of holding it for node:http's default 300 s), while an
 * answer that takes longer than the timeout (a slow stream) is not cut. A request answered before its body was all
 * received gets no second answer when the rest of that body stalls past the timeout or breaks.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectGatewayError } from '../test-support/expect-error.js';
import { createHarness, mockModel, serveWithKey, type Harness } from '../test-support/harness.js';
import { rawConnection, rawExchange } from '../test-support/raw-http.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

const TIMEOUT_MS = 400;

describe('serveGateway requestTimeoutMs', () => {
  let h: Harness;
  let served: ServedGateway;

  beforeAll(async () => {
    h = await createHarness({ models: [mockModel('slow', { reply: 'one two three four five six seven eight', chunkDelayMs: 120 })] });
    served = await serveGateway(h.gateway, { port: 0, requestTimeoutMs: TIMEOUT_MS });
  });
  afterAll(async () => {
    await served?.close(1000);
    await h?.close();
  });

  it('a body that stalls halfway gets a 408 with the error body, and the connection is closed', async () => {
    const head = 'POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n';
    const started = Date.now();
    const answer = await rawExchange(served.url, `${head}{"model":"slow",`, { timeoutMs: 10_000 });
    expect(answer, 'no answer within 10 s').toBeDefined();
    expectGatewayError(answer!, { status: 408, code: 'timeout', param: null });
    expect(answer!.headers['connection']).toBe('close');
    // Well before node:http's own 300 s (the check runs every quarter of the timeout).
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('headers that never end get the 408 too', async () => {
    const answer = await rawExchange(served.url, 'GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ', { timeoutMs: 10_000 });
    expect(answer, 'no answer within 10 s').toBeDefined();
    expectGatewayError(answer!, { status: 408, code: 'timeout' });
  });

  it('a stream that lasts longer than the timeout is not cut', async () => {
    const started = Date.now();
    const res = await fetch(`${served.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'count' }] }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(Date.now() - started).toBeGreaterThan(TIMEOUT_MS);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(text).toContain('eight');
  });

  it('bad timeout options are refused before listening', async () => {
    await expect(serveGateway(h.gateway, { port: 0, requestTimeoutMs: 0 })).rejects.toThrow(/requestTimeoutMs must be a positive integer/);
    await expect(serveGateway(h.gateway, { port: 0, requestTimeoutMs: 1000, headersTimeoutMs: 2000 })).rejects.toThrow(/must not exceed/);
  });
});

describe('a request answered before its body was all received: one request, one answer', () => {
  let h: Harness;
  let served: ServedGateway;

  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock')] });
    ({ served } = await serveWithKey(h, { requestTimeoutMs: TIMEOUT_MS }));
  });
  afterAll(async () => {
    await served?.close(1000);
    await h?.close();
  });

  // A GET route does not read a body (gateway.fetch); a bad key is refused before the body is read (the direct path).
  // The rest of the body then stalls past requestTimeoutMs, or breaks (a bad chunk size): node:http would write a 408
  // or a 400 after the answer, which a client reads as the answer of its next request.
  for (const [route, head] of [
    ['GET /health', 'GET /health HTTP/1.1'],
    ['a bad key on POST /v1/chat/completions', 'POST /v1/chat/completions HTTP/1.1'],
  ] as const) {
    for (const [what, rest] of [
      ['stalls past requestTimeoutMs', ''],
      ['breaks', 'zz\r\n'],
    ] as const) {
      it(`${route}, the rest of its body ${what}: the connection closes after the one answer`, async () => {
        const c = rawConnection(served.url);
        c.socket.write(`${head}\r\nhost: gw\r\nauthorization: Bearer wrong\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"a":\r\n`);
        await vi.waitFor(() => expect(c.raw()).toMatch(/\r\n\r\n\{.*\}$/s), { timeout: 10_000 });
        if (rest !== '') c.socket.write(rest);
        await c.closed;
        expect(c.raw().match(/HTTP\/1\.1 \d{3}/g), c.raw()).toEqual([route === 'GET /health' ? 'HTTP/1.1 200' : 'HTTP/1.1 401']);
      }, 20_000);
    }
  }
});
