import type { CachedAnswer } from '../cache/exact-cache.js';
import type { CacheStore } from '../cache/cache-store.js';
import type { Capability, ModelConfig, RetryConfig, TimeoutsConfig } from '../config/schema.js';
import type { EngineFactory } from '../engines/types.js';
import type { LLMError } from '../errors/llm-error.js';
import type { PriceTable } from '../pricing/types.js';
import type { CallWarning, GenerateRequest, GenerateResult, LanguageEngine, ModelPrice, StreamPart, Usage } from '../spec/index.js';
import type { FetchFn } from '../util/http.js';
import type { CascadeInfo, CascadeRecord, CascadeStep, CascadeVerifier } from './cascade/types.js';
import type { PromptCacheAffinityStore } from './prompt-cache-affinity/affinity-store.js';
import type { CircuitStateStore } from './resilience/circuit-state-store.js';
import type { TokenCount } from './count-tokens.js';

/** A configured model the router can send requests to: config + its engine (created on first use). */
export interface Deployment {
  readonly name: string;
  readonly config: ModelConfig;
  /** Price per 1M tokens: from config, else the shipped table, else undefined (cost then unknown = 0, marked). */
  readonly price: Readonly<ModelPrice> | undefined;
  readonly capabilities: ReadonlySet<Capability>;
  /** The tenant owning this deployment (its own model, apart from another tenant's of the same name); undefined for a shared one. */
  readonly tenant?: string | undefined;
  /** The engine, created lazily (local engines load their model on first call). */
  engine(): LanguageEngine;
}

/** Live statistics per deployment (EWMA), fed by every attempt. */
export interface DeploymentStatsSnapshot {
  requests: number;
  failures: number;
  /** Exponentially weighted moving average of total latency (ms); undefined before the first success. */
  latencyMs: number | undefined;
  /** EWMA time to first token (ms), from streamed calls. */
  ttftMs: number | undefined;
  /** EWMA of failure (0..1). */
  errorRate: number;
  inFlight: number;
  circuit: 'closed' | 'open' | 'half-open';
  lastErrorCode?: string;
}

export interface StrategyContext {
  request: GenerateRequest;
  /** Deployments that can serve this request (capabilities, context window, enabled, allow-list, circuit not open). */
  candidates: readonly Deployment[];
  stats(name: string): DeploymentStatsSnapshot;
  /** Estimated prompt tokens and expected output tokens, for cost estimates. */
  estimatedInputTokens: number;
  expectedOutputTokens: number;
  random(): number;
  now(): number;
  /** `routing.options[strategyName]` from config merged with per-call options. */
  options: Record<string, unknown>;
  metadata: Record<string, unknown>;
  /** True for `stream()` calls (speed strategies then look at time to first token). */
  stream?: boolean;
  /** Capabilities the request needs (implied by it plus `requiredCapabilities`). */
  requiredCapabilities?: ReadonlySet<Capability>;
  /** Name of the strategy being run (handy for custom strategies registered under several names). */
  strategy?: string;
  /** Id of the call being routed (learning strategies link outcomes and feedback to it). */
  requestId?: string;
  /**
   * The tenant the call is made for (`RouterCallOptions.tenant`), absent for a call without one: a learning strategy
   * keeps what this tenant alone says (`adaptive`'s explicit feedback on shared deployments) for this tenant's calls.
   */
  tenant?: string;
  /**
   * True for `route()`: a preview that no call follows. A stateful strategy answers as its next call would be
   * routed but keeps its state as it was (round-robin does not advance; adaptive remembers no pending decision,
   * so previews neither skip a turn nor push real calls' decisions out before their feedback arrives).
   */
  preview?: boolean;
  /**
   * True for the router's own calls (the semantic cache's guard model and embeddings): no caller rates them and
   * their outcomes say little about live traffic, so a learning strategy neither remembers nor learns from them.
   */
  internal?: boolean;
  /**
   * Where a strategy that leaves candidates out (a constraint: `intelligent`'s `minQuality`, `maxCostUsd`,
   * `maxLatencyMs`) says why: it pushes `{ name, reason }` per candidate it drops (creating the array). `explain`
   * lists them in `excluded`, and the error when no candidate is ranked names them; a candidate left out without
   * a reason here is listed as left out by the strategy. `param` (core's name of a request field, e.g. `maxTokens`,
   * `messages`) says the request's own ask left the candidate out (its size puts its expected cost over `maxCostUsd`),
   * so a smaller request would be served: when that holds for every candidate (and every deployment excluded
   * before), the call is a 400 naming the field, not `no_deployment` (a 503 clients retry). Such a reason is shown
   * to every caller: it quotes only the config and the request.
   */
  leftOut?: Array<{ name: string; reason: string; param?: string }>;
  /**
   * Where a strategy tells the operator what a call cannot (a misconfiguration it works around: `intelligent`'s
   * strongShare that cannot be applied): the router's `RouterOptions.warn`, absent when none was given (then
   * `console.warn`). Not for per-call noise: warn once per condition.
   */
  warn?: (message: string) => void;
}

export interface RankedCandidate {
  deployment: Deployment;
  /** Higher is better, when the strategy scores. */
  score?: number;
  /** What went into the score, for `explain`. */
  factors?: Record<string, number>;
  note?: string;
}

/** Orders candidates, best first. May drop candidates it refuses. Sync for the built-ins (hot path). */
export interface Strategy {
  readonly name: string;
  readonly description?: string;
  /**
   * True when the strategy spreads calls over the deployments of one model (round robin, random, weights,
   * load, latency) rather than following a preference order: only then may prompt-cache affinity put the
   * deployment holding a request's cached prefix first. Built-ins that spread: `round-robin`, `random`,
   * `weighted`, `least-loaded`, `speed-priority`, `balanced`, `adaptive`. Custom strategies opt in here.
   */
  readonly spreads?: boolean;
  rank(ctx: StrategyContext): RankedCandidate[] | Promise<RankedCandidate[]>;
  /**
   * Checks the strategy's options from the config (`routing.options[name]`) when the router is built or the
   * strategy added: throw (an `LLMError` naming the option in `param`) and the router refuses the config with
   * `config_invalid` naming `routing.options.<name>.<param>`.
   */
  checkOptions?(options: Record<string, unknown>): void;
  /**
   * Loads what the strategy's config options name (`routing.options[name]`, `{}` when absent: a file such as
   * `intelligent`'s router model) when the router is built or the strategy added, in the background: `ready()` (and
   * `fromConfig`) rejects with its error, as `config_invalid` naming `routing.options.<name>.<param>` (an error that
   * is `config_invalid` already is kept). Calls do not wait for it: the strategy shares the load with them.
   */
  prepare?(options: Record<string, unknown>): Promise<void> | void;
  /**
   * Called when the router forgets a tenant (`LLMRouter.forgetTenant`, for a deleted tenant): drop what was learned
   * about it (its own deployments' models, its feedback, its calls' pending decisions). Not called by `removeTenant`.
   */
  forgetTenant?(tenant: string): void;
}

export interface RouterCallOptions {
  /** A deployment name or alias: restricts candidates to it (then fallbacks apply). */
  model?: string;
  strategy?: string;
  /** Extra options for the strategy (merged over `routing.options[strategy]`). */
  strategyOptions?: Record<string, unknown>;
  timeouts?: TimeoutsConfig;
  retries?: Partial<RetryConfig>;
  /** Replaces the configured fallback list for this call. */
  fallbacks?: string[];
  metadata?: Record<string, unknown>;
  /** Caller-chosen id (idempotency, tracing); generated when absent. */
  requestId?: string;
  signal?: AbortSignal;
  /** `false` bypasses the cache; `'refresh'` skips lookup but stores. Default: as configured. */
  cache?: boolean | 'refresh';
  /**
   * Answers the call only from the router's caches, with no paid call: the exact cache, then the semantic cache when
   * its embedder costs nothing (`local-use`), where a match the guard would judge is a miss (no guard call). No
   * provider is called: a miss (a cascade's call too, a call that reads no cache, an `embed` call: embeddings are not
   * cached) rejects with this error, the reason no model may be asked (the gateway's `budget_exceeded` for a tenant
   * whose budget cannot cover a call: a cached answer costs nothing). A hit is the call's result as usual (cost 0).
   * An `embed` call is planned first: input no deployment can take rejects with its own 400 instead.
   */
  cacheOnly?: LLMError;
  /** Include the decision with candidates and scores in the result. */
  explain?: boolean;
  /** Capabilities the answer needs beyond those implied by the request (tools, json, vision are implied). */
  requiredCapabilities?: Capability[];
  region?: string;
  /** Only these deployments are allowed (tenant allow-list). */
  allowedModels?: readonly string[];
  /** Tenant the call is made for: scopes the cache (answers are never shared across tenants); in v3 configs the tenant's allow-list and preferences apply. */
  tenant?: string;
  headers?: Record<string, string>;
  /**
   * Called before an attempt that follows attempts which failed after their provider reported usage (billed for it):
   * a stream's before their first content part (see `RouterStream.spent`), a `generate`'s whose error carried the
   * usage its provider billed (`REPORTED_USAGE`: a Gemini failed tool call), with what the attempts billed since the
   * previous call (or since the start) cost, at their deployments' prices. A consumer that reserved the cost of one
   * call (a budget) extends its reservation by it here. While it is pending, every attempt that starts (a hedge
   * lane's too) waits for it. A rejection ends the call with that error (as an `LLMError`): no further attempt is
   * sent. Not called when no attempt was billed.
   */
  beforeAttemptAfterSpend?: (billed: Cost) => Promise<void> | void;
}

/** What `LLMRouter.embed` takes: one text, texts, or token ids (one array of them, or one array per input). */
export type RouterEmbedInput = string | readonly string[] | readonly number[] | readonly (readonly number[])[];

/** Options of `LLMRouter.embed`: routing options plus the vectors' length. */
export interface RouterEmbedOptions extends RouterCallOptions {
  /**
   * The vectors' length (OpenAI's `dimensions`), for models that can shorten theirs: only deployments whose engine
   * declares it (`embedDimensions`) are asked, and an answer of another length fails. Absent: the model's own.
   */
  dimensions?: number;
  /**
   * End-user id (OpenAI's `user`), passed to providers that accept one, as `GenerateRequest.user` on chat; a
   * deployment that cannot send it answers anyway, with a `setting_not_sent` warning (`RouterEmbedResult.warnings`).
   */
  user?: string;
}

/** Request fields other than `messages`, accepted next to the routing options by `generate`/`chat`/`stream`. */
export type RequestParams = Omit<GenerateRequest, 'messages'>;

/** Options of `generate`, `chat`, `stream`, `quick`: routing options plus request parameters. */
export interface GenerateOptions extends RouterCallOptions, RequestParams {}

export interface RouteOptions extends RouterCallOptions, RequestParams {
  /** Plan for a streaming call (implies the `streaming` capability). */
  stream?: boolean;
}

/** A prompt, a full request, or (for `chat`) a message list. */
export type PromptOrRequest = string | GenerateRequest;

export type BatchItem = PromptOrRequest | { prompt: PromptOrRequest; options?: GenerateOptions };

/** Runtime seams and extras for `new LLMRouter(config, options)`. */
export interface RouterOptions {
  fetch?: FetchFn;
  /** Clock in milliseconds (stats, circuit breakers). Default `Date.now`. */
  now?: () => number;
  /** Uniform [0,1) random (jitter, random/weighted strategies). Default `Math.random`. */
  random?: () => number;
  generateId?: () => string;
  /** Waits between retries and before hedges. Default: a timer that the signal cancels. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Directory that relative model `path`s resolve against when the config has no `modelsDir` (and that a
   * relative `modelsDir` is relative to). Default: the current working directory.
   */
  baseDir?: string;
  /** Pre-built engines by deployment name (tests, custom wiring); they win over `engine` factories. */
  engines?: Readonly<Record<string, LanguageEngine>>;
  /** Engine factories for this router only, by engine kind (over the global `registerEngine` ones). */
  engineFactories?: Readonly<Record<string, EngineFactory>>;
  /** Custom strategies available from the start (so `routing.strategy` may name one). */
  strategies?: Readonly<Record<string, Strategy | StrategyFn>>;
  /** Called when an event listener throws (listener errors never break a request). */
  onListenerError?: (error: unknown, event: string) => void;
  /**
   * Told what the router's parts report outside any call, once (the SQLite semantic-cache store: rows cut at open to
   * fit `cache.semantic.maxEntries`/`maxSizeBytes`, the first failed flush of pending hits, hits not written at
   * close; `intelligent`'s one-time warnings, as `StrategyContext.warn`; a `RedisCircuitStateStore` given as
   * `circuitStore` without its own `onError`: its Redis errors, at most every 30 s). A server passes its log here
   * (the gateway server logs them at level `warn`, the `llmrr` CLI writes them to stderr). Default: `console.warn`.
   */
  warn?: (message: string) => void;
  /** Exact-cache store (default: in memory, sized by `cache.exact`), e.g. a Redis-backed one. */
  cacheStore?: CacheStore<CachedAnswer>;
  /**
   * Where the deployments' circuit breakers keep their state. Default: in memory, per router. A
   * `RedisCircuitStateStore` shares open / half-open / closed between every router (process) on it.
   * The router does not close it (its owner does).
   */
  circuitStore?: CircuitStateStore;
  /**
   * Where prompt-cache affinity remembers which deployment served a cached prefix (`routing.promptCacheAffinity`).
   * Default: in process (`MemoryAffinityStore`, `maxEntries` keys); several processes agree only through a shared store.
   */
  promptCacheAffinityStore?: PromptCacheAffinityStore;
  /** Smoothing factor of the EWMA statistics, in (0,1]. Default 0.2. */
  statsAlpha?: number;
  /** Half-life (ms) with which an idle deployment's error rate decays toward 0. Default 60 000. */
  errorRateHalfLifeMs?: number;
  /**
   * Prices for deployments without a configured `price` (e.g. from `loadPriceTable`). Default: the shipped
   * table, with the file named by `LLMRR_PRICES_FILE` (in `env`) merged over it once loaded (see `ready()`).
   */
  priceTable?: PriceTable;
  /**
   * Calls naming a tenant the router does not know (not in a v3 config's `tenants`, nor added with
   * `setTenant`): `'reject'` them with `invalid_request` (param `tenant`), or serve them the `'shared'`
   * deployments, as for a call without a tenant. Default: `'reject'` for a v3 config, `'shared'` for v2
   * (which has no tenants of its own). A gateway whose tenants are created at runtime wants `'shared'`.
   */
  unknownTenant?: UnknownTenantPolicy;
  /**
   * The operator's secret keying the tenant-scoped end-user ids and prompt-cache keys a deployment on the operator's
   * account receives on a tenant's call (`tenantScopedId(tenant, value, secret)`: HMAC-SHA256 of `tenant + "\0" +
   * value` keyed by it). Unset: keyed by the tenant id, which is not secret (anyone knowing the tenant id can check a
   * guessed end-user id against a scoped one, and a tenant id used again inherits the old one's ids). Changing it
   * makes every end user a new one to the providers. Never logged. The gateway server reads
   * `LLMRR_END_USER_ID_SECRET`.
   */
  endUserIdSecret?: string;
  /**
   * Custom cascade verifiers by name, for `routing.cascades[].verifier`: `(request, weakResult) => score`,
   * higher meaning the weak answer looks wrong (the cascade escalates at or above its `threshold`).
   */
  verifiers?: Readonly<Record<string, CascadeVerifier>>;
}

/** What a router does with a call naming a tenant it does not know (see `RouterOptions.unknownTenant`). */
export type UnknownTenantPolicy = 'reject' | 'shared';

/** Options of `LLMRouter.setTenant`. */
export interface SetTenantOptions {
  /**
   * False for models a tenant brings (the gateway's admin API): an own model's engine reads only the environment
   * variable the model names by `apiKeyEnv` (the operator's way to keep a tenant's upstream key out of the tenant
   * record), never one of its own choosing (a preset's key such as `OPENAI_API_KEY`, `AZURE_OPENAI_ENDPOINT`), so
   * each model carries its `apiKey` or `apiKeyEnv`, and its `baseURL`; none gets a pre-built engine of
   * `RouterOptions.engines`. Default true (the router's `env`). False also makes the models that name no `apiKeyEnv`
   * the tenant's own provider account: they get end-user ids and prompt-cache keys as sent; a model naming `apiKeyEnv`
   * (its variable may hold the operator's key) and every model on the router's `env` (which may use the operator's
   * keys) get them tenant-scoped (`tenantScopedId`). A model given the operator's key or `baseURL` literally cannot be
   * told apart from the tenant's own and gets them as sent.
   */
  useEnv?: boolean;
  /**
   * The tenant's incarnation (the gateway passes its `createdAt`): its own models' circuits are keyed by it, so a
   * tenant created again under the id (another customer) starts with closed circuits in a shared circuit store
   * (Redis), not with the old one's. A `setTenant` with another incarnation also makes its own models anew (new stats).
   * Default: none (keyed by the tenant id, the model name and its config's `circuitFingerprint`).
   */
  incarnation?: string | number;
  /**
   * Own models (by name) whose secrets are not set, with the fields to set (e.g. `apiKey`): listed and planned as
   * any other, but each call of one fails at once with `no_deployment` (503) naming the model and the fields, before
   * any request goes out (never a call without its key). The gateway passes the fields a tenant store holds as its
   * redaction placeholder.
   */
  unsetSecrets?: Readonly<Record<string, readonly string[]>>;
}

/** A strategy given as a bare function. */
export type StrategyFn = (ctx: StrategyContext) => RankedCandidate[] | Promise<RankedCandidate[]>;

/** One live deployment's circuit, as `circuits()` lists it. */
export interface DeploymentCircuitInfo {
  deployment: string;
  /** The tenant owning the deployment (its own model); absent for a shared deployment. */
  tenant?: string;
  state: 'closed' | 'open' | 'half-open';
}

/** What `models()` reports per deployment. */
export interface DeploymentInfo {
  name: string;
  engine: string;
  model: string;
  alias?: string;
  enabled: boolean;
  config: ModelConfig;
  capabilities: Capability[];
  /** The price the router bills with (frozen: editing it throws in strict code and never reprices the deployment). */
  price?: Readonly<ModelPrice>;
  /** True when the price was not configured: it came from the shipped table (or is 0 for a local engine). */
  priceFromTable: boolean;
  stats: DeploymentStatsSnapshot;
  /** The tenant owning the deployment (one of its own models, `setTenant` / a v3 config); absent for a shared deployment. */
  tenant?: string;
  /**
   * For a deployment with the `embeddings` capability: whether its engine declares `embedDimensions` (takes an `embed`
   * call's `dimensions`; the router leaves the others out of such a call's plan). Absent for the others.
   */
  embedDimensions?: boolean;
  /**
   * For a deployment with the `embeddings` capability: whether its engine has `embedTokens()` (takes token ids as an
   * `embed` call's input; the router leaves the others out of such a call's plan). Absent for the others.
   */
  embedTokens?: boolean;
  /**
   * Set for a cascade (`routing.cascades`), a virtual model with engine `cascade`: its definition. Its
   * `price` is the sum of its two models' prices, its `stats` the weak model's.
   */
  cascade?: CascadeInfo;
}

export interface CandidateExplanation {
  name: string;
  model: string;
  engine: string;
  rank: number;
  score?: number;
  factors?: Record<string, number>;
  note?: string;
  stats: DeploymentStatsSnapshot;
  price?: Readonly<ModelPrice>;
  /** The tenant owning the deployment (one of its own models); absent for a shared deployment. */
  tenant?: string;
}

/** A deployment a decision left out (`RouteDecision.excluded`), and why. */
export interface RouteExclusion {
  name: string;
  /** One human phrase. Those of kind `saturated` and `circuit` quote the deployment's traffic (in-flight counts, its last error). */
  reason: string;
  /**
   * What left it out: `unfit` (its config cannot serve the request: disabled, capabilities, region, context window,
   * its engine not created), `saturated` (at a concurrency or rate limit), `circuit` (its circuit is open: `circuit`
   * holds the state) or `strategy` (the strategy did not rank it; the strategy's reason).
   */
  kind: 'unfit' | 'saturated' | 'circuit' | 'strategy';
  /** With kind `circuit`: the circuit's state. */
  circuit?: 'closed' | 'open' | 'half-open';
  /**
   * Set when the deployment's engine refuses the request before sending anything (`LanguageEngineV1.refusal`: a final
   * assistant message Mistral or a recent Gemini model refuses, an author name OpenAI refuses; kind `unfit`, the
   * refusal's words as `reason`): `unsupported` and the refused request field (`messages.1`), as the call's error
   * names them when no deployment is left.
   */
  code?: 'unsupported';
  param?: string;
  /** The tenant owning the deployment (one of its own models); absent for a shared deployment. */
  tenant?: string;
}

export interface RouteDecision {
  requestId: string;
  strategy: string;
  /** First choice. */
  selected: string;
  /** Deployment names in the order they would be tried (ranking, then fallbacks). */
  order: string[];
  candidates: CandidateExplanation[];
  excluded: RouteExclusion[];
  /** One human sentence: why the first choice. */
  reason: string;
  /** Time the decision took, in microseconds. */
  decisionUs: number;
  /** Prompt-cache affinity, for a request with cache marks or a `promptCacheKey` (affinity on). */
  affinity?: RouteAffinity;
}

/** What prompt-cache affinity did for one decision. */
export interface RouteAffinity {
  /** What keyed the request: its `promptCacheKey`, or its marked prompt prefixes. */
  source: 'promptCacheKey' | 'prefix';
  /** The deployment remembered for the request's key or longest known prefix. */
  remembered?: string;
  /** True when affinity put `remembered` ahead of the strategy's first choice. */
  applied: boolean;
}

export interface Cost {
  inputUsd: number;
  outputUsd: number;
  totalUsd: number;
  /** True when the price or the token counts were not known exactly. */
  estimated: boolean;
}

export interface AttemptRecord {
  deployment: string;
  attempt: number;
  ok: boolean;
  errorCode?: string;
  latencyMs: number;
  /** Hedged attempt. */
  hedge?: boolean;
  /**
   * A failure the router counted against the deployment (a strike on its circuit, a failure in its error rate).
   * Absent on a success and on a failure that was not the deployment's fault: the caller's abort or deadline, a
   * stream its consumer abandoned, a fault of the request, an `unsupported` refusal, a failure before the provider
   * was asked. Learning strategies (`adaptive`) learn a failure only from these.
   */
  strike?: boolean;
  /**
   * The deployment was skipped: its engine refused the request before sending anything (`LanguageEngineV1.refusal`,
   * `errorCode` `unsupported`). No request was sent, so nothing counts it as one (the prefetch idle gate's rpm
   * estimate, OpenTelemetry's `llmrr.attempts`).
   */
  skipped?: boolean;
}

/** A stream attempt that failed after its provider reported usage (see `RouterResult.failedAttempts`). */
export interface FailedAttemptSpend {
  /** Deployment (config model name) the attempt was on. */
  deployment: string;
  /** Provider model id. */
  model: string;
  provider: string;
  /** What the provider reported before the attempt failed (the prompt, as Anthropic's `message_start` says it). */
  usage: Usage;
  /** `usage` at the deployment's price. */
  cost: Cost;
}

export interface RouterResult extends GenerateResult {
  requestId: string;
  /** Deployment (config model name) that answered. */
  deployment: string;
  /** Provider model id. */
  model: string;
  provider: string;
  /**
   * What the call cost: the answering call's tokens at its deployment's price, plus the semantic cache's guard
   * call made for it (`guardCost`); on a cascade, both steps' (and a verifier's reported cost).
   */
  cost: Cost;
  /**
   * The part of `cost` paid for the semantic cache's guard call(s) (`guardModel`), when the lookup made one that
   * reported a cost: all of `cost` on a hit the guard let through; on a miss the guard caused (`verify` said NO, a
   * rewrite was incomplete), the guard's call on top of the answering call's. The guard call also has its own
   * `request:end` (marked `llmrr.semanticGuard`): a sum over `request:end` events subtracts this to count it once.
   */
  guardCost?: Cost;
  /**
   * The tokens of those guard call(s) (`guardModel`'s, at its price), when they reported them with their cost: not
   * in `usage`, which is the answer's (the cached answer's on a hit), so a consumer that counts every token paid for
   * (a ledger, a tokens-per-minute limit) adds them. On a cascade, both steps' guard calls (a verifier reports no tokens).
   */
  guardUsage?: Usage;
  /**
   * The part of `cost` paid for stream attempts that failed before their first content part after their provider
   * reported usage (a cut after Anthropic's `message_start`, which reports the prompt: the provider bills it), when
   * a later attempt (a retry, a fallback) or another hedge lane answered; at the failed deployments' prices: a
   * streamed hedge lane the router cancelled because another lane answered is in it when it had reported usage
   * before (its prompt, in Anthropic's `message_start`). For a non-streamed call, an answer another lane completed in
   * the same turn as the winner's, before the router could cancel it (billed: its reported usage, at its deployment's
   * price); a non-streamed lane cancelled in time reported nothing and is in neither; and a non-streamed attempt
   * whose provider answered and billed what is no usable answer (a Gemini failed tool call: its error's
   * `REPORTED_USAGE`), when a retry or fallback answered. A cut or unparseable body reports no usage (and is never
   * sent again). On a call that fails, a `generate`'s error carries that spend under `REFUSED_ANSWER`.
   */
  failedAttemptsCost?: Cost;
  /**
   * The tokens of those attempts (`failedAttemptsCost`): not in `usage`, which is the answer's, so a consumer that
   * counts every token paid for (a ledger, a tokens-per-minute limit) adds them, as it adds `guardUsage`.
   */
  failedAttemptsUsage?: Usage;
  /**
   * Each of those attempts (`failedAttemptsCost`, `failedAttemptsUsage` are their sums), in the order they failed,
   * with the deployment it was on: for a consumer that counts spend per deployment or provider (the gateway's
   * `model=` metrics), which would otherwise put them under the deployment that answered. Set with them only.
   */
  failedAttempts?: FailedAttemptSpend[];
  latencyMs: number;
  timeToFirstTokenMs?: number;
  cached: false | 'exact' | 'semantic';
  /** For a semantic-cache hit: cosine similarity of the question and the cached question. */
  cacheScore?: number;
  attempts: AttemptRecord[];
  decision?: RouteDecision;
  /**
   * What the deployment that answered did not do as asked (see `CallWarning`), when it said anything: the
   * answering attempt's only (attempts that failed over did not answer; their warnings are not kept). Absent
   * on a cache hit (no provider was called, and the original call's warnings are not stored). On a cascade:
   * the answering step's (`cascade.weak.warnings` / `cascade.strong.warnings` keep each step's own). A stream
   * carries the same list as its `warnings` part, before its first content part.
   */
  warnings?: CallWarning[];
  /**
   * Set when the call named a cascade: the weak step, the verifier's score, whether it escalated, the strong
   * step. `usage`, `cost` and `attempts` then cover both calls.
   */
  cascade?: CascadeRecord;
}

/** Extra part a router stream yields before the engine's first part: which deployment is answering. */
export type RouterStreamPart =
  | StreamPart
  | {
      type: 'route';
      requestId: string;
      deployment: string;
      model: string;
      provider: string;
      cached: false | 'exact' | 'semantic';
      /** For a semantic-cache hit: the similarity score. */
      cacheScore?: number;
      /**
       * A live answer's: the price of the deployment answering, as it was when the router chose it (its config's, else
       * the price table's row; absent when it has none): what a consumer bills a stream that breaks off or is abandoned
       * with, whatever the deployment's config (a tenant's models changed or removed, the tenant deleted) says by then.
       */
      price?: Readonly<ModelPrice>;
    };

export interface RouterStream extends AsyncIterable<RouterStreamPart> {
  readonly requestId: string;
  /**
   * Resolves after the stream ends with the final result (usage, cost); rejects if it ended in error. Awaiting it (a
   * fulfilment handler: `await`, `.then(fn)`; not `.catch`) before the stream is iterated makes the router read the
   * stream to its end (the router's own streams), so `await router.stream(p).result` settles; an iterator asked for
   * later still gets every part (those read meanwhile first).
   */
  readonly result: Promise<RouterResult>;
  /**
   * What calls this stream has already completed cost, for billing a stream that fails or is abandoned
   * (a cascade's weak step and its verifier's reported cost; a semantic guard call the lookup paid before the
   * answer was fetched: its cost, with no tokens in `usage` but in `guardUsage`). `replay: true`: the parts being streamed are that answer
   * replayed (it was paid in full, nothing more to estimate); `false`: they come from a further call (the
   * strong step, the model after the guard), whose own partial use is on top. The router's streams count here too
   * the attempts that failed before their first content part after their engine reported usage (a cut after
   * Anthropic's `message_start`, which reports the prompt): the provider billed that prompt; its cost is at the
   * failed deployment's price (`replay: false`). When another attempt then answers, `.result`'s cost has them too
   * (`failedAttemptsCost`, their tokens in `failedAttemptsUsage`). So do the hedge lanes the router cancelled after
   * they had reported usage, whether another lane answered (a hedge loser: `.result` waits the turn or two they take
   * to end) or the call failed. Undefined while nothing was spent.
   */
  spent?(): StreamSpend | undefined;
  /**
   * Ends the stream now, from outside its iteration (a pull may be waiting): the attempts in flight are
   * cancelled (their upstream requests aborted; before the first content every attempt, hedges included),
   * `.result` rejects with `aborted` (`reason` as its `cause`), and a waiting or later pull gets the end.
   * Needs no `AbortSignal` of the caller's. After the stream ended (or was closed) it does nothing. Optional
   * for other implementations; the router's own streams (cascades included) have it.
   */
  cancel?(reason?: unknown): void;
}

/** See `RouterStream.spent`. */
export interface StreamSpend {
  /** The completed answers' tokens (a cascade's weak step; a replayed hit's answer): what the answer reports. */
  usage: Usage;
  cost: Cost;
  replay: boolean;
  /**
   * The tokens of the semantic guard calls in `cost` (`RouterResult.guardUsage`), when they reported them: not in
   * `usage`, so a consumer that counts every token paid for adds them.
   */
  guardUsage?: Usage;
  /**
   * The part of `cost` paid for semantic guard calls (`RouterResult.guardCost`), apart from what failed attempts had
   * reported paid: a cascade passes only this on as its strong step's guard spend.
   */
  guardCost?: Cost;
  /**
   * The failed attempts among what `cost` and `usage` hold (`RouterResult.failedAttempts`), each with its deployment,
   * when there were any.
   */
  failedAttempts?: FailedAttemptSpend[];
  /**
   * The tokens of a cascade verifier's judgement in `cost` (`CascadeVerdict.usage`), when it reported them: not in
   * `usage`, so a consumer that counts every token paid for adds them, as it adds `guardUsage`.
   */
  verifierUsage?: Usage;
  /**
   * A cascade stream's weak step, once it answered (its `CascadeStep`: its deployment, whether the router cache answered
   * it, its own usage and cost, the part of that cost its failed attempts and hedge lanes took): what `usage` and
   * `cost` hold of it, for a consumer that counts spend per deployment (the gateway's `model=` metrics).
   */
  weakStep?: CascadeStep;
}

/** What `LLMRouter.embed` resolves to. */
export interface RouterEmbedResult {
  /** One vector per input, in input order. */
  embeddings: number[][];
  /** Input tokens (`outputTokens` 0); `estimated` when the provider reported none. */
  usage: Usage;
  requestId: string;
  /** Deployment (config model name) that answered. */
  deployment: string;
  /** Provider model id. */
  model: string;
  provider: string;
  /**
   * Input tokens x the deployment's input price; with hedging, plus the answers other lanes lost after their provider
   * billed them (vectors not `dimensions` long: `failedAttemptsCost`).
   */
  cost: Cost;
  /**
   * The part of `cost` paid for answers the router refused on other hedge lanes (their vectors were not `dimensions`
   * long; their providers billed them), and for answers other lanes completed in the same turn as this one, before the
   * router could cancel them, at their deployments' prices. Absent when none.
   */
  failedAttemptsCost?: Cost;
  /** The tokens of those answers: not in `usage`, which is the answer's (a ledger adds them, as `RouterResult`'s). */
  failedAttemptsUsage?: Usage;
  /** Each of those answers with its deployment (`failedAttemptsCost`, `failedAttemptsUsage` are their sums). */
  failedAttempts?: FailedAttemptSpend[];
  latencyMs: number;
  attempts: AttemptRecord[];
  /** What the answering deployment did not do as asked (`setting_not_sent` `user`); absent when it did everything. */
  warnings?: CallWarning[];
  /** With `explain: true`. */
  decision?: RouteDecision;
}

/** What a `request:start` / `request:end` event is about. */
export type RouterRequestKind = 'generate' | 'stream' | 'embed';

export interface BatchOptions extends RouterCallOptions {
  concurrency?: number;
}

export type BatchItemResult = { ok: true; result: RouterResult } | { ok: false; error: LLMError };

/** Events for telemetry, metrics and ledgers. */
export interface RouterEvents {
  /** `kind` is always set by `LLMRouter` (`stream` stays for older listeners). */
  'request:start': {
    requestId: string;
    stream: boolean;
    kind?: RouterRequestKind;
    metadata: Record<string, unknown>;
    /** The normalized request (generate and stream calls; not for `embed`). Set when there are listeners. */
    request?: GenerateRequest;
    /** The model (deployment name or alias) the caller asked for, when it named one. */
    model?: string;
    /** The strategy the call is ranked with: call option, else the tenant's preference, else the router's default. */
    strategy?: string;
  };
  /** `result` for generate and stream calls, `embedResult` for `embed`. */
  'request:end': {
    requestId: string;
    stream: boolean;
    kind?: RouterRequestKind;
    result?: RouterResult;
    embedResult?: RouterEmbedResult;
    error?: LLMError;
    /** On failure: the attempts made before it (on success they are in the result). */
    attempts?: AttemptRecord[];
    /**
     * On failure, when something was paid for (set when there are listeners): a stream's partial answer (a consumer
     * that went away, an upstream that broke off: the reported usage, else the output estimated from what came, at the
     * answering deployment's price), attempts that failed after their provider billed them, a semantic guard call.
     */
    spent?: StreamSpend;
    metadata: Record<string, unknown>;
  };
  /**
   * A call on a cascade (`routing.cascades`) started: one event for the caller's request (`requestId`, the model it
   * asked for: the cascade's `name`), whose steps are ordinary calls with their own `request:start` and `request:end`
   * (request ids `<requestId>:weak` and `<requestId>:strong`, `metadata.cascade` and `metadata.cascadeStep`). Sent only
   * when there are listeners; a stream's when it is created, as a router stream's `request:start`. `request`: the
   * normalized request, when it is valid.
   */
  'cascade:start': { requestId: string; stream: boolean; name: string; metadata: Record<string, unknown>; request?: GenerateRequest };
  /** The cascade call ended: its result (both steps' usage and cost, `result.cascade`), or its error. */
  'cascade:end': { requestId: string; stream: boolean; name: string; metadata: Record<string, unknown>; result?: RouterResult; error?: LLMError };
  'attempt:error': { requestId: string; deployment: string; attempt: number; error: LLMError };
  retry: { requestId: string; deployment: string; attempt: number; delayMs: number; error: LLMError };
  fallback: { requestId: string; from: string; to: string; error: LLMError };
  /** `tenant`: the tenant owning the deployment (its own model, which may share a shared deployment's name); absent for a shared one. */
  circuit: { deployment: string; tenant?: string; from: 'closed' | 'open' | 'half-open'; to: 'closed' | 'open' | 'half-open' };
  /** `score`: the similarity of a semantic hit. */
  'cache:hit': { requestId: string; kind: 'exact' | 'semantic'; deployment: string; score?: number };
  /**
   * A cache that cannot be built (bad store URL) or a lookup/store that failed: the call went on uncached. `affinity`: a
   * prompt-cache affinity store or hashing failure (the call routed without affinity). `requestId`: the call that met
   * it (for a semantic cache that cannot be built, the call whose lookup built it); absent for a prefetch's probe.
   */
  'cache:error': { kind: 'exact' | 'semantic' | 'affinity'; error: LLMError; requestId?: string };
  hedge: { requestId: string; deployment: string };
  /**
   * A token count (`countTokens`) started: no model call, no `request:start`. `requestId` and `metadata` are the count's
   * options' (an id generated when absent); `model` the model (name, alias or cascade) it was asked for. Sent only when
   * there are listeners (of this event or `count:end`).
   */
  'count:start': { requestId: string; metadata: Record<string, unknown>; model?: string };
  /**
   * The token count ended: its `result`, or its `error`; `provider` is the counting deployment's (once it was chosen).
   */
  'count:end': { requestId: string; metadata: Record<string, unknown>; provider?: string; result?: TokenCount; error?: LLMError };
}
export type RouterEventName = keyof RouterEvents;
