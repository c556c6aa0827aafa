/**
 * A key-value store with per-entry TTL, for caches. Methods may answer synchronously (memory) or with a
 * promise (Redis, SQLite): callers `await` every result, which costs nothing for plain values.
 */
export interface CacheStore<V> {
  get(key: string): Promise<V | undefined> | V | undefined;
  /** Stores `value` for `ttlMs` milliseconds (the store's default TTL when absent). */
  set(key: string, value: V, ttlMs?: number): Promise<void> | void;
  delete(key: string): Promise<boolean> | boolean;
  clear(): Promise<void> | void;
  /** Removes every key that starts with `prefix` (e.g. one tenant's entries); returns how many. */
  deleteByPrefix?(prefix: string): Promise<number> | number;
  /** Live entries, where the store can tell cheaply. */
  readonly size?: number;
}
