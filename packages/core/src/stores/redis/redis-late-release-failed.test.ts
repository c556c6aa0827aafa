/**
 * A budget reservation whose answer came after its bound is released by the Redis store when the late answer comes
 * (redis-budget-store.ts). A release that failed (the connection reset as it went out) was not tried again: the
 * reservation held its amount in the tenant's budget until its TTL (10 minutes) although nobody used it. And a release
 * sent on a connection that then went half-open (no answer, no reset) kept the store waiting for it with no bound: a
 * reserve of the id was refused unsent until TCP gave up on the connection. Now each try of the release is bounded by
 * the store's bound (for the reserves of the id waiting for it) and one that fails is tried again (with backoff) until
 * Redis answers one, a reserve of the id takes the reservation over (and gets an answer), or its TTL ends.
 * And the review of that change: every reserve of the id waits for a try in flight (two reserves during one try: the
 * second one was sent at once and the record it wrote deleted under it, 0.5 leaked for the rest of the period); a try
 * is one EVAL (with FINISH not in the script cache, EVALSHA then EVAL was two commands, a reserve sent between them got
 * the reservation and then lost it); a reserve that fails without an answer gives the tries back.
 * Real Redis (vitest.global-setup.ts; an own one where the test flushes the script cache) behind a loopback TCP relay
 * that holds, stalls and resets the connection; the relay tells when a try of the release and a reserve go out.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../__fixtures__/free-port.js';
import { startSocketRedis } from '../__fixtures__/socket-redis.js';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { startTcpRelay, type TcpRelay } from '../../test/tcp-relay.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { connectRedis } from './redis-connection.js';

const { redisUrl } = testServiceUrls();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The release's arguments as they go out (RESP bulk strings): never part of a script's source. */
const RELEASE_ARGS = '$5\r\nreq-1\r\n$7\r\nrelease\r\n';
const SETTLE_ARGS = '$5\r\nreq-1\r\n$6\r\nsettle\r\n';

/** Resolves once `count()` reaches `n` (checked each time the relay sees a chunk: no sleeps). */
type Waiter = { n: number; resolve: () => void };

describe.skipIf(!redisUrl)('a late reservation whose release fails', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await Promise.race([c().catch(() => undefined), sleep(3_000)]);
    cleanup = [];
  });

  interface Setup {
    r: TcpRelay;
    budgets: RedisBudgetStore;
    /** `f` is called once, as the next try of the release of `req-1` goes out (before the relay passes it on). */
    arm: (onRelease: () => void) => void;
    /** Resolves once `n` tries of the release have gone out. */
    releases: (n: number) => Promise<void>;
    /** Resolves once `n` reservation scripts of `req-1` have gone out after the first try of the release. */
    reserves: (n: number) => Promise<void>;
    reservesSent: () => number;
  }

  /** A store on a relay to Redis at `url` (bound `timeoutMs`). */
  async function store(url = redisUrl!, timeoutMs = 300): Promise<Setup> {
    const target = new URL(url);
    let onRelease: (() => void) | undefined;
    let releases = 0;
    let reserves = 0;
    const waiting: Array<Waiter & { of: () => number }> = [];
    const r = await startTcpRelay(
      { host: target.hostname, port: Number(target.port) },
      {
        onClientData: (_c, data) => {
          const sent = data.toString('latin1');
          if (!sent.includes('budget:res:req-1')) return;
          if (sent.includes(RELEASE_ARGS)) {
            releases++;
            const f = onRelease;
            onRelease = undefined;
            f?.();
          } else if (releases > 0 && /EVAL/.test(sent) && !sent.includes(SETTLE_ARGS)) reserves++;
          for (const w of waiting.splice(0)) {
            if (w.of() >= w.n) w.resolve();
            else waiting.push(w);
          }
        },
      },
    );
    cleanup.push(() => r.close());
    const handle = await connectRedis(`redis://127.0.0.1:${r.port}`, `latefail${Date.now()}${Math.random().toString(36).slice(2, 6)}:`);
    const budgets = new RedisBudgetStore(handle, Date.now, { timeoutMs });
    cleanup.push(() => budgets.close());
    const until = (of: () => number, n: number) => (of() >= n ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ n, resolve, of })));
    return {
      r,
      budgets,
      arm: (f) => (onRelease = f),
      releases: (n) => until(() => releases, n),
      reserves: (n) => until(() => reserves, n),
      reservesSent: () => reserves,
    };
  }
  const request = { tenantId: 'acme', period: 'month' as const, limitUsd: 1, estimateUsd: 0.5, reservationId: 'req-1' };

  /** A reservation of `request` whose answer comes after the store's bound (the relay holds it, then `flush`). */
  async function lateReservation(r: TcpRelay, budgets: RedisBudgetStore): Promise<void> {
    r.hold();
    await expect(budgets.reserve(request)).rejects.toMatchObject({ code: 'store_unavailable' });
  }

  /** The reservation of `req-1` is the caller's: it holds 0.5, and settling it leaves nothing reserved. */
  async function heldOnceThenSettled(budgets: RedisBudgetStore): Promise<void> {
    expect((await budgets.spent('acme', 'month')).reservedUsd).toBe(0.5);
    expect(await budgets.settle('req-1', 0.4)).toBe(true);
    const state = await budgets.spent('acme', 'month');
    expect({ spentUsd: state.spentUsd, reservedUsd: state.reservedUsd }).toEqual({ spentUsd: 0.4, reservedUsd: 0 });
  }

  it('a release lost with its connection is tried again once the connection is back: the reservation no longer holds its amount', async () => {
    const { r, budgets, arm, releases } = await store();
    await lateReservation(r, budgets);
    // The late answer comes; the store's release of it goes out and the connection resets before it reaches Redis.
    arm(() => r.reset());
    r.flush();
    await releases(2);
    // Nobody holds the reservation: its $0.50 is freed well before its TTL (10 minutes).
    await vi.waitFor(async () => expect((await budgets.spent('acme', 'month')).reservedUsd).toBe(0), { timeout: 15_000, interval: 100 });
    // The whole limit is there for the next call.
    expect(await budgets.reserve({ ...request, estimateUsd: 1, reservationId: 'req-2' })).toMatchObject({ ok: true });
  });

  it('a release sent on a connection that went half-open is tried again once the connection is replaced: the reservation no longer holds its amount', async () => {
    const { r, budgets, arm, releases } = await store();
    await lateReservation(r, budgets);
    // The release goes out and the connection stops passing bytes either way (no answer, no reset: TCP has not given up).
    const stalled = r.opened - 1;
    arm(() => r.stall(stalled));
    r.flush();
    await releases(1);
    // No second try is queued behind the first on the half-open connection (it would wait there as the first does).
    await sleep(1_000);
    expect(await Promise.race([releases(2).then(() => 'tried again'), sleep(0).then(() => 'one try')])).toBe('one try');
    // A middlebox dropped the connection at last (TCP gave up): the client connects again.
    r.reset();
    await releases(2);
    await vi.waitFor(async () => expect((await budgets.spent('acme', 'month')).reservedUsd).toBe(0), { timeout: 15_000, interval: 100 });
  });

  it('a reserve of the id after a try passed its bound is sent after it and, answered, takes the reservation over: it is not released under it', async () => {
    const { r, budgets, arm, releases, reservesSent } = await store();
    await lateReservation(r, budgets);
    const stalled = r.opened - 1;
    arm(() => r.stall(stalled));
    r.flush();
    await releases(1);
    await sleep(600); // at least the try's bound (300 ms): the reserves of the id no longer wait for it
    // The caller tries the reservation again: it is sent (not refused unsent while the release waits for an answer
    // that will not come), and fails at its own bound on the stalled connection.
    await expect(budgets.reserve(request)).rejects.toMatchObject({ code: 'store_unavailable', message: expect.not.stringContaining('waiting for the release') });
    expect(reservesSent()).toBeGreaterThan(0);
    r.reset();
    // Once the connection is back, the caller's next try gets the reservation as its own (the open one, or a new one
    // when a try of the release ran first)...
    const again = await vi.waitFor(() => budgets.reserve(request), { timeout: 15_000, interval: 100 });
    expect(again).toMatchObject({ ok: true });
    // ...and no later try of the release takes it back from under the call (tries were 100 ms, 200 ms, ... apart).
    await sleep(1_000);
    await heldOnceThenSettled(budgets);
  });

  it('two reserves of the id while a try of the release is in flight both wait for it: one reservation, nothing left reserved after its settlement', async () => {
    const { r, budgets, arm, releases } = await store(redisUrl, 1_000);
    await lateReservation(r, budgets);
    // The release goes out; its answer is held (the try is in flight).
    arm(() => r.hold());
    r.flush();
    await releases(1);
    const first = budgets.reserve(request);
    const second = budgets.reserve(request);
    await sleep(50); // room for a reserve sent at once to go out before the release's answer
    r.flush();
    expect(await first).toMatchObject({ ok: true });
    expect(await second).toMatchObject({ ok: true });
    await heldOnceThenSettled(budgets);
  });

  it('with the release script not in Redis\'s cache, a try is one command: a reserve of the id sent after it runs after it', async () => {
    const port = await freePort();
    const own = await startSocketRedis('late-release-noscript', ['--port', String(port), '--bind', '127.0.0.1']);
    cleanup.push(() => own.stop());
    const url = `redis://127.0.0.1:${port}`;
    const { r, budgets, arm, releases, reserves } = await store(url, 300);
    // A restart, a failover or a SCRIPT FLUSH emptied the script cache; the late reservation loads its own script again.
    const admin = await connectRedis(url, 'admin:');
    cleanup.push(() => admin.release());
    await admin.command(['SCRIPT', 'FLUSH']);
    await lateReservation(r, budgets);
    // The release goes out and its answer is held past its bound.
    arm(() => r.hold());
    r.flush();
    await releases(1);
    await sleep(600); // at least the try's bound (300 ms): a reserve of the id is sent after it
    const again = budgets.reserve({ ...request });
    await reserves(1);
    r.flush();
    // The reserve ran after the release: a new reservation, the caller's.
    expect(await again).toMatchObject({ ok: true });
    await sleep(500); // nothing else of the release is still to run
    await heldOnceThenSettled(budgets);
  });

  it.each([
    ['refused unsent (the wait for a try in flight took most of its bound)', false],
    ['sent on a stalled connection and failing at its bound', true],
  ])('a reserve of the id %s gives the release back its tries: the amount is freed once the connection is back', async (_, afterBound) => {
    const { r, budgets, arm, releases } = await store();
    await lateReservation(r, budgets);
    const stalled = r.opened - 1;
    arm(() => r.stall(stalled));
    r.flush();
    await releases(1);
    if (afterBound) await sleep(600); // at least the try's bound (300 ms)
    await expect(budgets.reserve(request)).rejects.toMatchObject({ code: 'store_unavailable' });
    // The caller gives up; the connection is replaced.
    r.reset();
    await vi.waitFor(async () => expect((await budgets.spent('acme', 'month')).reservedUsd).toBe(0), { timeout: 15_000, interval: 100 });
  });
});
