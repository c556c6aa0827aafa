import { LRUCache } from 'lru-cache';
import { LLMError } from '../errors/llm-error.js';
import type { CacheStore } from './cache-store.js';

export interface MemoryCacheStoreOptions<V> {
  /** Most entries kept; the least recently used goes first. Default 1000. */
  maxEntries?: number;
  /** TTL of entries whose `set` gives none. Absent: such entries live until evicted. */
  ttlMs?: number;
  /** Bound on the total size of the values, in bytes (as measured by `sizeOf`). Absent: no bound. */
  maxSizeBytes?: number;
  /** Size of one entry in bytes. Default: UTF-8 length of the value's JSON plus the key. */
  sizeOf?: (value: V, key: string) => number;
  /** Clock in milliseconds, for tests. Must be > 0 (lru-cache reads a 0 start as "no TTL"). */
  now?: () => number;
}

const encoder = new TextEncoder();

function jsonBytes(value: unknown, key: string): number {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return encoder.encode(json ?? '').length + encoder.encode(key).length;
}

/**
 * In-process store over `lru-cache`: O(1) get/set, least-recently-used eviction by count and optional
 * byte size, and per-entry TTL checked on read (an expired entry is never returned).
 *
 * An entry larger than `maxSizeBytes` on its own is not stored (lru-cache refuses it).
 */
export class MemoryCacheStore<V extends {}> implements CacheStore<V> {
  readonly #lru: LRUCache<string, V>;

  constructor(options: MemoryCacheStoreOptions<V> = {}) {
    const maxEntries = options.maxEntries ?? 1_000;
    check('maxEntries', maxEntries);
    if (options.ttlMs !== undefined) check('ttlMs', options.ttlMs);
    if (options.maxSizeBytes !== undefined) check('maxSizeBytes', options.maxSizeBytes);
    const sizeOf = options.sizeOf ?? jsonBytes;
    this.#lru = new LRUCache<string, V>({
      max: maxEntries,
      ...(options.ttlMs !== undefined ? { ttl: options.ttlMs } : {}),
      ...(options.maxSizeBytes !== undefined
        ? { maxSize: options.maxSizeBytes, sizeCalculation: (value: V, key: string) => Math.max(1, Math.ceil(sizeOf(value, key))) }
        : {}),
      // An injected clock must be read on every check, not debounced through a timer.
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
    });
  }

  get(key: string): V | undefined {
    return this.#lru.get(key);
  }

  set(key: string, value: V, ttlMs?: number): void {
    if (ttlMs !== undefined) check('ttlMs', ttlMs);
    this.#lru.set(key, value, ttlMs !== undefined ? { ttl: ttlMs } : undefined);
  }

  delete(key: string): boolean {
    return this.#lru.delete(key);
  }

  clear(): void {
    this.#lru.clear();
  }

  deleteByPrefix(prefix: string): number {
    let n = 0;
    for (const key of [...this.#lru.keys()]) {
      if (key.startsWith(prefix) && this.#lru.delete(key)) n++;
    }
    return n;
  }

  /** Live entries (expired ones are purged first). */
  get size(): number {
    this.#lru.purgeStale();
    return this.#lru.size;
  }

  /** Total size of the entries in bytes, when `maxSizeBytes` is set (else 0). */
  get sizeBytes(): number {
    return this.#lru.calculatedSize;
  }
}

function check(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new LLMError({ code: 'config_invalid', message: `MemoryCacheStore: ${name} must be a positive integer, got ${String(value)}`, param: name });
  }
}
