/**
 * The bounded Redis cache store's look for entries with no last use (written by a version before it) walks `order` by
 * rank from `#bound:adopt`, 500 members a write. Members removed below that rank between two writes (a delete, a
 * prefix deletion, clear()'s sweep), or an entry an overwrite moves from below it to past it, move every later member
 * down: the rank must move back with them, or the next look starts past members it never saw.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServiceUrls } from '../stores/__fixtures__/store-fixtures.js';
import { connectRedis, type RedisHandle } from '../stores/redis/redis-connection.js';
import { RedisCacheStore as StoreBeforeLru } from './__fixtures__/redis-cache-store-before-lru.js';
import { MAX_ADOPTED_LOOKS_PER_WRITE, RedisCacheStore } from './redis-cache-store.js';

const { redisUrl } = testServiceUrls();

describe.skipIf(!redisUrl)('RedisCacheStore: the adoption look after removals below its rank', () => {
  let admin: RedisHandle;
  beforeAll(async () => {
    admin = (await connectRedis(redisUrl!, '')).retain();
  });
  afterAll(async () => {
    await admin?.release();
  });

  it.each([
    { name: 'delete()', remove: (store: RedisCacheStore<string>, keys: string[]) => Promise.all(keys.map((k) => store.delete(k))) },
    { name: 'deleteByPrefix()', remove: (store: RedisCacheStore<string>) => store.deleteByPrefix('a000') },
  ])('$name of entries ranked below it: the look still finds the old entry ranked just past it', { timeout: 60_000 }, async ({ remove }) => {
    const ns = `t${randomBytes(6).toString('hex')}`;
    const store = await RedisCacheStore.connect<string>(redisUrl!, { keyPrefix: `${ns}:`, maxBytes: 1_000_000_000 });
    const previous = await StoreBeforeLru.connect<string>(redisUrl!, { keyPrefix: `${ns}:`, maxBytes: 1_000_000_000 });
    const rank = async (k: string) => Number(await admin.command(['ZRANK', `${ns}#bound:order`, `${ns}:${k}`]));
    try {
      const half = MAX_ADOPTED_LOOKS_PER_WRITE;
      // `order` ranks by expiry: half entries with a last use, the old one, half more (a longer TTL, written before the
      // old one: a write after it would start the look).
      const many = async (p: string, ttl: number) => {
        for (let i = 0; i < half; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => store.set(`${p}${String(i + j).padStart(4, '0')}`, 'v', ttl)));
      };
      await many('a', 3_600_000);
      await many('b', 3_700_000);
      await previous.set('old', 'v', 3_600_000);
      expect(await rank('old')).toBe(half);
      // A write starts the look (one member with no last use): ranks 0 to half - 1, the next from rank half.
      await store.set('w0', 'v', 3_600_000);
      expect(await admin.command(['GET', `${ns}#bound:adopt`])).toBe(String(half));
      // Ten entries below that rank go: the old entry moves to rank half - 10.
      await remove(store, Array.from({ length: 10 }, (_, i) => `a${String(i).padStart(4, '0')}`));
      expect(await rank('old')).toBe(half - 10);
      // The look goes on until it ends (its key gone); the old entry has been looked at: adopted (last use 0).
      for (let i = 1; i < 10 && (await admin.command(['EXISTS', `${ns}#bound:adopt`])) === 1; i++) await store.set(`w${i}`, 'v', 3_600_000);
      expect(await admin.command(['EXISTS', `${ns}#bound:adopt`])).toBe(0);
      const score = await admin.command(['ZSCORE', `${ns}#bound:used`, `${ns}:old`]);
      expect(score === null ? null : Number(score)).toBe(0);
      expect(await admin.command(['ZCARD', `${ns}#bound:used`])).toBe(await admin.command(['ZCARD', `${ns}#bound:order`]));
    } finally {
      await previous.close();
      await store.clear();
      await store.close();
    }
  });

  /** Writes `count` entries `<p>0000`... with `ttl`, a hundred at a time. */
  const many = async (store: RedisCacheStore<string>, p: string, count: number, ttl: number) => {
    for (let i = 0; i < count; i += 100) await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, j) => store.set(`${p}${String(i + j).padStart(4, '0')}`, 'v', ttl)));
  };

  /** Writes until the look ends (its key gone), at most nine writes. */
  const lookEnds = async (store: RedisCacheStore<string>, ns: string, ttl: number) => {
    for (let i = 1; i < 10 && (await admin.command(['EXISTS', `${ns}#bound:adopt`])) === 1; i++) await store.set(`w${i}`, 'v', ttl);
    expect(await admin.command(['EXISTS', `${ns}#bound:adopt`])).toBe(0);
  };

  // The write that moves an entry reads its look's members before it moves the entry: the rank after that look
  // (`nextCursor`) is where the first member not looked at was; the entry leaving below it moves that member down one.
  it('an overwrite whose new expiry moves its entry from below the look\'s rank to past it: the look still finds the old entry', { timeout: 60_000 }, async () => {
    const ns = `t${randomBytes(6).toString('hex')}`;
    const store = await RedisCacheStore.connect<string>(redisUrl!, { keyPrefix: `${ns}:`, maxBytes: 1_000_000_000 });
    const previous = await StoreBeforeLru.connect<string>(redisUrl!, { keyPrefix: `${ns}:`, maxBytes: 1_000_000_000 });
    const rank = async (k: string) => Number(await admin.command(['ZRANK', `${ns}#bound:order`, `${ns}:${k}`]));
    try {
      const half = MAX_ADOPTED_LOOKS_PER_WRITE;
      // By expiry: `a` (ranks 0 to half - 1), `c` (half to 2 half - 1), the old one (2 half), `b`.
      await many(store, 'a', half, 3_600_000);
      await many(store, 'c', half, 3_650_000);
      await many(store, 'b', half, 3_700_000);
      await previous.set('old', 'v', 3_650_000);
      expect(await rank('old')).toBe(2 * half);
      // The first write looks at ranks 0 to half - 1 (its own entry ranked after the old one).
      await store.set('w0', 'v', 3_650_000);
      expect(await admin.command(['GET', `${ns}#bound:adopt`])).toBe(String(half));
      // The overwrite looks at ranks half to 2 half - 1, and moves `a0005` past every other entry: the old one moves
      // down to 2 half - 1, where the next look must start.
      await store.set('a0005', 'v', 3_800_000);
      expect(await rank('old')).toBe(2 * half - 1);
      expect(await admin.command(['GET', `${ns}#bound:adopt`])).toBe(String(2 * half - 1));
      await lookEnds(store, ns, 3_650_000);
      const score = await admin.command(['ZSCORE', `${ns}#bound:used`, `${ns}:old`]);
      expect(score === null ? null : Number(score)).toBe(0);
    } finally {
      await previous.close();
      await store.clear();
      await store.close();
    }
  });

  // clear() deletes the entries under its own prefix, then sweeps the index of members whose entries are gone (deleted
  // or evicted behind the store). A store of prefix `<ns>` shares the bound of one of prefix `<ns>:` (the bound's keys
  // drop the last ':'), whose clear() so leaves the former's entries and sweeps the members gone meanwhile.
  it('clear()\'s sweep of members gone below the look\'s rank: the look still finds the old entry ranked just past it', { timeout: 60_000 }, async () => {
    const ns = `t${randomBytes(6).toString('hex')}`;
    const store = await RedisCacheStore.connect<string>(redisUrl!, { keyPrefix: ns, maxBytes: 1_000_000_000 });
    const previous = await StoreBeforeLru.connect<string>(redisUrl!, { keyPrefix: ns, maxBytes: 1_000_000_000 });
    const sweeping = await RedisCacheStore.connect<string>(redisUrl!, { keyPrefix: `${ns}:`, maxBytes: 1_000_000_000 });
    const rank = async (k: string) => Number(await admin.command(['ZRANK', `${ns}#bound:order`, `${ns}${k}`]));
    try {
      const half = MAX_ADOPTED_LOOKS_PER_WRITE;
      await many(store, 'a', half, 3_600_000);
      await many(store, 'b', half, 3_700_000);
      await previous.set('old', 'v', 3_600_000);
      expect(await rank('old')).toBe(half);
      await store.set('w0', 'v', 3_600_000);
      expect(await admin.command(['GET', `${ns}#bound:adopt`])).toBe(String(half));
      // Ten entries below that rank deleted behind the store (as Redis expiring or evicting them): their members stay.
      await admin.command(['UNLINK', ...Array.from({ length: 10 }, (_, i) => `${ns}a${String(i).padStart(4, '0')}`)]);
      expect(await rank('old')).toBe(half);
      await sweeping.clear();
      expect(await rank('old')).toBe(half - 10);
      expect(await admin.command(['GET', `${ns}#bound:adopt`])).toBe(String(half - 10));
      await lookEnds(store, ns, 3_600_000);
      const score = await admin.command(['ZSCORE', `${ns}#bound:used`, `${ns}old`]);
      expect(score === null ? null : Number(score)).toBe(0);
      expect(await admin.command(['ZCARD', `${ns}#bound:used`])).toBe(await admin.command(['ZCARD', `${ns}#bound:order`]));
    } finally {
      await previous.close();
      await sweeping.close();
      await store.clear();
      await store.close();
    }
  });
});
