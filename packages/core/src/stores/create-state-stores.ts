import { mkdirSync, statSync } from 'node:fs';
import { closeAuthFailureAudit } from '../audit/auth-failure-audit.js';
import { dirname, join, resolve } from 'node:path';
import type { CachedAnswer } from '../cache/exact-cache.js';
import { RedisCacheStore } from '../cache/redis-cache-store.js';
import { RedisCircuitStateStore } from '../router/resilience/redis-circuit-state-store.js';
import { LLMError } from '../errors/llm-error.js';
import { MemoryRateLimiter } from '../tenancy/memory-rate-limiter.js';
import { AUDIT_APPEND_TIMEOUT_MS, PostgresAuditLog } from './postgres/postgres-audit-log.js';
import { DEFAULT_POSTGRES_QUERY_TIMEOUT_MS, DEFAULT_POSTGRES_REPORT_TIMEOUT_MS, openPostgres, postgresTimeout } from './postgres/postgres-database.js';
import { PostgresTenantStore } from './postgres/postgres-tenant-store.js';
import { PostgresUsageLedger } from './postgres/postgres-usage-ledger.js';
import { RedisAffinityStore } from './redis/redis-affinity-store.js';
import { RedisBudgetStore } from './redis/redis-budget-store.js';
import { bounded, connectRedis, redisTimeout, type RedisHandle } from './redis/redis-connection.js';
import { RedisRateLimiter } from './redis/redis-rate-limiter.js';
import { RedisTenantEvents } from './redis/redis-tenant-events.js';
import { SqliteAuditLog } from './sqlite/sqlite-audit-log.js';
import { SqliteBudgetStore } from './sqlite/sqlite-budget-store.js';
import { openSqlite } from './sqlite/sqlite-database.js';
import { SqliteTenantStore } from './sqlite/sqlite-tenant-store.js';
import { SqliteUsageLedger } from './sqlite/sqlite-usage-ledger.js';
import type { StateStores, StateStoresConfig } from './types.js';
import { redactUrl } from '../util/redact-url.js';

/** File name of the embedded database under `dataDir`. */
export const EMBEDDED_DB_FILE = 'llmrr.db';

/** The longest the shared mode's cache, circuit and affinity stores wait for Redis (ms). */
const BEST_EFFORT_TIMEOUT_MS = 1_000;

/** The exact cache's bound on the stores' Redis when `cacheMaxBytes` is not given (or a quarter of its maxmemory). */
export const DEFAULT_SHARED_CACHE_MAX_BYTES = 64_000_000;

/**
 * Opens every state store for a mode (see `StateStoresConfig`). The drivers (better-sqlite3, redis,
 * pg) are optional peer dependencies, loaded here on first use with a clear error when missing.
 */
export async function createStateStores(config: StateStoresConfig): Promise<StateStores> {
  const clock = config.clock ?? Date.now;
  const auth = config.authCacheTtlMs !== undefined ? { authCacheTtlMs: validTtl(config.authCacheTtlMs) } : {};
  switch (config.mode) {
    case 'memory':
    case 'embedded': {
      let path = ':memory:';
      if (config.mode === 'embedded') {
        if (typeof config.dataDir !== 'string' || config.dataDir.length === 0) throw invalid('dataDir', 'must be a directory path');
        makeDirectory(config.dataDir);
        path = join(config.dataDir, EMBEDDED_DB_FILE);
      }
      const sqlite = await openSqlite(path, { synchronous: config.mode === 'embedded' ? config.synchronous : 'normal' });
      return assemble(config.mode, {
        tenants: new SqliteTenantStore(sqlite, clock, auth),
        rateLimiter: new MemoryRateLimiter(clock),
        budgets: new SqliteBudgetStore(sqlite, clock),
        ledger: new SqliteUsageLedger(sqlite, clock),
        audit: new SqliteAuditLog(sqlite, clock),
        // SQLite runs in the process: nothing to reach.
        ping: () => Promise.resolve(),
      });
    }
    case 'shared': {
      if (typeof config.redisUrl !== 'string' || !config.redisUrl) throw invalid('redisUrl', 'is required in shared mode');
      if (typeof config.postgresUrl !== 'string' || !config.postgresUrl) throw invalid('postgresUrl', 'is required in shared mode');
      const prefix = config.redisKeyPrefix ?? 'llmrr:';
      const timeoutMs = redisTimeout(config.redisTimeoutMs);
      // The cache, circuit and affinity stores only save work (a late answer is a miss or a local decision), so
      // they wait at most a second, and less when the operator's bound for every Redis call is lower.
      const bestEffortMs = Math.min(timeoutMs, BEST_EFFORT_TIMEOUT_MS);
      const queryTimeoutMs = postgresTimeout(config.postgresQueryTimeoutMs, DEFAULT_POSTGRES_QUERY_TIMEOUT_MS, 'postgresQueryTimeoutMs');
      const auditTimeoutMs = postgresTimeout(config.postgresAuditTimeoutMs, AUDIT_APPEND_TIMEOUT_MS, 'postgresAuditTimeoutMs');
      const reportTimeoutMs = postgresTimeout(config.postgresReportTimeoutMs, DEFAULT_POSTGRES_REPORT_TIMEOUT_MS, 'postgresReportTimeoutMs');
      if (config.cacheRedisUrl !== undefined && (typeof config.cacheRedisUrl !== 'string' || !config.cacheRedisUrl)) throw invalid('cacheRedisUrl', 'must be a redis:// URL');
      if (config.cacheMaxBytes !== undefined && (!Number.isSafeInteger(config.cacheMaxBytes) || config.cacheMaxBytes <= 0)) throw invalid('cacheMaxBytes', 'must be a positive integer');
      // A store that cannot be reached is named by its setting (`param`), so a caller can say which variable it was.
      const redis = await connectRedis(config.redisUrl, prefix).catch((e: unknown) => {
        throw naming(e, 'redisUrl');
      });
      // Read once at the start: what the stores' Redis does at maxmemory (said when it can evict their keys).
      const memory = await memoryPolicy(redis, bestEffortMs);
      const warn = config.onWarning ?? (() => undefined);
      const where = `The stores' Redis (${redactUrl(config.redisUrl)})`;
      if (memory.error !== undefined) {
        warn(`${where}: its maxmemory-policy could not be read (${memory.error}); it must be noeviction, or Redis may evict rate-limit and budget keys when full`);
      } else if (memory.policy !== 'noeviction' && memory.maxmemory !== 0) {
        warn(
          `${where} has maxmemory-policy ${memory.policy}${memory.maxmemory ? ` (maxmemory ${memory.maxmemory} bytes)` : ''}: when full it evicts rate-limit and budget keys (a tenant past its concurrency limit, a budget spent twice); set it to noeviction (a Redis for the exact cache alone may use allkeys-lru: cacheRedisUrl)`,
        );
      }
      let cacheRedis: RedisHandle | undefined;
      if (config.cacheRedisUrl !== undefined) {
        try {
          cacheRedis = await connectRedis(config.cacheRedisUrl, prefix, 'Redis exact cache (shared mode)');
        } catch (e) {
          await redis.retain().release();
          throw naming(e, 'cacheRedisUrl');
        }
      }
      let pg;
      try {
        pg = await openPostgres(config.postgresUrl, { schema: config.postgresSchema, poolMax: config.postgresPoolMax, queryTimeoutMs, reportTimeoutMs });
      } catch (e) {
        await redis.retain().release();
        await cacheRedis?.retain().release();
        throw naming(e, 'postgresUrl');
      }
      // On the stores' Redis, the cache is bounded below its maxmemory: it never fills it (noeviction: every limit
      // refused) nor pushes their keys out (an eviction policy). On a Redis of its own, that Redis's maxmemory does.
      let cacheMaxBytes = config.cacheMaxBytes;
      if (cacheRedis === undefined && cacheMaxBytes === undefined) {
        cacheMaxBytes = memory.maxmemory ? Math.min(DEFAULT_SHARED_CACHE_MAX_BYTES, Math.max(1, Math.floor(memory.maxmemory / 4))) : DEFAULT_SHARED_CACHE_MAX_BYTES;
      }
      const cache = new RedisCacheStore<CachedAnswer>(cacheRedis ?? redis, {
        keyPrefix: `${prefix}cache:`,
        timeoutMs: bestEffortMs,
        ...(cacheMaxBytes !== undefined ? { maxBytes: cacheMaxBytes } : {}),
      });
      // (The store holds the cache Redis's one reference: closed with it.)
      const tenants = new PostgresTenantStore(pg, clock, { ...auth, ...(config.onError ? { onError: config.onError } : {}) });
      return assemble('shared', {
        tenants,
        rateLimiter: new RedisRateLimiter(redis, { timeoutMs }),
        budgets: new RedisBudgetStore(redis, clock, { timeoutMs }),
        ledger: new PostgresUsageLedger(pg, clock),
        audit: new PostgresAuditLog(pg, clock, { timeoutMs: auditTimeoutMs }),
        cache,
        circuits: new RedisCircuitStateStore(redis, { keyPrefix: `${prefix}circuit:`, timeoutMs: bestEffortMs }),
        affinity: new RedisAffinityStore(redis, { keyPrefix: `${prefix}affinity:`, timeoutMs: bestEffortMs }),
        // A deletion heard drops the tenant's cached key lookups first, so a listener's next read of it misses the cache.
        tenantEvents: new RedisTenantEvents(redis, { channel: `${prefix}tenant-deleted`, timeoutMs: bestEffortMs, invalidate: (id) => tenants.invalidateCached(id) }),
        ping: async () => {
          await Promise.all([bounded(redis.command(['PING']), timeoutMs, 'readiness PING'), pg.ping(timeoutMs)]);
        },
      });
    }
    default:
      throw invalid('mode', `must be "memory", "embedded" or "shared" (got ${JSON.stringify((config as { mode?: unknown }).mode)})`);
  }
}

function assemble(
  mode: StateStores['mode'],
  parts: Omit<StateStores, 'mode' | 'close' | 'cache' | 'circuits' | 'affinity' | 'tenantEvents'> & {
    cache?: RedisCacheStore<CachedAnswer>;
    circuits?: RedisCircuitStateStore;
    affinity?: RedisAffinityStore;
    tenantEvents?: RedisTenantEvents;
  },
): StateStores {
  let closing: Promise<void> | undefined;
  return {
    mode,
    ...parts,
    // Closed (or closing) stores serve nothing: a readiness probe must not say otherwise, in any mode.
    ping: () => (closing ? Promise.reject(new LLMError({ code: 'store_unavailable', message: 'The state stores are closed' })) : parts.ping()),
    close() {
      // Pending auth-failure counts go to the audit log before it closes.
      closing ??= closeAuthFailureAudit(parts.audit).catch(() => undefined).then(() => Promise.all([
        parts.tenants.close(),
        parts.rateLimiter.close(),
        parts.budgets.close(),
        parts.ledger.close(),
        parts.audit.close(),
        parts.cache?.close(),
        parts.circuits?.close(),
        parts.affinity?.close(),
        parts.tenantEvents?.close(),
      ])).then(() => undefined);
      return closing;
    },
  };
}

/**
 * The stores' Redis's `maxmemory` (bytes, 0: none) and `maxmemory-policy`, or why they could not be read (`CONFIG` is
 * refused or renamed on some managed services; a late answer: the bound).
 */
async function memoryPolicy(redis: RedisHandle, timeoutMs: number): Promise<{ maxmemory?: number; policy?: string; error?: string }> {
  try {
    const reply = await bounded(redis.command<unknown>(['CONFIG', 'GET', 'maxmemory*']), timeoutMs, 'CONFIG GET maxmemory');
    // RESP2: [name, value, ...]; RESP3: a map.
    const pairs = new Map<string, string>();
    if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) pairs.set(String(reply[i]), String(reply[i + 1]));
    else if (reply instanceof Map) for (const [k, v] of reply) pairs.set(String(k), String(v));
    else if (reply && typeof reply === 'object') for (const [k, v] of Object.entries(reply)) pairs.set(k, String(v));
    const policy = pairs.get('maxmemory-policy');
    const maxmemory = Number(pairs.get('maxmemory'));
    if (policy === undefined || !Number.isFinite(maxmemory)) return { error: 'CONFIG GET answered no maxmemory-policy' };
    return { policy, maxmemory };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * A store's connection error naming the config key of its URL as `param` (when it names none; a driver that
 * is not installed names its package, as `provider`, not the URL).
 */
function naming(e: unknown, param: 'redisUrl' | 'cacheRedisUrl' | 'postgresUrl'): unknown {
  if (!LLMError.isInstance(e) || e.param !== undefined || e.provider !== undefined) return e;
  return new LLMError({ code: e.code, message: e.message, param, cause: e.cause ?? e });
}

/**
 * `mkdir -p`, failing at the first directory that cannot be made. Node's own (`mkdirSync(dir, { recursive: true })`)
 * never returns for a path under /proc: mkdir there fails with ENOENT, which it takes for a missing parent, for ever.
 */
function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      statSync(d);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      // Made meanwhile by another process starting on the same directory.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

function validTtl(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw invalid('authCacheTtlMs', 'must be a number of milliseconds >= 0');
  return ms;
}

function invalid(param: string, message: string): LLMError {
  return new LLMError({ code: 'config_invalid', message: `Invalid state store config: ${param} ${message}`, param });
}
