import type { AuditLog } from '../audit/types.js';
import type { CacheStore } from '../cache/cache-store.js';
import type { CachedAnswer } from '../cache/exact-cache.js';
import type { PromptCacheAffinityStore } from '../router/prompt-cache-affinity/affinity-store.js';
import type { CircuitStateStore } from '../router/resilience/circuit-state-store.js';
import type { UsageLedger } from '../metering/types.js';
import type { BudgetStore, RateLimiter, TenantStore } from '../tenancy/types.js';

/**
 * Where state lives.
 * - `memory`: SQLite in memory (needs better-sqlite3) + in-memory rate limiter; for tests and demos.
 * - `embedded`: one machine. SQLite files under `dataDir` (tenants, keys, ledger, audit, budgets),
 *   in-memory rate limiter (per process).
 * - `shared`: several gateway processes act as one. Redis for rate limits, concurrency, budgets, the
 *   exact cache, circuit breaker state (atomic Lua scripts) and prompt-cache affinity, PostgreSQL for
 *   tenants, keys, ledger and audit.
 */
export type StateStoresConfig =
  | {
      mode: 'memory';
      clock?: () => number;
      /** See the `embedded` mode's. */
      monotonicClock?: () => number;
      authCacheTtlMs?: number;
    }
  | {
      mode: 'embedded';
      /**
       * Successful key lookups are cached in the process for this long (default 30 000 ms; 0 turns it
       * off). Changes made through this process apply at once, and any commit by another process to the
       * same file clears the cache before the next lookup (SQLite `data_version`), so the TTL is a backstop.
       */
      authCacheTtlMs?: number;
      dataDir: string;
      /**
       * SQLite `synchronous`: `normal` (default) survives a killed process (WAL is in the OS cache);
       * `full` also survives power loss, at the price of an fsync per commit.
       */
      synchronous?: 'normal' | 'full';
      clock?: () => number;
      /**
       * The clock concurrency leases and budget reservations expire on in this process (ms, any origin, never
       * stepped), so a wall clock that jumps forward past their TTL (NTP, a resumed VM) frees no place or room of a
       * call still running. Default: `clock` when it is given, else `performance.now()`. (Shared mode: Redis's
       * clock, see docs/core/tenancy.md.)
       */
      monotonicClock?: () => number;
    }
  | {
      mode: 'shared';
      redisUrl: string;
      postgresUrl: string;
      /** Prefix for every Redis key. Default `llmrr:`. */
      redisKeyPrefix?: string;
      /** PostgreSQL schema for the tables. Default `public`. */
      postgresSchema?: string;
      /** PostgreSQL pool size. Default 10. `ping()` opens one connection more, of its own, on its first call. */
      postgresPoolMax?: number;
      /**
       * Bound of each PostgreSQL query and transaction but the reports and audit appends, ms (default 5000): key
       * lookups, admin reads and changes, ledger writes. PostgreSQL cancels a statement running longer (the session's
       * `statement_timeout`, set on each connection: it overrides a role's or database's own, `ALTER ROLE ... SET`,
       * and a connection string's `?options=`), and a PostgreSQL that stops answering without closing the connection
       * (a partition, a hung server) is given up on a second later, its connection closed, instead of holding the
       * request until TCP gives up (minutes to hours): `store_unavailable` (503) either way. A transaction's COMMIT is
       * bounded too: one whose answer is late or lost is read back on a new connection (at most the bound again), so
       * an admin change (a tenant or key PATCH) that committed is reported done and one that did not is
       * `store_unavailable`; only when the read-back cannot tell (the COMMIT did not reach the server, which keeps
       * the transaction open until it notices; PostgreSQL not reachable) does the `store_unavailable` say it may have
       * been written (`details.mayHaveBeenWritten: true`; a creation's also `details.id`, the id it would have; a key
       * change's `details.tenantId`, the key's tenant). A change that matched no row (a key or tenant not there, a key
       * revoked already or rotated meanwhile, a tenant id taken) wrote nothing whatever became of its COMMIT: answered as such (not found,
       * conflict, unchanged), never as may have been written.
       * Every admin write is such a transaction (a key or tenant creation, a rotation, a revocation, a tenant deletion
       * too: a key creation reported failed leaves no key behind, unless the error says it may have been written:
       * list the keys before retrying). A ledger write,
       * idempotent, is not read back: one sent whose answer is lost is `store_unavailable` saying it may have been
       * written (a ledger write's retry, the gateway's settle tries once more, inserts nothing then: idempotent by
       * request id). A key's last use is written best-effort, in the background: a login neither waits for nor fails
       * on it (a row held by a change skipped; every failure, a late or read-only PostgreSQL included, dropped and
       * told to `onError`). A statement PostgreSQL cancels (at the bound: a `statement_timeout` or a lock wait's
       * `lock_timeout`; or at a cancel request) is `store_unavailable` saying it was cancelled, the server up (the
       * bound named for a timeout only); it was not written.
       */
      postgresQueryTimeoutMs?: number;
      /**
       * Bound of each report read, ms (default 60 000): usage summaries, invoices, usage entry listings, audit
       * listings (the admin API's tenant lookups of a deleted tenant included), which scan more rows than the hot
       * path's queries and would outrun `postgresQueryTimeoutMs` on a large ledger. At most a quarter of the pool
       * (`postgresPoolMax` / 4 rounded down, at least one connection) runs reports at once; the others wait for their
       * turn within this bound. Past it, `store_unavailable`.
       */
      postgresReportTimeoutMs?: number;
      /**
       * Bound of each audit append, ms (default 5000): its wait for a pool connection and for the chain's lock (held
       * by another process's append), its statements and its COMMIT; past it, `store_unavailable`. A COMMIT whose
       * answer is late or lost is read back behind the chain's lock: an entry written is reported written; only when
       * that cannot tell either does the failure say the entry may have been written.
       */
      postgresAuditTimeoutMs?: number;
      /**
       * Successful key lookups are cached in each process for this long. Default 0 (off): a revoke,
       * rotation or change made through one process then applies to every process on the next request.
       * With a TTL, it applies to the other processes within the TTL (to the process that made it at once).
       */
      authCacheTtlMs?: number;
      /**
       * Bound on each rate-limit and budget call to Redis, ms (default 2000), and on each store's round trip of
       * `ping()`. A Redis that stops answering
       * without closing the connection then fails the request's admission with `store_unavailable` instead of
       * holding it until TCP gives up (minutes). A reservation whose answer came too late is released when it
       * comes; if it never comes, it expires by its TTL (10 minutes). The exact cache, circuit and affinity stores
       * wait at most the lower of this and 1000 ms (a late answer there is a miss or a local decision).
       */
      redisTimeoutMs?: number;
      /**
       * Hears what fails in the background, where no caller can: a key's `lastUsedAt` write in PostgreSQL (dropped),
       * with a one-line message naming no secret, and the error; at most once a minute. The gateway server passes its
       * log (a warning).
       */
      onError?: (message: string, error: unknown) => void;
      /**
       * A Redis of the exact cache's own (`stores.cache`), e.g. one with `maxmemory` and `maxmemory-policy allkeys-lru`;
       * keys under `<redisKeyPrefix>cache:` there too. Absent: the cache shares the stores' Redis, bounded by
       * `cacheMaxBytes` so that it can neither evict nor starve the limits and budgets; so does another database of the
       * stores' Redis server (one `run_id` in `INFO`: one `maxmemory`; `onWarning` says so). Not part of `ping()`: a
       * cache that cannot be reached is a miss, never a failed call (one unreachable at the start fails it, naming
       * `cacheRedisUrl`).
       */
      cacheRedisUrl?: string;
      /**
       * Bound on the bytes of the exact cache's entries in Redis (`RedisCacheStore`'s `maxBytes`: expired entries
       * forgotten, the soonest to expire dropped first). On the stores' Redis server (no `cacheRedisUrl`, or one of its
       * other databases) the default is 64 000 000, or a quarter of that Redis's `maxmemory` when that is lower (read
       * at the start from `INFO`, else `CONFIG GET`), or `UNKNOWN_MAXMEMORY_CACHE_MAX_BYTES` (8 000 000) when neither
       * answers; on a cache Redis server of its own the default is none (its `maxmemory` bounds it).
       */
      cacheMaxBytes?: number;
      /**
       * Hears what the start finds wrong in the stores' set-up, one line each: a stores' Redis whose
       * `maxmemory-policy` can evict keys (the limits' and budgets': anything but `noeviction` with a `maxmemory`),
       * or one whose policy cannot be read (`INFO` and `CONFIG GET` refused, as managed Redis services may; the line
       * names the cache's bound in force); a `cacheRedisUrl` on the stores' own server (the cache kept within the
       * bound), or one without `maxmemory`. Called once everything is open: if it throws, the stores close and
       * `createStateStores` rejects with that error. The gateway server passes its log (a warning).
       */
      onWarning?: (message: string) => void;
      clock?: () => number;
    };

/** What `TenantEvents.onDeleted` listens with. */
export interface TenantEventsSubscription {
  /** Resolves once every deletion published before this call has reached the listener. */
  caughtUp(): Promise<void>;
  /** Stops listening. */
  close(): void;
}

/**
 * Shared mode only: tells every process sharing the stores that a tenant was deleted (Redis pub/sub), so each
 * drops what it keeps of the tenant in memory (its own models, what its strategies learned of it). Best effort:
 * a process whose connection to Redis is down meanwhile misses the notice (`onDeleted`'s `onMissed` says when
 * that may have happened).
 */
export interface TenantEvents {
  /** Tells every process listening (this one too) that `tenantId` was deleted. */
  deleted(tenantId: string): Promise<void>;
  /**
   * Calls `listener` with the id of each tenant deleted through any process from now on; resolves once listening.
   * `onMissed`, when given, is called when listening resumes after an interruption (the connection dropped and came
   * back): deletions told meanwhile were not heard, so the caller checks what it keeps against the tenant store.
   * Before either is called, the stores' own cached key lookups of the tenant (of every tenant, for `onMissed`) are
   * dropped, so a read of the tenant made from the listener on reaches the database.
   */
  onDeleted(listener: (tenantId: string) => void, onMissed?: () => void): Promise<TenantEventsSubscription>;
  close(): Promise<void>;
}

export interface StateStores {
  mode: StateStoresConfig['mode'];
  tenants: TenantStore;
  rateLimiter: RateLimiter;
  budgets: BudgetStore;
  ledger: UsageLedger;
  audit: AuditLog;
  /**
   * Shared mode only: the exact cache in Redis (keys under `<redisKeyPrefix>cache:`, on `cacheRedisUrl` when set,
   * else on the stores' Redis within `cacheMaxBytes`), for
   * `new LLMRouter(config, { cacheStore })`, so every process shares answers. Absent in the other modes
   * (the router's default in-memory store is the right one for a single process).
   */
  cache?: CacheStore<CachedAnswer>;
  /**
   * Shared mode only: circuit breaker state in Redis (keys under `<redisKeyPrefix>circuit:`), for
   * `new LLMRouter(config, { circuitStore })`, so every process shares open / half-open / closed per
   * deployment. Absent in the other modes (the router's default in-memory circuits are the right ones).
   */
  circuits?: CircuitStateStore;
  /**
   * Shared mode only: prompt-cache affinity in Redis (keys under `<redisKeyPrefix>affinity:`), for
   * `new LLMRouter(config, { promptCacheAffinityStore })`, so a conversation whose turns reach different
   * processes keeps going to the deployment that holds its cached prefix. Absent in the other modes (the
   * router's default in-process `MemoryAffinityStore` is the right one for a single process).
   */
  affinity?: PromptCacheAffinityStore;
  /**
   * Shared mode only: tenant deletions told to every process (Redis pub/sub on `<redisKeyPrefix>tenant-deleted`),
   * for a gateway to drop a deleted tenant's in-memory state in every process, not only the one that deleted it.
   */
  tenantEvents?: TenantEvents;
  /**
   * One cheap round trip to each service the stores live in, for a readiness probe: in shared mode a Redis
   * `PING` and a PostgreSQL `SELECT 1` (over a connection of its own, so a pool busy with slow queries does not
   * delay it), each bounded by `redisTimeoutMs`; rejects with `store_unavailable` when one fails or does not
   * answer in time. In the `embedded` and `memory` modes (SQLite in the process) it resolves. In every mode
   * it rejects with `store_unavailable` once `close()` has been called.
   */
  ping(): Promise<void>;
  /** Closes every store and connection. Idempotent. */
  close(): Promise<void>;
}
