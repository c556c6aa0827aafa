import { describe, expect, it } from 'vitest';
import { LoadOnce } from './load-once.js';

describe('LoadOnce', () => {
  it('shares one load between concurrent first calls and keeps it', async () => {
    let loads = 0;
    const once = new LoadOnce(async () => ++loads);
    const [a, b] = await Promise.all([once.get(), once.get()]);
    expect([a, b, await once.get(), loads]).toEqual([1, 1, 1, 1]);
  });

  it('retries a failed load on the next call', async () => {
    let loads = 0;
    const once = new LoadOnce(async () => {
      if (++loads === 1) throw new Error('first fails');
      return loads;
    });
    await expect(once.get()).rejects.toThrow('first fails');
    await expect(once.get()).resolves.toBe(2);
  });

  it('take() returns what was loaded and forgets it; undefined when nothing loaded or the load failed', async () => {
    let loads = 0;
    const once = new LoadOnce(async () => ++loads);
    await expect(once.take()).resolves.toBeUndefined();
    await once.get();
    await expect(once.take()).resolves.toBe(1);
    await expect(once.get()).resolves.toBe(2);
    const failing = new LoadOnce<number>(() => Promise.reject(new Error('no')));
    failing.get().catch(() => undefined);
    await expect(failing.take()).resolves.toBeUndefined();
  });
});
