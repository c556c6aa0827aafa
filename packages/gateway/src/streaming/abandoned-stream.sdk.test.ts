/**
 * A slow client through the Node server with the official openai client: a client that pauses reading (its TCP
 * window fills, the gateway waits for `drained()`) longer than `consumerIdleMs` gets the whole answer or an
 * error the SDK raises (the router gave up on the stream: consumerIdleMs), never a clean end of a truncated
 * answer; the ledger row says `error`, not the client's `aborted`. The call settles when the router gives up, not
 * when the client reads again (a raw client that stops reading, on both of serveGateway's paths).
 */
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mathCascade, QUESTION, WEAK_USAGE, WRONG } from '../test-support/math-cascade.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { stalledPost, type StalledClient } from '../test-support/stalled-client.js';

let upstream: OpenAIWireServer;
let gw: SdkGateway;
// About 8 MB of answer in 2 000 chunks: more than the socket buffers between the gateway and a paused client hold.
const TEXT = 'x'.repeat(4000) + ' ';
const SCRIPT = { text: TEXT.repeat(2000), chunks: 2000 };

beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: SCRIPT });
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', price: { input: 1, output: 2 } }],
    routing: { timeouts: { consumerIdleMs: 200 } },
    upstreams: [upstream],
  });
});
afterAll(async () => gw?.close());

describe('a slow SDK client through the Node server', () => {
  it('chat: a client that pauses past consumerIdleMs gets either the whole answer or an error, never a truncated clean end', async () => {
    const { data: stream, response } = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'go' }], stream: true }).withResponse();
    let chars = 0;
    let finish: string | null | undefined;
    let error: unknown;
    let paused = false;
    try {
      for await (const c of stream) {
        chars += c.choices[0]?.delta.content?.length ?? 0;
        finish ??= c.choices[0]?.finish_reason;
        if (!paused) {
          paused = true;
          await new Promise((r) => setTimeout(r, 1500));
        }
      }
    } catch (e) {
      error = e;
    }
    // Either it completed, or the SDK raised: a clean end without finish_reason is a silent truncation.
    expect({ chars, finish: finish ?? null, raised: error !== undefined }).toSatisfy((o: { chars: number; finish: string | null; raised: boolean }) => o.raised || (o.finish === 'stop' && o.chars === TEXT.length * 2000));
    if (error !== undefined) {
      // What it raised says why, and the call is an error on the ledger (the client never left).
      expect((error as Error).message).toMatch(/consumerIdleMs \(200 ms\)/);
      expect(await gw.ledger.get(response.headers.get('x-request-id')!)).toMatchObject({ status: 'error', errorCode: 'timeout', stream: true });
    }
  });
});

/** `llm_requests_in_flight` of a served gateway. */
async function inFlightOf(gw: SdkGateway): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('llm_requests_in_flight '))!;
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * A client that keeps its connection open but stops reading a streamed answer: the gateway waits for its socket to
 * drain, the router gives up on the stream after `consumerIdleMs` (300 ms here) and cancels the upstream request, and
 * the call settles then (not when, if ever, the client reads again): its ledger row, budget reservation, in-flight
 * gauge and the tenant's one concurrency slot. Both of serveGateway's paths: the Node fast path, and `gateway.fetch`
 * (a browser request, `Origin` with CORS on); on both, a response still unread 10 s later is dropped. A raw TCP client
 * that pauses its socket.
 */
describe.each([
  ['the Node fast path', false],
  ['gateway.fetch (a browser request, CORS on)', true],
])('a client that stops reading a streamed answer, its connection kept open: %s', (_path, browser) => {
  let up: OpenAIWireServer;
  let stalled: SdkGateway;
  beforeAll(async () => {
    up = await startOpenAIWireServer();
    stalled = await servedGateway({
      models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: up.baseURL, model: 'm1', apiKey: 'k', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming'] }],
      routing: { strategy: 'priority', retries: { max: 0 }, timeouts: { consumerIdleMs: 300 } },
      ...(browser ? { gateway: { cors: { origins: '*' } } } : {}),
      upstreams: [up],
    });
    await stalled.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' }, limits: { maxConcurrency: 1 } });
  });
  afterAll(async () => stalled?.close());

  const inFlight = () => inFlightOf(stalled);

  /** A streamed chat request on a new connection that reads nothing (`stalledPost`), its answer far more than the socket buffers hold. */
  function stalledRequest(): Promise<StalledClient> {
    // 64 MiB of content in 1024 chunks.
    up.setScript({ text: 'x'.repeat(64 * 1024 * 1024), chunks: 1024 });
    return stalledPost(stalled, { model: 'gpt', stream: true, messages: [{ role: 'user', content: 'a long answer please' }] }, browser ? { origin: 'https://app.example.com' } : {});
  }

  it('is settled once the router gives up at consumerIdleMs (an error row, code timeout, with what was streamed billed; reservation, in-flight gauge and concurrency slot freed), and gets the error event last if it reads again', async () => {
    const abortedBefore = up.responsesAborted;
    const { socket, received } = await stalledRequest();
    try {
      // The router gave up on the consumer and cancelled the upstream request.
      await vi.waitFor(() => expect(up.responsesAborted).toBeGreaterThan(abortedBefore), { timeout: 20_000, interval: 50 });
      // The call is settled while the client still reads nothing: its ledger row is written ...
      const rows = await vi.waitFor(
        async () => {
          const r = await stalled.ledger.query({ tenantId: 'acme', limit: 10 });
          expect(r).toHaveLength(1);
          return r;
        },
        { timeout: 8000, interval: 50 },
      );
      // ... as the router's give-up (an error, not the client's abort), billing the content the gateway sent (estimated:
      // the upstream was cut before its usage chunk).
      expect(rows[0]).toMatchObject({ status: 'error', errorCode: 'timeout', stream: true });
      expect(rows[0]!.outputTokens).toBeGreaterThan(0);
      expect(rows[0]!.costUsd).toBeGreaterThan(0);
      // ... its reservation settled, nothing left in flight ...
      expect((await stalled.harness.stores!.budgets.spent('acme', 'month')).reservedUsd).toBe(0);
      expect(await inFlight()).toBe(0);
      // ... and the tenant's one concurrency slot is free again (a short answer: the stalled response is kept 10 s).
      up.setScript({ text: 'ok' });
      const next = await stalled.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'next' }] }).then(
        () => 'ok',
        (e: unknown) => String(e),
      );
      expect(next).toBe('ok');
      // The client reads again (well within the time its response is kept): what was buffered, then the error event
      // once, last, and the chunked body's end.
      socket.resume();
      await vi.waitFor(() => expect(received().subarray(-7).toString('latin1')).toBe('\r\n0\r\n\r\n'), { timeout: 8000, interval: 20 });
      const raw = received().toString('latin1');
      expect(raw.split('consumerIdleMs (300 ms)')).toHaveLength(2);
      expect(raw.slice(raw.lastIndexOf('data: '))).toMatch(/^data: \{"error":\{.*"code":"timeout".*consumerIdleMs \(300 ms\)/);
      expect(await stalled.ledger.query({ tenantId: 'acme', limit: 10 })).toHaveLength(2);
    } finally {
      socket.destroy();
    }
  }, 60_000);

  it('that never reads again: its connection is closed some seconds after the call settled', async () => {
    const before = (await stalled.ledger.query({ tenantId: 'acme', limit: 100 })).length;
    const { socket, server } = await stalledRequest();
    const serverClosed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    try {
      await vi.waitFor(async () => expect(await stalled.ledger.query({ tenantId: 'acme', limit: 100 })).toHaveLength(before + 1), { timeout: 20_000, interval: 50 });
      // Dropped (ABANDONED_LINGER_MS, 10 s), not held for as long as the client likes.
      await serverClosed;
      expect(server.destroyed).toBe(true);
    } finally {
      socket.destroy();
    }
  }, 60_000);
});

/**
 * Router streams that no attempt of the router's watches while the client does not read: an escalated cascade's (its
 * strong step's stream gives up on the cascade, whose own stream fails only on its next pull) and a cache hit's replay
 * (no attempt at all: a long cached answer is tens of MB of word-sized frames). The gateway gives up on them itself once
 * a write has waited `consumerIdleMs` for the client: the call settles as the router's give-up does (an `error` row,
 * code `timeout`), the router stream is cancelled, and the response is dropped 10 s later unless taken. The Node fast
 * path; a raw TCP client that pauses its socket.
 */
describe('a client that stops reading an escalated cascade stream or a cache hit replay', () => {
  let weak: OpenAIWireServer;
  let strong: OpenAIWireServer;
  let cachedUp: OpenAIWireServer;
  let gw: SdkGateway;
  // 200 000 words: a few MB of text, tens of MB of SSE frames once replayed word by word.
  const WORDS = 'word '.repeat(200_000);
  beforeAll(async () => {
    weak = await startOpenAIWireServer({ script: { text: WRONG, usage: WEAK_USAGE } });
    // 64 MiB of content in 1024 chunks: far more than the socket buffers hold.
    strong = await startOpenAIWireServer({ script: { text: 'x'.repeat(64 * 1024 * 1024), chunks: 1024 } });
    cachedUp = await startOpenAIWireServer({ script: { text: WORDS } });
    const c = mathCascade(weak, strong);
    gw = await servedGateway({
      models: [...c.models, { name: 'gpt', engine: 'openai-compatible', baseURL: cachedUp.baseURL, model: 'm1', apiKey: 'k', price: { input: 1, output: 2 } }],
      routing: { ...c.routing, timeouts: { consumerIdleMs: 300 } },
      cache: { exact: { enabled: true, ttlMs: 3_600_000 } },
      upstreams: [weak, strong, cachedUp],
    });
    await gw.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' }, limits: { maxConcurrency: 1 } });
  });
  afterAll(async () => gw?.close());

  const rows = async () => gw.ledger.query({ tenantId: 'acme', limit: 100 });

  /**
   * The stalled call (`rows` had `before` rows) is settled while its client reads nothing: an error row, code timeout;
   * nothing reserved or in flight; the tenant's one concurrency slot free again. Then the client reads: the error event
   * is last, once, and the chunked body ends.
   */
  async function settledWhileStalled(before: number, stalled: { socket: Socket; received: () => Buffer }) {
    const settled = await vi.waitFor(
      async () => {
        const r = await rows();
        expect(r).toHaveLength(before + 1);
        return r[0]!;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(settled).toMatchObject({ status: 'error', errorCode: 'timeout', stream: true });
    expect((await gw.harness.stores!.budgets.spent('acme', 'month')).reservedUsd).toBe(0);
    expect(await inFlightOf(gw)).toBe(0);
    // (A short answer: the stalled response is kept 10 s.)
    cachedUp.setScript({ text: 'ok' });
    const next = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: `next ${before}` }] }).then(
      () => 'ok',
      (e: unknown) => String(e),
    );
    expect(next).toBe('ok');
    stalled.socket.resume();
    await vi.waitFor(() => expect(stalled.received().subarray(-7).toString('latin1')).toBe('\r\n0\r\n\r\n'), { timeout: 10_000, interval: 20 });
    const raw = stalled.received().toString('latin1');
    expect(raw.split('consumerIdleMs (300 ms)')).toHaveLength(2);
    expect(raw.slice(raw.lastIndexOf('data: '))).toMatch(/^data: \{"error":\{.*"code":"timeout".*consumerIdleMs \(300 ms\)/);
    return settled;
  }

  it('an escalated cascade: settled once a write waited consumerIdleMs (its strong upstream cancelled), the weak step billed', async () => {
    const before = (await rows()).length;
    const stalled = await stalledPost(gw, { model: 'math-cascade', stream: true, messages: [{ role: 'user', content: QUESTION }] });
    try {
      await vi.waitFor(() => expect(strong.responsesAborted).toBeGreaterThan(0), { timeout: 20_000, interval: 50 });
      const row = await settledWhileStalled(before, stalled);
      // The weak step's answer and the strong step's streamed output.
      expect(row.inputTokens).toBeGreaterThanOrEqual(WEAK_USAGE.prompt_tokens);
      expect(row.outputTokens).toBeGreaterThan(WEAK_USAGE.completion_tokens);
    } finally {
      stalled.socket.destroy();
    }
  }, 60_000);

  it('a cache hit replay: settled once a write waited consumerIdleMs, not when (if ever) the client reads again', async () => {
    const messages = [{ role: 'user' as const, content: 'the long one' }];
    // Fills the cache (an answer not streamed: a stream of it is replayed from the cache the same).
    cachedUp.setScript({ text: WORDS });
    await gw.openai().chat.completions.create({ model: 'gpt', messages });
    const calls = cachedUp.requests.length;
    const before = (await rows()).length;
    const stalled = await stalledPost(gw, { model: 'gpt', stream: true, messages });
    try {
      await settledWhileStalled(before, stalled);
      // A replay: the upstream was not called for it (the one call more is `settledWhileStalled`'s next request).
      expect(cachedUp.requests).toHaveLength(calls + 1);
    } finally {
      stalled.socket.destroy();
    }
  }, 60_000);

  it('a cache hit replay never read again: its connection is closed some seconds after the call settled', async () => {
    const messages = [{ role: 'user' as const, content: 'the long one' }];
    cachedUp.setScript({ text: WORDS });
    await gw.openai().chat.completions.create({ model: 'gpt', messages });
    const before = (await rows()).length;
    const { socket, server } = await stalledPost(gw, { model: 'gpt', stream: true, messages });
    const serverClosed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    try {
      await vi.waitFor(async () => expect(await rows()).toHaveLength(before + 1), { timeout: 20_000, interval: 50 });
      // Dropped (10 s after), not held for as long as the client likes.
      await serverClosed;
      expect(server.destroyed).toBe(true);
    } finally {
      socket.destroy();
    }
  }, 60_000);
});
