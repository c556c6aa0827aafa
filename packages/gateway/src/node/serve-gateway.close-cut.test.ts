/**
 * A stream still running when `close(graceMs)`'s grace ends is ended with its route's own error event before its
 * connection closes (chat completions' `data: {"error": ...}`, the Responses API's `error` event, the legacy
 * completion's error data frame, Anthropic's `event: error`), so the official clients throw their typed API error
 * (not a connection error), and the call is settled as an `error` with code `shutting_down` (ledger row with
 * the tokens sent, concurrency place and budget reservation given back) by the time `gateway.close()` resolves.
 * A browser's stream (an Origin with CORS on, served through `gateway.fetch`) gets the same event, and so does a
 * stream of a wrapped router whose streams have no `cancel` (stopped through the call's own abort signal).
 * A streamed request whose stream has not opened yet (its upstream's first token not come, or its body still
 * arriving when the cut starts) answers 503 `shutting_down` in its route's error shape, ledgered as that error.
 * A server cuts only the streams it carries: not another server's of the same gateway, nor an in-process
 * `gateway.fetch`'s; and a wrapped router's `cancel` that throws does not escape the cut, which still ends the others.
 */
import Anthropic from '@anthropic-ai/sdk';
import { LLMRouter, type GenerateOptions, type GenerateRequest, type RouterStream } from '@llmrr/core';
import { request as httpRequest } from 'node:http';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { createHarness, get, mockModel, parseSse } from '../test-support/harness.js';
import type { GatewayRouter } from '../types.js';
import { serveGateway } from './serve-gateway.js';

const LIMITS = { maxConcurrency: 8 };
const ORIGIN = 'https://app.example.com';
const REPLY = 'one two three four five six seven eight nine ten';

/** Iterates `stream` to its end; resolves with the text of each item and what ended it (undefined: a clean end). */
async function drain<T>(stream: AsyncIterable<T>, started: () => void): Promise<{ items: number; error: unknown }> {
  let items = 0;
  try {
    for await (const _ of stream) {
      items++;
      started();
    }
    return { items, error: undefined };
  } catch (error) {
    return { items, error };
  }
}

describe('close(graceMs) ending the streams still running at the end of the grace', () => {
  it('each route sends its error event, the official clients throw their API error, and each call is one error row with nothing held', async () => {
    const h = await createHarness({
      stores: 'memory',
      models: [mockModel('long', { reply: 'one two three four five six seven eight nine ten', chunkDelayMs: 150 })],
      gateway: { cors: { origins: [ORIGIN] } },
    });
    const stores = h.stores!;
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS, budget: { amountUsd: 5, period: 'total' } });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const openai = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
      const anthropic = new Anthropic({ baseURL: served.url, apiKey: secret, maxRetries: 0 });
      const messages = [{ role: 'user' as const, content: 'count' }];
      let running = 0;
      let allStarted!: () => void;
      const started = new Promise<void>((r) => (allStarted = r));
      const once = () => {
        let seen = false;
        return () => {
          if (seen) return;
          seen = true;
          if (++running === 5) allStarted();
        };
      };
      const chat = drain(await openai.chat.completions.create({ model: 'long', messages, stream: true }), once());
      const responses = drain(await openai.responses.create({ model: 'long', input: 'count', stream: true }), once());
      const legacy = drain(await openai.completions.create({ model: 'long', prompt: 'count', stream: true }), once());
      const claude = drain(anthropic.messages.stream({ model: 'long', max_tokens: 100, messages }), once());
      // A browser's stream: through gateway.fetch (CORS), read as text.
      const browserStarted = once();
      const browser = fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}`, origin: ORIGIN },
        body: JSON.stringify({ model: 'long', stream: true, messages }),
      }).then(async (res) => {
        expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
        const reader = res.body!.getReader();
        let text = '';
        for (;;) {
          const next = await reader.read().catch((e: unknown) => ({ failed: e }));
          if ('failed' in next) return { text, failed: next.failed };
          if (next.done) return { text, failed: undefined };
          text += Buffer.from(next.value).toString('utf8');
          browserStarted();
        }
      });
      await started;
      await served.close(200);
      await h.gateway.close();
      const [rows, budget, limits] = await Promise.all([
        stores.ledger.query({ tenantId: 'acme', limit: 10 }),
        stores.budgets.spent('acme', 'total'),
        stores.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits: LIMITS }]),
      ]);

      for (const [name, p] of [['chat', chat], ['responses', responses], ['completions', legacy]] as const) {
        const { items, error } = await p;
        expect({ name, items: items > 0, apiError: error instanceof OpenAI.APIError, connectionError: error instanceof OpenAI.APIConnectionError }).toEqual({
          name,
          items: true,
          apiError: true,
          connectionError: false,
        });
        expect((error as Error).message).toMatch(/shutting down/);
      }
      const claudeEnd = await claude;
      expect(claudeEnd.error).toBeInstanceOf(Anthropic.APIError);
      expect(claudeEnd.error).not.toBeInstanceOf(Anthropic.APIConnectionError);
      expect((claudeEnd.error as Error).message).toMatch(/shutting down/);
      const page = await browser;
      expect(page.failed).toBeUndefined();
      const last = parseSse(page.text).at(-1)!;
      expect(JSON.parse(last.data)).toMatchObject({ error: { code: 'shutting_down', type: 'api_error' } });

      expect(rows.map((r) => ({ status: r.status, errorCode: r.errorCode, stream: r.stream, outputTokens: r.outputTokens > 0 }))).toEqual(
        Array.from({ length: 5 }, () => ({ status: 'error', errorCode: 'shutting_down', stream: true, outputTokens: true })),
      );
      // The metrics tell the shutdown cut from an upstream's broken stream (`stream_interrupted`) too.
      const metrics = await (await get(h.gateway, '/metrics')).text();
      expect(metrics).toContain('llm_requests_total{model="long",status="shutting_down",tenant="acme"} 5');
      expect(metrics).not.toContain('status="stream_interrupted"');
      expect({ reservedUsd: budget.reservedUsd, remainingConcurrency: limits.remainingConcurrency }).toEqual({ reservedUsd: 0, remainingConcurrency: 8 });
    } finally {
      await served.close(0);
      await h.router.close();
      await stores.close();
    }
  });

  it('a wrapped router without cancellable streams: the stream is stopped through its signal and ends with the error event', async () => {
    const inner = new LLMRouter({ models: [mockModel('long', { reply: 'one two three four five six seven eight nine ten', chunkDelayMs: 150 })], routing: { strategy: 'priority', retries: { max: 0 } } });
    const signals: Array<AbortSignal | undefined> = [];
    const router: GatewayRouter = {
      generate: (r, o) => inner.generate(r, o),
      route: (r, o) => inner.route(r, o),
      models: (t) => inner.models(t),
      stream(request: GenerateRequest, options?: GenerateOptions): RouterStream {
        signals.push(options?.signal);
        const s = inner.stream(request, options);
        return { requestId: s.requestId, result: s.result, [Symbol.asyncIterator]: () => s[Symbol.asyncIterator]() };
      },
    };
    const gateway = createGateway({ router, log: () => {} });
    const served = await serveGateway(gateway, { port: 0, cutSettleMs: 20_000 });
    try {
      const openai = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'none', maxRetries: 0 });
      let first!: () => void;
      const started = new Promise<void>((r) => (first = r));
      const chat = drain(await openai.chat.completions.create({ model: 'long', messages: [{ role: 'user', content: 'count' }], stream: true }), () => first());
      await started;
      const closing = performance.now();
      await served.close(100);
      const { items, error } = await chat;
      expect({ items: items > 0, apiError: error instanceof OpenAI.APIError, connectionError: error instanceof OpenAI.APIConnectionError }).toEqual({ items: true, apiError: true, connectionError: false });
      expect((error as Error).message).toMatch(/shutting down/);
      // Ended by the event, not by the cut's bound after the grace (20 s here: far from it under any load).
      expect(performance.now() - closing).toBeLessThan(10_000);
      expect(signals.map((s) => s?.aborted)).toEqual([true]);
    } finally {
      await served.close(0);
      await gateway.close();
      await inner.close();
    }
  });
});

/** Starts a streamed chat completion on `url`; resolves once its first bytes came, with a promise of its whole text. */
async function startStream(url: string, content: string): Promise<{ text: Promise<string> }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'long', stream: true, messages: [{ role: 'user', content }] }),
  });
  const reader = res.body!.getReader();
  const first = await reader.read();
  let text = Buffer.from(first.value!).toString('utf8');
  const all = (async () => {
    for (;;) {
      const next = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (next.done) return text;
      text += Buffer.from(next.value).toString('utf8');
    }
  })();
  return { text: all };
}

/** A router over `inner` whose streams' `cancel` cancels the inner stream, then throws (a wrapper's own bookkeeping failing). */
function throwingCancelRouter(inner: LLMRouter): GatewayRouter {
  return {
    generate: (r, o) => inner.generate(r, o),
    route: (r, o) => inner.route(r, o),
    models: (t) => inner.models(t),
    cancellableStreams: true,
    stream(request: GenerateRequest, options?: GenerateOptions): RouterStream {
      const s = inner.stream(request, options);
      return {
        requestId: s.requestId,
        result: s.result,
        [Symbol.asyncIterator]: () => s[Symbol.asyncIterator](),
        cancel: (reason?: unknown) => {
          s.cancel?.(reason);
          throw new Error('wrapper bookkeeping failed');
        },
      };
    },
  };
}

describe('close(graceMs) cuts only the streams its server carries', () => {
  it('closing one of two servers of the same gateway does not cut the streams the other server is serving', async () => {
    const h = await createHarness({ models: [mockModel('long', { reply: REPLY, chunkDelayMs: 100 })] });
    // The same gateway on two listeners (dual stack, or a public and an internal port).
    const a = await serveGateway(h.gateway, { port: 0 });
    const b = await serveGateway(h.gateway, { port: 0 });
    try {
      const onA = await startStream(a.url, 'count on A');
      const onB = await startStream(b.url, 'count on B');
      // Only server A shuts down: its own stream is cut at the end of its grace, B keeps serving.
      await a.close(50);
      expect(await onA.text).toContain('shutting_down');
      const text = await onB.text;
      expect(text).not.toContain('shutting_down');
      expect(text).toContain('[DONE]');
    } finally {
      await a.close(0);
      await b.close(0);
      await h.close();
    }
  });

  it('an in-process gateway.fetch stream is not cut by the shutdown of a server that does not carry it', async () => {
    const h = await createHarness({ models: [mockModel('long', { reply: REPLY, chunkDelayMs: 100 })] });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const res = await h.gateway.fetch(
        new Request('http://in-process/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'long', stream: true, messages: [{ role: 'user', content: 'count' }] }),
        }),
      );
      const reading = res.text();
      // A stream on the server, so its grace ends with something to cut.
      const onServer = await startStream(served.url, 'count on the server');
      await served.close(50);
      expect(await onServer.text).toContain('shutting_down');
      const text = await reading;
      expect(text).not.toContain('shutting_down');
      expect(text).toContain('[DONE]');
    } finally {
      await served.close(0);
      await h.close();
    }
  });
});

describe('close(graceMs) cutting streamed requests whose stream has not opened', () => {
  it('requests still waiting for their first token answer 503 shutting_down in their route\'s error shape (direct and through gateway.fetch), ledgered as that error', async () => {
    const h = await createHarness({ stores: 'memory', models: [mockModel('slow', { delayMs: 3_000 })], gateway: { cors: { origins: [ORIGIN] } } });
    const stores = h.stores!;
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS, budget: { amountUsd: 5, period: 'total' } });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    const served = await serveGateway(h.gateway, { port: 0, cutSettleMs: 20_000 });
    const ask = (path: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${served.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }).then(
        async (res) => ({ status: res.status, body: (await res.json()) as unknown }),
        (e: unknown) => ({ status: 0, body: String((e as Error).cause ?? e) }),
      );
    try {
      const messages = [{ role: 'user', content: 'hi' }];
      // Chat completions served directly; Anthropic's messages from a browser (CORS: through gateway.fetch).
      const chat = ask('/v1/chat/completions', { authorization: `Bearer ${secret}` }, { model: 'slow', stream: true, messages });
      const claude = ask('/v1/messages', { 'x-api-key': secret, origin: ORIGIN }, { model: 'slow', stream: true, max_tokens: 10, messages });
      // Both are in flight (the upstream has not answered a first token) when close() starts.
      await new Promise((r) => setTimeout(r, 200));
      const closing = performance.now();
      await served.close(100);
      // Answered by the cut, not dropped by the 1 s bound after the grace.
      expect(performance.now() - closing).toBeLessThan(10_000);
      await h.gateway.close();
      const [rows, budget, limits] = await Promise.all([
        stores.ledger.query({ tenantId: 'acme', limit: 10 }),
        stores.budgets.spent('acme', 'total'),
        stores.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits: LIMITS }]),
      ]);
      expect(await chat).toMatchObject({ status: 503, body: { error: { code: 'shutting_down', type: 'api_error', message: expect.stringMatching(/shutting down/) } } });
      expect(await claude).toMatchObject({ status: 503, body: { type: 'error', error: { type: 'api_error', message: expect.stringMatching(/shutting down/) } } });
      expect(rows.map((r) => ({ status: r.status, errorCode: r.errorCode, stream: r.stream }))).toEqual([
        { status: 'error', errorCode: 'shutting_down', stream: true },
        { status: 'error', errorCode: 'shutting_down', stream: true },
      ]);
      expect({ reservedUsd: budget.reservedUsd, remainingConcurrency: limits.remainingConcurrency }).toEqual({ reservedUsd: 0, remainingConcurrency: 8 });
    } finally {
      await served.close(0);
      await h.close();
    }
  });

  it('a streamed request whose body was still arriving when the cut started answers 503 shutting_down once it is complete', async () => {
    const h = await createHarness({ models: [mockModel('long', { reply: REPLY, chunkDelayMs: 100 })] });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      // A stream in flight, so the cut gives the connections left their second to answer.
      const running = await startStream(served.url, 'count');
      const body = JSON.stringify({ model: 'long', stream: true, messages: [{ role: 'user', content: 'late' }] });
      const late = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(`${served.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        // Headers and half the body now; the rest once the cut has started.
        req.write(body.slice(0, 20));
        void running.text.then(() => req.end(body.slice(20)));
      });
      await new Promise((r) => setTimeout(r, 100));
      const closed = served.close(50);
      expect(await running.text).toContain('shutting_down');
      const got = await late;
      expect(got.status).toBe(503);
      expect(JSON.parse(got.text)).toMatchObject({ error: { code: 'shutting_down', type: 'api_error' } });
      await closed;
    } finally {
      await served.close(0);
      await h.close();
    }
  });
});

describe('close(graceMs) cut with a router stream whose cancel throws', () => {
  it('no uncaught exception escapes the grace timer, and every stream is still cut with its error event', async () => {
    const inner = new LLMRouter({ models: [mockModel('long', { reply: REPLY, chunkDelayMs: 150 })], routing: { strategy: 'priority', retries: { max: 0 } } });
    const gateway = createGateway({ router: throwingCancelRouter(inner), log: () => {} });
    const served = await serveGateway(gateway, { port: 0 });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const streams = await Promise.all([startStream(served.url, 'count one'), startStream(served.url, 'count two')]);
      const closed = served.close(100).then(() => 'closed' as const);
      const outcome = await Promise.race([closed, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 1_500))]);
      const texts = await Promise.all(streams.map((s) => s.text));
      expect({ outcome, uncaught: uncaught.map(String), cut: texts.map((t) => t.includes('shutting_down')) }).toEqual({ outcome: 'closed', uncaught: [], cut: [true, true] });
    } finally {
      process.off('uncaughtException', onUncaught);
      served.server.closeAllConnections();
      await served.close(0);
      await gateway.close();
      await inner.close();
    }
  });
});
