/**
 * A Redis that stops answering without closing the connection (a network partition, a stalled or
 * failing-over primary). Every gateway request asks the rate limiter and the budget store first; without a bound
 * on those calls each request waits until the operating system's TCP keepalive gives up on the socket (minutes),
 * while the prompt-cache affinity store on the same connection bounds its calls (1 s by default) and routes on.
 * Real Redis (vitest.global-setup.ts) behind a loopback TCP relay that the test stops forwarding.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { startTcpRelay, type TcpRelay } from '../../test/tcp-relay.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { connectRedis } from './redis-connection.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

const { redisUrl } = testServiceUrls();

/** A loopback relay to Redis (test/tcp-relay.ts), addressed as a Redis URL. */
async function relay(target: URL): Promise<TcpRelay & { url: string }> {
  const r = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
  return Object.assign(r, { url: `redis://127.0.0.1:${r.port}` });
}

/** What `p` did within `ms`: its outcome, or `pending`. */
function within(p: Promise<unknown>, ms: number): Promise<string> {
  return Promise.race([
    p.then(
      () => 'resolved',
      () => 'rejected',
    ),
    new Promise<string>((r) => setTimeout(() => r('pending'), ms)),
  ]);
}

describe.skipIf(!redisUrl)('a Redis that stops answering', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    // The relay goes first (its sockets close, so the pending commands fail); each step is bounded.
    for (const c of cleanup) await Promise.race([c().catch(() => undefined), new Promise((r) => setTimeout(r, 3_000))]);
    cleanup = [];
  });

  it('fails a rate-limit acquire and a budget reservation within a bounded time instead of hanging', async () => {
    const r = await relay(new URL(redisUrl!));
    cleanup.push(() => r.close());
    const handle = await connectRedis(r.url, `stall${Date.now()}:`);
    const limiter = new RedisRateLimiter(handle);
    const budgets = new RedisBudgetStore(handle);
    cleanup.push(() => Promise.all([limiter.close(), budgets.close()]).then(() => undefined));
    // Working through the relay first.
    expect((await limiter.acquire([{ kind: 'tenant', id: 'acme', limits: { rpm: 10 } }], { estimatedTokens: 0 })).ok).toBe(true);

    r.stall();
    const acquire = limiter.acquire([{ kind: 'tenant', id: 'acme', limits: { rpm: 10 } }], { estimatedTokens: 0 });
    const reserve = budgets.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0.1, reservationId: 'r1' });
    acquire.catch(() => undefined);
    reserve.catch(() => undefined);
    // 5 s is five times the affinity store's bound on the same connection.
    const [a, b] = await Promise.all([within(acquire, 5_000), within(reserve, 5_000)]);
    expect({ acquire: a, reserve: b }).toEqual({ acquire: 'rejected', reserve: 'rejected' });
    // A 503 the client may retry, not a 500.
    await expect(acquire).rejects.toMatchObject({ code: 'store_unavailable', statusCode: 503, isRetryable: true });
    await expect(reserve).rejects.toMatchObject({ code: 'store_unavailable' });
  }, 20_000);

  it('the last release() lets go of a stalled connection within a bound, failing the commands still waiting', async () => {
    const r = await relay(new URL(redisUrl!));
    cleanup.push(() => r.close());
    const handle = (await connectRedis(r.url, `stall${Date.now()}:`)).retain();
    expect(await handle.command(['PING'])).toBe('PONG');

    r.stall();
    const waiting = handle.command(['PING']);
    waiting.catch(() => undefined);
    const release = handle.release();
    // Shutdown (createStateStores().close(), a store's close()) awaits this: it must not wait for an answer that
    // never comes. 10 s is five times the grace release() gives the commands in flight.
    expect(await within(release, 10_000)).toBe('resolved');
    expect(await within(waiting, 1_000)).toBe('rejected');
  }, 20_000);

  it('the last release() waits for a slow answer as long as the store holding the handle would (its timeoutMs)', async () => {
    const r = await relay(new URL(redisUrl!));
    cleanup.push(() => r.close());
    const handle = await connectRedis(r.url, `grace${Date.now()}:`);
    const budgets = new RedisBudgetStore(handle, Date.now, { timeoutMs: 10_000 });
    expect((await budgets.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0.1, reservationId: 'warm' })).ok).toBe(true);

    r.hold();
    const reserve = budgets.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0.1, reservationId: 'slow' });
    reserve.catch(() => undefined);
    // Answered 2.5 s after it was sent (a slow network or a busy Redis): a quarter of the store's bound, more than
    // the 2 s a handle gives when no holder names a bound.
    const late = setTimeout(() => r.flush(), 2_500);
    cleanup.push(async () => clearTimeout(late));
    const closing = budgets.close();
    // Redis reserved it: the answer is not cut at close.
    await expect(reserve).resolves.toMatchObject({ ok: true });
    expect(await within(closing, 5_000)).toBe('resolved');
  }, 20_000);
});
