/**
 * close(graceMs) on keep-alive connections: pipelined requests the server had already taken are all answered
 * (only the connection's last one says `connection: close`), and an answer in flight on a route served through
 * gateway.fetch says `connection: close` as the model routes' do; a `/ready` taken while closing answers 503.
 * A model answer waiting behind a request to another route on its connection is sent: neither that answer's
 * `connection: close` nor the cut at the end of the grace closes the connection before it; a pipelined browser
 * request whose client left is no longer counted as a model call. A request pipelined after close() started behind an
 * answer served through gateway.fetch whose headers are not out yet is answered (that answer decides `connection: close`
 * when its headers go out, not at close()).
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { createHarness, get, mockModel, type Harness, type ModelInput } from '../test-support/harness.js';
import { rawConnection, requestsTaken, type RawConnection } from '../test-support/raw-http.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

const body = JSON.stringify({ model: 'late', messages: [{ role: 'user', content: 'hi' }] });

describe('serveGateway close(): pipelined requests and the gateway.fetch routes', () => {
  it('answers both pipelined requests the server had already taken when close() started', async () => {
    const h = await createHarness({ models: [mockModel('late', { delayMs: 600 })] });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const one = `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      let handled = 0;
      const bothTaken = new Promise<void>((resolve) =>
        served.server.on('request', () => {
          if (++handled === 2) resolve();
        }),
      );
      const u = new URL(served.url);
      const socket = connect({ host: u.hostname, port: Number(u.port) });
      let raw = '';
      socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
      socket.on('error', () => {});
      const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('connect', () => socket.write(one + one));
      // Both requests are in the gateway (both model calls run) before close() starts.
      await bothTaken;
      const closed = served.close(8000);
      // Until the connection closes, or both answers are in.
      await Promise.race([ended, expect.poll(() => (raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).length, { timeout: 4000, interval: 20 }).toBe(2).catch(() => {})]);
      socket.destroy();
      await closed;
      const statuses = (raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).map((s) => s.trim());
      expect(statuses, `the second request was taken (its model call ran) but never answered; raw: ${JSON.stringify(raw.slice(0, 300))}`).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    } finally {
      await served.close(100);
      await h.close();
    }
  }, 20_000);

  it('a /ready the server takes on a busy connection after close() started answers 503 (shutting down)', async () => {
    const h = await createHarness({ models: [mockModel('late', { delayMs: 600 })] });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const u = new URL(served.url);
      const socket = connect({ host: u.hostname, port: Number(u.port) });
      let raw = '';
      socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
      socket.on('error', () => {});
      const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      let handled = 0;
      const taken = (n: number) => new Promise<void>((resolve) => served.server.on('request', () => ++handled >= n && resolve()));
      const first = taken(1);
      socket.on('connect', () => socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
      // The model call runs (the connection is busy) when close() starts; then a probe comes on that connection.
      await first;
      const closed = served.close(8000);
      const second = taken(2);
      socket.write('GET /ready HTTP/1.1\r\nhost: gw\r\n\r\n');
      await second;
      await Promise.race([ended, expect.poll(() => (raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).length, { timeout: 4000, interval: 20 }).toBe(2).catch(() => {})]);
      socket.destroy();
      await closed;
      expect((raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).map((s) => s.trim()), `raw: ${JSON.stringify(raw.slice(0, 400))}`).toEqual(['HTTP/1.1 200', 'HTTP/1.1 503']);
      expect(raw).toContain('"reason":"shutting down"');
    } finally {
      await served.close(100);
      await h.close();
    }
  }, 20_000);

  it('an answer in flight at close() on a route served through gateway.fetch says connection: close too', async () => {
    // A browser client (an allowed Origin): its chat completions go through gateway.fetch, not the direct route.
    const h = await createHarness({ models: [mockModel('late', { delayMs: 600 })], gateway: { cors: { origins: '*' } } });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const u = new URL(served.url);
      const got = new Promise<void>((resolve) => served.server.once('request', () => resolve()));
      const answer = new Promise<{ status: number | undefined; connection: string | undefined; cors: unknown }>((resolve, reject) => {
        const req = httpRequest(
          { host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://app.example.com', connection: 'keep-alive' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, cors: res.headers['access-control-allow-origin'] }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      await got;
      // close() starts while the answer is being made: its headers go out after close().
      const closed = served.close(8000);
      const a = await answer;
      await closed;
      // (The cors header shows the request went through gateway.fetch.)
      expect(a).toEqual({ status: 200, connection: 'close', cors: '*' });
    } finally {
      await served.close(100);
      await h.close();
    }
  }, 20_000);
});

const ORIGIN = 'https://app.example.com';

/**
 * A gateway (memory stores, tenant `acme` with one key, CORS for ORIGIN) served with a cut bound far longer than any
 * test here (`cutSettleMs`): a close() that waits for it is told from one that does not under any load.
 */
async function servedWithKey(models: ModelInput[]): Promise<{ h: Harness; served: ServedGateway; secret: string }> {
  const h = await createHarness({ stores: 'memory', models, gateway: { cors: { origins: [ORIGIN] } } });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { maxConcurrency: 8 }, budget: { amountUsd: 5, period: 'total' } });
  const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
  return { h, served: await serveGateway(h.gateway, { port: 0, cutSettleMs: 20_000 }), secret };
}

const statusLines = (raw: string) => (raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).map((s) => s.trim());

/** Until the connection closes, or `n` answers came on it (at most 10 s). */
async function answersOrClose(c: RawConnection, n: number): Promise<void> {
  await Promise.race([c.closed, vi.waitFor(() => expect(statusLines(c.raw()).length).toBe(n), { timeout: 10_000, interval: 20 }).catch(() => {})]);
}

function chatRequest(secret: string, model: string, headers: Record<string, string> = {}): string {
  const json = JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });
  const lines = Object.entries({ host: 'gw', authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(json)), ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `POST /v1/chat/completions HTTP/1.1\r\n${lines}\r\n${json}`;
}

/** A request to another route (no model call): feedback on an unknown request id, answered 404 after its ledger lookup. */
function feedbackRequest(secret: string): string {
  const json = JSON.stringify({ request_id: 'req_unknown', score: 1 });
  return `POST /v1/feedback HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n${json}`;
}

/** Holds every ledger lookup (a feedback request's) until the returned function is called. */
function holdLedgerLookups(h: Harness): () => void {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const ledger = h.stores!.ledger;
  const realGet = ledger.get.bind(ledger);
  ledger.get = async (id: string) => {
    await held;
    return realGet(id);
  };
  return release;
}

/** Holds every model call until the returned function is called. */
function holdModelCalls(h: Harness): () => void {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const generate = h.router.generate.bind(h.router);
  h.router.generate = (async (request: Parameters<typeof generate>[0], options: Parameters<typeof generate>[1]) => {
    await gate;
    return generate(request, options);
  }) as typeof generate;
  return open;
}

async function ledgerStatuses(h: Harness): Promise<string[]> {
  return (await h.stores!.ledger.query({ tenantId: 'acme', limit: 5 })).map((r) => r.status);
}

describe('serveGateway close(): a model answer waiting behind a request to another route on its connection', () => {
  it('settled before close(), it is sent after that answer (which does not say connection: close: an answer waits behind it)', async () => {
    const { h, served, secret } = await servedWithKey([mockModel('fast')]);
    const release = holdLedgerLookups(h);
    try {
      const c = rawConnection(served.url);
      const both = requestsTaken(served.server, 2);
      c.socket.write(feedbackRequest(secret) + chatRequest(secret, 'fast'));
      await both;
      // The model call behind the feedback is settled as a success; its answer waits behind the feedback's.
      await vi.waitFor(async () => expect(await ledgerStatuses(h)).toEqual(['success']), { timeout: 10_000, interval: 20 });
      // A long grace: the feedback is answered well within it.
      const closed = served.close(8000);
      release();
      await answersOrClose(c, 2);
      c.socket.destroy();
      await closed;
      expect(statusLines(c.raw()), `raw: ${JSON.stringify(c.raw().slice(0, 400))}`).toEqual(['HTTP/1.1 404', 'HTTP/1.1 200']);
    } finally {
      release();
      await served.close(0);
      await h.close();
    }
  });

  it('a large one (more than the socket buffers hold) is sent whole once that answer is', async () => {
    // About 8 MB of answer: the kernel's buffers take a few MB; the rest waits in the server's socket.
    const reply = 'word '.repeat(1_600_000).trim();
    const { h, served, secret } = await servedWithKey([mockModel('big', { reply })]);
    const release = holdLedgerLookups(h);
    try {
      const c = rawConnection(served.url);
      const both = requestsTaken(served.server, 2);
      c.socket.write(feedbackRequest(secret) + chatRequest(secret, 'big'));
      await both;
      await vi.waitFor(async () => expect(await ledgerStatuses(h)).toEqual(['success']), { timeout: 10_000, interval: 20 });
      const closed = served.close(8000);
      release();
      // The model answer's body (chunked or with a length), once whole: undefined before.
      const body = (): string | undefined => {
        const raw = c.raw();
        const at = raw.indexOf('HTTP/1.1 200 ');
        const end = raw.indexOf('\r\n\r\n', at);
        if (at < 0 || end < 0) return undefined;
        const head = raw.slice(at, end);
        const rest = raw.slice(end + 4);
        const length = /\r\ncontent-length: (\d+)/i.exec(head);
        if (length) return rest.length >= Number(length[1]) ? rest.slice(0, Number(length[1])) : undefined;
        let text = '';
        for (let i = 0; ; ) {
          const eol = rest.indexOf('\r\n', i);
          if (eol < 0) return undefined;
          const size = Number.parseInt(rest.slice(i, eol), 16);
          if (size === 0) return text;
          if (rest.length < eol + 2 + size + 2) return undefined;
          text += rest.slice(eol + 2, eol + 2 + size);
          i = eol + 2 + size + 2;
        }
      };
      await Promise.race([c.closed, vi.waitFor(() => expect(body()).toBeDefined(), { timeout: 20_000, interval: 50 }).catch(() => {})]);
      c.socket.destroy();
      await closed;
      const answer = body();
      expect(statusLines(c.raw())).toEqual(['HTTP/1.1 404', 'HTTP/1.1 200']);
      expect(answer, 'the model answer was cut short').toBeDefined();
      expect((JSON.parse(Buffer.from(answer!, 'latin1').toString('utf8')) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(reply);
    } finally {
      release();
      await served.close(0);
      await h.close();
    }
  });

  for (const when of ['before close()', 'during the grace'] as const) {
    it(`settled ${when}, it is sent once that answer is, after the grace's cut (which waits for it, within its bound)`, async () => {
      const { h, served, secret } = await servedWithKey([mockModel('fast')]);
      const release = holdLedgerLookups(h);
      const answer = holdModelCalls(h);
      try {
        const c = rawConnection(served.url);
        const both = requestsTaken(served.server, 2);
        c.socket.write(feedbackRequest(secret) + chatRequest(secret, 'fast'));
        await both;
        const success = () => vi.waitFor(async () => expect(await ledgerStatuses(h)).toEqual(['success']), { timeout: 10_000, interval: 20 });
        // During the grace: long enough for a mock model call and its ledger row under any load.
        const graceMs = when === 'before close()' ? 50 : 5000;
        if (when === 'before close()') {
          answer();
          await success();
        }
        const closed = served.close(graceMs);
        // The feedback answers after the cut: this timer, set after the grace's own, fires after it.
        setTimeout(release, graceMs + 10);
        if (when === 'during the grace') {
          answer();
          await success();
        }
        await answersOrClose(c, 2);
        c.socket.destroy();
        await closed;
        expect({ rows: await ledgerStatuses(h), statuses: statusLines(c.raw()) }).toEqual({ rows: ['success'], statuses: ['HTTP/1.1 404', 'HTTP/1.1 200'] });
      } finally {
        release();
        answer();
        await served.close(0);
        await h.close();
      }
    });
  }

  it('control: with no model call in flight, the cut closes a connection busy with two pipelined requests to other routes at once', async () => {
    const { h, served, secret } = await servedWithKey([mockModel('fast')]);
    const release = holdLedgerLookups(h);
    try {
      const c = rawConnection(served.url);
      const two = requestsTaken(served.server, 2);
      c.socket.write(feedbackRequest(secret) + feedbackRequest(secret));
      await two;
      const start = performance.now();
      await served.close(50);
      // Far below the cut's bound (20 s): nothing was waited for.
      expect(performance.now() - start).toBeLessThan(10_000);
      await c.closed;
    } finally {
      release();
      await served.close(0);
      await h.close();
    }
  });

  it('a pipelined browser model request whose client left is no longer counted: the cut then closes a connection busy with other routes at once', async () => {
    const { h, served, secret } = await servedWithKey([mockModel('slow', { delayMs: 30_000 })]);
    let release = () => {};
    try {
      // Two browser model requests (through gateway.fetch) pipelined on one connection; the client leaves while both run.
      const a = rawConnection(served.url);
      const two = requestsTaken(served.server, 2);
      a.socket.write(chatRequest(secret, 'slow', { origin: ORIGIN }) + chatRequest(secret, 'slow', { origin: ORIGIN }));
      await two;
      a.socket.destroy();
      await a.closed;
      await vi.waitFor(async () => expect(await ledgerStatuses(h)).toEqual(['aborted', 'aborted']), { timeout: 10_000, interval: 20 });
      await vi.waitFor(async () => expect(await (await get(h.gateway, '/metrics')).text()).toMatch(/^llm_requests_in_flight 0$/m), { timeout: 10_000, interval: 20 });
      // Then only requests to another route: two feedback requests pipelined, held in their ledger lookup.
      release = holdLedgerLookups(h);
      const b = rawConnection(served.url);
      const twoMore = requestsTaken(served.server, 2);
      b.socket.write(feedbackRequest(secret) + feedbackRequest(secret));
      await twoMore;
      const start = performance.now();
      await served.close(50);
      // No model call is in flight: not held for the cut's bound (20 s) by the request whose client left.
      expect(performance.now() - start).toBeLessThan(10_000);
    } finally {
      release();
      await served.close(0);
      await h.close();
    }
  });
});

describe('serveGateway close(): a request pipelined after close() started behind an answer served through gateway.fetch', () => {
  it('a model request taken behind a request to another route whose answer is not out yet is answered (its model call ran)', async () => {
    const { h, served, secret } = await servedWithKey([mockModel('fast')]);
    const release = holdLedgerLookups(h);
    try {
      const c = rawConnection(served.url);
      const first = requestsTaken(served.server, 1);
      c.socket.write(feedbackRequest(secret));
      await first;
      // close() starts while the feedback's answer is not out: nothing is behind it yet.
      const closed = served.close(8000);
      const second = requestsTaken(served.server, 1);
      c.socket.write(chatRequest(secret, 'fast'));
      await second;
      // The model call behind it runs to the end and is settled a success.
      await vi.waitFor(async () => expect(await ledgerStatuses(h)).toEqual(['success']), { timeout: 10_000, interval: 20 });
      release();
      await answersOrClose(c, 2);
      c.socket.destroy();
      await closed;
      expect(statusLines(c.raw()), `raw: ${JSON.stringify(c.raw().slice(0, 500))}`).toEqual(['HTTP/1.1 404', 'HTTP/1.1 200']);
    } finally {
      release();
      await served.close(0);
      await h.close();
    }
  });

  it('a /ready taken behind a request to another route whose answer is not out yet answers 503 (as behind a model request)', async () => {
    const { h, served, secret } = await servedWithKey([mockModel('fast')]);
    const release = holdLedgerLookups(h);
    try {
      const c = rawConnection(served.url);
      const first = requestsTaken(served.server, 1);
      c.socket.write(feedbackRequest(secret));
      await first;
      const closed = served.close(8000);
      const second = requestsTaken(served.server, 1);
      c.socket.write('GET /ready HTTP/1.1\r\nhost: gw\r\n\r\n');
      await second;
      release();
      await answersOrClose(c, 2);
      c.socket.destroy();
      await closed;
      expect(statusLines(c.raw()), `raw: ${JSON.stringify(c.raw().slice(0, 500))}`).toEqual(['HTTP/1.1 404', 'HTTP/1.1 503']);
      // Only the last answer on the connection says connection: close.
      expect(c.raw().match(/\r\nconnection: (close|keep-alive)\r\n/gi)?.map((l) => l.trim().toLowerCase())).toEqual(['connection: keep-alive', 'connection: close']);
    } finally {
      release();
      await served.close(0);
      await h.close();
    }
  });
});
