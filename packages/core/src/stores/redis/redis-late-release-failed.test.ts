/**
 * A budget reservation whose answer came after its bound is released by the Redis store when the late answer comes
 * (redis-budget-store.ts). A release that failed (the connection reset as it went out) was not tried again: the
 * reservation held its amount in the tenant's budget until its TTL (10 minutes) although nobody used it. And a release
 * sent on a connection that then went half-open (no answer, no reset) kept the store waiting for it with no bound: a
 * reserve of the id was refused unsent until TCP gave up on the connection. Now each try of the release is bounded by
 * the store's bound and one that fails or passes it is tried again (with backoff) until Redis answers one, a reserve of
 * the id takes the reservation over, or its TTL ends.
 * Real Redis (vitest.global-setup.ts) behind a loopback TCP relay that holds, stalls and resets the connection.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { startTcpRelay, type TcpRelay } from '../../test/tcp-relay.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { connectRedis } from './redis-connection.js';

const { redisUrl } = testServiceUrls();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!redisUrl)('a late reservation whose release fails', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await Promise.race([c().catch(() => undefined), sleep(3_000)]);
    cleanup = [];
  });

  /**
   * A store on a relay to Redis (bound 300 ms); `arm(f)`: `f` is called once as the store's release of `req-1` goes out
   * (before the relay passes it on); `reservesSent()` counts the reservation scripts of `req-1` sent after a release.
   */
  async function store(): Promise<{ r: TcpRelay; budgets: RedisBudgetStore; arm: (onRelease: () => void) => void; reservesSent: () => number }> {
    const target = new URL(redisUrl!);
    let onRelease: (() => void) | undefined;
    let released = false;
    let reserves = 0;
    const r = await startTcpRelay(
      { host: target.hostname, port: Number(target.port) },
      {
        onClientData: (_c, data) => {
          const sent = data.toString('latin1');
          if (!sent.includes('budget:res:req-1')) return;
          if (sent.includes('release')) {
            released = true;
            const f = onRelease;
            onRelease = undefined;
            f?.();
          } else if (released && sent.includes('EVAL')) reserves++;
        },
      },
    );
    cleanup.push(() => r.close());
    const handle = await connectRedis(`redis://127.0.0.1:${r.port}`, `latefail${Date.now()}${Math.random().toString(36).slice(2, 6)}:`);
    const budgets = new RedisBudgetStore(handle, Date.now, { timeoutMs: 300 });
    cleanup.push(() => budgets.close());
    return { r, budgets, arm: (f) => (onRelease = f), reservesSent: () => reserves };
  }
  const request = { tenantId: 'acme', period: 'month' as const, limitUsd: 1, estimateUsd: 0.5, reservationId: 'req-1' };

  /** A reservation of `request` whose answer comes after the store's bound (the relay holds it, then `flush`). */
  async function lateReservation(r: TcpRelay, budgets: RedisBudgetStore): Promise<void> {
    r.hold();
    await expect(budgets.reserve(request)).rejects.toMatchObject({ code: 'store_unavailable' });
  }

  it('a release lost with its connection is tried again once the connection is back: the reservation no longer holds its amount', async () => {
    const { r, budgets, arm } = await store();
    await lateReservation(r, budgets);
    // The late answer comes; the store's release of it goes out and the connection resets before it reaches Redis.
    arm(() => r.reset());
    r.flush();
    // Nobody holds the reservation: its $0.50 is freed well before its TTL (10 minutes).
    await vi.waitFor(async () => expect((await budgets.spent('acme', 'month')).reservedUsd).toBe(0), { timeout: 15_000, interval: 100 });
    // The whole limit is there for the next call.
    expect(await budgets.reserve({ ...request, estimateUsd: 1, reservationId: 'req-2' })).toMatchObject({ ok: true });
  });

  it('a release sent on a connection that went half-open is tried again once the connection is replaced: the reservation no longer holds its amount', async () => {
    const { r, budgets, arm } = await store();
    await lateReservation(r, budgets);
    // The release goes out and the connection stops passing bytes either way (no answer, no reset: TCP has not given up).
    const stalled = r.opened - 1;
    arm(() => r.stall(stalled));
    r.flush();
    await sleep(600); // past the release's bound (300 ms)
    // A middlebox dropped the connection at last (TCP gave up): the client connects again.
    r.reset();
    await vi.waitFor(async () => expect((await budgets.spent('acme', 'month')).reservedUsd).toBe(0), { timeout: 15_000, interval: 100 });
  });

  it('a reserve of the id while the failed release waits for its next try takes the reservation over: it is not released under it', async () => {
    const { r, budgets, arm, reservesSent } = await store();
    await lateReservation(r, budgets);
    const stalled = r.opened - 1;
    arm(() => r.stall(stalled));
    r.flush();
    await sleep(600); // the release's try passed its bound (no answer on the half-open connection)
    // The caller tries the reservation again: it is sent (not refused unsent while the release waits for an answer
    // that will not come), and fails at its own bound on the stalled connection.
    await expect(budgets.reserve(request)).rejects.toMatchObject({ code: 'store_unavailable', message: expect.not.stringContaining('waiting for the release') });
    expect(reservesSent()).toBeGreaterThan(0);
    r.reset();
    // Once the connection is back, the caller's next try gets the open reservation as its own (the release never ran)...
    const again = await vi.waitFor(() => budgets.reserve(request), { timeout: 15_000, interval: 100 });
    expect(again).toMatchObject({ ok: true });
    // ...and no later try of the release takes it back from under the call (tries were 100 ms, 200 ms, ... apart).
    await sleep(1_000);
    expect((await budgets.spent('acme', 'month')).reservedUsd).toBe(0.5);
    expect(await budgets.settle('req-1', 0.4)).toBe(true);
    const state = await budgets.spent('acme', 'month');
    expect({ spentUsd: state.spentUsd, reservedUsd: state.reservedUsd }).toEqual({ spentUsd: 0.4, reservedUsd: 0 });
  });
});
