import { LLMRouter } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamFetch, type UpstreamFetch } from './upstream-fetch.js';

/** A small HTTP peer: each path answers in its own way; requests are recorded. */
let server: Server;
let base: string;
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
let releaseSlow: (() => void) | undefined;

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
  switch (req.url) {
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
});
