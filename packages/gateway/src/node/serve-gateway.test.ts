import { getEventListeners } from 'node:events';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../types.js';
import { createHarness, mockModel, parseSse, type Harness } from '../test-support/harness.js';
import { send, type WireAnswer } from '../test-support/raw-http.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

type Answer = WireAnswer;

/** The same exchange through `gateway.fetch` (the web-standard path). */
async function viaFetch(gateway: Gateway, method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await gateway.fetch(new Request(`http://gateway.test${path}`, { method, headers, ...(body !== undefined ? { body } : {}) }));
  const out: IncomingHttpHeaders = {};
  res.headers.forEach((v, k) => (out[k] = v));
  return { status: res.status, headers: out, body: await res.text() };
}

const VOLATILE = new Set(['id', 'created', 'created_at', 'item_id', 'request_id', 'requestId', 'latency_ms', 'latencyMs']);

/** JSON with per-request values (ids, timestamps, latencies) blanked, for comparing two answers. */
function stable(text: string): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, VOLATILE.has(k) ? '*' : strip(x)]));
  };
  if (text.startsWith('event:') || text.startsWith('data:')) {
    return parseSse(text).map((f) => ({ event: f.event, data: f.data === '[DONE]' ? f.data : strip(JSON.parse(f.data)) }));
  }
  return strip(JSON.parse(text));
}

const HEADERS = ['content-type', 'x-llmrr-model', 'x-llmrr-cache', 'x-llmrr-cost-usd', 'retry-after', 'cache-control', 'x-ratelimit-limit'];

describe('serveGateway: the Node direct path answers exactly as gateway.fetch', () => {
  let h: Harness;
  let served: ServedGateway;
  let secret: string;
  let fetchCalls = 0;

  beforeAll(async () => {
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('mock'), mockModel('slow', { chunkDelayMs: 40, reply: Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ') }), mockModel('late', { delayMs: 4000 })],
      gateway: { limits: { maxBodyBytes: 4096 } },
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 10_000 } });
    secret = (await h.stores!.tenants.createKey('acme', { name: 'test' })).secret;
    // Counts the requests that go through gateway.fetch (the Hono app) instead of the direct path.
    const counted: Gateway = { ...h.gateway, fetch: (request, env) => (fetchCalls++, h.gateway.fetch(request, env)) };
    served = await serveGateway(counted, { port: 0 });
  });
  afterAll(async () => {
    await served?.close(1000);
    await h?.close();
  });

  const auth = () => ({ authorization: `Bearer ${secret}`, 'content-type': 'application/json' });
  const chat = { model: 'mock', messages: [{ role: 'user', content: 'hello there' }] };
  /** POSTs a chat body on `agent`'s keep-alive connection; resolves with the status once the answer is read in full. */
  const postOn = (agent: Agent, body: unknown) =>
    new Promise<number>((resolve, reject) => {
      const u = new URL(served.url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: auth(), agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  /** The connection abort signal the gateway keeps on a server-side socket. */
  const signalOf = (s: Socket) => {
    const key = Object.getOwnPropertySymbols(s).find((k) => k.description === 'llmrr.connectionSignal')!;
    return (s as unknown as Record<symbol, AbortController>)[key]!.signal;
  };
  const cases: Array<{ name: string; path: string; body: string | Uint8Array; headers?: () => Record<string, string> }> = [
    { name: 'chat completion', path: '/v1/chat/completions', body: JSON.stringify(chat) },
    { name: 'streamed chat with usage', path: '/v1/chat/completions', body: JSON.stringify({ ...chat, stream: true, stream_options: { include_usage: true } }) },
    { name: 'legacy completion, streamed', path: '/v1/completions', body: JSON.stringify({ model: 'mock', prompt: 'once upon', stream: true }) },
    { name: 'response', path: '/v1/responses', body: JSON.stringify({ model: 'mock', input: 'hello there' }) },
    { name: 'response, streamed', path: '/v1/responses', body: JSON.stringify({ model: 'mock', input: 'hello there', stream: true }) },
    { name: 'anthropic message, streamed', path: '/v1/messages', body: JSON.stringify({ ...chat, max_tokens: 50, stream: true }) },
    { name: 'embeddings', path: '/v1/embeddings', body: JSON.stringify({ model: 'mock', input: ['a', 'b'] }) },
    { name: '/api/quick', path: '/api/quick', body: JSON.stringify({ prompt: 'hi' }) },
    { name: 'malformed JSON', path: '/v1/chat/completions', body: '{"model": "mock", "messages": [' },
    { name: 'invalid UTF-8', path: '/v1/chat/completions', body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
    { name: 'wrong content type', path: '/v1/chat/completions', body: 'model=mock', headers: () => ({ ...auth(), 'content-type': 'application/x-www-form-urlencoded' }) },
    { name: 'unknown model', path: '/v1/chat/completions', body: JSON.stringify({ ...chat, model: 'gpt-17' }) },
    { name: 'no API key', path: '/v1/chat/completions', body: JSON.stringify(chat), headers: () => ({ 'content-type': 'application/json' }) },
    { name: 'anthropic error style', path: '/v1/messages', body: JSON.stringify({ model: 'mock', messages: chat.messages }) },
  ];

  it.each(cases)('$name', async (c) => {
    const headers = c.headers?.() ?? auth();
    const before = fetchCalls;
    const node = await send(served.url, 'POST', c.path, c.body, headers);
    expect(fetchCalls, 'served by the direct path').toBe(before);
    const web = await viaFetch(h.gateway, 'POST', c.path, c.body, headers);
    expect(node.status).toBe(web.status);
    for (const name of HEADERS) expect(node.headers[name], name).toBe(web.headers[name]);
    expect(node.headers['x-request-id']).toMatch(/^req_[0-9a-f]{32}$/);
    expect(stable(node.body)).toEqual(stable(web.body));
  });

  it("keys the header, body and ledger by its own id, echoing a client's x-request-id as x-client-request-id", async () => {
    const res = await send(served.url, 'POST', '/v1/chat/completions?trace=1', JSON.stringify(chat), { ...auth(), 'x-request-id': 'client-id.42' });
    expect(res.status).toBe(200);
    const own = res.headers['x-request-id'] as string;
    expect(own).toMatch(/^req_[0-9a-f]{32}$/);
    expect(res.headers['x-client-request-id']).toBe('client-id.42');
    expect(JSON.parse(res.body).llmrr.request_id).toBe(own);
    expect(await h.stores!.ledger.get(own)).toMatchObject({ status: 'success', tenantId: 'acme' });
    expect(await h.stores!.ledger.get('client-id.42')).toBeUndefined();
  });

  it('other routes go through gateway.fetch', async () => {
    const before = fetchCalls;
    const models = await send(served.url, 'GET', '/v1/models', undefined, auth());
    expect(models.status).toBe(200);
    expect((await send(served.url, 'GET', '/v1/chat/completions')).status).toBe(405);
    expect(fetchCalls).toBe(before + 2);
  });

  it('refuses an oversized body by Content-Length or while reading, and closes that connection', async () => {
    // A refused request with a small declared body keeps its connection (the rest is read and dropped).
    const small = await send(served.url, 'POST', '/v1/chat/completions', JSON.stringify({ ...chat, messages: [{ role: 'user', content: 'x'.repeat(5000) }] }), auth());
    expect(small.status).toBe(413);
    expect(small.headers.connection).toBe('keep-alive');
    const big = JSON.stringify({ ...chat, messages: [{ role: 'user', content: 'x'.repeat(100_000) }] });
    const declared = await send(served.url, 'POST', '/v1/chat/completions', big, auth());
    expect(declared.status).toBe(413);
    expect(declared.headers.connection).toBe('close');
    expect(JSON.parse(declared.body).error).toMatchObject({ code: 'payload_too_large', param: 'body' });
    const chunked = await new Promise<Answer>((resolve, reject) => {
      const u = new URL(served.url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: auth() }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      // No Content-Length: chunked; more than the limit in pieces.
      for (let i = 0; i < 5; i++) req.write('x'.repeat(1500));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).error.code).toBe('payload_too_large');
  });

  it('a client that goes away mid-stream stops the upstream call, and the ledger says aborted', async () => {
    const u = new URL(served.url);
    let requestId = '';
    const firstBytes = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        { host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: auth() },
        (res) => {
          requestId = res.headers['x-request-id'] as string;
          res.once('data', (d: Buffer) => {
            req.destroy();
            resolve(d.toString('utf8'));
          });
        },
      );
      req.on('error', () => {});
      req.end(JSON.stringify({ ...chat, model: 'slow', stream: true }));
      setTimeout(() => reject(new Error('no first bytes')), 5000).unref();
    });
    expect(firstBytes).toContain('chat.completion.chunk');
    let entry;
    for (let i = 0; i < 100 && !entry; i++) {
      entry = await h.stores!.ledger.get(requestId);
      if (!entry) await new Promise((r) => setTimeout(r, 20));
    }
    expect(entry).toMatchObject({ status: 'aborted', stream: true, deployment: 'slow' });
    // 40 words 40 ms apart would take 1.6 s: stopping early leaves most of them unsent.
    expect(entry!.outputTokens).toBeLessThan(40);
  });
  it('a client that goes away before a JSON answer stops the upstream call, and the ledger says aborted', async () => {
    const u = new URL(served.url);
    const sent = Date.now();
    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: auth() }, () => {});
      req.on('error', () => {});
      req.end(JSON.stringify({ ...chat, model: 'late' }));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 150);
    });
    let entry;
    for (let i = 0; i < 150 && !entry; i++) {
      [entry] = await h.stores!.ledger.query({ tenantId: 'acme', model: 'late' });
      if (!entry) await new Promise((r) => setTimeout(r, 20));
    }
    expect(entry).toMatchObject({ status: 'aborted', stream: false, model: 'late' });
    // Settled when the client left, not when the 4 s upstream delay ran out.
    expect(entry!.createdAt + entry!.latencyMs).toBeLessThan(sent + 3500);
  });

  it('many requests on one keep-alive connection leave nothing listening on its abort signal', async () => {
    const sockets: Socket[] = [];
    const onConnection = (s: Socket) => sockets.push(s);
    served.server.on('connection', onConnection);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 30; i++) expect(await postOn(agent, i % 3 === 2 ? { ...chat, stream: true } : chat)).toBe(200);
      expect(sockets).toHaveLength(1);
      const signal = signalOf(sockets[0]!);
      expect(signal.aborted).toBe(false);
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    } finally {
      served.server.off('connection', onConnection);
      agent.destroy();
    }
  });

  it('a connection closed after its last answer is complete leaves its signal unaborted; one closed mid-stream aborts it', async () => {
    const u = new URL(served.url);
    const closed = (s: Socket) => new Promise<void>((resolve) => (s.destroyed && s.closed ? resolve() : s.once('close', () => resolve())));
    const sockets: Socket[] = [];
    const onConnection = (s: Socket) => sockets.push(s);
    served.server.on('connection', onConnection);
    try {
      // Answered in full (a JSON answer, then a stream on the same connection), then the client closes.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      expect(await postOn(agent, chat)).toBe(200);
      expect(await postOn(agent, { ...chat, stream: true })).toBe(200);
      expect(sockets).toHaveLength(1);
      const done = sockets[0]!;
      agent.destroy();
      await closed(done);
      expect(signalOf(done).aborted).toBe(false);

      // Closed while the stream is still being sent: the signal aborts with the client's-gone reason.
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest({ host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: auth() }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => {});
        req.end(JSON.stringify({ ...chat, model: 'slow', stream: true }));
        setTimeout(() => reject(new Error('no first bytes')), 5000).unref();
      });
      expect(sockets).toHaveLength(2);
      const cut = sockets[1]!;
      await closed(cut);
      const signal = signalOf(cut);
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toMatchObject({ name: 'AbortError', message: 'The client closed the connection' });
    } finally {
      served.server.off('connection', onConnection);
    }
  });

  it('an auth failure on the direct path is audited with the client address', async () => {
    const res = await send(served.url, 'POST', '/v1/chat/completions', JSON.stringify(chat), { authorization: 'Bearer llmrr_not-a-real-key-at-all', 'content-type': 'application/json' });
    expect(res.status).toBe(401);
    const rows = await h.stores!.audit.list({ action: 'auth.failure' });
    const row = rows.find((r) => r.details?.requestId === res.headers['x-request-id']);
    expect(row).toMatchObject({ ip: '127.0.0.1' });
  });
});

describe('serveGateway with CORS on', () => {
  let h: Harness;
  let served: ServedGateway;
  let fetchCalls = 0;
  beforeAll(async () => {
    h = await createHarness({ models: [mockModel('mock')], gateway: { cors: { origins: ['https://app.example.com'] } } });
    served = await serveGateway({ ...h.gateway, fetch: (request, env) => (fetchCalls++, h.gateway.fetch(request, env)) }, { port: 0 });
  });
  afterAll(async () => {
    await served?.close(1000);
    await h?.close();
  });

  it('a browser request (with Origin) goes through the app and gets CORS headers; a server request takes the direct path', async () => {
    const body = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
    const browser = await send(served.url, 'POST', '/v1/chat/completions', body, { 'content-type': 'application/json', origin: 'https://app.example.com' });
    expect(browser.status).toBe(200);
    expect(browser.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(fetchCalls).toBe(1);
    const server = await send(served.url, 'POST', '/v1/chat/completions', body, { 'content-type': 'application/json' });
    expect(server.status).toBe(200);
    expect(fetchCalls).toBe(1);
  });
});
