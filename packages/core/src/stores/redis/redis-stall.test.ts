/**
 * A Redis that stops answering without closing the connection (a network partition, a stalled or
 * failing-over primary). Every gateway request asks the rate limiter and the budget store first; without a bound
 * on those calls each request waits until the operating system's TCP keepalive gives up on the socket (minutes),
 * while the prompt-cache affinity store on the same connection bounds its calls (1 s by default) and routes on.
 * Real Redis (vitest.global-setup.ts) behind a loopback TCP relay that the test stops forwarding.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { connectRedis } from './redis-connection.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

const { redisUrl } = testServiceUrls();

/** A loopback relay to Redis; `stall()` keeps the connections open but stops passing bytes. */
async function relay(target: URL): Promise<{ url: string; stall(): void; close(): Promise<void> }> {
  let stalled = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    sockets.add(client).add(upstream);
    client.on('data', (d) => {
      if (!stalled) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!stalled) client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    stall: () => {
      stalled = true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
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
  }, 20_000);
});
