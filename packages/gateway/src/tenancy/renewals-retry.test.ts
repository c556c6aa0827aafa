import { MemoryRateLimiter, type RateLease, type RateLimiter } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayStores } from '../types.js';
import { DEFAULT_RENEW_INTERVAL_MS, Renewals } from './renewals.js';

/**
 * `Renewals.sweep` marks a call as renewed (`h.sweep = sweep`) before the store has answered. When the store's
 * `renew` fails once (a Redis call past its new 2 s bound, a SQLite busy error), the call is not tried again at
 * the next sweep but two sweeps later: at the default interval (200 s) against the stores' 10-minute TTL, a call
 * admitted just before a sweep is then first retried 600 s after its last successful lease write, when its lease
 * has already expired (and `renew` rightly refuses to revive it). One transient failure loses the concurrency slot
 * (and the budget reservation) of every long call renewed in that sweep, while the calls keep running.
 */
describe('a renewal sweep whose store call fails once', () => {
  let renewals: Renewals | undefined;
  afterEach(async () => {
    await renewals?.close();
  });

  it('the call keeps its concurrency slot (the next sweep tries again, within the TTL)', async () => {
    const clock = { now: 0 };
    const limiter = new MemoryRateLimiter(() => clock.now);
    let failNext = false;
    // The memory limiter, whose renew fails once when the test says so (as a Redis call past its bound does).
    const flaky: RateLimiter = {
      acquire: (s, o) => limiter.acquire(s, o),
      peek: (s) => limiter.peek(s),
      close: () => limiter.close(),
      renew: (leases: readonly RateLease[]) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('Redis did not answer the lease renewal within 2000 ms'));
        }
        return limiter.renew(leases);
      },
    };
    const stores = { rateLimiter: flaky } as unknown as GatewayStores;
    const logged: string[] = [];
    renewals = new Renewals(stores, (m) => logged.push(m), DEFAULT_RENEW_INTERVAL_MS);
    const I = DEFAULT_RENEW_INTERVAL_MS;
    const scope = [{ kind: 'tenant' as const, id: 'acme', limits: { maxConcurrency: 1 } }];

    // Admitted just before the first sweep (the interval's sweeps are at I, 2I, 3I, 4I; emulated here).
    clock.now = I - 1_000;
    const decision = await limiter.acquire(scope, { estimatedTokens: 0 });
    if (!decision.ok) throw new Error('first acquire refused');
    renewals.add(decision.lease, undefined);

    clock.now = I;
    await renewals.renewNow(); // too young: not renewed
    clock.now = 2 * I;
    failNext = true;
    await renewals.renewNow(); // renewal fails (logged)
    expect(logged).toHaveLength(1);
    clock.now = 3 * I;
    await renewals.renewNow();
    clock.now = 4 * I;
    await renewals.renewNow();

    // The call is still in flight: its slot is still held, a second call of the tenant is refused.
    const second = await limiter.acquire(scope, { estimatedTokens: 0 });
    expect({ inFlightSlotHeld: !second.ok }).toEqual({ inFlightSlotHeld: true });
  });
});
