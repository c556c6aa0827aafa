import type {
  CallWarning,
  Cost,
  DeploymentCircuitInfo,
  DeploymentInfo,
  EngineFactory,
  FailedAttemptSpend,
  RouterEmbedOptions,
  Usage,
  GenerateOptions,
  GenerateRequest,
  RouteDecision,
  RouteOptions,
  RouterEventName,
  RouterEvents,
  RouterResult,
  RouterStream,
} from '@llmrr/core';
import type { CallerTraceContext, StateStores } from '@llmrr/core';
import type { Registry } from 'prom-client';
import type { GatewayCorsOptions } from './cors/public-cors.js';

/**
 * What the gateway needs from a router: the `LLMRouter` of `@llmrr/core` has all of it.
 * Typed structurally so a wrapped or remote router fits too.
 */
export interface GatewayRouter {
  generate(request: GenerateRequest, options?: GenerateOptions): Promise<RouterResult>;
  stream(request: GenerateRequest, options?: GenerateOptions): RouterStream;
  route(request: GenerateRequest, options?: RouteOptions): Promise<RouteDecision>;
  /**
   * Deployments the router knows. With `tenant`, the ones that tenant may see (its own models included); without
   * one, those a call without a tenant may use (core: a v3 `defaultTenant`'s view); `null`, the shared deployments
   * (what the router's own calls, such as a semantic guard's, use). A router without per-tenant models may ignore
   * the argument.
   */
  models(tenant?: string | null): readonly DeploymentInfo[];
  /**
   * Resolves once the router can serve calls (optional; core's `LLMRouter.ready()`: its price file loaded, its
   * strategies' files prepared), rejects when it cannot (every call would fail with that error). The default `/ready`
   * check is 503 until it has resolved.
   */
  ready?(): Promise<void>;
  /**
   * Forgets what the router learned about a tenant (core's `LLMRouter.forgetTenant`: feedback layers, pending
   * decisions), called when an admin deletes the tenant (optional).
   */
  forgetTenant?(tenant: string): void | Promise<void>;
  /**
   * Erases a deleted tenant's cached answers (core's `LLMRouter.eraseTenantCaches`), called when an admin deletes the
   * tenant, and with `localOnly` when another process did (this process's memory caches only) (optional).
   */
  eraseTenantCaches?(tenant: string, options?: { localOnly?: boolean }): Promise<unknown>;
  /**
   * Embeddings through the router (optional: without it `/v1/embeddings` answers 400 `unsupported`).
   * `options.model` names the deployment or alias. `input` is texts, or token ids (one array per input) when the
   * client sent them; `options.dimensions` is set when the client asked for it. The gateway checks the vectors'
   * length against it (a router that does not know the option fails the call, not the client's index).
   */
  embed?(input: string[] | number[][], options?: RouterEmbedOptions): Promise<RouterEmbedResult>;
  /**
   * Explicit feedback (score in [0,1]) on a routed answer; true when a learning strategy knew the request.
   * Optional: without it `POST /v1/feedback` answers 400 `unsupported`.
   */
  feedback?(requestId: string, score: number): boolean;
  /**
   * Names of the strategies the router has (optional). With it the admin API refuses a tenant's
   * `preferences.strategy` the router does not know, instead of every later request of that tenant.
   */
  strategyNames?(): string[];
  /**
   * The router's default strategy now (optional; core's `LLMRouter.strategy`): a client may always name the strategy
   * its call gets anyway (this one, or its tenant's `preferences.strategy`), whatever `routing.clientStrategies` allows.
   */
  readonly strategy?: string;
  /**
   * Where relative model paths resolve (optional; core's `LLMRouter.modelFilesDir`): the admin API checks a tenant's
   * gguf / onnx model's file there before it stores the model. Without it, the working directory.
   */
  readonly modelFilesDir?: string;
  /**
   * The router's configuration; the gateway reads `routing.fallbacks` and `routing.fallbackToRanked` so a
   * budget reservation covers every deployment a request may fall back to. Optional: without it only the
   * requested model and per-call fallbacks are counted. Its `cache.semantic` (core's config) tells whether a
   * semantic lookup may pay a guard call to `guardModel`: the reservation covers that call too.
   */
  readonly routerConfig?: { readonly routing: GatewayRoutingConfig; readonly cache?: { readonly semantic?: GatewaySemanticGuardConfig | undefined } };
  /**
   * True when every stream `stream()` returns has `cancel()` (core's `LLMRouter`: its streams, cascades
   * included, all do). The gateway then stops a stream whose client went away through that `cancel` and gives
   * the router the client's request signal as it is. Otherwise (a wrapped router, whose streams may lack
   * `cancel`) each streamed call gets an `AbortController` of its own as its signal, aborted when the client's
   * signal fires or its response body is cancelled, so the upstream request stops either way.
   */
  readonly cancellableStreams?: boolean;
  /**
   * True when calls honour `cacheOnly` (core's `LLMRouter` does): answered from the router's caches with no paid
   * call, a miss rejecting with the error given. The gateway then serves a tenant whose budget cannot cover a call
   * the cached answers it has (they cost nothing). Otherwise (a wrapped router, which may ignore the option and call
   * a provider) such a tenant gets its 402 `budget_exceeded` whatever is cached.
   */
  readonly cacheOnlyCalls?: boolean;
  /**
   * The circuit of every live deployment, tenants' own models included (core's `LLMRouter` has it), read at each
   * scrape for `llm_circuit_state`. Optional: without it the metric reports `models()`' deployments (no tenant's own).
   */
  circuits?(): readonly DeploymentCircuitInfo[];
  /**
   * The factory the router builds an engine kind with (optional; core's `LLMRouter.engineFactory`: its own
   * `engineFactories` over those registered with `registerEngine`). The admin API accepts a tenant's own model of
   * a kind it has, checks the model with it, and shows the options its `secretOptions` declares as `[redacted]`;
   * without it, the registered engines'.
   */
  engineFactory?(kind: string): EngineFactory | undefined;
  /**
   * The engine kinds the router can build (optional; core's `LLMRouter.engineKinds`), named by the admin API's 400
   * for a tenant model of another kind; without it, the registered engines'.
   */
  engineKinds?(): readonly string[];
  /** Subscribes to router events; returns the unsubscribe function. Optional: metrics for retries and fallbacks need it. */
  on?<E extends RouterEventName>(event: E, listener: (payload: RouterEvents[E]) => void): () => void;
}

/** The part of a router's `routing` config the gateway reads (core's `RouterConfig['routing']` fits). */
export interface GatewayRoutingConfig {
  /** Deployments tried after the ranked candidates: a list, or lists by requested model / first choice / `*`. */
  fallbacks?: readonly string[] | Readonly<Record<string, readonly string[]>>;
  /** The other ranked candidates are tried before `fallbacks`. */
  fallbackToRanked?: boolean;
  /**
   * Which strategies a client may ask for (`x-llmrr-strategy`, `llmrr.strategy`, the legacy `strategy` field):
   * `true` or absent any the router has, `false` none, or a list. Another is a 400 `invalid_request` naming the field.
   */
  clientStrategies?: boolean | readonly string[];
  /** The cascades (virtual models) by name: tenant models may not take their names. */
  cascades?: ReadonlyArray<{ readonly name: string }>;
  /** Hedged attempts: a non-streamed call's budget reservation counts each lane's answer (`hedgeLanes`). */
  hedging?: { readonly enabled?: boolean; readonly maxHedges?: number };
  /**
   * The router's timeouts: a stream the router does not watch (a cache hit's replay, a cascade's) whose client takes
   * nothing is given up on by the gateway after the limit the router would use (`consumerIdleMs`, 0: never; unset:
   * none when `totalMs` is set, else 60 s; an escalated cascade's strong deployment's own `timeouts` first).
   */
  timeouts?: { readonly consumerIdleMs?: number | undefined; readonly totalMs?: number | undefined };
}

/** The part of a router's `cache.semantic` config the gateway reads (core's fits). */
export interface GatewaySemanticGuardConfig {
  readonly enabled?: boolean;
  readonly guard?: string;
  readonly guardModel?: string | undefined;
  /** `local-use` (the default) or a deployment name: which questions a lookup reads (`semanticLookupAsks`). */
  readonly embedder?: string | undefined;
  /** Tenants whose calls the semantic cache leaves out (no lookup, so no guard call). */
  readonly optOutTenants?: readonly string[] | undefined;
  /** Whether requests with a temperature above 0 are looked up (default false). */
  readonly allowNonZeroTemperature?: boolean | undefined;
}

/** What `GatewayRouter.embed` resolves to. */
export interface RouterEmbedResult {
  embeddings: number[][];
  usage: Usage;
  /** Deployment that answered. */
  deployment: string;
  provider?: string;
  /** What the call cost, the answers refused on other hedge lanes included (`failedAttemptsUsage`). */
  cost?: Cost;
  /**
   * The tokens of answers the router refused after their provider billed them, on hedge lanes other than the one
   * that answered (core's `RouterEmbedResult.failedAttemptsUsage`): not in `usage`; their cost is in `cost`.
   */
  failedAttemptsUsage?: Usage;
  /** Each of those answers with its deployment (core's `failedAttempts`), for the per-deployment metrics. */
  failedAttempts?: FailedAttemptSpend[];
  /** What the deployment did not do as asked (`setting_not_sent` `user`), shown in `x-llmrr-warnings`. */
  warnings?: CallWarning[];
}

/**
 * The stores the gateway uses (all of `StateStores`; absent: no keys, limits, budgets, ledger or audit).
 * `ping`, when present, is part of the default readiness check (`/ready`).
 */
export type GatewayStores = Pick<StateStores, 'tenants' | 'rateLimiter' | 'budgets' | 'ledger' | 'audit'> & {
  mode?: StateStores['mode'];
  ping?: StateStores['ping'];
  /** Shared mode: tenant deletions told to every process, which each drop the tenant's in-memory state. */
  tenantEvents?: StateStores['tenantEvents'];
};

export interface GatewayAuthOptions {
  /**
   * Secret for the admin API under `/admin` (`Authorization: Bearer`, or `X-API-Key`).
   * Absent: the admin API answers 404.
   */
  adminKey?: string;
  /**
   * Demo mode: requests without a key act as this tenant (it must exist in the tenant store).
   * Responses then carry `x-llmrr-demo: true`. Absent: every model request needs a key.
   */
  demoTenantId?: string;
  /**
   * Secret for `GET /metrics` (`Authorization: Bearer`, or `X-API-Key`; compared in constant time). The
   * metrics carry tenant ids and per-tenant request counts and costs: set it wherever clients can reach
   * the gateway. Absent: `/metrics` is open (fine on a private network or loopback).
   */
  metricsKey?: string;
}

export interface GatewayLimits {
  /**
   * Largest request body, bytes (413 `payload_too_large` above it). Default 32 MiB, Anthropic's limit of a Messages
   * request: an image sent as base64 takes 4/3 of its size. A body is held in memory while it is read, parsed and sent
   * upstream (a few times its size at the peak), so the memory a gateway needs grows with this times the large requests
   * in flight at once: lower it on a small machine. At most 536870888 (V8's longest string: a body is decoded into
   * one); a larger value, or one that is not an integer, is refused by `createGateway` (`undefined` is the default).
   */
  maxBodyBytes?: number;
  /**
   * Most bytes of request bodies held at once, over all routes (default: no bound): counted as they arrive and given
   * back once a body is parsed (or its read ends otherwise), so a connection that declares a body and sends nothing
   * holds nothing. A body whose `Content-Length` does not fit beside the bytes held is refused unread (after
   * `100 Continue`, if asked for: the client uploads it, dropped), one whose next chunk does not fit as it arrives: a 503 `overloaded` and `Retry-After: 1` (529 on
   * `/v1/messages`; the SDKs retry it). A body always fits while no other holds bytes, so a bound below
   * `maxBodyBytes` still serves one at a time. An integer. It bounds the
   * memory of bodies being read (`maxBodyBytes` alone lets every request in flight hold one), not that of the calls
   * they become.
   */
  maxBodyBytesInFlight?: number;
  /** Most messages in one request (a positive integer, or Infinity for no limit). Default 1000. */
  maxMessages?: number;
  /**
   * Output tokens assumed for the budget reservation when a request sets no max tokens (a positive integer: the
   * `max_tokens` then sent). Default 4096.
   */
  defaultMaxOutputTokens?: number;
  /**
   * Output tokens charged up front against tokens-per-minute when a request sets no max tokens (an integer >= 0).
   * Default 256.
   */
  rateLimitOutputTokens?: number;
  /**
   * Time between two sweeps that renew the concurrency leases and budget reservations of calls in flight (ms),
   * which the stores otherwise drop after 10 minutes (crash safety): a call is renewed when it is one to two
   * sweeps old, and every two sweeps after. Default 200000 (a third of the 10 minutes); keep it under half of
   * the stores' TTL.
   */
  leaseRenewIntervalMs?: number;
}

export interface GatewayLogEntry {
  level: 'info' | 'warn' | 'error';
  message: string;
  requestId?: string;
  error?: unknown;
  [key: string]: unknown;
}

export interface GatewayMetricsOptions {
  /** Registry to register into. Default: a new one per gateway (so several gateways never clash). */
  registry?: Registry;
  /** Also collect prom-client's process metrics (CPU, RSS, event loop lag). Default false. */
  defaultMetrics?: boolean;
}

export interface GatewayOptions {
  router: GatewayRouter;
  stores?: GatewayStores;
  /**
   * Runs each model call (chat, completions, responses, messages, `/api/chat`, `/api/quick`, embeddings) in the trace
   * context its caller sent, so that the router's OpenTelemetry spans (`instrumentRouter`) are children of the
   * caller's span: core's `callerTraceContext(api)` (W3C `traceparent` through the registered propagator; used for
   * parenting only: the parent span is kept, the caller's `tracestate` and baggage are not). The caller's sampled flag
   * reaches the provider's sampler: give it `ParentBasedSampler` with `remoteParentNotSampled: AlwaysOnSampler` (as the
   * gateway server does) so that a caller cannot switch the tracing of its calls off. Absent (default): headers are
   * not read for it, nothing is done per request.
   */
  callerTraceContext?: CallerTraceContext;
  auth?: GatewayAuthOptions;
  limits?: GatewayLimits;
  /** CORS for browsers calling `/v1/*` and `/api/*`. Absent (default): no CORS headers, browsers block cross-origin calls. */
  cors?: GatewayCorsOptions;
  /**
   * Serve tenants' own models (`tenant.models`, from the admin API) to those tenants only. Default on
   * when there are stores and the router takes tenants at runtime (`setTenant` / `removeTenant`, as core's
   * `LLMRouter` does, v2 or v3 config; the tenants a v3 config defines keep the config's models).
   */
  tenantModels?: boolean;
  /** `false` turns `/metrics` off. */
  metrics?: GatewayMetricsOptions | false;
  /**
   * Readiness check for `/ready`. Default: the router's `ready()` has resolved (checked until it has; rejected, such as
   * a strategy whose `prepare` failed: 503), the router has an enabled deployment and the stores answer their
   * `ping()` (core's `StateStores`: in shared mode one Redis `PING` and one PostgreSQL `SELECT 1`, each bounded
   * by `redisTimeoutMs`); probes that arrive while a ping is in flight share it, within `readyTimeoutMs`. Once
   * `close()` has started (or the server drains, see `GatewayEnv.draining`) `/ready` answers 503 without asking it.
   */
  ready?: () => boolean | Promise<boolean>;
  /**
   * Bound of the default readiness check's shared store ping, ms (default 5000): a ping with no answer by then
   * (a custom `ping` that never settles) is a 503, and the next probe pings again. Core's stores bound each of
   * their round trips already (`redisTimeoutMs`). A bound past the longest timer (2^31 - 1 ms, about 24.8 days)
   * waits that long.
   */
  readyTimeoutMs?: number;
  /**
   * How long a streamed answer is held for its first content before its 200 and headers go out, ms (default 10000).
   * While held, the router may still fall over to another deployment and a failure is an HTTP error status; a stream
   * with no content by then is committed: the 200 and the headers known by then (not `x-llmrr-model`,
   * `x-llmrr-cache`, `x-llmrr-cache-score` or `x-llmrr-warnings`, which wait for the answer), then a keep-alive at once
   * and every `streamHoldMs` ms, within 1000..10000, until the first content (an SSE comment `: keep-alive` on the
   * OpenAI routes, Anthropic's `ping` event on `/v1/messages`); fallover still works, and a failure is then the route's
   * in-stream error event (also a server's shutdown cut: not the retryable 503 of a stream still held). 0 commits at
   * once (no hold timer; keep-alives every 10000 ms); `Infinity` (or 2^31 - 1 and more) holds until the first content,
   * with no timer. Clients with a read or headers timeout, and load balancers' idle timeouts
   * (AWS ALB: 60 s), need it below theirs for a long first token (a reasoning model's prefill).
   */
  streamHoldMs?: number;
  /** Where log entries go. Default: errors to `console.error`, nothing else. */
  log?: (entry: GatewayLogEntry) => void;
  /** Clock (epoch ms; a fractional reading is floored to whole ms). Default `Date.now`. */
  now?: () => number;
  /** Request id generator (every request gets one; a client's `x-request-id` is only echoed as `x-client-request-id`). */
  generateId?: () => string;
  /** Shown by `/api/status`. */
  info?: { name?: string; version?: string };
}

/** Per-request facts the platform adapter knows (Node: the socket's address, whether the server is draining). */
export interface GatewayEnv {
  clientIp?: string;
  /** The server is shutting down (draining its connections, as `serveGateway`'s `close()`): `/ready` answers 503. */
  draining?: boolean;
}

export interface Gateway {
  /** The whole gateway as a web-standard handler. */
  fetch(request: Request, env?: GatewayEnv): Promise<Response>;
  /** Prometheus registry (undefined when metrics are off). */
  readonly registry: Registry | undefined;
  /**
   * Waits for the calls in flight to settle (their ledger row, concurrency place and budget; a call cut by a
   * server's shutdown settles a few ms after its connection closed), at most `settleTimeoutMs` (default 5000; calls
   * still running then are logged and left), and unsubscribes from router events. Does not close the router or the
   * stores: their owner does, after this resolves. `/ready` answers 503 from its start.
   */
  close(settleTimeoutMs?: number): Promise<void>;
}
