/**
 * A stream the router gives up on while the gateway's client is still connected (the gateway, held back by a
 * slow client, did not pull within `consumerIdleMs`, or the attempt's `totalMs` fired while it was not pulling)
 * ends with the protocol's error event, never a silent clean end of a truncated answer, and is ledgered as an
 * `error` (not as the client's `aborted`), code `timeout` (an escalated cascade's, whose stream fails only on its next
 * pull, is given up on by the gateway after consumerIdleMs). Only the client's own leaving makes a stream `aborted`
 * without an error event (stream-errors.test.ts).
 */
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHarness, parseSse, post, type Harness } from '../test-support/harness.js';
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

async function harness(timeouts: { consumerIdleMs?: number; totalMs?: number }) {
  const harness = await createHarness({
    stores: 'memory',
    routerOptions: { env: {} },
    models: [
      { name: 'remote', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'k', model: 'gpt-test', price: { input: 1, output: 2 } },
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
      // cascade's error; after consumerIdleMs the gateway gives up first (it bounds any stream a client does not read).
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
