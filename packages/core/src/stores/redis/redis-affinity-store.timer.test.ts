/**
 * The Redis prompt-cache affinity and circuit stores take a `timeoutMs` up to the longest timer delay (2^31 - 1 ms,
 * about 24.8 days) and refuse a longer one up front (`config_invalid`), as `redisTimeoutMs` is: Node fires a longer
 * timer after 1 ms, so such a bound would fail every call that takes more than a millisecond. Real Redis behind a
 * loopback relay that holds the answers for 50 ms.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RedisCircuitStateStore } from '../../router/resilience/redis-circuit-state-store.js';
import { MAX_TIMER_MS } from '../../util/timer-delay.js';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { startTcpRelay } from '../../test/tcp-relay.js';
import { RedisAffinityStore } from './redis-affinity-store.js';

const { redisUrl } = testServiceUrls();

/** The error code and param of a rejection. */
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: { code?: string; param?: string }) => `${e.code} ${e.param}`,
  );

describe.skipIf(!redisUrl)('Redis affinity and circuit stores: timeoutMs and the longest timer delay', () => {
  it('a timeoutMs past 2^31 - 1 ms is refused up front', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    expect(await refusal(RedisAffinityStore.connect(redisUrl!, { keyPrefix: prefix, timeoutMs: 2 ** 31 }))).toBe('config_invalid timeoutMs');
    expect(await refusal(RedisCircuitStateStore.connect(redisUrl!, { timeoutMs: 2 ** 31 }))).toBe('config_invalid timeoutMs');
  });

  it('with timeoutMs 2^31 - 1 ms, an affinity answer 50 ms late is taken', async () => {
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    let store: RedisAffinityStore | undefined;
    try {
      store = await RedisAffinityStore.connect(`redis://127.0.0.1:${relay.port}`, { keyPrefix: `t${randomBytes(6).toString('hex')}:`, timeoutMs: MAX_TIMER_MS });
      relay.hold();
      const write = store.remember([{ key: 'p', ttlMs: 60_000 }], 'm', 'd1').then(
        () => 'written',
        (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
      );
      await new Promise((r) => setTimeout(r, 50));
      relay.flush();
      expect(await write).toBe('written');
    } finally {
      await store?.close().catch(() => undefined);
      await relay.close();
    }
  });
});
