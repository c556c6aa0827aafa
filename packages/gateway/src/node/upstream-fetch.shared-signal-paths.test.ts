/**
 * `createUpstreamFetch` carries `RELEASES_ABORT_LISTENERS`, so the router hands the openai-compatible engine the
 * caller's signal itself and does not race the call against its abort: the fetch settles at once on an abort wherever
 * its request stands (waiting for a pool connection, its connection being opened), sends nothing after it, and leaves
 * no listener on the signal: under a router also for a redirecting upstream (the engine sends `redirect: 'manual'`,
 * follows a same-origin hop itself and refuses one to another origin), and by itself also on the paths it hands to
 * Node's own `fetch` (a redirect it follows for `redirect: 'follow'`, a `Request` input, a stream body). Real HTTP and
 * TCP peers; each router case is checked against a fetch without the marker (the router's own linked signal and race).
 */
import { LLMRouter } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUpstreamFetch, type UpstreamFetch } from './upstream-fetch.js';

let wire: OpenAIWireServer;
const closers: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  wire = await startOpenAIWireServer();
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await wire.close();
});

function routerOver(fetch: typeof globalThis.fetch, baseURL: string): LLMRouter {
  const router = new LLMRouter({ models: [{ name: 'main', engine: 'openai-compatible', baseURL, model: 'gpt-test', apiKey: 'k' }], routing: { strategy: 'priority' } }, { fetch });
  closers.push(() => router.close());
  return router;
}

/** How `p` stands after `ms`: its rejection's code, 'ok', or 'pending'. */
async function outcomeWithin(p: Promise<unknown>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((r) => {
    timer = setTimeout(() => r('pending'), ms);
  });
  const settled = p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? String(e),
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A caller abort while the upstream request waits for a pool connection (`connections` set, the one connection busy):
 * undici gives no dispatch controller before it starts the request, so the fetch rejects by itself.
 */
async function abortWhileQueued(fetchOf: (upstream: UpstreamFetch) => typeof globalThis.fetch): Promise<string> {
  const upstream = createUpstreamFetch({ connections: 1 });
  closers.push(() => upstream.close());
  const router = routerOver(fetchOf(upstream), wire.baseURL);
  // The engine exists after this call: the next ones may share the caller's signal.
  expect((await router.generate('warm up')).text).toBe('echo: warm up');
  wire.setScript({ hang: true });
  const holder = new AbortController();
  const holding = router.generate('holds the only connection', { signal: holder.signal });
  holding.catch(() => {});
  while (wire.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
  const client = new AbortController();
  const queued = router.generate('waits for the connection', { signal: client.signal });
  queued.catch(() => {});
  await new Promise((r) => setTimeout(r, 50));
  client.abort(new Error('client went away'));
  const outcome = await outcomeWithin(queued, 1500);
  holder.abort(new Error('done'));
  await holding.catch(() => {});
  await queued.catch(() => {});
  return outcome;
}

describe('createUpstreamFetch under a router sharing the caller signal', () => {
  it('control: through a fetch without the marker, a caller abort while the request waits for a connection ends the call at once', async () => {
    expect(await abortWhileQueued((upstream) => ((input, init) => upstream(input, init)) as typeof globalThis.fetch)).toBe('aborted');
  });

  it('a caller abort while the request waits for a pool connection ends the call at once (as with a linked signal)', async () => {
    expect(await abortWhileQueued((upstream) => upstream)).toBe('aborted');
  });

  it('a caller abort while the upstream connection is being opened ends the call at once (default pool, no connection limit)', async () => {
    // An https provider whose TLS handshake never completes (a TCP peer that accepts and says nothing): undici is
    // still connecting (its connect timeout is 10 s), so no dispatch controller exists yet.
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => silent.close(() => r())));
    const outcomes: string[] = [];
    for (const marked of [false, true]) {
      const upstream = createUpstreamFetch();
      closers.push(() => upstream.close());
      // (Closers run last first: the sockets go first, so the pool's pending connects fail at once.)
      closers.push(async () => {
        for (const s of sockets) s.destroy();
      });
      const fetch = marked ? upstream : (((input, init) => upstream(input, init)) as typeof globalThis.fetch);
      const router = routerOver(fetch, `https://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`);
      // Creates the engine (the first call has a scope of its own): abort it quickly.
      const first = new AbortController();
      const warm = router.generate('creates the engine', { signal: first.signal });
      setTimeout(() => first.abort(new Error('warm-up over')), 20);
      expect(await outcomeWithin(warm, 1500)).toBe('aborted');
      const client = new AbortController();
      const before = sockets.length;
      const pending = router.generate('connecting', { signal: client.signal });
      pending.catch(() => {});
      while (sockets.length === before) await new Promise((r) => setTimeout(r, 5));
      client.abort(new Error('client went away'));
      outcomes.push(await outcomeWithin(pending, 1500));
    }
    // Without settling at once, the marked fetch would leave the call pending until undici's connect timeout (10 s).
    expect(outcomes).toEqual(['aborted', 'aborted']);
  });

  it('a redirecting upstream leaves no abort listener on a long-lived caller signal', async () => {
    // The provider's base URL answers 307 to the real one, another origin: the engine does not follow it (its
    // `redirect: 'manual'`, so the deployment's key goes nowhere else); the 3xx answer, cancelled unread, is a
    // provider_error. Under /hop it first answers a same-origin 308, which the engine follows itself.
    const redirector: Server = createServer((req, res) => {
      req.resume();
      const location = req.url!.startsWith('/hop/') ? req.url!.slice('/hop'.length) : `${wire.baseURL}/chat/completions`;
      req.on('end', () => res.writeHead(req.url!.startsWith('/hop/') ? 308 : 307, { location, 'content-length': '0' }).end());
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    closers.push(() => {
      redirector.closeAllConnections();
      return new Promise<void>((r) => redirector.close(() => r()));
    });
    const left: number[] = [];
    for (const marked of [false, true]) {
      const upstream = createUpstreamFetch();
      closers.push(() => upstream.close());
      const fetch = marked ? upstream : (((input, init) => upstream(input, init)) as typeof globalThis.fetch);
      for (const base of ['/v1', '/hop/v1']) {
        const router = routerOver(fetch, `http://127.0.0.1:${(redirector.address() as AddressInfo).port}${base}`);
        const connection = new AbortController();
        for (let i = 0; i < 5; i++) await expect(router.generate(`call ${i}`, { signal: connection.signal })).rejects.toMatchObject({ code: 'provider_error', message: expect.stringContaining('redirect (HTTP 307) to another address') });
        left.push(getEventListeners(connection.signal, 'abort').length);
      }
    }
    expect(left).toEqual([0, 0, 0, 0]);
    expect(wire.requests).toHaveLength(0);
  });
});

describe('createUpstreamFetch settling on an abort by itself', () => {
  /** A peer that records the paths it is asked for: '/hang' never answers, '/sse-hang' sends one event then waits. */
  async function peer(): Promise<{ base: string; paths: string[] }> {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url!);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/hang') return;
        if (req.url === '/sse-hang') {
          res.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: one\n\n');
          return;
        }
        if (req.url === '/redirect') {
          res.writeHead(307, { location: '/echo', 'content-length': '0' }).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ got: Buffer.concat(chunks).toString() }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    });
    return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
  }

  it('a request waiting for a pool connection rejects at once on its abort, keeps no listener, and is never sent', async () => {
    const { base, paths } = await peer();
    const upstream = createUpstreamFetch({ connections: 1 });
    closers.push(() => upstream.close());
    const holder = new AbortController();
    const holding = upstream(`${base}/hang`, { method: 'POST', body: '{}', signal: holder.signal });
    holding.catch(() => {});
    while (paths.length === 0) await new Promise((r) => setTimeout(r, 5));
    const client = new AbortController();
    const queued = upstream(`${base}/queued`, { method: 'POST', body: '{}', signal: client.signal });
    queued.catch(() => {});
    await new Promise((r) => setTimeout(r, 30));
    expect(getEventListeners(client.signal, 'abort')).toHaveLength(1);
    const reason = new Error('client went away');
    client.abort(reason);
    expect(await outcomeWithin(queued, 200)).toBe('Error: client went away');
    await expect(queued).rejects.toBe(reason);
    expect(getEventListeners(client.signal, 'abort')).toHaveLength(0);
    // The connection frees up: undici starts the queued request and it is aborted before anything is sent.
    holder.abort(new Error('done'));
    await holding.catch(() => {});
    expect(await (await upstream(`${base}/after`, { method: 'POST', body: 'x' })).json()).toEqual({ got: 'x' });
    expect(paths).toEqual(['/hang', '/after']);
  });

  it("hands Node's fetch a signal of its own for a redirect, a Request input and a stream body: none stays on the caller's", async () => {
    const { base } = await peer();
    const upstream = createUpstreamFetch();
    closers.push(() => upstream.close());
    const signal = new AbortController().signal;
    const left = () => getEventListeners(signal, 'abort').length;
    expect(await (await upstream(`${base}/redirect`, { method: 'POST', body: 'r', signal })).json()).toEqual({ got: 'r' });
    expect(left()).toBe(0);
    expect(await (await upstream(new Request(`${base}/echo`, { method: 'POST', body: 'q' }), { signal })).json()).toEqual({ got: 'q' });
    expect(left()).toBe(0);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('s'));
        c.close();
      },
    });
    expect(await (await upstream(`${base}/echo`, { method: 'POST', body, signal, duplex: 'half' } as RequestInit)).json()).toEqual({ got: 's' });
    expect(left()).toBe(0);
    // Cancelled unread: the link goes with the body.
    const unread = await upstream(new Request(`${base}/echo`, { method: 'POST', body: 'u' }), { signal });
    expect(left()).toBe(1);
    await unread.body!.cancel();
    expect(left()).toBe(0);
  });

  it("the caller's abort still reaches Node's fetch through the linked signal, while waiting and while reading", async () => {
    const { base } = await peer();
    const upstream = createUpstreamFetch();
    closers.push(() => upstream.close());
    const waiting = new AbortController();
    const hanging = upstream(new Request(`${base}/hang`, { method: 'POST', body: '{}' }), { signal: waiting.signal });
    await new Promise((r) => setTimeout(r, 50));
    waiting.abort(new Error('gone while waiting'));
    await expect(hanging).rejects.toThrow('gone while waiting');
    expect(getEventListeners(waiting.signal, 'abort')).toHaveLength(0);

    const reading = new AbortController();
    const response = await upstream(new Request(`${base}/sse-hang`, { method: 'POST', body: '{}' }), { signal: reading.signal });
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: one\n\n');
    const next = reader.read();
    reading.abort(new Error('gone while reading'));
    await expect(next).rejects.toThrow('gone while reading');
    expect(getEventListeners(reading.signal, 'abort')).toHaveLength(0);
  });
});
