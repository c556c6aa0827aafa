/**
 * `serveGateway` and keep-alive connections. Clients of a gateway use keep-alive pools (every SDK does), so at
 * shutdown a connection is usually busy with a request in flight. `close(graceMs)` stops accepting connections,
 * lets the requests in flight finish for up to `graceMs` and takes no new request on a kept connection: an
 * answer whose headers go out after `close()` says `connection: close`, and a connection is closed as soon as
 * its answer is sent (its headers may have promised keep-alive before `close()`), so `close()` resolves once
 * the last request in flight is done. `keepAliveTimeoutMs` sets how long an idle connection stays open.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { createHarness, mockModel } from '../test-support/harness.js';
import { rawConnection, send, type RawConnection } from '../test-support/raw-http.js';
import { serveGateway, type ServeOptions, type ServedGateway } from './serve-gateway.js';

interface Outcome {
  outcome: string;
  connection: string | undefined;
  keepAlive: string | undefined;
  endedAt: number;
  /** When the client saw its connection close (0: still open when the answer ended). */
  socketClosedAt: () => number;
  reused: boolean;
}

async function setup(options: ServeOptions = {}) {
  // A stream of 10 words 100 ms apart: about 1 s. Unstreamed, the answer comes whole after 600 ms.
  const h = await createHarness({
    models: [mockModel('slow', { chunkDelayMs: 100, reply: Array.from({ length: 10 }, (_, i) => `w${i}`).join(' ') }), mockModel('late', { delayMs: 600 })],
  });
  const served = await serveGateway(h.gateway, { port: 0, ...options });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const u = new URL(served.url);
  /** Resolves when the server has the next request (its handler runs). */
  const received = () => new Promise<void>((resolve) => served.server.once('request', () => resolve()));
  let onHead: (() => void) | undefined;
  /** Resolves when the client has the head of the next answer. */
  const head = () => new Promise<void>((resolve) => (onHead = resolve));
  /** One chat completion on the pooled connection. */
  const one = (model = 'slow', stream = true) =>
    new Promise<Outcome>((resolve) => {
      let closedAt = 0;
      const req = httpRequest({ agent, host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        onHead?.();
        onHead = undefined;
        res.resume();
        const done = (outcome: string) =>
          resolve({ outcome, connection: res.headers.connection, keepAlive: res.headers['keep-alive'] as string | undefined, endedAt: Date.now(), socketClosedAt: () => closedAt, reused: req.reusedSocket });
        res.on('end', () => done(`answered ${res.statusCode}`));
        res.on('error', (e) => done(`cut off mid-answer (${String(e)})`));
      });
      req.on('socket', (s: Socket) => s.once('close', () => (closedAt = Date.now())));
      // Refused at connect (the server no longer listens) is what a closing server should lead to: the client retries elsewhere.
      req.on('error', (e) => resolve({ outcome: `refused (${String(e)})`, connection: undefined, keepAlive: undefined, endedAt: Date.now(), socketClosedAt: () => closedAt, reused: req.reusedSocket }));
      req.end(JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }));
    });
  return {
    served,
    one,
    received,
    head,
    async dispose() {
      agent.destroy();
      await served.close(100);
      await h.close();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `head` on a new connection, the rest after `between()`; resolves with the answer's head and whether the server then closed. */
function splitRequest(served: ServedGateway, head: string, rest: string, between: () => Promise<unknown>): Promise<{ status: number; headers: IncomingHttpHeaders; closedByServer: boolean }> {
  const u = new URL(served.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port) });
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('end', () => {
      const [statusLine = '', ...lines] = raw.slice(0, raw.indexOf('\r\n\r\n')).split('\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, closedByServer: true });
      socket.destroy();
    });
    socket.on('connect', () => {
      socket.write(head);
      void between().then(() => socket.write(rest));
    });
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open; got ${JSON.stringify(raw.slice(0, 200))}`));
    }, 5000).unref();
  });
}

describe('serveGateway close(): keep-alive connections busy at close time', () => {
  it('a stream in flight at close() ends whole, then its connection is closed at once (no reuse)', async () => {
    const s = await setup();
    try {
      const headSeen = s.head();
      const inFlight = s.one();
      await headSeen;
      const closed = s.served.close(8000);
      const answer = await inFlight;
      expect(answer.outcome).toBe('answered 200');
      // Its headers went out before close(), promising keep-alive; the connection is closed right after the answer.
      expect(answer.connection).toBe('keep-alive');
      await closed;
      await expect.poll(() => answer.socketClosedAt(), { timeout: 1000, interval: 20 }).toBeGreaterThan(0);
      expect(answer.socketClosedAt() - answer.endedAt).toBeLessThan(1000);
      // The client's next request cannot go on that connection, and no new one is accepted.
      expect((await s.one()).outcome).toMatch(/^refused/);
    } finally {
      await s.dispose();
    }
  }, 20_000);

  it.each([
    { name: 'an answer in flight at close() whose headers go out later says connection: close', stream: false },
    { name: 'a stream in flight at close() whose headers go out later (its first token comes after) says connection: close', stream: true },
  ])('$name', async ({ stream }) => {
    const s = await setup();
    try {
      const got = s.received();
      const inFlight = s.one('late', stream);
      await got;
      const closed = s.served.close(8000);
      const answer = await inFlight;
      expect(answer.outcome).toBe('answered 200');
      expect(answer.connection).toBe('close');
      await closed;
    } finally {
      await s.dispose();
    }
  }, 20_000);

  it('close() resolves soon after the last request in flight is done', async () => {
    const s = await setup();
    try {
      const got = s.received();
      const inFlight = s.one();
      await got;
      let closedAt = 0;
      const closed = s.served.close(8000).then(() => (closedAt = Date.now()));
      const answer = await inFlight;
      expect(answer.outcome).toBe('answered 200');
      await closed;
      // Not held until the now idle connection's keep-alive timeout (5 s) runs out.
      expect(closedAt - answer.endedAt).toBeLessThan(1000);
    } finally {
      await s.dispose();
    }
  }, 20_000);

  it('a request sent on the reused connection during the grace period is not accepted and then cut off mid-answer', async () => {
    const s = await setup();
    try {
      const got = s.received();
      const first = s.one();
      await got;
      const closed = s.served.close(1500);
      const outcomes = [(await first).outcome];
      // A client with steady traffic sends its next requests on the pooled connection.
      for (let i = 0; i < 3; i++) outcomes.push((await s.one()).outcome);
      await closed;
      expect(outcomes[0]).toBe('answered 200');
      expect(outcomes.filter((o) => o.startsWith('cut off'))).toEqual([]);
    } finally {
      await s.dispose();
    }
  }, 20_000);

  it('a request whose headers arrive after close() is answered with connection: close, on the model and the other routes', async () => {
    const body = JSON.stringify({ model: 'late', messages: [{ role: 'user', content: 'hi' }] });
    const cases = [
      { head: 'POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\n', rest: `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}` },
      // Not a model route: served through gateway.fetch.
      { head: 'GET /v1/models HTTP/1.1\r\n', rest: 'host: gw\r\n\r\n' },
    ];
    for (const { head, rest } of cases) {
      const s = await setup();
      try {
        const connected = new Promise<Socket>((resolve) => s.served.server.once('connection', resolve));
        let closed: Promise<void> | undefined;
        const answer = await splitRequest(s.served, head, rest, async () => {
          // The server has read the first part (the connection is busy with a request, not idle).
          const socket = await connected;
          await expect.poll(() => socket.bytesRead, { interval: 5 }).toBeGreaterThanOrEqual(head.length);
          closed = s.served.close(8000);
        });
        expect([answer.status, answer.headers.connection, answer.closedByServer], head).toEqual([200, 'close', true]);
        await closed;
      } finally {
        await s.dispose();
      }
    }
  }, 20_000);
});

describe('serveGateway keepAliveTimeoutMs', () => {
  it('defaults to 5 s (node:http\'s own), announced in Keep-Alive', async () => {
    const s = await setup();
    try {
      const a = await s.one('late', false);
      expect([a.outcome, a.connection, a.keepAlive]).toEqual(['answered 200', 'keep-alive', 'timeout=5']);
      expect(s.served.server.keepAliveTimeout).toBe(5000);
    } finally {
      await s.dispose();
    }
  }, 20_000);

  it('keeps an idle connection that long, past headersTimeoutMs (counted per request, not while idle)', async () => {
    // As behind a load balancer with a 60 s idle timeout: keep-alive above it, the other timeouts as they are.
    const s = await setup({ keepAliveTimeoutMs: 3000, requestTimeoutMs: 1000, headersTimeoutMs: 500 });
    try {
      const first = await s.one('late', false);
      expect([first.outcome, first.keepAlive, first.reused]).toEqual(['answered 200', 'timeout=3', false]);
      // Idle longer than headersTimeoutMs and requestTimeoutMs (checked every 125 ms here), shorter than the keep-alive.
      await sleep(1500);
      expect(first.socketClosedAt()).toBe(0);
      const second = await s.one('late', false);
      expect([second.outcome, second.reused]).toEqual(['answered 200', true]);
    } finally {
      await s.dispose();
    }
  }, 20_000);

  it('closes an idle connection once it runs out', async () => {
    const s = await setup({ keepAliveTimeoutMs: 300 });
    try {
      const a = await s.one('late', false);
      expect(a.keepAlive).toBe('timeout=0');
      // node:http waits 1 s past the announced timeout before closing, against races with the client.
      await sleep(2500);
      expect(a.socketClosedAt()).toBeGreaterThan(0);
    } finally {
      await s.dispose();
    }
  }, 20_000);

  it('refuses a value that is not a positive integer', async () => {
    const h = await createHarness({ models: [mockModel('m')] });
    try {
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        await expect(serveGateway(h.gateway, { port: 0, keepAliveTimeoutMs: bad })).rejects.toThrow(/keepAliveTimeoutMs must be a positive integer/);
      }
    } finally {
      await h.close();
    }
  });
});

describe('serveGateway: a JSON answer carries its Content-Length', () => {
  /** Reads from `conn` until one whole answer (a Content-Length body) is there after `from`; its head and body. */
  async function answerAfter(conn: RawConnection, from: number): Promise<{ head: string; body: string; end: number }> {
    let out: { head: string; body: string; end: number } | undefined;
    await vi.waitFor(
      () => {
        const raw = conn.raw();
        const headEnd = raw.indexOf('\r\n\r\n', from);
        expect(headEnd).toBeGreaterThan(0);
        const head = raw.slice(from, headEnd);
        const length = /\r\ncontent-length: (\d+)/i.exec(head);
        expect(length, head).not.toBeNull();
        const body = raw.slice(headEnd + 4, headEnd + 4 + Number(length![1]));
        expect(Buffer.byteLength(body, 'latin1')).toBe(Number(length![1]));
        out = { head, body, end: headEnd + 4 + body.length };
      },
      { timeout: 5000, interval: 10 },
    );
    return out!;
  }

  it('an HTTP/1.0 client asking for keep-alive keeps its connection for a second request (no close after the first answer)', async () => {
    const h = await createHarness({ models: [mockModel('fast', { reply: 'h\u00e9llo there' })] });
    const served = await serveGateway(h.gateway, { port: 0 });
    const conn = rawConnection(served.url);
    try {
      const body = JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
      const request = `POST /v1/chat/completions HTTP/1.0\r\nhost: gw\r\nconnection: keep-alive\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      conn.socket.write(request);
      const first = await answerAfter(conn, 0);
      expect(first.head).toMatch(/^HTTP\/1\.1 200 /);
      expect(first.head).toMatch(/\r\nconnection: keep-alive/i);
      expect(first.head).not.toMatch(/\r\ntransfer-encoding:/i);
      // The byte count (latin1 here: the reply's UTF-8 bytes one char each) is the UTF-8 length, not the string length.
      expect(JSON.parse(Buffer.from(first.body, 'latin1').toString('utf8')).choices[0].message.content).toContain('h\u00e9llo');
      conn.socket.write(request);
      const second = await answerAfter(conn, first.end);
      expect(second.head).toMatch(/^HTTP\/1\.1 200 /);
      expect(JSON.parse(Buffer.from(second.body, 'latin1').toString('utf8')).object).toBe('chat.completion');
    } finally {
      conn.socket.destroy();
      await served.close(100);
      await h.close();
    }
  });

  it('an HTTP/1.1 answer too (a refusal as well): Content-Length, not chunked', async () => {
    const h = await createHarness({ models: [mockModel('fast')] });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const ok = await send(served.url, 'POST', '/v1/chat/completions', JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }), { 'content-type': 'application/json' });
      expect(ok.status).toBe(200);
      expect(ok.headers['content-length']).toBe(String(Buffer.byteLength(ok.body)));
      expect(ok.headers['transfer-encoding']).toBeUndefined();
      const bad = await send(served.url, 'POST', '/v1/chat/completions', '{"model": "fast"', { 'content-type': 'application/json' });
      expect(bad.status).toBe(400);
      expect(bad.headers['content-length']).toBe(String(Buffer.byteLength(bad.body)));
      expect(JSON.parse(bad.body).error.type).toBe('invalid_request_error');
    } finally {
      await served.close(100);
      await h.close();
    }
  });
});
