import { LRUCache } from 'lru-cache';
import { LLMError } from '../../errors/llm-error.js';
import type { AffinityKey } from './affinity-keys.js';

/** A remembered deployment of one model and the key that found it. */
export interface AffinityHit {
  key: string;
  /** The model (provider model id) the deployment serves: a prefix is remembered per model. */
  model: string;
  deployment: string;
  /** The TTL the key was remembered with (a hit refreshes it for that long). */
  ttlMs: number;
}

/**
 * Where prompt-cache affinity remembers which deployment holds a prefix. Implementations may answer
 * synchronously (in process) or asynchronously (a store shared by several router processes).
 */
export interface PromptCacheAffinityStore {
  /**
   * For each of `models`, the first of `keys` (in order) remembered for that model and not expired; models
   * with none are left out.
   */
  find(keys: readonly string[], models: readonly string[]): AffinityHit[] | Promise<AffinityHit[]>;
  /**
   * Remembers (or refreshes) every key for `deployment` of `model`, each for its own TTL. What the keys hold
   * for other models stays.
   */
  remember(keys: readonly AffinityKey[], model: string, deployment: string): void | Promise<void>;
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

/** The store's entry for `key` and `model` (a key is remembered per model). */
export function affinityEntryKey(key: string, model: string): string {
  return `${key}\n${model}`;
}

/** In-process affinity store over `lru-cache`: bounded by count (one entry per key and model), per-entry TTL checked on read. */
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

  find(keys: readonly string[], models: readonly string[]): AffinityHit[] {
    const out: AffinityHit[] = [];
    for (const model of models) {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const e = this.#lru.get(affinityEntryKey(key, model));
        if (e) {
          out.push({ key, model, deployment: e.deployment, ttlMs: e.ttlMs });
          break;
        }
      }
    }
    return out;
  }

  remember(keys: readonly AffinityKey[], model: string, deployment: string): void {
    for (const k of keys) this.#lru.set(affinityEntryKey(k.key, model), { deployment, ttlMs: k.ttlMs }, { ttl: k.ttlMs });
  }
}
