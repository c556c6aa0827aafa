import { describe, expect, it } from 'vitest';
import type { LLMError } from '../errors/llm-error.js';
import type { LanguageEngineV1 } from '../spec/engine-v1.js';
import type { GenerateRequest } from '../spec/messages.js';
import type { StreamPart } from '../spec/stream-parts.js';
import type { ReplyQueueServer, TrackedRequest } from './wire-server-kit.js';

export interface AbortContractSpec<R> {
  /** e.g. `anthropic engine`. */
  name: string;
  engine(): LanguageEngineV1;
  /** The running server (a getter: servers start in `beforeAll`). */
  server(): ReplyQueueServer<TrackedRequest, R>;
  hello: GenerateRequest;
  /** The server's script for a streamed answer of `text` in `chunks` deltas (with pacing or a hang after some events). */
  streamed(o: { text: string; chunks: number; delayMs?: number; hangAfterEvents?: number }): R;
  /** The server's script for a request that never answers. */
  hang: R;
  /** Events (of this wire format) up to and including the first of 4 deltas, for a hang right after it. */
  eventsThroughFirstDelta: number;
  /** Events to let through before hanging, when the consumer stops after the first delta. */
  eventsBeforeHang: number;
  /** Upper bound of events a server may have sent when a 10-delta stream (100 ms apart) is aborted at the first. */
  maxEventsAfterAbort: number;
}

function lastError(parts: StreamPart[]): LLMError {
  const last = parts.at(-1);
  if (last?.type !== 'error') throw new Error(`expected a final error part, got ${JSON.stringify(last)}`);
  return last.error;
}

const textOf = (parts: StreamPart[]) => parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');

/**
 * The abort and cancellation behaviour every HTTP engine must have, against its provider's local wire
 * server: an abort ends a stream with an `aborted` error part and closes the upstream socket, an abort
 * rejects a pending generate, a timeout signal surfaces as `timeout`, an abort unblocks a stream waiting
 * for its next event, and a consumer that stops reading releases the connection.
 */
export function describeAbortContract<R>(spec: AbortContractSpec<R>): void {
  describe(`${spec.name}: abort and cancellation`, () => {
    it('aborting a stream closes the upstream socket and ends with an aborted error part', async () => {
      spec.server().enqueue(spec.streamed({ text: 'a b c d e f g h i j', chunks: 10, delayMs: 100 }));
      const controller = new AbortController();
      const parts: StreamPart[] = [];
      for await (const p of spec.engine().stream(spec.hello, { signal: controller.signal })) {
        parts.push(p);
        if (p.type === 'text-delta') controller.abort();
      }
      expect(lastError(parts).code).toBe('aborted');
      const req = spec.server().requests.at(-1)!;
      await req.done;
      expect(req.clientClosed).toBe(true);
      expect(req.eventsSent).toBeLessThan(spec.maxEventsAfterAbort);
    });

    it('aborting a generate that waits for headers rejects with aborted and closes the socket', async () => {
      const server = spec.server();
      server.enqueue(spec.hang);
      const controller = new AbortController();
      const pending = spec.engine().generate(spec.hello, { signal: controller.signal });
      await server.waitForRequests(1);
      controller.abort();
      await expect(pending).rejects.toMatchObject({ code: 'aborted' });
      await server.requests[0]!.done;
      expect(server.requests[0]!.clientClosed).toBe(true);
    });

    it('a timeout signal surfaces as code timeout', async () => {
      spec.server().enqueue(spec.hang);
      await expect(spec.engine().generate(spec.hello, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({ code: 'timeout' });
    });

    it('an abort while the stream waits for the next event unblocks it and closes the socket', async () => {
      spec.server().enqueue(spec.streamed({ text: 'abcdefgh', chunks: 4, hangAfterEvents: spec.eventsThroughFirstDelta }));
      const controller = new AbortController();
      const parts: StreamPart[] = [];
      for await (const p of spec.engine().stream(spec.hello, { signal: controller.signal })) {
        parts.push(p);
        if (p.type === 'text-delta') setTimeout(() => controller.abort(), 50);
      }
      expect(textOf(parts)).toBe('ab');
      expect(lastError(parts).code).toBe('aborted');
      const req = spec.server().requests.at(-1)!;
      await req.done;
      expect(req.clientClosed).toBe(true);
    });

    it('a consumer that stops reading early releases the connection', async () => {
      spec.server().enqueue(spec.streamed({ text: 'abcdefgh', chunks: 8, hangAfterEvents: spec.eventsBeforeHang }));
      for await (const p of spec.engine().stream(spec.hello)) if (p.type === 'text-delta') break;
      const req = spec.server().requests.at(-1)!;
      await req.done;
      expect(req.clientClosed).toBe(true);
    });
  });
}
