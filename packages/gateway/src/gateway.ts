import { LLMError, authFailureAuditFor, defaultLocalEmbedder, type TenantEventsSubscription } from '@llmrr/core';
import { Hono } from 'hono';
import { CallsInFlight } from './calls/calls-in-flight.js';
import type { AppEnv, GatewayDeps } from './calls/context.js';
import { requestErrorStyle } from './anthropic/error-style.js';
import { errorResponse } from './http/error-body.js';
import { DIRECT_ROUTES, createDirectRoutes, type DirectRoutes } from './http/direct-routes.js';
import { CLIENT_REQUEST_ID_HEADER, clientRequestIdFrom, defaultRequestId } from './http/request-id.js';
import { echoClientRequestId } from './http/client-request-id.js';
import { BodyBudget } from './http/body-budget.js';
import { MAX_BODY_BYTES_LIMIT } from './http/read-json-body.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { meterPrefetches } from './metering/prefetch-metering.js';
import { logCacheErrors } from './logging/cache-error-log.js';
import { checkRenewInterval, Renewals } from './tenancy/renewals.js';
import { settled } from './tenancy/settled.js';
import { streamHold } from './streaming/stream-hold.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerAnthropicRoutes } from './routes/anthropic-routes.js';
import { registerApiRoutes } from './routes/api-routes.js';
import { registerFeedbackRoute } from './routes/feedback-route.js';
import { registerOpenAIRoutes } from './routes/openai-routes.js';
import { defaultReady, registerOpsRoutes } from './routes/ops-routes.js';
import { CORS_PATHS, corsHeadersOf, publicCors } from './cors/public-cors.js';
import { TenantModelSync, isTenantRouter } from './tenants/tenant-model-sync.js';
import { withTenantModels } from './tenants/with-tenant-models.js';
import { loggedError } from './logging/logged-error.js';
import type { Gateway, GatewayEnv, GatewayLogEntry, GatewayOptions } from './types.js';

const DEFAULTS = {
  // Anthropic's limit of a Messages request (OpenAI takes images up to 20 MB each): a vision request with a photo as
  // base64 is several MB.
  maxBodyBytes: 32 * 1024 * 1024,
  maxMessages: 1000,
  defaultMaxOutputTokens: 4096,
  rateLimitOutputTokens: 256,
};

/** How long `close()` waits by default for the calls in flight to settle (ms). */
const DEFAULT_CLOSE_SETTLE_MS = 5_000;

/** A GET route serves HEAD too (as a GET without a body), so its 405 lists both (RFC 9110 10.2.1). */
const GET_ROUTE = ['GET', 'HEAD'];

/** Methods of the fixed paths, for 405 answers. */
const ALLOWED_METHODS: Record<string, string[]> = {
  '/v1/chat/completions': ['POST'],
  '/v1/completions': ['POST'],
  '/v1/responses': ['POST'],
  '/v1/responses/input_tokens': ['POST'],
  '/v1/embeddings': ['POST'],
  '/v1/messages': ['POST'],
  '/v1/messages/count_tokens': ['POST'],
  '/v1/models': GET_ROUTE,
  '/v1/feedback': ['POST'],
  '/api/quick': ['POST'],
  '/api/chat': ['POST'],
  '/api/route': ['POST'],
  '/api/health': GET_ROUTE,
  '/api/status': GET_ROUTE,
  '/api/models': GET_ROUTE,
  '/health': GET_ROUTE,
  '/ready': GET_ROUTE,
  '/metrics': GET_ROUTE,
};

/** Methods allowed on `path` (the fixed paths, and `/v1/models/{model}`), or undefined for an unknown path. */
function allowedMethods(path: string): string[] | undefined {
  return ALLOWED_METHODS[path] ?? (path.startsWith('/v1/models/') && path.length > '/v1/models/'.length ? GET_ROUTE : undefined);
}

function defaultLog(entry: GatewayLogEntry): void {
  if (entry.level === 'error') console.error(`[llmrr-gateway] ${entry.message}`, entry.requestId ?? '', entry.error ?? '');
}

/**
 * The gateway as a web-standard `fetch(Request) -> Response` handler: OpenAI- and Anthropic-compatible
 * model endpoints, the original `/api` routes, admin API, health and metrics. Runs wherever `Request`
 * and `Response` exist; `@llmrr/gateway/node` serves it over node:http.
 */
export function createGateway(options: GatewayOptions): Gateway {
  // (An explicit undefined is the default, as no value: for every key.)
  const given = options.limits;
  const limits = {
    maxBodyBytes: given?.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    maxMessages: given?.maxMessages ?? DEFAULTS.maxMessages,
    defaultMaxOutputTokens: given?.defaultMaxOutputTokens ?? DEFAULTS.defaultMaxOutputTokens,
    rateLimitOutputTokens: given?.rateLimitOutputTokens ?? DEFAULTS.rateLimitOutputTokens,
  };
  // (Before anything is attached to the router.)
  if (!(Number.isInteger(limits.maxBodyBytes) && limits.maxBodyBytes > 0 && limits.maxBodyBytes <= MAX_BODY_BYTES_LIMIT)) {
    throw new LLMError({ code: 'config_invalid', message: `limits.maxBodyBytes must be an integer number of bytes from 1 to ${MAX_BODY_BYTES_LIMIT} (the longest string a body decodes into), got ${String(limits.maxBodyBytes)}`, param: 'limits.maxBodyBytes' });
  }
  // A bad count (NaN from an unset variable, a negative one) would lift the limit or refuse every request. Infinity is
  // no limit on the count (as it was before the check).
  if (!((Number.isInteger(limits.maxMessages) || limits.maxMessages === Infinity) && limits.maxMessages > 0)) {
    throw new LLMError({ code: 'config_invalid', message: `limits.maxMessages must be a positive integer or Infinity (no limit), got ${String(limits.maxMessages)}`, param: 'limits.maxMessages' });
  }
  // Taken by every call of a tenant with limits or a budget: a bad value would make each one a 400 blaming a field
  // the client never sent (`estimatedTokens`, the `max_tokens` filled in).
  if (!(Number.isInteger(limits.defaultMaxOutputTokens) && limits.defaultMaxOutputTokens > 0)) {
    throw new LLMError({ code: 'config_invalid', message: `limits.defaultMaxOutputTokens must be a positive integer number of tokens, got ${String(limits.defaultMaxOutputTokens)}`, param: 'limits.defaultMaxOutputTokens' });
  }
  if (!(Number.isInteger(limits.rateLimitOutputTokens) && limits.rateLimitOutputTokens >= 0)) {
    throw new LLMError({ code: 'config_invalid', message: `limits.rateLimitOutputTokens must be an integer number of tokens >= 0, got ${String(limits.rateLimitOutputTokens)}`, param: 'limits.rateLimitOutputTokens' });
  }
  const inFlight = options.limits?.maxBodyBytesInFlight;
  if (inFlight !== undefined && !(Number.isInteger(inFlight) && inFlight > 0)) {
    throw new LLMError({ code: 'config_invalid', message: `limits.maxBodyBytesInFlight must be a positive integer number of bytes, got ${String(inFlight)}`, param: 'limits.maxBodyBytesInFlight' });
  }
  // Checked with or without stores (only a gateway with stores renews): a bad value is refused wherever it is set.
  checkRenewInterval(options.limits?.leaseRenewIntervalMs);
  // The other options' checks (each throws `config_invalid` naming its option), also before anything is attached to
  // the router (the metrics' listeners, the tenant model sync): a refused gateway leaves the router as it was.
  const streamHoldMs = streamHold(options.streamHoldMs);
  const ready = options.ready ?? defaultReady(options.router, options.stores, options.readyTimeoutMs);
  const cors = options.cors ? publicCors(options.cors) : undefined;
  // Read in whole ms: the ledger's `createdAt` (and a reservation's `at`) is an integer, and a clock of fractional
  // ones (`performance.timeOrigin + performance.now()`) would have every row refused.
  const injectedNow = options.now;
  const now = injectedNow ? () => Math.floor(injectedNow()) : Date.now;
  const logFn = options.log ?? defaultLog;
  const metrics = options.metrics === false ? undefined : new GatewayMetrics(options.metrics ?? {});
  metrics?.attach(options.router);
  const calls = new CallsInFlight();
  const errorLog = (message: string, error?: unknown) => logFn({ level: 'error', message, ...(error !== undefined ? { error: loggedError(error) } : {}) });
  // Admission reads each question as the semantic cache will (`semanticLookupAsks`): with local-use, its language
  // detector (~0.3 s, ~34 MB, once) and its vocabulary (218 KB of JSON) load now, in the background, not inside the
  // first eligible request's admission.
  const semantic = options.router.routerConfig?.cache?.semantic;
  if (semantic && semantic.enabled !== false && (semantic.embedder ?? 'local-use') === 'local-use') {
    void Promise.resolve()
      .then(() => defaultLocalEmbedder().prepare?.())
      .catch((e: unknown) => errorLog('semantic cache: preparing the local-use embedder failed', e));
  }
  const tenantModels =
    options.tenantModels !== false && options.stores && isTenantRouter(options.router) ? new TenantModelSync(options.router, errorLog) : undefined;
  const deps: GatewayDeps = {
    router: options.router,
    stores: tenantModels && options.stores ? withTenantModels(options.stores, tenantModels) : options.stores,
    metrics,
    auth: options.auth ?? {},
    now,
    maxBodyBytes: limits.maxBodyBytes,
    bodyRead: { maxBytes: limits.maxBodyBytes, budget: inFlight === undefined ? undefined : new BodyBudget(inFlight) },
    maxMessages: limits.maxMessages,
    defaultMaxOutputTokens: limits.defaultMaxOutputTokens,
    rateLimitOutputTokens: limits.rateLimitOutputTokens,
    ready,
    info: { name: options.info?.name ?? '@llmrr/gateway', version: options.info?.version ?? '0.0.0' },
    startedAt: now(),
    log: (message, requestId, error) => logFn({ level: 'error', message, requestId, ...(error !== undefined ? { error: loggedError(error) } : {}) }),
    streamHoldMs,
    routes: new Map(),
    calls,
    callerTraceContext: options.callerTraceContext,
  };
  // Keeps the limits and budget held by calls in flight alive past the stores' TTL (one sweeper per gateway).
  const renewals = deps.stores ? new Renewals(deps.stores, errorLog, options.limits?.leaseRenewIntervalMs) : undefined;
  deps.renewals = renewals;
  // The process's auth-failure auditor of this audit log (core's, one per log): the counts its timer writes at the end
  // of a window belong to no request, so their failed write is logged without a request id (`auditAuthFailure`).
  if (deps.stores) authFailureAuditFor(deps.stores.audit, {}, (e) => errorLog('audit append failed (auth.failure counts of an ended window)', e));
  // A failing cache store, or a semantic cache that cannot be built, costs calls their hits: the log says so (with a
  // router shared by gateways, each logs the failures of the request ids it issued: it remembers them then).
  const cacheErrorLog = logCacheErrors(options.router, logFn, now);
  const generateId = cacheErrorLog.ids(options.generateId ?? defaultRequestId);
  // Prefetches of the router's predictive cache are spent on a tenant's behalf: ledger, budget and metrics see them.
  // (A charge whose budget store failed is tried again as a call's settlement is: `Renewals.retry`.)
  const prefetchMetering = meterPrefetches(options.router, options.stores, metrics, deps.log, now, renewals && ((work, label, lost) => renewals.retryCharge(work, label, lost)));
  // Shared mode: a tenant deleted through any process is forgotten here too (its own models, its learning).
  const deletions = listenForDeletions(options, tenantModels, errorLog);

  // The model endpoints (`postRoute`) are also served by the Node adapter without this app (see
  // `DirectRoutes`): middleware added here does not run for them unless the request carries an Origin
  // and CORS is on.
  const app = new Hono<AppEnv>();
  // The gateway always makes its own request id (the key of ledger, budget, feedback and router); a
  // client's `x-request-id` is only echoed as `x-client-request-id` and logged.
  const noteClientId = (requestId: string, clientRequestId: string) => logFn({ level: 'info', message: 'client request id', requestId, clientRequestId });
  app.use(async (c, next) => {
    const requestId = generateId();
    c.set('requestId', requestId);
    c.set('startedAt', now());
    const clientId = clientRequestIdFrom(c.req.raw.headers);
    if (clientId !== undefined) noteClientId(requestId, clientId);
    await next();
    if (!c.res.headers.has('x-request-id')) c.res.headers.set('x-request-id', c.get('requestId'));
    if (!c.res.headers.has('request-id')) c.res.headers.set('request-id', c.get('requestId'));
    if (clientId !== undefined && !c.res.headers.has(CLIENT_REQUEST_ID_HEADER)) c.res.headers.set(CLIENT_REQUEST_ID_HEADER, clientId);
  });
  if (cors) for (const path of CORS_PATHS) app.use(path, cors);
  registerOpsRoutes(app, deps);
  registerOpenAIRoutes(app, deps);
  registerAnthropicRoutes(app, deps);
  registerFeedbackRoute(app, deps);
  registerApiRoutes(app, deps);
  registerAdminRoutes(app, { ...deps, stores: options.stores }, tenantModels);

  app.notFound((c) => {
    const id = c.get('requestId') ?? generateId();
    const allowed = allowedMethods(c.req.path);
    const style = requestErrorStyle(c.req.path, c.req.raw.headers);
    if (allowed && !allowed.includes(c.req.method)) {
      return errorResponse(new LLMError({ code: 'method_not_allowed', message: `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(' or ')}`, param: 'method' }), id, style, { allow: allowed.join(', ') });
    }
    return errorResponse(new LLMError({ code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}`, param: 'path' }), id, style);
  });
  app.onError((err, c) => {
    const id = c.get('requestId') ?? generateId();
    deps.log('unhandled error', id, err);
    return errorResponse(err, id, requestErrorStyle(c.req.path, c.req.raw.headers));
  });

  const gateway: Gateway & { [DIRECT_ROUTES]: DirectRoutes } = {
    fetch: async (request: Request, env?: GatewayEnv) => app.fetch(request, env ?? {}),
    [DIRECT_ROUTES]: createDirectRoutes(echoClientRequestId(deps.routes, noteClientId), {
      cors: cors !== undefined,
      requestId: () => generateId(),
      now,
      maxBodyBytes: limits.maxBodyBytes,
      corsHeaders: options.cors ? corsHeadersOf(options.cors) : undefined,
    }),
    registry: metrics?.registry,
    async close(settleTimeoutMs = DEFAULT_CLOSE_SETTLE_MS) {
      deps.closing = true;
      // Calls a server's shutdown cut settle a few ms after their connection closed (ledger row, concurrency
      // place, budget): their owner closes the stores once this resolves.
      if (!(await calls.drained(settleTimeoutMs))) {
        logFn({ level: 'warn', message: `closing with ${calls.size} call(s) in flight not settled after ${settleTimeoutMs} ms (their ledger rows, concurrency places and budget reservations may be lost)` });
      }
      metrics?.close();
      cacheErrorLog.close();
      // The prefetch charges first: one that fails now is still tried once more by the renewals' close.
      await prefetchMetering.close();
      await renewals?.close();
      // Not waited for: a subscription still connecting (Redis down) ends with the stores' connection.
      void deletions?.then((sub) => sub?.close());
    },
  };
  return gateway;
}

/** Subscribes to the stores' tenant deletions (shared mode), if any: each deleted tenant is forgotten in this process. */
function listenForDeletions(
  options: GatewayOptions,
  tenantModels: TenantModelSync | undefined,
  errorLog: (message: string, error?: unknown) => void,
): Promise<TenantEventsSubscription | undefined> | undefined {
  const events = options.stores?.tenantEvents;
  if (!events) return undefined;
  const forgetHere = tenantModels ? (t: string) => tenantModels.deleted(t) : options.router.forgetTenant?.bind(options.router);
  const forget = (id: string) => {
    // A custom router's forgetTenant may throw or reject (async): logged, never an unhandled rejection.
    if (forgetHere) void settled(() => Promise.resolve(forgetHere(id))).catch((e: unknown) => errorLog(`tenant "${id}" deleted in another process: could not forget it here`, e));
    // Its answers in this process's memory caches (the deleting process erased the shared stores).
    const erase = options.router.eraseTenantCaches?.bind(options.router);
    if (erase) void settled(() => Promise.resolve(erase(id, { localOnly: true }))).catch((e: unknown) => errorLog(`tenant "${id}" deleted in another process: could not erase its cached answers here`, e));
  };
  // Listening again after the connection dropped: a deletion told meanwhile was not heard, so each tenant whose own
  // models this process serves is looked up (one read each, one at a time); one gone is forgotten. (Learning of
  // tenants without own models is bounded by the router, and a tenant written again is told apart by createdAt.)
  let checking: Promise<void> | undefined;
  let again = false;
  const check = async () => {
    do {
      again = false;
      for (const id of tenantModels?.tenantsWithModels() ?? []) {
        if ((await options.stores!.tenants.getTenant(id)) === undefined) forget(id);
      }
    } while (again);
  };
  const missed = () => {
    if (checking) {
      again = true;
      return;
    }
    checking = check()
      .catch((e: unknown) => errorLog('tenant deletions may have been missed while Redis was unreachable; could not check the tenants served here', e))
      .finally(() => (checking = undefined));
  };
  return settled(() => events.onDeleted(forget, missed)).catch((e: unknown) => {
    errorLog('tenant deletions of other processes are not heard (their tenants are forgotten here only when created again)', e);
    return undefined;
  });
}
