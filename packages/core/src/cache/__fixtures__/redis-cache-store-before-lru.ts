// The Redis cache store as it was before its bound kept a last use (`#bound:used`; the parent of commit 9e13fa3f), kept
// unchanged for the tests of an upgrade and of a rolling one (old and new processes on one Redis). Test code only.
import { LLMError } from '../../errors/llm-error.js';
import { bounded, connectRedis, LuaScript, storeTimeoutMs, type RedisHandle } from '../../stores/redis/redis-connection.js';
import type { CacheStore } from '../cache-store.js';

export interface RedisCacheStoreOptions {
  /** Put before every cache key in Redis. Default `llmrr:cache:`. */
  keyPrefix?: string;
  /** TTL of entries whose `set` gives none (ms). Absent: such entries live until Redis evicts them. */
  ttlMs?: number;
  /** Keys asked for per SCAN step by `deleteByPrefix` and `clear`. Default 500. */
  scanCount?: number;
  /**
   * Each Redis command that takes longer fails with `store_unavailable` (the router then treats the lookup as a
   * miss, or skips the store). Default 1000 ms.
   */
  timeoutMs?: number;
  /**
   * Bound on the bytes the entries take in Redis, kept by the store itself (for a Redis it shares with other data,
   * e.g. the shared-mode limits and budgets, whose keys Redis's own `maxmemory` eviction must never touch). Each
   * entry counts its JSON, three times its key and `ENTRY_OVERHEAD_BYTES` (Redis's own structures) until it is
   * deleted or its TTL has passed. A write first forgets entries Redis has expired, then, when the sum would pass the
   * bound, drops the entries that expire soonest (with one TTL for all: the oldest written; a hit does not refresh an
   * entry; entries without a TTL last). One write removes at most `MAX_REMOVALS_PER_WRITE` entries and stores its own
   * only if it then fits (the next writes go on trimming). An entry larger than the bound on its own is not stored.
   * Absent: no bound (a Redis of the cache's own, bounded by its `maxmemory` and `allkeys-lru`).
   */
  maxBytes?: number;
}

/** What an entry costs in Redis besides its key and value (the key's entries in the keyspace, TTL and bound index). */
export const ENTRY_OVERHEAD_BYTES = 200;

const DEFAULT_PREFIX = 'llmrr:cache:';
const DEFAULT_TIMEOUT_MS = 1_000;

/**
 * Most index members one write removes (expired ones and evictions together): a write's script stays short (some
 * 130 commands at most, one per member looked at and a few more) however far the entries are past the bound, e.g.
 * after a restart with a smaller one; later writes finish the trim.
 */
export const MAX_REMOVALS_PER_WRITE = 100;

/**
 * An entry without a TTL is scored this far past its write (microseconds, ~127 years): after every entry with a
 * TTL, and below 2^53 (exact in a double) until far past this century.
 */
const NO_TTL_SCORE_US = 4e15;

/**
 * KEYS: entry, order (zset: entry keys by expiry time, microseconds of Redis's clock), sizes (hash: entry key ->
 * cost), bytes (the costs' sum).
 * ARGV: JSON, TTL ms ('0': none), maxBytes, per-entry overhead, most removals.
 * Reads first: from the lowest score up, the members Redis has expired already (their room is free; only the index
 * remembers them), then, while the new entry does not fit, the live ones that expire soonest; at most ARGV[5] of them.
 * The entry is stored only if it then fits (else the next writes go on trimming; a larger one than the bound is never
 * stored, and the key's old entry is dropped either way).
 * Writes: the new entry's ZADD comes first. Redis checks maxmemory once in a script, at its first write that may grow
 * memory (before any other write): under noeviction a Redis already full refuses that ZADD, so the entry is not stored
 * (the store's error, a miss) while the removals still run, and only the deletions free memory. A Redis just below
 * maxmemory lets the script finish: the entry may take it past maxmemory by its own size until the next writes drop
 * others. Then the removals (UNLINK, index), the entry, the sum; when every other member was removed the sum is set to
 * what is left (it had drifted: the bound's keys deleted or evicted behind the store). Returns 1 when stored.
 */
const BOUNDED_SET_SCRIPT = new LuaScript(`local key, order, sizes, bytes = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local cost = #ARGV[1] + 3 * #key + tonumber(ARGV[4])
local max = tonumber(ARGV[3])
local ttl = tonumber(ARGV[2])
local most = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local old = tonumber(redis.call('HGET', sizes, key) or '0')
local others = tonumber(redis.call('GET', bytes) or '0') - old
local victims, freed, from, exhausted = {}, 0, 0, false
while true do
  local batch = redis.call('ZRANGE', order, from, from + 7, 'WITHSCORES')
  local stop = false
  for i = 1, #batch, 2 do
    local m = batch[i]
    if m ~= key then
      if tonumber(batch[i + 1]) > now and (cost > max or others - freed + cost <= max) then stop = true break end
      victims[#victims + 1] = m
      freed = freed + tonumber(redis.call('HGET', sizes, m) or '0')
      if #victims >= most then stop = true break end
    end
  end
  if stop then break end
  if #batch < 16 then exhausted = true break end
  from = from + 8
end
local stored, refused = false, nil
if cost <= max and (exhausted or others - freed + cost <= max) then
  local score = ttl > 0 and now + ttl * 1000 or now + ${NO_TTL_SCORE_US}
  local r = redis.pcall('ZADD', order, string.format('%.0f', score), key)
  if type(r) == 'table' and r.err then refused = r.err else stored = true end
end
if not stored and old > 0 then
  victims[#victims + 1] = key
  freed = freed + old
end
if #victims > 0 then
  redis.call('UNLINK', unpack(victims))
  redis.call('HDEL', sizes, unpack(victims))
  redis.call('ZREM', order, unpack(victims))
end
if stored then
  redis.call('HSET', sizes, key, cost)
  if ttl > 0 then redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) else redis.call('SET', key, ARGV[1]) end
end
if exhausted then
  redis.pcall('SET', bytes, stored and cost or 0)
else
  local delta = (stored and cost - old or 0) - freed
  if delta ~= 0 then redis.pcall('INCRBY', bytes, delta) end
end
if refused then return redis.error_reply(refused) end
return stored and 1 or 0`);

/**
 * KEYS: order, sizes, bytes (as BOUNDED_SET_SCRIPT), then the entries to delete. Deletes them and their part of the
 * bound. The sum's decrement may be refused by a full Redis (noeviction): then it over-counts, dropping entries
 * early, until the bound's index is empty. Returns how many entries existed.
 */
const BOUNDED_DELETE_SCRIPT = new LuaScript(`local n = 0
for i = 4, #KEYS do
  local k = KEYS[i]
  n = n + redis.call('UNLINK', k)
  local size = redis.call('HGET', KEYS[2], k)
  if size then
    redis.call('HDEL', KEYS[2], k)
    redis.call('ZREM', KEYS[1], k)
    redis.pcall('DECRBY', KEYS[3], size)
  end
end
return n`);

/** Redis SCAN MATCH pattern for keys starting with `prefix` (glob characters escaped). */
export function redisPrefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
}

/**
 * A `CacheStore` in Redis, shared by every process that points at the same server and prefix (the exact
 * cache of several gateways). Values are JSON; each entry is one Redis string with its TTL (`SET ... PX`),
 * so Redis expires them itself. Prefix deletion walks the keys with `SCAN ... MATCH` (never blocking the
 * server like `KEYS`) and drops them with `UNLINK` (freed in the background).
 *
 * With `maxBytes` the store bounds its entries' bytes itself (soonest to expire dropped first; the index under
 * `<keyPrefix without its last ':'>#bound:`); without, entries live for their TTL and the Redis must bound them: one
 * of the cache's own with `maxmemory` and `allkeys-lru`, never the Redis of the shared-mode limits and budgets (its
 * eviction would drop their keys too). An unreadable entry counts as a miss.
 *
 * Every command is bounded by `timeoutMs`: a Redis that stops answering without closing the connection (a
 * partition, a stalled primary) fails the call in about a second instead of holding it until TCP gives up.
 */
export class RedisCacheStore<V> implements CacheStore<V> {
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  readonly #redis: RedisHandle;
  readonly #ttlMs: number | undefined;
  readonly #scanCount: number;
  readonly #maxBytes: number | undefined;
  /** The bound's keys (order, sizes, bytes) when `maxBytes` is set. */
  readonly #boundKeys: readonly [string, string, string] | undefined;
  #closed = false;

  /** Over an open connection (e.g. the shared-mode stores' one); the store holds a reference until `close()`. */
  constructor(redis: RedisHandle, options: RedisCacheStoreOptions = {}) {
    const prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    if (typeof prefix !== 'string') throw invalid('keyPrefix', 'must be a string');
    if (options.ttlMs !== undefined) checkPositiveInt('ttlMs', options.ttlMs);
    if (options.scanCount !== undefined) checkPositiveInt('scanCount', options.scanCount);
    if (options.maxBytes !== undefined) checkPositiveInt('maxBytes', options.maxBytes);
    this.keyPrefix = prefix;
    this.#maxBytes = options.maxBytes;
    if (options.maxBytes !== undefined) {
      const base = `${prefix.endsWith(':') ? prefix.slice(0, -1) : prefix}#bound:`;
      this.#boundKeys = [`${base}order`, `${base}sizes`, `${base}bytes`];
    }
    this.timeoutMs = storeTimeoutMs(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'RedisCacheStore');
    this.#ttlMs = options.ttlMs;
    this.#scanCount = options.scanCount ?? 500;
    this.#redis = redis.retain(this.timeoutMs);
  }

  /** Connects to `url` (needs the optional `redis` package) and opens a store on its own connection. */
  static async connect<V>(url: string, options: RedisCacheStoreOptions = {}): Promise<RedisCacheStore<V>> {
    if (typeof url !== 'string' || url === '') throw invalid('url', 'must be a redis:// URL');
    const redis = await connectRedis(url, '', 'Redis cache store');
    try {
      return new RedisCacheStore<V>(redis, options);
    } catch (e) {
      await redis.retain().release();
      throw e;
    }
  }

  async get(key: string): Promise<V | undefined> {
    const raw = await this.#command<string | null>(['GET', this.keyPrefix + key], 'cache lookup');
    if (raw === null || raw === undefined) return undefined;
    try {
      return JSON.parse(raw) as V;
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: V, ttlMs?: number): Promise<void> {
    if (ttlMs !== undefined) checkPositiveInt('ttlMs', ttlMs);
    const json = JSON.stringify(value);
    if (json === undefined) throw new LLMError({ code: 'invalid_request', message: 'RedisCacheStore: the value is not JSON-serializable', param: 'value' });
    const ttl = ttlMs ?? this.#ttlMs;
    if (this.#boundKeys) {
      await bounded(
        this.#redis.eval(BOUNDED_SET_SCRIPT, [this.keyPrefix + key, ...this.#boundKeys], [json, ttl ?? 0, this.#maxBytes!, ENTRY_OVERHEAD_BYTES, MAX_REMOVALS_PER_WRITE]),
        this.timeoutMs,
        'cache store',
      );
      return;
    }
    await this.#command(ttl === undefined ? ['SET', this.keyPrefix + key, json] : ['SET', this.keyPrefix + key, json, 'PX', String(ttl)], 'cache store');
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#unlink([this.keyPrefix + key])) > 0;
  }

  /** Removes this store's entries only (its `keyPrefix`, and its bound's keys), never the rest of the database. */
  async clear(): Promise<void> {
    await this.deleteByPrefix('');
    if (this.#boundKeys) await this.#command(['UNLINK', ...this.#boundKeys], 'cache delete');
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    const match = redisPrefixPattern(this.keyPrefix + prefix);
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, found] = await this.#command<[string, string[]]>(['SCAN', cursor, 'MATCH', match, 'COUNT', String(this.#scanCount)], 'cache scan');
      // (A prefix without a trailing ':' may match the bound's own keys: never entries.)
      const keys = this.#boundKeys ? found.filter((k) => !this.#boundKeys!.includes(k)) : found;
      if (keys.length > 0) deleted += await this.#unlink(keys);
      cursor = String(next);
    } while (cursor !== '0');
    return deleted;
  }

  /** Deletes entries (and their part of the bound); returns how many existed. */
  #unlink(keys: string[]): Promise<number> {
    if (!this.#boundKeys) return this.#command<number>(['UNLINK', ...keys], 'cache delete');
    return bounded(this.#redis.eval<number>(BOUNDED_DELETE_SCRIPT, [...this.#boundKeys, ...keys], []), this.timeoutMs, 'cache delete');
  }

  #command<T = unknown>(args: ReadonlyArray<string>, what: string): Promise<T> {
    return bounded(this.#redis.command<T>(args), this.timeoutMs, what);
  }

  /** Releases the connection (closed with its last user). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#redis.release();
  }
}

function invalid(param: string, message: string): LLMError {
  return new LLMError({ code: 'config_invalid', message: `RedisCacheStore: ${param} ${message}`, param });
}

function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw invalid(name, `must be a positive integer, got ${String(value)}`);
}
