import { LLMRouter, toLLMError } from '@llmrr/core';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway } from './serve-gateway.js';
import { createUpstreamFetch, type UpstreamFetch } from './upstream-fetch.js';

/**
 * Answers the WHATWG `Response` constructor refuses (a status outside 200-599, a reason phrase with characters
 * past U+00FF or control characters) and interim answers: llhttp (and so undici) takes any 3-digit status and
 * any bytes in the reason phrase, as a provider, a proxy in front of it or a self-hosted server may send them.
 * `createUpstreamFetch` settles on every one of them: a status past 599 rejects as a network error (the router
 * retries it), a reason phrase loses the characters a `Response` refuses, an interim answer is skipped.
 * The peer is raw TCP: node:http cannot write these status lines.
 */
const OVERLOADED = '{"error":{"message":"overloaded","type":"server_error"}}';
const OK_JSON = '{"ok":true}';
const answers: Record<string, Buffer> = {
  // A status past 599 (some CDNs and proxies use them, e.g. 999).
  '/s600': Buffer.from('HTTP/1.1 600 Weird\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}'),
  '/s999-sse': Buffer.from('HTTP/1.1 999 Request denied\r\ncontent-type: text/event-stream\r\ncontent-length: 14\r\n\r\ndata: [DONE]\n\n'),
  // A reason phrase in Latin-1 ("indisponible" then the byte 0xE9): undici decodes it as UTF-8, so it becomes U+FFFD.
  '/latin1': Buffer.concat([
    Buffer.from('HTTP/1.1 503 Service indisponible '),
    Buffer.from([0xe9]),
    Buffer.from(`\r\ncontent-type: application/json\r\ncontent-length: ${OVERLOADED.length}\r\n\r\n${OVERLOADED}`),
  ]),
  // 103 Early Hints before the answer (RFC 8297; CDNs such as Cloudflare send them): an interim answer to skip.
  '/early-hints': Buffer.from(`HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${OK_JSON.length}\r\n\r\n${OK_JSON}`),
  // A reason phrase in UTF-8 on an SSE answer (the streamed branch): two characters a `Response` takes, one it refuses.
  '/utf8-sse': Buffer.concat([Buffer.from('HTTP/1.1 200 OK '), Buffer.from('\u00e9\u00e9\u4e2d', 'utf8'), Buffer.from('\r\ncontent-type: text/event-stream\r\ncontent-length: 14\r\n\r\ndata: [DONE]\n\n')]),
};

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((socket) => {
    let head = '';
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const m = /^[A-Z]+ (\/[^/\s]*)/.exec(head);
      if (m && head.includes('\r\n\r\n')) socket.end(answers[m[1]!] ?? Buffer.from('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

/** `p`'s outcome, or `hang` when it has not settled after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'hang'> {
  return Promise.race([p, new Promise<'hang'>((resolve) => setTimeout(() => resolve('hang'), ms).unref())]);
}

const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };

describe('createUpstreamFetch: answers a Response cannot carry as they are', () => {
  let f: UpstreamFetch;
  beforeAll(() => {
    f = createUpstreamFetch();
  });
  afterAll(() => f.close());

  it('skips an interim answer (103 Early Hints) and answers the final one', async () => {
    const res = await within(f(`${base}/early-hints`, init), 3000);
    expect(res).not.toBe('hang');
    const r = res as Response;
    expect([r.status, r.statusText, await r.json()]).toEqual([200, 'OK', { ok: true }]);
  });

  it('rejects a status past 599 as a network error (TypeError), which the router retries', async () => {
    for (const path of ['/s600', '/s999-sse']) {
      const outcome = await within(
        f(`${base}${path}`, init).then(
          () => 'resolved',
          (e: unknown) => e,
        ),
        3000,
      );
      expect(outcome, path).toBeInstanceOf(TypeError);
      expect(String(outcome)).toMatch(/fetch failed: the upstream answered status (600|999), outside 200-599/);
      const mapped = toLLMError(outcome, { provider: 'openai' });
      expect([mapped.code, mapped.isRetryable]).toEqual(['network_error', true]);
    }
  });

  it('keeps the status and the body of an answer whose reason phrase has a Latin-1 byte, dropping the U+FFFD', async () => {
    // Global fetch answers with the reason phrase as undici decoded it.
    const global = await fetch(`${base}/latin1`, init);
    expect([global.status, global.statusText, await global.text()]).toEqual([503, 'Service indisponible \ufffd', OVERLOADED]);
    const res = await within(f(`${base}/latin1`, init), 3000);
    expect(res).not.toBe('hang');
    const r = res as Response;
    expect([r.status, r.statusText, await r.text()]).toEqual([503, 'Service indisponible ', OVERLOADED]);
  });

  it('streams an SSE answer whose reason phrase has a character past U+00FF, keeping the Latin-1 ones', async () => {
    const res = await within(f(`${base}/utf8-sse`, init), 3000);
    expect(res).not.toBe('hang');
    const r = res as Response;
    expect([r.status, r.statusText, await r.text()]).toEqual([200, 'OK \u00e9\u00e9', 'data: [DONE]\n\n']);
  });
});

describe('a gateway on createUpstreamFetch, with such a provider', () => {
  async function ask(path: string): Promise<{ status: number; body: { error?: { code?: string } } } | 'hang'> {
    const f = createUpstreamFetch();
    const router = new LLMRouter(
      { models: [{ name: 'm', engine: 'openai-compatible', baseURL: `${base}${path}`, apiKey: 'sk', model: 'm' }], routing: { retries: { max: 0 } } },
      { fetch: f },
    );
    const gateway = createGateway({ router, log: () => {} });
    const served = await serveGateway(gateway, { port: 0 });
    const ac = new AbortController();
    try {
      return await within(
        fetch(`${served.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
          signal: ac.signal,
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code?: string } } })),
        5000,
      );
    } finally {
      ac.abort();
      await served.close(200);
      await gateway.close();
      await router.close();
      await f.close();
    }
  }

  it('answers the provider\'s 503 at once instead of waiting forever', async () => {
    const out = await ask('/latin1');
    expect(out).not.toBe('hang');
    expect(out).toMatchObject({ status: 503 });
  });

  it('answers a provider status past 599 as a network error', async () => {
    const out = await ask('/s600');
    expect(out).toMatchObject({ status: 502, body: { error: { code: 'network_error' } } });
  });
});
