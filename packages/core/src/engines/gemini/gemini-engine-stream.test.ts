import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/messages.js';
import type { StreamPart } from '../../spec/stream-parts.js';
import { collect } from '../../test/async.test-helpers.js';
import { startGeminiWireServer, type GeminiWireServer } from '../../test/gemini-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { createGeminiEngine } from './create-gemini-engine.js';

// What the streaming path (SsePartStream + GeminiStreamDecoder) pins beyond gemini-engine.test.ts.

let server: GeminiWireServer;
beforeAll(async () => {
  server = await startGeminiWireServer({ apiKey: 'gm-test' });
});
afterAll(() => server.close());
afterEach(() => {
  server.requests.length = 0;
});

const engine = (baseURL = server.url) =>
  createGeminiEngine(ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model: 'gemini-test', baseURL, apiKey: 'gm-test' }), defaultEngineContext({ env: {} }));
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

describe('gemini engine: the stream iterator', () => {
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
    expect(parts[0]).toMatchObject({ error: { provider: 'gemini', deployment: 'gem' } });
    expect(server.requests).toHaveLength(0);
  });

  it('an HTTP 429 before the body is the only part, with Retry-After', async () => {
    server.enqueue({ error: { status: 429, headers: { 'retry-after': '3' } } });
    const parts = await collect(engine().stream(hello));
    expect(kinds(parts)).toEqual(['error:rate_limited']);
    expect(parts[0]).toMatchObject({ error: { retryAfterMs: 3000, upstreamStatus: 429, isRetryable: true } });
  });

  it('a connection cut after the finishReason chunk still finishes: the answer is complete', async () => {
    server.enqueue({ parts: 'abcd', chunks: 2, cutAfterEvents: 1000 });
    const parts = await collect(engine().stream(hello));
    expect(textOf(parts)).toBe('abcd');
    expect(kinds(parts).at(-1)).toBe('finish');
  });

  it('an { error } chunk cancels the body while the peer still holds the connection open', async () => {
    const peer = await holdOpenServer([
      `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'Hel' }], role: 'model' }, index: 0 }], responseId: 'r1', modelVersion: 'gemini-test' })}\r\n\r\n`,
      `data: ${JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } })}\r\n\r\n`,
    ]);
    try {
      const parts = await collect(engine(peer.url).stream(hello));
      expect(kinds(parts)).toEqual(['response-metadata', 'text-delta', 'error:provider_unavailable']);
      expect(await peer.closed).toBe(true);
    } finally {
      await peer.close();
    }
  });
});
