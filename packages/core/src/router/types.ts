import type { Capability, ModelConfig, RetryConfig, TimeoutsConfig } from '../config/schema.js';
import type { LLMError } from '../errors/llm-error.js';
import type { GenerateRequest, GenerateResult, LanguageEngine, ModelPrice, StreamPart } from '../spec/index.js';

/** A configured model the router can send requests to: config + its engine (created on first use). */
export interface Deployment {
  readonly name: string;
  readonly config: ModelConfig;
  /** Price per 1M tokens: from config, else the shipped table, else undefined (cost then unknown = 0, marked). */
  readonly price: ModelPrice | undefined;
  readonly capabilities: ReadonlySet<Capability>;
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
  rank(ctx: StrategyContext): RankedCandidate[] | Promise<RankedCandidate[]>;
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
  /** Include the decision with candidates and scores in the result. */
  explain?: boolean;
  /** Capabilities the answer needs beyond those implied by the request (tools, json, vision are implied). */
  requiredCapabilities?: Capability[];
  region?: string;
  /** Tenant the call is made for (v3 configs: the tenant's allow-list and preferences apply). */
  tenant?: string;
  /** Only these deployments are allowed (tenant allow-list). */
  allowedModels?: readonly string[];
  headers?: Record<string, string>;
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
  price?: ModelPrice;
}

export interface RouteDecision {
  requestId: string;
  strategy: string;
  /** First choice. */
  selected: string;
  /** Deployment names in the order they would be tried (ranking, then fallbacks). */
  order: string[];
  candidates: CandidateExplanation[];
  excluded: Array<{ name: string; reason: string }>;
  /** One human sentence: why the first choice. */
  reason: string;
  /** Time the decision took, in microseconds. */
  decisionUs: number;
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
}

export interface RouterResult extends GenerateResult {
  requestId: string;
  /** Deployment (config model name) that answered. */
  deployment: string;
  /** Provider model id. */
  model: string;
  provider: string;
  cost: Cost;
  latencyMs: number;
  timeToFirstTokenMs?: number;
  cached: false | 'exact' | 'semantic';
  attempts: AttemptRecord[];
  decision?: RouteDecision;
}

/** Extra part a router stream yields before the engine's first part: which deployment is answering. */
export type RouterStreamPart =
  | StreamPart
  | { type: 'route'; requestId: string; deployment: string; model: string; provider: string; cached: false | 'exact' | 'semantic' };

export interface RouterStream extends AsyncIterable<RouterStreamPart> {
  readonly requestId: string;
  /** Resolves after the stream ends with the final result (usage, cost); rejects if it ended in error. */
  readonly result: Promise<RouterResult>;
}

export interface BatchOptions extends RouterCallOptions {
  concurrency?: number;
}

export type BatchItemResult = { ok: true; result: RouterResult } | { ok: false; error: LLMError };

/** Events for telemetry, metrics and ledgers. */
export interface RouterEvents {
  'request:start': { requestId: string; stream: boolean; metadata: Record<string, unknown> };
  'request:end': { requestId: string; stream: boolean; result?: RouterResult; error?: LLMError; metadata: Record<string, unknown> };
  'attempt:error': { requestId: string; deployment: string; attempt: number; error: LLMError };
  retry: { requestId: string; deployment: string; attempt: number; delayMs: number; error: LLMError };
  fallback: { requestId: string; from: string; to: string; error: LLMError };
  circuit: { deployment: string; from: 'closed' | 'open' | 'half-open'; to: 'closed' | 'open' | 'half-open' };
  'cache:hit': { requestId: string; kind: 'exact' | 'semantic'; deployment: string };
  hedge: { requestId: string; deployment: string };
}
export type RouterEventName = keyof RouterEvents;
