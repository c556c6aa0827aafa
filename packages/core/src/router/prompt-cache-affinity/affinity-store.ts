import { LRUCache } from 'lru-cache';
import { LLMError } from '../../errors/llm-error.js';
import type { AffinityKey } from './affinity-keys.js';

/** A remembered deployment and the key that found it. */
export interface AffinityHit {
  key: string;
  deployment: string;
  /** The TTL the key was remembered with (a hit refreshes it for that long). */
  ttlMs: number;
}

/**
 * Where prompt-cache affinity remembers which deployment holds a prefix. Implementations may answer
 * synchronously (in process) or asynchronously (a store shared by several router processes).
 */
export interface PromptCacheAffinityStore {
  /** The first of `keys` (in order) that is remembered and not expired. */
  find(keys: readonly string[]): AffinityHit | undefined | Promise<AffinityHit | undefined>;
  /** Remembers (or refreshes) every key for `deployment`, each for its own TTL. */
  remember(keys: readonly AffinityKey[], deployment: string): void | Promise<void>;
}

export interface MemoryAffinityStoreOptions {
  /** Most keys kept; the least recently used goes first. */
  maxEntries: number;
  /** Clock in milliseconds, for tests. Must be > 0 (lru-cache reads a 0 start as "no TTL"). */
  now?: (() => number) | undefined;
}

interface Entry {
  deployment: string;
  ttlMs: number;
}

/** In-process affinity store over `lru-cache`: bounded by count, per-key TTL checked on read. */
export class MemoryAffinityStore implements PromptCacheAffinityStore {
  readonly #lru: LRUCache<string, Entry>;

  constructor(options: MemoryAffinityStoreOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new LLMError({ code: 'config_invalid', message: `maxEntries must be a positive integer, got ${String(options.maxEntries)}`, param: 'maxEntries' });
    }
    this.#lru = new LRUCache<string, Entry>({
      max: options.maxEntries,
      // An injected clock must be read on every check, not debounced through a timer.
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
    });
  }

  /** Keys held now (expired ones may still count until read). */
  get size(): number {
    return this.#lru.size;
  }

  find(keys: readonly string[]): AffinityHit | undefined {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const e = this.#lru.get(key);
      if (e) return { key, deployment: e.deployment, ttlMs: e.ttlMs };
    }
    return undefined;
  }

  remember(keys: readonly AffinityKey[], deployment: string): void {
    for (const k of keys) this.#lru.set(k.key, { deployment, ttlMs: k.ttlMs }, { ttl: k.ttlMs });
  }
}
