import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicStreamEvents, cacheControlProblem, startAnthropicWireServer, type AnthropicWireServer } from './anthropic-wire-server.js';

let server: AnthropicWireServer;
beforeAll(async () => {
  server = await startAnthropicWireServer();
});
afterAll(() => server.close());

const headers = { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
const body = { model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'ping' }] };
const post = (path: string, payload: unknown, h: Record<string, string> = headers) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: h, body: JSON.stringify(payload) });

describe('anthropic wire server', () => {
  it('echoes by default, in the Messages answer shape', async () => {
    const res = await post('/v1/messages', body);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [{ type: 'text', text: 'Echo: ping' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
    });
  });

  it('streams the documented event order', async () => {
    server.enqueue({ content: [{ type: 'text', text: 'hi' }, { type: 'tool_use', name: 'f', input: { a: 1 } }], chunks: 2 });
    const res = await post('/v1/messages', { ...body, stream: true });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const names = [...(await res.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(names).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const events = anthropicStreamEvents({ content: 'x' }, body);
    expect(events.at(-2)!.data).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'end_turn' } });
  });

  it('answers errors with the Anthropic body and headers', async () => {
    server.enqueue({ error: { status: 429, headers: { 'retry-after': '5' } } });
    const res = await post('/v1/messages', body);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: expect.any(String) } });
  });

  it('checks headers and required fields like the API', async () => {
    expect((await post('/v1/messages', body, { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' })).status).toBe(401);
    expect((await post('/v1/messages', body, { 'content-type': 'application/json', 'x-api-key': 'k' })).status).toBe(400);
    const missing = await post('/v1/messages', { model: 'x', messages: body.messages });
    expect(await missing.json()).toMatchObject({ error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
    const extra = await post('/v1/messages/count_tokens', body);
    expect(extra.status).toBe(400);
    const count = await post('/v1/messages/count_tokens', { model: 'x', messages: body.messages });
    expect(await count.json()).toEqual({ input_tokens: expect.any(Number) });
  });

  it('records requests and counts closed sockets', async () => {
    const before = server.closedSockets;
    const seen = server.requests.length;
    server.enqueue({ hang: true });
    const controller = new AbortController();
    const aborted = fetch(`${server.url}/v1/messages`, { method: 'POST', headers, body: JSON.stringify(body), signal: controller.signal }).catch((e: unknown) => e);
    await server.waitForRequests(seen + 1);
    controller.abort();
    expect(await aborted).toMatchObject({ name: 'AbortError' });
    const last = server.requests[seen]!;
    await last.done;
    expect(last).toMatchObject({ path: '/v1/messages', clientClosed: true, eventsSent: 0 });
    expect(last.body).toEqual(body);
    await expect.poll(() => server.closedSockets, { timeout: 5_000 }).toBeGreaterThan(before);
  });
});

describe('anthropic wire server: prompt-cache rules', () => {
  const mark = { type: 'ephemeral' };
  const text = (t: string, cache_control?: unknown) => ({ type: 'text', text: t, ...(cache_control ? { cache_control } : {}) });
  const user = (content: unknown[]) => ({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content }] });

  it('accepts up to 4 marks, the automatic one included, with 1h before 5m', () => {
    expect(cacheControlProblem({ ...user([text('a', mark), text('b', mark)]), tools: [{ name: 't', input_schema: {}, cache_control: { type: 'ephemeral', ttl: '1h' } }], cache_control: mark })).toBeUndefined();
    expect(cacheControlProblem(user([text('a')]))).toBeUndefined();
  });

  it('refuses a fifth mark, a 1h mark after a 5m one, marks on thinking or empty text, and bad values', () => {
    expect(cacheControlProblem({ ...user([text('a', mark), text('b', mark), text('c', mark), text('d', mark)]), cache_control: mark })).toMatch(/maximum of 4/);
    expect(cacheControlProblem({ ...user([text('a', { type: 'ephemeral', ttl: '1h' })]), system: [text('s', mark)] })).toMatch(/must not come after/);
    expect(cacheControlProblem({ ...user([text('a', { type: 'ephemeral', ttl: '1h' })]), cache_control: mark })).toBeUndefined();
    expect(cacheControlProblem({ ...user([text('a', mark)]), cache_control: { type: 'ephemeral', ttl: '1h' } })).toMatch(/must not come after/);
    expect(cacheControlProblem({ model: 'm', max_tokens: 8, messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: 'x', signature: 's', cache_control: mark }] }] })).toMatch(/thinking blocks/);
    expect(cacheControlProblem(user([text('', mark)]))).toMatch(/empty text/);
    expect(cacheControlProblem(user([text('a', { type: 'persistent' })]))).toMatch(/ephemeral/);
    expect(cacheControlProblem(user([text('a', { type: 'ephemeral', ttl: '2h' })]))).toMatch(/'5m' or '1h'/);
  });

  it('answers a refused mark with a 400 on /v1/messages', async () => {
    const res = await post('/v1/messages', user([text('', mark)]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/empty text/);
  });
});
