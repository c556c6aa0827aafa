import { LLMError, LLMRouter, createStateStores, missingModelWarning, type StateStores, type StateStoresConfig } from '@llmrr/core';
import { createGateway, type Gateway, type GatewayLimits, type GatewayLogEntry } from '@llmrr/gateway';
import { createUpstreamFetch, serveGateway, type ServedGateway } from '@llmrr/gateway/node';
import { disableMissingLocalModels, loadServerConfig } from './load-config.js';
import { DEMO_TENANT_ID, seedTenants } from './seed-tenants.js';
import type { ServerSettings } from './settings.js';
import { checkDataDir } from './data-dir.js';
import { storeAddress } from './store-address.js';
import type { Tracing } from './tracing.js';

export { DEMO_TENANT_ID } from './seed-tenants.js';

export interface RunningServer {
  url: string;
  port: number;
  configSource: string;
  gateway: Gateway;
  router: LLMRouter;
  stores: StateStores;
  /**
   * Graceful: `/ready` 503 and still serving for `settings.shutdownDelayMs`, then stop accepting, let requests finish
   * (up to `graceMs`; streams still running then end with their error event), then close router and stores.
   */
  close(graceMs?: number): Promise<void>;
}

function storesConfig(settings: ServerSettings, log: (entry: GatewayLogEntry) => void): StateStoresConfig {
  if (settings.state === 'memory') return { mode: 'memory' };
  if (settings.state === 'shared') {
    if (!settings.redisUrl || !settings.postgresUrl) {
      throw new LLMError({ code: 'config_invalid', message: 'LLMRR_STATE=shared needs LLMRR_REDIS_URL and LLMRR_POSTGRES_URL', param: settings.redisUrl ? 'LLMRR_POSTGRES_URL' : 'LLMRR_REDIS_URL' });
    }
    return {
      mode: 'shared',
      redisUrl: settings.redisUrl,
      ...(settings.cacheRedisUrl ? { cacheRedisUrl: settings.cacheRedisUrl } : {}),
      ...(settings.cacheMaxBytes !== undefined ? { cacheMaxBytes: settings.cacheMaxBytes } : {}),
      postgresUrl: settings.postgresUrl,
      ...(settings.redisKeyPrefix ? { redisKeyPrefix: settings.redisKeyPrefix } : {}),
      ...(settings.postgresSchema ? { postgresSchema: settings.postgresSchema } : {}),
      ...(settings.redisTimeoutMs !== undefined ? { redisTimeoutMs: settings.redisTimeoutMs } : {}),
      ...(settings.postgresQueryTimeoutMs !== undefined ? { postgresQueryTimeoutMs: settings.postgresQueryTimeoutMs } : {}),
      ...(settings.postgresAuditTimeoutMs !== undefined ? { postgresAuditTimeoutMs: settings.postgresAuditTimeoutMs } : {}),
      ...(settings.postgresReportTimeoutMs !== undefined ? { postgresReportTimeoutMs: settings.postgresReportTimeoutMs } : {}),
      // What the stores drop in the background (a key's lastUsedAt write) is said in the server log.
      onError: (message, error) => log({ level: 'warn', message, error }),
      // What the start finds wrong in the set-up (a stores' Redis that can evict keys) too.
      onWarning: (message) => log({ level: 'warn', message: serverTerms(message) }),
    };
  }
  return { mode: 'embedded', dataDir: settings.dataDir };
}

/** Loads the config, opens the stores, builds router and gateway, and serves them. */
export async function startServer(settings: ServerSettings, log: (entry: GatewayLogEntry) => void = defaultLog): Promise<RunningServer> {
  const loaded = await loadServerConfig(settings);
  const source = loaded.source;
  // A local model whose file is missing (or a directory) could not answer: left out (disabled) with a warning naming the file.
  const { config, missing } = disableMissingLocalModels(loaded.config, settings.cwd);
  for (const m of missing) log({ level: 'warn', message: missingModelWarning(m, source) });
  const stores = await openStores(settings, log);
  let router: LLMRouter | undefined;
  let served: ServedGateway | undefined;
  let tracing: Tracing | undefined;
  // Provider calls on undici's dispatch with a keep-alive pool: a fraction of the CPU of global fetch per call.
  const upstreamFetch = createUpstreamFetch();
  try {
    // Shared mode: the exact cache lives in Redis too, so every gateway process shares answers.
    const cacheStore = config.cache.exact.enabled ? stores.cache : undefined;
    // Shared mode: circuit breaker state in Redis as well, so a deployment failing for one process is open for all.
    // Shared mode: prompt-cache affinity in Redis, so a conversation whose turns reach different processes stays
    // on the deployment holding its cached prefix (other modes keep the router's in-process default).
    // unknownTenant 'shared': tenants created at runtime (admin API) on a v3 config use the shared models.
    router = new LLMRouter(config, {
      baseDir: settings.cwd,
      fetch: upstreamFetch,
      unknownTenant: 'shared',
      // The key of the tenant-scoped end-user ids the operator's provider accounts receive (LLMRR_END_USER_ID_SECRET).
      ...(settings.endUserIdSecret ? { endUserIdSecret: settings.endUserIdSecret } : {}),
      // What the router's parts report outside any call (the SQLite semantic cache's cut at open) goes to the server log.
      warn: (message) => log({ level: 'warn', message }),
      ...(cacheStore ? { cacheStore } : {}),
      ...(stores.circuits ? { circuitStore: stores.circuits } : {}),
      ...(stores.affinity ? { promptCacheAffinityStore: stores.affinity } : {}),
    });
    // The LLMRR_PRICES_FILE table (relative to settings.cwd, like every path here): a missing or invalid file fails
    // the start, naming the file, rather than every model call later.
    await router.ready();
    // A v3 tenant's preferred strategy must be one the router has (the server adds none of its own).
    router.checkTenantStrategies();
    // Off by default: OpenTelemetry code is imported only when tracing is on.
    if (settings.otel) tracing = await (await import('./tracing.js')).startTracing(router, settings.otel, log);
    await seedTenants(stores, config, { demo: settings.demo, source, log, router });
    const gateway = createGateway({
      router,
      stores,
      auth: { ...(settings.adminKey ? { adminKey: settings.adminKey } : {}), ...(settings.metricsKey ? { metricsKey: settings.metricsKey } : {}), ...(settings.demo ? { demoTenantId: DEMO_TENANT_ID } : {}) },
      metrics: { defaultMetrics: true },
      limits: gatewayLimits(settings),
      ...(settings.corsOrigins ? { cors: { origins: settings.corsOrigins } } : {}),
      ...(settings.readyTimeoutMs !== undefined ? { readyTimeoutMs: settings.readyTimeoutMs } : {}),
      ...(settings.streamHoldMs !== undefined ? { streamHoldMs: settings.streamHoldMs } : {}),
      info: { name: '@llmrr/gateway-server', version: '0.1.0' },
      log,
      // With tracing on, a request's W3C trace context (traceparent) makes its spans children of the caller's span.
      ...(tracing ? { callerTraceContext: tracing.callerTraceContext } : {}),
    });
    try {
      served = await serveGateway(gateway, {
        port: settings.port,
        host: settings.host,
        requestTimeoutMs: settings.requestTimeoutMs,
        keepAliveTimeoutMs: settings.keepAliveTimeoutMs,
        shutdownDelayMs: settings.shutdownDelayMs,
        ...(settings.shutdownCutSettleMs !== undefined ? { cutSettleMs: settings.shutdownCutSettleMs } : {}),
        ...(settings.trustedProxies ? { trustedProxies: settings.trustedProxies } : {}),
      });
    } catch (e) {
      throw listenError(e, settings);
    }
    const s = stores;
    const r = router;
    const srv = served;
    const tr = tracing;
    let closing: Promise<void> | undefined;
    return {
      url: srv.url,
      port: srv.port,
      configSource: source,
      gateway,
      router: r,
      stores: s,
      close(graceMs) {
        closing ??= (async () => {
          await srv.close(graceMs);
          // The router first (it stops its prefetcher), then the gateway: a prefetch finishing meanwhile is still metered.
          await r.close();
          await gateway.close();
          await tr?.shutdown();
          await upstreamFetch.close();
          await s.close();
        })();
        return closing;
      },
    };
  } catch (e) {
    await served?.close(0);
    await tracing?.shutdown();
    await router?.close();
    await upstreamFetch.close();
    await stores.close();
    throw e;
  }
}

/** The gateway's `limits` the settings set (the others keep the gateway's defaults). */
function gatewayLimits(settings: ServerSettings): GatewayLimits {
  const limits: GatewayLimits = {};
  if (settings.leaseRenewIntervalMs !== undefined) limits.leaseRenewIntervalMs = settings.leaseRenewIntervalMs;
  if (settings.maxBodyBytes !== undefined) limits.maxBodyBytes = settings.maxBodyBytes;
  if (settings.maxMessages !== undefined) limits.maxMessages = settings.maxMessages;
  if (settings.maxBodyBytesInFlight !== undefined) limits.maxBodyBytesInFlight = settings.maxBodyBytesInFlight;
  return limits;
}

/** Core's option names in a start warning, said as the server's variables that set them. */
function serverTerms(message: string): string {
  return message.replace(/\bcacheMaxBytes\b/g, 'LLMRR_CACHE_MAX_BYTES').replace(/\bcacheRedisUrl\b/g, 'LLMRR_CACHE_REDIS_URL');
}

/** The shared stores by the `param` core's connection errors name: their variable, name and default port. */
const SHARED_STORES: Readonly<Record<string, { variable: 'LLMRR_REDIS_URL' | 'LLMRR_CACHE_REDIS_URL' | 'LLMRR_POSTGRES_URL'; name: string; port: number }>> = {
  redisUrl: { variable: 'LLMRR_REDIS_URL', name: 'Redis', port: 6379 },
  cacheRedisUrl: { variable: 'LLMRR_CACHE_REDIS_URL', name: 'Redis of the exact cache', port: 6379 },
  postgresUrl: { variable: 'LLMRR_POSTGRES_URL', name: 'PostgreSQL', port: 5432 },
};

/**
 * The state stores; an embedded data directory that is a file (`checkDataDir`) or cannot hold the database fails
 * naming LLMRR_DATA_DIR, a shared store that cannot be reached (bounded by core: seconds, not TCP's minutes) names LLMRR_REDIS_URL or LLMRR_POSTGRES_URL.
 */
async function openStores(settings: ServerSettings, log: (entry: GatewayLogEntry) => void): Promise<StateStores> {
  if (settings.state === 'embedded') checkDataDir(settings.dataDir);
  try {
    return await createStateStores(storesConfig(settings, log));
  } catch (e) {
    // A shared store that cannot be reached names its variable and where it points (never its credentials).
    const store = LLMError.isInstance(e) && settings.state === 'shared' ? SHARED_STORES[e.param ?? ''] : undefined;
    if (store) {
      const url = (store.variable === 'LLMRR_REDIS_URL' ? settings.redisUrl : store.variable === 'LLMRR_CACHE_REDIS_URL' ? settings.cacheRedisUrl : settings.postgresUrl) ?? '';
      const err = e as LLMError;
      throw new LLMError({ code: err.code, message: `${store.variable} (${store.name} at ${storeAddress(url, store.port)}): ${err.message}`, param: store.variable, cause: err });
    }
    // (Core's own errors, e.g. a missing driver, say what is wrong already.)
    if (LLMError.isInstance(e) || settings.state !== 'embedded') throw e;
    throw new LLMError({ code: 'config_invalid', message: `LLMRR_DATA_DIR: cannot open the state database under "${settings.dataDir}" (${errorText(e)})`, param: 'LLMRR_DATA_DIR', cause: e });
  }
}

/** Hosts whose lookup or address fails name HOST; a port taken or not allowed names PORT. */
const HOST_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EADDRNOTAVAIL']);

function listenError(e: unknown, settings: ServerSettings): unknown {
  if (LLMError.isInstance(e)) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const where = `${settings.host}:${settings.port}`;
  if (code === 'EADDRINUSE') {
    return new LLMError({ code: 'config_invalid', message: `PORT ${settings.port} is already in use on HOST ${settings.host}: stop what listens there or choose another PORT`, param: 'PORT', cause: e });
  }
  if (code === 'EACCES') {
    return new LLMError({ code: 'config_invalid', message: `PORT ${settings.port} cannot be opened on HOST ${settings.host} (permission denied; ports below 1024 need privileges): choose another PORT`, param: 'PORT', cause: e });
  }
  if (typeof code === 'string' && HOST_CODES.has(code)) {
    return new LLMError({ code: 'config_invalid', message: `HOST "${settings.host}" is not an address of this machine or does not resolve (${errorText(e)}): set HOST to a local address (e.g. 127.0.0.1 or 0.0.0.0)`, param: 'HOST', cause: e });
  }
  return new LLMError({ code: 'config_invalid', message: `Cannot listen on ${where} (${errorText(e)}): check HOST and PORT`, param: 'PORT', cause: e });
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function defaultLog(entry: GatewayLogEntry): void {
  const { level, message, requestId, error } = entry;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : error === undefined ? '' : String(error);
  console[level === 'error' ? 'error' : 'log'](`[${level}] ${message}${requestId ? ` (${requestId})` : ''}${detail ? `: ${detail}` : ''}`);
}
