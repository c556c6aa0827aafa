import { afterEach, describe, expect, it, vi } from 'vitest';
import { Renewals } from './renewals.js';

describe('Renewals: the one interval runs only while something is in flight', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts with an admitted call and stops at the first tick after the last one ended', async () => {
    vi.useFakeTimers();
    const renewals = new Renewals(undefined, () => {}, 1000);
    expect(vi.getTimerCount()).toBe(0);
    const held = renewals.add(undefined, 'r1');
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(600);
    expect(vi.getTimerCount()).toBe(1); // still in flight: the interval keeps going
    renewals.remove(held);
    await vi.advanceTimersByTimeAsync(250);
    expect(vi.getTimerCount()).toBe(0); // idle: no wake-ups
    renewals.add(undefined, 'r2');
    expect(vi.getTimerCount()).toBe(1);
    await renewals.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
