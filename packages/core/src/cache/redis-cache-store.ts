import { LLMError } from '../errors/llm-error.js';
import { bounded, connectRedis, storeTimeoutMs, type RedisHandle } from '../stores/redis/redis-connection.js';
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
}

const DEFAULT_PREFIX = 'llmrr:cache:';
const DEFAULT_TIMEOUT_MS = 1_000;

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
 * There is no entry-count bound: entries live for their TTL, and Redis's own `maxmemory` with an LRU
 * policy (`allkeys-lru` or `volatile-lru`) bounds memory. An unreadable entry counts as a miss.
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
  #closed = false;

  /** Over an open connection (e.g. the shared-mode stores' one); the store holds a reference until `close()`. */
  constructor(redis: RedisHandle, options: RedisCacheStoreOptions = {}) {
    const prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    if (typeof prefix !== 'string') throw invalid('keyPrefix', 'must be a string');
    if (options.ttlMs !== undefined) checkPositiveInt('ttlMs', options.ttlMs);
    if (options.scanCount !== undefined) checkPositiveInt('scanCount', options.scanCount);
    this.keyPrefix = prefix;
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
    await this.#command(ttl === undefined ? ['SET', this.keyPrefix + key, json] : ['SET', this.keyPrefix + key, json, 'PX', String(ttl)], 'cache store');
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#command<number>(['UNLINK', this.keyPrefix + key], 'cache delete')) > 0;
  }

  /** Removes this store's entries only (its `keyPrefix`), never the rest of the database. */
  async clear(): Promise<void> {
    await this.deleteByPrefix('');
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    const match = redisPrefixPattern(this.keyPrefix + prefix);
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.#command<[string, string[]]>(['SCAN', cursor, 'MATCH', match, 'COUNT', String(this.#scanCount)], 'cache scan');
      if (keys.length > 0) deleted += await this.#command<number>(['UNLINK', ...keys], 'cache delete');
      cursor = String(next);
    } while (cursor !== '0');
    return deleted;
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
