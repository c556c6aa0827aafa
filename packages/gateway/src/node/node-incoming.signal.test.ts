import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { GCProfiler, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LLMRouter, createStateStores, type LLMError, type StateStores } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { mockModel } from '../test-support/harness.js';
import { metricSum } from '../test-support/metrics-text.js';
import { requestsTaken } from '../test-support/raw-http.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import type { Gateway } from '../types.js';
import { ConnectionSignals, NodeIncoming, connectionSignal } from './node-incoming.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

/** One raw HTTP/1.1 keep-alive request (no `connection: close`, so a second one can follow on the socket). */
function keepAliveRequest(path: string, headers: Record<string, string>, body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  const lines = [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), `content-length: ${b.length}`];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), b]);
}

/** Whether `raw` holds a whole HTTP/1.1 answer: its head, then its content-length of body or a chunked body's end. */
function answerComplete(raw: Buffer): boolean {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(raw.subarray(0, end).toString('latin1'));
  return length ? raw.length - end - 4 >= Number(length[1]) : raw.subarray(end).includes('\r\n0\r\n\r\n');
}

describe('NodeIncoming signal: the latest arrived request decides', () => {
  let router: LLMRouter;
  let stores: StateStores;
  let gateway: Gateway;
  let served: ServedGateway;
  let slowSecret: string;
  let fastSecret: string;
  /** While set, the rate limiter waits for it (and calls `admitting` first). */
  let hold: Promise<void> | undefined;
  let admitting: (() => void) | undefined;

  beforeAll(async () => {
    // 'late' and 'late-embed' answer after 6 s unless their signal aborts.
    router = new LLMRouter({ models: [mockModel('mock'), mockModel('late', { delayMs: 6000 }), mockModel('late-embed', { delayMs: 6000 })], routing: { strategy: 'priority', retries: { max: 0 } } });
    stores = await createStateStores({ mode: 'memory' });
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 10_000 } });
    slowSecret = (await stores.tenants.createKey('acme', { name: 'slow' })).secret;
    fastSecret = (await stores.tenants.createKey('acme', { name: 'fast' })).secret;
    // A tenant store that answers one key later than the other (as a Postgres store does on a cache miss):
    // requests on one connection then reach their handlers' later steps in a different order than they came.
    const tenants = stores.tenants;
    const slowTenants = new Proxy(tenants, {
      get(target, key, receiver) {
        if (key === 'authenticate') {
          return async (secret: string) => {
            if (secret === slowSecret) await new Promise((r) => setTimeout(r, 150));
            return target.authenticate(secret);
          };
        }
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    // A rate limiter that can be held (as a Redis limiter's round trip is slow), to close the connection meanwhile.
    const limiter = stores.rateLimiter;
    const heldLimiter = new Proxy(limiter, {
      get(target, key, receiver) {
        if (key === 'acquire') {
          return async (...args: Parameters<typeof limiter.acquire>) => {
            const gate = hold;
            if (gate) {
              admitting?.();
              await gate;
            }
            return target.acquire(...args);
          };
        }
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    gateway = createGateway({ router, stores: { ...stores, tenants: slowTenants, rateLimiter: heldLimiter }, log: () => {} });
    served = await serveGateway(gateway, { port: 0 });
  });
  afterAll(async () => {
    await served?.close(1000);
    await gateway?.close();
    await router?.close();
    await stores?.close();
  });

  it('a pipelined request still in flight is aborted when the client closes the connection after an earlier answer completed', async () => {
    const u = new URL(served.url);
    const headers = (secret: string) => ({ authorization: `Bearer ${secret}`, 'content-type': 'application/json' });
    // A: answered at once, but its key takes 150 ms to check, so its handler takes the connection signal after B's.
    // B: a JSON chat answer that takes 6 s, pipelined on the same connection right behind A.
    const messages = [{ role: 'user', content: 'hi' }];
    const a = keepAliveRequest('/v1/chat/completions', headers(slowSecret), JSON.stringify({ model: 'mock', messages }));
    const b = keepAliveRequest('/v1/chat/completions', headers(fastSecret), JSON.stringify({ model: 'late', messages }));
    const sent = Date.now();
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: u.hostname, port: Number(u.port) });
      let raw = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer to the first request: ${JSON.stringify(raw.toString('latin1'))}`));
      }, 5000);
      socket.on('error', () => {});
      socket.on('data', (c: Buffer) => {
        raw = Buffer.concat([raw, c]);
        if (!answerComplete(raw)) return;
        // The first answer is complete; the client leaves while the second is in flight.
        clearTimeout(timer);
        expect(raw.subarray(0, 12).toString('latin1')).toBe('HTTP/1.1 200');
        socket.destroy();
        resolve();
      });
      socket.write(Buffer.concat([a, b]));
    });
    let entry;
    for (let i = 0; i < 400 && !entry; i++) {
      [entry] = await stores.ledger.query({ tenantId: 'acme', model: 'late' });
      if (!entry) await new Promise((r) => setTimeout(r, 20));
    }
    // Before a428414 the socket's close aborted the connection signal: B's call stopped and was settled as aborted
    // at once. Now the close is ignored because A's answer (the latest to read the signal, not the latest request)
    // is complete, so B's 6 s upstream call runs to the end for a client that is gone.
    expect(entry).toMatchObject({ status: 'aborted', stream: false, model: 'late' });
    expect(entry!.createdAt + entry!.latencyMs).toBeLessThan(sent + 4500);
  });

  it('a request on a reused keep-alive connection that takes the signal after the client left sees it aborted', async () => {
    const u = new URL(served.url);
    const headers = { authorization: `Bearer ${fastSecret}`, 'content-type': 'application/json' };
    const socket = connect({ host: u.hostname, port: Number(u.port) });
    socket.on('error', () => {});
    const serverSockets: Array<import('node:net').Socket> = [];
    const onConnection = (s: import('node:net').Socket) => serverSockets.push(s);
    served.server.on('connection', onConnection);
    let release!: () => void;
    try {
      // A: a complete answer on the connection (its handler takes the connection signal).
      const answered = new Promise<void>((resolve, reject) => {
        let raw = Buffer.alloc(0);
        const timer = setTimeout(() => reject(new Error('no answer to the first request')), 5000);
        const onData = (c: Buffer) => {
          raw = Buffer.concat([raw, c]);
          if (!answerComplete(raw)) return;
          clearTimeout(timer);
          socket.off('data', onData);
          resolve();
        };
        socket.on('data', onData);
      });
      socket.write(keepAliveRequest('/v1/chat/completions', headers, JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] })));
      await answered;
      expect(serverSockets).toHaveLength(1);
      const serverSide = serverSockets[0]!;

      // B on the same connection: embeddings that take 6 s upstream. Its admission is held; the client leaves meanwhile.
      hold = new Promise<void>((r) => (release = r));
      const admitted = new Promise<void>((r) => (admitting = r));
      const sent = Date.now();
      socket.write(keepAliveRequest('/v1/embeddings', headers, JSON.stringify({ model: 'late-embed', input: ['a'] })));
      await admitted;
      const closed = new Promise<void>((r) => (serverSide.destroyed && serverSide.closed ? r() : serverSide.once('close', () => r())));
      socket.destroy();
      await closed;
      hold = undefined;
      release();

      let entry;
      for (let i = 0; i < 400 && !entry; i++) {
        [entry] = await stores.ledger.query({ tenantId: 'acme', model: 'late-embed' });
        if (!entry) await new Promise((r) => setTimeout(r, 20));
      }
      // Before a428414 the close aborted the connection signal, so B's embed stopped at once (aborted). Now the
      // close is ignored (A, the latest to have read the signal, was complete) and B, reading the signal after the
      // close, gets one that never aborts: the 6 s upstream call runs to the end for a client that is gone.
      expect(entry).toMatchObject({ status: 'aborted', model: 'late-embed' });
      expect(entry!.createdAt + entry!.latencyMs).toBeLessThan(sent + 4500);
    } finally {
      hold = undefined;
      release?.();
      served.server.off('connection', onConnection);
      socket.destroy();
    }
  });
});

describe('NodeIncoming.bytes', () => {
  let server: Server | undefined;
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it('settles (rejects) when the client left before the body was read', async () => {
    // The gateway reads the body after authenticating (a network round trip with a Postgres tenant store): a
    // client that sends its whole request and leaves meanwhile must not leave the handler waiting forever.
    const outcome = new Promise<string>((resolve) => {
      server = createServer((req, res) => {
        const incoming = new NodeIncoming(req, res);
        req.socket.once('close', () => {
          setTimeout(() => {
            const timer = setTimeout(() => resolve('never settled'), 2000);
            incoming.bytes(1000).then(
              () => (clearTimeout(timer), resolve('resolved')),
              (e: unknown) => (clearTimeout(timer), resolve(`rejected: ${(e as LLMError).code}`)),
            );
          }, 10);
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const socket = connect((server!.address() as AddressInfo).port, '127.0.0.1', () => {
          socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 5\r\n\r\nhello');
          setTimeout(() => socket.destroy(), 100);
        });
        socket.on('error', () => {});
      });
    });
    // The client's leaving (no answer reaches it), not a body that could not be read.
    expect(await outcome).toBe('rejected: aborted');
  });
});

/**
 * A client whose connection is reset while its request body is still being sent (nothing answered) is counted in
 * `llm_requests_total` as `aborted` (as a client that leaves at any other point is), not as `invalid_request` (a
 * malformed body: bad input on dashboards and 4xx alerts). One that closes its side (FIN) instead is answered by the
 * server, whose parser fails the body: a 400 `invalid_request`, counted as that (the server cannot tell a client that
 * half-closed and still reads from one that left). Both of serveGateway's paths: the Node fast path and `gateway.fetch`
 * (an Origin, CORS on). A raw TCP client that sends half its body, then resets (or half-closes).
 */
describe.each([
  ['the Node fast path', false],
  ['gateway.fetch (a browser request, CORS on)', true],
])('a client that leaves while sending its request body: %s', (_path, browser) => {
  let gw: SdkGateway;
  /** A raw connection to the gateway that keeps reading after it sends FIN (half-open): what it read, when it closed. */
  const halfOpenClient = async () => {
    const u = new URL(gw.url);
    const socket = connect({ host: u.hostname, port: Number(u.port), allowHalfOpen: true });
    socket.on('error', () => {});
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, chunks, closed };
  };
  /** A chat completion's request head announcing a `len`-byte body (a browser's origin on the CORS path). */
  const head = (len: number) =>
    `POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\n${browser ? 'origin: https://app.example.com\r\n' : ''}authorization: Bearer ${gw.secret}\r\ncontent-type: application/json\r\ncontent-length: ${len}\r\n\r\n`;
  beforeAll(async () => {
    gw = await servedGateway({ models: [mockModel('mock')], ...(browser ? { gateway: { cors: { origins: '*' } } } : {}) });
  });
  afterAll(async () => gw?.close());

  const metrics = async () => (await fetch(`${gw.url}/metrics`)).text();

  it('reset mid-body: is counted in llm_requests_total as aborted, not as invalid_request', async () => {
    const taken = requestsTaken(gw.served.server, 1);
    const u = new URL(gw.url);
    const socket = connect({ host: u.hostname, port: Number(u.port) });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Half of a 1000-byte body, then the client is gone (its connection reset: RST).
    socket.write(head(1000) + '{"model":"mock","messages":[');
    // The gateway has the request (its headers) and is reading the body.
    await taken;
    socket.resetAndDestroy();
    await vi.waitFor(async () => expect(metricSum(await metrics(), 'llm_requests_total', /tenant="acme"/)).toBe(1), { timeout: 8000, interval: 20 });
    const text = await metrics();
    expect(metricSum(text, 'llm_requests_total', /status="invalid_request"/)).toBe(0);
    expect(metricSum(text, 'llm_requests_total', /status="aborted"/)).toBe(1);
  });

  it('a body cut short by a half-close (the client still reading): the 400 it reads is what is counted (invalid_request), not aborted', async () => {
    const before = metricSum(await metrics(), 'llm_requests_total', /tenant="acme"/);
    const taken = requestsTaken(gw.served.server, 1);
    const { socket, chunks, closed } = await halfOpenClient();
    socket.write(head(1000) + '{"model":"mock","messages":[');
    await taken;
    // The client says it sends nothing more (FIN), still reading: node:http's parser fails the body ("Invalid EOF
    // state"), and the server answers 400, then closes.
    socket.end();
    await closed;
    const answer = Buffer.concat(chunks).toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"invalid_request"');
    await vi.waitFor(async () => expect(metricSum(await metrics(), 'llm_requests_total', /tenant="acme"/)).toBe(before + 1), { timeout: 8000, interval: 20 });
    const text = await metrics();
    expect(metricSum(text, 'llm_requests_total', /status="invalid_request"/)).toBe(1);
    // (The one counted aborted is the earlier test's client that left.)
    expect(metricSum(text, 'llm_requests_total', /status="aborted"/)).toBe(1);
  });

  it('a keep-alive connection whose second body is cut short by a half-close: the first request is its own success, the second invalid_request, nothing aborted', async () => {
    const count = async (status: string) => metricSum(await metrics(), 'llm_requests_total', new RegExp(`status="${status}"`));
    const before = { all: metricSum(await metrics(), 'llm_requests_total', /tenant="acme"/), success: await count('success'), invalid: await count('invalid_request'), aborted: await count('aborted') };
    const { socket, chunks, closed } = await halfOpenClient();
    const body = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
    socket.write(head(Buffer.byteLength(body)) + body);
    await vi.waitFor(() => expect(Buffer.concat(chunks).toString('latin1')).toMatch(/"object":"chat\.completion"[\s\S]*\}\s*$/), { timeout: 8000, interval: 10 });
    const taken = requestsTaken(gw.served.server, 1);
    socket.write(head(1000) + '{"model":"mock","messages":[');
    // The gateway has the second request's head and reads its body; then the client half-closes.
    await taken;
    socket.end();
    await closed;
    const wire = Buffer.concat(chunks).toString('latin1');
    expect(wire.match(/HTTP\/1\.1 200 /g)).toHaveLength(1);
    expect(wire.match(/HTTP\/1\.1 400 /g)).toHaveLength(1);
    await vi.waitFor(async () => expect(metricSum(await metrics(), 'llm_requests_total', /tenant="acme"/)).toBe(before.all + 2), { timeout: 8000, interval: 20 });
    expect(await count('success')).toBe(before.success + 1);
    expect(await count('invalid_request')).toBe(before.invalid + 1);
    expect(await count('aborted')).toBe(before.aborted);
  });
});

/**
 * A body that stalls past `requestTimeoutMs`: the server (not the client) ends the exchange with a 408 (code `timeout`),
 * and the request is counted as that, not as the client's leaving (`aborted`).
 */
describe('a request body that stalls past requestTimeoutMs', () => {
  let gw: SdkGateway;
  beforeAll(async () => {
    gw = await servedGateway({ models: [mockModel('mock')], serve: { requestTimeoutMs: 400 } });
  });
  afterAll(async () => gw?.close());

  it('gets a 408 and is counted in llm_requests_total as timeout, not aborted', async () => {
    const u = new URL(gw.url);
    const socket = connect({ host: u.hostname, port: Number(u.port) });
    socket.on('error', () => {});
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer ${gw.secret}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model":"mock","messages":[`);
    await closed;
    expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
    const text = await vi.waitFor(
      async () => {
        const t = await (await fetch(`${gw.url}/metrics`)).text();
        expect(metricSum(t, 'llm_requests_total', /tenant="acme"/)).toBe(1);
        return t;
      },
      { timeout: 8000, interval: 20 },
    );
    expect(metricSum(text, 'llm_requests_total', /status="timeout"/)).toBe(1);
    expect(metricSum(text, 'llm_requests_total', /status="aborted"/)).toBe(0);
  });
});

describe('ConnectionSignals', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  /** A connection as `ConnectionSignals` sees it: an object it keeps a slot on. */
  const socket = (payload?: number[]) => ({ payload }) as unknown as Socket;

  it('the cut aborts the signals of the open connections busy, with its reason, not those closed, and every signal made after it', () => {
    const signals = new ConnectionSignals();
    /** A connection (an emitter that closes), its request, and its signal as `connectionSignal` makes it. */
    const open = () => {
      const s = Object.assign(new EventEmitter(), { destroyed: false }) as unknown as Socket;
      const req = { socket: s } as unknown as IncomingMessage;
      return { s, signal: connectionSignal(req, {} as ServerResponse, signals), again: () => connectionSignal(req, {} as ServerResponse, signals) };
    };
    const conns = Array.from({ length: 4 }, open);
    // One signal per connection: taken again, the same (and tracked once).
    expect(conns[0]!.again()).toBe(conns[0]!.signal);
    conns[1]!.s.emit('close');
    expect(conns[1]!.signal.aborted).toBe(true);
    // Reuses the closed connection's slot.
    const later = open();
    const reason = new Error('cut');
    signals.cut(reason, (s) => s !== conns[3]!.s);
    expect(conns.map((c) => c.signal.reason === reason)).toEqual([true, false, true, false]);
    expect(conns[3]!.signal.aborted).toBe(false);
    expect(later.signal.reason).toBe(reason);
    expect(signals.cutError).toBe(reason);
    expect(open().signal.reason).toBe(reason);
  });

  // A `Set` the connections went in and out of kept its replaced tables' entries, so a closed socket stayed reachable
  // past young-generation GCs once the server's set was in the old generation: slots keep nothing of a closed one.
  it('a closed connection is not promoted by the scavenges, the server running long enough to be old', () => {
    const signals = new ConnectionSignals();
    const controller = new AbortController();
    const live: Socket[] = [];
    for (let i = 0; i < 64; i++) {
      live.push(socket([i]));
      signals.made(live[i]!, controller);
    }
    gc();
    gc();
    const n = 100_000;
    const profiler = new GCProfiler();
    profiler.start();
    for (let j = 0; j < n; j++) {
      const s = socket(new Array<number>(64).fill(j));
      signals.made(s, controller);
      const i = j % 64;
      signals.closed(live[i]!);
      live[i] = s;
    }
    const { statistics } = profiler.stop();
    const old = (h: { heapSpaceStatistics: Array<{ spaceName: string; spaceUsedSize: number }> }) => h.heapSpaceStatistics.find((s) => s.spaceName === 'old_space')!.spaceUsedSize;
    let promoted = 0;
    for (const st of statistics) if (st.gcType === 'Scavenge') promoted += old(st.afterGC) - old(st.beforeGC);
    expect(promoted / n).toBeLessThan(20);
  });
});
