/**
 * createUpstreamFetch rejects as global fetch does (a TypeError 'fetch failed', which the router takes for a
 * retryable network error and the gateway answers as 502 network_error) when an upstream answers 101 Switching
 * Protocols to a request that asked no upgrade, and when a provider drops the connection without answering
 * (undici's own SocketError, or its assertion on the 101, reached the router raw: a 500 `internal`).
 */
import { LLMRouter, toLLMError } from '@llmrr/core';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway } from './serve-gateway.js';
import { createUpstreamFetch } from './upstream-fetch.js';

const answers: Record<string, string> = {
  // A provider (or a proxy in front of it) switching protocols on a plain POST.
  '/101': 'HTTP/1.1 101 Switching Protocols\r\n\r\n',
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
      if (m?.[1] === '/drop' && head.includes('\r\n\r\n')) socket.destroy();
      else if (m && head.includes('\r\n\r\n')) socket.end(answers[m[1]!] ?? 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };

describe('createUpstreamFetch: an upstream 101 on a request that asked no upgrade', () => {
  it('rejects as a network error, as global fetch does (the router retries it)', async () => {
    const viaGlobal = await fetch(`${base}/101`, init).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    expect(viaGlobal).toBeInstanceOf(TypeError);
    expect(toLLMError(viaGlobal, { provider: 'openai' }).code).toBe('network_error');

    const f = createUpstreamFetch();
    try {
      const outcome = await f(`${base}/101`, init).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      const mapped = toLLMError(outcome, { provider: 'openai' });
      expect([mapped.code, mapped.isRetryable, String(outcome)]).toEqual(['network_error', true, expect.stringMatching(/^TypeError: fetch failed/)]);
    } finally {
      await f.close();
    }
  });

  it('a gateway on it answers 502 network_error, as for a status past 599', async () => {
    expect(await askGateway('/101')).toMatchObject({ status: 502, body: { error: { code: 'network_error' } } });
  });
});

describe('createUpstreamFetch: a provider that drops the connection without answering', () => {
  it('rejects as a network error, as global fetch does', async () => {
    const f = createUpstreamFetch();
    try {
      const viaGlobal = await fetch(`${base}/drop`, init).then(() => 'resolved', (e: unknown) => e);
      const outcome = await f(`${base}/drop`, init).then(() => 'resolved', (e: unknown) => e);
      expect(toLLMError(viaGlobal, { provider: 'openai' }).code).toBe('network_error');
      expect([toLLMError(outcome, { provider: 'openai' }).code, String(outcome)]).toEqual(['network_error', expect.stringMatching(/^TypeError/)]);
    } finally {
      await f.close();
    }
  });

  it('a gateway on it answers 502 network_error', async () => {
    expect(await askGateway('/drop')).toMatchObject({ status: 502, body: { error: { code: 'network_error' } } });
  });
});

async function askGateway(path: string): Promise<{ status: number; body: { error?: { code?: string; message?: string } } }> {
    const f = createUpstreamFetch();
    const router = new LLMRouter(
      { models: [{ name: 'm', engine: 'openai-compatible', baseURL: `${base}${path}`, apiKey: 'sk', model: 'm' }], routing: { retries: { max: 0 } } },
      { fetch: f },
    );
    const gateway = createGateway({ router, log: () => {} });
    const served = await serveGateway(gateway, { port: 0 });
    try {
      const r = await fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      });
      return { status: r.status, body: (await r.json()) as { error?: { code?: string; message?: string } } };
    } finally {
      await served.close(200);
      await gateway.close();
      await router.close();
      await f.close();
    }
}
