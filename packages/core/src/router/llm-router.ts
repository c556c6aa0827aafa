import { LRUCache } from 'lru-cache';
import { ExactCache, MemoryCacheStore, type CachedAnswer, type CacheScope } from '../cache/index.js';
import { guardSpend, hitSpend, withGuardCost } from '../semantic-cache/guard-spend.js';
import { checkSemanticEmbedder, SEMANTIC_GUARD_METADATA_KEY, SemanticCacheHook } from '../semantic-cache/semantic-cache-hook.js';
import { ModelConfigSchema, type Capability, type ModelConfig, type RouterConfig, type RouterConfigInput, type TenantConfig, type TenantConfigInput } from '../config/schema.js';
import { formatPath, parseConfig } from '../config/validate.js';
import { assertEngineKnown, checkEngineConfig, engineFactory, knownEngines } from '../engines/registry.js';
import { defaultEngineContext, namedEnvContext, type EngineContext, type EngineFactory } from '../engines/types.js';
import { LLMError } from '../errors/llm-error.js';
import { abortError, toLLMError } from '../errors/to-llm-error.js';
import { TypedEmitter, type Listener } from '../events/typed-emitter.js';
import { computeCost } from '../pricing/compute-cost.js';
import { estimateRequestTokens, estimateTokens } from '../pricing/estimate-tokens.js';
import { loadPriceTableFromEnv, PRICES_FILE_ENV } from '../pricing/load-price-table.js';
import type { PriceTable } from '../pricing/types.js';
import type { ChatMessage, GenerateRequest, GenerateResult, LanguageEngine, Usage } from '../spec/index.js';
import { raceAbort, sleep as defaultSleep } from '../util/abort.js';
import { safeWarn } from '../util/safe-warn.js';
import { cacheMembers, memberScopeName } from './cache-members.js';
import { callRetries, checkCallOptions } from './call-options.js';
import { matchesName } from './candidates.js';
import { configVersion } from './config-version.js';
import { countingDeployment, countWith, type CountTokensOptions, type TokenCount } from './count-tokens.js';
import { RouterDeployment } from './deployment.js';
import { elapsedMs } from './elapsed-ms.js';
import { planRoute, type RoutePlan, type RoutePlanInput } from './plan-route.js';
import { LinkedController } from './resilience/attempt-scope.js';
import { PromptCacheAffinity } from './prompt-cache-affinity/prompt-cache-affinity.js';
import { normalizeRequest } from './request.js';
import { runAttempts, type ExecutionHost, type ExecutionPlan } from './resilience/run-attempts.js';
import { embedDriver, embedInput, embedUsage, generateDriver, type GenerateDriver } from './call-drivers.js';
import type { CascadeEnd, CascadeHost } from './cascade/cascade-call.js';
import { cascadeModels } from './cascade/cascade-model-info.js';
import { CascadeSet, type ResolvedCascade } from './cascade/cascade-set.js';
import { streamCascade } from './cascade/cascade-stream.js';
import { sumCost } from './cascade/sum-usage.js';
import { addHedgeSpend, refusedAnswerOf, withBilledAttempts } from './refused-answer.js';
import { runCascade } from './cascade/run-cascade.js';
import { PREFETCH_METADATA_KEY, RouterPrefetch } from './prefetch/router-prefetch.js';
import { createRouterStream } from './router-stream.js';
import { whenSettled } from './stream-result.js';
import { SlotSet } from './slot-set.js';
import { checkStatsOptions } from './stats.js';
import { billFailedAttempts, plusSpend } from './stream-driver.js';
import { completeUsage } from './stream-accumulator.js';
import { BUILTIN_STRATEGIES, builtinStrategies } from './strategies/index.js';
import { INTERNAL_CALL, NO_CACHE_READ, UNRATED_CALL, type InternalCallOptions } from './internal-call.js';
import { checkModelNames, parseTenantConfig, TenantViews, type TenantView } from './tenant-views.js';
import { withUnsetSecrets } from './unservable-own-model.js';
import type {
  AttemptRecord,
  BatchItem,
  BatchItemResult,
  BatchOptions,
  Cost,
  DeploymentCircuitInfo,
  DeploymentInfo,
  DeploymentStatsSnapshot,
  GenerateOptions,
  PromptOrRequest,
  RouteDecision,
  RouteOptions,
  RouterCallOptions,
  RouterEmbedInput,
  RouterEmbedOptions,
  RouterEmbedResult,
  RouterEventName,
  RouterEvents,
  RouterOptions,
  RouterRequestKind,
  RouterResult,
  RouterStream,
  SetTenantOptions,
  Strategy,
  StrategyFn,
  StreamSpend,
  UnknownTenantPolicy,
} from './types.js';

/** One call in flight: what every stage of the pipeline needs. */
interface Call {
  requestId: string;
  request: GenerateRequest;
  options: GenerateOptions;
  stream: boolean;
  kind: RouterRequestKind;
  startedAt: number;
  metadata: Record<string, unknown>;
  cacheRead: boolean;
  cacheWrite: boolean;
  /** Computed on first use (lookup, then store). */
  cacheScope?: CacheScope;
  /** The deployments the cache scope covers (set with it): only their answers are stored under it. */
  cacheMembers?: readonly RouterDeployment[];
  /** The deployment whose answer the call got (set when its result is built). */
  answeredBy?: RouterDeployment;
  /** The request's estimated input tokens, computed once on first use (cache scope, planning, usage). */
  inputTokens?: number;
  /** The attempts of the execution plan, once there is one (reported with a failure). */
  attempts?: AttemptRecord[];
  /** Set by the semantic lookup when a guard call it paid turned the match into a miss: added to the call's cost. */
  guardCost?: Cost;
  /** That guard call's tokens, when it reported them (the result's `guardUsage`). */
  guardUsage?: Usage;
  /** Set by the semantic lookup on a hit its guard call let through: the stream's spend while it replays the hit. */
  hitSpend?: StreamSpend;
  /**
   * The call's signal once it has a plan of attempts (`ExecutionPlan.signal`): follows the caller's, and `close()`
   * aborts it. An `AttemptSignal` (a plain object, no `EventTarget`): only the router's scopes listen to it.
   */
  link?: LinkedController;
  /** The call's slot in the router's `inFlight` (`SlotSet`) while it is in flight. */
  slot?: number | undefined;
}

/** The call's estimated input tokens: computed on first use, then kept (the request does not change). */
function inputTokensOf(call: Call): number {
  return (call.inputTokens ??= estimateRequestTokens(call.request));
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * An asynchronous plan raced against the caller's `signal`: a strategy ranking asynchronously may ignore the abort, and
 * the abort ends the call all the same, as an abort during an attempt does (`abortError`: `aborted` whatever reason the
 * caller gave, `timeout` for a deadline). `planned` is marked handled first: given up on, its later rejection is nobody's.
 */
function untilPlanned<T>(planned: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return planned;
  planned.catch(() => undefined);
  return raceAbort(planned, signal).catch((e: unknown) => {
    throw signal.aborted ? abortError(signal) : e;
  });
}

const EMBEDDINGS: Capability[] = ['embeddings'];
const STORABLE_FINISH = new Set(['stop', 'length', 'tool-calls']);

/**
 * Where relative model paths resolve: the config's `modelsDir` (relative to `baseDir`, else to the
 * working directory, when it is relative itself), else `baseDir`; undefined means the working directory.
 * No `node:path`, so core stays edge-safe.
 */
export function modelsBaseDir(modelsDir: string | undefined, baseDir: string | undefined): string | undefined {
  if (modelsDir === undefined || modelsDir === '') return baseDir;
  if (isAbsolutePath(modelsDir)) return modelsDir;
  const base = baseDir ?? (typeof process !== 'undefined' && typeof process.cwd === 'function' ? process.cwd() : undefined);
  if (base === undefined) return modelsDir;
  return `${base.replace(/[\\/]+$/, '')}/${modelsDir.replace(/^\.[\\/]/, '')}`;
}

function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || p.startsWith('\\\\') || /^[A-Za-z]:[\\/]/.test(p);
}

let idCounter = 0;
function defaultGenerateId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? `req_${c.randomUUID()}` : `req_${Date.now().toString(36)}_${(idCounter++).toString(36)}`;
}

/** How many cascade calls `feedback` can still rate (the oldest are forgotten first). */
const CASCADE_ANSWERS_KEPT = 10_000;

/** How long `close()` waits for the calls it aborted to settle before it closes the engines anyway. */
const CLOSE_WAIT_MS = 10_000;

/** The error of a call `close()` ended: its own instance (it is the call's error, with the call's context added). */
function closedError(): LLMError {
  return new LLMError({ code: 'shutting_down', message: 'The router was closed while the call was in flight' });
}

/**
 * Routes requests over configured deployments: candidate filtering, a ranking strategy, retries with
 * backoff, fallbacks, circuit breakers, timeouts, optional hedging, exact caching, live stats and events.
 *
 * ```ts
 * const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], routing: { strategy: 'priority' } });
 * const { text } = await router.generate('Hello');
 * ```
 */
export class LLMRouter {
  private config: RouterConfig;
  private deployments: RouterDeployment[] = [];
  private readonly byName = new Map<string, RouterDeployment>();
  private readonly tenants = new TenantViews();
  private readonly unknownTenant: UnknownTenantPolicy;
  private readonly strategies: Map<string, Strategy>;
  private readonly builtins: ReadonlySet<string>;
  private readonly strategyOptionsCache = new Map<string, Record<string, unknown>>();
  private strategyName: string;
  private readonly emitter: TypedEmitter<RouterEvents>;
  private readonly host: ExecutionHost;
  private readonly engineContext: EngineContext;
  /**
   * Contexts of `setTenant(t, { useEnv: false })` by the variable a model names by `apiKeyEnv` ('' for none): made on
   * first use and kept, so a tenant set again reuses its unchanged deployments (`ownDeployments` compares contexts).
   */
  private readonly namedEnvContexts = new Map<string, EngineContext>();
  private readonly cache: ExactCache;
  /**
   * Tenants whose cached answers `eraseTenantCaches` erased in this process (deleted: an id is never used again),
   * the most recent 10,000: a call of theirs still running when they were erased does not store its answer after.
   */
  readonly #erasedTenants = new LRUCache<string, true>({ max: 10_000 });
  readonly #isErased = (tenant: string): boolean => this.#erasedTenants.has(tenant);
  private readonly semantic: SemanticCacheHook;
  /** Exact or semantic cache on by config (calls may still opt in or out). */
  private readonly cacheEnabled: boolean;
  /** Retired deployments whose engine waits for its attempts in flight to end (`close()` closes them otherwise). */
  private readonly retired = new Set<RouterDeployment>();
  /** Predictive caching (`cache.predictive`), when enabled. */
  readonly prefetch: RouterPrefetch | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly generateId: () => string;
  private priceTable: PriceTable | undefined;
  /** The last `reloadPrices` asked, settled either way (the next one waits for it); undefined when none is running. */
  private reloading: Promise<void> | undefined;
  /** Set while the `LLMRR_PRICES_FILE` table loads (then cleared); stays rejected when it failed. */
  private pricing: Promise<void> | undefined;
  /** Strategies' `prepare` (their config's files) by strategy name, for `ready()`. */
  private readonly preparing = new Map<string, Promise<void>>();
  private closed = false;
  /** `close()` in progress or done (a second call returns it). */
  private closing: Promise<void> | undefined;
  /**
   * The calls in flight (a generate or embed from its start, a stream from its first pull, until `request:end`):
   * `close()` aborts them and waits for them to settle. A slot per call (`Call.slot`), no listener; not a `Set`
   * (see `SlotSet`: a Set's tables kept every call past young-generation GCs).
   */
  private readonly inFlight = new SlotSet<Call>();
  /** Set while `close()` waits for `inFlight` to empty. */
  private drained: (() => void) | undefined;
  /** `routing.cascades` (undefined when there are none: ordinary calls then check nothing more). */
  private readonly cascades: CascadeSet | undefined;
  private cascadeHostObject: CascadeHost | undefined;
  /** Cascade calls by request id -> the step that answered (`<id>:weak` or `<id>:strong`), for `feedback`. */
  private readonly cascadeAnswers = new Map<string, string>();
  /** `routing.promptCacheAffinity`: marked or keyed requests prefer the deployment that served their prefix. */
  private readonly affinity: PromptCacheAffinity;
  /** `RouterOptions.warn`, made safe to call (a log that throws or rejects fails nothing), for every part of the router. */
  private readonly warn: ((message: string) => void) | undefined;
  /** Leaves the shared circuit store the router joined (`CircuitStateStore.join`), at close. */
  private leaveCircuitStore: (() => void) | undefined;

  constructor(config: RouterConfigInput | RouterConfig, private readonly options: RouterOptions = {}) {
    this.config = parseConfig(config, 'router config');
    this.warn = options.warn === undefined ? undefined : safeWarn(options.warn);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.generateId = options.generateId ?? defaultGenerateId;
    this.emitter = new TypedEmitter<RouterEvents>(options.onListenerError ? { onListenerError: options.onListenerError } : {});
    this.host = { now: this.now, random: this.random, sleep: options.sleep ?? defaultSleep, emitter: this.emitter };
    const baseDir = modelsBaseDir(this.config.modelsDir, options.baseDir);
    this.engineContext = defaultEngineContext({
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(baseDir !== undefined ? { baseDir } : {}),
    });
    this.priceTable = options.priceTable;
    this.strategies = builtinStrategies();
    for (const s of this.strategies.values()) this.connectLearning(s);
    this.builtins = new Set(this.strategies.keys());
    for (const [name, s] of Object.entries(options.strategies ?? {})) this.addStrategy(name, s);
    const policy = options.unknownTenant ?? (this.config.version === 3 ? 'reject' : 'shared');
    if (policy !== 'reject' && policy !== 'shared') {
      throw new LLMError({ code: 'config_invalid', message: `unknownTenant must be "reject" or "shared", got ${JSON.stringify(policy)}`, param: 'unknownTenant' });
    }
    this.unknownTenant = policy;
    const secret = options.endUserIdSecret;
    if (secret !== undefined && (typeof secret !== 'string' || secret === '')) {
      throw new LLMError({ code: 'config_invalid', message: 'endUserIdSecret must be a non-empty string', param: 'endUserIdSecret' });
    }
    checkStatsOptions({ alpha: options.statsAlpha, errorRateHalfLifeMs: options.errorRateHalfLifeMs }, { alpha: 'statsAlpha', errorRateHalfLifeMs: 'errorRateHalfLifeMs' });
    this.config.models.forEach((m, i) => this.put(this.createDeployment(m, `models.${i}`)));
    checkSemanticEmbedder(this.config.cache.semantic, (name) => this.byName.get(name));
    // (Before the tenants: their own models may not take a cascade's name.)
    this.cascades = CascadeSet.create(this.config.routing.cascades, options.verifiers, baseDir);
    if (this.config.version === 3) {
      this.config.tenants.forEach((t, ti) => {
        const checked = parseTenantConfig(t, `tenants.${ti}`);
        this.tenants.set(checked, this.ownDeployments(checked, undefined, `tenants.${ti}.`), this.deployments);
      });
    }
    this.strategyName = this.config.routing.strategy;
    this.checkStrategyName(this.strategyName, 'routing.strategy');
    for (const name of this.builtins) this.checkStrategyOptions(name, this.strategies.get(name)!);
    for (const name of this.builtins) this.prepareStrategy(name, this.strategies.get(name)!);
    this.cache = new ExactCache({
      config: this.config.cache.exact,
      ...(options.cacheStore ? { store: options.cacheStore } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.semantic = new SemanticCacheHook(this.config.cache.semantic, {
      engineFor: (name) => this.byName.get(name)?.engine(),
      // The cache's own calls (embeddings, the guard) are internal: planned over the router's shared deployments.
      embed: (texts, o) => this.embed(texts, { ...o, [INTERNAL_CALL]: true } as InternalCallOptions),
      // The guard call is the router-level `guardModel` (not resolved in the tenant's view); its metadata names
      // the tenant and the live call, and its cost is added to the hit it lets through.
      generateWith: (deployment, request, o) =>
        this.generate(request, {
          model: deployment,
          cache: false,
          // No fallbacks: a guard that fails is a miss, and the gateway's reservation prices guardModel only.
          fallbacks: [],
          [INTERNAL_CALL]: true,
          ...(o?.signal ? { signal: o.signal } : {}),
          metadata: { [SEMANTIC_GUARD_METADATA_KEY]: o?.requestId ?? true, ...(o?.tenant !== undefined ? { tenant: o.tenant } : {}) },
        } as InternalCallOptions),
      onError: (error, requestId) => this.cacheError('semantic', error, requestId),
      ...(options.now ? { now: options.now } : {}),
      ...(baseDir !== undefined ? { baseDir } : {}),
      ...(this.warn ? { warn: this.warn } : {}),
    });
    this.cacheEnabled = this.config.cache.exact.enabled || this.semantic.enabled;
    this.affinity = new PromptCacheAffinity(this.config.routing.promptCacheAffinity, { store: options.promptCacheAffinityStore, now: options.now });
    // A failing affinity store or hash is a miss, never a failed call: reported like a cache's failures.
    this.affinity.onError = (error, requestId) => this.cacheError('affinity', error, requestId);
    this.prefetch = RouterPrefetch.fromRouter(this, {
      embedder: async () => (await this.semantic.cache())?.embedder,
      probe: (request, o) => this.probeCache(request, o),
      ...(options.now ? { now: options.now } : {}),
    });
    if (options.priceTable === undefined && this.engineContext.env[PRICES_FILE_ENV]?.trim()) this.loadPrices();
    // Last (nothing after it throws): what a shared circuit store reports outside any circuit reaches this router's log.
    this.leaveCircuitStore = options.circuitStore?.join?.(this.warn);
  }

  /**
   * A strategy the config names (`param`) must be registered (built in, given in `options.strategies` or added);
   * `source` names the config in the message (the router's, or a tenant's given to `setTenant`).
   */
  private checkStrategyName(name: string | undefined, param: string, source = 'router config'): void {
    if (name === undefined || this.strategies.has(name)) return;
    throw new LLMError({
      code: 'config_invalid',
      message: `Invalid ${source}:\n  ${param}: unknown strategy "${name}" (known: ${this.strategyNames().join(', ')}; custom ones go in options.strategies or addStrategy)`,
      param,
    });
  }

  /**
   * `routing.options[name]`, checked by the strategy (`checkOptions`): a bad value is the server's config mistake,
   * refused as `config_invalid` naming the field when the router is built (or the strategy added), never at a call.
   */
  private checkStrategyOptions(name: string, s: Strategy): void {
    const all = this.config.routing.options;
    const o = Object.hasOwn(all, name) ? all[name] : undefined;
    if (o === undefined || typeof s.checkOptions !== 'function') return;
    try {
      s.checkOptions(o);
    } catch (e) {
      const err = toLLMError(e);
      const param = `routing.options.${name}${err.param !== undefined ? `.${err.param}` : ''}`;
      throw new LLMError({ code: 'config_invalid', message: `Invalid router config:\n  ${param}: ${err.message}`, param, cause: e });
    }
  }

  /**
   * Starts the strategy's `prepare` over `routing.options[name]` (its model file...): `ready()` rejects with its
   * error as `config_invalid` naming `routing.options.<name>.<param>`; calls do not wait for it.
   */
  private prepareStrategy(name: string, s: Strategy): void {
    if (typeof s.prepare !== 'function') return;
    const all = this.config.routing.options;
    const o = Object.hasOwn(all, name) ? all[name]! : {};
    const configError = (e: unknown): LLMError => {
      const err = toLLMError(e);
      if (err.code === 'config_invalid') return err;
      const param = `routing.options.${name}${err.param !== undefined ? `.${err.param}` : ''}`;
      return new LLMError({ code: 'config_invalid', message: `Invalid router config:\n  ${param}: ${err.message}`, param, cause: e });
    };
    let done: Promise<void> | void;
    try {
      done = s.prepare(o);
    } catch (e) {
      done = Promise.reject(configError(e));
    }
    if (!done || typeof (done as Promise<void>).then !== 'function') return;
    const prepared = Promise.resolve(done).catch((e: unknown) => {
      throw configError(e);
    });
    prepared.catch(() => {}); // reported by `ready()`, never as an unhandled rejection
    this.preparing.set(name, prepared);
  }

  /** Loads the `LLMRR_PRICES_FILE` table in the background; calls wait for it (see `ready()`). */
  private loadPrices(): void {
    const pricing = loadPriceTableFromEnv(this.engineContext.env, { baseDir: this.options.baseDir }).then((table) => {
      this.priceTable = table;
      for (const d of this.allDeployments()) d.setPriceTable(table);
      if (this.pricing === pricing) this.pricing = undefined;
    });
    pricing.catch(() => {}); // reported by every call (and `ready()`), never as an unhandled rejection
    this.pricing = pricing;
  }

  /**
   * Resolves once the router is ready to price calls: at once, unless the price file named by
   * `LLMRR_PRICES_FILE` is still loading. Rejects with `config_invalid` when that file is missing or
   * invalid (calls then reject with the same error), or when a strategy's config names a file it cannot use
   * (`routing.options.intelligent.model` or `routing.options.adaptive.model` missing, not a router model, or
   * needing prompt embeddings the router cannot compute; its calls reject with `config_invalid` too). `fromConfig` waits for it.
   */
  async ready(): Promise<void> {
    if (this.pricing) await this.pricing;
    for (const [name, prepared] of this.preparing) if (this.strategies.has(name)) await prepared;
  }

  /**
   * Reads the price file named by `LLMRR_PRICES_FILE` again (the gateway server does on SIGHUP) and, once it has
   * loaded, prices with it every call priced from then on (a call in flight is priced at its end), `models()`,
   * `route()` and deployments loaded later. Resolves `true` once swapped; `false`, changing nothing, when the router
   * has no price file (none named, or a `priceTable` option). A file missing or invalid rejects with its
   * `config_invalid` error and the router keeps the prices it had. A reload that succeeds after the first load
   * failed ends that failure: calls are priced again. Reloads run one after another, in the order they were asked
   * (two SIGHUPs in a row): one started later reads the file after an earlier one has applied it or failed, so a
   * slow earlier read never lands over a later one.
   */
  reloadPrices(): Promise<boolean> {
    if (this.options.priceTable !== undefined || !this.engineContext.env[PRICES_FILE_ENV]?.trim()) return Promise.resolve(false);
    const first = this.pricing;
    const before = this.reloading;
    const reload = (async () => {
      // After the first load (or its failure) and the reloads asked before: none lands over this one.
      if (first) await first.catch(() => {});
      if (before) await before;
      const table = await loadPriceTableFromEnv(this.engineContext.env, { baseDir: this.options.baseDir });
      this.priceTable = table;
      for (const d of this.allDeployments()) d.setPriceTable(table);
      if (this.pricing === first) this.pricing = undefined;
      return true;
    })();
    const settled = reload.then(
      () => undefined,
      () => undefined,
    );
    this.reloading = settled;
    void settled.then(() => {
      if (this.reloading === settled) this.reloading = undefined;
    });
    return reload;
  }

  /**
   * Loads a config with `loadConfig` (an object, a JSON/YAML file path, or the environment:
   * `LLM_ROUTER_CONFIG`, `LLM_ROUTER_CONFIG_JSON`, `llmrr.config.*` in `baseDir`, `LLM_ROUTER_MODELS`)
   * and builds a router over it. The loader (and its file-system access) is imported only here.
   */
  static async fromConfig(source?: string | object, options: RouterOptions = {}): Promise<LLMRouter> {
    const { loadConfig } = await import('../config/load.js');
    const config = await loadConfig(source, {
      ...(options.env ? { env: options.env } : {}),
      ...(options.baseDir ? { cwd: options.baseDir } : {}),
      // An unknown `routing.strategy` is refused with the file's other errors (its line and column, or its env variable).
      strategies: [...BUILTIN_STRATEGIES, ...Object.keys(options.strategies ?? {})],
    });
    const router = new LLMRouter(config, options);
    await router.ready();
    return router;
  }

  /** The validated configuration (models reflect `load`/`unload`; a v3 config's tenants, `setTenant`/`removeTenant`). */
  get routerConfig(): RouterConfig {
    return this.config;
  }

  /**
   * Every stream of this router (cascades included) has `cancel()`: a caller (the gateway) can stop one
   * without an `AbortSignal` of its own.
   */
  get cancellableStreams(): true {
    return true;
  }

  /** Calls honour `cacheOnly` (`RouterCallOptions.cacheOnly`): a caller (the gateway) may ask for a cached answer only. */
  get cacheOnlyCalls(): true {
    return true;
  }

  /** Name of the current default strategy. */
  get strategy(): string {
    return this.strategyName;
  }

  // ---- calls ---------------------------------------------------------------------------------

  /**
   * Embeddings for one text or a batch, from a deployment that can embed (capability `embeddings`,
   * configured or declared by its engine, and an engine with `embed()`): `model` picks it by name or
   * alias, else the strategy ranks the fit ones. Same retries, fallbacks, circuit breakers, timeouts,
   * limits and abort as `generate`; not cached (a `cacheOnly` call rejects with its error, after the input is checked
   * and the call planned, so input no deployment can take gets its 400 first; it calls no engine). Token ids as input (their count is their length) go only to
   * deployments whose engine has `embedTokens()`, `options.dimensions` only to those declaring `embedDimensions`:
   * the others are left out (a 400 `unsupported` naming `input` or `dimensions` when none is left). Rejects with an
   * `LLMError`.
   */
  async embed(input: RouterEmbedInput, options: RouterEmbedOptions = {}): Promise<RouterEmbedResult> {
    this.assertOpen();
    const checked = embedInput(input);
    if (options.retries !== undefined || options.timeouts !== undefined || options.signal != null) checkCallOptions(options);
    const dimensions = options.dimensions;
    if (dimensions !== undefined && (!Number.isSafeInteger(dimensions) || dimensions < 1)) {
      throw new LLMError({ code: 'invalid_request', message: `dimensions must be a positive integer, got ${String(dimensions)}`, param: 'dimensions' });
    }
    if (options.user !== undefined && typeof options.user !== 'string') {
      throw new LLMError({ code: 'invalid_request', message: `user must be a string, got ${typeof options.user}`, param: 'user' });
    }
    const call: Call = {
      requestId: options.requestId ?? this.generateId(),
      // Token ids carry no text: their messages are empty (the plan counts their tokens below).
      request: { messages: checked.input.map((content) => ({ role: 'user', content: typeof content === 'string' ? content : '' })), maxTokens: 0 },
      options,
      stream: false,
      kind: 'embed',
      startedAt: this.now(),
      metadata: options.metadata ?? EMPTY,
      cacheRead: false,
      cacheWrite: false,
      // Its slot in `inFlight` is set once added: the property is in the literal, so that does not change its shape.
      slot: undefined,
    };
    this.inFlight.add(call);
    this.start(call);
    try {
      if (this.pricing) await this.pricing;
      let inputTokens = 0;
      let contextTokens = 0;
      for (const t of checked.input) {
        const n = typeof t === 'string' ? estimateTokens(t) : t.length;
        inputTokens += n;
        if (n > contextTokens) contextTokens = n;
      }
      const required = options.requiredCapabilities;
      const planOptions: RouterCallOptions = { ...options, requiredCapabilities: required ? ['embeddings', ...required] : EMBEDDINGS };
      const embed: NonNullable<RoutePlanInput['embed']> = { inputTokens, contextTokens };
      if (checked.tokens) embed.tokens = true;
      if (dimensions !== undefined) embed.dimensions = true;
      const planned = this.planFor(call.request, planOptions, false, call.requestId, options.explain === true, embed);
      const route = planned instanceof Promise ? await untilPlanned(planned, options.signal) : planned;
      // Embeddings are not cached: a cache-only call has nothing to be answered from (no engine is called). After the
      // plan, so that input no deployment can take is refused as such (its 400) first.
      if (options.cacheOnly) throw options.cacheOnly;
      const plan = this.executionPlan(call, route);
      const won = await runAttempts(this.host, plan, embedDriver(checked, options.headers, dimensions, options.user, plan.tenant));
      const d = won.deployment;
      const usage = embedUsage(won.value.usage, inputTokens, checked.tokens);
      const result: RouterEmbedResult = {
        embeddings: won.value.embeddings,
        usage,
        requestId: call.requestId,
        deployment: d.name,
        model: d.modelId,
        provider: d.provider,
        cost: computeCost(usage, d.price),
        latencyMs: elapsedMs(call.startedAt, this.now()),
        attempts: plan.attempts,
      };
      if (won.value.warnings !== undefined && won.value.warnings.length > 0) result.warnings = won.value.warnings;
      if (route.decision) result.decision = route.decision;
      // Answers refused on other hedge lanes, or completed there after this one won, were billed by their providers:
      // they are the call's spend too.
      if (won.lost || won.late) addHedgeSpend(result, won.lost, plan.order, won.late);
      won.lease.succeed(usage.totalTokens);
      this.endEmbed(call, result, undefined);
      return result;
    } catch (e) {
      const error = toLLMError(e);
      this.endEmbed(call, undefined, error);
      throw error;
    }
  }

  /** One answer for a prompt or request. Rejects with an `LLMError`. */
  async generate(input: PromptOrRequest, options: GenerateOptions = {}): Promise<RouterResult> {
    if (this.cascades !== undefined) {
      const cascade = this.cascades.get(options.model);
      if (cascade) {
        // A cascade's answer is no one cache entry (its steps', a verifier's judgement): served only by calls.
        if (options.cacheOnly) throw options.cacheOnly;
        const result = await runCascade(this.cascadeHost(), cascade, input, options);
        this.noteCascadeAnswer(result);
        return result;
      }
    }
    const call = this.begin(input, options, false);
    let driver: GenerateDriver | undefined;
    try {
      if (this.pricing) await this.pricing;
      // (No await, and so no extra turn, for a cache that is off or a plan made synchronously.)
      if (call.cacheRead) {
        const hit = await this.cacheLookup(call);
        if (hit) {
          this.end(call, hit, undefined);
          return hit;
        }
      }
      if (options.cacheOnly) throw options.cacheOnly;
      const planned = this.planFor(call.request, options, false, call.requestId, options.explain === true, undefined, inputTokensOf(call));
      // The caller's abort ends the call while a strategy ranks asynchronously (a cascade's step included, whose end its
      // cascade's waits for), whether or not the strategy honours it.
      const route = planned instanceof Promise ? await untilPlanned(planned, options.signal) : planned;
      const plan = this.executionPlan(call, route);
      driver = generateDriver(plan.request, options.headers, options.beforeAttemptAfterSpend, plan.tenant);
      const won = await runAttempts(this.host, plan, driver);
      let result: RouterResult;
      try {
        result = this.buildResult(call, won.deployment, won.value, plan, route, undefined);
        // Answers other hedge lanes completed after this one won (or lost with a refused answer's spend) were billed by
        // their providers: the call's spend too.
        if (won.late || won.lost) addHedgeSpend(result, won.lost, plan.order, won.late);
        // So were the attempts that failed after their provider answered (a Gemini failed tool call), as a stream's.
        billFailedAttempts(result, driver.paid());
      } catch (e) {
        won.lease.release();
        throw e;
      }
      won.lease.succeed(result.usage.totalTokens);
      if (route.affinity) this.affinity.remember(route.affinity, won.deployment.modelId, won.deployment.name, call.requestId);
      if (call.cacheWrite) await this.cacheStore(call, result);
      this.end(call, result, undefined);
      return result;
    } catch (e) {
      // What the failed attempts were billed (`REFUSED_ANSWER`: `withBilledAttempts`) and a guard call paid before the
      // failure (`guardCostOf`) are said on the error, for whoever bills the call.
      const paid = driver?.paid();
      const error = paid ? withBilledAttempts(toLLMError(e), paid) : toLLMError(e);
      const billed = call.guardCost ? withGuardCost(error, call.guardCost, call.guardUsage) : error;
      // (What was billed, for the end event's listeners: the attempts' and the guard call's.)
      this.end(call, undefined, billed, call.guardCost && this.emitter.has('request:end') ? plusSpend(guardSpend(call.guardCost, call.guardUsage), paid) : paid);
      throw billed;
    }
  }

  /** A stream that ends with `error` at once, having called nothing. */
  private failedStream(options: GenerateOptions, error: LLMError): RouterStream {
    return createRouterStream({
      host: this.host,
      requestId: options.requestId ?? this.generateId(),
      startedAt: this.now(),
      headers: undefined,
      estimatedInputTokens: () => 0,
      cached: () => Promise.reject(error),
      plan: () => Promise.reject(error),
      build: () => {
        throw error;
      },
      store: () => Promise.resolve(),
      end: () => {},
    });
  }

  /** `generate` over a message list. */
  chat(messages: ChatMessage[], options: GenerateOptions = {}): Promise<RouterResult> {
    return this.generate({ messages }, options);
  }

  /**
   * A stream of parts: `route` (the deployment answering), then the engine's parts, ending with
   * `finish` or `error`. `.result` settles after the stream ends.
   */
  stream(input: PromptOrRequest, options: GenerateOptions = {}): RouterStream {
    if (this.cascades !== undefined) {
      const cascade = this.cascades.get(options.model);
      if (cascade) {
        if (options.cacheOnly) return this.failedStream(options, options.cacheOnly);
        const stream = streamCascade(this.cascadeHost(), cascade, input, options);
        // (Bookkeeping that does not make the stream run: its consumer decides when it does.)
        whenSettled(stream.result, (r) => this.noteCascadeAnswer(r), () => {});
        return stream;
      }
    }
    let call: Call;
    try {
      call = this.begin(input, options, true);
    } catch (e) {
      return this.failedStream(options, toLLMError(e));
    }
    const stream = createRouterStream({
      host: this.host,
      requestId: call.requestId,
      startedAt: call.startedAt,
      headers: options.headers,
      estimatedInputTokens: () => inputTokensOf(call),
      // No lookup (no promise) for a call that reads no cache; planning is synchronous unless something waits.
      // (The first thing a stream's first pull does: refused once the router is closed.)
      cached: () => {
        this.streamStarts(call);
        return call.cacheRead ? this.cacheLookup(call) : undefined;
      },
      // A cache-only call that found nothing fails with its error: no provider is called.
      // An asynchronous plan ends on the caller's abort (`untilPlanned`): the stream's error part and `.result` say `aborted`.
      plan: () => {
        if (options.cacheOnly) return Promise.reject(options.cacheOnly);
        const planned = this.pricing ? this.pricing.then(() => this.streamPlan(call, options)) : this.streamPlan(call, options);
        return planned instanceof Promise ? untilPlanned(planned, options.signal) : planned;
      },
      build: (d, result, plan, route, ttftMs) => this.buildResult(call, d, result, plan, route, ttftMs),
      store: (result) => this.cacheStore(call, result),
      primed: (d, route) => {
        if (route.affinity) this.affinity.remember(route.affinity, d.modelId, d.name, call.requestId);
      },
      // A failed stream's spend (its failed attempts, a guard call, the partial answer) for the end event's listeners.
      end: (result, error, answered) => this.end(call, result, error, error && this.emitter.has('request:end') ? plusSpend(stream.spent?.(), answered?.()) : undefined),
      beforeAttemptAfterSpend: options.beforeAttemptAfterSpend,
    });
    // A stream that fails or is abandoned after its lookup paid a guard call still cost that call (`spent`): a NO's
    // call on top of the answer's (and of its failed attempts' reported prompts), or a hit's call while the hit is replayed.
    if (this.semantic.paidGuard) {
      const attempts = stream.spent!;
      stream.spent = () => plusSpend(call.guardCost ? guardSpend(call.guardCost, call.guardUsage) : call.hitSpend, attempts());
    }
    return stream;
  }

  /** Runs many calls with bounded concurrency; settles all and keeps the input order. */
  async batch(items: readonly BatchItem[], options: BatchOptions = {}): Promise<BatchItemResult[]> {
    const { concurrency, ...common } = options;
    const limit = concurrency ?? this.config.routing.batchConcurrency;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new LLMError({ code: 'invalid_request', message: `concurrency must be a positive integer, got ${String(limit)}`, param: 'concurrency' });
    }
    if (!Array.isArray(items)) throw new LLMError({ code: 'invalid_request', message: 'batch expects an array of items', param: 'items' });
    const results = new Array<BatchItemResult>(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const i = next++;
        const item = items[i]!;
        const own = typeof item === 'object' && item !== null && 'prompt' in item ? item : { prompt: item, options: undefined };
        const merged: GenerateOptions = { ...common, ...own.options };
        if (common.requestId !== undefined && own.options?.requestId === undefined) merged.requestId = `${common.requestId}-${i}`;
        try {
          results[i] = { ok: true, result: await this.generate(own.prompt, merged) };
        } catch (e) {
          results[i] = { ok: false, error: toLLMError(e) };
        }
      }
    };
    const workers: Promise<void>[] = [];
    for (let w = 0; w < Math.min(limit, items.length); w++) workers.push(worker());
    await Promise.all(workers);
    return results;
  }

  /** The text of a speed-priority answer (a refusal's text after any content, as the gateway's `/api/quick` answers). */
  async quick(prompt: PromptOrRequest, options: GenerateOptions = {}): Promise<string> {
    const result = await this.generate(prompt, { ...options, strategy: options.strategy ?? 'speed-priority' });
    return result.refusal ? result.text + result.refusal : result.text;
  }

  /**
   * The routing decision for a request, without calling any deployment: a preview, which leaves stateful
   * strategies as they were (round-robin shows its next turn without taking it; adaptive remembers nothing).
   */
  async route(input: PromptOrRequest, options: RouteOptions = {}): Promise<RouteDecision> {
    try {
      return await this.routeDecision(input, options);
    } catch (e) {
      throw toLLMError(e);
    }
  }

  private async routeDecision(input: PromptOrRequest, options: RouteOptions): Promise<RouteDecision> {
    this.assertOpen();
    const request = normalizeRequest(input, options);
    // Checked as a call's are (a JavaScript caller's object that is no AbortSignal: `invalid_request` naming `signal`).
    if (options.retries !== undefined || options.timeouts !== undefined || options.signal != null) checkCallOptions(options);
    const requestId = options.requestId ?? this.generateId();
    if (this.pricing) await this.pricing;
    const cascade = this.cascades?.get(options.model);
    if (cascade) {
      // Only the weak step can be planned: whether the strong one runs depends on the weak answer.
      this.cascadeAllowed(cascade, options);
      cascade.check?.(request, cascade.name);
      const plan = await this.previewPlan(this.planFor(request, { ...options, model: cascade.weak }, options.stream === true, requestId, true, undefined, undefined, true), options);
      const d = plan.decision!;
      return { ...d, reason: `cascade "${cascade.name}": the weak step is planned; "${cascade.strong}" is called after it when ${cascade.verifier} scores its answer >= ${cascade.threshold}. ${d.reason}` };
    }
    const plan = await this.previewPlan(this.planFor(request, options, options.stream === true, requestId, true, undefined, undefined, true), options);
    return plan.decision!;
  }

  /**
   * A preview's plan; an asynchronous one ends on the caller's abort (`untilPlanned`: `aborted`), as a call's does, so a
   * caller that gives up (the gateway's `/api/route` whose client left) is not held until a strategy that ignores the
   * abort has ranked.
   */
  private previewPlan(planned: RoutePlan | Promise<RoutePlan>, options: RouteOptions): RoutePlan | Promise<RoutePlan> {
    return planned instanceof Promise ? untilPlanned(planned, options.signal) : planned;
  }

  /**
   * The prompt tokens of a request, counted by the deployment a call with these options would use, without
   * calling the model: `countingDeployment` picks it (a name or alias: the fit deployment with the lowest
   * `priority`, config order on ties), `countWith` asks its engine (`exact` when the engine's count is the
   * model's own). A cascade's name counts with its weak model (what its first step pays), under the
   * cascade's allow-list and request checks. A remote count (a provider's count endpoint) reads the
   * deployment's circuit without taking a permit: open (within its cooldown), the local estimate answers;
   * one failing because the provider is down counts against that circuit, as a failed call does (and
   * re-opens a half-open one). Rejects with an `LLMError`.
   */
  async countTokens(input: PromptOrRequest, options: CountTokensOptions = {}): Promise<TokenCount> {
    this.assertOpen();
    const emitter = this.emitter;
    if (!emitter.has('count:start') && !emitter.has('count:end')) return this.countOn(input, options, undefined);
    // Observed (`instrumentRouter`'s span): `count:start` now, in the caller's context; `count:end` however it ends.
    const requestId = options.requestId ?? this.generateId();
    const metadata = options.metadata ?? {};
    emitter.emit('count:start', options.model !== undefined ? { requestId, metadata, model: options.model } : { requestId, metadata });
    const end: RouterEvents['count:end'] = { requestId, metadata };
    try {
      end.result = await this.countOn(input, options, end);
      return end.result;
    } catch (e) {
      end.error = toLLMError(e);
      throw e;
    } finally {
      emitter.emit('count:end', end);
    }
  }

  /** `countTokens`' count; `end` (when observed) is given the counting deployment's provider once it is chosen. */
  private countOn(input: PromptOrRequest, options: CountTokensOptions, end: RouterEvents['count:end'] | undefined): Promise<TokenCount> {
    const request = normalizeRequest(input, undefined);
    if (options.timeouts !== undefined || options.signal != null) checkCallOptions(options);
    let o = options;
    const cascade = this.cascades?.get(options.model);
    if (cascade) {
      this.cascadeAllowed(cascade, options);
      cascade.check?.(request, cascade.name);
      o = { ...options, model: cascade.weak };
    }
    const d = countingDeployment(this.tenantView(o.tenant)?.deployments ?? this.deployments, request, o);
    if (end) end.provider = d.provider;
    return countWith(d, request, o, this.config.routing.timeouts);
  }

  // ---- deployments and strategies -----------------------------------------------------------

  /**
   * Adds deployments at runtime, or replaces those with the same name (validated like the config: no name twice, none
   * named or aliased like a routing name or a cascade; `config_invalid` naming the field by its index, `0.alias`).
   */
  load(models: RouterConfigInput['models'][number] | ReadonlyArray<RouterConfigInput['models'][number]>): string[] {
    this.assertOpen();
    const list = Array.isArray(models) ? models : [models];
    const configs = list.map((m, i) => {
      const parsed = ModelConfigSchema.safeParse(m);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((x) => ({ path: formatPath([i, ...x.path]), message: x.message }));
        throw new LLMError({
          code: 'config_invalid',
          message: `Invalid model config:\n${issues.map((x) => `  ${x.path}: ${x.message}`).join('\n')}`,
          param: issues[0]?.path,
          details: issues,
        });
      }
      return parsed.data;
    });
    checkModelNames(configs, (i, field) => `${i}.${field}`, 'model config', 'load()');
    this.checkCascadeNames(configs, '', 'model config');
    const built = configs.map((c, i) => this.createDeployment(c, String(i)));
    for (const d of built) this.put(d);
    this.config = { ...this.config, models: this.deployments.map((d) => d.config) };
    this.tenants.rebuildAll(this.deployments);
    return built.map((d) => d.name);
  }

  /** Removes a deployment; returns whether it existed. Its engine is closed once idle. */
  unload(name: string): boolean {
    const d = this.byName.get(name);
    if (!d) return false;
    this.byName.delete(name);
    this.deployments = this.deployments.filter((x) => x !== d);
    this.config = { ...this.config, models: this.deployments.map((x) => x.config) };
    this.tenants.rebuildAll(this.deployments);
    this.retire(d);
    return true;
  }

  /**
   * Adds a tenant, or replaces the one with the same id (one from a v3 config too), validated with
   * `TenantConfigSchema`: its allow-list and preferred strategy apply to calls naming it (`tenant`), and
   * its own `models` become deployments only it sees (an own model shadows a shared one of the same name).
   * Own models whose config did not change keep their engine, stats and circuit; changed or dropped ones
   * are closed once idle. Cached answers of an own model are scoped by what decides its answers (its config
   * without routing-only fields), so a changed model never serves an answer of the old one. Throws
   * `config_invalid` naming the field (`models.0.engine`; `preferences.strategy` for a strategy the router does
   * not have yet: add a custom one with `addStrategy` before the tenant), leaving the router as it was.
   * With `useEnv: false` (for models a tenant brings, as the gateway's admin API takes them), an own model's engine
   * reads only the environment variable the model names by `apiKeyEnv` (never a preset's such as `OPENAI_API_KEY`,
   * nor `AZURE_OPENAI_ENDPOINT`...: each model carries its `apiKey` or `apiKeyEnv`, and its `baseURL`) and never gets
   * a pre-built engine of `RouterOptions.engines`.
   */
  setTenant(tenant: TenantConfigInput | TenantConfig, options: SetTenantOptions = {}): this {
    this.assertOpen();
    const config = parseTenantConfig(tenant);
    // Checked here, not at the tenant's first call (which would fail): register a custom strategy first.
    this.checkStrategyName(config.preferences.strategy, 'preferences.strategy', 'tenant config');
    const old = this.tenants.get(config.id);
    const own = this.ownDeployments(config, old, '', options.useEnv === false, options.incarnation, options.unsetSecrets);
    for (const d of this.tenants.set(config, own, this.deployments)) this.retire(d);
    if (this.config.version === 3) {
      const known = this.config.tenants.some((t) => t.id === config.id);
      this.config = { ...this.config, tenants: known ? this.config.tenants.map((t) => (t.id === config.id ? config : t)) : [...this.config.tenants, config] };
    }
    return this;
  }

  /**
   * Removes a tenant (set with `setTenant` or from a v3 config); returns whether it existed. Its own
   * models are closed once idle; calls naming it then follow `unknownTenant` (under `'shared'`, the shared
   * deployments). What strategies learned about it stays (its feedback on shared deployments, its calls' pending
   * decisions): the tenant may still call. When the tenant itself is gone, call `forgetTenant` too.
   */
  removeTenant(id: string): boolean {
    const own = this.tenants.remove(id);
    if (!own) return false;
    for (const d of own) this.retire(d);
    if (this.config.version === 3) this.config = { ...this.config, tenants: this.config.tenants.filter((t) => t.id !== id) };
    return true;
  }

  /**
   * Forgets what strategies learned about a tenant (`Strategy.forgetTenant`: `adaptive` drops its feedback layers,
   * its own deployments' models and its calls' pending decisions, so `feedback` on them returns false), for a tenant
   * that is deleted: any id, whether or not the router knows the tenant (one served the shared deployments without
   * `setTenant` has learning too). Its config and own models stay: remove them with `removeTenant`.
   */
  forgetTenant(id: string): void {
    // (Strategies keep what calls without a tenant taught under no id: a missing id must not erase it.)
    if (typeof id !== 'string' || id === '') {
      throw new LLMError({ code: 'invalid_request', message: 'forgetTenant needs a tenant id (a non-empty string)', param: 'id' });
    }
    // Learning strategies drop what they learned about the tenant (else their state grows with every tenant).
    for (const st of new Set(this.strategies.values())) st.forgetTenant?.(id);
  }

  /**
   * Right to erasure for a deleted tenant: drops its cached answers, exact (every key under the tenant's prefix) and
   * semantic (`SemanticCache.eraseTenant`: a shared store, Redis or SQLite, is erased for every process using it), and
   * what the predictive cache learned of it (`RouterPrefetch.eraseTenant`). Resolves to how many answers went; a cache
   * that fails to erase rejects, after the other one was erased. Memory caches are each process's own: every process
   * erases them (the gateway does on hearing another process's deletion, with `localOnly`: only this process's memory
   * caches, the shared stores being erased once, by the process that deleted the tenant). From then on this process
   * stores no answer of the tenant (a deleted tenant's id is never used again): a call of it still running when it was
   * erased does not store its answer after the erasure (the last 10,000 tenants erased are remembered).
   */
  async eraseTenantCaches(tenant: string, options: { localOnly?: boolean } = {}): Promise<{ exact: number; semantic: number }> {
    if (typeof tenant !== 'string' || tenant === '') {
      throw new LLMError({ code: 'invalid_request', message: 'eraseTenantCaches needs a tenant id (a non-empty string)', param: 'tenant' });
    }
    const local = options.localOnly === true;
    // First: a call of the tenant still running stores nothing from now on (`cacheStore`).
    this.#erasedTenants.set(tenant, true);
    this.prefetch?.eraseTenant(tenant);
    const eraseExact = this.cache.backend.deleteByPrefix !== undefined && (!local || this.cache.backend instanceof MemoryCacheStore);
    // (Only a semantic cache already built holds anything in this process; a shared one is built to be erased.)
    const semanticCache = local ? this.semantic.built() : this.semantic.enabled ? this.semantic.cache() : undefined;
    const [exact, semantic] = await Promise.allSettled([
      eraseExact ? this.cache.invalidateTenant(tenant) : 0,
      semanticCache?.then((c) => (c && (!local || c.backend.kind === 'memory') ? c.eraseTenant(tenant) : 0)) ?? 0,
    ]);
    if (exact.status === 'rejected') throw exact.reason;
    if (semantic.status === 'rejected') throw semantic.reason;
    return { exact: exact.value, semantic: semantic.value };
  }

  /** Registers a strategy under `name` (replacing one of the same name). */
  addStrategy(name: string, strategy: Strategy | StrategyFn): this {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new LLMError({ code: 'invalid_request', message: 'Strategy name must be a non-empty string', param: 'name' });
    }
    const s: Strategy | undefined =
      typeof strategy === 'function' ? { name, rank: strategy } : strategy && typeof strategy.rank === 'function' ? strategy : undefined;
    if (!s) throw new LLMError({ code: 'invalid_request', message: `Strategy "${name}" must be a function or an object with rank(ctx)`, param: 'strategy' });
    this.checkStrategyOptions(name, s);
    this.preparing.delete(name);
    this.prepareStrategy(name, s);
    const old = this.strategies.get(name);
    this.strategies.set(name, s);
    // The replaced strategy stops learning from calls (unless it is still registered under another name).
    if (old !== undefined && old !== s && !this.isRegistered(old)) this.disconnectLearning(old);
    this.connectLearning(s);
    (this.builtins as Set<string>).delete(name);
    this.strategyOptionsCache.delete(name);
    return this;
  }

  /** Learning strategies (`adaptive`, custom ones) see every call's outcome through `onRequestEnd`. */
  private connectLearning(s: Strategy): void {
    const hook = (s as { onRequestEnd?: (e: RouterEvents['request:end']) => void }).onRequestEnd;
    if (typeof hook === 'function') this.emitter.on('request:end', hook);
  }

  private disconnectLearning(s: Strategy): void {
    const hook = (s as { onRequestEnd?: (e: RouterEvents['request:end']) => void }).onRequestEnd;
    if (typeof hook === 'function') this.emitter.off('request:end', hook);
  }

  private isRegistered(s: Strategy): boolean {
    for (const v of this.strategies.values()) if (v === s) return true;
    return false;
  }

  /**
   * Explicit feedback on a routed answer: `score` in [0,1] (1 = good). Learning strategies that routed
   * the request update from it. Returns true when one of them knew the request.
   */
  feedback(requestId: string, score: number): boolean {
    if (typeof requestId !== 'string' || requestId === '') {
      throw new LLMError({ code: 'invalid_request', message: 'feedback requestId must be a non-empty string', param: 'requestId' });
    }
    if (typeof score !== 'number' || !(score >= 0 && score <= 1)) {
      throw new LLMError({ code: 'invalid_request', message: `feedback score must be a number in [0,1] (got ${JSON.stringify(score)})`, param: 'score' });
    }
    // A cascade's call: its steps were routed as `<id>:weak` and `<id>:strong`; the rating is for the step
    // whose answer the caller got (once: the entry goes with it, as a strategy forgets a rated request).
    const step = this.cascadeAnswers.get(requestId);
    if (step !== undefined) {
      this.cascadeAnswers.delete(requestId);
      return this.feedbackOn(step, score);
    }
    return this.feedbackOn(requestId, score);
  }

  /** Remembers which step answered a cascade call, for `feedback` (the most recent 10 000 calls). */
  private noteCascadeAnswer(r: RouterResult): void {
    const record = r.cascade;
    if (!record) return;
    this.cascadeAnswers.set(r.requestId, record.strong?.requestId ?? record.weak.requestId);
    if (this.cascadeAnswers.size > CASCADE_ANSWERS_KEPT) {
      const oldest = this.cascadeAnswers.keys().next().value;
      if (oldest !== undefined) this.cascadeAnswers.delete(oldest);
    }
  }

  private feedbackOn(requestId: string, score: number): boolean {
    let known = false;
    for (const s of new Set(this.strategies.values())) {
      const f = (s as { feedback?: (id: string, score: number) => boolean }).feedback;
      if (typeof f === 'function' && f.call(s, requestId, score)) known = true;
    }
    return known;
  }

  /** Makes `name` the default strategy. Unknown names throw, listing the known ones. */
  setStrategy(name: string): this {
    if (!this.strategies.has(name)) {
      throw new LLMError({
        code: 'config_invalid',
        message: `Unknown strategy ${quoteName(name)}. Known: ${this.strategyNames().join(', ')}`,
        param: 'routing.strategy',
      });
    }
    this.strategyName = name;
    return this;
  }

  /**
   * Checks that each v3 tenant's preferred strategy (`tenants.N.preferences.strategy`, the default of the tenant's
   * calls) is registered now: built in, given in `options.strategies` or added with `addStrategy`; else a
   * `config_invalid` naming the field (every call of such a tenant would fail). Not done by the constructor, so a
   * tenant's strategy can still be added after it; `llmrr config validate` and the gateway server call it at start.
   * Each name of `routing.clientStrategies` and of a tenant's `preferences.clientStrategies` too (a typo there would
   * refuse every client asking for the strategy).
   */
  checkTenantStrategies(): void {
    const checkList = (list: boolean | string[] | undefined, param: string) => {
      if (Array.isArray(list)) list.forEach((name, i) => this.checkStrategyName(name, `${param}.${i}`));
    };
    if (this.config.version === 3) {
      this.config.tenants.forEach((t, ti) => {
        this.checkStrategyName(t.preferences.strategy, `tenants.${ti}.preferences.strategy`);
        checkList(t.preferences.clientStrategies, `tenants.${ti}.preferences.clientStrategies`);
      });
    }
    checkList(this.config.routing.clientStrategies, 'routing.clientStrategies');
  }

  /** Names of the registered strategies. */
  strategyNames(): string[] {
    return [...this.strategies.keys()];
  }

  /**
   * The directory relative model paths (`path` of a gguf or onnx model, a tenant's own too) resolve against: the
   * config's `modelsDir` (relative to `baseDir`), else `baseDir`, else the working directory.
   */
  get modelFilesDir(): string {
    return this.engineContext.baseDir;
  }

  /**
   * The factory the router builds an engine kind with (a tenant's own model's too): its own (`RouterOptions.
   * engineFactories`) over those registered with `registerEngine`; undefined for a kind it cannot build. The gateway's
   * admin API reads the factory's `secretOptions` here, so that a router's own engines' secrets are redacted too.
   */
  engineFactory(kind: string): EngineFactory | undefined {
    return engineFactory(kind, this.options.engineFactories);
  }

  /**
   * The engine kinds the router can build (`engineFactory`): its own (`RouterOptions.engineFactories`) and those
   * registered with `registerEngine`, sorted. The gateway's admin API names them when it refuses a tenant model's kind.
   */
  engineKinds(): string[] {
    return knownEngines(this.options.engineFactories);
  }

  /**
   * Deployments with their config, capabilities, price and live stats (a v3 tenant's view when `tenant` is
   * given; without one, the view a call without a tenant plans in: a v3 config's `defaultTenant`, when the router
   * knows it, else the shared deployments; `null`: the shared deployments, whatever the `defaultTenant`, as the
   * router's own calls use them), then the cascades whose two models are among them (engine `cascade`, see
   * `DeploymentInfo.cascade`).
   */
  models(tenant?: string | null): DeploymentInfo[] {
    // (Without a tenant it never throws: a `defaultTenant` the router does not know lists the shared deployments.)
    const view =
      tenant === null ? undefined : tenant === undefined ? (this.config.version === 3 && this.config.defaultTenant !== undefined ? this.tenants.get(this.config.defaultTenant) : undefined) : this.tenantView(tenant);
    const list = view?.deployments ?? this.deployments;
    const infos = list.map((d) => {
      let capabilities: DeploymentInfo['capabilities'];
      try {
        capabilities = [...d.capabilities];
      } catch {
        capabilities = [];
      }
      const info: DeploymentInfo = {
        name: d.name,
        engine: d.config.engine,
        model: d.modelId,
        enabled: d.config.enabled,
        config: d.config,
        capabilities,
        priceFromTable: d.priceFromTable,
        stats: d.stats.snapshot(),
      };
      if (d.config.alias !== undefined) info.alias = d.config.alias;
      if (d.tenant !== undefined) info.tenant = d.tenant;
      // Whether an embed call with `dimensions` / token ids may plan it (an engine that cannot be created is planned for none).
      if (capabilities.includes('embeddings')) embedForms(d, info);
      // Frozen (the deployment's own): the caller cannot change what the router bills with.
      if (d.price) info.price = d.price;
      return info;
    });
    return this.cascades ? [...infos, ...cascadeModels(this.cascades, infos, view?.config.allowedModels)] : infos;
  }

  /** How cascades call this router (built on first use). */
  private cascadeHost(): CascadeHost {
    return (this.cascadeHostObject ??= {
      generate: (input, options) => this.generate(input, options),
      stream: (input, options) => this.stream(input, options),
      now: this.now,
      generateId: this.generateId,
      checkAllowed: (cascade, options) => this.cascadeAllowed(cascade, options),
      started: (cascade, requestId, stream, options, request) => this.cascadeStarted(cascade, requestId, stream, options, request),
    });
  }

  /** `cascade:start` of a cascade call, and the function that sends its `cascade:end` (undefined when nobody listens). */
  private cascadeStarted(cascade: ResolvedCascade, requestId: string, stream: boolean, options: GenerateOptions, input: PromptOrRequest): CascadeEnd | undefined {
    const emitter = this.emitter;
    if (!emitter.has('cascade:start') && !emitter.has('cascade:end')) return undefined;
    const name = cascade.name;
    const metadata = options.metadata ?? EMPTY;
    if (emitter.has('cascade:start')) {
      let request: GenerateRequest | undefined;
      try {
        request = normalizeRequest(input, options);
      } catch {
        // (Invalid: the cascade call fails with the error, which its `cascade:end` carries.)
      }
      emitter.emit('cascade:start', request ? { requestId, stream, name, metadata, request } : { requestId, stream, name, metadata });
    }
    let done = false;
    return (result, error) => {
      if (done || !emitter.has('cascade:end')) return;
      done = true;
      const payload: RouterEvents['cascade:end'] = { requestId, stream, name, metadata };
      if (result) payload.result = result;
      if (error) payload.error = error;
      emitter.emit('cascade:end', payload);
    };
  }

  /**
   * A call may use a cascade when its `allowedModels` (and its tenant's allow-list) name the cascade; its two
   * models must be allowed as well (the steps are ordinary calls). Otherwise `permission_denied` naming `model`.
   */
  private cascadeAllowed(cascade: ResolvedCascade, options: RouterCallOptions): void {
    this.assertOpen();
    const view = this.tenantView(options.tenant);
    const deployments = view?.deployments ?? this.deployments;
    // A step's model is allowed when a deployment it names (by name or alias) is named by the allow-list; under the
    // tenant's own list (`owner`), also when it is one of the tenant's own models, which its view holds by ownership.
    const stepAllowed = (step: string, allowed: readonly string[], owner: string | undefined) =>
      deployments.some((d) => matchesName(d, step) && ((owner !== undefined && d.tenant === owner) || allowed.some((name) => matchesName(d, name))));
    const denied = (allowed: readonly string[] | undefined, owner: string | undefined) =>
      allowed !== undefined && (!allowed.includes(cascade.name) || !stepAllowed(cascade.weak, allowed, owner) || !stepAllowed(cascade.strong, allowed, owner));
    // One message whatever is missing: the caller learns nothing of the steps' models.
    if (denied(options.allowedModels, undefined) || denied(view?.config.allowedModels, view?.config.id)) {
      throw new LLMError({ code: 'permission_denied', message: `The cascade "${cascade.name}" is not in the allowed models of this call`, param: 'model' });
    }
  }

  /**
   * The circuit of every live deployment: the shared ones, then each tenant's own models (with `tenant`; one may
   * share a shared deployment's name). Deployments unloaded, replaced or of a removed tenant are not listed. The
   * state is this router's view, read-only (no round trip to a shared store; an open circuit past its cooldown
   * reads half-open, as the next call finds it, without becoming it: a read changes nothing and emits no event).
   */
  circuits(): DeploymentCircuitInfo[] {
    return this.allDeployments().map((d) => {
      const state = d.breaker.peekLocal ? d.breaker.peekLocal() : d.breaker.state;
      return d.tenant === undefined ? { deployment: d.name, state } : { deployment: d.name, tenant: d.tenant, state };
    });
  }

  /** Live stats by deployment name (copies). */
  stats(): Record<string, DeploymentStatsSnapshot> {
    // fromEntries defines own properties: a deployment named "__proto__" is an entry, not the object's prototype.
    return Object.fromEntries(this.deployments.map((d) => [d.name, d.stats.snapshot()]));
  }

  on<K extends RouterEventName>(event: K, listener: Listener<RouterEvents[K]>): () => void {
    return this.emitter.on(event, listener);
  }

  off<K extends RouterEventName>(event: K, listener: Listener<RouterEvents[K]>): void {
    this.emitter.off(event, listener);
  }

  /**
   * Shuts the router down: calls made from now on fail with `shutting_down` (503, retryable: another instance may
   * answer; a stream first read after it
   * too, creating no engine); the calls in flight are aborted (their upstream requests cancelled, no retry, no
   * fallback, no strike) and end with `shutting_down`, their `request:end` still emitted; once they have
   * settled (at most 10 s: an engine that ignores its abort is not waited for longer), every engine is closed.
   * Resolves when all of that is done; calling it again returns the same promise.
   */
  close(): Promise<void> {
    return (this.closing ??= this.shutDown());
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.leaveCircuitStore?.();
    this.leaveCircuitStore = undefined;
    // A call linked already aborts now; one still before its plan gets an aborted link (`executionPlan`).
    for (const call of this.inFlight) call.link?.abort(closedError());
    await this.prefetch?.close();
    if (this.inFlight.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.drained = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS))),
      ]);
      clearTimeout(timer);
      this.drained = undefined;
    }
    const all = [...this.allDeployments(), ...this.retired];
    this.retired.clear();
    await Promise.allSettled([...all.map((d) => d.close()), this.semantic.close()]);
    this.emitter.clear();
  }

  /** A call settled (`request:end`): it leaves `inFlight`, its link lets go of the caller's signal. */
  private settled(call: Call): void {
    call.link?.dispose();
    if (this.inFlight.delete(call) && this.drained !== undefined && this.inFlight.size === 0) this.drained();
  }

  /** A stream's first pull: refused once the router is closed (no engine is created), else the call is in flight. */
  private streamStarts(call: Call): void {
    this.assertOpen();
    this.inFlight.add(call);
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Shared deployments and every tenant's own. */
  private allDeployments(): RouterDeployment[] {
    return [...this.deployments, ...this.tenants.ownDeployments()];
  }

  /**
   * A tenant's own deployments, reusing those of `old` (the tenant it replaces) whose config is unchanged;
   * a changed one takes over its predecessor's limiter state. `path` prefixes error params (`tenants.0.`).
   * `isolated`: models a tenant brings (the environment of their `apiKeyEnv` only, no pre-built engine).
   */
  private ownDeployments(
    config: TenantConfig,
    old: TenantView | undefined,
    path: string,
    isolated = false,
    incarnation?: string | number,
    unsetSecrets?: SetTenantOptions['unsetSecrets'],
  ): RouterDeployment[] {
    this.checkCascadeNames(config.models, `${path}models.`, 'tenant config');
    return config.models.map((m, i) => {
      const prev = old?.own.find((d) => d.name === m.name);
      const context = isolated ? this.namedEnvContext(m.apiKeyEnv) : undefined;
      const unset = unsetSecrets && Object.hasOwn(unsetSecrets, m.name) && unsetSecrets[m.name]!.length > 0 ? unsetSecrets[m.name] : undefined;
      // (Another incarnation of the tenant is another customer: new deployments, with circuits of their own.)
      if (prev && prev.version === configVersion(m) && prev.engineContext === (context ?? this.engineContext) && prev.incarnation === incarnation && prev.unsetSecrets === unset?.join('\n')) {
        prev.configPath = `${path}models.${i}`;
        return prev;
      }
      const d = this.createDeployment(m, `${path}models.${i}`, config.id, context, incarnation, unset);
      if (prev && prev.incarnation === incarnation) d.inheritLimiter(prev);
      return d;
    });
  }

  /**
   * No model of `models` named or aliased like a cascade (`routing.cascades`: the two would answer to one name), as the
   * config refuses a cascade named like a model: `config_invalid` naming the field (`<prefix><index>.alias`).
   */
  private checkCascadeNames(models: ReadonlyArray<Pick<ModelConfig, 'name' | 'alias'>>, prefix: string, what: string): void {
    const cascades = this.cascades;
    if (cascades === undefined) return;
    models.forEach((m, i) => {
      for (const field of ['name', 'alias'] as const) {
        const name = m[field];
        if (name === undefined || !cascades.get(name)) continue;
        const param = `${prefix}${i}.${field}`;
        throw new LLMError({ code: 'config_invalid', message: `Invalid ${what}:\n  ${param}: "${name}" is the name of a cascade (routing.cascades)`, param });
      }
    });
  }

  /** The context of a model a tenant brings that names `apiKeyEnv` (see `namedEnvContexts`). */
  private namedEnvContext(apiKeyEnv: string | undefined): EngineContext {
    const name = apiKeyEnv ?? '';
    let context = this.namedEnvContexts.get(name);
    if (!context) this.namedEnvContexts.set(name, (context = namedEnvContext(this.engineContext, apiKeyEnv)));
    return context;
  }

  private assertOpen(): void {
    if (this.closed) throw new LLMError({ code: 'shutting_down', message: 'The router is closed' });
  }

  private createDeployment(config: ModelConfig, path: string, tenant?: string, isolated?: EngineContext, incarnation?: string | number, unsetSecrets?: readonly string[]): RouterDeployment {
    // An own property only: a model named "constructor" (a tenant's, say) must not find Object.prototype's. A model a
    // tenant brings (`isolated`) never gets one: it would serve the tenant with the operator's engine and key.
    const engines = isolated ? undefined : this.options.engines;
    const engine: LanguageEngine | undefined = engines && Object.hasOwn(engines, config.name) ? engines[config.name] : undefined;
    let factory: EngineFactory;
    if (engine) {
      factory = () => engine;
    } else {
      try {
        factory = assertEngineKnown(config, this.options.engineFactories);
      } catch (e) {
        throw LLMError.isInstance(e) ? e.with({ param: `${path}.engine` }) : e;
      }
      // A model whose secrets are not set is not checked (its config lacks them): each of its calls fails naming them.
      if (unsetSecrets?.length) factory = withUnsetSecrets(factory, unsetSecrets);
      else checkEngineConfig(factory, config, path);
    }
    return new RouterDeployment({
      config,
      routing: this.config.routing,
      factory,
      engineContext: isolated ?? this.engineContext,
      engine,
      now: this.now,
      priceTable: this.priceTable,
      circuitStore: this.options.circuitStore,
      warn: this.warn,
      tenant,
      // A model the tenant brings that names no `apiKeyEnv` reads no environment of the router's: its key is the
      // tenant's (`DeploymentInit.ownAccount`). One naming `apiKeyEnv` may read the operator's key (`OPENAI_API_KEY`).
      ownAccount: isolated !== undefined && config.apiKeyEnv === undefined,
      endUserIdSecret: this.options.endUserIdSecret,
      incarnation,
      ...(unsetSecrets?.length ? { unsetSecrets: unsetSecrets.join('\n') } : {}),
      configPath: path,
      statsAlpha: this.options.statsAlpha,
      errorRateHalfLifeMs: this.options.errorRateHalfLifeMs,
      onCircuit: (deployment, from, to) => {
        if (this.emitter.has('circuit')) this.emitter.emit('circuit', tenant === undefined ? { deployment, from, to } : { deployment, tenant, from, to });
      },
    });
  }

  /**
   * The view of the call's tenant (`tenant`, else a v3 config's `defaultTenant`), or undefined when the
   * call uses the shared deployments (no tenant, or one the router does not know under `unknownTenant:
   * 'shared'`). An unknown tenant under `'reject'` is an `invalid_request` naming `tenant`.
   */
  private tenantView(tenant: string | undefined): TenantView | undefined {
    const id = tenant ?? (this.config.version === 3 ? this.config.defaultTenant : undefined);
    if (id === undefined) return undefined;
    const view = this.tenants.get(id);
    if (view || this.unknownTenant === 'shared') return view;
    throw new LLMError({
      code: 'invalid_request',
      message: `Unknown tenant "${id}" (not in the config's tenants nor added with setTenant; the router option unknownTenant: 'shared' serves such tenants the shared models)`,
      param: 'tenant',
    });
  }

  private put(d: RouterDeployment): void {
    const old = this.byName.get(d.name);
    this.byName.set(d.name, d);
    if (old) {
      d.inheritLimiter(old);
      this.deployments = this.deployments.map((x) => (x === old ? d : x));
      this.retire(old);
    } else {
      this.deployments = [...this.deployments, d];
    }
  }

  /**
   * A removed deployment: no engine is created for it any more; its engine is closed now if idle, else as its last
   * attempt in flight ends (or at `close()`, which does not wait for that).
   */
  private retire(d: RouterDeployment): void {
    if (d.retire(() => this.retired.delete(d))) this.retired.add(d);
  }

  private begin(input: PromptOrRequest, options: GenerateOptions, stream: boolean): Call {
    this.assertOpen();
    if (options.retries !== undefined || options.timeouts !== undefined || options.signal != null) checkCallOptions(options);
    const request = normalizeRequest(input, options);
    const mode = options.cache;
    const enabled = this.cacheEnabled;
    const call: Call = {
      requestId: options.requestId ?? this.generateId(),
      request,
      options,
      stream,
      kind: stream ? 'stream' : 'generate',
      startedAt: this.now(),
      metadata: options.metadata ?? EMPTY,
      cacheRead: (mode === true || (mode === undefined && enabled)) && (options as InternalCallOptions)[NO_CACHE_READ] !== true,
      cacheWrite: mode === true || mode === 'refresh' || (mode === undefined && enabled),
      slot: undefined,
    };
    // (A stream is in flight from its first pull: `streamStarts`.)
    if (!stream) this.inFlight.add(call);
    this.start(call);
    return call;
  }

  private start(call: Call): void {
    if (!this.emitter.has('request:start')) return;
    const o = call.options;
    const payload: RouterEvents['request:start'] = { requestId: call.requestId, stream: call.stream, kind: call.kind, metadata: call.metadata };
    if (call.kind !== 'embed') payload.request = call.request;
    if (o.model !== undefined) payload.model = o.model;
    payload.strategy = o.strategy ?? ((o as InternalCallOptions)[INTERNAL_CALL] ? undefined : this.preferredStrategy(o.tenant)) ?? this.strategyName;
    this.emitter.emit('request:start', payload);
  }

  /** The strategy a tenant prefers, when the router knows the tenant (never throws: planning reports unknown tenants). */
  private preferredStrategy(tenant: string | undefined): string | undefined {
    const id = tenant ?? (this.config.version === 3 ? this.config.defaultTenant : undefined);
    return id === undefined ? undefined : this.tenants.get(id)?.config.preferences.strategy;
  }

  private cacheError(kind: 'exact' | 'semantic' | 'affinity', error: unknown, requestId: string | undefined): void {
    if (!this.emitter.has('cache:error')) return;
    this.emitter.emit('cache:error', { kind, error: toLLMError(error), ...(requestId !== undefined ? { requestId } : {}) });
  }

  private end(call: Call, result: RouterResult | undefined, error: LLMError | undefined, spent?: StreamSpend): void {
    this.settled(call);
    // (Not a cache-only call's: what it learned could start paid prefetches for a caller that may not pay.)
    if (result && this.prefetch && call.metadata[PREFETCH_METADATA_KEY] !== true && call.options.cache !== false && call.options.cacheOnly === undefined) void this.prefetch.observe(call.request, call.options, result);
    if (!this.emitter.has('request:end')) return;
    const payload: RouterEvents['request:end'] = { requestId: call.requestId, stream: call.stream, kind: call.kind, metadata: call.metadata };
    if (result) payload.result = result;
    if (error) {
      payload.error = error;
      if (call.attempts) payload.attempts = call.attempts;
      if (spent) payload.spent = spent;
    }
    this.emitter.emit('request:end', payload);
  }

  private endEmbed(call: Call, result: RouterEmbedResult | undefined, error: LLMError | undefined): void {
    this.settled(call);
    if (!this.emitter.has('request:end')) return;
    const payload: RouterEvents['request:end'] = { requestId: call.requestId, stream: false, kind: 'embed', metadata: call.metadata };
    if (result) payload.embedResult = result;
    if (error) {
      payload.error = error;
      if (call.attempts) payload.attempts = call.attempts;
      // What was billed (answers refused after their provider billed them: wrong `dimensions`), as the ledger bills it.
      const billed = refusedAnswerOf(error.details);
      if (billed) payload.spent = { usage: billed.usage, cost: billed.cost, replay: false, ...(billed.failedAttempts ? { failedAttempts: billed.failedAttempts } : {}) };
    }
    this.emitter.emit('request:end', payload);
  }

  private planFor(
    request: GenerateRequest,
    options: RouterCallOptions,
    stream: boolean,
    requestId: string,
    explain: boolean,
    embed?: RoutePlanInput['embed'],
    estimatedInputTokens?: number,
    preview = false,
  ): RoutePlan | Promise<RoutePlan> {
    const internal = (options as InternalCallOptions)[INTERNAL_CALL] === true;
    const view = internal ? undefined : this.tenantView(options.tenant);
    const { name, strategy } = this.strategyOf(options, view);
    const base = this.baseStrategyOptions(name);
    const input: RoutePlanInput = {
      deployments: view?.deployments ?? this.deployments,
      routing: this.config.routing,
      strategy,
      strategyName: name,
      trusted: this.builtins.has(name),
      strategyOptions: options.strategyOptions ? { ...base, ...options.strategyOptions } : base,
      request,
      stream,
      options,
      requestId,
      now: this.now,
      random: this.random,
      explain,
      embed,
      estimatedInputTokens,
      warn: this.warn,
    };
    if (preview) input.preview = true;
    if (internal || (options as InternalCallOptions)[UNRATED_CALL] === true) input.internal = true;
    // The default tenant's calls with and without its id are one tenant's (one round-robin turn, one embedding partition).
    if (!internal && options.tenant === undefined && this.config.version === 3 && this.config.defaultTenant !== undefined) input.tenant = this.config.defaultTenant;
    // Prompt-cache affinity (embeddings have no prompt cache): planRoute asks only under a spreading strategy with
    // several deployments of one model; then a request without marks or key costs one scan.
    if (embed === undefined && !internal && this.affinity.enabled) {
      input.affinity = (models, remember) => this.affinity.lookup(request, options.tenant ?? (this.config.version === 3 ? this.config.defaultTenant : undefined), options.model, models, remember, requestId);
    }
    return planRoute(input);
  }

  /**
   * The strategy a call is planned with (the call's, else its tenant's preference, else the router's). An unknown
   * name throws: `invalid_request` naming the call's `strategy`, or, for a tenant's preference (the server's
   * config, not the caller's fault), `config_invalid` naming the tenant's `preferences.strategy`.
   */
  private strategyOf(options: RouterCallOptions, view: TenantView | undefined): { name: string; strategy: Strategy } {
    const name = options.strategy ?? view?.config.preferences.strategy ?? this.strategyName;
    const strategy = this.strategies.get(name);
    if (!strategy) {
      if (options.strategy === undefined && view?.config.preferences.strategy !== undefined) {
        this.checkStrategyName(name, 'preferences.strategy', `config of tenant ${quoteName(view.config.id)}`);
      }
      throw new LLMError({ code: 'invalid_request', message: `Unknown strategy ${quoteName(name)}. Known: ${this.strategyNames().join(', ')}`, param: 'strategy' });
    }
    return { name, strategy };
  }

  /** `routing.options[name]`, plus `routing.weights` for balanced. Computed once per strategy. */
  private baseStrategyOptions(name: string): Record<string, unknown> {
    let o = this.strategyOptionsCache.get(name);
    if (!o) {
      const all = this.config.routing.options;
      o = { ...(Object.hasOwn(all, name) ? all[name] : {}) };
      if (name === 'balanced' && o['weights'] === undefined) o['weights'] = this.config.routing.weights;
      this.strategyOptionsCache.set(name, o);
    }
    return o;
  }

  /** A stream's route and plan of attempts: a promise only when the route is (an async strategy, a shared store). */
  private streamPlan(call: Call, options: GenerateOptions): { plan: ExecutionPlan; route: RoutePlan } | Promise<{ plan: ExecutionPlan; route: RoutePlan }> {
    const route = this.planFor(call.request, options, true, call.requestId, options.explain === true, undefined, inputTokensOf(call));
    return route instanceof Promise ? route.then((r) => ({ plan: this.executionPlan(call, r), route: r })) : { plan: this.executionPlan(call, route), route };
  }

  private executionPlan(call: Call, route: RoutePlan): ExecutionPlan {
    const routing = this.config.routing;
    const o = call.options;
    const t = o.timeouts;
    const attempts: AttemptRecord[] = [];
    call.attempts = attempts;
    return {
      requestId: call.requestId,
      request: call.request,
      estimatedInputTokens: route.estimatedInputTokens,
      order: route.order,
      forced: route.forced,
      retry: o.retries ? callRetries(routing.retries, o.retries) : routing.retries,
      hedging: routing.hedging,
      timeouts: (d) => ({
        firstTokenMs: t?.firstTokenMs ?? d.config.timeouts?.firstTokenMs ?? routing.timeouts.firstTokenMs,
        totalMs: t?.totalMs ?? d.config.timeouts?.totalMs ?? routing.timeouts.totalMs,
        consumerIdleMs: t?.consumerIdleMs ?? d.config.timeouts?.consumerIdleMs ?? routing.timeouts.consumerIdleMs,
      }),
      signal: this.callSignal(call),
      // (A call without a signal of the caller's: its attempts need no abort scope for the router's.)
      ownSignal: call.options.signal == null,
      alwaysScope: call.stream,
      embed: call.kind === 'embed',
      attempts,
      tenant: o.tenant ?? (this.config.version === 3 ? this.config.defaultTenant : undefined),
    };
  }

  /** The call's signal (`Call.link`), made with its plan: aborted at once when the router closed meanwhile. */
  private callSignal(call: Call): AbortSignal {
    call.link?.dispose();
    const link = new LinkedController(call.options.signal, true);
    call.link = link;
    if (this.closed) link.abort(closedError());
    return link.signal;
  }

  private buildResult(
    call: Call,
    d: RouterDeployment,
    answer: GenerateResult,
    plan: ExecutionPlan,
    route: Pick<RoutePlan, 'decision' | 'estimatedInputTokens'>,
    ttftMs: number | undefined,
  ): RouterResult {
    call.answeredBy = d;
    // A refusal is generated text too (the stream's accumulator counts it the same way).
    const usage = completeUsage(answer.usage, answer.refusal ? answer.text + answer.refusal : answer.text, answer.reasoning, answer.toolCalls, () =>
      route.estimatedInputTokens || inputTokensOf(call),
    );
    const result: RouterResult = {
      text: answer.text,
      toolCalls: answer.toolCalls,
      finishReason: answer.finishReason,
      usage,
      requestId: call.requestId,
      deployment: d.name,
      model: d.modelId,
      provider: d.provider,
      cost: computeCost(usage, d.price),
      latencyMs: elapsedMs(call.startedAt, this.now()),
      cached: false,
      attempts: plan.attempts,
    };
    if (answer.stopSequence !== undefined) result.stopSequence = answer.stopSequence;
    if (answer.refusal !== undefined) result.refusal = answer.refusal;
    if (answer.id !== undefined) result.id = answer.id;
    if (answer.providerModel !== undefined) result.providerModel = answer.providerModel;
    if (answer.reasoning !== undefined) result.reasoning = answer.reasoning;
    if (answer.reasoningParts !== undefined) result.reasoningParts = answer.reasoningParts;
    // The answering attempt's warnings only: an attempt that failed over did not answer (its warnings went with it).
    if (Array.isArray(answer.warnings) && answer.warnings.length > 0) result.warnings = answer.warnings;
    // Likewise its log probabilities (a failed-over or hedged-away attempt's never reach the result).
    if (Array.isArray(answer.logprobs)) result.logprobs = answer.logprobs;
    if (ttftMs !== undefined) result.timeToFirstTokenMs = ttftMs;
    if (route.decision) result.decision = route.decision;
    // A guard call the lookup paid before this answer was fetched is the call's spend too.
    if (call.guardCost) {
      result.cost = sumCost(result.cost, call.guardCost);
      result.guardCost = call.guardCost;
      if (call.guardUsage) result.guardUsage = call.guardUsage;
    }
    return result;
  }

  /**
   * What a cached answer is shared across: the tenant, and the deployments that could give it (`cacheMembers`:
   * those fit to serve the request in the tenant's view, narrowed to the requested `model` and the call's
   * `allowedModels`), each named with a version of what decides its answers (`name~<answerVersion>`). So an
   * answer is never served to a call restricted to other models, nor after `load`/`unload`/`setTenant` or a
   * config change alter the deployments that could answer. Throws for a call planning refuses on the same
   * grounds (`model_not_found` for a named model the call may not use; `invalid_request` for an unknown
   * tenant under `unknownTenant: 'reject'`); the lookup then steps aside so that planning gives its own error.
   */
  private cacheScope(call: Call): CacheScope {
    if (call.cacheScope) return call.cacheScope;
    const o = call.options;
    const view = this.tenantView(o.tenant);
    // A call planning would refuse for its strategy gets no cached answer either.
    this.strategyOf(o, view);
    const members = cacheMembers(view?.deployments ?? this.deployments, call.request, o, inputTokensOf(call));
    const scope: CacheScope = { models: members.map(memberScopeName) };
    const tenant = o.tenant ?? (this.config.version === 3 ? this.config.defaultTenant : undefined);
    if (tenant !== undefined) scope.tenant = tenant;
    call.cacheMembers = members;
    call.cacheScope = scope;
    return scope;
  }

  /**
   * A cached answer as a router result (cost 0: no provider was called, so no `warnings` either: the original
   * call's are not kept; a semantic hit let through by a model guard costs the guard's call), or undefined:
   * the exact cache first (when on, or asked for by the call), then the semantic cache (when on). A failing
   * cache is a miss (reported as `cache:error`), never a failed call.
   */
  private async cacheLookup(call: Call): Promise<RouterResult | undefined> {
    if (!call.cacheRead) return undefined;
    let scope: CacheScope;
    try {
      scope = this.cacheScope(call);
    } catch {
      // A call planning refuses (a named model the call may not use): no lookup, so no answer is served to it,
      // and planning, which runs next, fails it with the error it gives with the cache off (so an unknown
      // strategy, or a price file that failed to load, which planning reports first, is what the call gets).
      return undefined;
    }
    // No deployment could serve the call: nothing was stored for it (and planning fails it).
    if (call.cacheMembers!.length === 0) return undefined;
    let hit: CachedAnswer | undefined;
    let score: number | undefined;
    let guardCost: Cost | undefined;
    let guardUsage: Usage | undefined;
    if (this.config.cache.exact.enabled || call.options.cache !== undefined) {
      try {
        hit = await this.cache.lookup(call.request, scope);
      } catch (e) {
        this.cacheError('exact', e, call.requestId);
      }
    }
    // A cache-only call pays for nothing: the semantic cache only with a free embedder, and without a guard call.
    const only = call.options.cacheOnly !== undefined;
    if (!hit && this.semantic.enabled && (!only || this.semantic.freeEmbedding)) {
      // (The call takes the cost of a guard call that turns the match into a miss: `call.guardCost`.)
      const s = await this.semantic.lookup(call.request, scope, call.options.signal, call.requestId, call, only); // never throws
      if (s) {
        hit = s.answer;
        score = s.score;
        guardCost = s.guardCost;
        guardUsage = s.guardUsage;
      }
    }
    if (!hit) return undefined;
    const kind = score === undefined ? 'exact' : 'semantic';
    if (this.emitter.has('cache:hit')) {
      this.emitter.emit('cache:hit', { requestId: call.requestId, kind, deployment: hit.deployment, ...(score !== undefined ? { score } : {}) });
    }
    const result: RouterResult = {
      text: hit.text,
      toolCalls: hit.toolCalls,
      finishReason: hit.finishReason,
      usage: hit.usage,
      requestId: call.requestId,
      deployment: hit.deployment,
      model: hit.model,
      provider: hit.provider,
      cost: guardCost ? { ...guardCost } : { inputUsd: 0, outputUsd: 0, totalUsd: 0, estimated: false },
      latencyMs: elapsedMs(call.startedAt, this.now()),
      cached: kind,
      attempts: [],
    };
    if (score !== undefined) result.cacheScore = score;
    if (guardCost) {
      result.guardCost = guardCost;
      if (guardUsage) result.guardUsage = guardUsage;
      call.hitSpend = hitSpend(result);
    }
    if (hit.stopSequence !== undefined) result.stopSequence = hit.stopSequence;
    if (hit.refusal !== undefined) result.refusal = hit.refusal;
    if (hit.id !== undefined) result.id = hit.id;
    if (hit.reasoning !== undefined) result.reasoning = hit.reasoning;
    // Signed thinking blocks: the client's next turn must send them back (Anthropic refuses the turn otherwise).
    if (hit.reasoningParts !== undefined) result.reasoningParts = hit.reasoningParts;
    // Kept for a request that asked for them (the key separates such requests; the semantic cache skips them).
    if (hit.logprobs !== undefined) result.logprobs = hit.logprobs;
    return result;
  }

  /**
   * Whether a call with these options would be answered from the caches without a provider or guard call (the
   * prefetcher's check before it pays for a prefetch): the exact cache, then `SemanticCache.probe` (no guard
   * call, no semantic stats, no recency touch). No events; a call planning would refuse, or a failing cache, is false.
   */
  private async probeCache(input: GenerateRequest, options: GenerateOptions): Promise<boolean> {
    if (!this.cacheEnabled) return false;
    let request: GenerateRequest;
    try {
      request = normalizeRequest(input, options); // (as the call would: options may set request params)
    } catch {
      return false;
    }
    const call: Call = {
      requestId: options.requestId ?? '',
      request,
      options,
      stream: false,
      kind: 'generate',
      startedAt: this.now(),
      metadata: options.metadata ?? EMPTY,
      cacheRead: true,
      cacheWrite: false,
    };
    let scope: CacheScope;
    try {
      if (this.pricing) await this.pricing;
      scope = this.cacheScope(call);
    } catch {
      return false;
    }
    if (call.cacheMembers!.length === 0) return false;
    if (this.config.cache.exact.enabled) {
      try {
        if (await this.cache.lookup(request, scope)) return true;
      } catch (e) {
        this.cacheError('exact', e, undefined);
      }
    }
    return this.semantic.enabled && (await this.semantic.probe(request, scope, options.signal));
  }

  private async cacheStore(call: Call, result: RouterResult): Promise<void> {
    if (!call.cacheWrite || result.cached !== false || !STORABLE_FINISH.has(result.finishReason)) return;
    let scope: CacheScope;
    try {
      scope = this.cacheScope(call); // computed now when the call read no cache (`cache: 'refresh'`)
    } catch {
      return; // the model was unloaded or withdrawn from the tenant during the call: no scope to file it under
    }
    // Only under a scope covering the deployment that answered: a fallback's answer to a call for `model: X`
    // is not X's, and a deployment replaced during the call is not the one the scope names.
    if (call.answeredBy === undefined || !call.cacheMembers!.includes(call.answeredBy)) return;
    // Nor for a tenant deleted (its answers erased) while the call ran: both stores ask again after their own awaits.
    if (scope.tenant !== undefined && this.#erasedTenants.has(scope.tenant)) return;
    // Both at once: a store that stalls (each is bounded, `timeoutMs` of a Redis store) delays the call, and a
    // stream's finish part, by one bound, not the sum. A failing cache store never fails the call.
    const exact =
      this.config.cache.exact.enabled || call.options.cache !== undefined
        ? this.cache.store(call.request, scope, result, { erased: this.#isErased }).catch((e: unknown) => this.cacheError('exact', e, call.requestId))
        : undefined;
    if (this.semantic.enabled) await this.semantic.store(call.request, scope, result, this.#isErased, call.requestId); // never throws
    await exact;
  }
}

/** A caller-given name in an error message: quoted, cut to 100 characters (it may come from a header). */
/** Engines whose creation loads a model file in process. */
const IN_PROCESS_ENGINES: ReadonlySet<string> = new Set(['gguf', 'onnx']);

function quoteName(name: string): string {
  return name.length > 100 ? `${JSON.stringify(name.slice(0, 100))}... (${name.length} characters)` : `"${name}"`;
}

/**
 * Sets `info.embedDimensions` (`d`'s engine declares `embedDimensions`) and `info.embedTokens` (it has `embedTokens()`);
 * both false when it cannot be created. A model loaded in process (`gguf`, `onnx`: neither takes `dimensions` nor
 * token ids) is not created for this: `models()` must not load a model file.
 */
function embedForms(d: RouterDeployment, info: DeploymentInfo): void {
  info.embedDimensions = false;
  info.embedTokens = false;
  if (!d.engineCreated && IN_PROCESS_ENGINES.has(d.config.engine)) return;
  try {
    const engine = d.engine();
    info.embedDimensions = engine.embedDimensions === true;
    info.embedTokens = typeof engine.embedTokens === 'function';
  } catch {
    // Planned for no embed call.
  }
}
