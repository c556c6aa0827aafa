/**
 * The bounded hold of a stream before its first content (`streamHoldMs`): an upstream that takes long to its first
 * content (a reasoning model's prefill) but sends its SSE headers at once and keeps the connection alive with
 * `: keep-alive` comments, as OpenAI and OpenRouter do. Without the bound, nothing at all (no status line, no bytes)
 * reached the client until the first content, so a client with a headers timeout (the openai SDK's `timeout`), or a
 * load balancer's idle timeout (AWS ALB: 60 s), gave up on a long prefill. With it, the 200 and the headers go out
 * once the hold ends, then keep-alives (Anthropic's `ping` on `/v1/messages`) until the answer; the router may still
 * fall over meanwhile, and a failure is the route's in-stream error event. Official openai / Anthropic clients on a
 * served gateway, local upstreams speaking OpenAI's wire (released by the test once the client saw a keep-alive).
 */
import Anthropic from '@anthropic-ai/sdk';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LLMRouter } from '@llmrr/core';
import { createGateway } from '../gateway.js';
import { mockModel, type ModelInput } from '../test-support/harness.js';
import { ledgerRow } from '../test-support/ledger-wait.js';
import { CHAT_DONE, chatChunk } from '../test-support/openai-chat-sse.js';
import { rawConnection } from '../test-support/raw-http.js';
import { startRawUpstream } from '../test-support/raw-upstream.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { stalledPost } from '../test-support/stalled-client.js';

const PRICE = { input: 1, output: 2 };

/** One request to the slow upstream: its SSE headers and role chunk went out, keep-alives follow until it is told what to do. */
interface HeldRequest {
  /** The request's connection closed (the gateway went away from it). */
  closed: boolean;
  answer(text: string): void;
  /** Destroys the connection without an end (no content, no finish). */
  cut(): void;
}

/**
 * An OpenAI-wire upstream that answers its SSE headers and a role chunk at once, then `: keep-alive` every 100 ms
 * until the test answers (`held[i].answer`) or cuts it, or `prefillMs` after the request when set.
 */
async function startSlowUpstream(prefillMs?: number): Promise<{ baseURL: string; held: HeldRequest[]; close(): Promise<void> }> {
  const held: HeldRequest[] = [];
  const up = await startRawUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chatChunk({ role: 'assistant', content: '' }));
    const alive = setInterval(() => res.write(': keep-alive\n\n'), 100);
    const h: HeldRequest = {
      closed: false,
      answer(text) {
        clearInterval(alive);
        res.end(chatChunk({ content: text }) + chatChunk({}, 'stop') + CHAT_DONE);
      },
      cut() {
        clearInterval(alive);
        res.destroy();
      },
    };
    const timer = prefillMs === undefined ? undefined : setTimeout(() => h.answer('thought hard'), prefillMs);
    res.on('close', () => {
      h.closed = true;
      clearInterval(alive);
      clearTimeout(timer);
    });
    held.push(h);
  });
  return { baseURL: `${up.url}/v1`, held, close: () => up.close() };
}

type SlowUpstream = Awaited<ReturnType<typeof startSlowUpstream>>;

/** The deployment `slow` on a slow upstream. */
const slowModel = (baseURL: string): ModelInput => ({ name: 'slow', engine: 'openai-compatible', baseURL, model: 'slow', apiKey: 'k', price: PRICE, capabilities: ['chat', 'streaming'] });

/** The `n`th request (from 0) the slow upstream holds, once it came. */
const heldOf = (slow: SlowUpstream, n: number) =>
  vi.waitFor(
    () => {
      const h = slow.held[n];
      if (!h) throw new Error('not asked yet');
      return h;
    },
    { timeout: 8000, interval: 10 },
  );

/** A streamed chat request for `slow` with `fetch`, read by hand. */
const fetchStream = (gw: SdkGateway, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'think' }], stream: true }),
    ...(signal ? { signal } : {}),
  });

/** Reads `reader` until `count` keep-alive comments came (or it ended): the text read. */
async function readKeepAlives(reader: ReadableStreamDefaultReader<Uint8Array>, count: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  while ((text.match(/: keep-alive/g)?.length ?? 0) < count) {
    const r = await reader.read();
    if (r.done) break;
    text += decoder.decode(r.value, { stream: true });
  }
  return text;
}

/** What a client read off the wire, as text, and a wait for a piece of it. */
class WireLog {
  text = '';
  private waiters: Array<{ piece: string; resolve: () => void }> = [];

  /** A `fetch` for an SDK client that copies every response body's text here as the client reads it. */
  readonly fetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (!res.body) return res;
    const decoder = new TextDecoder();
    const body = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (bytes, controller) => {
          this.add(decoder.decode(bytes, { stream: true }));
          controller.enqueue(bytes);
        },
      }),
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };

  add(text: string): void {
    this.text += text;
    this.waiters = this.waiters.filter((w) => {
      if (!this.text.includes(w.piece)) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `piece` was read. */
  saw(piece: string): Promise<void> {
    if (this.text.includes(piece)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ piece, resolve }));
  }
}

async function streamText(s: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const c of s) text += c.choices[0]?.delta?.content ?? '';
  return text;
}

describe('a long prefill behind SSE headers and keep-alive comments', () => {
  const PREFILL_MS = 6000;
  let up: Awaited<ReturnType<typeof startSlowUpstream>>;
  let gw: SdkGateway;
  beforeAll(async () => {
    up = await startSlowUpstream(PREFILL_MS);
    gw = await servedGateway({
      models: [{ name: 'slow', engine: 'openai-compatible', baseURL: up.baseURL, model: 'slow', apiKey: 'k', capabilities: ['chat', 'streaming'] }],
      gateway: { streamHoldMs: 300 },
      upstreams: [up],
    });
  });
  afterAll(async () => gw?.close());

  const ask = (client: OpenAI) => client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'think' }], stream: true });

  it('control: the openai client with a 2 s timeout, called on the upstream directly, streams the answer', async () => {
    expect(await streamText(await ask(new OpenAI({ baseURL: up.baseURL, apiKey: 'k', timeout: 2000, maxRetries: 0 })))).toBe('thought hard');
  }, 20_000);

  it('the same client through the gateway streams it too: the 200 goes out when the hold ends, then keep-alive comments', async () => {
    const wire = new WireLog();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret, timeout: 2000, maxRetries: 0, fetch: wire.fetch });
    const { data, response } = await ask(client).withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const id = response.headers.get('x-request-id')!;
    expect(id).toBeTruthy();
    // Committed before the answer was known: the deployment is not in the headers (the final chunk's `llmrr` has it).
    expect(response.headers.get('x-llmrr-model')).toBeNull();
    expect(await streamText(data)).toBe('thought hard');
    expect(wire.text.startsWith(': keep-alive\n\n')).toBe(true);
    const row = await ledgerRow(gw, id);
    expect(row).toMatchObject({ status: 'success', deployment: 'slow', stream: true });
  }, 20_000);
});

describe('streamHoldMs', () => {
  let slow: Awaited<ReturnType<typeof startSlowUpstream>>;
  let steady: OpenAIWireServer;
  let gw: SdkGateway;
  let gw0: SdkGateway;
  let gw1: SdkGateway;
  let gwCors: SdkGateway;
  beforeAll(async () => {
    slow = await startSlowUpstream();
    steady = await startOpenAIWireServer();
    const slowOne = slowModel(slow.baseURL);
    const models: ModelInput[] = [
      slowOne,
      // `slow` under another name, with `steady` as its fallback.
      { ...slowOne, name: 'fallover' },
      { name: 'steady', engine: 'openai-compatible', baseURL: steady.baseURL, model: 'steady', apiKey: 'k', price: PRICE, capabilities: ['chat', 'streaming'] },
    ];
    gw = await servedGateway({ models, routing: { strategy: 'priority', retries: { max: 0 }, fallbacks: { fallover: ['steady'] } }, gateway: { streamHoldMs: 50 }, upstreams: [slow, steady] });
    gw0 = await servedGateway({ models: [slowOne], gateway: { streamHoldMs: 0 } });
    gw1 = await servedGateway({ models: [slowOne], gateway: { streamHoldMs: 1 } });
    gwCors = await servedGateway({ models: [slowOne], gateway: { streamHoldMs: 0, cors: { origins: ['https://app.example.com'] } } });
  });
  afterAll(async () => {
    await gwCors?.close();
    await gw1?.close();
    await gw0?.close();
    await gw?.close();
  });

  /** The next request the slow upstream holds (the `n`th, from 0). */
  const heldRequest = (n: number) => heldOf(slow, n);

  it('the Anthropic client on /v1/messages gets pings while the first token is slow, then the answer', async () => {
    const wire = new WireLog();
    const client = new Anthropic({ baseURL: gw.url, apiKey: gw.secret, maxRetries: 0, fetch: wire.fetch });
    const n = slow.held.length;
    const stream = client.messages.stream({ model: 'slow', max_tokens: 50, messages: [{ role: 'user', content: 'think' }] });
    const answered = stream.finalMessage();
    const held = await heldRequest(n);
    await wire.saw('event: ping\ndata: {"type": "ping"}\n\n');
    held.answer('after a long think');
    const message = await answered;
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'after a long think' })]);
    expect(message.model).toBe('slow');
    // The pings came before the message: `message_start` (and its own `ping`) once the answer came.
    expect(wire.text.indexOf('event: ping')).toBe(0);
    expect(wire.text.indexOf('event: message_start')).toBeGreaterThan(0);
    const { response } = await stream.withResponse();
    const row = await ledgerRow(gw, response.headers.get('request-id')!);
    expect(row).toMatchObject({ status: 'success', deployment: 'slow', endpoint: '/v1/messages' });
  }, 20_000);

  it('the Responses API stream gets keep-alive comments while the first token is slow, then the answer', async () => {
    const wire = new WireLog();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret, maxRetries: 0, fetch: wire.fetch });
    const n = slow.held.length;
    const { data, response } = await client.responses.create({ model: 'slow', input: 'think', stream: true }).withResponse();
    expect(response.status).toBe(200);
    let text = '';
    let completed: OpenAI.Responses.Response | undefined;
    const read = (async () => {
      for await (const e of data) {
        if (e.type === 'response.output_text.delta') text += e.delta;
        if (e.type === 'response.completed') completed = e.response;
      }
    })();
    await wire.saw(': keep-alive\n\n');
    (await heldRequest(n)).answer('responses too');
    await read;
    expect(text).toBe('responses too');
    expect(completed?.model).toBe('slow');
    expect(wire.text.indexOf(': keep-alive')).toBe(0);
    expect(wire.text.indexOf('event: response.created')).toBeGreaterThan(0);
  }, 20_000);

  it('falls over to the next deployment after the headers went out: one coherent stream, the row names the answer', async () => {
    const wire = new WireLog();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret, maxRetries: 0, fetch: wire.fetch });
    const n = slow.held.length;
    steady.setScript({ text: 'the fallback answers' });
    const { data, response } = await client.chat.completions.create({ model: 'fallover', messages: [{ role: 'user', content: 'think' }], stream: true }).withResponse();
    // The 200 went out before any deployment answered.
    expect(response.status).toBe(200);
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    const read = (async () => {
      for await (const c of data) chunks.push(c);
    })();
    await wire.saw(': keep-alive\n\n');
    (await heldRequest(n)).cut();
    await read;
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('the fallback answers');
    // One role chunk, one finish: the failed attempt sent nothing the client sees (only keep-alive comments).
    expect(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant')).toHaveLength(1);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason)).toHaveLength(1);
    expect(wire.text).not.toContain('"error"');
    const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'success', deployment: 'steady', model: 'fallover' });
  }, 20_000);

  it('a failure after the headers went out is the route error event the client throws, ledgered as an error', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret, maxRetries: 0 });
    const n = slow.held.length;
    const { data, response } = await client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'think' }], stream: true }).withResponse();
    expect(response.status).toBe(200);
    (await heldRequest(n)).cut();
    let thrown: unknown;
    try {
      await streamText(data);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(OpenAI.APIError);
    const error = (thrown as InstanceType<typeof OpenAI.APIError>).error as { code?: string; request_id?: string };
    const id = response.headers.get('x-request-id')!;
    expect(error.request_id).toBe(id);
    const row = await ledgerRow(gw, id);
    expect(row).toMatchObject({ status: 'error', errorCode: error.code, stream: true });
  }, 20_000);

  it('a client that leaves while the stream is held is settled as aborted, and the upstream call is closed', async () => {
    const n = slow.held.length;
    const ac = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'think' }], stream: true }),
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(': keep-alive\n\n');
    const held = await heldRequest(n);
    ac.abort();
    await vi.waitFor(() => expect(held.closed).toBe(true), { timeout: 8000, interval: 10 });
    const row = await ledgerRow(gw, res.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'aborted', stream: true });
  }, 20_000);

  it('0 sends the 200 and the headers at once, served or through gateway.fetch', async () => {
    const body = JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'think' }], stream: true });
    const headers = { authorization: `Bearer ${gw0.secret}`, 'content-type': 'application/json' };
    for (const send of [
      () => fetch(`${gw0.url}/v1/chat/completions`, { method: 'POST', headers, body }),
      () => gw0.harness.gateway.fetch(new Request('http://gateway.test/v1/chat/completions', { method: 'POST', headers, body })),
    ]) {
      const n = slow.held.length;
      // Answered before the upstream is (it holds the request until the test answers it below).
      const res = await send();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llmrr-model')).toBeNull();
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = decoder.decode((await reader.read()).value, { stream: true });
      expect(text).toBe(': keep-alive\n\n');
      (await heldRequest(n)).answer('at once');
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        text += decoder.decode(r.value, { stream: true });
      }
      const content = text
        .split('\n\n')
        .filter((f) => f.startsWith('data: {'))
        .map((f) => (JSON.parse(f.slice(6)) as OpenAI.ChatCompletionChunk).choices[0]?.delta?.content ?? '')
        .join('');
      expect(content).toBe('at once');
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect((await ledgerRow(gw0, res.headers.get('x-request-id')!)).status).toBe('success');
    }
  }, 20_000);

  it('a 1 ms hold sends keep-alives at most once a second while the first content waits, not one per ms', async () => {
    const n = slow.held.length;
    const started = performance.now();
    const res = await fetchStream(gw1);
    const reader = res.body!.getReader();
    const held = await heldRequest(n);
    // The first keep-alive goes out at the commit, the next two at least 1 s apart (timers fire no earlier).
    const text = await readKeepAlives(reader, 3);
    const elapsedMs = performance.now() - started;
    held.answer('done');
    while (!(await reader.read()).done);
    expect(text.match(/: keep-alive/g)).toHaveLength(3);
    expect(elapsedMs).toBeGreaterThanOrEqual(1990);
  }, 20_000);

  it('the ledger ttft of a committed stream is its first content, not its first keep-alive', async () => {
    const n = slow.held.length;
    const res = await fetchStream(gw);
    const reader = res.body!.getReader();
    const held = await heldRequest(n);
    // 2 keep-alives read: the hold (50 ms) and one interval (1 s, the shortest) went by.
    let text = await readKeepAlives(reader, 2);
    held.answer('content');
    const decoder = new TextDecoder();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      text += decoder.decode(r.value, { stream: true });
    }
    expect(text).toContain('"content":"content"');
    const row = await ledgerRow(gw, res.headers.get('x-request-id')!);
    expect(row.status).toBe('success');
    expect(row.ttftMs).toBeGreaterThanOrEqual(1000);
  }, 20_000);

  it('on /v1/messages and /v1/responses too, a failure after the headers went out is the error event the client throws, ledgered as an error', async () => {
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: gw.secret, maxRetries: 0 });
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret, maxRetries: 0 });
    for (const [ask, ApiError, idHeader] of [
      [() => anthropic.messages.create({ model: 'slow', max_tokens: 20, messages: [{ role: 'user', content: 'think' }], stream: true }).withResponse(), Anthropic.APIError, 'request-id'],
      [() => openai.responses.create({ model: 'slow', input: 'think', stream: true }).withResponse(), OpenAI.APIError, 'x-request-id'],
    ] as const) {
      const n = slow.held.length;
      const { data, response } = await ask();
      expect(response.status).toBe(200);
      (await heldRequest(n)).cut();
      let thrown: unknown;
      try {
        for await (const e of data) void e;
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ApiError);
      const row = await ledgerRow(gw, response.headers.get(idHeader)!);
      expect(row).toMatchObject({ status: 'error', stream: true });
    }
  }, 20_000);

  it('a committed stream served through gateway.fetch (a browser, CORS on) has its CORS headers; a cancel settles it aborted', async () => {
    const n = slow.held.length;
    const res = await fetchStream(gwCors, { origin: 'https://app.example.com' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(': keep-alive\n\n');
    const held = await heldRequest(n);
    await reader.cancel();
    await vi.waitFor(() => expect(held.closed).toBe(true), { timeout: 8000, interval: 10 });
    expect(await ledgerRow(gwCors, res.headers.get('x-request-id')!)).toMatchObject({ status: 'aborted' });
  }, 20_000);
});

describe('a server shutdown while a committed stream waits for its first content', () => {
  let slow: Awaited<ReturnType<typeof startSlowUpstream>>;
  let gw: SdkGateway;
  beforeAll(async () => {
    slow = await startSlowUpstream();
    gw = await servedGateway({
      models: [{ name: 'slow', engine: 'openai-compatible', baseURL: slow.baseURL, model: 'slow', apiKey: 'k', price: PRICE, capabilities: ['chat', 'streaming'] }],
      gateway: { streamHoldMs: 0 },
      upstreams: [slow],
    });
  });
  afterAll(async () => gw?.close());

  it('ends it with the route error event `shutting_down` when the grace ends, ledgered as that error', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'think' }], stream: true }).withResponse();
    expect(response.status).toBe(200);
    const held = await vi.waitFor(
      () => {
        const h = slow.held[0];
        if (!h) throw new Error('not asked yet');
        return h;
      },
      { timeout: 8000, interval: 10 },
    );
    const reading = streamText(data).then(
      () => undefined,
      (e: unknown) => e,
    );
    const closed = gw.served.close(0);
    const thrown = await reading;
    expect(thrown).toBeInstanceOf(OpenAI.APIError);
    expect(((thrown as InstanceType<typeof OpenAI.APIError>).error as { code?: string }).code).toBe('shutting_down');
    await closed;
    await vi.waitFor(() => expect(held.closed).toBe(true), { timeout: 8000, interval: 10 });
    const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'error', errorCode: 'shutting_down', stream: true });
  }, 20_000);

  it('one served through gateway.fetch (a browser, CORS on) ends with that error event too, ledgered as that error', async () => {
    const slow2 = await startSlowUpstream();
    const gw2 = await servedGateway({ models: [slowModel(slow2.baseURL)], gateway: { streamHoldMs: 0, cors: { origins: ['https://app.example.com'] } }, upstreams: [slow2] });
    try {
      const res = await fetchStream(gw2, { origin: 'https://app.example.com' });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const held = await heldOf(slow2, 0);
      const closed = gw2.served.close(0);
      const text = await res.text();
      await closed;
      expect(text).toContain('"code":"shutting_down"');
      await vi.waitFor(() => expect(held.closed).toBe(true), { timeout: 8000, interval: 10 });
      expect(await ledgerRow(gw2, res.headers.get('x-request-id')!)).toMatchObject({ status: 'error', errorCode: 'shutting_down' });
    } finally {
      await gw2.close();
    }
  }, 30_000);

  it('one committed after close() started says connection: close (its connection takes no other request)', async () => {
    const slow2 = await startSlowUpstream();
    const gw2 = await servedGateway({ models: [slowModel(slow2.baseURL)], gateway: { streamHoldMs: 2000 }, upstreams: [slow2] });
    try {
      const body = JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'think' }], stream: true });
      const c = rawConnection(gw2.url);
      c.socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: keep-alive\r\nauthorization: Bearer ${gw2.secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      const held = await heldOf(slow2, 0);
      // Nothing sent yet when close() starts: the hold has not ended.
      expect(c.raw()).toBe('');
      const closed = gw2.served.close(20_000);
      await vi.waitFor(() => expect(c.raw()).toContain('\r\n\r\n'), { timeout: 8000, interval: 10 });
      const head = c.raw().slice(0, c.raw().indexOf('\r\n\r\n') + 2);
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      held.answer('late');
      await closed;
      await c.closed;
      expect(head).toMatch(/\r\nconnection: close\r\n/i);
      expect(head).not.toMatch(/keep-alive\r\n/i);
      expect(c.raw()).toContain('"content":"late"');
    } finally {
      await gw2.close();
    }
  }, 30_000);
});

describe('maxConcurrency 1 and a client that leaves a committed stream', () => {
  it('gets its slot back: the next request is served', async () => {
    const slow = await startSlowUpstream();
    const gw = await servedGateway({ models: [slowModel(slow.baseURL)], gateway: { streamHoldMs: 0 }, upstreams: [slow] });
    try {
      await gw.harness.stores!.tenants.updateTenant('acme', { limits: { maxConcurrency: 1 } });
      const ac = new AbortController();
      const res = await fetchStream(gw, {}, ac.signal);
      expect(res.status).toBe(200);
      const held = await heldOf(slow, 0);
      const busy = await gw.openai().chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect((busy as { status?: number }).status).toBe(429);
      ac.abort();
      await vi.waitFor(() => expect(held.closed).toBe(true), { timeout: 8000, interval: 10 });
      expect(await ledgerRow(gw, res.headers.get('x-request-id')!)).toMatchObject({ status: 'aborted' });
      const next = gw.openai().chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'next' }], stream: true });
      (await heldOf(slow, 1)).answer('ok');
      expect(await streamText(await next)).toBe('ok');
    } finally {
      await gw.close();
    }
  }, 30_000);
});

describe('streamHoldMs 0 with a cache hit and on /v1/completions', () => {
  it('a streamed exact-cache hit committed at once is one whole answer (one role chunk), ledgered as a hit', async () => {
    const slow = await startSlowUpstream();
    const gw = await servedGateway({ models: [slowModel(slow.baseURL)], cache: { exact: { enabled: true } }, gateway: { streamHoldMs: 0 }, upstreams: [slow] });
    try {
      const client = gw.openai();
      const messages = [{ role: 'user' as const, content: 'cache me' }];
      const first = client.chat.completions.create({ model: 'slow', messages, stream: true });
      (await heldOf(slow, 0)).answer('cached words');
      expect(await streamText(await first)).toBe('cached words');
      await vi.waitFor(async () => expect((await gw.ledger.query({ tenantId: 'acme', limit: 10 })).length).toBe(1), { timeout: 8000, interval: 20 });
      const { data, response } = await client.chat.completions.create({ model: 'slow', messages, stream: true }).withResponse();
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const c of data) chunks.push(c);
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('cached words');
      expect(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant')).toHaveLength(1);
      expect(await ledgerRow(gw, response.headers.get('x-request-id')!)).toMatchObject({ status: 'success', cacheHit: true });
      expect(slow.held).toHaveLength(1);
    } finally {
      await gw.close();
    }
  }, 30_000);

  it('/v1/completions committed at once: the openai client reads past the keep-alive to the text', async () => {
    const slow = await startSlowUpstream();
    const gw = await servedGateway({ models: [{ ...slowModel(slow.baseURL), capabilities: ['chat', 'completion', 'streaming'] }], gateway: { streamHoldMs: 0 }, upstreams: [slow] });
    try {
      const s = gw.openai().completions.create({ model: 'slow', prompt: 'think', stream: true });
      (await heldOf(slow, 0)).answer('legacy');
      let text = '';
      for await (const c of await s) text += c.choices[0]?.text ?? '';
      expect(text).toBe('legacy');
    } finally {
      await gw.close();
    }
  }, 30_000);
});

/**
 * A committed stream (its headers and keep-alives sent while it waited for its first content) whose client stops
 * reading: once it opens, its body writes from its first frame on as any stream does, so the call is settled when the
 * stream gives up on the client (`consumerIdleMs`, 300 ms here) and the response is dropped 10 s later if still
 * unread, with the Node server. A raw client that pauses its socket; the first content is 32 MiB, in one chunk.
 */
describe('a committed stream whose client stops reading once it opened', () => {
  it('is settled (error, timeout) and its connection closed some seconds later', async () => {
    const slow = await startSlowUpstream();
    const gw = await servedGateway({ models: [slowModel(slow.baseURL)], routing: { timeouts: { consumerIdleMs: 300 } }, gateway: { streamHoldMs: 0 }, upstreams: [slow] });
    const stalled = await stalledPost(gw, { model: 'slow', messages: [{ role: 'user', content: 'think' }], stream: true });
    const serverClosed = new Promise<void>((resolve) => stalled.server.once('close', () => resolve()));
    try {
      (await heldOf(slow, 0)).answer('x'.repeat(32 * 1024 * 1024));
      const row = await vi.waitFor(
        async () => {
          const rows = await gw.ledger.query({ tenantId: 'acme', limit: 10 });
          expect(rows).toHaveLength(1);
          return rows[0]!;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(row).toMatchObject({ status: 'error', errorCode: 'timeout', stream: true });
      // Dropped, not held for as long as the client keeps its connection.
      await serverClosed;
      expect(stalled.server.destroyed).toBe(true);
    } finally {
      stalled.socket.destroy();
      await gw.close();
      await slow.close();
    }
  }, 60_000);
});

describe('streamHoldMs validation', () => {
  it('refuses a negative or NaN hold, naming the option', async () => {
    const router = new LLMRouter({ models: [mockModel('m')] });
    try {
      for (const bad of [-1, Number.NaN]) {
        expect(() => createGateway({ router, streamHoldMs: bad, metrics: false })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'streamHoldMs' }));
      }
    } finally {
      await router.close();
    }
  });
});
