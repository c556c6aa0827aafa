import type { PromptCacheAffinityConfig } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { affinityKeys, hasAffinitySignal, type AffinityKeys, type AffinityScope } from './affinity-keys.js';
import { MemoryAffinityStore, type AffinityHit, type PromptCacheAffinityStore } from './affinity-store.js';

/** A request's affinity keys and what the store remembered for them (at most one hit per model). */
export interface AffinityLookup {
  keys: AffinityKeys;
  hits: AffinityHit[];
}

export interface PromptCacheAffinityOptions {
  /** Default: an in-process `MemoryAffinityStore` of `config.maxEntries` keys. */
  store?: PromptCacheAffinityStore | undefined;
  /** Clock for the in-process store (tests). */
  now?: (() => number) | undefined;
}

/**
 * Prompt-cache affinity for one router: finds the deployment that last served a request's cached prefix
 * (or `promptCacheKey`) and remembers the one that serves it now. Never fails a call: a store or hashing
 * failure is a miss (see `onError`).
 */
export class PromptCacheAffinity {
  readonly enabled: boolean;
  readonly #config: PromptCacheAffinityConfig;
  readonly #store: PromptCacheAffinityStore;
  /** Called with a store or hashing failure (which is then a miss), and the id of the call that met it when given. */
  onError: ((error: unknown, requestId?: string) => void) | undefined;

  constructor(config: PromptCacheAffinityConfig, options: PromptCacheAffinityOptions = {}) {
    this.enabled = config.enabled;
    this.#config = config;
    this.#store = options.store ?? new MemoryAffinityStore({ maxEntries: config.maxEntries, now: options.now });
  }

  /**
   * Undefined, with no work beyond one scan of the request, when affinity is off or the request carries
   * neither a mark nor a `promptCacheKey`, or when `models` is empty and `remember` false; else its keys and
   * the deployments remembered for them, for each of `models` (the models of which the call has several
   * deployments to choose from; none, with `remember`: keys only, to remember the deployment that answers).
   * `requestId` (the call's) goes with a failure to `onError`.
   */
  lookup(request: GenerateRequest, tenant: string | undefined, model: string | undefined, models: readonly string[], remember = false, requestId?: string): Promise<AffinityLookup | undefined> | undefined {
    if (!this.enabled || (models.length === 0 && !remember) || !hasAffinitySignal(request)) return undefined;
    return this.#lookup(request, { tenant, model }, models, requestId);
  }

  async #lookup(request: GenerateRequest, scope: AffinityScope, models: readonly string[], requestId: string | undefined): Promise<AffinityLookup | undefined> {
    try {
      const keys = await affinityKeys(request, scope, this.#config);
      if (!keys) return undefined;
      const hits = models.length === 0 ? [] : await this.#store.find(keys.lookup, models);
      return { keys, hits };
    } catch (e) {
      this.onError?.(e, requestId);
      return undefined;
    }
  }

  /**
   * After a call's deployment answered (a stream: its first content): its marked prefixes now live in that
   * deployment's cache; a hit on the same deployment was a cache read, which refreshes the provider's TTL.
   * `requestId` (the call's) goes with a failure to `onError`.
   */
  remember(lookup: AffinityLookup, model: string, deployment: string, requestId?: string): void {
    const keys = lookup.keys.remember;
    const hit = lookup.hits.find((h) => h.model === model);
    const all = hit && hit.deployment === deployment && !keys.some((k) => k.key === hit.key) ? [...keys, { key: hit.key, ttlMs: hit.ttlMs }] : keys;
    if (all.length === 0) return;
    try {
      const done = this.#store.remember(all, model, deployment);
      if (done) done.catch((e: unknown) => this.onError?.(e, requestId));
    } catch (e) {
      this.onError?.(e, requestId);
    }
  }
}
