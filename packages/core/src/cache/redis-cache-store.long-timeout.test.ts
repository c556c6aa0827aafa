/**
 * The bounded Redis cache stores (RedisCacheStore, RedisSemanticStore) take a `timeoutMs` up to the longest timer
 * delay (2^31 - 1 ms, about 24.8 days) and refuse a longer one up front (`config_invalid`): Node fires a longer
 * timer after 1 ms, so such a bound ("practically never time out") would fail every command that takes more than a
 * millisecond with `store_unavailable`. With the longest bound, a stalled Redis leaves the command waiting. Real
 * Redis (vitest.global-setup.ts) behind a loopback TCP relay that the test stops forwarding.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RedisSemanticStore } from '../semantic-cache/redis-semantic-store.js';
import { testServiceUrls } from '../stores/__fixtures__/store-fixtures.js';
import { startTcpRelay } from '../test/tcp-relay.js';
import { MAX_TIMER_MS } from '../util/timer-delay.js';
import { RedisCacheStore } from './redis-cache-store.js';

const { redisUrl } = testServiceUrls();

/** 'resolved', `rejected: <code>`, or 'pending' when `p` has not settled within `ms`. */
function within(p: Promise<unknown>, ms: number): Promise<string> {
  return Promise.race([
    p.then(
      () => 'resolved',
      (e: unknown) => `rejected: ${String((e as { code?: string })?.code)}`,
    ),
    new Promise<string>((r) => setTimeout(() => r('pending'), ms)),
  ]);
}

/** The error code and param of a rejection. */
const refusal = (p: Promise<{ close(): Promise<void> }>) =>
  p.then(
    async (store) => {
      await store.close();
      return 'accepted';
    },
    (e: { code?: string; param?: string }) => `${e.code} ${e.param}`,
  );

describe.skipIf(!redisUrl)('bounded Redis cache stores: timeoutMs and the longest timer delay', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup) await Promise.race([c().catch(() => undefined), new Promise((r) => setTimeout(r, 3_000))]);
    cleanup = [];
  });

  it('a timeoutMs past 2^31 - 1 ms is refused up front', async () => {
    expect(await refusal(RedisCacheStore.connect<string>(redisUrl!, { keyPrefix: `longcache${Date.now()}:`, timeoutMs: 2 ** 31 }))).toBe('config_invalid timeoutMs');
    expect(await refusal(RedisSemanticStore.connect({ url: redisUrl!, prefix: `longsem${Date.now()}`, timeoutMs: 2 ** 31 }))).toBe('config_invalid timeoutMs');
  });

  it('RedisCacheStore with timeoutMs 2^31 - 1: a lookup on a stalled Redis waits', async () => {
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    cleanup.push(() => relay.close());
    const store = await RedisCacheStore.connect<string>(`redis://127.0.0.1:${relay.port}`, { keyPrefix: `longcache${Date.now()}:`, timeoutMs: MAX_TIMER_MS });
    cleanup.push(() => store.close());
    relay.stall();
    const lookup = store.get('k');
    lookup.catch(() => undefined);
    // A bound of 24.8 days must not give up within 300 ms (a 2 s one would not either).
    expect(await within(lookup, 300)).toBe('pending');
  });

  it('RedisSemanticStore with timeoutMs 2^31 - 1: connecting works and a search on a stalled Redis waits', async () => {
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    cleanup.push(() => relay.close());
    // On a healthy Redis: connect runs a script and a sync, each bounded by timeoutMs.
    const store = await RedisSemanticStore.connect({ url: `redis://127.0.0.1:${relay.port}`, prefix: `longsem${Date.now()}`, timeoutMs: MAX_TIMER_MS });
    cleanup.push(() => store.close());
    relay.stall();
    const search = store.search('ns', new Float32Array([1, 0, 0]), 1);
    search.catch(() => undefined);
    expect(await within(search, 300)).toBe('pending');
  });
});
