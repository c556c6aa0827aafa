import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/messages.js';
import type { StreamPart } from '../../spec/stream-parts.js';
import { startAnthropicWireServer, type AnthropicWireServer } from '../../test/anthropic-wire-server.js';
import { collect } from '../../test/async.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { createAnthropicEngine } from './create-anthropic-engine.js';

// What the streaming path (SsePartStream + AnthropicStreamDecoder) pins beyond anthropic-engine.test.ts.

let server: AnthropicWireServer;
beforeAll(async () => {
  server = await startAnthropicWireServer({ apiKey: 'sk-ant-test' });
});
afterAll(() => server.close());
afterEach(() => {
  server.requests.length = 0;
});

const engine = (baseURL = server.url) =>
  createAnthropicEngine(ModelConfigSchema.parse({ name: 'claude', engine: 'anthropic', model: 'claude-test-1', baseURL, apiKey: 'sk-ant-test' }), defaultEngineContext({ env: {} }));
const hello: GenerateRequest = { messages: [{ role: 'user', content: 'Hi there' }] };
const kinds = (parts: StreamPart[]) => parts.map((p) => (p.type === 'error' ? `error:${p.error.code}` : p.type));
const textOf = (parts: StreamPart[]) => parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A peer that answers every request with `frames` and then holds the connection open; `closed` tells who closed it. */
async function holdOpenServer(frames: string[]) {
  let resolveClosed!: (byClient: boolean) => void;
  const closed = new Promise<boolean>((resolve) => (resolveClosed = resolve));
  const peer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.on('close', () => resolveClosed(!res.writableFinished));
      for (const frame of frames) res.write(frame);
    });
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(peer.address() as AddressInfo).port}`,
    closed,
    close: () => {
      peer.closeAllConnections();
      return new Promise<void>((resolve) => peer.close(() => resolve()));
    },
  };
}

const sse = (data: object) => `event: ${(data as { type: string }).type}\ndata: ${JSON.stringify(data)}\n\n`;

describe('anthropic engine: the stream iterator', () => {
  it('sends nothing before the first next(), and nothing at all when return() comes first', async () => {
    const idle = engine().stream(hello);
    await macrotask();
    expect(server.requests).toHaveLength(0);
    expect(await idle.return!()).toEqual({ done: true, value: undefined });
    expect(await idle.next()).toEqual({ done: true, value: undefined });
    await macrotask();
    expect(server.requests).toHaveLength(0);

    const live = engine().stream(hello);
    expect(await live.next()).toMatchObject({ done: false, value: { type: 'response-metadata' } });
    expect(server.requests).toHaveLength(1);
    await live.return!();
  });

  it('a signal aborted before the call ends with one aborted part, and nothing reaches the server', async () => {
    const parts = await collect(engine().stream(hello, { signal: AbortSignal.abort() }));
    expect(kinds(parts)).toEqual(['error:aborted']);
    expect(parts[0]).toMatchObject({ error: { provider: 'anthropic', deployment: 'claude' } });
    expect(server.requests).toHaveLength(0);
  });

  it('an HTTP 429 before the body is the only part, with Retry-After', async () => {
    server.enqueue({ error: { status: 429, headers: { 'retry-after': '3' } } });
    const parts = await collect(engine().stream(hello));
    expect(kinds(parts)).toEqual(['error:rate_limited']);
    expect(parts[0]).toMatchObject({ error: { retryAfterMs: 3000, upstreamStatus: 429, isRetryable: true } });
  });

  it('message_stop cancels the body while the server still holds the connection open', async () => {
    server.enqueue({ content: 'abcd', chunks: 2, hangAfterEvents: 1000 });
    const parts = await collect(engine().stream(hello));
    expect(textOf(parts)).toBe('abcd');
    expect(kinds(parts).at(-1)).toBe('finish');
    const req = server.requests.at(-1)!;
    await req.done;
    expect(req.clientClosed).toBe(true);
  });

  it('an error event cancels the body while the peer still holds the connection open', async () => {
    const peer = await holdOpenServer([
      sse({ type: 'message_start', message: { id: 'msg_1', model: 'claude-test-1', usage: { input_tokens: 3 } } }),
      sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } }),
      sse({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    ]);
    try {
      const parts = await collect(engine(peer.url).stream(hello));
      expect(kinds(parts)).toEqual(['response-metadata', 'text-delta', 'error:overloaded']);
      expect(await peer.closed).toBe(true);
    } finally {
      await peer.close();
    }
  });
});
