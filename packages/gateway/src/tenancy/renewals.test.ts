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

describe('Renewals: a bounded holding stops being renewed', () => {
  it('renews a place added with renewForMs until then, then drops it (logged once) while others are still renewed', async () => {
    const renewed: unknown[][] = [];
    const limiter = { renew: async (leases: unknown[]) => void renewed.push([...leases]) };
    const stores = { rateLimiter: limiter, budgets: {} } as unknown as ConstructorParameters<typeof Renewals>[0];
    const logs: string[] = [];
    // A scaled-down bound (40 ms) and no sweep of the interval's own (an hour apart): the sweeps are run by hand.
    const renewals = new Renewals(stores, (m) => logs.push(m), 3_600_000);
    const bounded = { release: async () => {} } as never;
    const call = { release: async () => {} } as never;
    renewals.add(bounded, undefined, 40, 'a routing preview place');
    renewals.add(call, undefined);
    try {
      await renewals.renewNow();
      expect(renewed.at(-1)).toEqual([bounded, call]);
      await new Promise((r) => setTimeout(r, 80));
      await renewals.renewNow();
      expect(renewed.at(-1)).toEqual([call]);
      await renewals.renewNow();
      expect(renewed.at(-1)).toEqual([call]);
      expect(logs).toEqual([expect.stringMatching(/^a routing preview place held for more than 0 s is no longer renewed/)]);
    } finally {
      await renewals.close();
    }
  });
});
