/**
 * A stream the router gives up on while the gateway's client is still connected (the gateway, held back by a
 * slow client, did not pull within `consumerIdleMs`, or the attempt's `totalMs` fired while it was not pulling)
 * ends with the protocol's error event, never a silent clean end of a truncated answer, and is ledgered as an
 * `error` (not as the client's `aborted`): `aborted` for consumerIdleMs, `timeout` for totalMs. Only the
 * client's own leaving makes a stream `aborted` without an error event (stream-errors.test.ts).
 */
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, parseSse, post, type Harness } from '../test-support/harness.js';

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
      if (body.model === 'math') expect(payload.error!.message).toMatch(/^Cascade "math": .*the strong model "remote" failed: /);
      // Not the client's abort: an error on the ledger, with what was streamed billed.
      const entry = await ledgerEntry(h, res.headers.get('x-request-id')!);
      expect(entry).toMatchObject({ status: 'error', stream: true, errorCode: code });
      expect(entry!.outputTokens).toBeGreaterThan(0);
    });
  }
});
