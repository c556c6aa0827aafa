/**
 * The pieces of the stream hold (`streamHoldMs`) without a server: the keep-alive interval of a committed stream, and
 * a `HeldStream` whose client left before the stream opened (the Node pipe path still reads its body until it ends).
 * The served behaviour, with the official clients, is in `stream-hold.sdk.test.ts`.
 */
import { describe, expect, it, vi } from 'vitest';
import type { OpenedStream } from './open-stream.js';
import { HeldStream, keepAliveMs } from './stream-hold.js';

describe('keepAliveMs', () => {
  it('is the hold within 1 s .. 10 s (10 s for a hold of 0): a 1 ms hold is not a keep-alive per ms', () => {
    expect([0, 1, 50, 999, 1000, 2500, 9999, 10_000, 60_000].map(keepAliveMs)).toEqual([10_000, 1000, 1000, 1000, 1000, 2500, 9999, 10_000, 10_000]);
  });
});

describe('HeldStream once its client is gone', () => {
  it('sends no more keep-alives: it waits for the open to fail (the router stream was cancelled), then ends without the error event', async () => {
    vi.useFakeTimers();
    try {
      let fail!: (e: unknown) => void;
      const opening = new Promise<OpenedStream>((_, reject) => (fail = reject));
      const cancelled: DOMException[] = [];
      const failed: unknown[] = [];
      const held = new HeldStream(opening, {
        keepAlive: ': keep-alive\n\n',
        intervalMs: 1000,
        opened: () => {
          throw new Error('never opens');
        },
        failed: (e) => {
          failed.push(e);
          return Promise.resolve('data: {"error": {}}\n\n');
        },
        cancel: (reason) => cancelled.push(reason),
      });
      expect(await held.next()).toEqual({ done: false, value: ': keep-alive\n\n' });
      await held.cancel();
      expect(cancelled).toHaveLength(1);
      let result: IteratorResult<string, void> | undefined;
      const next = held.next().then((r) => (result = r));
      // Five intervals: a keep-alive would have been due five times.
      await vi.advanceTimersByTimeAsync(5000);
      expect(result).toBeUndefined();
      expect(vi.getTimerCount()).toBe(0);
      fail(new Error('cancelled upstream'));
      await next;
      expect(result).toEqual({ done: true, value: undefined });
      // Settled as the client's leaving, not as the open's error.
      expect(failed).toEqual([cancelled[0]]);
    } finally {
      vi.useRealTimers();
    }
  });
});
