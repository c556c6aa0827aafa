import { mkdirSync } from 'node:fs';
import { closeAuthFailureAudit } from '../audit/auth-failure-audit.js';
import { join } from 'node:path';
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
import { bounded, connectRedis, redisTimeout } from './redis/redis-connection.js';
import { RedisRateLimiter } from './redis/redis-rate-limiter.js';
import { RedisTenantEvents } from './redis/redis-tenant-events.js';
import { SqliteAuditLog } from './sqlite/sqlite-audit-log.js';
import { SqliteBudgetStore } from './sqlite/sqlite-budget-store.js';
import { openSqlite } from './sqlite/sqlite-database.js';
import { SqliteTenantStore } from './sqlite/sqlite-tenant-store.js';
import { SqliteUsageLedger } from './sqlite/sqlite-usage-ledger.js';
import type { StateStores, StateStoresConfig } from './types.js';

/** File name of the embedded database under `dataDir`. */
export const EMBEDDED_DB_FILE = 'llmrr.db';

/** The longest the shared mode's cache, circuit and affinity stores wait for Redis (ms). */
const BEST_EFFORT_TIMEOUT_MS = 1_000;

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
        mkdirSync(config.dataDir, { recursive: true });
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
      const redis = await connectRedis(config.redisUrl, prefix);
      let pg;
      try {
        pg = await openPostgres(config.postgresUrl, { schema: config.postgresSchema, poolMax: config.postgresPoolMax, queryTimeoutMs, reportTimeoutMs });
      } catch (e) {
        await redis.retain().release();
        throw e;
      }
      const tenants = new PostgresTenantStore(pg, clock, { ...auth, ...(config.onError ? { onError: config.onError } : {}) });
      return assemble('shared', {
        tenants,
        rateLimiter: new RedisRateLimiter(redis, { timeoutMs }),
        budgets: new RedisBudgetStore(redis, clock, { timeoutMs }),
        ledger: new PostgresUsageLedger(pg, clock),
        audit: new PostgresAuditLog(pg, clock, { timeoutMs: auditTimeoutMs }),
        cache: new RedisCacheStore<CachedAnswer>(redis, { keyPrefix: `${prefix}cache:`, timeoutMs: bestEffortMs }),
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

function validTtl(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw invalid('authCacheTtlMs', 'must be a number of milliseconds >= 0');
  return ms;
}

function invalid(param: string, message: string): LLMError {
  return new LLMError({ code: 'config_invalid', message: `Invalid state store config: ${param} ${message}`, param });
}
