import { MemoryRateLimiter, type RateLease, type RateLimiter } from '@llmrr/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

/**
 * A call's `finish` that failed (its limits or budget store unreachable for a moment: tenancy/admission.ts) hands what
 * it could not do to `Renewals.retry`, which tries it again with backoff until it succeeds, and once more at `close`:
 * a concurrency slot is freed and a cost charged when the store answers again, not at the stores' TTL.
 */
describe('a finished call whose limits or budget could not be given back', () => {
  let renewals: Renewals | undefined;
  afterEach(async () => {
    await renewals?.close();
  });

  it('is tried again until it succeeds', async () => {
    const logged: string[] = [];
    renewals = new Renewals({} as GatewayStores, (m) => logged.push(m), 5);
    let tries = 0;
    renewals.retry(async () => {
      if (++tries < 4) throw new Error('Redis is reconnecting');
    });
    await vi.waitFor(() => expect(tries).toBe(4), { timeout: 10_000, interval: 5 });
    expect(logged).toEqual([]);
  });

  it('at most maxUnfinished wait: the oldest is dropped, its count logged, the others are still tried', async () => {
    // During a long outage every finished call adds one; they were kept without bound, each tick read them all.
    const logged: string[] = [];
    renewals = new Renewals({} as GatewayStores, (m) => logged.push(m), DEFAULT_RENEW_INTERVAL_MS, 3);
    const tried: number[] = [];
    let up = false;
    for (let i = 0; i < 5; i++) {
      renewals.retry(async () => {
        tried.push(i);
        if (!up) throw new Error('Redis is down');
      });
    }
    await vi.waitFor(() => expect(logged).toContain("2 finished call(s) whose limits release or budget settlement failed were dropped untried: more than 3 were waiting to be tried again (their slots and reservations expire at the stores' TTL)"), { timeout: 10_000, interval: 20 });
    await vi.waitFor(() => expect(new Set(tried)).toEqual(new Set([2, 3, 4])), { timeout: 10_000, interval: 20 });
    up = true;
    await renewals.close();
    expect(tried).not.toContain(0);
    expect(tried).not.toContain(1);
    expect(logged).toHaveLength(1);
  });

  it("prefetches' charges have their own cap: their oldest is dropped (named), never a call's finish", async () => {
    // They shared the calls' cap: an outage's prefetch charges (some 1.3 KB each) pushed calls' settlements out.
    const logged: string[] = [];
    renewals = new Renewals({} as GatewayStores, (m) => logged.push(m), DEFAULT_RENEW_INTERVAL_MS, 2, 2);
    const tried: string[] = [];
    let up = false;
    const work = (name: string) => async () => {
      tried.push(name);
      if (!up) throw new Error('Redis is down');
    };
    renewals.retry(work('call0'));
    renewals.retry(work('call1'));
    for (let i = 0; i < 4; i++) renewals.retryCharge(work(`charge${i}`), `the budget charge of prefetch p${i} (tenant "acme", $0.25)`);
    await vi.waitFor(
      () =>
        expect(logged).toContain(
          '2 prefetch budget charge(s) that failed were dropped untried: more than 2 were waiting to be tried again (their costs are not counted in the budgets): the budget charge of prefetch p0 (tenant "acme", $0.25); the budget charge of prefetch p1 (tenant "acme", $0.25)',
        ),
      { timeout: 10_000, interval: 20 },
    );
    await vi.waitFor(() => expect(new Set(tried)).toEqual(new Set(['call0', 'call1', 'charge2', 'charge3'])), { timeout: 10_000, interval: 20 });
    expect(logged).toHaveLength(1);
    // A charge given up at close names itself.
    await renewals.close();
    expect(logged.slice(1)).toEqual([
      "releasing limits or settling the budget of a finished call failed, and failed again until given up",
      "releasing limits or settling the budget of a finished call failed, and failed again until given up",
      'the budget charge of prefetch p2 (tenant "acme", $0.25) failed, and failed again until given up: not counted in the budget (unless a try whose answer was lost landed)',
      'the budget charge of prefetch p3 (tenant "acme", $0.25) failed, and failed again until given up: not counted in the budget (unless a try whose answer was lost landed)',
    ]);
    up = true;
  });

  it('is tried once more when the gateway closes, and logged when that fails too', async () => {
    const logged: string[] = [];
    renewals = new Renewals({} as GatewayStores, (m) => logged.push(m), DEFAULT_RENEW_INTERVAL_MS);
    let tries = 0;
    renewals.retry(async () => {
      tries++;
      throw new Error('Redis is down');
    });
    await renewals.close();
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(logged).toEqual(['releasing limits or settling the budget of a finished call failed, and failed again until given up']);
  });
});
