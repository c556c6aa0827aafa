/**
 * The Node edge, through a real server: a browser page reads `x-should-retry` on an error reply (CORS), a request
 * body in a content coding is a 415 naming `content-encoding` (one in a transfer coding other than chunked a 400 naming
 * `transfer-encoding`, not retried by the SDKs; one that declares another charset and is not valid UTF-8 or is not
 * JSON and holds a NUL a 415 naming `content-type`, one that reads as UTF-8 JSON is read whatever charset it declares,
 * a JSON syntax error in text without a NUL is the 400 `invalid_json` whatever it declares), a 32 MiB body that is not UTF-8 is refused without stalling the event
 * loop, a large body refused before it is read is dropped before the connection closes (no reset; a request pipelined
 * behind it is not served, and `close()` does not wait for it), a request node:http cannot parse pipelined behind model calls is answered after them, and a repeated Authorization or X-API-Key header is
 * joined into one value that matches no key (a 401, audited as an auth failure), the same on the direct route (no
 * Origin) and through `gateway.fetch` (an Origin, CORS on): which of two keys would count is not the gateway's to guess.
 * `limits.maxBodyBytesInFlight` counts body bytes as they arrive (a stalled connection holds only what it sent, and
 * gives it back however its read ends). A request with `Expect: 100-continue` gets `100 Continue` at once, also one then
 * refused (the budget, a bad key: its body is sent, then answered; a request pipelined behind it is answered), as curl and
 * Java's HttpClient (which hangs on a final answer without the 100) see it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { deflateSync, gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHarness, mockModel, post, serveWithKey, type Harness } from '../test-support/harness.js';
import { rawConnection, rawExchange, rawRequest, send } from '../test-support/raw-http.js';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import type { WireUpstreams } from '../test-support/wire-upstreams.js';
import { NodeIncoming } from './node-incoming.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

const ORIGIN = 'https://app.example.com';
const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-test',
  choices: [{ index: 0, message: { role: 'assistant', content: 'a long billed answer '.repeat(50) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 500, total_tokens: 510 },
});

/** A fetch that sends the body with `Transfer-Encoding: <coding>` (undici's fetch refuses to set that header). */
function fetchWithTransferCoding(coding: string): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      const u = new URL(typeof input === 'string' || input instanceof URL ? input.toString() : input.url);
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
      delete headers['content-length'];
      headers['transfer-encoding'] = coding;
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: init?.method ?? 'GET', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode!, headers: h }));
        });
      });
      req.on('error', reject);
      req.end(typeof init?.body === 'string' ? init.body : undefined);
    })) as typeof fetch;
}

const errorOf = (body: string) => (JSON.parse(body) as { error: { message: string; param: string | null; code: string } }).error;

describe('CORS: what a browser page may read of an error reply', () => {
  let upstream: Server;
  let upstreamRequests = 0;
  let h: Harness;
  let served: ServedGateway;
  let secret: string;
  beforeAll(async () => {
    // A finished (billed) completion: the 200, half its body, then the connection drops (an `afterResponse` error).
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        upstreamRequests++;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(COMPLETION)) });
        res.write(COMPLETION.slice(0, COMPLETION.length / 2), () => setTimeout(() => res.socket?.destroy(), 5));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const baseURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    h = await createHarness({
      stores: 'memory',
      routerOptions: { env: {} },
      models: [{ name: 'gpt', engine: 'openai-compatible', model: 'gpt-test', baseURL, apiKey: 'sk-up', capabilities: ['chat', 'streaming'] }],
      gateway: { cors: { origins: [ORIGIN] } },
    });
    ({ secret, served } = await serveWithKey(h));
  });
  afterAll(async () => {
    await served?.close(500);
    await h?.close();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  it('x-should-retry: false (a billed answer lost) is exposed to the page, so the openai/Anthropic SDKs in a browser do not send it again', async () => {
    upstreamRequests = 0;
    const res = await fetch(`${served.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}`, origin: ORIGIN },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    expect(upstreamRequests).toBe(1);
    expect(res.status).toBe(502);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    // A header not listed in Access-Control-Expose-Headers is invisible to the page's fetch: the SDK would see no
    // x-should-retry and retry the 502 twice by default, asking the provider for the billed answer again.
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',').map((s) => s.trim().toLowerCase());
    expect(exposed).toEqual(expect.arrayContaining(['x-should-retry', 'x-request-id', 'request-id']));
  });
});

describe('request bodies and headers at the edge', () => {
  let h: Harness;
  let served: ServedGateway;
  let secret: string;
  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { cors: { origins: [ORIGIN] } } });
    ({ secret, served } = await serveWithKey(h));
  });
  afterAll(async () => {
    await served?.close(500);
    await h?.close();
  });
  const body = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });

  for (const [coding, bytes] of [
    ['gzip', gzipSync(body)],
    ['deflate', deflateSync(body)],
    ['br', Buffer.from(body)],
  ] as const) {
    it(`a ${coding}-encoded body is refused as an unsupported content coding (415 naming content-encoding), not as bad UTF-8`, async () => {
      for (const origin of [undefined, ORIGIN]) {
        const res = await send(served.url, 'POST', '/v1/chat/completions', bytes, {
          'content-type': 'application/json',
          'content-encoding': coding,
          authorization: `Bearer ${secret}`,
          ...(origin ? { origin } : {}),
        });
        // RFC 9110 15.5.16: 415 for a content coding the server does not take; the client then knows to send it plain.
        expect({ origin, status: res.status, param: errorOf(res.body).param }).toEqual({ origin, status: 415, param: 'content-encoding' });
      }
    });
  }

  it('a body in a transfer coding other than chunked (Transfer-Encoding: gzip, chunked; gzip alone) is a 400 naming transfer-encoding, not parsed as JSON; chunked alone is read', async () => {
    const chunked = (coding: string, bytes: Buffer, origin?: string) =>
      rawExchange(
        served.url,
        Buffer.concat([
          Buffer.from(
            `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nconnection: close\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\n` +
              `${origin ? `origin: ${origin}\r\n` : ''}transfer-encoding: ${coding}\r\n\r\n${bytes.length.toString(16)}\r\n`,
            'latin1',
          ),
          bytes,
          Buffer.from('\r\n0\r\n\r\n', 'latin1'),
        ]),
      );
    // Both paths: the direct one, and gateway.fetch (an Origin, CORS on).
    for (const origin of [undefined, ORIGIN]) {
      // (`gzip` alone, not ending in chunked, is refused by node:http's parser: the same 400.)
      for (const coding of ['gzip, chunked', 'deflate,chunked', 'gzip']) {
        const res = await chunked(coding, gzipSync(body), origin);
        const error = errorOf(res?.body ?? '{}');
        expect({ origin, coding, status: res?.status, param: error.param }, error.message).toEqual({ origin, coding, status: 400, param: 'transfer-encoding' });
      }
      expect((await chunked('chunked', Buffer.from(body), origin))?.status).toBe(200);
      expect((await chunked('Chunked', Buffer.from(body), origin))?.status).toBe(200);
    }
  });

  it('the official OpenAI client does not retry that 400 (a 501, a 5xx, was sent three times)', async () => {
    let taken = 0;
    const onRequest = () => taken++;
    served.server.on('request', onRequest);
    const client = new OpenAI({ apiKey: secret, baseURL: `${served.url}/v1`, fetch: fetchWithTransferCoding('gzip, chunked'), maxRetries: 2, timeout: 10_000 });
    const error = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e as { status?: number; param?: string | null },
    );
    served.server.off('request', onRequest);
    expect({ status: error?.status, param: error?.param, sent: taken }).toEqual({ status: 400, param: 'transfer-encoding', sent: 1 });
  });

  it('a 32 MiB body with one byte that is not UTF-8 near its end is a 400 naming that byte, without stalling the event loop for seconds', async () => {
    const size = 32 * 1024 * 1024 - 64;
    const bytes = Buffer.alloc(size, 0x61);
    bytes.write('{"model":"mock","messages":[{"role":"user","content":"', 0, 'latin1');
    bytes.write('"}]}', size - 4, 'latin1');
    bytes[size - 5] = 0xff;
    const c = rawConnection(served.url);
    c.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nconnection: close\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n`);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    c.socket.write(bytes);
    await c.closed;
    delay.disable();
    expect(c.raw()).toMatch(/^HTTP\/1\.1 400 /);
    // (A chunked answer: its one chunk is the error body.)
    expect(c.raw()).toContain(`"message":"Request body is not valid UTF-8 (at byte ${size - 5})"`);
    // The longest stall of this process's event loop (the gateway's) while the answer was made: one linear pass over the
    // body takes tens of ms; the binary search with a decoder per step took about 4 s. A bound for a loaded machine.
    expect(Math.round(delay.max / 1e6)).toBeLessThan(1000);
  }, 60_000);

  it('a large body refused before it is read (a bad key) gets its 401 and a clean close while the client still sends it, not a reset (EPIPE)', async () => {
    const size = 4 * 1024 * 1024;
    const c = rawConnection(served.url);
    let error: Error | undefined;
    c.socket.on('error', (e) => (error = e));
    c.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer llmrr_wrong\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n`);
    // The whole answer comes before the body is sent.
    await vi.waitFor(() => expect(c.raw()).toContain('"request_id"'), { timeout: 5000 });
    await vi.waitFor(() => expect(c.raw()).toMatch(/\}(\r\n0\r\n\r\n)?$/), { timeout: 5000 });
    const written = await new Promise<Error | null | undefined>((resolve) => c.socket.write(Buffer.alloc(size, 0x20), resolve));
    await c.closed;
    expect({ error: error?.message, written: written?.message }).toEqual({ error: undefined, written: undefined });
    expect(c.raw()).toMatch(/^HTTP\/1\.1 401 /);
    expect(c.raw().toLowerCase()).toContain('connection: close\r\n');
  });

  it('a request pipelined behind such a body is not served: its answer could never be sent (the 401 said connection: close)', async () => {
    const size = 200_000;
    let started = 0;
    const off = h.router.on('request:start', () => void started++);
    try {
      const c = rawConnection(served.url);
      c.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer llmrr_wrong\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n`);
      await vi.waitFor(() => expect(c.raw()).toMatch(/\}(\r\n0\r\n\r\n)?$/), { timeout: 5000 });
      const call = `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      c.socket.write(Buffer.concat([Buffer.alloc(size, 0x20), Buffer.from(call, 'latin1')]));
      await c.closed;
      expect([...c.raw().matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1])).toEqual(['401']);
      // A call on another connection after it is served: the pipelined one (parsed before it) never started its model call.
      expect((await send(served.url, 'POST', '/v1/chat/completions', body, { 'content-type': 'application/json', authorization: `Bearer ${secret}` })).status).toBe(200);
      expect(started).toBe(1);
    } finally {
      off();
    }
  });

  it('close() does not wait for a connection dropping the rest of a refused body (nothing is owed on it)', async () => {
    const own = await serveGateway(h.gateway, { port: 0 });
    const c = rawConnection(own.url);
    try {
      // A bad key and a large declared body the client has not sent (yet): answered 401, connection: close, lingering.
      c.socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer llmrr_wrong\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n');
      await vi.waitFor(() => expect(c.raw()).toMatch(/\}(\r\n0\r\n\r\n)?$/), { timeout: 5000 });
      expect(c.raw()).toMatch(/^HTTP\/1\.1 401 /);
      // Without it, close() waited for the linger (10 s) within its grace. (Hang guard: 5 s.)
      const closed = own.close(60_000).then(() => 'closed' as const);
      const guard = new Promise<'still open'>((r) => setTimeout(() => r('still open'), 5000).unref());
      expect(await Promise.race([closed, guard])).toBe('closed');
      await c.closed;
    } finally {
      c.socket.destroy();
      await own.close(100);
    }
  }, 20_000);

  it('a body marked `content-encoding: identity` (no coding) is read as it is', async () => {
    const res = await send(served.url, 'POST', '/v1/chat/completions', body, { 'content-type': 'application/json', 'content-encoding': 'identity', authorization: `Bearer ${secret}` });
    expect(res.status).toBe(200);
  });

  it('a body that is not UTF-8 JSON and declares another charset is a 415 naming content-type (UTF-16 and UTF-32 text under any of their labels, latin-1 bytes), not a 400 for JSON-parse garbage', async () => {
    const cafe = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'caf\u00e9' }] });
    const utf16be = Buffer.from(body, 'utf16le').swap16();
    const utf32le = Buffer.alloc(body.length * 4);
    for (let i = 0; i < body.length; i++) utf32le.writeUInt32LE(body.charCodeAt(i), i * 4);
    // Both paths: the direct one, and gateway.fetch (an Origin, CORS on).
    for (const origin of [undefined, ORIGIN]) {
      const cors: Record<string, string> = origin ? { origin } : {};
      for (const [type, bytes, charset] of [
        ['application/json; charset=utf-16', Buffer.from(body, 'utf16le'), 'utf-16'],
        ['application/json; charset=utf-16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(cafe, 'utf16le')]), 'utf-16'],
        ['application/json;charset="UTF-16LE"', Buffer.from(body, 'utf16le'), 'UTF-16LE'],
        ['application/json; foo=bar; charset="utf-16be"', utf16be, 'utf-16be'],
        ['text/plain;charset=utf-32', utf32le, 'utf-32'],
        ['application/json; Charset=UCS-2', Buffer.from(body, 'utf16le'), 'UCS-2'],
        ['application/json; charset=UCS-2LE', Buffer.from(body, 'utf16le'), 'UCS-2LE'],
        ['application/json; charset=UCS-4LE', utf32le, 'UCS-4LE'],
        ['application/json; charset=ISO-10646-UCS-4', utf32le, 'ISO-10646-UCS-4'],
        ['text/plain; charset=ISO-8859-1', Buffer.from(cafe, 'latin1'), 'ISO-8859-1'],
        ['application/json; charset=utf-16', Buffer.from('{bad', 'utf16le'), 'utf-16'],
      ] as const) {
        const res = await send(served.url, 'POST', '/v1/chat/completions', bytes, { 'content-type': type, authorization: `Bearer ${secret}`, ...cors });
        const error = errorOf(res.body);
        // Not the 400 "not valid JSON" / "not valid UTF-8" of reading those bytes as UTF-8.
        expect({ origin, type, status: res.status, code: error.code, param: error.param }, error.message).toEqual({ origin, type, status: 415, code: 'unsupported_media_type', param: 'content-type' });
        expect(error.message).toContain(`charset "${charset}"`);
      }
      // RFC 8259 defines no charset for JSON (it is UTF-8): a body that reads as UTF-8 JSON is read, whatever it declares
      // (an all-ASCII one labelled utf-16 too). Parameters are read in order, quoted values skipped, the first charset counts.
      for (const type of [
        'application/json; charset=utf-8',
        'application/json; CHARSET="UTF-8"',
        'application/json;charset=utf8',
        'application/json; charset=us-ascii',
        'text/plain;charset=UTF-8',
        'application/json; charset=iso-8859-1',
        'application/json; charset=windows-1252',
        'application/json; charset=utf-16',
        'application/json; foo=bar; charset=utf-8',
        'application/json; charset=utf-8; foo="a b"',
        'application/json; charset=',
        'application/json; charset=""',
        'application/json; charset=utf-8; charset=utf-16',
        'application/vnd.api+json; charset=utf-8',
        'application/json; profile="https://example.com/p;charset=utf-16"',
      ]) {
        const res = await send(served.url, 'POST', '/v1/chat/completions', body, { 'content-type': type, authorization: `Bearer ${secret}`, ...cors });
        expect({ origin, type, status: res.status }, res.body).toEqual({ origin, type, status: 200 });
      }
      // Bad JSON or bytes under UTF-8, a charset only inside another parameter's quoted value, or a JSON syntax error in
      // text without a NUL (valid UTF-8, so not UTF-16 / UTF-32: the fault is the JSON's, whatever the charset): the usual 400s.
      for (const [type, bytes, code] of [
        ['application/json; charset=utf-8', Buffer.from('{bad'), 'invalid_json'],
        ['text/plain; charset=ISO-8859-1', Buffer.from('{bad'), 'invalid_json'],
        ['application/json; profile="x;charset=utf-16"', Buffer.from('{bad'), 'invalid_json'],
        ['application/json; charset=us-ascii', Buffer.from(cafe, 'latin1'), 'invalid_request'],
      ] as const) {
        const res = await send(served.url, 'POST', '/v1/chat/completions', bytes, { 'content-type': type, authorization: `Bearer ${secret}`, ...cors });
        expect({ origin, type, status: res.status, code: errorOf(res.body).code }).toEqual({ origin, type, status: 400, code });
      }
    }
  });

  // Clients whose default charset is latin-1 (Apache HttpClient's `new StringEntity(json)`: `text/plain;
  // charset=ISO-8859-1`) are told of a missing bracket, not to change their charset.
  for (const type of ['application/json; charset=iso-8859-1', 'text/plain; charset=ISO-8859-1', 'application/json; charset=windows-1252']) {
    for (const [what, bad] of [
      ['truncated', '{"model":"mock","messages":[{"role":"user","content":"hi"}'],
      ['a trailing comma', '{"model":"mock","messages":[{"role":"user","content":"hi"},]}'],
    ] as const) {
      it(`${type}, ${what}: a JSON syntax error in ASCII text is the 400 invalid_json naming body, as without the charset`, async () => {
        const answers = [];
        for (const t of ['application/json', type]) {
          const res = await send(served.url, 'POST', '/v1/chat/completions', bad, { 'content-type': t, authorization: `Bearer ${secret}` });
          const e = errorOf(res.body);
          answers.push({ status: res.status, code: e.code, param: e.param, message: e.message });
        }
        expect(answers[1]).toEqual(answers[0]);
        expect(answers[0]).toMatchObject({ status: 400, code: 'invalid_json', param: 'body' });
      });
    }
  }

  it("a body that is only a UTF-8 byte order mark is the empty body's 400, with or without a charset", async () => {
    const answers = [];
    for (const bytes of [new Uint8Array(0), new Uint8Array([0xef, 0xbb, 0xbf])]) {
      for (const type of ['application/json', 'application/json; charset=utf-16']) {
        const res = await send(served.url, 'POST', '/v1/chat/completions', bytes, { 'content-type': type, authorization: `Bearer ${secret}` });
        const e = errorOf(res.body);
        answers.push({ status: res.status, code: e.code, param: e.param, message: e.message });
      }
    }
    const empty = { status: 400, code: 'invalid_json', param: 'body', message: 'Request body is empty; expected a JSON object' };
    expect(answers).toEqual([empty, empty, empty, empty]);
  });

  it('the official OpenAI client with a charset=UTF-8 Content-Type (and a non-ASCII message) is served on both paths', async () => {
    for (const origin of [undefined, ORIGIN]) {
      const client = new OpenAI({ apiKey: secret, baseURL: `${served.url}/v1`, maxRetries: 0, defaultHeaders: { 'Content-Type': 'application/json; charset=UTF-8', ...(origin ? { origin } : {}) } });
      const res = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'caf\u00e9 \u{1f600}' }] });
      expect(res.object).toBe('chat.completion');
    }
  });

  it('gateway.fetch with a web Request (as a serverless adapter calls it) answers a charset as the Node edge does', async () => {
    const call = (headers: Record<string, string>, bytes: string | Uint8Array) =>
      h.gateway.fetch(new Request('http://gateway.test/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${secret}`, ...headers }, body: bytes }));
    // A string body without a Content-Type: the Request says `text/plain;charset=UTF-8` itself.
    expect((await call({}, body)).status).toBe(200);
    expect((await call({ 'content-type': 'application/json; charset=utf-16' }, body)).status).toBe(200);
    for (const [type, bytes] of [
      ['application/json;charset=UTF-16LE', Buffer.from(body, 'utf16le')],
      ['text/plain; charset=ISO-8859-1', Buffer.from(body.replace('hi', 'caf\u00e9'), 'latin1')],
    ] as const) {
      const res = await call({ 'content-type': type }, bytes);
      expect({ type, status: res.status, param: ((await res.json()) as { error: { param: string } }).error.param }).toEqual({ type, status: 415, param: 'content-type' });
    }
  });

  const twice = (lines: string, origin?: string) =>
    rawExchange(
      served.url,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\n${origin ? `origin: ${origin}\r\n` : ''}content-type: application/json\r\n` +
        `${lines}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );

  it('a request with two Authorization headers is a 401, with or without an Origin header', async () => {
    // Authorization is a singleton field (RFC 9110 11.6.2). node:http alone would keep only the first one on the
    // direct route (its key used), while gateway.fetch (an Origin with CORS on) sees both joined.
    for (const origin of [undefined, ORIGIN]) {
      for (const [first, second] of [
        [secret, 'sk-someone-else'],
        [secret, secret],
      ]) {
        const res = await twice(`authorization: Bearer ${first}\r\nAuthorization: Bearer ${second}\r\n`, origin);
        expect({ origin, status: res?.status, code: res && errorOf(res.body).code }).toEqual({ origin, status: 401, code: 'authentication' });
      }
    }
  });

  it('a request with two X-API-Key headers is a 401, with or without an Origin header', async () => {
    for (const origin of [undefined, ORIGIN]) {
      const res = await twice(`x-api-key: ${secret}\r\nx-api-key: ${secret}\r\n`, origin);
      expect({ origin, status: res?.status, code: res && errorOf(res.body).code }).toEqual({ origin, status: 401, code: 'authentication' });
    }
  });

  it('one key header is answered as before, on both routes', async () => {
    for (const origin of [undefined, ORIGIN]) {
      expect((await twice(`authorization: Bearer ${secret}\r\n`, origin))?.status).toBe(200);
      expect((await twice(`x-api-key: ${secret}\r\n`, origin))?.status).toBe(200);
    }
  });

  it('gateway.fetch without a server: a repeated key header is the same 401', async () => {
    const headers = new Headers({ authorization: `Bearer ${secret}` });
    headers.append('authorization', `Bearer ${secret}`);
    const res = await post(h.gateway, '/v1/chat/completions', JSON.parse(body), Object.fromEntries(headers));
    expect(res.status).toBe(401);
    expect(errorOf(await res.text()).code).toBe('authentication');
  });
});

describe('limits.maxBodyBytesInFlight: the bytes of bodies held at once, counted as they arrive', () => {
  let h: Harness;
  let served: ServedGateway;
  let secret: string;
  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', routerOptions: { env: {} }, models: [mockModel('mock')], gateway: { limits: { maxBodyBytes: 4096, maxBodyBytesInFlight: 6000 } } });
    ({ secret, served } = await serveWithKey(h));
  });
  afterAll(async () => {
    await served?.close(500);
    await h?.close();
  });

  const chat = (size: number) => {
    const shell = JSON.stringify({ model: 'mock', max_tokens: 5, messages: [{ role: 'user', content: '' }] });
    return JSON.stringify({ model: 'mock', max_tokens: 5, messages: [{ role: 'user', content: 'x'.repeat(size - Buffer.byteLength(shell)) }] });
  };
  const statuses = (raw: string) => [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  const head = (path: string, length: number | 'chunked', extra = '') =>
    `POST ${path} HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\n${length === 'chunked' ? 'transfer-encoding: chunked' : `content-length: ${length}`}\r\n${extra}\r\n`;
  const post = (path: string, size: number, extra: Record<string, string> = {}) =>
    send(served.url, 'POST', path, chat(size), { 'content-type': 'application/json', ...(path === '/v1/messages' ? { 'x-api-key': secret, 'anthropic-version': '2023-06-01' } : { authorization: `Bearer ${secret}` }), ...extra });
  /** Waits until the bytes a connection sent are held: a 3000-byte body no longer fits beside them. */
  const held = () => vi.waitFor(async () => expect((await post('/v1/chat/completions', 3000)).status).toBe(503), { timeout: 5000 });
  /** Nothing is held any more (nothing leaked by the case before): a 4000-byte body fits. */
  const nothingHeld = (url = served.url) =>
    vi.waitFor(async () => expect((await send(url, 'POST', '/v1/chat/completions', chat(4000), { 'content-type': 'application/json', authorization: `Bearer ${secret}` })).status).toBe(200), { timeout: 5000 });
  /** A connection that declared a 4000-byte body and sent all of it but 10 bytes, held by the gateway. */
  const holding = async (path = '/v1/chat/completions', length: number | 'chunked' = 4000) => {
    const c = rawConnection(served.url);
    const sent = chat(4000).slice(0, 3990);
    c.socket.write(head(path, length) + (length === 'chunked' ? `${sent.length.toString(16)}\r\n${sent}\r\n` : sent));
    await held();
    return c;
  };

  it('a body that does not fit beside the bytes received is refused unread (503 overloaded, Retry-After; 529 on /v1/messages); a smaller one fits; served once those are read', async () => {
    const first = chat(4000);
    const c = await holding();
    const refused = await post('/v1/chat/completions', 3000);
    expect({ status: refused.status, code: errorOf(refused.body).code, param: errorOf(refused.body).param, retryAfter: refused.headers['retry-after'] }).toEqual({ status: 503, code: 'overloaded', param: 'body', retryAfter: '1' });
    expect((await post('/v1/messages', 3000)).status).toBe(529);
    // 3990 + 1500 bytes fit in 6000.
    expect((await post('/v1/chat/completions', 1500)).status).toBe(200);
    c.socket.write(first.slice(3990));
    await vi.waitFor(() => expect(statuses(c.raw())).toEqual(['200']), { timeout: 5000 });
    c.socket.destroy();
    await nothingHeld();
  });

  it('connections that declare bodies and send none hold nothing: every other client is served (the official SDK, no retry)', async () => {
    const reads = vi.spyOn(NodeIncoming.prototype, 'bytes');
    const idle = [head('/v1/chat/completions', 'chunked'), head('/v1/chat/completions', 4000), head('/v1/chat/completions', 4000), head('/v1/chat/completions', 'chunked')].map((bytes) => {
      const c = rawConnection(served.url);
      c.socket.write(bytes);
      return c;
    });
    try {
      // (Each of them is reading its body, its bytes counted from here: before this fix it reserved 4000 or 4096.)
      await vi.waitFor(() => expect(reads).toHaveBeenCalledTimes(4), { timeout: 5000 });
      const client = new OpenAI({ apiKey: secret, baseURL: `${served.url}/v1`, maxRetries: 0, timeout: 10_000 });
      for (let i = 0; i < 3; i++) {
        const answer = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'y'.repeat(3900) }] });
        expect(answer.choices[0]?.finish_reason).toBeDefined();
      }
    } finally {
      reads.mockRestore();
      for (const c of idle) c.socket.destroy();
    }
  });

  it('a body whose chunk does not fit beside the bytes received (chunked: no length to check first) is refused as it arrives', async () => {
    const c = await holding();
    try {
      const other = rawConnection(served.url);
      const body = chat(3000);
      other.socket.write(head('/v1/chat/completions', 'chunked') + `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
      await vi.waitFor(() => expect(statuses(other.raw())).toEqual(['503']), { timeout: 5000 });
      other.socket.destroy();
    } finally {
      c.socket.destroy();
    }
    await nothingHeld();
  });

  it('the bytes are given back whatever ends the read: the client leaving mid-body (direct, and through gateway.fetch: /v1/feedback), a 413 mid-read', async () => {
    for (const path of ['/v1/chat/completions', '/v1/feedback']) {
      const c = await holding(path);
      c.socket.destroy();
      await c.closed;
      await nothingHeld();
    }
    const c = await holding('/v1/chat/completions', 'chunked');
    const over = ' '.repeat(500);
    c.socket.write(`${over.length.toString(16)}\r\n${over}\r\n0\r\n\r\n`);
    await vi.waitFor(() => expect(statuses(c.raw())).toEqual(['413']), { timeout: 5000 });
    c.socket.destroy();
    await nothingHeld();
  });

  it('the request timeout (408) gives a stalled body its bytes back', async () => {
    const timed = await serveGateway(h.gateway, { port: 0, requestTimeoutMs: 800 });
    try {
      const c = rawConnection(timed.url);
      c.socket.write(head('/v1/chat/completions', 4000) + chat(4000).slice(0, 3990));
      await c.closed;
      expect(statuses(c.raw())).toEqual(['408']);
      await nothingHeld(timed.url);
    } finally {
      await timed.close(100);
    }
  });

  it('a small body refused by the budget is drained and its keep-alive connection serves the next request', async () => {
    const holder = await holding();
    const c = rawConnection(served.url);
    const body = chat(3000);
    c.socket.write(head('/v1/chat/completions', Buffer.byteLength(body)) + body);
    await vi.waitFor(() => expect(statuses(c.raw())).toEqual(['503']), { timeout: 5000 });
    expect(c.raw().toLowerCase()).not.toContain('connection: close');
    holder.socket.destroy();
    await nothingHeld();
    const small = chat(200);
    c.socket.write(head('/v1/chat/completions', Buffer.byteLength(small), 'connection: close\r\n') + small);
    await c.closed;
    expect(statuses(c.raw())).toEqual(['503', '200']);
  });

  it('Expect: 100-continue: 100 Continue goes out at once; a body the budget or a bad key refuses is then sent and answered (a small one keeps its connection), and a request pipelined behind it is answered', async () => {
    const holder = await holding();
    const c = rawConnection(served.url);
    try {
      const body = chat(3000);
      c.socket.write(head('/v1/chat/completions', Buffer.byteLength(body), 'expect: 100-continue\r\n'));
      // The 100 first (Java's HttpClient waits for it and hangs on a final answer without it: JDK-8286171), then the
      // refusal of its Content-Length; the client, told to continue, sends the body, which is read and dropped.
      await vi.waitFor(() => expect(statuses(c.raw())).toEqual(['100', '503']), { timeout: 5000 });
      expect(c.raw().toLowerCase()).not.toContain('connection: close');
      c.socket.write(body);
    } finally {
      holder.socket.destroy();
    }
    await nothingHeld();
    const small = chat(200);
    c.socket.write(head('/v1/chat/completions', Buffer.byteLength(small), 'connection: close\r\n') + small);
    await c.closed;
    expect(statuses(c.raw())).toEqual(['100', '503', '200']);
    // A bad key, the client sending its small body without waiting for the 100 (RFC 9110 10.1.1 allows it) and a request
    // pipelined behind it: the second is served and answered (its answer is not lost on a closed connection).
    const reads = vi.spyOn(NodeIncoming.prototype, 'bytes');
    try {
      const one = chat(300);
      const bad = rawConnection(served.url);
      bad.socket.write(
        head('/v1/chat/completions', Buffer.byteLength(one), 'expect: 100-continue\r\n').replace(`Bearer ${secret}`, 'Bearer llmrr_wrong') +
          one +
          head('/v1/chat/completions', Buffer.byteLength(one), 'connection: close\r\n') +
          one,
      );
      await bad.closed;
      expect({ statuses: statuses(bad.raw()), bodiesRead: reads.mock.calls.length }).toEqual({ statuses: ['100', '401', '200'], bodiesRead: 1 });
    } finally {
      reads.mockRestore();
    }
    await nothingHeld();
    const ok = rawConnection(served.url);
    const body = chat(3000);
    ok.socket.write(head('/v1/chat/completions', Buffer.byteLength(body), 'expect: 100-continue\r\nconnection: close\r\n'));
    await vi.waitFor(() => expect(statuses(ok.raw())).toEqual(['100']), { timeout: 5000 });
    ok.socket.write(body);
    await ok.closed;
    expect(statuses(ok.raw())).toEqual(['100', '200']);
  });
});

/** Runs a command to its end (never rejects): its exit code (-1 when it could not start or was killed), its output. */
const run = (cmd: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (e, stdout, stderr) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout, stderr }));
  });

/** A POST of a JSON body padded with spaces to argv[2] bytes, with Java's HttpClient and `expectContinue(true)`. */
const JAVA_CLIENT = `
import java.net.URI; import java.net.http.*; import java.time.Duration;
public class Exp { public static void main(String[] a) throws Exception {
  HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  byte[] body = new byte[Integer.parseInt(a[2])]; java.util.Arrays.fill(body, (byte) ' ');
  byte[] json = "{\\"model\\":\\"mock\\",\\"max_tokens\\":5,\\"messages\\":[{\\"role\\":\\"user\\",\\"content\\":\\"hi\\"}]}".getBytes();
  System.arraycopy(json, 0, body, 0, json.length);
  HttpRequest r = HttpRequest.newBuilder(URI.create(a[0])).expectContinue(true).timeout(Duration.ofSeconds(20))
    .header("authorization", "Bearer " + a[1]).header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
  HttpResponse<String> res = c.send(r, HttpResponse.BodyHandlers.ofString());
  System.out.println(res.statusCode() + " " + res.body());
} }`;

describe('Expect: 100-continue from real clients (curl, Java HttpClient), a 2 MiB body', () => {
  let h: Harness;
  let served: ServedGateway;
  let secret: string;
  let dir: string;
  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', routerOptions: { env: {} }, models: [mockModel('mock')] });
    ({ secret, served } = await serveWithKey(h));
    dir = mkdtempSync(join(tmpdir(), 'llmrr-expect-'));
    const json = JSON.stringify({ model: 'mock', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    writeFileSync(join(dir, 'body.json'), json + ' '.repeat(2 * 1024 * 1024));
    writeFileSync(join(dir, 'Exp.java'), JAVA_CLIENT);
  });
  afterAll(async () => {
    await served?.close(500);
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // (--expect100-timeout long, so curl's own 1 s timer does not hide a missing 100.)
  const curl = (path: string, key: string) =>
    run('curl', ['-sv', '--expect100-timeout', '30', '-H', 'expect: 100-continue', '-H', `authorization: Bearer ${key}`, '-H', 'content-type: application/json', '--data-binary', `@${join(dir, 'body.json')}`, '-w', '\n%{http_code}', `${served.url}${path}`]);

  it('curl: 100 Continue at once, then a good key the 200 and a bad key the full 401 error body (direct, and through gateway.fetch: /v1/feedback), no reset', async () => {
    const good = await curl('/v1/chat/completions', secret);
    expect(good.code).toBe(0);
    expect(good.stderr).toContain('HTTP/1.1 100 Continue');
    expect(good.stdout.trim().split('\n').at(-1)).toBe('200');
    for (const path of ['/v1/chat/completions', '/v1/feedback']) {
      const bad = await curl(path, 'llmrr_wrong');
      expect(bad.code, path).toBe(0);
      expect(bad.stderr, path).toContain('HTTP/1.1 100 Continue');
      const lines = bad.stdout.trim().split('\n');
      expect(lines.at(-1), path).toBe('401');
      expect(JSON.parse(lines.slice(0, -1).join('\n')).error.code, path).toBe('authentication');
    }
  });

  it('Java HttpClient with expectContinue(true) (waits for the 100: a final answer without it hangs it, JDK-8286171): a good key gets the 200, a bad key the 401', async ({ skip }) => {
    // Skipped where no JDK is installed (java with its source launcher, jdk.compiler): CI machines may have none.
    const modules = await run('java', ['--list-modules']);
    skip(modules.code !== 0 || !modules.stdout.includes('jdk.compiler'), 'no JDK on this machine (java --list-modules has no jdk.compiler)');
    const good = await run('java', [join(dir, 'Exp.java'), `${served.url}/v1/chat/completions`, secret, String(2 * 1024 * 1024)]);
    expect({ code: good.code, stderr: good.stderr }).toEqual({ code: 0, stderr: '' });
    expect(good.stdout).toMatch(/^200 /);
    const bad = await run('java', [join(dir, 'Exp.java'), `${served.url}/v1/chat/completions`, 'llmrr_wrong', String(2 * 1024 * 1024)]);
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({ code: 0, stderr: '' });
    expect(bad.stdout).toMatch(/^401 \{"error"/);
  }, 120_000);
});

describe('a request node:http cannot parse, pipelined behind requests it read whole', () => {
  let h: Harness;
  let served: ServedGateway;
  let secret: string;
  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', routerOptions: { env: {} }, models: [mockModel('slow', { delayMs: 200 })] });
    ({ secret, served } = await serveWithKey(h));
  });
  afterAll(async () => {
    await served?.close(500);
    await h?.close();
  });

  const chat = JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] });
  const call = () =>
    `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n\r\n${chat}`;
  // A space in a header name: llhttp refuses it (HPE_INVALID_HEADER_TOKEN).
  const bad = 'POST /v1/messages HTTP/1.1\r\nhost: gw\r\nbad header: x\r\n\r\n';
  const answers = (raw: string) => [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);

  it('the model calls before it get their own answers, then its 400 (in its own route\'s error shape) closes the connection', async () => {
    const c = rawConnection(served.url);
    c.socket.write(call() + call() + bad);
    await c.closed;
    const raw = c.raw();
    expect(answers(raw), raw.slice(0, 600)).toEqual(['200', '200', '400']);
    const last = raw.slice(raw.lastIndexOf('HTTP/1.1 400'));
    expect(last).toContain('connection: close\r\n');
    // The failing request was to /v1/messages: the Anthropic shape, naming the part that broke.
    const body = JSON.parse(last.slice(last.indexOf('\r\n\r\n') + 4)) as { type?: string; error: { code: string; param: string | null } };
    expect(body).toMatchObject({ type: 'error', error: { code: 'invalid_request', param: 'headers' } });
    // Both calls were served, not cut with the connection.
    await vi.waitFor(async () => expect((await h.stores!.ledger.query({ tenantId: 'acme', limit: 5 })).map((r) => r.status)).toEqual(['success', 'success']), { timeout: 5000 });
  });
});

describe('the request line, the method and the body framing at the edge (raw sockets)', () => {
  let h: Harness;
  let served: ServedGateway;
  let secret: string;
  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', routerOptions: { env: {} }, models: [mockModel('mock')], gateway: { cors: { origins: [ORIGIN] } } });
    ({ secret, served } = await serveWithKey(h));
  });
  afterAll(async () => {
    await served?.close(500);
    await h?.close();
  });

  const statuses = (raw: string) => [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  /** The answers on a connection, each with its head (lower-case) and body. */
  const answersOf = (raw: string) =>
    raw
      .split(/(?=HTTP\/1\.1 \d{3} )/)
      .filter((a) => a !== '')
      .map((a) => {
        const end = a.indexOf('\r\n\r\n');
        return { status: Number(a.slice(9, 12)), head: a.slice(0, end).toLowerCase(), body: a.slice(end + 4) };
      });
  const chat = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });

  it('a URL over node:http\'s 16 KB head limit is a 414 naming url (in its route\'s error shape, closing), not the 431 of large headers, which stays', async () => {
    const long = await rawExchange(served.url, rawRequest('GET', `/v1/models?q=${'a'.repeat(17 * 1024)}`, {}));
    expect({ status: long?.status, connection: long?.headers.connection }).toEqual({ status: 414, connection: 'close' });
    expect(errorOf(long!.body)).toMatchObject({ code: 'invalid_request', param: 'url', message: 'The request URL is too long' });
    const messages = await rawExchange(served.url, rawRequest('POST', `/v1/messages?q=${'a'.repeat(17 * 1024)}`, {}, '{}'));
    expect(messages?.status).toBe(414);
    expect(JSON.parse(messages!.body)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const cookie = await rawExchange(served.url, rawRequest('GET', '/v1/models', { cookie: 'a'.repeat(17 * 1024) }));
    expect({ status: cookie?.status, param: errorOf(cookie!.body).param }).toEqual({ status: 431, param: 'headers' });
  });

  it('a POST to a model route with neither Content-Length nor Transfer-Encoding is one 411 naming content-length that closes the connection (its body is never read as a request), served directly and through gateway.fetch', async () => {
    for (const extra of ['', `origin: ${ORIGIN}\r\n`]) {
      const c = rawConnection(served.url);
      c.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\n${extra}\r\n${chat}`);
      await c.closed;
      const answers = answersOf(c.raw());
      expect({ extra, statuses: answers.map((a) => a.status) }).toEqual({ extra, statuses: [411] });
      expect(answers[0]!.head).toContain('\r\nconnection: close');
      expect(errorOf(answers[0]!.body)).toMatchObject({ code: 'invalid_request', param: 'content-length' });
      if (extra) expect(answers[0]!.head).toContain(`access-control-allow-origin: ${ORIGIN.toLowerCase()}`);
    }
    // With Content-Length (0 too) or chunked, as before.
    const empty = await rawExchange(served.url, rawRequest('POST', '/v1/chat/completions', { authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'content-length': '0' }));
    expect({ status: empty?.status, code: errorOf(empty!.body).code }).toEqual({ status: 400, code: 'invalid_json' });
    const chunked = await rawExchange(
      served.url,
      rawRequest('POST', '/v1/chat/completions', { authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, `${Buffer.byteLength(chat).toString(16)}\r\n${chat}\r\n0\r\n\r\n`),
    );
    expect(chunked?.status).toBe(200);
  });

  it('a POST to another route without them is served with its empty body (a key revoke, as curl -X POST sends it), and its answer closes the connection', async () => {
    const c = rawConnection(served.url);
    c.socket.write(`POST /v1/feedback HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\n\r\n{"requestId":"x","score":1}`);
    await c.closed;
    const answers = answersOf(c.raw());
    expect(answers.map((a) => a.status)).toEqual([400]);
    expect(answers[0]!.head).toContain('\r\nconnection: close');
    expect(errorOf(answers[0]!.body).message).toMatch(/empty/);
  });

  it('CONNECT (a tunnel, asked of a proxy) is a 405 method_not_allowed with Allow and the error body, and the connection closes', async () => {
    const c = rawConnection(served.url);
    c.socket.write('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n');
    await c.closed;
    const answers = answersOf(c.raw());
    expect(answers.map((a) => a.status)).toEqual([405]);
    expect(answers[0]!.head).toContain('\r\nconnection: close');
    expect(answers[0]!.head).toContain('\r\nallow: get, head, post, put, patch, delete, options');
    expect(errorOf(answers[0]!.body)).toMatchObject({ code: 'method_not_allowed', param: 'method' });
  });

  it('CONNECT pipelined behind a model call is answered after that call\'s answer, which is not lost', async () => {
    const c = rawConnection(served.url);
    c.socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n\r\n${chat}` +
        'CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n',
    );
    await c.closed;
    const answers = answersOf(c.raw());
    expect(answers.map((a) => a.status)).toEqual([200, 405]);
    expect(JSON.parse(answers[0]!.body)).toMatchObject({ object: 'chat.completion' });
    expect(errorOf(answers[1]!.body)).toMatchObject({ code: 'method_not_allowed', param: 'method' });
  });

  it('CONNECT\'s connection is closed once its 405 is written, also when the client keeps its side open: close() does not wait for it', async () => {
    // (A server of its own over the same gateway, closed here: node:http has handed the socket over, out of its
    // connection list and timeouts, so only the answer's own close ends it.)
    const own = await serveGateway(h.gateway, { port: 0 });
    const u = new URL(own.url);
    // A client that does not close its side when the server does (a proxy client, a hostile one).
    const socket = connect({ host: u.hostname, port: Number(u.port), allowHalfOpen: true });
    try {
      let raw = '';
      socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
      socket.on('error', () => {});
      socket.write('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n');
      await vi.waitFor(() => expect(raw).toMatch(/^HTTP\/1\.1 405 /), { timeout: 5000 });
      const closing = own.close(50).then(() => 'closed' as const);
      const guard = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 8000).unref());
      expect(await Promise.race([closing, guard])).toBe('closed');
    } finally {
      socket.destroy();
      await own.close(0);
    }
  });

  it('OPTIONS * (about the server) is a 200 with Allow and no body, keeping the connection; another method on * stays a 400', async () => {
    const c = rawConnection(served.url);
    c.socket.write('OPTIONS * HTTP/1.1\r\nhost: gw\r\n\r\nGET /health HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n');
    await c.closed;
    const answers = answersOf(c.raw());
    expect(answers.map((a) => a.status), c.raw()).toEqual([200, 200]);
    expect(answers[0]!.head).toContain('\r\nallow: get, head, post, put, patch, delete, options');
    expect(answers[0]!.head).toContain('\r\ncontent-length: 0');
    expect(answers[0]!.body).toBe('');
    const get = await rawExchange(served.url, 'GET * HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n');
    expect({ status: get?.status, code: errorOf(get!.body).code }).toEqual({ status: 400, code: 'invalid_request' });
    expect(statuses(c.raw())).toHaveLength(2);
  });
});

const BIG = 'x'.repeat(200_000);

// node:http hands a CONNECT's socket over: it stops reading it and passing `drain` on to the answer being written
// (`answerConnect` does both now).
describe('a CONNECT pipelined behind an answer still being made', () => {
  let h: Harness | undefined;
  let served: ServedGateway | undefined;
  afterEach(async () => {
    await served?.close(0);
    await h?.close();
    h = undefined;
    served = undefined;
  });

  async function streamedThen(tail: string): Promise<{ done: boolean; raw: string }> {
    h = await createHarness({ stores: 'memory', models: [mockModel('big', { reply: BIG })] });
    const s = await serveWithKey(h);
    served = s.served;
    const chat = JSON.stringify({ model: 'big', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const c = rawConnection(served.url);
    c.socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${s.secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n\r\n${chat}` + tail,
    );
    // The client reads everything (rawConnection's 'data' listener); the stream ends with [DONE], then the connection closes.
    const guard = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000).unref());
    const outcome = await Promise.race([c.closed.then(() => 'closed' as const), guard]);
    const raw = c.raw();
    c.socket.destroy();
    return { done: outcome === 'closed' && raw.includes('data: [DONE]'), raw };
  }

  it('a stream ahead of it (a piece over the socket\'s 16 KB) is written to its end, then the 405', async () => {
    const { done, raw } = await streamedThen('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n');
    expect({ done, bytes: raw.length > BIG.length, statuses: [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]) }).toEqual({
      done: true,
      bytes: true,
      statuses: ['200', '405'],
    });
  });
});

describe('a client that leaves while a call is in flight ahead of its pipelined CONNECT', () => {
  let started: { gw: SdkGateway; upstreams: WireUpstreams } | undefined;
  afterEach(async () => {
    await started?.gw.close();
    started = undefined;
  });

  /** Pipelines a call to a hanging upstream and `tail`, then leaves once the call is in flight: is the call cancelled upstream? */
  async function leaves(tail: string): Promise<'cancelled' | 'still running'> {
    started = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gpt')]);
    const { gw, upstreams } = started;
    upstreams.openai.setScript({ hang: true });
    const chat = JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] });
    const c = rawConnection(gw.url);
    c.socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${gw.secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n\r\n${chat}` + tail,
    );
    await vi.waitFor(() => expect(upstreams.openai.requests.length).toBe(1), { timeout: 5000 });
    c.socket.destroy();
    try {
      await vi.waitFor(() => expect(upstreams.openai.responsesAborted).toBe(1), { timeout: 8000 });
      return 'cancelled';
    } catch {
      return 'still running';
    }
  }

  it('is noticed: the call is cancelled upstream, as with any request pipelined behind it', async () => {
    expect(await leaves('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n')).toBe('cancelled');
  });
});
