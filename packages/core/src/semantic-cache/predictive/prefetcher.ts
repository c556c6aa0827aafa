import type { CacheScope } from '../../cache/cache-key.js';
import { ENTRY_OVERHEAD_BYTES, type CachedAnswer } from '../../cache/exact-cache.js';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/index.js';
import { utf8ByteLength } from '../../util/utf8-byte-length.js';
import { questionOf } from '../semantic-namespace.js';
import { embedderReading, type SemanticCache } from '../semantic-cache.js';
import { userKey } from '../user-key.js';
import { DEFAULT_PREDICTIVE_MAX_BYTES } from './predictive-config.js';
import type { SequenceModel } from './sequence-model.js';

export interface PrefetcherOptions {
  model: SequenceModel;
  cache: SemanticCache;
  /** Answers a predicted request (the router's generate with the caches bypassed). */
  generate: (request: GenerateRequest, scope: CacheScope) => Promise<Omit<CachedAnswer, 'createdAt'>>;
  /** Whether there is idle capacity now (e.g. no live request waiting, in-flight below a limit). */
  isIdle: () => boolean;
  /** Per tenant: at most `maxCalls` prefetches per `windowMs`. */
  budget: { maxCalls: number; windowMs: number };
  /** Predictions per request (default 1), and their minimum probability (default 0.3) and support (default 2). */
  predictions?: { limit?: number; minProbability?: number; minSupport?: number };
  /** Most queued prefetches; the oldest is dropped past it. Default 100. */
  maxQueue?: number;
  /**
   * Most bytes the queued prefetches hold (`prefetcherJobBytes`: each predicted request whole, as the UTF-8 bytes of its
   * JSON, and its scope), as `cache.predictive.maxQueueBytes` bounds the router's queue: past it the oldest are dropped,
   * and a prediction larger on its own is not queued (counted in `dropped`). Default 16 000 000.
   */
  maxQueueBytes?: number;
  now?: () => number;
}

export interface PrefetcherStats {
  /** Predictions queued (not already cached). */
  queued: number;
  /** Prefetch calls made, and how many stored an answer. */
  ran: number;
  stored: number;
  /** Predictions skipped because the answer was already cached. */
  alreadyCached: number;
  /** Dropped: over the tenant budget, queue full (by count or bytes), or the call failed. */
  overBudget: number;
  dropped: number;
  failed: number;
}

interface Job {
  request: GenerateRequest;
  scope: CacheScope;
  /** `prefetcherJobBytes`, counted in `Prefetcher.queuedBytes`. */
  bytes: number;
}

/**
 * About how many bytes a queued prefetch of the `Prefetcher` holds, counted as the caches count an entry (UTF-8 bytes
 * plus `ENTRY_OVERHEAD_BYTES`): its predicted request's JSON and its scope's.
 */
export function prefetcherJobBytes(job: { request: GenerateRequest; scope: CacheScope }): number {
  return ENTRY_OVERHEAD_BYTES + utf8ByteLength(JSON.stringify(job.request)) + utf8ByteLength(JSON.stringify(job.scope));
}

/**
 * Predictive caching: learns request sequences (each user's, pooled per tenant: `SequenceModel`), and after each
 * request pre-computes the likely next one at low priority: only while `isIdle()` says capacity is free,
 * only within the tenant's prefetch budget, and only when its answer is not already cached (a prediction
 * of a question whose cached answer expired is what this recovers). The check is `SemanticCache.probe`: it
 * never calls the guard, so a prediction whose nearest cached question is in the guard band is prefetched. Prefetched answers go into the
 * semantic cache like any other.
 */
export class Prefetcher {
  readonly #o: PrefetcherOptions;
  readonly #queue: Job[] = [];
  #queueBytes = 0;
  readonly #maxQueueBytes: number;
  readonly #spent = new Map<string, number[]>();
  #running = false;
  readonly #stats: PrefetcherStats = { queued: 0, ran: 0, stored: 0, alreadyCached: 0, overBudget: 0, dropped: 0, failed: 0 };
  #pump: Promise<void> = Promise.resolve();

  constructor(options: PrefetcherOptions) {
    if (!Number.isInteger(options.budget.maxCalls) || options.budget.maxCalls < 0 || !(options.budget.windowMs > 0)) {
      throw new LLMError({ code: 'config_invalid', message: 'prefetch budget: maxCalls must be an integer >= 0 and windowMs > 0', param: 'budget' });
    }
    const maxBytes = options.maxQueueBytes ?? DEFAULT_PREDICTIVE_MAX_BYTES;
    if (!Number.isInteger(maxBytes) || maxBytes <= 0) {
      throw new LLMError({ code: 'config_invalid', message: `prefetcher: maxQueueBytes must be a positive integer (bytes), got ${String(maxBytes)}`, param: 'maxQueueBytes' });
    }
    this.#maxQueueBytes = maxBytes;
    this.#o = options;
  }

  /** What the queued predictions hold, in bytes (`prefetcherJobBytes`): at most `maxQueueBytes`. */
  get queuedBytes(): number {
    return this.#queueBytes;
  }

  get stats(): PrefetcherStats {
    return { ...this.#stats };
  }


  /**
   * Call after each live request: learns the step, then queues the predicted next requests. A question the cache's
   * embedder does not tell from others (`embedderReading`: the semantic cache skips it) is neither learned from nor
   * predicted after, and the next one is not taken as following the one before it.
   */
  async onRequest(request: GenerateRequest, scope: CacheScope, vector: Float32Array, user?: string): Promise<void> {
    const question = questionOf(request);
    if (question === undefined) return;
    const key = scope.tenant ?? '';
    const asker = user ?? request.user;
    // A fixed-size key per user (`userKey`), not the id itself (a string of any length).
    const sequence = userKey(asker ?? '');
    // Read once the embedder has loaded what its coverage needs (local-use's language detector), as the cache reads it.
    if (this.#o.cache.embedder.prepare) await this.#o.cache.embedder.prepare();
    if (embedderReading(this.#o.cache.embedder, question) === undefined) {
      this.#o.model.interrupt(key, sequence);
      return;
    }
    this.#o.model.observe(key, sequence, vector, request);
    for (const p of this.#o.model.predict(key, { ...this.#o.predictions, sequence })) {
      // The request seen on that transition (another user's, maybe), made for this user (as the router's `nextRequest`):
      // its answer is stored as this user's, and `eraseUser` of this user drops it.
      const { user: _learned, ...rest } = p.request;
      const predicted: GenerateRequest = asker !== undefined ? { ...rest, user: asker } : rest;
      // A probe, not a lookup: no guard call (paid), no hit counted, no recency touch.
      if (await this.#o.cache.probe(predicted, scope)) {
        this.#stats.alreadyCached++;
        continue;
      }
      const job: Job = { request: predicted, scope, bytes: 0 };
      job.bytes = prefetcherJobBytes(job);
      if (job.bytes > this.#maxQueueBytes) {
        this.#stats.dropped++; // (it would drop every other queued prefetch, then itself)
        continue;
      }
      this.#queue.push(job);
      this.#queueBytes += job.bytes;
      this.#stats.queued++;
      while (this.#queue.length > (this.#o.maxQueue ?? 100) || this.#queueBytes > this.#maxQueueBytes) {
        this.#take(0);
        this.#stats.dropped++;
      }
    }
    this.poke();
  }

  /** Right to erasure: forgets the learned sequences (which hold request texts) of a tenant, or of one user. */
  eraseTenant(tenant: string): boolean {
    this.#drop((job) => job.scope.tenant === tenant);
    return this.#o.model.forget(tenant);
  }

  eraseUser(tenant: string, user: string): void {
    // (A queued request is made for the user it was predicted for: `onRequest`.)
    this.#drop((job) => job.scope.tenant === tenant && job.request.user === user);
    this.#o.model.forgetSequence(tenant, userKey(user));
  }

  #drop(predicate: (job: Job) => boolean): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) if (predicate(this.#queue[i]!)) this.#take(i);
  }

  #take(i: number): Job {
    const job = this.#queue.splice(i, 1)[0]!;
    this.#queueBytes -= job.bytes;
    return job;
  }

  /** Runs queued prefetches while idle (call it when capacity frees up, e.g. at the end of each request). */
  poke(): void {
    if (this.#running) return;
    this.#running = true;
    this.#pump = this.#run().finally(() => {
      this.#running = false;
    });
  }

  /** Resolves when the current pump stops (tests, shutdown). */
  idle(): Promise<void> {
    return this.#pump;
  }

  #withinBudget(tenant: string): boolean {
    const now = (this.#o.now ?? Date.now)();
    const spent = (this.#spent.get(tenant) ?? []).filter((t) => now - t < this.#o.budget.windowMs);
    this.#spent.set(tenant, spent);
    if (spent.length >= this.#o.budget.maxCalls) return false;
    spent.push(now);
    return true;
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0 && this.#o.isIdle()) {
      const job = this.#take(0);
      if (!this.#withinBudget(job.scope.tenant ?? '')) {
        this.#stats.overBudget++;
        continue;
      }
      this.#stats.ran++;
      try {
        const answer = await this.#o.generate(job.request, job.scope);
        if (await this.#o.cache.store(job.request, job.scope, answer)) this.#stats.stored++;
      } catch {
        this.#stats.failed++; // a failed prefetch costs nothing to the live traffic
      }
    }
  }
}
