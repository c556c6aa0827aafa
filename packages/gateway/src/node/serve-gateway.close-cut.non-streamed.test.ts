/**
 * A non-streamed model request still running when `close(graceMs)`'s grace ends answers as a streamed request whose
 * stream has not opened does: its upstream call is cancelled, the call settled as an `error` with code `shutting_down`
 * (ledger row, `llm_requests_total{status="shutting_down"}`), then a 503 in its route's error shape (OpenAI's on
 * `/v1/chat/completions`, Anthropic's on `/v1/messages`, with its top-level `request_id`) before its connection closes,
 * within the cut's bound (`cutSettleMs`). The official clients throw their `APIError` (503), not a connection error. So does an
 * embeddings request, one whose body is still arriving when the cut starts (at once, without waiting for the rest of
 * it: no call was made, nothing is ledgered; also behind a pipelined request whose body read ended after its own
 * started), and one served through `gateway.fetch` (a browser's, CORS on: the 503 carries its CORS headers). A CONNECT
 * pipelined behind a call does not hold `close()`.
 * Over local OpenAI- and Anthropic-wire upstreams that do not answer until their client leaves. The servers here give
 * the cut a bound far longer than the tests (CUT_SETTLE_MS): a close() that waits for it is told from one that does
 * not by a wide margin, under any load.
 */
import Anthropic from '@anthropic-ai/sdk';
import { connect } from 'node:net';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHarness, get, mockModel, serveWithKey } from '../test-support/harness.js';
import { rawConnection, requestsTaken } from '../test-support/raw-http.js';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import type { WireUpstreams } from '../test-support/wire-upstreams.js';
import { serveGateway } from './serve-gateway.js';

/** The cut's bound of the servers here (`cutSettleMs`): 20 s, where an answer of the cut takes milliseconds. */
const CUT_SETTLE_MS = 20_000;
/** Well below CUT_SETTLE_MS: a close() that took less did not wait for the bound. */
const NOT_THE_BOUND_MS = 10_000;

let gw: SdkGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function setup(): Promise<{ gw: SdkGateway; upstreams: WireUpstreams }> {
  const started = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude'), wireDeployment(u, 'gpt')], { serve: { cutSettleMs: CUT_SETTLE_MS } });
  gw = started.gw;
  // Both upstreams take the request and send nothing until the gateway goes away.
  started.upstreams.openai.setScript({ hang: true });
  started.upstreams.anthropic.enqueue({ hang: true });
  return started;
}

/** What `call` rejects with (undefined when it resolves). */
const rejection = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (e: unknown) => e,
  );

/** A chat completion to `gpt` through the official OpenAI client: what it rejects with. */
const chatRejection = (on: SdkGateway): Promise<unknown> => rejection(on.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }));

/** A gateway over one OpenAI-wire upstream `gpt` that takes the request and sends nothing, served with this cut bound. */
async function servedHangingGpt(cutSettleMs: number): Promise<{ gw: SdkGateway; upstreams: WireUpstreams }> {
  const started = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gpt')], { serve: { cutSettleMs } });
  gw = started.gw;
  started.upstreams.openai.setScript({ hang: true });
  return started;
}

/** Resolves once `count` requests reached the upstreams (the calls are in flight), at most `timeoutMs`. */
async function upstreamsReached(upstreams: WireUpstreams, count: number, timeoutMs = 5_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (upstreams.openai.requests.length + upstreams.anthropic.requests.length < count) {
    if (performance.now() > until) throw new Error('the requests did not reach the upstreams');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('close(graceMs) with non-streamed requests still running at the end of the grace', () => {
  it('the official clients get a 503 shutting_down APIError in their route\'s shape; each call is cancelled upstream and ledgered first', async () => {
    const { gw, upstreams } = await setup();
    const messages = [{ role: 'user' as const, content: 'hi' }];
    const chat = rejection(gw.openai().chat.completions.create({ model: 'gpt', messages }));
    const claude = rejection(gw.anthropic().messages.create({ model: 'claude', max_tokens: 20, messages }));
    await upstreamsReached(upstreams, 2);
    const closing = performance.now();
    await gw.served.close(100);
    // Answered by the cut, not dropped by the bound after the grace.
    expect(performance.now() - closing).toBeLessThan(NOT_THE_BOUND_MS);

    const chatError = await chat;
    expect(chatError).toBeInstanceOf(OpenAI.APIError);
    expect(chatError).not.toBeInstanceOf(OpenAI.APIConnectionError);
    const openaiError = chatError as InstanceType<typeof OpenAI.APIError>;
    expect({ status: openaiError.status, code: openaiError.code, type: openaiError.type }).toEqual({ status: 503, code: 'shutting_down', type: 'api_error' });
    expect(openaiError.message).toMatch(/shutting down/);
    expect(openaiError.headers?.get('connection')).toBe('close');

    const claudeError = await claude;
    expect(claudeError).toBeInstanceOf(Anthropic.APIError);
    expect(claudeError).not.toBeInstanceOf(Anthropic.APIConnectionError);
    const anthropicError = claudeError as InstanceType<typeof Anthropic.APIError>;
    const body = anthropicError.error as Anthropic.ErrorResponse;
    expect({ status: anthropicError.status, type: body.type, errorType: body.error.type, requestId: body.request_id }).toEqual({
      status: 503,
      type: 'error',
      errorType: 'api_error',
      requestId: anthropicError.requestID,
    });
    expect(body.error.message).toMatch(/shutting down/);

    // The upstream calls were cancelled (the gateway walked away from both), and settled before the answers.
    expect(upstreams.openai.responsesAborted).toBe(1);
    const rows = await gw.ledger.query({ tenantId: 'acme', limit: 10 });
    expect(rows.map((r) => ({ endpoint: r.endpoint, status: r.status, errorCode: r.errorCode, stream: r.stream })).sort((a, b) => (a.endpoint ?? '').localeCompare(b.endpoint ?? ''))).toEqual([
      { endpoint: '/v1/chat/completions', status: 'error', errorCode: 'shutting_down', stream: false },
      { endpoint: '/v1/messages', status: 'error', errorCode: 'shutting_down', stream: false },
    ]);
    expect(rows.map((r) => r.requestId).sort()).toEqual([openaiError.requestID, anthropicError.requestID].sort());
    const metrics = await (await get(gw.harness.gateway, '/metrics')).text();
    expect(metrics).toContain('llm_requests_total{model="gpt",status="shutting_down",tenant="acme"} 1');
    expect(metrics).toContain('llm_requests_total{model="claude",status="shutting_down",tenant="acme"} 1');
    expect(metrics).not.toMatch(/status="(stream_interrupted|aborted)"/);
    expect(metrics).toMatch(/llm_requests_in_flight 0/);
  });

  it('an embeddings request still running gets the 503 too, ledgered as shutting_down', async () => {
    const started = await servedOverWireUpstreams((u) => [{ name: 'emb', engine: 'openai-compatible', baseURL: u.openai.baseURL, apiKey: 'k', model: 'text-embedding-test', capabilities: ['embeddings'] }], { serve: { cutSettleMs: CUT_SETTLE_MS } });
    gw = started.gw;
    started.upstreams.openai.setScript({ hang: true });
    const embedding = rejection(gw.openai().embeddings.create({ model: 'emb', input: 'hi' }));
    await upstreamsReached(started.upstreams, 1);
    await gw.served.close(50);
    const error = await embedding;
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionError);
    expect({ status: (error as InstanceType<typeof OpenAI.APIError>).status, code: (error as InstanceType<typeof OpenAI.APIError>).code }).toEqual({ status: 503, code: 'shutting_down' });
    expect(started.upstreams.openai.responsesAborted).toBe(1);
    const rows = await gw.ledger.query({ tenantId: 'acme', limit: 10 });
    expect(rows.map((r) => ({ endpoint: r.endpoint, status: r.status, errorCode: r.errorCode }))).toEqual([{ endpoint: '/v1/embeddings', status: 'error', errorCode: 'shutting_down' }]);
  });

  it('a request whose body is still arriving when the grace ends answers the 503 at once (connection: close, its route\'s shape), without waiting for the rest: close() does not wait for the bound', async () => {
    const started = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude'), wireDeployment(u, 'gpt')], { serve: { cutSettleMs: CUT_SETTLE_MS } });
    gw = started.gw;
    const { served, secret } = gw;
    const uploads = [
      ['/v1/chat/completions', `authorization: Bearer ${secret}`, JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'late' }] })],
      ['/v1/messages', `x-api-key: ${secret}\r\nanthropic-version: 2023-06-01`, JSON.stringify({ model: 'claude', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'late' }] })],
    ] as const;
    const taken = requestsTaken(served.server, uploads.length);
    // Each client sends its head and part of its body, then nothing more (a slow upload, a stalled client).
    const connections = uploads.map(([path, key, body]) => {
      const c = rawConnection(served.url);
      c.socket.write(`POST ${path} HTTP/1.1\r\nhost: gw\r\n${key}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 20)}`);
      return c;
    });
    await taken;
    const closing = performance.now();
    await served.close(50);
    // Answered at the cut, not closed unanswered at the end of the bound (20 s).
    expect(performance.now() - closing).toBeLessThan(NOT_THE_BOUND_MS);
    await Promise.all(connections.map((c) => c.closed));
    const [chat, messages] = connections.map((c) => {
      const raw = c.raw();
      const end = raw.indexOf('\r\n\r\n');
      return { status: raw.slice(0, 12), head: raw.slice(0, end).toLowerCase(), body: JSON.parse(raw.slice(end + 4)) as unknown };
    });
    expect(chat!.status).toBe('HTTP/1.1 503');
    expect(chat!.head).toContain('\r\nconnection: close');
    expect(chat!.body).toMatchObject({ error: { code: 'shutting_down', type: 'api_error' } });
    expect(messages!.status).toBe('HTTP/1.1 503');
    expect(messages!.head).toContain('\r\nconnection: close');
    expect(messages!.body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    // No model call was made for them: nothing upstream, nothing to ledger.
    expect(started.upstreams.openai.requests.length + started.upstreams.anthropic.requests.length).toBe(0);
    expect(await gw.ledger.query({ tenantId: 'acme', limit: 10 })).toEqual([]);
    const metrics = await (await get(gw.harness.gateway, '/metrics')).text();
    expect(metrics).toContain('llm_requests_total{model="unknown",status="shutting_down",tenant="acme"} 2');
  });

  it('so does one pipelined behind a request whose body read started after its own and ended before the cut (a slower key lookup ahead of it)', async () => {
    const h = await createHarness({ stores: 'memory', routerOptions: { env: {} }, models: [mockModel('mock')] });
    const { secret, served } = await serveWithKey(h, { cutSettleMs: CUT_SETTLE_MS });
    try {
      // A's key lookup waits until B's has answered and B's route has gone on to read its body: A's read starts after
      // B's, and ends (A's body is complete) while B's body is still arriving.
      const tenants = h.stores!.tenants;
      const lookup = tenants.authenticate.bind(tenants);
      let releaseA!: () => void;
      const aMayGo = new Promise<void>((r) => (releaseA = r));
      let calls = 0;
      tenants.authenticate = async (key: string) => {
        const n = ++calls;
        if (n === 1) await aMayGo;
        const found = await lookup(key);
        if (n === 2) setImmediate(() => setImmediate(releaseA));
        return found;
      };
      const chat = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
      const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\ncontent-length: ${chat.length}\r\n\r\n`;
      const c = rawConnection(served.url);
      const taken = requestsTaken(served.server, 2);
      c.socket.write(head + chat + head + chat.slice(0, 20));
      await taken;
      await vi.waitFor(() => expect(c.raw()).toMatch(/^HTTP\/1\.1 200 /), { timeout: 5000 });
      const closing = performance.now();
      await served.close(20);
      // B answered at the cut, not closed unanswered at the end of the bound (20 s).
      expect(performance.now() - closing).toBeLessThan(NOT_THE_BOUND_MS);
      await c.closed;
      const answers = c.raw().split(/(?=HTTP\/1\.1 \d{3} )/);
      expect(answers.map((a) => a.slice(0, 12))).toEqual(['HTTP/1.1 200', 'HTTP/1.1 503']);
      expect(JSON.parse(answers[1]!.slice(answers[1]!.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'shutting_down', type: 'api_error' } });
    } finally {
      await served.close(0);
      await h.close();
    }
  });

  it('a CONNECT pipelined behind one does not hold close() (node:http handed its socket over) nor take its 503\'s place', async () => {
    const { gw, upstreams } = await servedHangingGpt(CUT_SETTLE_MS);
    const chat = JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] });
    const c = rawConnection(gw.url);
    c.socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${gw.secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n\r\n${chat}` +
        'CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n',
    );
    await upstreamsReached(upstreams, 1);
    const closing = performance.now();
    await gw.served.close(50);
    expect(performance.now() - closing).toBeLessThan(NOT_THE_BOUND_MS);
    await c.closed;
    // (The 503 closes the connection: the CONNECT behind it is not answered, as no request behind such an answer is.)
    expect([...c.raw().matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1])).toEqual(['503']);
    expect(c.raw()).toContain('"code":"shutting_down"');
  });

  it('one served through gateway.fetch (a browser, CORS on) answers the 503 with its CORS headers, ledgered as that error, as one served directly', async () => {
    const ORIGIN = 'https://app.example.com';
    const h = await createHarness({ stores: 'memory', models: [mockModel('slow', { delayMs: 30_000 })], gateway: { cors: { origins: [ORIGIN] } } });
    const stores = h.stores!;
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { maxConcurrency: 8 }, budget: { amountUsd: 5, period: 'total' } });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    const served = await serveGateway(h.gateway, { port: 0, cutSettleMs: CUT_SETTLE_MS });
    const ask = (headers: Record<string, string>) =>
      fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}`, ...headers },
        body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] }),
      }).then(
        async (res) => ({ status: res.status, allow: res.headers.get('access-control-allow-origin'), code: ((await res.json()) as { error?: { code?: string } }).error?.code }),
        (e: unknown) => ({ status: 0, allow: null, code: String((e as Error).cause ?? e) }),
      );
    try {
      const direct = ask({});
      const browser = ask({ origin: ORIGIN });
      // Both calls are in flight (admitted, waiting for their upstream) before close() starts.
      const until = performance.now() + 10_000;
      while (!/llm_requests_in_flight 2\b/.test(await (await get(h.gateway, '/metrics')).text())) {
        if (performance.now() > until) throw new Error('the two calls did not start');
        await new Promise((r) => setTimeout(r, 10));
      }
      await served.close(100);
      await h.gateway.close();
      const rows = await stores.ledger.query({ tenantId: 'acme', limit: 10 });
      expect({ direct: await direct, browser: await browser, rows: rows.map((r) => `${r.status}:${r.errorCode}`).sort() }).toEqual({
        direct: { status: 503, allow: null, code: 'shutting_down' },
        browser: { status: 503, allow: ORIGIN, code: 'shutting_down' },
        rows: ['error:shutting_down', 'error:shutting_down'],
      });
    } finally {
      await served.close(0);
      await h.close();
    }
  });
});

/**
 * A request to another route (served through `gateway.fetch`, no model call) still running when the grace ends: its
 * body stalled. The cut has nothing to stop and settle for it, so it does not hold `close()` for the cut's bound.
 */
async function stalledFeedback(gw: SdkGateway): Promise<{ closed: Promise<number> }> {
  const u = new URL(gw.url);
  const taken = new Promise<void>((resolve) => gw.served.server.once('request', () => resolve()));
  const socket = connect({ host: u.hostname, port: Number(u.port) });
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
  socket.on('error', () => {});
  socket.write(`POST /v1/feedback HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${gw.secret}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"request_id":`);
  await taken;
  return { closed };
}

describe('the cut of close(graceMs) waits for the model calls it stopped, not for the other requests', () => {
  it('a request to another route still running at the end of the grace is closed at once when no model call is in flight', async () => {
    ({ gw } = await setup());
    const other = await stalledFeedback(gw);
    const start = performance.now();
    await gw.served.close(50);
    const closedAfterMs = performance.now() - start;
    // The cut's bound (CUT_SETTLE_MS past the grace) is for model calls to settle and send their error; there is none here.
    expect(closedAfterMs).toBeLessThan(NOT_THE_BOUND_MS);
    expect((await other.closed) - start).toBeLessThan(NOT_THE_BOUND_MS);
  });

  it('with a model call cut too, close() resolves once its 503 is sent, not at the end of the bound', async () => {
    const started = await setup();
    const other = await stalledFeedback(started.gw);
    const chat = chatRejection(started.gw);
    await upstreamsReached(started.upstreams, 1);
    const start = performance.now();
    await started.gw.served.close(50);
    const closedAfterMs = performance.now() - start;
    const error = await chat;
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect(closedAfterMs).toBeLessThan(NOT_THE_BOUND_MS);
    expect((await other.closed) - start).toBeLessThan(NOT_THE_BOUND_MS);
  });
});

describe('serveGateway cutSettleMs (the cut\'s bound)', () => {
  it('a cut call not settled within it (its ledger write held) has its connection closed at its end: close() does not wait for it', async () => {
    const { gw, upstreams } = await servedHangingGpt(200);
    const ledger = gw.ledger;
    const record = ledger.record.bind(ledger);
    let releaseWrite!: () => void;
    const writeHeld = new Promise<void>((r) => (releaseWrite = r));
    let written = false;
    ledger.record = async (entry) => {
      await writeHeld;
      const result = await record(entry);
      written = true;
      return result;
    };
    const chat = chatRejection(gw);
    try {
      await upstreamsReached(upstreams, 1);
      await gw.served.close(50);
      // Resolved by the bound (the call's settlement, and so its 503, still waits for its ledger write).
      expect(written).toBe(false);
      expect(await chat).toBeInstanceOf(OpenAI.APIConnectionError);
    } finally {
      releaseWrite();
    }
    await gw.harness.gateway.close();
    expect((await gw.ledger.query({ tenantId: 'acme', limit: 5 })).map((r) => `${r.status}:${r.errorCode}`)).toEqual(['error:shutting_down']);
  });

  it('a longer one lets a cut call whose settlement takes longer than the default 1 s answer its 503', async () => {
    const { gw, upstreams } = await servedHangingGpt(CUT_SETTLE_MS);
    const ledger = gw.ledger;
    const record = ledger.record.bind(ledger);
    // The cut call's ledger write takes 1.5 s (a slow store): past the default bound, well within this one.
    ledger.record = async (entry) => {
      await new Promise((r) => setTimeout(r, 1500));
      return record(entry);
    };
    const chat = chatRejection(gw);
    await upstreamsReached(upstreams, 1);
    await gw.served.close(50);
    const error = await chat;
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionError);
    expect({ status: (error as InstanceType<typeof OpenAI.APIError>).status, code: (error as InstanceType<typeof OpenAI.APIError>).code }).toEqual({ status: 503, code: 'shutting_down' });
  });

  it('one past the longest timer (2^31 ms) is a bound that long, not 1 ms (a timer overflow): a call answering after the cut is sent', async () => {
    const h = await createHarness({ models: [mockModel('m')] });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const generate = h.router.generate.bind(h.router);
    // The model call does not watch its signal: it answers when the gate opens, after the cut.
    h.router.generate = (async (request: Parameters<typeof generate>[0], options: Parameters<typeof generate>[1]) => {
      const { signal: _ignored, ...rest } = options ?? {};
      await gate;
      return generate(request, rest);
    }) as typeof generate;
    const served = await serveGateway(h.gateway, { port: 0, cutSettleMs: 2 ** 31 });
    try {
      const c = rawConnection(served.url);
      const one = requestsTaken(served.server, 1);
      const json = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      c.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n${json}`);
      await one;
      const closed = served.close(50);
      // Well after the cut (50 ms): a bound overflowed to 1 ms has closed the connection by then.
      setTimeout(open, 1000);
      await Promise.race([c.closed, vi.waitFor(() => expect(c.raw()).toMatch(/^HTTP\/1\.1 \d{3} /), { timeout: 10_000, interval: 20 }).catch(() => {})]);
      c.socket.destroy();
      await closed;
      expect(c.raw(), 'the connection was closed before the call answered').toMatch(/^HTTP\/1\.1 \d{3} /);
    } finally {
      open();
      await served.close(0);
      await h.close();
    }
  });

  it('refuses a value that is not an integer >= 0', async () => {
    const h = await createHarness({ models: [mockModel('mock')] });
    try {
      for (const bad of [-1, 1.5, Number.NaN]) {
        await expect(serveGateway(h.gateway, { port: 0, cutSettleMs: bad })).rejects.toThrow(/cutSettleMs must be an integer >= 0/);
      }
    } finally {
      await h.close();
    }
  });
});
