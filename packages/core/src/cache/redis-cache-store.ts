import { LLMError } from '../errors/llm-error.js';
import { bounded, connectRedis, LuaScript, storeTimeoutMs, type RedisHandle } from '../stores/redis/redis-connection.js';
import type { CacheStore } from './cache-store.js';

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
   * entry counts its JSON, three times its key and `ENTRY_OVERHEAD_BYTES` (Redis's own structures); a write that
   * takes the sum past the bound drops the oldest-written entries first (a hit does not refresh an entry). An entry
   * larger than the bound on its own is not stored. Absent: no bound (a Redis of the cache's own, bounded by its
   * `maxmemory` and `allkeys-lru`).
   */
  maxBytes?: number;
}

/** What an entry costs in Redis besides its key and value (the key's entries in the keyspace, TTL and bound index). */
export const ENTRY_OVERHEAD_BYTES = 200;

const DEFAULT_PREFIX = 'llmrr:cache:';
const DEFAULT_TIMEOUT_MS = 1_000;

/**
 * KEYS: entry, order (zset: entry keys by write time), sizes (hash: entry key -> cost), bytes (the costs' sum).
 * ARGV: JSON, TTL ms ('0': none), maxBytes, per-entry overhead. Stores the entry, then drops the oldest entries until
 * the sum is within the bound. The deletions come first: under `noeviction` a full Redis refuses the writes (the
 * store's error, a miss), and a replaced entry is gone rather than left untracked. Returns 1 when stored.
 */
const BOUNDED_SET_SCRIPT = new LuaScript(`local cost = #ARGV[1] + 3 * #KEYS[1] + tonumber(ARGV[4])
local max = tonumber(ARGV[3])
local old = redis.call('HGET', KEYS[3], KEYS[1])
if old then
  redis.call('UNLINK', KEYS[1])
  redis.call('HDEL', KEYS[3], KEYS[1])
  redis.call('ZREM', KEYS[2], KEYS[1])
  redis.pcall('DECRBY', KEYS[4], old)
end
if cost > max then return 0 end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2])), KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], cost)
if ARGV[2] == '0' then redis.call('SET', KEYS[1], ARGV[1]) else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
local total = redis.call('INCRBY', KEYS[4], cost)
while total > max do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  local m = oldest[1]
  if m == nil or m == KEYS[1] then
    -- The sum drifted (the bound's keys deleted or evicted behind the store): count from this entry again.
    if m then redis.call('ZADD', KEYS[2], oldest[2], m) end
    redis.call('SET', KEYS[4], cost)
    break
  end
  local size = redis.call('HGET', KEYS[3], m)
  redis.call('HDEL', KEYS[3], m)
  redis.call('UNLINK', m)
  total = redis.call('DECRBY', KEYS[4], size or '0')
end
return 1`);

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
 * With `maxBytes` the store bounds its entries' bytes itself (oldest written dropped first; the index under
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
        this.#redis.eval(BOUNDED_SET_SCRIPT, [this.keyPrefix + key, ...this.#boundKeys], [json, ttl ?? 0, this.#maxBytes!, ENTRY_OVERHEAD_BYTES]),
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
