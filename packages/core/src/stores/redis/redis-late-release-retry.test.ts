/**
 * A budget reservation whose answer came after its bound is released by the Redis store when the late answer comes
 * (nobody waits for it: redis-budget-store.ts). A caller that retries the reservation with the same id (the
 * `store_unavailable` was retryable, the id is idempotent) just as that answer came (its retry sent after the answer,
 * before the store's release of it ran in Redis) got `ok` for the reservation the release then closed: the call ran
 * holding nothing and its settlement changed nothing (`false`): its cost was never counted. The same when the release's
 * own answer was lost: the record stayed, marked released, and a retry got it back as its own, closed. (Forced $0
 * reservations, the gateway's prefetch charges, are not released so: prefetch-charge-late-answer.test.ts in the
 * gateway. The gateway's calls never reserve an id twice: each admission and extension has its own id.)
 *
 * A retry now waits for a late answer's release of its id, and a reservation id whose record is finished (settled or
 * released) is reserved anew, as `BudgetReserveRequest.reservationId` says. The release is one script sent as the late
 * answer comes (it was a read of the record, then the script once the read answered: a retry waiting for a release
 * that failed at its bound while the read's answer was slow ran between the two, took the reservation as its own, and
 * the script then released it), and a retry waits until Redis answered it, failing at its own bound meanwhile.
 * Real Redis (vitest.global-setup.ts) behind a loopback TCP relay that holds Redis's answers back (the commands run,
 * their answers come late).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/index.js';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { startTcpRelay, type TcpRelay } from '../../test/tcp-relay.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { connectRedis } from './redis-connection.js';

const { redisUrl } = testServiceUrls();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!redisUrl)('a reservation retried with the same id as its late answer is released', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await Promise.race([c().catch(() => undefined), sleep(3_000)]);
    cleanup = [];
  });

  /** A store on a relay to Redis; `onClientData` sees each chunk the store sends, before it is passed on. */
  async function store(onClientData?: (data: Buffer) => void): Promise<{ r: TcpRelay; budgets: RedisBudgetStore }> {
    const target = new URL(redisUrl!);
    const r = await startTcpRelay({ host: target.hostname, port: Number(target.port) }, { onClientData: (_c, d) => onClientData?.(d) });
    cleanup.push(() => r.close());
    const handle = await connectRedis(`redis://127.0.0.1:${r.port}`, `laterel${Date.now()}${Math.random().toString(36).slice(2, 6)}:`);
    const budgets = new RedisBudgetStore(handle, Date.now, { timeoutMs: 300 });
    cleanup.push(() => budgets.close());
    return { r, budgets };
  }
  const request = { tenantId: 'acme', period: 'month' as const, limitUsd: 1, estimateUsd: 0.5, reservationId: 'req-1' };

  it('a retry sent right after the late answer came holds the reservation, and its settlement counts', async () => {
    // The caller's retry, sent as the late answer came: as the store's release of it goes out.
    let retry: Promise<unknown> | undefined;
    let armed = false;
    const { r, budgets } = await store((data) => {
      const sent = data.toString('latin1');
      if (!armed || !sent.includes('budget:res:req-1') || !(sent.includes('HMGET') || sent.includes('release'))) return;
      armed = false;
      retry = budgets.reserve(request);
    });
    r.hold();
    await expect(budgets.reserve(request)).rejects.toMatchObject({ code: 'store_unavailable' });
    armed = true;
    r.flush();
    for (let i = 0; i < 200 && !retry; i++) await sleep(10);
    expect(await retry).toMatchObject({ ok: true });
    await sleep(200); // whatever the late answer's release does has landed
    // The call ran on it: it holds the room, and its settlement charges the cost.
    expect((await budgets.spent('acme', 'month')).reservedUsd).toBe(0.5);
    const settled = await budgets.settle('req-1', 0.4);
    const state = await budgets.spent('acme', 'month');
    expect({ settled, spentUsd: state.spentUsd, reservedUsd: state.reservedUsd }).toEqual({ settled: true, spentUsd: 0.4, reservedUsd: 0 });
  });

  it("a retry after a release whose answer was lost is a new reservation (the finished one's record is not returned)", async () => {
    const { r, budgets } = await store();
    expect((await budgets.reserve(request)).ok).toBe(true);
    // The release runs in Redis, its answer comes after its bound: the record stays, marked released.
    r.hold();
    await expect(budgets.release('req-1')).rejects.toMatchObject({ code: 'store_unavailable' });
    r.flush();
    await sleep(100);
    const again = await budgets.reserve(request);
    expect(again.ok).toBe(true);
    expect((await budgets.spent('acme', 'month')).reservedUsd).toBe(0.5);
    const settled = await budgets.settle('req-1', 0.4);
    expect({ settled, spentUsd: (await budgets.spent('acme', 'month')).spentUsd }).toEqual({ settled: true, spentUsd: 0.4 });
  });

  it("a retry waiting for the release of its id whose answer is slow does not run before the release (it holds what it reserved)", async () => {
    // The late answer's release is sent; its answer is slow (held for 400 ms, past the store's 300 ms bound). A retry
    // issued as it goes out must not reach Redis before the release ran there: before, the release was an HMGET and
    // then, once HMGET answered, the script; the release failed at its bound while HMGET's answer was held, the
    // waiting retry went on, its RESERVE ran before the script (it found the id still reserved and took it as its own)
    // and the script then released it: the retry held $0 and its settlement changed nothing.
    let armed = false;
    let retry: Promise<unknown> | undefined;
    let flushed!: () => void;
    const flushedAfter = new Promise<void>((resolve) => (flushed = resolve));
    const { r, budgets } = await store((data) => {
      const sent = data.toString('latin1');
      if (!armed || !sent.includes('budget:res:req-1') || !(sent.includes('HMGET') || sent.includes('release'))) return;
      armed = false;
      r.hold();
      retry = budgets.reserve(request).then(
        (v) => v,
        (e: unknown) => e,
      );
      setTimeout(() => {
        r.flush();
        flushed();
      }, 400);
    });
    r.hold();
    await expect(budgets.reserve(request)).rejects.toMatchObject({ code: 'store_unavailable' });
    armed = true;
    r.flush();
    await flushedAfter;
    const outcome = await retry;
    // Either it held the reservation, or it failed as unavailable (it waited for the release past its own bound) and
    // the caller tries again, as it would.
    let held = outcome as { ok?: boolean };
    if (LLMError.isInstance(outcome)) {
      expect(outcome.code).toBe('store_unavailable');
      held = await budgets.reserve(request);
    }
    expect(held).toMatchObject({ ok: true });
    await sleep(200); // whatever the late answer's release does has landed
    expect((await budgets.spent('acme', 'month')).reservedUsd).toBe(0.5);
    const settled = await budgets.settle('req-1', 0.4);
    const state = await budgets.spent('acme', 'month');
    expect({ settled, spentUsd: state.spentUsd, reservedUsd: state.reservedUsd }).toEqual({ settled: true, spentUsd: 0.4, reservedUsd: 0 });
  });
});
