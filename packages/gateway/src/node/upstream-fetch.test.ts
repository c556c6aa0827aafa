import { DIRECT_BODY, LLMRouter, RELEASE_LINGER_MS, tapBody, toLLMError, type DirectBody, type LLMError } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createUpstreamFetch, type UpstreamFetch } from './upstream-fetch.js';

/** A small HTTP peer: each path answers in its own way; requests are recorded. */
let server: Server;
let base: string;
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
let releaseSlow: (() => void) | undefined;
let connections = 0;
/** Late-ended answers whose end the server has written. */
let lateEnded = 0;
/** Requests to /never-end whose response the client closed. */
let neverEndClosed = 0;

const chatChunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/** An OpenAI stream whose body ends `endAfterMs` after `[DONE]` (in a later packet), or never. */
function lateEndStream(res: ServerResponse, endAfterMs: number | undefined): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(chatChunk({ content: 'hi' }, null));
  res.write(chatChunk({}, 'stop'));
  res.write('data: [DONE]\n\n');
  if (endAfterMs !== undefined) setTimeout(() => res.end(() => lateEnded++), endAfterMs);
  else res.on('close', () => neverEndClosed++);
}

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
  switch (req.url) {
    case '/big':
      res.writeHead(200, { 'content-type': 'text/plain' });
      // 200 KiB in 50 writes: more than a body holds before its reader taps it.
      for (let i = 0; i < 50; i++) res.write(String(i % 10).repeat(4096));
      res.end();
      return;
    case '/form':
      res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' }).end('a=1&b=two');
      return;
    case '/late-end/chat/completions':
      lateEndStream(res, 30);
      return;
    case '/never-end/chat/completions':
      lateEndStream(res, undefined);
      return;
    case '/json?x=1':
      res.writeHead(201, 'Made', { 'content-type': 'application/json; charset=utf-8', 'x-test': 'yes', 'set-cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ echo: body }));
      return;
    case '/sse':
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      // The second event only comes when the client has seen the first (proves streaming, not buffering).
      releaseSlow = () => res.end('data: two\n\n');
      return;
    case '/forever':
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: tick\n\n');
      return;
    case '/slow-headers':
      return; // never answers
    case '/empty':
      res.writeHead(204).end();
      return;
    case '/moved':
      res.writeHead(307, { location: '/json?x=1' }).end();
      return;
    case '/compressing': {
      // As a server (or a proxy in front of it) may: any coding for a request without Accept-Encoding (RFC 9110 12.5.3).
      const accept = req.headers['accept-encoding'];
      if (accept === undefined || /gzip/.test(accept)) {
        const gz = gzipSync(JSON.stringify({ accept: accept ?? null }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': gz.length }).end(gz);
      } else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accept }));
      return;
    }
    case '/error':
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' }).end('{"error":{"message":"slow down"}}');
      return;
    default:
      res.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
  }
}

let f: UpstreamFetch;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => route(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.on('connection', () => connections++);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  f = createUpstreamFetch();
});
afterAll(async () => {
  await f.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value, done } = await reader.read();
  return done ? '<done>' : new TextDecoder().decode(value);
}

describe('createUpstreamFetch', () => {
  it('sends method, headers and body; answers a real Response with status, status text, headers and the JSON body', async () => {
    const res = await f(`${base}/json?x=1`, { method: 'POST', headers: new Headers({ 'content-type': 'application/json', authorization: 'Bearer sk-1' }), body: '{"q":1}' });
    expect(res).toBeInstanceOf(Response);
    expect(res.ok).toBe(true);
    expect(res.status).toBe(201);
    expect(res.statusText).toBe('Made');
    expect(res.headers.get('x-test')).toBe('yes');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.json()).toEqual({ echo: '{"q":1}' });
    const req = seen.at(-1)!;
    expect(req).toMatchObject({ method: 'POST', url: '/json?x=1', body: '{"q":1}' });
    expect(req.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer sk-1' });
    // Plain-object headers and a byte body work too.
    const again = await f(`${base}/json?x=1`, { method: 'POST', headers: { 'x-a': 'b' }, body: new TextEncoder().encode('bytes') });
    expect(await again.json()).toEqual({ echo: 'bytes' });
    expect(seen.at(-1)!.headers['x-a']).toBe('b');
  });

  it('asks for an answer in no content coding (accept-encoding: identity), which it reads as sent: a server may compress one for a request without Accept-Encoding', async () => {
    // Every form of headers without it; the caller's own headers still go (node:http joins a header sent twice, so
    // `identity` alone means once).
    for (const [headers, authorization] of [
      [undefined, undefined],
      [{}, undefined],
      [{ authorization: 'Bearer k', 'content-type': 'application/json' }, 'Bearer k'],
      [[['Authorization', 'Bearer k']], 'Bearer k'],
      [new Headers({ authorization: 'Bearer k' }), 'Bearer k'],
    ] as Array<[RequestInit['headers'], string | undefined]>) {
      const res = await f(`${base}/compressing`, { method: 'POST', body: '{}', ...(headers ? { headers } : {}) });
      expect(await res.json(), JSON.stringify(headers)).toEqual({ accept: 'identity' });
      const sent = seen.at(-1)!.headers;
      expect({ headers: JSON.stringify(headers), ae: sent['accept-encoding'], authorization: sent.authorization }).toEqual({ headers: JSON.stringify(headers), ae: 'identity', authorization });
    }
    // A caller's own Accept-Encoding is sent as it is (once), in any case and any form of headers.
    for (const [headers, want] of [
      [{ 'Accept-Encoding': 'br' }, 'br'],
      [{ 'ACCEPT-ENCODING': 'gzip' }, 'gzip'],
      [[['aCcEpT-eNcOdInG', 'deflate']], 'deflate'],
      [new Headers({ 'Accept-Encoding': 'zstd' }), 'zstd'],
    ] as Array<[RequestInit['headers'], string]>) {
      await (await f(`${base}/json?x=1`, { method: 'POST', body: '{}', headers })).arrayBuffer();
      expect(seen.at(-1)!.headers['accept-encoding']).toBe(want);
    }
  });

  it('a JSON answer read whole still behaves as a Response body: used once, clone, stream, bytes', async () => {
    const res = await f(`${base}/json?x=1`, { method: 'POST', body: 'é' });
    expect(res.bodyUsed).toBe(false);
    const copy = res.clone();
    expect(await res.text()).toBe('{"echo":"é"}');
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow(TypeError);
    expect(() => res.clone()).toThrow(TypeError);
    expect(new TextDecoder().decode(await copy.arrayBuffer())).toBe('{"echo":"é"}');
    const viaStream = await f(`${base}/json?x=1`, { method: 'POST', body: 'x' });
    expect(await new Response(viaStream.body).json()).toEqual({ echo: 'x' });
    expect(viaStream.bodyUsed).toBe(true);
    expect((await (await f(`${base}/json?x=1`, { method: 'POST', body: 'y' })).blob()).type).toBe('application/json; charset=utf-8');
  });

  it('streams a non-JSON body as it arrives', async () => {
    const res = await f(`${base}/sse`, { method: 'POST', body: '{}' });
    const reader = res.body!.getReader();
    expect(await readChunk(reader)).toBe('data: one\n\n');
    releaseSlow!();
    expect(await readChunk(reader)).toBe('data: two\n\n');
    expect(await readChunk(reader)).toBe('<done>');
  });

  it('aborting the signal errors a streaming body and closes the upstream request', async () => {
    const controller = new AbortController();
    const res = await f(`${base}/forever`, { method: 'POST', body: '{}', signal: controller.signal });
    const reader = res.body!.getReader();
    expect(await readChunk(reader)).toBe('data: tick\n\n');
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('an abort before the headers rejects; an already aborted signal rejects at once', async () => {
    const controller = new AbortController();
    const pending = f(`${base}/slow-headers`, { method: 'POST', body: '{}', signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(f(`${base}/json?x=1`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('cancelling the body stops the upstream answer', async () => {
    const res = await f(`${base}/forever`, { method: 'POST', body: '{}' });
    await res.body!.cancel();
    // The pool is still usable afterwards.
    expect((await f(`${base}/json?x=1`, { method: 'POST', body: 'ok' })).status).toBe(201);
  });

  it('204, error statuses, redirects and unreachable hosts', async () => {
    const empty = await f(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
    const limited = await f(`${base}/error`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(await limited.json()).toEqual({ error: { message: 'slow down' } });
    const moved = await f(`${base}/moved`, { method: 'POST', body: 'again' });
    expect(moved.status).toBe(201);
    expect(await moved.json()).toEqual({ echo: 'again' });
    const text = await f(`${base}/missing`);
    expect([text.status, await text.text()]).toEqual([404, 'nope']);
    await expect(f('http://127.0.0.1:9/nothing')).rejects.toThrow();
  });

  it("`redirect: 'manual'` answers the 3xx itself, `'error'` rejects as fetch does (neither follows it)", async () => {
    // A pool of its own: the connection `'error'` gives up is not the other tests' (they count connections).
    const own = createUpstreamFetch();
    const before = seen.length;
    const manual = await own(`${base}/moved`, { method: 'POST', body: 'again', redirect: 'manual' });
    expect([manual.status, manual.headers.get('location')]).toEqual([307, '/json?x=1']);
    await manual.text();
    const refused = await own(`${base}/moved`, { method: 'POST', body: 'again', redirect: 'error' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TypeError);
    // Both requests went to /moved only: the redirect's target was never asked.
    expect(seen.slice(before).map((r) => r.url)).toEqual(['/moved', '/moved']);
    await own.close();
    // Not a network error the router retries on the deployment (it would redirect again): a provider_error it falls
    // over from, as Node's own fetch's refusal is.
    const nodeRefused = await fetch(`${base}/moved`, { method: 'POST', body: 'again', redirect: 'error' }).catch((e: unknown) => e);
    for (const e of [refused, nodeRefused]) {
      const error = toLLMError(e, { provider: 'openai' });
      expect(error).toMatchObject({ code: 'provider_error', isRetryable: false, provider: 'openai', message: expect.stringContaining('redirect') });
      expect(error.cause).toBe(e);
    }
  });
});

describe('streamed bodies after the last event', () => {
  const streamOnce = async (router: LLMRouter) => {
    let text = '';
    for await (const part of router.stream({ messages: [{ role: 'user', content: 'x' }] })) if (part.type === 'text-delta') text += part.delta;
    return text;
  };
  const routerOn = (path: string, fetchFn: UpstreamFetch) =>
    new LLMRouter({ models: [{ name: 'm', engine: 'openai-compatible', baseURL: `${base}${path}`, apiKey: 'sk', model: 'm' }], routing: { retries: { max: 0 } } }, { fetch: fetchFn });

  it("keeps the connection when the body's end comes in a later packet than [DONE]", async () => {
    const g = createUpstreamFetch();
    const router = routerOn('/late-end', g);
    const before = connections;
    for (let i = 0; i < 3; i++) {
      const ended = lateEnded;
      expect(await streamOnce(router)).toBe('hi');
      // The next call goes out once this answer's end was written (30 ms after [DONE]) and has had time to reach
      // the pool (well within the 1 s linger), however loaded the machine is.
      while (lateEnded === ended) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(connections - before).toBe(1);
    await router.close();
    await g.close();
  });

  it(`closes a body that does not end within ${RELEASE_LINGER_MS} ms of [DONE]`, async () => {
    const g = createUpstreamFetch();
    const router = routerOn('/never-end', g);
    const closedBefore = neverEndClosed;
    expect(await streamOnce(router)).toBe('hi');
    expect(neverEndClosed).toBe(closedBefore);
    await vi.waitFor(() => expect(neverEndClosed).toBe(closedBefore + 1), { timeout: RELEASE_LINGER_MS + 2000 });
    await router.close();
    await g.close();
  });

  it('offers the body to the SSE reader directly, and as a web stream to anyone else, not both', async () => {
    const direct = await f(`${base}/sse`, { method: 'POST', body: '{}' });
    const source = (direct as Response & { [DIRECT_BODY]?: DirectBody })[DIRECT_BODY];
    expect(source).toBeDefined();
    const chunks: string[] = [];
    let ended = false;
    source!.tap({ data: (c) => chunks.push(new TextDecoder().decode(c)), end: () => (ended = true), error: () => {} });
    expect(direct.bodyUsed).toBe(true);
    await vi.waitFor(() => expect(chunks).toEqual(['data: one\n\n']));
    releaseSlow!();
    await vi.waitFor(() => expect(ended).toBe(true));
    expect(chunks).toEqual(['data: one\n\n', 'data: two\n\n']);
    expect(() => source!.tap({ data() {}, end() {}, error() {} })).toThrow(TypeError);
    const viaText = await f(`${base}/missing`);
    expect(await viaText.text()).toBe('nope');
    expect(viaText.bodyUsed).toBe(true);
    await expect(viaText.text()).rejects.toThrow(TypeError);
  });
});

describe('a streamed Response read both ways', () => {
  const sinkOf = () => {
    const got = { text: '', ended: false, error: undefined as unknown };
    const decoder = new TextDecoder();
    return { got, sink: { data: (c: Uint8Array) => (got.text += decoder.decode(c, { stream: true })), end: () => (got.ended = true), error: (e: unknown) => (got.error = e) } };
  };

  it('after a direct tap, body is an errored stream (never a throw) and inspecting the Response works', async () => {
    const streamed = await f(`${base}/forever`, { method: 'POST', body: '{}' });
    const { sink } = sinkOf();
    const tap = tapBody(streamed, sink)!;
    expect(() => inspect(streamed)).not.toThrow();
    await expect(streamed.body!.getReader().read()).rejects.toThrow(TypeError);
    tap.cancel();
  });

  it('once body was asked for (clone), an SSE reader reads that web stream instead of the direct body', async () => {
    const res = await f(`${base}/big`);
    const copy = res.clone();
    expect((res as Response & { [DIRECT_BODY]?: DirectBody })[DIRECT_BODY]).toBeUndefined();
    const { got, sink } = sinkOf();
    tapBody(res, sink);
    const [copied] = await Promise.all([copy.text(), vi.waitFor(() => expect(got.ended).toBe(true))]);
    expect(got.text.length).toBe(50 * 4096);
    expect(copied).toBe(got.text);
  });

  it('bytes before the tap are kept past the high-water mark (the socket paused), then all delivered', async () => {
    const res = await f(`${base}/big`);
    // Let the whole answer arrive before anyone reads: the body pauses the socket at 64 KiB.
    await new Promise((r) => setTimeout(r, 100));
    const { got, sink } = sinkOf();
    tapBody(res, sink);
    await vi.waitFor(() => expect(got.ended).toBe(true));
    expect(got.text).toBe(Array.from({ length: 50 }, (_, i) => String(i % 10).repeat(4096)).join(''));
  });

  it('an abort while the body is tapped directly ends it with the abort error and closes the request', async () => {
    const controller = new AbortController();
    const res = await f(`${base}/forever`, { method: 'POST', body: '{}', signal: controller.signal });
    const { got, sink } = sinkOf();
    tapBody(res, sink);
    await vi.waitFor(() => expect(got.text).toBe('data: tick\n\n'));
    controller.abort();
    await vi.waitFor(() => expect(got.error).toMatchObject({ name: 'AbortError' }));
    expect(got.ended).toBe(false);
    expect((await f(`${base}/json?x=1`, { method: 'POST', body: 'ok' })).status).toBe(201);
  });

  it('bytes() and formData() read the whole body, as text() does', async () => {
    // Node 20's Response has bytes(); the DOM typings here do not declare it yet.
    const bytes = (r: Response) => (r as Response & { bytes(): Promise<Uint8Array> }).bytes();
    const big = await f(`${base}/big`);
    expect((await bytes(big)).byteLength).toBe(50 * 4096);
    expect(big.bodyUsed).toBe(true);
    await expect(bytes(big)).rejects.toThrow(TypeError);
    const form = await (await f(`${base}/form`)).formData();
    expect([form.get('a'), form.get('b')]).toEqual(['1', 'two']);
    expect(await bytes(await f(`${base}/json?x=1`, { method: 'POST', body: 'b' }))).toEqual(new TextEncoder().encode('{"echo":"b"}'));
  });
});

describe('inputs the fast path leaves to fetch', () => {
  const f = createUpstreamFetch();
  afterAll(() => f.close());

  it("a Node Request, a FormData body and a stream body are sent whole (Node's fetch on the same pool)", async () => {
    const viaRequest = await f(new Request(`${base}/json?x=1`, { method: 'POST', body: 'as a request' }));
    expect([viaRequest.status, await viaRequest.json()]).toEqual([201, { echo: 'as a request' }]);

    const form = new FormData();
    form.set('field', 'form value');
    const viaForm = await f(`${base}/json?x=1`, { method: 'POST', body: form });
    expect(viaForm.status).toBe(201);
    expect(((await viaForm.json()) as { echo: string }).echo).toContain('form value');
    expect(seen.at(-1)!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);

    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('as a '));
        c.enqueue(new TextEncoder().encode('stream'));
        c.close();
      },
    });
    const viaStream = await f(`${base}/json?x=1`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(await viaStream.json()).toEqual({ echo: 'as a stream' });
  });
});

describe('the router with createUpstreamFetch against an OpenAI wire server', () => {
  let upstream: OpenAIWireServer;
  let router: LLMRouter;
  let fetchFn: UpstreamFetch;
  beforeAll(async () => {
    upstream = await startOpenAIWireServer({ script: { text: 'one two three four' } });
    fetchFn = createUpstreamFetch();
    router = new LLMRouter(
      { models: [{ name: 'remote', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'sk-test', model: 'gpt-test' }], routing: { retries: { max: 0 } } },
      { fetch: fetchFn },
    );
  });
  afterAll(async () => {
    await router.close();
    await fetchFn.close();
    await upstream.close();
  });

  it('generate and stream give the same answer and usage, over reused connections', async () => {
    const prompt = { messages: [{ role: 'user' as const, content: 'hi' }] };
    const generated = await router.generate(prompt);
    expect(generated.text).toBe('one two three four');
    const stream = router.stream(prompt);
    let text = '';
    for await (const part of stream) if (part.type === 'text-delta') text += part.delta;
    const streamed = await stream.result;
    expect(text).toBe('one two three four');
    expect(streamed.usage.outputTokens).toBe(generated.usage.outputTokens);
    for (let i = 0; i < 5; i++) await router.generate(prompt);
    expect(upstream.requests.length).toBe(7);
    expect(upstream.connectionsOpened).toBeLessThan(7);
  });

  it('provider errors keep their status and Retry-After', async () => {
    upstream.setScript({ error: { status: 429, message: 'slow down', headers: { 'retry-after': '2' } } });
    const error = await router.generate({ messages: [{ role: 'user', content: 'hi' }] }, { model: 'remote' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 2000 });
    upstream.setScript({ text: 'one two three four' });
  });

  /** One `generate` with the key read at call time (`apiKeyEnv`), through `fetch`: its text, or its error. */
  async function withKey(key: string, fetch: typeof globalThis.fetch): Promise<{ text?: string; error?: LLMError }> {
    const keyed = new LLMRouter(
      { models: [{ name: 'm', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKeyEnv: 'MY_KEY', model: 'gpt-test' }] },
      { env: { MY_KEY: key }, fetch },
    );
    try {
      return { text: (await keyed.generate('hi')).text };
    } catch (e) {
      return { error: e as LLMError };
    } finally {
      await keyed.close();
    }
  }
  const lastAuth = () => upstream.requests.at(-1)?.headers.authorization;

  it('a key with a final line break (a secret read from a file) is trimmed and sent, as global fetch does', async () => {
    for (const fetch of [globalThis.fetch, fetchFn]) {
      const before = upstream.requests.length;
      expect(await withKey('sk-TRAILING\n', fetch)).toEqual({ text: 'one two three four' });
      expect(upstream.requests.length).toBe(before + 1);
      expect(lastAuth()).toBe('Bearer sk-TRAILING');
    }
  });

  it('a key with a line break inside fails as a config_invalid that is not retried and does not quote it, as with global fetch', async () => {
    const before = upstream.requests.length;
    for (const fetch of [globalThis.fetch, fetchFn]) {
      const { error } = await withKey('sk-INSIDE\nsecond', fetch);
      expect([error?.code, error?.isRetryable]).toEqual(['config_invalid', false]);
      expect(`${error?.message} ${String(error?.cause)}`).not.toContain('sk-INSIDE');
    }
    // Nothing was sent (not retried against the deployment either).
    expect(upstream.requests.length).toBe(before);
    // Directly: a TypeError naming the header, not the value; no abort listener is left on the signal.
    const signal = new AbortController().signal;
    const refused = await fetchFn(`${upstream.baseURL}/chat/completions`, { method: 'POST', headers: [['x-api-key', 'sk-INSIDE\u20ac']], signal }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as TypeError).message).toBe('Headers.append: the value of the "x-api-key" header is an invalid header value.');
    expect(toLLMError(refused).code).toBe('config_invalid');
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  // undici refuses every control character but tab (not only CR, LF, NUL) when the request is dispatched: global
  // fetch's `fetch failed` (UND_ERR_INVALID_ARG) was a retried network_error, a strike on the circuit.
  it.each([
    ['U+0001', 'sk-a\u0001b'],
    ['U+001B (ESC)', 'sk-a\u001bb'],
    ['U+007F (DEL)', 'sk-a\u007fb'],
  ])('a key with %s inside fails as a config_invalid that is not retried (nothing is sent), as with global fetch', async (_name, key) => {
    const before = upstream.requests.length;
    for (const fetch of [globalThis.fetch, fetchFn]) {
      const { error } = await withKey(key, fetch);
      expect([error?.code, error?.isRetryable]).toEqual(['config_invalid', false]);
    }
    expect(upstream.requests.length).toBe(before);
  });

  it('a Latin-1 key is sent as the same Latin-1 bytes by both clients (not refused)', async () => {
    const key = 'sk-caf\u00e9-\u00ff';
    for (const fetch of [globalThis.fetch, fetchFn]) {
      expect(await withKey(key, fetch)).toEqual({ text: 'one two three four' });
      // node:http decodes header bytes as latin1.
      expect(lastAuth()).toBe(`Bearer ${key}`);
    }
  });

  it("an event stream is read without building the upstream response's Headers (no header read on the SSE hot path)", async () => {
    const responses: Response[] = [];
    let headerReads = 0;
    // Counts reads of `headers` (a StreamingResponse builds its Headers on the first one, one validated append per header).
    const recording = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const r = await fetchFn(input, init);
      const lazy = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(r), 'headers')!;
      Object.defineProperty(r, 'headers', {
        get() {
          headerReads++;
          return lazy.get!.call(r) as Headers;
        },
      });
      responses.push(r);
      return r;
    }) as typeof fetch;
    const recorded = new LLMRouter(
      { models: [{ name: 'remote', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'sk-test', model: 'gpt-test' }], routing: { retries: { max: 0 } } },
      { fetch: recording },
    );
    try {
      let text = '';
      for await (const part of recorded.stream('hi')) if (part.type === 'text-delta') text += part.delta;
      expect(text).toBe('one two three four');
      expect(responses).toHaveLength(1);
      expect(responses[0]!.constructor.name).toBe('StreamingResponse');
      expect(headerReads).toBe(0);
      // The count works: a read is seen.
      expect(responses[0]!.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(headerReads).toBe(1);
    } finally {
      await recorded.close();
    }
  });
});
