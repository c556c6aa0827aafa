import { describe, expect, it } from 'vitest';
import { raceAbort } from './abort.js';

describe('raceAbort', () => {
  it('passes the promise through without a signal, or when it settles first', async () => {
    await expect(raceAbort(Promise.resolve(1), undefined)).resolves.toBe(1);
    const controller = new AbortController();
    await expect(raceAbort(Promise.resolve(2), controller.signal)).resolves.toBe(2);
    await expect(raceAbort(Promise.reject(new Error('boom')), controller.signal)).rejects.toThrow('boom');
  });

  it('rejects at once with the reason of an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('early'));
    await expect(raceAbort(new Promise(() => {}), controller.signal)).rejects.toThrow('early');
  });

  it('rejects with the reason when the signal aborts before the promise settles', async () => {
    const controller = new AbortController();
    let settle: (v: number) => void = () => {};
    const pending = new Promise<number>((resolve) => (settle = resolve));
    const raced = raceAbort(pending, controller.signal);
    controller.abort(new Error('late'));
    await expect(raced).rejects.toThrow('late');
    settle(3);
    await expect(pending).resolves.toBe(3); // the promise goes on
  });
});
