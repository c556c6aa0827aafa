import type { CacheScope } from '../cache/cache-key.js';
import type { CachedAnswer } from '../cache/exact-cache.js';
import type { Capability, SemanticCacheConfig, SemanticCacheConfigInput } from '../config/schema.js';
import { toLLMError } from '../errors/to-llm-error.js';
import { LLMError } from '../errors/llm-error.js';
import type { GenerateRequest, LanguageEngine } from '../spec/index.js';
import { createSemanticCache } from './create-semantic-cache.js';
import { createModelGuard, type GuardCallOptions, type GuardGenerate } from './model-guard.js';
import type { RouterEmbed } from './router-embedder.js';
import type { SemanticCache, SemanticHit, SemanticLookupSpend } from './semantic-cache.js';

/**
 * The metadata key of a guard call (`guard: verify`/`adapt` calling `guardModel`): its value is the id of the
 * live call the guard checked a cached answer for (its metadata also has `tenant`, the lookup's).
 */
export const SEMANTIC_GUARD_METADATA_KEY = 'llmrr.semanticGuard';

/**
 * The metadata key (value `true`) of the semantic cache's embedding calls to a deployment (`embedder: <name>`),
 * made through the router's `embed`. They carry no tenant: a batch may embed several tenants' questions.
 */
export const SEMANTIC_EMBED_METADATA_KEY = 'llmrr.semanticEmbed';

export interface SemanticCacheHookDeps {
  /** The engine of a deployment (for `embedder: <deployment>`: checked to exist and to embed). */
  engineFor?: (deployment: string) => LanguageEngine | undefined;
  /** The router's `embed`: `embedder: <deployment>` embeds through it (limits, circuit, events, cost). */
  embed?: RouterEmbed;
  /**
   * Calls `guardModel` (for guard `verify`/`adapt`), bypassing the caches, for the lookup's tenant and live call
   * (`options`); its `cost` is added to the hit it lets through (an `adapt` rewrite is served only when its
   * `finishReason` is `stop`).
   */
  generateWith?: (deployment: string, request: GenerateRequest, options?: GuardCallOptions) => ReturnType<GuardGenerate>;
  /**
   * Told when the cache cannot be built (bad store URL...) or a lookup/store fails; the call goes on uncached.
   * `requestId`: the call that met it (for a build, the call whose lookup started it), when known.
   */
  onError?: (error: LLMError, requestId?: string) => void;
  now?: () => number;
  baseDir?: string;
  /** Told what the store reports once (`CreateSemanticCacheOptions.warn`). Default: `console.warn`. */
  warn?: (message: string) => void;
  /** An already built cache (tests, custom stores); the config is then only used for `enabled`. */
  cache?: SemanticCache;
}

/**
 * Refuses (`config_invalid`, param `cache.semantic.embedder`) an enabled semantic cache whose embedder is a deployment
 * that cannot embed: its capabilities (configured, else its engine's, e.g. a Gemini chat model's, which has no
 * :batchEmbedContents) lack `embeddings`, so every lookup would be a miss reported only as a `cache:error`. The schema
 * refuses configured capabilities already (with the field's line and column); `deployment` is the one `embedder`
 * names (undefined for `local-use` or an unknown name, which the schema refuses). The message names the fix: with no
 * `capabilities` listed, an OpenAI-compatible model the engine does not know as an embedding model (Ollama's
 * `nomic-embed-text`, `mistral-embed`: only `text-embedding-*` ids are) needs `capabilities: [embeddings]`; a Gemini
 * chat model, an embedding model id or `options.embeddingModel`. An engine that cannot be built here (such as
 * azure-openai without its endpoint) is not judged: nothing is refused, and its calls say why.
 */
export function checkSemanticEmbedder(
  config: SemanticCacheConfig | undefined,
  deployment: (name: string) => { capabilities: ReadonlySet<Capability>; config?: { engine: string; capabilities?: readonly Capability[] | undefined } } | undefined,
): void {
  if (!config?.enabled || config.embedder === 'local-use') return;
  let capabilities: ReadonlySet<Capability> | undefined;
  let configured: { engine: string; capabilities?: readonly Capability[] | undefined } | undefined;
  try {
    const d = deployment(config.embedder);
    configured = d?.config;
    capabilities = d?.capabilities;
  } catch {
    return;
  }
  if (!capabilities || capabilities.has('embeddings')) return;
  const listed = configured?.capabilities !== undefined;
  const fix =
    configured?.engine === 'gemini' && !listed
      ? 'name an embedding model (for Gemini, an embedding model id or options.embeddingModel) or "local-use"'
      : listed
        ? 'name an embedding model or "local-use"'
        : 'if its model embeds (an embedding model the engine does not know as one, such as nomic-embed-text or mistral-embed), add capabilities: [embeddings] to the deployment; else name an embedding model or "local-use"';
  throw new LLMError({
    code: 'config_invalid',
    message: `Invalid router config: cache.semantic.embedder: deployment "${config.embedder}" cannot embed (lacks capabilities: embeddings): ${fix}`,
    param: 'cache.semantic.embedder',
  });
}

/**
 * The semantic cache as the router uses it: built lazily from `cache.semantic` on first use (stores may
 * connect to Redis or open a file), and never failing a call: a cache that cannot be built, or a lookup
 * or store that throws, is reported to `onError` and counts as a miss.
 */
export class SemanticCacheHook {
  readonly enabled: boolean;
  /**
   * Whether a lookup may pay for a guard call: a model guard (`guard` `verify` or `adapt` with a `guardModel`), or
   * a cache given ready-made (its guard may be anything).
   */
  readonly paidGuard: boolean;
  /**
   * Whether a lookup's embedding costs nothing: the in-process `local-use` embedder of a cache built from the config
   * (a deployment's embedding is a paid call; a cache given ready-made may embed with anything).
   */
  readonly freeEmbedding: boolean;
  #cache: Promise<SemanticCache | undefined> | undefined;

  constructor(
    private readonly config: SemanticCacheConfigInput | SemanticCacheConfig | undefined,
    private readonly deps: SemanticCacheHookDeps = {},
  ) {
    this.enabled = config?.enabled === true;
    this.paidGuard = this.enabled && (deps.cache !== undefined || (config?.guardModel !== undefined && (config.guard === 'verify' || config.guard === 'adapt')));
    this.freeEmbedding = this.enabled && deps.cache === undefined && (config?.embedder ?? 'local-use') === 'local-use';
    if (deps.cache) this.#cache = Promise.resolve(deps.cache);
  }

  /**
   * The cache, built on first call (undefined when disabled or when it could not be built; a failed build is reported
   * once, with the `requestId` of the call that started it).
   */
  cache(requestId?: string): Promise<SemanticCache | undefined> {
    if (!this.enabled) return Promise.resolve(undefined);
    this.#cache ??= this.#build().catch((e: unknown) => {
      this.deps.onError?.(toLLMError(e), requestId);
      return undefined;
    });
    return this.#cache;
  }

  /** The cache when a call has built it already (else undefined: nothing is built). */
  built(): Promise<SemanticCache | undefined> | undefined {
    return this.#cache;
  }

  async #build(): Promise<SemanticCache> {
    const config = this.config ?? {};
    const guardModel = config.guardModel;
    const generateWith = this.deps.generateWith;
    const generate: GuardGenerate | undefined =
      guardModel !== undefined && generateWith ? (request, options) => generateWith(guardModel, request, options) : undefined;
    return createSemanticCache(config, {
      ...(this.deps.engineFor ? { engineFor: this.deps.engineFor } : {}),
      ...(this.deps.embed ? { embed: this.deps.embed, embedMetadata: { [SEMANTIC_EMBED_METADATA_KEY]: true } } : {}),
      ...(generate && config.guard !== undefined && config.guard !== 'miss' ? { guard: createModelGuard(generate) } : {}),
      ...(this.deps.now ? { now: this.deps.now } : {}),
      ...(this.deps.baseDir ? { baseDir: this.deps.baseDir } : {}),
      ...(this.deps.warn ? { warn: this.deps.warn } : {}),
    });
  }

  /**
   * `requestId` names the live call a guard call is made for; `spent` is filled with the cost of a guard call that
   * turned the match into a miss (`SemanticLookupOptions.spent`); `noGuard`: a match the guard would judge is a miss
   * without a guard call (`SemanticLookupOptions.noGuard`).
   */
  async lookup(request: GenerateRequest, scope: CacheScope, signal?: AbortSignal, requestId?: string, spent?: SemanticLookupSpend, noGuard?: boolean): Promise<SemanticHit | undefined> {
    const cache = await this.cache(requestId);
    if (!cache) return undefined;
    try {
      return await cache.lookup(request, scope, { ...(signal ? { signal } : {}), ...(requestId !== undefined ? { requestId } : {}), ...(spent ? { spent } : {}), ...(noGuard ? { noGuard } : {}) });
    } catch (e) {
      // A lookup the caller aborted (its embedding stopped with it) is no failure of the cache.
      if (!signal?.aborted) this.deps.onError?.(toLLMError(e), requestId);
      return undefined;
    }
  }

  /** Whether a lookup would serve an answer without a guard call (`SemanticCache.probe`); a failing cache is false. */
  async probe(request: GenerateRequest, scope: CacheScope, signal?: AbortSignal): Promise<boolean> {
    const cache = await this.cache();
    if (!cache) return false;
    try {
      return await cache.probe(request, scope, signal ? { signal } : {});
    } catch (e) {
      this.deps.onError?.(toLLMError(e));
      return false;
    }
  }

  /** `erased` says whether a tenant's answers were erased (`SemanticStoreCallOptions.erased`); `requestId`: the call's. */
  async store(request: GenerateRequest, scope: CacheScope, answer: Omit<CachedAnswer, 'createdAt'>, erased?: (tenant: string) => boolean, requestId?: string): Promise<boolean> {
    const cache = await this.cache(requestId);
    if (!cache) return false;
    try {
      return await cache.store(request, scope, answer, { ...(request.user !== undefined ? { user: request.user } : {}), ...(erased ? { erased } : {}) });
    } catch (e) {
      this.deps.onError?.(toLLMError(e), requestId);
      return false;
    }
  }

  async close(): Promise<void> {
    const cache = this.#cache ? await this.#cache : undefined;
    await cache?.close();
  }
}
