import { LLMError } from '../errors/llm-error.js';
import { sectionConfigError } from '../config/validate.js';
import { ExactCacheSchema, type ExactCacheConfig } from '../config/schema.js';
import type { FinishReason, GenerateRequest, TopLogprob } from '../spec/index.js';
import { cacheKey, cacheKeyPrefix, type CacheScope } from './cache-key.js';
import { cachedAnswerOf, isBlankAnswer, type CachedAnswer, type CachedAnswerInput } from './cached-answer.js';
import type { CacheStore } from './cache-store.js';
import { isCacheable } from './is-cacheable.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import { utf8ByteLength } from '../util/utf8-byte-length.js';

export type { CachedAnswer, CachedAnswerInput } from './cached-answer.js';

export interface ExactCacheStats {
  hits: number;
  misses: number;
  /** Answers stored. */
  stores: number;
  /** Calls that skipped the cache because they are not cacheable (temperature rule) or the answer was not storable. */
  bypassed: number;
}

export interface ExactCacheOptions {
  /** `cache.exact` from config (defaults applied when partial). */
  config?: Partial<ExactCacheConfig>;
  /** Where entries live. Default: a `MemoryCacheStore` sized by `config.maxEntries`. */
  store?: CacheStore<CachedAnswer>;
  /** Clock (epoch ms) for `createdAt`, and for the default store's TTL. */
  now?: () => number;
}

/** Finish reasons whose answers must never be replayed. */
const NOT_STORABLE: ReadonlySet<FinishReason> = new Set<FinishReason>(['error', 'content-filter']);

/**
 * Exact-match answer cache: same request fields (see `cacheKey`), same tenant, same model set -> same answer.
 * Entries expire after `ttlMs`. Works over any `CacheStore` (memory now; Redis, SQLite later).
 */
export class ExactCache {
  readonly config: ExactCacheConfig;
  /** The backing store (what `options.store` gave, or the default memory store). */
  readonly backend: CacheStore<CachedAnswer>;
  readonly #now: () => number;
  /** `config.maxSizeBytes` when the backend is the default memory store it bounds (else undefined). */
  readonly #maxBytes: number | undefined;
  readonly #stats: ExactCacheStats = { hits: 0, misses: 0, stores: 0, bypassed: 0 };

  constructor(options: ExactCacheOptions = {}) {
    const parsed = ExactCacheSchema.safeParse(options.config ?? {});
    if (!parsed.success) {
      throw sectionConfigError(parsed.error, ['cache', 'exact'], 'exact cache config');
    }
    this.config = parsed.data;
    this.#now = options.now ?? Date.now;
    this.#maxBytes = options.store ? undefined : this.config.maxSizeBytes;
    this.backend =
      options.store ??
      new MemoryCacheStore<CachedAnswer>({
        maxEntries: this.config.maxEntries,
        maxSizeBytes: this.config.maxSizeBytes,
        sizeOf: answerBytes,
        ttlMs: this.config.ttlMs,
        ...(options.now ? { now: options.now } : {}),
      });
  }

  /** A snapshot of the counters. */
  get stats(): ExactCacheStats {
    return { ...this.#stats };
  }

  /** Whether this request may use the cache at all (temperature rule). */
  isCacheable(request: GenerateRequest): boolean {
    return isCacheable(request, this.config);
  }

  key(request: GenerateRequest, scope: CacheScope): Promise<string> {
    return cacheKey(request, scope);
  }

  /** The cached answer, or `undefined` (miss, expired, or not cacheable). Returns a copy. */
  async lookup(request: GenerateRequest, scope: CacheScope): Promise<CachedAnswer | undefined> {
    if (!this.isCacheable(request)) {
      this.#stats.bypassed++;
      return undefined;
    }
    const found = await this.backend.get(await cacheKey(request, scope));
    if (found === undefined) {
      this.#stats.misses++;
      return undefined;
    }
    this.#stats.hits++;
    return structuredClone(found);
  }

  /**
   * Stores an answer; returns whether it did. Not stored: requests that are not cacheable, answers
   * that ended in `error` or `content-filter`, blank answers (`isBlankAnswer`: a retry asks the model again), and
   * answers that are not what the request asked for, which the engine said in a warning (`answerNotAsAsked`: text
   * without the log probabilities asked for; a new turn where a prefill was to be continued): a hit carries no
   * warnings, so it would serve such an answer in silence as if it were the one asked for; the next call asks the
   * provider again and gets its warning,
   * an answer larger than `maxSizeBytes` on its own (default memory store), and one whose tenant `options.erased`
   * says was erased meanwhile (a deleted tenant's call still running when its answers were erased).
   */
  async store(request: GenerateRequest, scope: CacheScope, answer: CachedAnswerInput, options: ExactStoreOptions = {}): Promise<boolean> {
    if (!this.isCacheable(request) || NOT_STORABLE.has(answer.finishReason) || isBlankAnswer(answer) || answerNotAsAsked(request, answer)) {
      this.#stats.bypassed++;
      return false;
    }
    // Only the answer's own fields: callers may pass a whole router result (cost, attempts, decision...).
    const entry = structuredClone(cachedAnswerOf(answer, answer.createdAt ?? this.#now()));
    const key = await cacheKey(request, scope);
    // Over the bound alone the memory store would drop it without a word: not stored, and said so.
    if ((this.#maxBytes !== undefined && answerBytes(entry, key) > this.#maxBytes) || (scope.tenant !== undefined && options.erased?.(scope.tenant) === true)) {
      this.#stats.bypassed++;
      return false;
    }
    await this.backend.set(key, entry, this.config.ttlMs);
    this.#stats.stores++;
    return true;
  }

  /** Drops every entry of one tenant (in one namespace); returns how many. Needs a store with `deleteByPrefix`. */
  async invalidateTenant(tenant: string | undefined, namespace?: string): Promise<number> {
    if (!this.backend.deleteByPrefix) {
      throw new LLMError({ code: 'unsupported', message: 'This cache store cannot delete by prefix (no deleteByPrefix)' });
    }
    return this.backend.deleteByPrefix(cacheKeyPrefix({ tenant, ...(namespace !== undefined ? { namespace } : {}) }));
  }

  async clear(): Promise<void> {
    await this.backend.clear();
  }
}

/** `ExactCache.store` options. */
export interface ExactStoreOptions {
  /** Whether a tenant's cached answers were erased (a deleted tenant): its answer is then not stored. */
  erased?: (tenant: string) => boolean;
}

/** UTF-8 bytes of a string (what it takes serialised, about what it takes in memory), 0 when absent. */
const utf8 = (s: string | undefined): number => (s === undefined || s === '' ? 0 : utf8ByteLength(s));

/** What `answerBytes` counts for an entry besides its strings (object headers, numbers, the store's bookkeeping). */
export const ENTRY_OVERHEAD_BYTES = 256;

/** One log probability: its token, a number, its bytes (4 each, as JSON and a packed JS array about hold them) and the field names. */
function logprobBytes(l: TopLogprob): number {
  return 48 + utf8(l.token) + (l.bytes?.length ?? 0) * 4;
}

/**
 * About how many bytes an entry holds (its strings as UTF-8, each log probability with its top log probabilities
 * and bytes, 256 for the rest), counted without serialising it: `cache.exact.maxSizeBytes` bounds the memory store by this.
 */
export function answerBytes(answer: CachedAnswer, key: string): number {
  let n = ENTRY_OVERHEAD_BYTES + utf8(key) + utf8(answer.text) + utf8(answer.reasoning) + utf8(answer.refusal) + utf8(answer.id);
  for (const c of answer.toolCalls) n += 32 + utf8(c.id) + utf8(c.name) + utf8(c.arguments);
  for (const p of answer.reasoningParts ?? []) n += 32 + utf8(p.text) + utf8(p.signature) + utf8(p.redactedData);
  for (const l of answer.logprobs ?? []) {
    n += logprobBytes(l) + 16;
    for (const t of l.topLogprobs ?? []) n += logprobBytes(t);
  }
  return n;
}

/**
 * Whether an answer is not the one its request asked for, in a way the engine reported (the exact cache does not
 * store it, nor the prefetcher pay for it): `lacksLogprobs`, or a prefill the request asked to be continued
 * (`continueFinalMessage`) whose answer carries a `setting_not_sent` warning naming that last message (an
 * OpenAI-compatible deployment that could not continue it: its answer is a new turn).
 *
 * Not every warning: most say a hint or a setting was not sent (`user`, `promptCacheKey`, a cache mark, a penalty)
 * and leave the answer one to that request, which the cache keeps and a hit serves without the warning (a hit sends
 * nothing upstream). Replaying the original warnings on a hit was the other way; it is not taken: a semantic hit
 * answers another request, whose warnings those are not, and an entry would keep warning after the deployment's
 * config gained the way (`options.prefill`) until it expired, where not storing asks again at once.
 */
export function answerNotAsAsked(request: GenerateRequest, answer: CachedAnswerInput): boolean {
  if (lacksLogprobs(request, answer)) return true;
  if (request.continueFinalMessage !== true || !Array.isArray(answer.warnings)) return false;
  const last = `messages.${request.messages.length - 1}`;
  return answer.warnings.some((w) => w.code === 'setting_not_sent' && w.field === last);
}

/** A request asked for log probabilities and a text answer came back without them (the exact cache does not store it). */
export function lacksLogprobs(request: GenerateRequest, answer: CachedAnswerInput): boolean {
  return request.logprobs !== undefined && answer.text !== '' && !(Array.isArray(answer.logprobs) && answer.logprobs.length > 0);
}
