import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';
import { send } from '../test-support/raw-http.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

// Review of 7be8ebb: the Node adapter's `pipe` path against the web (`frames.next()`) path, on real sockets.

const QUIRKY = 'd\u00e9"pl\\oy\u2028\u00fc';
const BIG_WORDS = 20_000;

let h: Harness;
let served: ServedGateway;
let secret: string;

beforeAll(async () => {
  h = await createHarness({
    stores: 'memory',
    models: [
      mockModel(QUIRKY, { reply: 'h\u00e9llo "w\\orld" \u2028 \ud83d\ude42 </script> end' }),
      mockModel('tooly', { toolArguments: { q: 'a "b" \\ \u2028 \u00e9' } }),
      mockModel('big', { reply: Array.from({ length: BIG_WORDS }, () => 'x'.repeat(2000)).join(' ') }),
      mockModel('slow', { chunkDelayMs: 40, reply: Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ') }),
    ],
  });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 100_000 } });
  secret = (await h.stores!.tenants.createKey('acme', { name: 'test' })).secret;
  served = await serveGateway(h.gateway, { port: 0 });
});
afterAll(async () => {
  await served?.close(1000);
  await h?.close();
});

const auth = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${secret}`, 'content-type': 'application/json', ...extra });

/** The answer's own request id and timestamps/latencies replaced, so two answers compare byte for byte. */
function normalize(body: string, requestId: string): string {
  return body
    .split(requestId)
    .join('REQ')
    .replace(/"created":\d+/g, '"created":0')
    .replace(/"created_at":\d+/g, '"created_at":0')
    .replace(/"latency_ms":[\d.]+/g, '"latency_ms":0')
    .replace(/"stats":\{[^}]*\}/g, '"stats":{}')
    .replace(/"decisionUs":[\d.]+/g, '"decisionUs":0')
    .replace(/call_mock_\d+/g, 'call_mock_N');
}

async function viaFetch(path: string, body: string, headers: Record<string, string>): Promise<{ status: number; requestId: string; body: string }> {
  const res = await h.gateway.fetch(new Request(`http://gateway.test${path}`, { method: 'POST', headers, body }));
  return { status: res.status, requestId: res.headers.get('x-request-id')!, body: await res.text() };
}

async function ledgerEntry(requestId: string) {
  let entry;
  for (let i = 0; i < 200 && !entry; i++) {
    entry = await h.stores!.ledger.get(requestId);
    if (!entry) await new Promise((r) => setTimeout(r, 20));
  }
  return entry;
}

describe('the Node pipe path sends the bytes the web path sends', () => {
  const chat = { model: QUIRKY, messages: [{ role: 'user', content: 'hi' }], stream: true };
  const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];
  const cases: Array<{ name: string; path: string; body: unknown; headers?: Record<string, string> }> = [
    { name: 'chat', path: '/v1/chat/completions', body: chat },
    { name: 'chat include_usage + explain', path: '/v1/chat/completions', body: { ...chat, stream_options: { include_usage: true } }, headers: { 'x-llmrr-explain': 'true' } },
    { name: 'chat logprobs', path: '/v1/chat/completions', body: { ...chat, logprobs: true, top_logprobs: 1, stream_options: { include_usage: true } } },
    { name: 'chat tool call', path: '/v1/chat/completions', body: { ...chat, model: 'tooly', tools, stream_options: { include_usage: true } } },
    { name: 'legacy completion', path: '/v1/completions', body: { model: QUIRKY, prompt: 'hi', stream: true } },
    { name: 'legacy completion include_usage + logprobs', path: '/v1/completions', body: { model: QUIRKY, prompt: 'hi', stream: true, logprobs: 1, stream_options: { include_usage: true } } },
    { name: 'anthropic messages', path: '/v1/messages', body: { model: QUIRKY, max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] } },
  ];
  it.each(cases)('$name', async ({ path, body, headers }) => {
    const text = JSON.stringify(body);
    const wire = await send(served.url, 'POST', path, text, auth(headers));
    const web = await viaFetch(path, text, auth(headers));
    expect(wire.status).toBe(200);
    expect(web.status).toBe(200);
    const a = normalize(wire.body, wire.headers['x-request-id'] as string);
    const b = normalize(web.body, web.requestId);
    expect(a.length).toBeGreaterThan(100);
    expect(a).toBe(b);
  });
});

describe('the Node pipe path and a client that goes away', () => {
  it('a client that stops reading and then leaves while the gateway waits for drain: settled once as aborted, promptly', async () => {
    const u = new URL(served.url);
    let requestId = '';
    const left = Date.now();
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: auth() }, (res: IncomingMessage) => {
        requestId = res.headers['x-request-id'] as string;
        res.pause();
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 500);
      });
      req.on('error', () => {});
      req.on('close', () => {});
      setTimeout(() => reject(new Error('no answer head')), 5000);
      req.end(JSON.stringify({ model: 'big', stream: true, messages: [{ role: 'user', content: 'a lot' }] }));
    });
    const entry = await ledgerEntry(requestId);
    expect(entry).toMatchObject({ status: 'aborted', stream: true, deployment: 'big' });
    // An aborted stream's output is estimated from the text produced (about 4 characters a token): 40 MB of
    // answer would be 10 M; a paused reader holds the stream back to what the socket buffers take.
    expect(entry!.outputTokens).toBeLessThan((BIG_WORDS * 2001) / 4 / 4);
    expect(entry!.createdAt + entry!.latencyMs).toBeLessThan(left + 3000);
  });

  it('a client that leaves as soon as it has [DONE]: one success in the ledger', async () => {
    const u = new URL(served.url);
    const requestId = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: auth() }, (res: IncomingMessage) => {
        let seen = '';
        res.setEncoding('utf8');
        res.on('data', (t: string) => {
          seen += t;
          if (seen.includes('data: [DONE]')) {
            req.destroy();
            resolve(res.headers['x-request-id'] as string);
          }
        });
      });
      req.on('error', () => {});
      setTimeout(() => reject(new Error('no [DONE]')), 5000);
      req.end(JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    });
    const entry = await ledgerEntry(requestId);
    expect(entry).toMatchObject({ status: 'success', stream: true, deployment: 'slow' });
  });

  it('a client that leaves while a part is awaited: aborted, the upstream stopped early', async () => {
    const u = new URL(served.url);
    const requestId = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: auth() }, (res: IncomingMessage) => {
        res.once('data', () => {
          setTimeout(() => {
            req.destroy();
            resolve(res.headers['x-request-id'] as string);
          }, 100);
        });
      });
      req.on('error', () => {});
      setTimeout(() => reject(new Error('no data')), 5000);
      req.end(JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    });
    const entry = await ledgerEntry(requestId);
    expect(entry).toMatchObject({ status: 'aborted', stream: true, deployment: 'slow' });
    expect(entry!.outputTokens).toBeLessThan(40);
  });

  it('30 streams on one keep-alive connection leave no listeners on the server-side socket', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<import('node:net').Socket>();
    const onConnection = (s: import('node:net').Socket) => sockets.add(s);
    served.server.on('connection', onConnection);
    try {
      const counts: number[] = [];
      for (let i = 0; i < 30; i++) {
        const u = new URL(served.url);
        await new Promise<void>((resolve, reject) => {
          const req = httpRequest({ host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: auth(), agent }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.end(JSON.stringify({ model: QUIRKY, stream: true, messages: [{ role: 'user', content: 'hi' }] }));
        });
        const [s] = [...sockets];
        counts.push(s!.listenerCount('close') + s!.listenerCount('drain') + s!.listenerCount('end') + s!.listenerCount('error'));
      }
      expect(sockets.size).toBe(1);
      expect(counts[29]).toBe(counts[2]);
    } finally {
      served.server.off('connection', onConnection);
      agent.destroy();
    }
  });
});
