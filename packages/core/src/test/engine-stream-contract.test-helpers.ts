import { describe, expect, it } from 'vitest';
import type { LanguageEngineV1 } from '../spec/engine-v1.js';
import type { GenerateRequest } from '../spec/messages.js';
import { collect } from './async.test-helpers.js';
import { startLoopbackHttp } from './loopback-http.test-helpers.js';
import { kinds } from './sse-decoder.test-helpers.js';
import type { ReplyQueueServer, TrackedRequest } from './wire-server-kit.js';

export interface StreamContractSpec<R> {
  /** e.g. `anthropic engine`. */
  name: string;
  /** The engine, against the wire server unless `baseURL` names another peer. */
  engine(baseURL?: string): LanguageEngineV1;
  /** The running server (a getter: servers start in `beforeAll`); its `requests` are cleared after each test. */
  server(): ReplyQueueServer<TrackedRequest, R>;
  hello: GenerateRequest;
  /** Provider and deployment every error part carries. */
  context: { provider: string; deployment: string };
  /** The server's script for an HTTP 429 with `retry-after: 3`. */
  rateLimited: R;
  /** The provider's error event, e.g. `an error event`. */
  errorEvent: string;
  /** SSE frames of an answer that the error event ends (then the peer holds the connection open), and their parts' kinds. */
  errorFrames: string[];
  errorKinds: string[];
}

/** A peer that answers every request with `frames` and then holds the connection open; `closed` tells who closed it. */
async function holdOpenServer(frames: string[]) {
  let resolveClosed!: (byClient: boolean) => void;
  const closed = new Promise<boolean>((resolve) => (resolveClosed = resolve));
  const peer = await startLoopbackHttp((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.on('close', () => resolveClosed(!res.writableFinished));
      for (const frame of frames) res.write(frame);
    });
  });
  return { url: peer.url, closed, close: () => peer.close() };
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * What the stream iterator of every `SsePartStream` engine must do, against its provider's local wire
 * server: nothing is sent before the first `next()`, a signal aborted before the call is one `aborted` part,
 * an HTTP error before the body is the only part, and the provider's error event cancels a body the peer
 * holds open.
 */
export function describeStreamContract<R>(spec: StreamContractSpec<R>): void {
  describe(`${spec.name}: the stream iterator`, () => {
    it('sends nothing before the first next(), and nothing at all when return() comes first', async () => {
      const server = spec.server();
      const iterate = () => spec.engine().stream(spec.hello)[Symbol.asyncIterator]();
      const idle = iterate();
      await macrotask();
      expect(server.requests).toHaveLength(0);
      expect(await idle.return!()).toEqual({ done: true, value: undefined });
      expect(await idle.next()).toEqual({ done: true, value: undefined });
      await macrotask();
      expect(server.requests).toHaveLength(0);

      const live = iterate();
      expect(await live.next()).toMatchObject({ done: false, value: { type: 'response-metadata' } });
      expect(server.requests).toHaveLength(1);
      await live.return!();
    });

    it('a signal aborted before the call ends with one aborted part, and nothing reaches the server', async () => {
      const parts = await collect(spec.engine().stream(spec.hello, { signal: AbortSignal.abort() }));
      expect(kinds(parts)).toEqual(['error:aborted']);
      expect(parts[0]).toMatchObject({ error: spec.context });
      expect(spec.server().requests).toHaveLength(0);
    });

    it('an HTTP 429 before the body is the only part, with Retry-After', async () => {
      spec.server().enqueue(spec.rateLimited);
      const parts = await collect(spec.engine().stream(spec.hello));
      expect(kinds(parts)).toEqual(['error:rate_limited']);
      expect(parts[0]).toMatchObject({ error: { retryAfterMs: 3000, upstreamStatus: 429, isRetryable: true } });
    });

    it(`${spec.errorEvent} cancels the body while the peer still holds the connection open`, async () => {
      const peer = await holdOpenServer(spec.errorFrames);
      try {
        const parts = await collect(spec.engine(peer.url).stream(spec.hello));
        expect(kinds(parts)).toEqual(spec.errorKinds);
        expect(await peer.closed).toBe(true);
      } finally {
        await peer.close();
      }
    });
  });
}
