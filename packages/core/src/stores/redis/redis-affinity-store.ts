import { LLMError } from '../../errors/llm-error.js';
import type { AffinityKey } from '../../router/prompt-cache-affinity/affinity-keys.js';
import type { AffinityHit, PromptCacheAffinityStore } from '../../router/prompt-cache-affinity/affinity-store.js';
import { connectRedis, storeTimeoutMs, type RedisHandle } from './redis-connection.js';

export interface RedisAffinityStoreOptions {
  /** Prefix of every key. Default `llmrr:affinity:`. */
  keyPrefix?: string;
  /** A lookup or write that takes longer fails (the call then routes without affinity). Default 1000 ms. */
  timeoutMs?: number;
}

const DEFAULT_PREFIX = 'llmrr:affinity:';

/**
 * Prompt-cache affinity shared through Redis, so that several router (gateway) processes send a cached
 * prefix to the same deployment: one `MGET` per marked request (every lookup key for every model asked
 * about), one `SET ... PX` per remembered key (node-redis pipelines the writes of one call). A key is
 * remembered per model: the Redis key is `<keyPrefix><affinity key>:<model>` (affinity keys have a fixed
 * length, so a model id with colons stays unambiguous), its value `<ttlMs>:<deployment>`; a turn on one
 * model never overwrites another model's deployment. Redis expires keys on its own, and the store is
 * bounded by Redis's memory policy rather than an entry count.
 */
export class RedisAffinityStore implements PromptCacheAffinityStore {
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  readonly #redis: RedisHandle;

  constructor(redis: RedisHandle, options: RedisAffinityStoreOptions = {}) {
    const prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    if (typeof prefix !== 'string') throw invalid('keyPrefix', 'must be a string');
    this.keyPrefix = prefix;
    this.timeoutMs = storeTimeoutMs(options.timeoutMs, 1_000, 'Redis affinity store');
    this.#redis = redis.retain(this.timeoutMs);
  }

  /** Connects to `url` (needs the optional `redis` package) and opens a store on its own connection. */
  static async connect(url: string, options: RedisAffinityStoreOptions = {}): Promise<RedisAffinityStore> {
    if (typeof url !== 'string' || url === '') throw invalid('url', 'must be a redis:// URL');
    const redis = await connectRedis(url, '', 'Redis prompt-cache affinity store');
    try {
      return new RedisAffinityStore(redis, options);
    } catch (e) {
      await redis.retain().release();
      throw e;
    }
  }

  async find(keys: readonly string[], models: readonly string[]): Promise<AffinityHit[]> {
    if (keys.length === 0 || models.length === 0) return [];
    const names: string[] = [];
    for (const model of models) for (const key of keys) names.push(this.#name(key, model));
    const values = await this.#bounded(this.#redis.command<Array<string | null>>(['MGET', ...names]), 'lookup');
    const out: AffinityHit[] = [];
    for (let m = 0; m < models.length; m++) {
      for (let i = 0; i < keys.length; i++) {
        const v = values[m * keys.length + i];
        if (typeof v !== 'string') continue;
        const colon = v.indexOf(':');
        const ttlMs = Number(v.slice(0, colon));
        if (colon < 1 || !Number.isInteger(ttlMs) || ttlMs < 1) continue;
        out.push({ key: keys[i]!, model: models[m]!, deployment: v.slice(colon + 1), ttlMs });
        break;
      }
    }
    return out;
  }

  async remember(keys: readonly AffinityKey[], model: string, deployment: string): Promise<void> {
    await this.#bounded(Promise.all(keys.map((k) => this.#redis.command(['SET', this.#name(k.key, model), `${k.ttlMs}:${deployment}`, 'PX', String(k.ttlMs)]))), 'write');
  }

  #name(key: string, model: string): string {
    return `${this.keyPrefix}${key}:${model}`;
  }

  /** Releases this store's hold on the connection (closed with the last holder). */
  close(): Promise<void> {
    return this.#redis.release();
  }

  #bounded<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LLMError({ code: 'timeout', message: `no prompt-cache affinity ${what} answer from Redis within ${this.timeoutMs} ms` })), this.timeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

function invalid(param: string, message: string): LLMError {
  return new LLMError({ code: 'config_invalid', message: `Invalid Redis affinity store option: ${param} ${message}`, param });
}
