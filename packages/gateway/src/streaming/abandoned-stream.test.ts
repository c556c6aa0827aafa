/**
 * A stream the router gives up on while the gateway's client is still connected (the gateway, held back by a
 * slow client, did not pull within `consumerIdleMs`, or the attempt's `totalMs` fired while it was not pulling)
 * ends with the protocol's error event, never a silent clean end of a truncated answer, and is ledgered as an
 * `error` (not as the client's `aborted`), code `timeout` (an escalated cascade's, whose stream fails only on its next
 * pull, is given up on by the gateway after consumerIdleMs). Only the client's own leaving makes a stream `aborted`
 * without an error event (stream-errors.test.ts).
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHarness, parseSse, post, serveWithKey, type Harness } from '../test-support/harness.js';
import { chatChunk, chatUsageChunk, CHAT_DONE } from '../test-support/openai-chat-sse.js';
import { startRawUpstream, type RawUpstream } from '../test-support/raw-upstream.js';

let upstream: OpenAIWireServer;
let weak: OpenAIWireServer;
let h: Harness | undefined;
const TEXT = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');

beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: { text: TEXT } });
  // The cascade's weak answer gets its arithmetic wrong: the cascade escalates to the strong `remote`.
  weak = await startOpenAIWireServer({ script: { text: 'She makes 9 * 2 = 19 dollars.\n#### 19' } });
});
afterAll(async () => Promise.all([upstream?.close(), weak?.close()]));
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** `remote`: the strong deployment's own `timeouts` (none by default). */
async function harness(timeouts: { consumerIdleMs?: number; totalMs?: number }, remote: { consumerIdleMs?: number } = {}) {
  const harness = await createHarness({
    stores: 'memory',
    routerOptions: { env: {} },
    models: [
      { name: 'remote', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'k', model: 'gpt-test', price: { input: 1, output: 2 }, timeouts: remote },
      { name: 'weak', engine: 'openai-compatible', baseURL: weak.baseURL, apiKey: 'k', model: 'weak-test', price: { input: 1, output: 2 } },
    ],
    routing: { timeouts, cascades: [{ name: 'math', weak: 'weak', strong: 'remote', verifier: 'arithmetic' }] },
    gateway: { auth: { demoTenantId: 'demo' } },
  });
  await harness.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
  return harness;
}

/** Reads the first bytes, pauses `pauseMs` (a slow client), then reads the rest. */
async function slowRead(res: Response, pauseMs: number): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value, { stream: true });
  await new Promise((r) => setTimeout(r, pauseMs));
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

/** The ledger record of `id`, polled for up to 2 s (the settlement may follow the last frame read). */
async function ledgerEntry(harness: Harness, id: string) {
  let entry;
  for (let i = 0; i < 100 && !entry; i++) {
    entry = await harness.stores!.ledger.get(id);
    if (!entry) await new Promise((r) => setTimeout(r, 20));
  }
  return entry;
}

describe('a stream the router abandoned while a slow client was still connected', () => {
  const cases = [
    ['/v1/chat/completions', { model: 'remote', messages: [{ role: 'user', content: 'go' }], stream: true }],
    ['/v1/completions', { model: 'remote', prompt: 'go', stream: true }],
    ['/v1/responses', { model: 'remote', input: 'go', stream: true }],
    ['/v1/messages', { model: 'remote', max_tokens: 4000, messages: [{ role: 'user', content: 'go' }], stream: true }],
    // A cascade's strong step: its error (the strong call's code) goes out the same way.
    ['/v1/chat/completions', { model: 'math', messages: [{ role: 'user', content: 'go' }], stream: true }],
  ] as const;
  for (const [label, timeouts, code, message] of [
    ['consumerIdleMs 100', { consumerIdleMs: 100 }, 'timeout', /Timed out: the stream was abandoned: its consumer did not ask for the next part within consumerIdleMs \(100 ms\)/],
    ['totalMs 400', { totalMs: 400 }, 'timeout', /Timed out: .*did not finish within totalMs \(400 ms\); it was abandoned while its consumer was not reading/],
  ] as const)
  for (const [path, body] of cases) {
    it(`${label}, ${path} (${body.model}): the client gets the protocol's error event (${code}) last, and the row says error`, async () => {
      h = await harness(timeouts);
      const res = await post(h.gateway, path, body);
      expect(res.status).toBe(200);
      const text = await slowRead(res, 800);
      const last = parseSse(text).at(-1)!;
      // The answer did not complete...
      expect(text).not.toContain('word399');
      // ...and the client was told: an error event last (OpenAI: data {"error"}, Anthropic/Responses: event error).
      if (path === '/v1/messages' || path === '/v1/responses') expect(last.event).toBe('error');
      const payload = JSON.parse(last.data) as { error?: { code?: string; message?: string } };
      expect(payload.error).toMatchObject({ code, message: expect.stringMatching(message) });
      // A cascade's stream fails only on its next pull once its strong step gave up: at totalMs the client's pull gets the
      // cascade's error; after consumerIdleMs the gateway gives up first (it bounds the streams the router does not watch).
      if (body.model === 'math' && 'totalMs' in timeouts) expect(payload.error!.message).toMatch(/^Cascade "math": .*the strong model "remote" failed: /);
      // Not the client's abort: an error on the ledger, with what was streamed billed.
      const entry = await ledgerEntry(h, res.headers.get('x-request-id')!);
      expect(entry).toMatchObject({ status: 'error', stream: true, errorCode: code });
      expect(entry!.outputTokens).toBeGreaterThan(0);
    });
  }
});

/**
 * Watching a stream for the router's give-up (`.result`'s rejection, from the first frame asked for: `gateway.fetch`)
 * does not make the router read ahead of a slow client: a raw upstream that writes 64 MiB with backpressure (waiting
 * for 'drain'), counting what it wrote; a `gateway.fetch` Response body read slowly. Were the router reading ahead, the
 * upstream would write everything while the client reads nothing.
 */
describe('a slow client of gateway.fetch: the router does not read ahead of it', () => {
  const CHUNK = 'x'.repeat(64 * 1024);
  const CHUNKS = 1024;
  let raw: RawUpstream;
  let slow: Harness;
  let written = 0;
  let blockedSince: number | undefined;
  let finished = false;

  beforeAll(async () => {
    raw = await startRawUpstream();
    raw.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const pump = () => {
        while (i < CHUNKS) {
          const line = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: CHUNK }, finish_reason: null }] })}\n\n`;
          i++;
          written += line.length;
          if (!res.write(line)) {
            blockedSince = Date.now();
            res.once('drain', () => {
              blockedSince = undefined;
              pump();
            });
            return;
          }
        }
        res.end(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
        finished = true;
      };
      pump();
    };
    slow = await createHarness({ models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: `${raw.url}/v1`, model: 'm', apiKey: 'k' }], routerOptions: { env: {} } });
  });
  afterAll(async () => {
    await slow?.close();
    await raw?.close();
  });

  it('the upstream stays blocked on backpressure while the Response body is not read, then the whole answer comes', async () => {
    const res = await slow.gateway.fetch(new Request('http://gw/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt', stream: true, messages: [{ role: 'user', content: 'go' }] }) }));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    // The upstream blocks (its socket to the gateway full) and stays blocked for a while: nobody reads ahead.
    await vi.waitFor(() => expect(blockedSince !== undefined && Date.now() - blockedSince > 1000).toBe(true), { timeout: 15_000, interval: 50 });
    expect(finished).toBe(false);
    expect(written).toBeLessThan((CHUNKS * CHUNK.length) / 4);
    let bytes = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      bytes += r.value.byteLength;
    }
    expect(finished).toBe(true);
    expect(bytes).toBeGreaterThan(CHUNKS * CHUNK.length);
  }, 60_000);
});

/**
 * The gateway's own bound on a client that takes nothing (`unwatchedIdleBound`) is only for the streams the router does
 * not watch (a cache hit's replay, a cascade's), at the limit the router would use for them; an ordinary model stream is
 * left to the router's give-up (the answering deployment's own `timeouts.consumerIdleMs` first, none when only `totalMs`
 * is set), and gets no timer of the gateway's. The bound cuts no client that reads, nor an upstream that is silent, and
 * its timers are cleared (or fired) on every end path.
 */
describe("the gateway's bound on a client that takes nothing", () => {
  const IDLE = 400;
  const ORIGIN = 'https://app.example';
  const BODY = { model: 'gpt', messages: [{ role: 'user', content: 'go' }], stream: true };
  let raw: RawUpstream | undefined;
  let closeServed: (() => Promise<void>) | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await closeServed?.();
    closeServed = undefined;
    await h?.close();
    h = undefined;
    await raw?.close();
    raw = undefined;
  });

  /** The timers SseFrames arms for the bound (`idleCheck`, `stalledTooLong`), as made. */
  function trackBoundTimers(): Array<{ name: string; timer: NodeJS.Timeout }> {
    const made: Array<{ name: string; timer: NodeJS.Timeout }> = [];
    const original = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const timer = original(fn, ms, ...args);
      if (fn.name === 'idleCheck' || fn.name === 'stalledTooLong') made.push({ name: fn.name, timer });
      return timer;
    }) as typeof setTimeout);
    return made;
  }
  const destroyed = (t: NodeJS.Timeout) => (t as unknown as { _destroyed: boolean })._destroyed;

  /**
   * A raw upstream streaming `n` content chunks (a pause before chunk `pause.at`; broken off at `breakAt`), served by
   * deployment `gpt` (its own `timeouts`: `own`) under routing `consumerIdleMs` IDLE.
   */
  async function upstreamHarness(n: number, opts: { pause?: { at: number; ms: number }; breakAt?: number; streamHoldMs?: number; own?: { consumerIdleMs?: number } } = {}) {
    raw = await startRawUpstream();
    raw.handle = (_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      void (async () => {
        res.write(chatChunk({ role: 'assistant', content: '' }));
        for (let i = 0; i < n; i++) {
          if (opts.pause && i === opts.pause.at) await new Promise((r) => setTimeout(r, opts.pause!.ms));
          if (opts.breakAt === i) {
            res.destroy();
            return;
          }
          res.write(chatChunk({ content: `w${i} ` }));
        }
        res.write(chatChunk({}, 'stop'));
        res.write(chatUsageChunk({ prompt_tokens: 3, completion_tokens: n, total_tokens: 3 + n }));
        res.end(CHAT_DONE);
      })();
    };
    h = await createHarness({
      stores: 'memory',
      models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: `${raw.url}/v1`, model: 'm', apiKey: 'k', price: { input: 1, output: 2 }, ...(opts.own ? { timeouts: opts.own } : {}) }],
      routing: { timeouts: { consumerIdleMs: IDLE } },
      routerOptions: { env: {} },
      gateway: { auth: { demoTenantId: 'demo' }, cors: { origins: [ORIGIN] }, ...(opts.streamHoldMs !== undefined ? { streamHoldMs: opts.streamHoldMs } : {}) },
    });
    await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
    return h;
  }

  /** A mock deployment `gpt` answering `words` words, its answer cached by a first (non-streamed) call: streams replay it. */
  async function replayHarness(words: number, timeouts: { consumerIdleMs?: number; totalMs?: number }) {
    const reply = Array.from({ length: words }, (_, i) => `r${i}`).join(' ');
    h = await createHarness({
      stores: 'memory',
      models: [{ name: 'gpt', engine: 'mock', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming'], options: { reply } }],
      routing: { timeouts },
      cache: { exact: { enabled: true, ttlMs: 3_600_000 } },
      gateway: { auth: { demoTenantId: 'demo' } },
    });
    await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
    await (await post(h.gateway, '/v1/chat/completions', { ...BODY, stream: false })).text();
    return h;
  }

  async function ledger(harness: Harness, id: string) {
    let entry;
    await vi.waitFor(
      async () => {
        entry = await harness.stores!.ledger.get(id);
        expect(entry).toBeDefined();
      },
      { timeout: 5000, interval: 20 },
    );
    return entry as unknown as { status: string; errorCode?: string };
  }

  /** A raw HTTP POST to the served gateway: the response, read as the test likes. */
  function rawPost(url: string, secret: string, headers: Record<string, string> = {}) {
    return new Promise<IncomingMessage>((resolve, reject) => {
      const r = httpRequest(new URL('/v1/chat/completions', url), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}`, ...headers } }, resolve);
      r.on('error', reject);
      r.end(JSON.stringify(BODY));
    });
  }

  async function readAll(res: IncomingMessage): Promise<string> {
    let text = '';
    res.setEncoding('utf8');
    for await (const c of res) text += c as string;
    return text;
  }

  it('a cache hit replay read one frame every 0.5 x consumerIdleMs gets the whole answer; the bound timers end with it', async () => {
    const timers = trackBoundTimers();
    const harness = await replayHarness(12, { consumerIdleMs: IDLE });
    const res = await post(harness.gateway, '/v1/chat/completions', BODY);
    expect(res.headers.get('x-llmrr-cache')).toBe('hit-exact');
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      await new Promise((r) => setTimeout(r, IDLE * 0.5));
    }
    expect(text).toContain('r11');
    expect(parseSse(text).at(-1)!.data).toBe('[DONE]');
    expect(await ledger(harness, res.headers.get('x-request-id')!)).toMatchObject({ status: 'success' });
    expect(timers.filter((t) => t.name === 'idleCheck').length).toBeGreaterThan(0);
    expect(timers.every((t) => destroyed(t.timer))).toBe(true);
  });

  it('a cache hit replay whose reader stops is settled as a timeout error (the router does not bound a replay)', async () => {
    const harness = await replayHarness(200, { consumerIdleMs: IDLE });
    const res = await post(harness.gateway, '/v1/chat/completions', BODY);
    const reader = res.body!.getReader();
    await reader.read();
    expect(await ledger(harness, res.headers.get('x-request-id')!)).toMatchObject({ status: 'error', errorCode: 'timeout' });
    await reader.cancel();
  });

  it('a cache hit replay under routing totalMs only (the router applies no idle limit then) gets no bound', async () => {
    const timers = trackBoundTimers();
    const harness = await replayHarness(12, { totalMs: 60_000 });
    const res = await post(harness.gateway, '/v1/chat/completions', BODY);
    expect(res.headers.get('x-llmrr-cache')).toBe('hit-exact');
    const text = await res.text();
    expect(parseSse(text).at(-1)!.data).toBe('[DONE]');
    expect(timers).toEqual([]);
  });

  it('the bound timers are cleared when the reader of a replay cancels mid-stream', async () => {
    const timers = trackBoundTimers();
    const harness = await replayHarness(200, { consumerIdleMs: IDLE });
    const res = await post(harness.gateway, '/v1/chat/completions', BODY);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    expect(await ledger(harness, res.headers.get('x-request-id')!)).toMatchObject({ status: 'aborted' });
    expect(timers.length).toBeGreaterThan(0);
    await vi.waitFor(() => expect(timers.every((t) => destroyed(t.timer))).toBe(true), { timeout: 5000 });
  });

  it('a deployment whose own consumerIdleMs is 0 (never): a reader that pauses 4 x the routing consumerIdleMs gets the whole answer', async () => {
    const timers = trackBoundTimers();
    const harness = await upstreamHarness(8, { own: { consumerIdleMs: 0 } });
    const res = await post(harness.gateway, '/v1/chat/completions', BODY);
    const text = await slowRead(res, IDLE * 4);
    expect(await ledger(harness, res.headers.get('x-request-id')!)).toMatchObject({ status: 'success' });
    expect(text).toContain('w7 ');
    // An ordinary model stream: the router's watch only.
    expect(timers).toEqual([]);
  });

  it("an escalated cascade whose reader stops is given up on by the gateway at the strong deployment's own consumerIdleMs", async () => {
    const timers = trackBoundTimers();
    h = await harness({ consumerIdleMs: 100 }, { consumerIdleMs: 300 });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'math', messages: [{ role: 'user', content: 'go' }], stream: true });
    expect(res.status).toBe(200);
    const text = await slowRead(res, 2000);
    expect(text).not.toContain('word399');
    // The gateway's own error (not the cascade's, which a pull after the strong step gave up would get), at 300 ms.
    const payload = JSON.parse(parseSse(text).at(-1)!.data) as { error: { code: string; message: string } };
    expect(payload.error).toMatchObject({ code: 'timeout', message: expect.stringMatching(/^Timed out: the stream was abandoned: .*consumerIdleMs \(300 ms\)/) });
    expect(await ledgerEntry(h, res.headers.get('x-request-id')!)).toMatchObject({ status: 'error', errorCode: 'timeout' });
    expect(timers.filter((t) => t.name === 'idleCheck').length).toBeGreaterThan(0);
  });

  it('an escalated cascade whose strong deployment says consumerIdleMs 0 (never): a reader that pauses gets the whole answer', async () => {
    const timers = trackBoundTimers();
    h = await harness({ consumerIdleMs: 100 }, { consumerIdleMs: 0 });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'math', messages: [{ role: 'user', content: 'go' }], stream: true });
    expect(res.status).toBe(200);
    const text = await slowRead(res, 800);
    expect(text).toContain('word399');
    expect(parseSse(text).at(-1)!.data).toBe('[DONE]');
    expect(await ledger(h, res.headers.get('x-request-id')!)).toMatchObject({ status: 'success' });
    expect(timers).toEqual([]);
  });

  it('gateway.fetch (in-process): an upstream silent for 4 x consumerIdleMs while the reader waits is not cut', async () => {
    const harness = await upstreamHarness(4, { pause: { at: 2, ms: IDLE * 4 } });
    const res = await post(harness.gateway, '/v1/chat/completions', BODY);
    const text = await res.text();
    expect(text).toContain('w3 ');
    expect(parseSse(text).at(-1)!.data).toBe('[DONE]');
    expect(await ledger(harness, res.headers.get('x-request-id')!)).toMatchObject({ status: 'success' });
  });

  it('an upstream that breaks off: the error event, ledgered as error, no bound timer left', async () => {
    const timers = trackBoundTimers();
    const harness = await upstreamHarness(6, { pause: { at: 2, ms: 200 }, breakAt: 3 });
    const res = await post(harness.gateway, '/v1/chat/completions', BODY);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"error"');
    expect(await ledger(harness, res.headers.get('x-request-id')!)).toMatchObject({ status: 'error' });
    expect(timers.every((t) => destroyed(t.timer))).toBe(true);
  });

  for (const [label, headers] of [
    ['Node fast path', {}],
    ['gateway.fetch path (Origin, CORS on)', { origin: ORIGIN }],
  ] as const) {
    it(`serveGateway, ${label}, upstream silent for 3 x consumerIdleMs: the whole answer, no bound timer made`, async () => {
      const harness = await upstreamHarness(4, { pause: { at: 2, ms: IDLE * 3 } });
      const { secret, served } = await serveWithKey(harness);
      closeServed = () => served.close(0);
      const timers = trackBoundTimers();
      const res = await rawPost(served.url, secret, headers);
      const text = await readAll(res);
      expect(res.statusCode).toBe(200);
      if ('origin' in headers) expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(text).toContain('w3 ');
      expect(parseSse(text).at(-1)!.data).toBe('[DONE]');
      expect(timers).toEqual([]);
      expect(await ledger(harness, res.headers['x-request-id'] as string)).toMatchObject({ status: 'success' });
    });

    it(`a held stream (streamHoldMs) read normally, ${label}: keep-alives, then the answer whole and in order`, async () => {
      const harness = await upstreamHarness(20, { pause: { at: 0, ms: 2300 }, streamHoldMs: 1000 });
      const { secret, served } = await serveWithKey(harness);
      closeServed = () => served.close(0);
      const res = await rawPost(served.url, secret, headers);
      const text = await readAll(res);
      expect(res.statusCode).toBe(200);
      const lead = /^(: keep-alive\n\n)+/.exec(text)?.[0] ?? '';
      expect(lead.length).toBeGreaterThan(0);
      // No keep-alive after the first data frame; every frame after them is data, one role delta, one [DONE].
      expect(text.slice(lead.length)).not.toContain(': keep-alive');
      const frames = parseSse(text.slice(lead.length));
      const deltas = frames.filter((f) => f.data !== '[DONE]').map((f) => (JSON.parse(f.data) as { choices: Array<{ delta?: { role?: string; content?: string } }> }).choices[0]?.delta);
      expect(deltas.map((d) => d?.content ?? '').join('')).toBe(Array.from({ length: 20 }, (_, i) => `w${i} `).join(''));
      expect(deltas.filter((d) => d?.role !== undefined)).toHaveLength(1);
      expect(frames.filter((f) => f.data === '[DONE]')).toHaveLength(1);
      expect(await ledger(harness, res.headers['x-request-id'] as string)).toMatchObject({ status: 'success' });
    }, 20_000);
  }

  it('server close while a gateway.fetch stream waits on its upstream settles it, no bound timer left', async () => {
    const harness = await upstreamHarness(4, { pause: { at: 1, ms: 3000 } });
    const { secret, served } = await serveWithKey(harness);
    const timers = trackBoundTimers();
    const res = await rawPost(served.url, secret, { origin: ORIGIN });
    res.resume();
    await served.close(0);
    const entry = await ledger(harness, res.headers['x-request-id'] as string);
    expect(entry.status).not.toBe('success');
    expect(timers.every((t) => destroyed(t.timer))).toBe(true);
  });
});
