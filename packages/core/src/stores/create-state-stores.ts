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
import type { UsageLedger } from '../metering/types.js';
import type { BudgetStore } from '../tenancy/types.js';
import { redactUrl } from '../util/redact-url.js';

/** File name of the embedded database under `dataDir`. */
export const EMBEDDED_DB_FILE = 'llmrr.db';

/** The longest the shared mode's cache, circuit and affinity stores wait for Redis (ms). */
const BEST_EFFORT_TIMEOUT_MS = 1_000;

/** The exact cache's bound on the stores' Redis when `cacheMaxBytes` is not given (or a quarter of its maxmemory). */
export const DEFAULT_SHARED_CACHE_MAX_BYTES = 64_000_000;

/**
 * The exact cache's bound on the stores' Redis when `cacheMaxBytes` is not given and that Redis's `maxmemory` cannot be
 * read (neither `INFO` nor `CONFIG GET` answers it). About a quarter of the smallest managed plans (30 MB), so that
 * the cache cannot fill one whatever its size (under noeviction every limit and budget write would then be refused);
 * the start's warning names it, to be raised with `cacheMaxBytes` where Redis is larger.
 */
export const UNKNOWN_MAXMEMORY_CACHE_MAX_BYTES = 8_000_000;

/**
 * The ledgers `createStateStores` made in `memory` and `embedded` mode, each with the budget store that shares its
 * SQLite database and so its group commit (`sharesGroupCommit`). Kept by identity, not as a property of the stores'
 * object: a spread of it (`{ ...stores, budgets: custom }`) copies a property, so a custom budget store would pass.
 */
const groupCommitted = new WeakMap<UsageLedger, BudgetStore>();

/**
 * True when `ledger` and `budgets` are the pair `createStateStores` made in `memory` or `embedded` mode: one SQLite
 * group commit, so a ledger row and a budget settlement issued in the same synchronous run commit in one transaction
 * (a crash leaves both or neither). False for any other pair: a custom or Redis budget store over them, the shared
 * mode's stores, a wrapper of either.
 */
export function sharesGroupCommit(ledger: UsageLedger, budgets: BudgetStore): boolean {
  return groupCommitted.get(ledger) === budgets;
}

/** The default clock of leases and reservations in the process (never stepped by the wall clock). */
const monotonicNow = (): number => performance.now();

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
      // Lease and reservation expiry in the process: a monotonic clock (a wall clock jumping forward frees no place
      // of a running call), `performance.now()` unless one is given; an injected `clock` alone also times them (tests
      // move it to expire them).
      const monotonicClock = config.monotonicClock ?? config.clock ?? monotonicNow;
      let path = ':memory:';
      if (config.mode === 'embedded') {
        if (typeof config.dataDir !== 'string' || config.dataDir.length === 0) throw invalid('dataDir', 'must be a directory path');
        makeDirectory(config.dataDir);
        path = join(config.dataDir, EMBEDDED_DB_FILE);
      }
      const sqlite = await openSqlite(path, { synchronous: config.mode === 'embedded' ? config.synchronous : 'normal' });
      const budgets = new SqliteBudgetStore(sqlite, clock, { monotonicClock });
      const ledger = new SqliteUsageLedger(sqlite, clock);
      groupCommitted.set(ledger, budgets);
      return assemble(config.mode, {
        tenants: new SqliteTenantStore(sqlite, clock, auth),
        rateLimiter: new MemoryRateLimiter(clock, { monotonicClock }),
        budgets,
        ledger,
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
      let cacheRedis: RedisHandle | undefined;
      let pg;
      let memory: RedisFacts;
      let cacheMemory: RedisFacts | undefined;
      try {
        // Read once at the start: what the stores' Redis does at maxmemory (said when it can evict their keys).
        memory = await redisFacts(redis, bestEffortMs);
        if (config.cacheRedisUrl !== undefined) {
          cacheRedis = await connectRedis(config.cacheRedisUrl, prefix, 'Redis exact cache (shared mode)').catch((e: unknown) => {
            throw naming(e, 'cacheRedisUrl');
          });
          cacheMemory = await redisFacts(cacheRedis, bestEffortMs);
        }
        pg = await openPostgres(config.postgresUrl, { schema: config.postgresSchema, poolMax: config.postgresPoolMax, queryTimeoutMs, reportTimeoutMs }).catch((e: unknown) => {
          throw naming(e, 'postgresUrl');
        });
      } catch (e) {
        await redis.retain().release();
        await cacheRedis?.retain().release();
        throw e;
      }
      // On the stores' Redis, the cache is bounded below its maxmemory: it never fills it (noeviction: every limit
      // refused) nor pushes their keys out (an eviction policy). On a Redis of its own, that Redis's maxmemory does;
      // a cacheRedisUrl naming another database of the stores' server (one run_id) shares their maxmemory: bounded.
      const sameServer = cacheMemory?.runId !== undefined && cacheMemory.runId === memory.runId;
      const onStoresRedis = cacheRedis === undefined || sameServer;
      let cacheMaxBytes = config.cacheMaxBytes;
      if (onStoresRedis && cacheMaxBytes === undefined) {
        cacheMaxBytes =
          memory.maxmemory === undefined
            ? UNKNOWN_MAXMEMORY_CACHE_MAX_BYTES
            : memory.maxmemory === 0
              ? DEFAULT_SHARED_CACHE_MAX_BYTES
              : Math.min(DEFAULT_SHARED_CACHE_MAX_BYTES, Math.max(1, Math.floor(memory.maxmemory / 4)));
      }
      // Said once everything is open (a caller's onWarning may throw, to refuse the set-up: the stores close then).
      const warnings: string[] = [];
      const where = `The stores' Redis (${redactUrl(config.redisUrl)})`;
      const bound = `the exact cache is kept within ${cacheMaxBytes} bytes there (cacheMaxBytes${config.cacheMaxBytes === undefined ? ', its default' : ''})`;
      if (memory.error !== undefined) {
        warnings.push(
          `${where}: its maxmemory and maxmemory-policy could not be read (${memory.error}); it must be noeviction, or Redis may evict rate-limit and budget keys when full` +
            (onStoresRedis ? `; ${bound}${config.cacheMaxBytes === undefined ? ' while its maxmemory is unknown' : ''}: set cacheMaxBytes to at most a quarter of its maxmemory` : ''),
        );
      } else if (memory.policy !== 'noeviction' && memory.maxmemory !== 0) {
        warnings.push(
          `${where} has maxmemory-policy ${memory.policy}${memory.maxmemory ? ` (maxmemory ${memory.maxmemory} bytes)` : ''}: when full it evicts rate-limit and budget keys (a tenant past its concurrency limit, a budget spent twice); set it to noeviction (a Redis for the exact cache alone may use allkeys-lru: cacheRedisUrl)`,
        );
      }
      if (sameServer) {
        warnings.push(
          `cacheRedisUrl (${redactUrl(config.cacheRedisUrl!)}) is a database of the stores' own Redis server, which shares one maxmemory: ${bound}, as on the stores' Redis; give the cache a Redis server of its own to lift it`,
        );
      } else if (cacheMemory?.maxmemory === 0 && config.cacheMaxBytes === undefined) {
        warnings.push(
          `The exact cache's Redis (${redactUrl(config.cacheRedisUrl!)}) has no maxmemory: its entries grow until their TTLs end, as far as the host's memory; set maxmemory there with maxmemory-policy allkeys-lru (or cacheMaxBytes)`,
        );
      }
      const cache = new RedisCacheStore<CachedAnswer>(cacheRedis ?? redis, {
        keyPrefix: `${prefix}cache:`,
        timeoutMs: bestEffortMs,
        ...(cacheMaxBytes !== undefined ? { maxBytes: cacheMaxBytes } : {}),
      });
      // (The store holds the cache Redis's one reference: closed with it.)
      const tenants = new PostgresTenantStore(pg, clock, { ...auth, ...(config.onError ? { onError: config.onError } : {}) });
      const stores = assemble('shared', {
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
      if (config.onWarning) {
        try {
          for (const warning of warnings) config.onWarning(warning);
        } catch (e) {
          await stores.close();
          throw e;
        }
      }
      return stores;
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

/** What the start reads of a Redis: its `maxmemory` (bytes, 0: none), `maxmemory-policy` and `run_id` (one per server). */
interface RedisFacts {
  maxmemory?: number;
  policy?: string;
  runId?: string;
  /** Why maxmemory and its policy could not be read. */
  error?: string;
}

/**
 * A Redis's facts from `INFO` (its server and memory sections; managed services that refuse `CONFIG` mostly answer it),
 * else `CONFIG GET maxmemory*` for the memory ones. Never throws: what could not be read is said in `error` (each
 * command bounded by `timeoutMs`).
 */
async function redisFacts(redis: RedisHandle, timeoutMs: number): Promise<RedisFacts> {
  const facts: RedisFacts = {};
  const errors: string[] = [];
  try {
    const info = String(await bounded(redis.command<unknown>(['INFO']), timeoutMs, 'INFO'));
    for (const line of info.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      if (name === 'run_id' && value) facts.runId = value;
      else if (name === 'maxmemory' && /^\d+$/.test(value)) facts.maxmemory = Number(value);
      else if (name === 'maxmemory_policy' && value) facts.policy = value;
    }
  } catch (e) {
    errors.push(e instanceof Error ? e.message : String(e));
  }
  if (facts.maxmemory !== undefined && facts.policy !== undefined) return facts;
  try {
    const reply = await bounded(redis.command<unknown>(['CONFIG', 'GET', 'maxmemory*']), timeoutMs, 'CONFIG GET maxmemory');
    // RESP2: [name, value, ...]; RESP3: a map.
    const pairs = new Map<string, string>();
    if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) pairs.set(String(reply[i]), String(reply[i + 1]));
    else if (reply instanceof Map) for (const [k, v] of reply) pairs.set(String(k), String(v));
    else if (reply && typeof reply === 'object') for (const [k, v] of Object.entries(reply)) pairs.set(k, String(v));
    const policy = pairs.get('maxmemory-policy');
    const maxmemory = Number(pairs.get('maxmemory'));
    if (policy !== undefined && Number.isSafeInteger(maxmemory) && maxmemory >= 0) return { ...facts, policy, maxmemory };
    errors.push('CONFIG GET answered no maxmemory-policy');
  } catch (e) {
    errors.push(e instanceof Error ? e.message : String(e));
  }
  return { ...(facts.runId !== undefined ? { runId: facts.runId } : {}), error: [...new Set(errors)].join('; ') };
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
