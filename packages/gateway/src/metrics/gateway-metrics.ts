import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallWarning } from '@llmrr/core';
import { BufferedCounter } from './buffered-counter.js';
import type { GatewayMetricsOptions, GatewayRouter } from '../types.js';

/** What one finished model request reports to metrics. */
export interface RequestObservation {
  /** Deployment that answered, else the requested model if it exists, else `unknown`. */
  model: string;
  tenant: string;
  /** `success`, or the LLMError code (`rate_limited`, `invalid_request`, `provider_error`, `aborted`, ...). */
  status: string;
  durationMs: number;
  ttftMs?: number;
  inputTokens?: number;
  outputTokens?: number;
  /** Input tokens read from the provider's prompt cache (part of `inputTokens`). */
  cachedInputTokens?: number;
  /** Input tokens written to the provider's prompt cache (part of `inputTokens`). */
  cacheWriteInputTokens?: number;
  costUsd?: number;
  cached?: false | 'exact' | 'semantic';
}

/**
 * Spend made on a tenant's behalf with no client request: a predictive-cache prefetch (`cache.predictive`),
 * which the ledger, budget and invoice bill to the tenant. It adds to the cost and token counters only.
 */
export type SpendObservation = Pick<RequestObservation, 'model' | 'tenant' | 'costUsd' | 'inputTokens' | 'outputTokens' | 'cachedInputTokens' | 'cacheWriteInputTokens'>;

/** What one finished token count (`POST /v1/messages/count_tokens`, `POST /v1/responses/input_tokens`) reports to metrics. */
export interface TokenCountObservation {
  /** Deployment that counted, else the requested model, else `unknown`. */
  model: string;
  tenant: string;
  /** `success`, or the LLMError code. */
  status: string;
  /** `exact` or `estimate` on success; `none` on an error. */
  kind: 'exact' | 'estimate' | 'none';
  /** The route's path: `/v1/messages/count_tokens` or `/v1/responses/input_tokens` (the ledger's `metadata.endpoint`). */
  endpoint: string;
}

/** Distinct warning codes counted under their own label; later new codes (and ones that are not snake_case) count as `other`. */
export const WARNING_CODES_MAX = 32;

/** The codes core's engines use (`CallWarning`): always their own label, whatever came before. */
const BUILT_IN_WARNING_CODES = ['setting_not_sent', 'setting_changed', 'cache_control_dropped', 'cache_control_changed', 'system_message_hoisted'];

const SNAKE_CASE = /^[a-z][a-z0-9_]{0,63}$/;

/** `llm_circuit_state`'s value per state. */
const CIRCUIT_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * Histogram buckets, seconds. Up to 30 minutes: a long stream or a reasoning model's answer takes minutes, and with
 * a last bucket of 120 s every quantile above it read 120 (`histogram_quantile` cannot go past the last finite bound).
 */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/**
 * The gateway's Prometheus metrics (prom-client), fed by each finished request's router result, by
 * router events (retries, fallbacks) and, at each scrape, by the router's circuits.
 */
export class GatewayMetrics {
  readonly registry: Registry;
  private readonly requests: BufferedCounter<'model' | 'status' | 'tenant'>;
  private readonly duration: Histogram<'model' | 'status'>;
  private readonly ttft: Histogram<'model'>;
  private readonly tokens: BufferedCounter<'type' | 'model'>;
  private readonly cost: Counter<'model' | 'tenant'>;
  private readonly cacheHits: BufferedCounter<'kind' | 'model'>;
  private readonly retries: Counter<'deployment'>;
  private readonly fallbacks: Counter<'from' | 'to'>;
  private readonly circuit: Gauge<'deployment' | 'tenant'>;
  private router: GatewayRouter | undefined;
  private readonly inFlight: Gauge;
  private readonly tokenCounts: BufferedCounter<'model' | 'kind' | 'status' | 'tenant' | 'endpoint'>;
  private readonly warnings: BufferedCounter<'code'>;
  private readonly warningCodes = new Set(BUILT_IN_WARNING_CODES);
  private readonly unsubscribe: Array<() => void> = [];

  constructor(options: GatewayMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.requests = new BufferedCounter({ name: 'llm_requests_total', help: 'Model requests by model, status (success or error code) and tenant', labelNames: ['model', 'status', 'tenant'], registers });
    this.duration = new Histogram({ name: 'llm_request_duration_seconds', help: 'Model request duration (to the last byte), seconds', labelNames: ['model', 'status'], buckets: SECONDS, registers });
    this.ttft = new Histogram({ name: 'llm_time_to_first_token_seconds', help: 'Time to first token of streamed requests, seconds', labelNames: ['model'], buckets: SECONDS, registers });
    this.tokens = new BufferedCounter({ name: 'llm_tokens_total', help: 'Tokens by type: input (all prompt tokens), output, cached_input (prompt-cache reads) and cache_write (prompt-cache writes); cached_input and cache_write are parts of input', labelNames: ['type', 'model'], registers });
    this.cost = new Counter({ name: 'llm_cost_usd_total', help: 'Cost in USD', labelNames: ['model', 'tenant'], registers });
    this.cacheHits = new BufferedCounter({ name: 'llm_cache_hits_total', help: 'Answers served from the router cache', labelNames: ['kind', 'model'], registers });
    this.retries = new Counter({ name: 'llm_retries_total', help: 'Retries after a failed attempt, by deployment', labelNames: ['deployment'], registers });
    this.fallbacks = new Counter({ name: 'llm_fallbacks_total', help: 'Fallbacks from one deployment to the next', labelNames: ['from', 'to'], registers });
    this.circuit = new Gauge({
      name: 'llm_circuit_state',
      help: 'Circuit breaker state of each live deployment whose circuit is not closed (1 half-open, 2 open; no series when closed): shared deployments without a tenant label, tenants\' own models with tenant (their owner)',
      labelNames: ['deployment', 'tenant'],
      registers,
      collect: () => this.collectCircuits(),
    });
    this.inFlight = new Gauge({ name: 'llm_requests_in_flight', help: 'Model requests in progress', registers });
    this.tokenCounts = new BufferedCounter({
      name: 'llm_token_counts_total',
      help: 'Token counts (count_tokens, responses input_tokens; no model call) by model, kind (exact, estimate; none on an error), status, tenant and endpoint (the route)',
      labelNames: ['model', 'kind', 'status', 'tenant', 'endpoint'],
      registers,
    });
    this.warnings = new BufferedCounter({
      name: 'llm_warnings_total',
      help: `Warnings shown to clients (what an engine did not do as asked) by code; past ${WARNING_CODES_MAX} distinct codes, new ones count as other`,
      labelNames: ['code'],
      registers,
    });
  }

  /** Subscribes to the router's retry and fallback events; its circuits are read at each scrape. */
  attach(router: GatewayRouter): void {
    this.router = router;
    if (!router.on) return;
    this.unsubscribe.push(
      router.on('retry', (e) => this.retries.inc({ deployment: e.deployment })),
      router.on('fallback', (e) => this.fallbacks.inc({ from: e.from, to: e.to })),
    );
  }

  started(): void {
    this.inFlight.inc();
  }

  /** A started request ended without its `observe` (which counts it as ended): the in-flight gauge comes down. */
  ended(): void {
    this.inFlight.dec();
  }

  observe(o: RequestObservation, wasStarted: boolean): void {
    if (wasStarted) this.inFlight.dec();
    this.requests.add(1, o.model, o.status, o.tenant);
    this.duration.observe({ model: o.model, status: o.status === 'success' ? 'success' : 'error' }, o.durationMs / 1000);
    if (o.ttftMs !== undefined) this.ttft.observe({ model: o.model }, o.ttftMs / 1000);
    this.observeSpend(o);
    if (o.cached) this.cacheHits.add(1, o.cached, o.model);
  }

  /** Tokens and cost, of a request (`observe`) or of a prefetch made for its tenant (not a request: not in `llm_requests_total`). */
  observeSpend(o: SpendObservation): void {
    if (o.inputTokens) this.tokens.add(o.inputTokens, 'input', o.model);
    if (o.outputTokens) this.tokens.add(o.outputTokens, 'output', o.model);
    if (o.cachedInputTokens) this.tokens.add(o.cachedInputTokens, 'cached_input', o.model);
    if (o.cacheWriteInputTokens) this.tokens.add(o.cacheWriteInputTokens, 'cache_write', o.model);
    if (o.costUsd) this.cost.inc({ model: o.model, tenant: o.tenant }, o.costUsd);
  }

  /** A token count, kept apart from model requests: it calls no model and is not in `llm_requests_total`. */
  observeTokenCount(o: TokenCountObservation): void {
    this.tokenCounts.add(1, o.model, o.kind, o.status, o.tenant, o.endpoint);
  }

  /**
   * The warnings shown with an answer (`x-llmrr-warnings`), one count each by code. The label set stays bounded: core's codes, then
   * the first other snake_case codes seen up to `WARNING_CODES_MAX` in all; anything else is `other`.
   */
  observeWarnings(warnings: readonly CallWarning[]): void {
    for (const w of warnings) this.warnings.add(1, this.warningLabel(w.code));
  }

  private warningLabel(code: unknown): string {
    if (typeof code !== 'string') return 'other';
    if (this.warningCodes.has(code)) return code;
    if (this.warningCodes.size >= WARNING_CODES_MAX || !SNAKE_CASE.test(code)) return 'other';
    this.warningCodes.add(code);
    return code;
  }

  /**
   * `llm_circuit_state` as the router's live deployments are now (as `/api/status` reads them): one series per
   * deployment and owner, so a tenant's own model never shows under a shared one of the same name, and a retired
   * deployment (unloaded, replaced, of a removed tenant) drops out. A shared deployment's series has no `tenant`
   * label (`tenant=""` in PromQL): every tenant id is non-empty, so it is never taken for a tenant's. Only
   * circuits that are not closed have a series: the series stay the circuits in trouble however many tenants
   * bring models (all of 20 000 own models cost ~200 ms a scrape), and `/metrics`, which anyone may scrape by
   * default, names no deployment that no call has made known (a tenant's allow-list hides the others).
   */
  private collectCircuits(): void {
    this.circuit.reset();
    const router = this.router;
    if (!router) return;
    if (router.circuits) {
      for (const c of router.circuits()) {
        if (c.state === 'closed') continue;
        if (c.tenant === undefined) this.circuit.set({ deployment: c.deployment }, CIRCUIT_VALUE[c.state]);
        else this.circuit.set({ deployment: c.deployment, tenant: c.tenant }, CIRCUIT_VALUE[c.state]);
      }
    } else {
      for (const d of router.models()) if (!d.cascade && d.stats.circuit !== 'closed') this.circuit.set({ deployment: d.name }, CIRCUIT_VALUE[d.stats.circuit]);
    }
  }

  close(): void {
    this.router = undefined;
    for (const u of this.unsubscribe.splice(0)) u();
  }
}
