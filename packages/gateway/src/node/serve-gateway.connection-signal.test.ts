/**
 * The connection signal on both of serveGateway's paths, as browsers reach it (an Origin with CORS on: served through
 * gateway.fetch): a browser stream whose client leaves is ledgered aborted; at the shutdown cut a browser's
 * non-streamed /v1/messages answers 503 in Anthropic's shape with its CORS header, and a browser stream of a wrapped
 * router (no cancellable streams) ends with the error event; a JSON answer whose client left while its call (one that
 * does not watch the signal) ran is ledgered aborted with its full cost, served directly and through gateway.fetch.
 */
import Anthropic from '@anthropic-ai/sdk';
import { LLMRouter } from '@llmrr/core';
import { createGateway } from '../gateway.js';
import { describe, expect, it, vi } from 'vitest';
import { createHarness, get, mockModel, type Harness } from '../test-support/harness.js';
import { rawConnection, requestsTaken } from '../test-support/raw-http.js';
import { wrapRouter } from '../test-support/wrapped-router.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

const ORIGIN = 'https://app.example.com';

async function setup(models = [mockModel('slow', { delayMs: 30_000 }), mockModel('long', { reply: 'one two three four five six seven eight nine ten', chunkDelayMs: 150 }), mockModel('fast')]): Promise<{ h: Harness; served: ServedGateway; secret: string }> {
  const h = await createHarness({ stores: 'memory', models, gateway: { cors: { origins: [ORIGIN] } } });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { maxConcurrency: 8 }, budget: { amountUsd: 5, period: 'total' } });
  const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
  // A cut's bound far past these tests (`cutSettleMs`): an answer of the cut is never raced against it.
  return { h, served: await serveGateway(h.gateway, { port: 0, cutSettleMs: 20_000 }), secret };
}

async function inFlight(h: Harness): Promise<number> {
  const text = await (await get(h.gateway, '/metrics')).text();
  return Number(/^llm_requests_in_flight (\d+)/m.exec(text)?.[1] ?? 'NaN');
}

const chat = (secret: string, model: string, extra: Record<string, string> = {}, stream = false) => {
  const body = JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] });
  const headers = Object.entries({ host: 'gw', authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...extra })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `POST /v1/chat/completions HTTP/1.1\r\n${headers}\r\n${body}`;
};

describe('browser requests (through gateway.fetch) and the connection signal', () => {
  it('a browser stream whose client leaves mid-stream is ledgered aborted, nothing left in flight', async () => {
    const { h, served, secret } = await setup();
    try {
      const c = rawConnection(served.url);
      c.socket.write(chat(secret, 'long', { origin: ORIGIN }, true));
      await vi.waitFor(() => expect(c.raw()).toMatch(/data: \{/), { timeout: 10_000, interval: 20 });
      expect(c.raw()).toMatch(/access-control-allow-origin: https:\/\/app\.example\.com/i);
      c.socket.destroy();
      await vi.waitFor(async () => expect((await h.stores!.ledger.query({ tenantId: 'acme', limit: 5 })).length).toBe(1), { timeout: 10_000, interval: 20 });
      const rows = await h.stores!.ledger.query({ tenantId: 'acme', limit: 5 });
      expect(rows.map((r) => [r.status, r.errorCode, r.stream])).toEqual([['aborted', 'aborted', true]]);
      await vi.waitFor(async () => expect(await inFlight(h)).toBe(0), { timeout: 5000, interval: 20 });
    } finally {
      await served.close(0);
      await h.close();
    }
  });

  it('a non-streamed /v1/messages from a browser (official Anthropic client, CORS origin) answers 503 shutting_down in Anthropic shape (api_error, as served directly) at the cut', async () => {
    const { h, served, secret } = await setup();
    try {
      const anthropic = new Anthropic({ baseURL: served.url, apiKey: secret, maxRetries: 0, defaultHeaders: { origin: ORIGIN } });
      let allow: string | null = null;
      const answer = anthropic.messages
        .create({ model: 'slow', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
        .withResponse()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      await vi.waitFor(async () => expect(await inFlight(h)).toBe(1), { timeout: 10_000, interval: 20 });
      await served.close(50);
      const error = (await answer) as InstanceType<typeof Anthropic.APIError>;
      expect(error).toBeInstanceOf(Anthropic.APIError);
      allow = error.headers?.get('access-control-allow-origin') ?? null;
      expect({ status: error.status, type: (error.error as { error?: { type?: string } })?.error?.type, allow }).toEqual({ status: 503, type: 'api_error', allow: ORIGIN });
      await h.gateway.close();
      const rows = await h.stores!.ledger.query({ tenantId: 'acme', limit: 5 });
      expect(rows.map((r) => `${r.status}:${r.errorCode}`)).toEqual(['error:shutting_down']);
    } finally {
      await served.close(0);
      await h.close();
    }
  });
});

describe('a browser stream of a wrapped router (no cancellable streams) at the cut', () => {
  it('ends with the error event (its connection signal now aborted by the cut too)', async () => {
    const inner = new LLMRouter({ models: [mockModel('long', { reply: 'one two three four five six seven eight nine ten', chunkDelayMs: 150 })], routing: { strategy: 'priority', retries: { max: 0 } } });
    const router = wrapRouter(inner);
    const gateway = createGateway({ router, log: () => {}, cors: { origins: [ORIGIN] } });
    const served = await serveGateway(gateway, { port: 0, cutSettleMs: 20_000 });
    try {
      const res = await fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ model: 'long', stream: true, messages: [{ role: 'user', content: 'count' }] }),
      });
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      const reader = res.body!.getReader();
      let text = Buffer.from((await reader.read()).value!).toString('utf8');
      const all = (async () => {
        for (;;) {
          const next = await reader.read().catch(() => ({ done: true as const, value: undefined }));
          if (next.done) return text;
          text += Buffer.from(next.value).toString('utf8');
        }
      })();
      await served.close(100);
      expect(await all).toMatch(/"code":"shutting_down"/);
    } finally {
      await served.close(0);
      await gateway.close();
      await inner.close();
    }
  });
});

describe('a live JSON answer whose client left while its (signal-ignoring) call ran', () => {
  for (const browser of [false, true]) {
    it(`is ledgered aborted with its full cost, and the budget charged that cost (${browser ? 'through gateway.fetch' : 'direct'})`, async () => {
      const { h, served, secret } = await setup([mockModel('timed', { delayMs: 400 })]);
      // A router call that does not watch the signal (a local engine, a wrapped router): it answers after its client left.
      const generate = h.router.generate.bind(h.router);
      let done!: () => void;
      const answered = new Promise<void>((r) => (done = r));
      h.router.generate = (async (request: Parameters<typeof generate>[0], options: Parameters<typeof generate>[1]) => {
        const { signal: _ignored, ...rest } = options ?? {};
        try {
          return await generate(request, rest);
        } finally {
          done();
        }
      }) as typeof generate;
      try {
        const c = rawConnection(served.url);
        const one = requestsTaken(served.server, 1);
        c.socket.write(chat(secret, 'timed', browser ? { origin: ORIGIN } : {}));
        await one;
        c.socket.destroy();
        await answered;
        await vi.waitFor(async () => expect((await h.stores!.ledger.query({ tenantId: 'acme', limit: 5 })).length).toBe(1), { timeout: 10_000, interval: 20 });
        const [row] = await h.stores!.ledger.query({ tenantId: 'acme', limit: 5 });
        const spent = await h.stores!.budgets.spent('acme', 'total');
        expect({ status: row!.status, positive: row!.costUsd > 0, charged: spent.spentUsd, reserved: spent.reservedUsd }).toEqual({ status: 'aborted', positive: true, charged: row!.costUsd, reserved: 0 });
      } finally {
        await served.close(0);
        await h.close();
      }
    });
  }
});
