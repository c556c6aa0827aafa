/**
 * `serveGateway`'s request timeout: a client that stalls in the middle of its request gets a 408 in the
 * error shape and loses its connection (instead of holding it for node:http's default 300 s), while an
 * answer that takes longer than the timeout (a slow stream) is not cut. A request answered before its body was all
 * received (a GET route, a bad key, a 417, a 413 before `100 Continue`) gets no second answer when the rest of that body
 * stalls past the timeout or breaks, and does not take the answer of a next request whose own head stalls or breaks.
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
  let secret: string;

  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock'), mockModel('slow', { delayMs: 300 })] });
    ({ secret, served } = await serveWithKey(h, { requestTimeoutMs: TIMEOUT_MS }));
  });
  afterAll(async () => {
    await served?.close(1000);
    await h?.close();
  });
  const statuses = (raw: string) => raw.match(/HTTP\/1\.1 \d{3}/g) ?? [];
  const chat = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });

  // A GET route does not read a body (gateway.fetch); a bad key is refused before the body is read (the direct path); an
  // Expect other than 100-continue is a 417, and a body declared too large with Expect: 100-continue a 413 before the
  // 100 (node:http's checkExpectation and checkContinue). The rest of the body then stalls past requestTimeoutMs, or
  // breaks (a bad chunk size): node:http would write a 408 or a 400 after the answer, which a client reads as the answer
  // of its next request. The same behind a keep-alive request answered before it.
  const chunked = 'content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"a":\r\n';
  for (const [route, head, status, rests] of [
    ['GET /health', `GET /health HTTP/1.1\r\nhost: gw\r\n${chunked}`, 'HTTP/1.1 200', ['', 'zz\r\n']],
    ['a bad key on POST /v1/chat/completions', `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer wrong\r\n${chunked}`, 'HTTP/1.1 401', ['', 'zz\r\n']],
    ['an Expect other than 100-continue (417)', `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nexpect: something-else\r\n${chunked}`, 'HTTP/1.1 417', ['', 'zz\r\n']],
    [
      'a body declared too large with Expect: 100-continue (a 413 before the 100: the body is not sent)',
      'POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nexpect: 100-continue\r\ncontent-type: application/json\r\ncontent-length: 40000000\r\n\r\n',
      'HTTP/1.1 413',
      [''],
    ],
  ] as const) {
    for (const rest of rests) {
      for (const previous of [false, true]) {
        it(`${route}, the rest of its body ${rest === '' ? 'stalls past requestTimeoutMs' : 'breaks'}${previous ? ', behind a keep-alive GET' : ''}: the connection closes after the one answer`, async () => {
          const c = rawConnection(served.url);
          if (previous) {
            c.socket.write('GET /health HTTP/1.1\r\nhost: gw\r\n\r\n');
            await vi.waitFor(() => expect(statuses(c.raw())).toHaveLength(1), { timeout: 10_000 });
          }
          c.socket.write(head);
          await vi.waitFor(() => expect(statuses(c.raw())).toHaveLength(previous ? 2 : 1), { timeout: 10_000 });
          if (rest !== '') c.socket.write(rest);
          await c.closed;
          expect(statuses(c.raw()), c.raw()).toEqual(previous ? ['HTTP/1.1 200', status] : [status]);
        }, 20_000);
      }
    }
  }

  // Pipelined behind a model call in flight (one packet: answered while the call runs, its answer queued behind the
  // call's): the call's answer, then this one, then the connection closes (node:http would add a 400 after them).
  for (const [route, head, status] of [
    ['a 417', 'expect: something-else\r\n', 'HTTP/1.1 417'],
    ['a bad key', 'authorization: Bearer wrong\r\n', 'HTTP/1.1 401'],
  ] as const) {
    it(`${route} pipelined behind a model call in flight, its chunked body then breaking: each gets its one answer, then the connection closes`, async () => {
      const c = rawConnection(served.url);
      const body = chat('slow');
      c.socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}` +
          `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\n${head}${chunked}zz\r\n`,
      );
      await c.closed;
      expect(statuses(c.raw()), c.raw()).toEqual(['HTTP/1.1 200', status]);
    }, 20_000);
  }

  // A keep-alive request whose body was all received (none, Content-Length 0, read whole, or drained after a refusal)
  // does not make the NEXT request's stall or parse error close the connection unanswered.
  for (const [what, first, firstStatus] of [
    ['a GET with no body', 'GET /health HTTP/1.1\r\nhost: gw\r\n\r\n', 'HTTP/1.1 200'],
    ['a GET with Content-Length 0', 'GET /health HTTP/1.1\r\nhost: gw\r\ncontent-length: 0\r\n\r\n', 'HTTP/1.1 200'],
    ['a GET with a small body sent whole', 'GET /health HTTP/1.1\r\nhost: gw\r\ncontent-length: 5\r\n\r\n{"a":', 'HTTP/1.1 200'],
    ['a bad key with its body sent whole', 'POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer wrong\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}', 'HTTP/1.1 401'],
    ['a model call (its body read whole)', 'model call', 'HTTP/1.1 200'],
  ] as const) {
    for (const [next, rest, nextStatus] of [
      ['stalls in its head', 'GET /health HTTP/1.1\r\nhost: gw\r\n', 'HTTP/1.1 408'],
      ['has a malformed head', 'GET /health HTTP/1.1\r\nho st: gw\r\n\r\n', 'HTTP/1.1 400'],
    ] as const) {
      it(`after ${what}, a next request that ${next} still gets its own answer`, async () => {
        const c = rawConnection(served.url);
        const body = chat('mock');
        c.socket.write(
          first === 'model call'
            ? `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`
            : first,
        );
        await vi.waitFor(() => expect(statuses(c.raw())).toHaveLength(1), { timeout: 10_000 });
        c.socket.write(rest);
        await c.closed;
        expect(statuses(c.raw()), c.raw()).toEqual([firstStatus, nextStatus]);
      }, 20_000);
    }
  }
});
