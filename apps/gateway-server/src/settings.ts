import { expandHomePath, LLMError, redactUrl } from '@llmrr/core';
import { constants as bufferConstants } from 'node:buffer';
import { resolve } from 'node:path';
import { DEFAULT_REQUEST_TIMEOUT_MS, GATEWAY_HEAP_GROWING_PERCENT, trustedProxies } from '@llmrr/gateway/node';

export type StateMode = 'embedded' | 'memory' | 'shared';

/** Everything the server reads from its environment. */
export interface ServerSettings {
  port: number;
  /** V8 old-generation growth over the live heap, percent (`LLMRR_HEAP_GROWING_PERCENT`, default 25; 0 = V8's default). */
  heapGrowingPercent: number;
  host: string;
  /**
   * How long a client may take to send a whole request (`LLMRR_REQUEST_TIMEOUT_MS`, default 60 000): a stalled
   * one gets a 408. It does not limit answers (streams run as long as they run).
   */
  requestTimeoutMs: number;
  /**
   * How long an idle client connection stays open (`LLMRR_KEEP_ALIVE_TIMEOUT_MS`, 1 000-86 400 000; absent:
   * `serveGateway`'s default, 5 000). Behind a load balancer, above the balancer's idle timeout (AWS ALB: 60 s).
   */
  keepAliveTimeoutMs?: number | undefined;
  /**
   * How long `/ready` waits for the state stores' ping (`LLMRR_READY_TIMEOUT_MS`, 100-600 000; absent: the
   * gateway's default, 5 000). Below the probe's own timeout (Kubernetes: 1 s by default) to get a 503 rather than
   * a probe timeout.
   */
  readyTimeoutMs?: number | undefined;
  /**
   * How long a streamed answer is held for its first content before its 200 and headers go out with keep-alives
   * (`LLMRR_STREAM_HOLD_MS`, 0-2 147 483 647; absent: the gateway's default, 10 000; 0 sends them at once,
   * 2 147 483 647 holds until the first content). Below the clients' headers timeouts and a load balancer's idle
   * timeout (AWS ALB: 60 s).
   */
  streamHoldMs?: number | undefined;
  /**
   * How long a SIGTERM or SIGINT lets requests in flight finish before their connections are closed
   * (`LLMRR_SHUTDOWN_GRACE_MS`, 0-3 600 000, default 10 000). Keep it, plus a few seconds to settle the calls cut
   * and close the stores, below the platform's own limit (Kubernetes' `terminationGracePeriodSeconds`: 30 s).
   */
  shutdownGraceMs: number;
  /**
   * How long a SIGTERM or SIGINT keeps the server accepting and serving requests, with `/ready` answering 503,
   * before it stops accepting and the grace starts (`LLMRR_SHUTDOWN_DELAY_MS`, 0-600 000, default 0): the seconds
   * Kubernetes or a load balancer takes to stop sending new requests once the pod is terminating or its readiness
   * fails. Counts against the platform's stop timeout with the grace.
   */
  shutdownDelayMs: number;
  /**
   * How long the requests cut at the end of the grace have to settle (ledger row, limits, budget) and send their
   * error (a stream's error event, a non-streamed model request's 503 `shutting_down`) before every connection left
   * is closed anyway (`LLMRR_SHUTDOWN_CUT_SETTLE_MS`, 0-600 000; absent: `serveGateway`'s `cutSettleMs` default,
   * 1 000). Counts against the platform's stop timeout with the delay and the grace.
   */
  shutdownCutSettleMs?: number | undefined;
  /** SQLite files live here (embedded mode). */
  dataDir: string;
  /** Explicit config file (`LLMRR_CONFIG`); else `llmrr.config.{json,yaml,yml}` in `cwd`; else the embedded default. */
  configPath: string | undefined;
  cwd: string;
  /** Where `models/stories260K.gguf` is looked for by the default config. */
  sharedDir: string | undefined;
  adminKey: string | undefined;
  /** Bearer secret for `GET /metrics` (`LLMRR_METRICS_KEY`, at least 16 characters); absent: `/metrics` is open. */
  metricsKey?: string | undefined;
  /**
   * The router's `endUserIdSecret` (`LLMRR_END_USER_ID_SECRET`, at least 16 characters): the key of the tenant-scoped
   * end-user ids and prompt-cache keys the operator's provider accounts receive. Absent: keyed by the tenant id.
   * Never logged.
   */
  endUserIdSecret?: string | undefined;
  /** Requests without a key act as the demo tenant. Default on. */
  demo: boolean;
  state: StateMode;
  redisUrl: string | undefined;
  /**
   * Shared mode: a Redis of the exact cache's own (`LLMRR_CACHE_REDIS_URL`, as LLMRR_REDIS_URL), e.g. one with
   * `maxmemory` and `allkeys-lru`. Absent: the cache shares LLMRR_REDIS_URL's Redis, within a bound of its own.
   */
  cacheRedisUrl?: string | undefined;
  /**
   * Shared mode: bound on the bytes of the exact cache's entries in Redis (`LLMRR_CACHE_MAX_BYTES`, 1 024 to
   * 2^53 - 1; core's `cacheMaxBytes`). Absent: on the stores' Redis 64 000 000 or a quarter of its `maxmemory` when
   * lower (8 000 000 when it cannot be read); on a cache Redis of its own, none.
   */
  cacheMaxBytes?: number | undefined;
  postgresUrl: string | undefined;
  /** Shared mode: prefix of every Redis key (`LLMRR_REDIS_PREFIX`, default `llmrr:`). */
  redisKeyPrefix: string | undefined;
  /** Shared mode: PostgreSQL schema of the tables (`LLMRR_POSTGRES_SCHEMA`, default `public`). */
  postgresSchema: string | undefined;
  /**
   * Shared mode: bound on each rate-limit and budget call to Redis (`LLMRR_REDIS_TIMEOUT_MS`, 50-60 000; absent:
   * the stores' default, 2 000). A Redis that does not answer in time fails the request with a 503
   * `store_unavailable` instead of holding it.
   */
  redisTimeoutMs?: number | undefined;
  /**
   * Shared mode: bound on each PostgreSQL query and transaction but the reports (`LLMRR_POSTGRES_QUERY_TIMEOUT_MS`,
   * 100-600 000; absent: the stores' default, 5 000): key lookups, admin reads and changes, ledger writes. A
   * PostgreSQL that does not answer in time fails a key lookup or an admin call with a 503 `store_unavailable`
   * instead of holding it. A ledger write that times out may have been written all the same; it is retried once
   * (idempotent by request id), and when the retry fails too the call is answered with a 500 `internal` (the ledger's
   * error), not a 503. Set on each connection, it overrides a role's `ALTER ROLE ... SET statement_timeout`.
   */
  postgresQueryTimeoutMs?: number | undefined;
  /**
   * Shared mode: bound on each report read (`LLMRR_POSTGRES_REPORT_TIMEOUT_MS`, 100-3 600 000; absent: 60 000):
   * usage summaries, invoices, usage entry listings, audit listings, which scan more rows than the hot path's queries.
   */
  postgresReportTimeoutMs?: number | undefined;
  /** Shared mode: bound on each audit append (`LLMRR_POSTGRES_AUDIT_TIMEOUT_MS`, 100-600 000; absent: 5 000). */
  postgresAuditTimeoutMs?: number | undefined;
  /**
   * How often the concurrency leases and budget reservations of calls in flight are renewed
   * (`LLMRR_LEASE_RENEW_INTERVAL_MS`, 1 000-300 000; absent: the gateway's default, 200 000). They expire 10 minutes
   * after their last renewal, so the interval stays below that.
   */
  leaseRenewIntervalMs?: number | undefined;
  /**
   * Largest request body, bytes (`LLMRR_MAX_BODY_BYTES`, 1 024 to V8's longest string, 536 870 888; absent: the gateway's default, 32 MiB,
   * Anthropic's own limit for a Messages request). A body is held in memory while it is read, parsed and sent on.
   */
  maxBodyBytes?: number | undefined;
  /** Most messages in one request (`LLMRR_MAX_MESSAGES`, 1-1 000 000; absent: the gateway's default, 1 000). */
  maxMessages?: number | undefined;
  /** Most bytes of request bodies held at once, counted as they arrive (`LLMRR_MAX_BODY_BYTES_IN_FLIGHT`, from 1 024; absent: no bound). */
  maxBodyBytesInFlight?: number | undefined;
  /** Browser origins allowed on `/v1/*` and `/api/*` (`LLMRR_CORS_ORIGINS`: `*` or a comma-separated list). Absent: CORS off. */
  corsOrigins: '*' | string[] | undefined;
  /**
   * The load balancers or proxies in front of the server whose `X-Forwarded-For` names the client
   * (`LLMRR_TRUSTED_PROXIES`: comma-separated addresses and CIDR ranges, e.g. `10.0.0.0/8,fd00::/8`; `serveGateway`'s
   * `trustedProxies`). Absent: none, the header is never read and the audit log records the connection's peer.
   */
  trustedProxies?: string[] | undefined;
  /** OpenTelemetry tracing; absent: off (no OpenTelemetry code is loaded). */
  otel?: OtelSettings | undefined;
}

/** Where and how the gateway exports spans (OTLP/HTTP with JSON bodies). */
export interface OtelSettings {
  /** The OTLP/HTTP traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else the OTLP default. */
  tracesUrl: string;
  /** The variable that turned tracing on, for the log line. */
  enabledBy: string;
  /** `OTEL_SERVICE_NAME`, default `llmrr-gateway`. */
  serviceName: string;
  /** `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`: prompts and answers on the spans. Default off. */
  captureContent: boolean;
}

/** Default `shutdownGraceMs`. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/**
 * A setting's decimal integer (digits only), else NaN: `Number()` alone would also read `0x10`, `0b11`, `0o17` and
 * `1e3`, so a typo or a value meant for another tool would be taken silently instead of refused.
 */
function decimalInt(raw: string): number {
  return /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = decimalInt(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new LLMError({ code: 'config_invalid', message: `${name} must be a port number (0-65535), got "${raw}"`, param: name });
  return n;
}

function requestTimeoutMs(env: NodeJS.ProcessEnv): number {
  const raw = env.LLMRR_REQUEST_TIMEOUT_MS?.trim();
  if (raw === undefined || raw === '') return DEFAULT_REQUEST_TIMEOUT_MS;
  const n = decimalInt(raw);
  if (!Number.isInteger(n) || n < 1000 || n > 3_600_000) {
    throw new LLMError({ code: 'config_invalid', message: `LLMRR_REQUEST_TIMEOUT_MS must be an integer number of milliseconds from 1000 to 3600000, got "${raw}"`, param: 'LLMRR_REQUEST_TIMEOUT_MS' });
  }
  return n;
}

/** An optional integer number of milliseconds in [min, max]; undefined when the variable is absent or empty. */
function optionalMs(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const n = decimalInt(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new LLMError({ code: 'config_invalid', message: `${name} must be an integer number of milliseconds from ${min} to ${max}, got "${raw}"`, param: name });
  }
  return n;
}

/** An optional integer in [min, max] (`unit`: what it counts, for the message); undefined when the variable is absent or empty. */
function optionalCount(env: NodeJS.ProcessEnv, name: string, min: number, max: number, unit: string): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const n = decimalInt(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new LLMError({ code: 'config_invalid', message: `${name} must be an integer number of ${unit} from ${min} to ${max}, got "${raw}"`, param: name });
  }
  return n;
}

function heapGrowingPercent(env: NodeJS.ProcessEnv): number {
  const raw = env.LLMRR_HEAP_GROWING_PERCENT?.trim();
  if (raw === undefined || raw === '') return GATEWAY_HEAP_GROWING_PERCENT;
  const n = decimalInt(raw);
  if (!Number.isInteger(n) || n < 0 || n > 1000) {
    throw new LLMError({ code: 'config_invalid', message: `LLMRR_HEAP_GROWING_PERCENT must be an integer 0-1000 (0 = V8's default), got "${raw}"`, param: 'LLMRR_HEAP_GROWING_PERCENT' });
  }
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new LLMError({ code: 'config_invalid', message: `${name} must be true or false, got "${env[name]}"`, param: name });
}

/** `LLMRR_TRUSTED_PROXIES`: addresses and CIDR ranges, comma-separated; one that is neither is a `config_invalid`. */
function trustedProxyList(env: NodeJS.ProcessEnv): string[] | undefined {
  const raw = env.LLMRR_TRUSTED_PROXIES?.trim();
  if (!raw) return undefined;
  const list = raw.split(',').map((o) => o.trim()).filter((o) => o !== '');
  try {
    trustedProxies(list);
  } catch (e) {
    throw new LLMError({ code: 'config_invalid', message: `LLMRR_TRUSTED_PROXIES must be comma-separated IP addresses or CIDR ranges: ${(e as Error).message}`, param: 'LLMRR_TRUSTED_PROXIES' });
  }
  return list;
}

function corsOrigins(env: NodeJS.ProcessEnv): '*' | string[] | undefined {
  const raw = env.LLMRR_CORS_ORIGINS?.trim();
  if (!raw) return undefined;
  if (raw === '*') return '*';
  const list = raw.split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const o of list) {
    let ok = false;
    try {
      const u = new URL(o);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === o.replace(/\/$/, '');
    } catch {
      ok = false;
    }
    if (!ok) throw new LLMError({ code: 'config_invalid', message: `LLMRR_CORS_ORIGINS must be * or comma-separated origins like https://app.example.com, got "${o}"`, param: 'LLMRR_CORS_ORIGINS' });
  }
  return list;
}

/** A HOST only this machine reaches: `localhost`, 127.0.0.0/8, `::1`. */
function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * The startup warning of demo mode (on by default: requests without a key act as the demo tenant) listening beyond
 * loopback, where anyone who reaches the address spends the configured provider keys; undefined otherwise.
 */
export function demoExposureWarning(settings: Pick<ServerSettings, 'demo' | 'host'>): string | undefined {
  if (!settings.demo || isLoopback(settings.host)) return undefined;
  return `demo mode on HOST ${settings.host}, beyond loopback: anyone who reaches this address calls the configured models on their provider keys without an API key; set LLMRR_DEMO=false (and create keys) unless that is meant`;
}

/** `url` without user info, query and fragment, which may hold credentials (`https://user:token@host/...`): for logs. */
export const displayUrl: (url: string) => string = redactUrl;

function urlSetting(name: string, raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new LLMError({ code: 'config_invalid', message: `${name} must be an http(s) URL, got "${displayUrl(raw)}"`, param: name });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new LLMError({ code: 'config_invalid', message: `${name} must be an http(s) URL, got "${displayUrl(raw)}"`, param: name });
  return raw;
}

/** node-redis's own reading of a socket URL: `unix://[user[:password]@]/path/to/redis.sock[?db=N]`. */
const REDIS_UNIX_URL = /^unix:\/\/(?:[^:@/]*(?::[^@/]*)?@)?\/[^?#]+(?:\?[^#]*)?(?:#.*)?$/;

/**
 * `LLMRR_REDIS_URL` (or `LLMRR_CACHE_REDIS_URL`, `name`): redis:// or rediss:// naming a host (the client would take a
 * missing one as localhost:6379), or a unix socket as the client takes it (`unix:///var/run/redis/redis.sock?db=2`).
 */
function redisUrlSetting(raw: string, name: 'LLMRR_REDIS_URL' | 'LLMRR_CACHE_REDIS_URL' = 'LLMRR_REDIS_URL'): string {
  if (raw.startsWith('unix:')) {
    const db = raw.includes('?') ? new URLSearchParams(raw.slice(raw.indexOf('?') + 1).split('#')[0]).get('db') : null;
    if (REDIS_UNIX_URL.test(raw) && (db === null || /^\d+$/.test(db))) return raw;
    throw new LLMError({ code: 'config_invalid', message: `${name}: a unix socket URL must be unix:///path/to/redis.sock (with ?db=N for a database number), got "${displayUrl(raw)}"`, param: name });
  }
  let u: URL | undefined;
  try {
    u = new URL(raw);
  } catch {
    u = undefined;
  }
  if (u === undefined || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '') {
    throw new LLMError({ code: 'config_invalid', message: `${name} must be a redis:// or rediss:// URL naming a host (redis://127.0.0.1:6379) or a unix:///path/to/redis.sock, got "${displayUrl(raw)}"`, param: name });
  }
  return raw;
}

/**
 * `LLMRR_POSTGRES_URL`: postgres:// or postgresql:// naming a host, in the URL or as `?host=` (a socket directory,
 * `postgres://user@/llmrr?host=/var/run/postgresql`), or with PGHOST set (pg's default for an empty host); or pg's
 * `socket:/dir?db=name`, or pg's socket form `/var/run/postgresql llmrr` (a socket directory, then the database).
 * Without a host pg would go to localhost:5432 silently; another scheme it would take as postgres://; a string that is
 * not a URL it reads as a path on a host called "base".
 */
function postgresUrlSetting(raw: string, env: NodeJS.ProcessEnv): string {
  // pg-connection-string reads a string starting with "/" as "<socket directory> <database>": the host is that folder.
  if (raw.startsWith('/')) return raw;
  let u: URL | undefined;
  let emptyHost = false;
  try {
    u = new URL(raw);
  } catch {
    // pg's own reading of `postgres://user@/db?host=...` (which WHATWG URL refuses): a URL with an empty host.
    try {
      u = new URL(raw.replace('@/', '@host.invalid/'));
      emptyHost = true;
    } catch {
      u = undefined;
    }
  }
  const hostGiven = u !== undefined && ((!emptyHost && u.hostname !== '') || !!u.searchParams.get('host') || !!env.PGHOST?.trim());
  const ok = u !== undefined && (u.protocol === 'socket:' || ((u.protocol === 'postgres:' || u.protocol === 'postgresql:') && hostGiven));
  if (!ok) {
    throw new LLMError({
      code: 'config_invalid',
      message: `LLMRR_POSTGRES_URL must be a postgres:// URL naming a host (postgres://user@127.0.0.1:5432/llmrr, or ?host=/var/run/postgresql or "/var/run/postgresql llmrr" for a socket), got "${displayUrl(raw)}"`,
      param: 'LLMRR_POSTGRES_URL',
    });
  }
  return raw;
}

/** What `openPostgres` takes as a schema name (checked at start, before any connection, naming the variable). */
const POSTGRES_SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function postgresSchemaSetting(raw: string): string {
  if (!POSTGRES_SCHEMA_NAME.test(raw)) {
    throw new LLMError({ code: 'config_invalid', message: `LLMRR_POSTGRES_SCHEMA must be a schema name of lower-case letters, digits and _ (not starting with a digit, at most 63), got "${raw}"`, param: 'LLMRR_POSTGRES_SCHEMA' });
  }
  return raw;
}

/**
 * Tracing is on when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, or with
 * `LLMRR_OTEL=true` (the OTLP default `http://localhost:4318`); `LLMRR_OTEL=false` or `OTEL_SDK_DISABLED=true` turn it off.
 */
function otelSettings(env: NodeJS.ProcessEnv): OtelSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const explicit = env.LLMRR_OTEL?.trim() ? bool(env, 'LLMRR_OTEL', false) : undefined;
  if (explicit === false || (explicit === undefined && !traces && !base)) return undefined;
  let tracesUrl: string;
  if (traces) tracesUrl = urlSetting('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces);
  else if (base) tracesUrl = `${urlSetting('OTEL_EXPORTER_OTLP_ENDPOINT', base).replace(/\/+$/, '')}/v1/traces`;
  else tracesUrl = 'http://localhost:4318/v1/traces';
  return {
    tracesUrl,
    enabledBy: explicit ? 'LLMRR_OTEL' : traces ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT',
    serviceName: env.OTEL_SERVICE_NAME?.trim() || 'llmrr-gateway',
    captureContent: bool(env, 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', false),
  };
}

/**
 * The shared stores' URLs: set with another `LLMRR_STATE`, they are a `config_invalid` (replicas given them would each
 * keep their own state). Shared mode's tuning variables (`LLMRR_REDIS_PREFIX`, `LLMRR_POSTGRES_SCHEMA`,
 * `LLMRR_CACHE_MAX_BYTES`, `LLMRR_REDIS_TIMEOUT_MS`, `LLMRR_POSTGRES_QUERY_TIMEOUT_MS`, `LLMRR_POSTGRES_AUDIT_TIMEOUT_MS`,
 * `LLMRR_POSTGRES_REPORT_TIMEOUT_MS`) are only ignored there: without a URL they point nowhere (one .env for a memory dev
 * profile and a shared production one).
 */
const SHARED_ONLY = ['LLMRR_REDIS_URL', 'LLMRR_POSTGRES_URL', 'LLMRR_CACHE_REDIS_URL'] as const;

/**
 * Reads PORT (3006), HOST (127.0.0.1), LLMRR_REQUEST_TIMEOUT_MS (60000), LLMRR_KEEP_ALIVE_TIMEOUT_MS (5000), LLMRR_READY_TIMEOUT_MS (5000), LLMRR_STREAM_HOLD_MS (10000), LLMRR_SHUTDOWN_GRACE_MS (10000), LLMRR_SHUTDOWN_DELAY_MS (0), LLMRR_SHUTDOWN_CUT_SETTLE_MS (1000), LLMRR_HEAP_GROWING_PERCENT (25), LLMRR_DATA_DIR (.data), LLMRR_CONFIG, LLMRR_ADMIN_KEY, LLMRR_METRICS_KEY, LLMRR_END_USER_ID_SECRET, LLMRR_DEMO, LLMRR_STATE,
 * LLMRR_REDIS_URL, LLMRR_CACHE_REDIS_URL, LLMRR_CACHE_MAX_BYTES, LLMRR_POSTGRES_URL, LLMRR_REDIS_PREFIX, LLMRR_POSTGRES_SCHEMA, LLMRR_REDIS_TIMEOUT_MS,
 * LLMRR_POSTGRES_QUERY_TIMEOUT_MS, LLMRR_POSTGRES_AUDIT_TIMEOUT_MS, LLMRR_POSTGRES_REPORT_TIMEOUT_MS,
 * LLMRR_LEASE_RENEW_INTERVAL_MS, LLMRR_MAX_BODY_BYTES (32 MiB), LLMRR_MAX_MESSAGES (1000), LLMRR_CORS_ORIGINS, LLMRR_TRUSTED_PROXIES,
 * the OTEL_* tracing variables and LLMRR_OTEL, ... Values are trimmed; an empty or blank variable counts as unset.
 * LLMRR_REDIS_URL or LLMRR_POSTGRES_URL without LLMRR_STATE=shared is a `config_invalid` (the tuning variables of shared
 * mode are ignored then). With it, a Redis or PostgreSQL URL naming no host (or of another scheme, or not a URL) and a
 * schema name PostgreSQL would not take are a `config_invalid` naming the variable.
 * The paths (LLMRR_DATA_DIR, LLMRR_CONFIG, LLMRR_SHARED_DIR) resolve against `cwd`, a leading `~` is HOME
 * (`expandHomePath`, as for LLMRR_PRICES_FILE): a .env file or docker's `environment:` passes it on unexpanded.
 */
export function readSettings(env: NodeJS.ProcessEnv = process.env, cwd: string = env.INIT_CWD || process.cwd()): ServerSettings {
  const state = (env.LLMRR_STATE?.trim() || 'embedded') as StateMode;
  if (!['embedded', 'memory', 'shared'].includes(state)) {
    throw new LLMError({ code: 'config_invalid', message: `LLMRR_STATE must be embedded, memory or shared, got "${state}"`, param: 'LLMRR_STATE' });
  }
  if (state !== 'shared') {
    // Ignored outside shared mode: replicas given the URLs without LLMRR_STATE=shared would each keep their own
    // tenants, keys, limits and budgets (a tenant spending its budget once per replica). Refused, not warned about.
    // (LLMRR_REDIS_PREFIX, LLMRR_POSTGRES_SCHEMA and LLMRR_REDIS_TIMEOUT_MS without a URL split nothing: ignored.)
    const ignored = SHARED_ONLY.find((name) => env[name]?.trim());
    if (ignored) {
      throw new LLMError({
        code: 'config_invalid',
        message: `${ignored} is read only with LLMRR_STATE=shared (LLMRR_STATE is ${state}${env.LLMRR_STATE?.trim() ? '' : ' by default'}): set LLMRR_STATE=shared to keep the state in Redis and PostgreSQL, or unset ${ignored}`,
        param: ignored,
      });
    }
  }
  const adminKey = env.LLMRR_ADMIN_KEY?.trim() || undefined;
  if (adminKey !== undefined && adminKey.length < 16) {
    throw new LLMError({ code: 'config_invalid', message: 'LLMRR_ADMIN_KEY must be at least 16 characters', param: 'LLMRR_ADMIN_KEY' });
  }
  // Shared mode's URLs and schema: a typo fails the start naming the variable, not later as a connection error.
  const redisUrl = env.LLMRR_REDIS_URL?.trim() || undefined;
  const cacheRedisUrl = env.LLMRR_CACHE_REDIS_URL?.trim() || undefined;
  const postgresUrl = env.LLMRR_POSTGRES_URL?.trim() || undefined;
  const postgresSchema = env.LLMRR_POSTGRES_SCHEMA?.trim() || undefined;
  if (state === 'shared') {
    if (redisUrl !== undefined) redisUrlSetting(redisUrl);
    if (cacheRedisUrl !== undefined) redisUrlSetting(cacheRedisUrl, 'LLMRR_CACHE_REDIS_URL');
    if (postgresUrl !== undefined) postgresUrlSetting(postgresUrl, env);
    if (postgresSchema !== undefined) postgresSchemaSetting(postgresSchema);
  }
  const metricsKey = env.LLMRR_METRICS_KEY?.trim() || undefined;
  if (metricsKey !== undefined && metricsKey.length < 16) {
    throw new LLMError({ code: 'config_invalid', message: 'LLMRR_METRICS_KEY must be at least 16 characters', param: 'LLMRR_METRICS_KEY' });
  }
  // (The message never carries the value: a secret.)
  const endUserIdSecret = env.LLMRR_END_USER_ID_SECRET?.trim() || undefined;
  if (endUserIdSecret !== undefined && endUserIdSecret.length < 16) {
    throw new LLMError({ code: 'config_invalid', message: 'LLMRR_END_USER_ID_SECRET must be at least 16 characters', param: 'LLMRR_END_USER_ID_SECRET' });
  }
  return {
    port: int(env, 'PORT', 3006),
    heapGrowingPercent: heapGrowingPercent(env),
    host: env.HOST?.trim() || '127.0.0.1',
    requestTimeoutMs: requestTimeoutMs(env),
    keepAliveTimeoutMs: optionalMs(env, 'LLMRR_KEEP_ALIVE_TIMEOUT_MS', 1_000, 86_400_000),
    readyTimeoutMs: optionalMs(env, 'LLMRR_READY_TIMEOUT_MS', 100, 600_000),
    streamHoldMs: optionalMs(env, 'LLMRR_STREAM_HOLD_MS', 0, 2_147_483_647),
    shutdownGraceMs: optionalMs(env, 'LLMRR_SHUTDOWN_GRACE_MS', 0, 3_600_000) ?? DEFAULT_SHUTDOWN_GRACE_MS,
    shutdownDelayMs: optionalMs(env, 'LLMRR_SHUTDOWN_DELAY_MS', 0, 600_000) ?? 0,
    shutdownCutSettleMs: optionalMs(env, 'LLMRR_SHUTDOWN_CUT_SETTLE_MS', 0, 600_000),
    dataDir: resolve(cwd, expandHomePath(env.LLMRR_DATA_DIR?.trim() || '.data', env)),
    configPath: env.LLMRR_CONFIG?.trim() ? resolve(cwd, expandHomePath(env.LLMRR_CONFIG.trim(), env)) : undefined,
    cwd,
    sharedDir: env.LLMRR_SHARED_DIR?.trim() ? resolve(cwd, expandHomePath(env.LLMRR_SHARED_DIR.trim(), env)) : undefined,
    adminKey,
    metricsKey,
    endUserIdSecret,
    demo: bool(env, 'LLMRR_DEMO', true),
    state,
    redisUrl,
    ...(cacheRedisUrl !== undefined ? { cacheRedisUrl } : {}),
    cacheMaxBytes: optionalCount(env, 'LLMRR_CACHE_MAX_BYTES', 1024, Number.MAX_SAFE_INTEGER, 'bytes'),
    postgresUrl,
    redisKeyPrefix: env.LLMRR_REDIS_PREFIX?.trim() || undefined,
    postgresSchema,
    redisTimeoutMs: optionalMs(env, 'LLMRR_REDIS_TIMEOUT_MS', 50, 60_000),
    postgresQueryTimeoutMs: optionalMs(env, 'LLMRR_POSTGRES_QUERY_TIMEOUT_MS', 100, 600_000),
    postgresAuditTimeoutMs: optionalMs(env, 'LLMRR_POSTGRES_AUDIT_TIMEOUT_MS', 100, 600_000),
    postgresReportTimeoutMs: optionalMs(env, 'LLMRR_POSTGRES_REPORT_TIMEOUT_MS', 100, 3_600_000),
    leaseRenewIntervalMs: optionalMs(env, 'LLMRR_LEASE_RENEW_INTERVAL_MS', 1_000, 300_000),
    // At most the longest string (536 870 888 on 64-bit Node): a body is decoded into one.
    maxBodyBytes: optionalCount(env, 'LLMRR_MAX_BODY_BYTES', 1024, bufferConstants.MAX_STRING_LENGTH, 'bytes'),
    maxMessages: optionalCount(env, 'LLMRR_MAX_MESSAGES', 1, 1_000_000, 'messages'),
    maxBodyBytesInFlight: optionalCount(env, 'LLMRR_MAX_BODY_BYTES_IN_FLIGHT', 1024, Number.MAX_SAFE_INTEGER, 'bytes'),
    corsOrigins: corsOrigins(env),
    trustedProxies: trustedProxyList(env),
    otel: otelSettings(env),
  };
}
