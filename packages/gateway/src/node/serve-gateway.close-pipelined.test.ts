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
import { describe, expect, it, vi } from 'vitest';
import { createHarness, get, mockModel, type Harness, type ModelInput } from '../test-support/harness.js';
import { rawConnection, type RawConnection } from '../test-support/raw-http.js';
import { answerBody, chatRequest, closeServed, holdModel, ledgerStatuses, readUntil, servedWithKey, statusLines, waitForLedger, writeTaken } from './__fixtures__/served-close.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

const body = JSON.stringify({ model: 'late', messages: [{ role: 'user', content: 'hi' }] });
const lateChat = `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** A gateway with no stores over one slow mock model `late`, served. */
async function servedLate(gateway?: { cors: { origins: '*' } }): Promise<{ h: Harness; served: ServedGateway }> {
  const h = await createHarness({ models: [mockModel('late', { delayMs: 600 })], ...(gateway ? { gateway } : {}) });
  return { h, served: await serveGateway(h.gateway, { port: 0 }) };
}

describe('serveGateway close(): pipelined requests and the gateway.fetch routes', () => {
  it('answers both pipelined requests the server had already taken when close() started', async () => {
    const { h, served } = await servedLate();
    try {
      const c = rawConnection(served.url);
      // Both requests are in the gateway (both model calls run) before close() starts.
      await writeTaken(served, c, lateChat + lateChat, 2);
      const closed = served.close(8000);
      // Until the connection closes, or both answers are in.
      await readUntil(c, () => statusLines(c.raw()).length === 2, { timeoutMs: 4000 });
      c.socket.destroy();
      await closed;
      const statuses = statusLines(c.raw());
      expect(statuses, `the second request was taken (its model call ran) but never answered; raw: ${JSON.stringify(c.raw().slice(0, 300))}`).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    } finally {
      await served.close(100);
      await h.close();
    }
  }, 20_000);

  it('a /ready the server takes on a busy connection after close() started answers 503 (shutting down)', async () => {
    const { h, served } = await servedLate();
    try {
      const c = rawConnection(served.url);
      // The model call runs (the connection is busy) when close() starts; then a probe comes on that connection.
      await writeTaken(served, c, lateChat);
      const closed = served.close(8000);
      await writeTaken(served, c, 'GET /ready HTTP/1.1\r\nhost: gw\r\n\r\n');
      await readUntil(c, () => statusLines(c.raw()).length === 2, { timeoutMs: 4000 });
      c.socket.destroy();
      await closed;
      expect(statusLines(c.raw()), `raw: ${JSON.stringify(c.raw().slice(0, 400))}`).toEqual(['HTTP/1.1 200', 'HTTP/1.1 503']);
      expect(c.raw()).toContain('"reason":"shutting down"');
    } finally {
      await served.close(100);
      await h.close();
    }
  }, 20_000);

  it('an answer in flight at close() on a route served through gateway.fetch says connection: close too', async () => {
    // A browser client (an allowed Origin): its chat completions go through gateway.fetch, not the direct route.
    const { h, served } = await servedLate({ cors: { origins: '*' } });
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

/** A gateway (memory stores, tenant `acme` with one key and a budget, CORS for ORIGIN): see servedWithKey. */
const servedWithCors = (models: ModelInput[]) => servedWithKey(models, { gateway: { cors: { origins: [ORIGIN] } }, budget: { amountUsd: 5, period: 'total' } });

/** Until the connection closes, or `n` answers came on it (at most 10 s). */
const answersOrClose = (c: RawConnection, n: number) => readUntil(c, () => statusLines(c.raw()).length === n);

/** servedWithCors with every ledger lookup held (`release` lets them go, see holdLedgerLookups) and a raw connection `c` to it. */
async function servedWithLedgerHeld(models: ModelInput[]) {
  const served = await servedWithCors(models);
  return { ...served, release: holdLedgerLookups(served.h), c: rawConnection(served.served.url) };
}

/** Lets the held answers go (`release`), reads until two answers came on `c` or it closed, then waits for close(). */
async function releaseAndRead(c: RawConnection, closed: Promise<void>, release: () => void): Promise<void> {
  release();
  await answersOrClose(c, 2);
  c.socket.destroy();
  await closed;
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

describe('serveGateway close(): a model answer waiting behind a request to another route on its connection', () => {
  it('settled before close(), it is sent after that answer (which does not say connection: close: an answer waits behind it)', async () => {
    const { h, served, secret, release, c } = await servedWithLedgerHeld([mockModel('fast')]);
    try {
      await writeTaken(served, c, feedbackRequest(secret) + chatRequest(secret, 'fast'), 2);
      // The model call behind the feedback is settled as a success; its answer waits behind the feedback's.
      await waitForLedger(h, ['success']);
      // A long grace: the feedback is answered well within it.
      const closed = served.close(8000);
      await releaseAndRead(c, closed, release);
      expect(statusLines(c.raw()), `raw: ${JSON.stringify(c.raw().slice(0, 400))}`).toEqual(['HTTP/1.1 404', 'HTTP/1.1 200']);
    } finally {
      await closeServed(h, served, release);
    }
  });

  it('a large one (more than the socket buffers hold) is sent whole once that answer is', async () => {
    // About 8 MB of answer: the kernel's buffers take a few MB; the rest waits in the server's socket.
    const reply = 'word '.repeat(1_600_000).trim();
    const { h, served, secret, release, c } = await servedWithLedgerHeld([mockModel('big', { reply })]);
    try {
      await writeTaken(served, c, feedbackRequest(secret) + chatRequest(secret, 'big'), 2);
      await waitForLedger(h, ['success']);
      const closed = served.close(8000);
      release();
      // The model answer's body (chunked or with a length), once whole: undefined before.
      const body = () => answerBody(c.raw(), c.raw().indexOf('HTTP/1.1 200 '));
      await readUntil(c, () => body() !== undefined, { timeoutMs: 20_000, interval: 50 });
      c.socket.destroy();
      await closed;
      const answer = body();
      expect(statusLines(c.raw())).toEqual(['HTTP/1.1 404', 'HTTP/1.1 200']);
      expect(answer, 'the model answer was cut short').toBeDefined();
      expect((JSON.parse(Buffer.from(answer!, 'latin1').toString('utf8')) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(reply);
    } finally {
      await closeServed(h, served, release);
    }
  });

  for (const when of ['before close()', 'during the grace'] as const) {
    it(`settled ${when}, it is sent once that answer is, after the grace's cut (which waits for it, within its bound)`, async () => {
      const { h, served, secret } = await servedWithCors([mockModel('fast')]);
      const release = holdLedgerLookups(h);
      const answer = holdModel(h);
      try {
        const c = rawConnection(served.url);
        await writeTaken(served, c, feedbackRequest(secret) + chatRequest(secret, 'fast'), 2);
        const success = () => waitForLedger(h, ['success']);
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
        await closeServed(h, served, release, answer);
      }
    });
  }

  it('control: with no model call in flight, the cut closes a connection busy with two pipelined requests to other routes at once', async () => {
    const { h, served, secret, release, c } = await servedWithLedgerHeld([mockModel('fast')]);
    try {
      await writeTaken(served, c, feedbackRequest(secret) + feedbackRequest(secret), 2);
      const start = performance.now();
      await served.close(50);
      // Far below the cut's bound (20 s): nothing was waited for.
      expect(performance.now() - start).toBeLessThan(10_000);
      await c.closed;
    } finally {
      await closeServed(h, served, release);
    }
  });

  it('a pipelined browser model request whose client left is no longer counted: the cut then closes a connection busy with other routes at once', async () => {
    const { h, served, secret } = await servedWithCors([mockModel('slow', { delayMs: 30_000 })]);
    let release = () => {};
    try {
      // Two browser model requests (through gateway.fetch) pipelined on one connection; the client leaves while both run.
      const a = rawConnection(served.url);
      await writeTaken(served, a, chatRequest(secret, 'slow', { origin: ORIGIN }) + chatRequest(secret, 'slow', { origin: ORIGIN }), 2);
      a.socket.destroy();
      await a.closed;
      await waitForLedger(h, ['aborted', 'aborted']);
      await vi.waitFor(async () => expect(await (await get(h.gateway, '/metrics')).text()).toMatch(/^llm_requests_in_flight 0$/m), { timeout: 10_000, interval: 20 });
      // Then only requests to another route: two feedback requests pipelined, held in their ledger lookup.
      release = holdLedgerLookups(h);
      const b = rawConnection(served.url);
      await writeTaken(served, b, feedbackRequest(secret) + feedbackRequest(secret), 2);
      const start = performance.now();
      await served.close(50);
      // No model call is in flight: not held for the cut's bound (20 s) by the request whose client left.
      expect(performance.now() - start).toBeLessThan(10_000);
    } finally {
      await closeServed(h, served, release);
    }
  });
});

describe('serveGateway close(): a request pipelined after close() started behind an answer served through gateway.fetch', () => {
  it('a model request taken behind a request to another route whose answer is not out yet is answered (its model call ran)', async () => {
    const { h, served, secret, release, c } = await servedWithLedgerHeld([mockModel('fast')]);
    try {
      await writeTaken(served, c, feedbackRequest(secret));
      // close() starts while the feedback's answer is not out: nothing is behind it yet.
      const closed = served.close(8000);
      await writeTaken(served, c, chatRequest(secret, 'fast'));
      // The model call behind it runs to the end and is settled a success.
      await waitForLedger(h, ['success']);
      await releaseAndRead(c, closed, release);
      expect(statusLines(c.raw()), `raw: ${JSON.stringify(c.raw().slice(0, 500))}`).toEqual(['HTTP/1.1 404', 'HTTP/1.1 200']);
    } finally {
      await closeServed(h, served, release);
    }
  });

  it('a /ready taken behind a request to another route whose answer is not out yet answers 503 (as behind a model request)', async () => {
    const { h, served, secret, release, c } = await servedWithLedgerHeld([mockModel('fast')]);
    try {
      await writeTaken(served, c, feedbackRequest(secret));
      const closed = served.close(8000);
      await writeTaken(served, c, 'GET /ready HTTP/1.1\r\nhost: gw\r\n\r\n');
      await releaseAndRead(c, closed, release);
      expect(statusLines(c.raw()), `raw: ${JSON.stringify(c.raw().slice(0, 500))}`).toEqual(['HTTP/1.1 404', 'HTTP/1.1 503']);
      // Only the last answer on the connection says connection: close.
      expect(c.raw().match(/\r\nconnection: (close|keep-alive)\r\n/gi)?.map((l) => l.trim().toLowerCase())).toEqual(['connection: keep-alive', 'connection: close']);
    } finally {
      await closeServed(h, served, release);
    }
  });
});
