/**
 * `bounded` (redis-connection.ts) gives a late `reserve` answer back by releasing the reservation
 * (redis-budget-store.ts, the `late` callback of `reserve`). But the reservation id is the caller's, and the store
 * promises "Reserving an id twice returns the first result": a caller that retries the `store_unavailable`
 * reserve with the same id (the natural use of an idempotent id) gets `ok` for that same reservation, and then the
 * late answer of the first attempt releases it under the caller's feet. The caller runs its request, settles the
 * actual cost, and `settle` finds the reservation released: nothing is charged ("the actual cost is always
 * recorded" broken; the budget is overspent by the whole call).
 * Real Redis (vitest.global-setup.ts) behind a loopback TCP relay that holds Redis's answers back for a while
 * (a slow network or a stalled primary: the commands run, their answers come late).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { startTcpRelay, type TcpRelay } from '../../test/tcp-relay.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { connectRedis } from './redis-connection.js';

const { redisUrl } = testServiceUrls();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A loopback relay to Redis (test/tcp-relay.ts), addressed as a Redis URL. */
async function relay(target: URL): Promise<TcpRelay & { url: string }> {
  const r = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
  return Object.assign(r, { url: `redis://127.0.0.1:${r.port}` });
}

describe.skipIf(!redisUrl)('a budget reservation whose answer comes after its bound, retried with the same id', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await Promise.race([c().catch(() => undefined), sleep(3_000)]);
    cleanup = [];
  });

  it('the retried reservation stays in place, and its settle charges the actual cost', async () => {
    const r = await relay(new URL(redisUrl!));
    cleanup.push(() => r.close());
    const handle = await connectRedis(r.url, `late${Date.now()}:`);
    const budgets = new RedisBudgetStore(handle, Date.now, { timeoutMs: 300 });
    cleanup.push(() => budgets.close());
    const tenantId = 'acme';
    const reserve = () => budgets.reserve({ tenantId, period: 'month', limitUsd: 1, estimateUsd: 0.5, reservationId: 'req-1' });

    r.hold();
    // First attempt: Redis reserves, but its answer comes after the 300 ms bound.
    await expect(reserve()).rejects.toMatchObject({ code: 'store_unavailable' });
    // The caller retries with the same (idempotent) id; then the answers arrive.
    const retry = reserve();
    await sleep(50);
    r.flush();
    const second = await retry;
    expect(second.ok).toBe(true);
    await sleep(200); // the late answer's own work (if any) is done

    // The caller ran its request on that reservation and settles its actual cost.
    const settled = await budgets.settle('req-1', 0.4);
    const state = await budgets.spent(tenantId, 'month');
    expect({ settled, spentUsd: state.spentUsd }).toEqual({ settled: true, spentUsd: 0.4 });
  });
});
