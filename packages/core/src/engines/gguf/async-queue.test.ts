import { describe, expect, it } from 'vitest';
import { AsyncQueue } from './async-queue.js';

describe('AsyncQueue', () => {
  it('delivers pushed items in order, buffered or awaited, then ends on close', async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.push(2);
    const seen: number[] = [];
    const done = (async () => {
      for await (const n of q) seen.push(n);
    })();
    await Promise.resolve();
    q.push(3);
    q.close();
    q.push(4); // ignored after close
    await done;
    expect(seen).toEqual([1, 2, 3]);
  });

  it('resolves a pending next() with done when closed', async () => {
    const q = new AsyncQueue<string>();
    const pending = q.next();
    q.close();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
  });
});
