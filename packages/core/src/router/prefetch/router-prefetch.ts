import { canonicalJson } from '../../cache/canonical-json.js';
import { answerNotAsAsked, ENTRY_OVERHEAD_BYTES } from '../../cache/exact-cache.js';
import { isCacheable } from '../../cache/is-cacheable.js';
import type { RouterConfig } from '../../config/schema.js';
import { CachedEmbedder } from '../../embeddings/cached-embedder.js';
import type { Embedder } from '../../embeddings/embedder.js';
import { LLMError } from '../../errors/llm-error.js';
import { toLLMError } from '../../errors/to-llm-error.js';
import type { Listener } from '../../events/typed-emitter.js';
import { nextRequest } from '../../semantic-cache/predictive/next-request.js';
import { parsePredictiveConfig, type PredictiveCacheConfig, type PredictiveCacheConfigInput } from '../../semantic-cache/predictive/predictive-config.js';
import { PrefetchBudget, type BudgetTicket } from '../../semantic-cache/predictive/prefetch-budget.js';
import { PrefetchRegistry, type PrefetchedEntry } from '../../semantic-cache/predictive/prefetch-registry.js';
import { SequenceModel } from '../../semantic-cache/predictive/sequence-model.js';
import { RouterEmbedder } from '../../semantic-cache/router-embedder.js';
import { SEMANTIC_EMBED_METADATA_KEY, SEMANTIC_GUARD_METADATA_KEY } from '../../semantic-cache/semantic-cache-hook.js';
import { defaultLocalEmbedder, embedderReading, embeddingInput, semanticQuestion } from '../../semantic-cache/semantic-cache.js';
import { questionOf } from '../../semantic-cache/semantic-namespace.js';
import { userKey } from '../../semantic-cache/user-key.js';
import type { GenerateRequest } from '../../spec/index.js';
import { utf8ByteLength } from '../../util/utf8-byte-length.js';
import type { DeploymentInfo, GenerateOptions, PromptOrRequest, RouterCallOptions, RouterEmbedResult, RouterEventName, RouterEvents, RouterResult } from '../types.js';
import { NO_CACHE_READ, UNRATED_CALL, type InternalCallOptions } from '../internal-call.js';
import { IdleGate } from './idle-gate.js';

/** The part of `LLMRouter` the prefetcher uses (its public API only). */
export interface PrefetchHost {
  generate(input: PromptOrRequest, options?: GenerateOptions): Promise<RouterResult>;
  embed(input: string | readonly string[], options?: RouterCallOptions): Promise<RouterEmbedResult>;
  on<K extends RouterEventName>(event: K, listener: Listener<RouterEvents[K]>): () => void;
  models(tenant?: string): DeploymentInfo[];
  readonly routerConfig: RouterConfig;
}

export interface RouterPrefetchOptions {
  /** `cache.predictive`; default: the router config's `cache.predictive`. */
  config?: PredictiveCacheConfigInput;
  /**
   * Embeds questions for the sequence model: an embedder, or a function giving one (e.g. the router's
   * semantic-cache embedder, so each question is embedded once; undefined falls back to the default).
   * Default: `config.embedder`, else `cache.semantic.embedder`, else USE lite. Not closed by `close()`.
   */
  embedder?: Embedder | (() => Promise<Embedder | undefined>);
  now?: () => number;
  /** Told about every prefetched entry that expired (or was evicted from tracking) without serving a live request. */
  onUnused?: (entry: PrefetchedEntry) => void;
  /**
   * Whether the caches already answer a request without a provider or guard call (the router's own check,
   * `LLMRouter` passes it). Given, a prefetch asks it first (a yes counts as `alreadyCached` and spends nothing),
   * then calls the model without reading the caches (still writing them), so a match only a semantic guard could let through never
   * pays for a guard call. Absent, a prefetch is an ordinary call that reads the caches.
   */
  probe?: (request: GenerateRequest, options: GenerateOptions) => Promise<boolean>;
  /** Told when learning from a request fails (an embedder error): the live call is never affected. */
  onError?: (error: LLMError) => void;
}

/** Counters, per tenant and summed. */
export interface PrefetchStats {
  /** Live requests learned from. */
  observed: number;
  /** Predictions made, and those queued (new, buildable, not already queued). */
  predicted: number;
  queued: number;
  /** Prefetches started (within budget, while idle). */
  started: number;
  /** Of those: answered from the cache (no model call: budget given back; a semantic guard's call is charged). */
  alreadyCached: number;
  /** Model calls made by prefetches, and their tokens and cost. */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Answers written to the cache (as far as the cache config allows storing them). */
  stored: number;
  /** Aborted because live traffic arrived or the user's next request did (their budget charge is kept). */
  cancelled: number;
  failed: number;
  /** Not started: over the tenant's budget. */
  overBudget: number;
  /**
   * Not started: dropped from the queue (full by `maxQueue` or `maxQueueBytes`: the oldest go; or stale, older than
   * `maxQueueAgeMs`), or a prediction larger than `maxQueueBytes` on its own, never queued (counted here, not in `queued`).
   */
  dropped: number;
  /** Queued or running when the same user's next live request arrived (dropped, or aborted and counted in `cancelled` too). */
  superseded: number;
  /** Live requests answered by a prefetched entry, and entries that served at least one. */
  hits: number;
  used: number;
  /** Prefetched entries that expired (or left tracking) without serving any live request. */
  unused: number;
}

interface Job {
  /** Tenant key ('' for none) and the call's `tenant` option. */
  key: string;
  tenant: string | undefined;
  request: GenerateRequest;
  options: GenerateOptions;
  at: number;
  /** Undefined when the model that answered the live call has no known price (a `maxUsd` budget then refuses it). */
  estimateUsd: number | undefined;
  dedupe: string;
  question: string;
  /** What the job holds (`prefetchJobBytes`), counted in `RouterPrefetch.queuedBytes`. */
  bytes: number;
}

/**
 * About how many bytes a queued prefetch holds, counted as `answerBytes` counts a cache entry (strings as UTF-8 plus
 * `ENTRY_OVERHEAD_BYTES`): its request twice (the request itself, about its JSON, and `dedupe`, which is that JSON
 * with the scope options) and its tenant key. `cache.predictive.maxQueueBytes` bounds their sum.
 */
export function prefetchJobBytes(job: { key: string; dedupe: string }): number {
  return ENTRY_OVERHEAD_BYTES + utf8ByteLength(job.key) + 2 * utf8ByteLength(job.dedupe);
}

const ZERO: PrefetchStats = Object.freeze({
  observed: 0, predicted: 0, queued: 0, started: 0, alreadyCached: 0, calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0,
  stored: 0, cancelled: 0, failed: 0, overBudget: 0, dropped: 0, superseded: 0, hits: 0, used: 0, unused: 0,
});
const STORABLE = new Set(['stop', 'length', 'tool-calls']);
/** Routing options of the live call that decide the cache scope (and the model), kept for its prefetches. */
const SCOPE_OPTIONS = ['tenant', 'model', 'allowedModels', 'region', 'requiredCapabilities', 'strategy', 'strategyOptions', 'timeouts'] as const;
/** Marks a prefetch call in `request:start`/`request:end` metadata. */
export const PREFETCH_METADATA_KEY = 'llmrr.prefetch';

let idCounter = 0;

/**
 * Predictive caching for a router: learns each tenant's request sequences (`SequenceModel`, per user),
 * and after each live call pre-computes the likely next requests through the router itself, so their
 * answers land in the exact and semantic caches of that tenant's scope (never another's). Low priority:
 *
 * - a prefetch starts only while the router is idle enough (`IdleGate`: live calls in flight, and each
 *   limited deployment's concurrency, rpm and tpm below `idle.fraction`), at most `idle.concurrency` at once;
 * - a live call arriving while one runs aborts it when the router is then no longer idle;
 * - no retries, no fallbacks; queued predictions go stale after `maxQueueAgeMs`;
 * - each tenant has a budget of calls and/or USD per period (`PrefetchBudget`).
 *
 * Prefetch calls carry `metadata['llmrr.prefetch'] = true` and never pass through a gateway's tenant rate
 * limiter. Prefetched answers are tracked (`PrefetchRegistry`): live hits on them are counted, and those
 * never used before their TTL ends are reported (`onUnused`, `stats().unused`).
 */
export class RouterPrefetch {
  readonly config: PredictiveCacheConfig;
  readonly #router: PrefetchHost;
  readonly #now: () => number;
  readonly #gate: IdleGate;
  readonly #model: SequenceModel;
  readonly #budget: PrefetchBudget;
  readonly #registry: PrefetchRegistry;
  readonly #queue: Job[] = [];
  readonly #queued = new Set<string>();
  /** The sum of the queued jobs' `bytes`. */
  #queueBytes = 0;
  readonly #running = new Map<string, { job: Job; controller: AbortController; done: Promise<void> }>();
  /** Request ids of this prefetcher's own calls (prefetches, embeddings): not live traffic. */
  readonly #own = new Set<string>();
  /** Live calls in flight by request id (a caller may reuse an id: counted per call). */
  readonly #live = new Map<string, number>();
  readonly #stats = new Map<string, PrefetchStats>();
  readonly #costEwma = new Map<string, number>();
  readonly #offs: Array<() => void>;
  readonly #pending = new Set<Promise<void>>();
  readonly #unusedListeners = new Set<(entry: PrefetchedEntry) => void>();
  readonly #options: RouterPrefetchOptions;
  #embedder: Embedder | undefined;
  #embedderP: Promise<Embedder> | undefined;
  /** Whether `#embedder` was built here (and is closed here). */
  #ownEmbedder = false;
  #closed = false;
  #lastSweep = -Infinity;

  /** The prefetcher a router's `cache.predictive` asks for, or undefined when it is absent or not enabled. */
  static fromRouter(router: PrefetchHost, options: Omit<RouterPrefetchOptions, 'config'> = {}): RouterPrefetch | undefined {
    const raw = (router.routerConfig.cache as Record<string, unknown>)['predictive'];
    if (raw === undefined) return undefined;
    const config = parsePredictiveConfig(raw);
    return config.enabled ? new RouterPrefetch(router, { ...options, config }) : undefined;
  }

  constructor(router: PrefetchHost, options: RouterPrefetchOptions = {}) {
    this.config = parsePredictiveConfig(options.config ?? (router.routerConfig.cache as Record<string, unknown>)['predictive']);
    const cache = router.routerConfig.cache;
    if (!cache.exact.enabled && cache.semantic?.enabled !== true) {
      throw new LLMError({
        code: 'config_invalid',
        message: 'cache.predictive needs cache.exact or cache.semantic enabled: prefetched answers are written to those caches',
        param: 'cache.predictive',
      });
    }
    this.#router = router;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const c = this.config;
    this.#gate = new IdleGate({
      fraction: c.idle.fraction,
      maxLiveInFlight: c.idle.maxLiveInFlight,
      deployments: (tenant) => this.#deployments(tenant),
      now: this.#now,
    });
    this.#model = new SequenceModel({ ...c.sequences, now: this.#now });
    this.#budget = new PrefetchBudget(c.budget, c.tenantBudgets, this.#now);
    const ttl = Math.max(cache.exact.enabled ? cache.exact.ttlMs : 0, cache.semantic?.enabled ? cache.semantic.ttlMs : 0);
    this.#registry = new PrefetchRegistry({ trackMs: c.trackMs ?? ttl, max: 10_000, maxBytes: c.maxTrackedBytes, now: this.#now });
    this.#offs = [router.on('request:start', (e) => this.#onStart(e)), router.on('request:end', (e) => this.#onEnd(e))];
  }

  /** Live calls in flight, as counted from the router's events (prefetch calls excluded). */
  get liveInFlight(): number {
    return this.#gate.live;
  }

  /** Prefetches running now. */
  get running(): number {
    return this.#running.size;
  }

  /** Queued predictions. */
  get queued(): number {
    return this.#queue.length;
  }

  /** What the queued predictions hold, in bytes (`prefetchJobBytes`): at most `cache.predictive.maxQueueBytes`. */
  get queuedBytes(): number {
    return this.#queueBytes;
  }

  /** Prefetched answers tracked for use, and what tracking them holds in bytes (at most `cache.predictive.maxTrackedBytes`). */
  get tracked(): { entries: number; bytes: number } {
    return { entries: this.#registry.size, bytes: this.#registry.bytes };
  }

  /** Why a prefetch for `tenant` could not start now (undefined: idle). */
  busy(tenant?: string): string | undefined {
    return this.#gate.busy(tenant);
  }

  /** Counters of one tenant (`''` for calls without one), or summed over all. */
  stats(tenant?: string): PrefetchStats {
    if (tenant !== undefined) return { ...(this.#stats.get(tenant) ?? ZERO) };
    const sum: PrefetchStats = { ...ZERO };
    for (const s of this.#stats.values()) for (const k of Object.keys(sum) as Array<keyof PrefetchStats>) sum[k] += s[k];
    return sum;
  }

  /** What a tenant spent on prefetching within its current budget window. */
  spent(tenant: string): { calls: number; usd: number } {
    return this.#budget.spent(tenant);
  }

  /**
   * What a tenant's learned sequences keep as transition exemplars (whole requests, in characters of their JSON; at
   * most `cache.predictive.sequences.maxExemplarBytes`) and how many transitions.
   */
  learned(tenant: string): { bytes: number; transitions: number } {
    return this.#model.exemplarBytes(tenant);
  }

  #st(key: string): PrefetchStats {
    let s = this.#stats.get(key);
    if (!s) this.#stats.set(key, (s = { ...ZERO }));
    return s;
  }

  #deployments(tenant: string | undefined): DeploymentInfo[] {
    try {
      return this.#router.models(tenant);
    } catch {
      return this.#router.models();
    }
  }

  /**
   * Whether the deployment that answered the live call has a known price (config, price table, or free as a
   * local engine): without one its calls cost "0, estimated", which a USD budget cannot bound.
   */
  #priced(tenant: string | undefined, deployment: string): boolean {
    if (this.#budget.limitsOf(tenant ?? '').maxUsd === undefined) return true; // (no need to look)
    return this.#deployments(tenant).find((d) => d.name === deployment)?.price !== undefined;
  }

  #tenantOf(options: GenerateOptions): string | undefined {
    const cfg = this.#router.routerConfig;
    return options.tenant ?? (cfg.version === 3 ? cfg.defaultTenant : undefined);
  }

  #onStart(e: RouterEvents['request:start']): void {
    if (this.#own.has(e.requestId)) return;
    // The semantic cache's embedding and guard calls serve a call already counted (live, or a prefetch).
    if (e.metadata[SEMANTIC_EMBED_METADATA_KEY] !== undefined || e.metadata[SEMANTIC_GUARD_METADATA_KEY] !== undefined) return;
    this.#live.set(e.requestId, (this.#live.get(e.requestId) ?? 0) + 1);
    this.#gate.live++;
    for (const [, run] of this.#running) {
      if (!run.controller.signal.aborted && this.#gate.busy(run.job.tenant) !== undefined) {
        run.controller.abort(new LLMError({ code: 'aborted', message: 'prefetch preempted by live traffic' }));
      }
    }
  }

  #onEnd(e: RouterEvents['request:end']): void {
    this.#gate.record(e);
    if (this.#own.has(e.requestId)) return;
    // Calls that started before this prefetcher listened were never counted.
    const n = this.#live.get(e.requestId);
    if (n !== undefined) {
      if (n > 1) this.#live.set(e.requestId, n - 1);
      else this.#live.delete(e.requestId);
      this.#gate.live--;
    }
    this.poke();
  }

  /**
   * Learns from a live call and queues its likely successors. Call it after each live generate/stream
   * with the request as sent (params merged), the call's options and its result. Never rejects.
   */
  observe(request: GenerateRequest, options: GenerateOptions, result: RouterResult): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const p = this.#observe(request, options, result).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
    return p;
  }

  async #observe(request: GenerateRequest, options: GenerateOptions, result: RouterResult): Promise<void> {
    const tenant = this.#tenantOf(options);
    const key = tenant ?? '';
    if (this.config.optOutTenants.includes(key)) return;
    const st = this.#st(key);
    try {
      this.#sweep(true);
      if (result.cached !== false) {
        const entry = this.#registry.hit(key, result);
        if (entry) {
          st.hits++;
          if (entry.hits === 1) st.used++;
        }
      }
      const question = questionOf(request);
      if (question === undefined) return;
      const embedder = await this.#getEmbedder();
      const user = request.user ?? '';
      // The model keeps a fixed-size key per user, not the id the client sent (a string of any length).
      const sequence = userKey(user);
      // A question whose vector would not tell it from others (the semantic cache's rule: all Chinese questions are one
      // vector with local-use) would join one cluster with every such question: nothing is learned from it nor predicted
      // after it, and the user's next question is not taken as following the one before it.
      if (embedderReading(embedder, question) === undefined) {
        if (this.#closed) return;
        st.superseded += this.#drop((j) => j.key === key && (j.request.user ?? '') === user);
        this.#model.interrupt(key, sequence);
        return;
      }
      // As the semantic cache embeds it (lower-cased, in the tenant's partition), so the shared embedder's cache serves
      // both with one run.
      const [vector] = await embedder.embed([embeddingInput(question)], tenant !== undefined ? { partition: tenant } : undefined);
      if (this.#closed) return;
      st.observed++;
      // This user's next request has arrived: what was predicted for it is moot now.
      st.superseded += this.#drop((j) => j.key === key && (j.request.user ?? '') === user);
      this.#model.observe(key, sequence, vector!, request);
      for (const p of this.#model.predict(key, { ...this.config.predictions, sequence })) {
        st.predicted++;
        const next = nextRequest(p, { request, answer: result });
        if (!next || !this.#cacheable(next, key)) continue;
        const dedupe = `${key}\u0000${canonicalJson({ r: next, o: scopeOptions(options) })}`;
        this.#enqueue(st, {
          key,
          tenant,
          request: next,
          options: scopeOptions(options),
          at: this.#now(),
          estimateUsd: this.#priced(tenant, result.deployment) ? Math.max(result.cost.totalUsd, this.#costEwma.get(key) ?? 0) : undefined,
          dedupe,
          question: questionOf(next) ?? '',
          bytes: prefetchJobBytes({ key, dedupe }),
        });
      }
      this.poke();
    } catch (e) {
      this.#options.onError?.(toLLMError(e));
    }
  }

  #enqueue(st: PrefetchStats, job: Job): void {
    if (this.#queued.has(job.dedupe)) return;
    for (const r of this.#running.values()) if (r.job.dedupe === job.dedupe) return;
    if (job.bytes > this.config.maxQueueBytes) {
      st.dropped++; // (it would drop every other queued prefetch, then itself)
      return;
    }
    this.#queue.push(job);
    this.#queued.add(job.dedupe);
    this.#queueBytes += job.bytes;
    st.queued++;
    while (this.#queue.length > this.config.maxQueue || this.#queueBytes > this.config.maxQueueBytes) {
      this.#st(this.#take(0).key).dropped++;
    }
  }

  /** Starts queued prefetches while the router is idle (runs by itself after every live call). */
  poke(): void {
    if (this.#closed) return;
    const now = this.#now();
    const busy = new Map<string | undefined, boolean>(); // per tenant, once per pass
    for (let i = 0; i < this.#queue.length && this.#running.size < this.config.idle.concurrency; ) {
      const job = this.#queue[i]!;
      if (now - job.at > this.config.maxQueueAgeMs) {
        this.#take(i);
        this.#st(job.key).dropped++;
        continue;
      }
      let b = busy.get(job.tenant);
      if (b === undefined) busy.set(job.tenant, (b = this.#gate.busy(job.tenant) !== undefined));
      if (b) {
        i++;
        continue;
      }
      busy.delete(job.tenant); // a prefetch may start: the next one of this tenant looks again
      this.#take(i);
      const ticket = this.#budget.reserve(job.key, job.estimateUsd);
      if (!ticket) {
        this.#st(job.key).overBudget++;
        continue;
      }
      this.#start(job, ticket);
    }
  }

  #take(i: number): Job {
    const job = this.#queue.splice(i, 1)[0]!;
    this.#queued.delete(job.dedupe);
    this.#queueBytes -= job.bytes;
    return job;
  }

  #ownId(): string {
    // Unique across processes too (the gateway ledgers prefetches by this id): counter, time, random.
    const id = `prefetch_${(idCounter++).toString(36)}_${this.#now().toString(36)}_${crypto.randomUUID().slice(0, 8)}`;
    this.#own.add(id);
    return id;
  }

  #start(job: Job, ticket: BudgetTicket): void {
    const id = this.#ownId();
    const controller = new AbortController();
    const st = this.#st(job.key);
    st.started++;
    const options: InternalCallOptions = {
      ...job.options,
      requestId: id,
      signal: controller.signal,
      retries: { max: 0 },
      fallbacks: [],
      metadata: { [PREFETCH_METADATA_KEY]: true, ...(job.tenant !== undefined ? { tenant: job.tenant } : {}) },
      // Nobody rates a prefetch: strategies learn nothing from it (it stays in the tenant's view).
      [UNRATED_CALL]: true,
    };
    const probe = this.#options.probe;
    const call = async (): Promise<void> => {
      if (probe) {
        if (await probe(job.request, options).catch(() => false)) {
          this.#budget.refund(ticket);
          st.alreadyCached++;
          return;
        }
        if (controller.signal.aborted) throw controller.signal.reason;
      }
      // After a probe: no cache read (the probe found nothing a call would get without a guard), still stored.
      this.#finished(job, ticket, await this.#router.generate(job.request, probe ? ({ ...options, [NO_CACHE_READ]: true } as InternalCallOptions) : options));
    };
    const done = call()
      .then(
        () => {},
        () => {
          if (controller.signal.aborted) st.cancelled++;
          else st.failed++;
        },
      )
      .finally(() => {
        this.#running.delete(id);
        this.#own.delete(id);
        this.poke();
      });
    this.#running.set(id, { job, controller, done });
  }

  #finished(job: Job, ticket: BudgetTicket, r: RouterResult): void {
    const st = this.#st(job.key);
    if (r.cached !== false) {
      // Answered from the cache: nothing spent, unless a semantic guard's model call let the answer through.
      if (r.cost.totalUsd > 0) this.#budget.settle(ticket, r.cost.totalUsd);
      else this.#budget.refund(ticket);
      st.alreadyCached++;
      return;
    }
    const usd = r.cost.totalUsd;
    this.#budget.settle(ticket, usd);
    this.#costEwma.set(job.key, 0.7 * (this.#costEwma.get(job.key) ?? usd) + 0.3 * usd);
    st.calls++;
    st.inputTokens += r.usage.inputTokens;
    st.outputTokens += r.usage.outputTokens;
    st.costUsd += usd;
    if (this.#closed || !this.#storable(job, r)) return;
    st.stored++;
    for (const e of this.#registry.add(job.key, r, job.question, usd, job.request.user)) this.#unused(e);
  }

  /** Whether the router stored the answer (its rules: finish reason, temperature, opt-outs, an answer not as asked: `answerNotAsAsked`). */
  #storable(job: Job, r: RouterResult): boolean {
    return STORABLE.has(r.finishReason) && this.#cacheable(job.request, job.key) && !answerNotAsAsked(job.request, r);
  }

  /**
   * Whether a cache would keep an answer to `request` (temperature, opt-outs; the semantic cache the rule of its
   * lookups, `semanticQuestion`: never a logprobs request's nor a question its embedder does not tell apart): a prefetch
   * that can't be stored is not paid for. `#embedder` is the semantic cache's when the router shares it.
   */
  #cacheable(request: GenerateRequest, key: string): boolean {
    const { exact, semantic } = this.#router.routerConfig.cache;
    if (exact.enabled && isCacheable(request, exact)) return true;
    return semantic !== undefined && semanticQuestion(request, semantic, key, this.#embedder ?? {}) !== undefined;
  }

  /** Reports expired unused entries; from `observe` at most once a second (a sweep walks every tracked entry). */
  #sweep(throttled = false): void {
    const now = this.#now();
    if (throttled && now - this.#lastSweep < 1_000) return;
    this.#lastSweep = now;
    for (const e of this.#registry.sweep()) this.#unused(e);
  }

  #unused(e: PrefetchedEntry): void {
    this.#st(e.tenant).unused++;
    this.#options.onUnused?.(e);
    for (const l of this.#unusedListeners) l(e);
  }

  /** Calls `listener` with every prefetched entry that ends unused (as `options.onUnused`); returns an unsubscribe function. */
  onUnused(listener: (entry: PrefetchedEntry) => void): () => void {
    this.#unusedListeners.add(listener);
    return () => this.#unusedListeners.delete(listener);
  }

  /** Reports prefetched entries whose tracking ended unused (also done on every observed call). */
  sweep(): void {
    this.#sweep();
  }

  /** The embedder, once it has loaded what its coverage needs (`Embedder.prepare`: local-use's language detector). */
  #getEmbedder(): Promise<Embedder> {
    this.#embedderP ??= this.#buildEmbedder().then(async (embedder) => {
      if (embedder.prepare) await embedder.prepare();
      return embedder;
    });
    return this.#embedderP;
  }

  async #buildEmbedder(): Promise<Embedder> {
    const given = this.#options.embedder;
    const shared = typeof given === 'function' ? await given() : given;
    if (shared) return (this.#embedder = shared);
    this.#ownEmbedder = true;
    const name = this.config.embedder ?? this.#router.routerConfig.cache.semantic?.embedder ?? 'local-use';
    this.#embedder =
      name === 'local-use'
        ? defaultLocalEmbedder()
        : new CachedEmbedder(
            new RouterEmbedder((texts, o) => this.#router.embed(texts, o), name, {
              metadata: { [PREFETCH_METADATA_KEY]: true },
              ids: { take: () => this.#ownId(), release: (id) => this.#own.delete(id) },
            }),
          );
    return this.#embedder;
  }

  /**
   * Resolves once no observed call is still being learned from and no prefetch runs (what is queued but
   * cannot start now stays queued). For tests, benchmarks and shutdown.
   */
  async settled(): Promise<void> {
    for (let i = 0; i < 10_000 && (this.#running.size > 0 || this.#pending.size > 0); i++) {
      await Promise.all([...this.#pending, ...[...this.#running.values()].map((r) => r.done)]);
    }
  }

  /** Right to erasure: forgets a tenant's learned sequences (they hold request texts), queued and tracked prefetches. */
  eraseTenant(tenant: string): void {
    this.#model.forget(tenant);
    this.#drop((j) => j.key === tenant);
    this.#registry.forget(tenant);
    this.#budget.forget(tenant);
  }

  /** Right to erasure for one user of a tenant. */
  eraseUser(tenant: string, user: string): void {
    this.#model.forgetSequence(tenant, userKey(user));
    this.#drop((j) => j.key === tenant && j.request.user === user);
    this.#registry.forget(tenant, user);
  }

  /** Drops matching queued prefetches and aborts matching running ones; returns how many. */
  #drop(predicate: (job: Job) => boolean): number {
    let n = 0;
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      if (predicate(this.#queue[i]!)) {
        this.#take(i);
        n++;
      }
    }
    for (const r of this.#running.values()) {
      if (predicate(r.job) && !r.controller.signal.aborted) {
        r.controller.abort();
        n++;
      }
    }
    return n;
  }

  /** Stops listening, aborts running prefetches and waits for them; closes an embedder it built. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs) off();
    this.#queue.length = 0;
    this.#queued.clear();
    this.#queueBytes = 0;
    for (const r of this.#running.values()) r.controller.abort();
    await this.settled();
    if (this.#ownEmbedder) await this.#embedder?.close?.();
  }
}

function scopeOptions(options: GenerateOptions): GenerateOptions {
  const out: Record<string, unknown> = {};
  for (const k of SCOPE_OPTIONS) if (options[k] !== undefined) out[k] = options[k];
  return out as GenerateOptions;
}
