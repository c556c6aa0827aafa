import type { ModelConfig, ModelConfigInput } from '../config/schema.js';

/**
 * Tenancy contracts: tenants, API keys, rate limits and budgets. Implementations live in `../stores/`
 * (SQLite, Redis, PostgreSQL, memory) behind these interfaces; the gateway codes only against them.
 * Times are epoch milliseconds (UTC). Money is USD as a number at the interface; stores keep integer
 * nano-dollars internally so sums are exact.
 */

export type TenantTier = 'basic' | 'pro' | 'enterprise';
export type BudgetPeriod = 'day' | 'week' | 'month' | 'total';

/** Per-tenant or per-key limits. Absent fields mean "no limit". */
export interface Limits {
  /** Requests per minute. */
  rpm?: number;
  /** Tokens (input + output) per minute. */
  tpm?: number;
  /** Requests in flight at once. */
  maxConcurrency?: number;
}

export interface TenantBudget {
  amountUsd: number;
  /** Calendar periods in UTC: day, ISO week (Monday start), month; `total` never resets. */
  period: BudgetPeriod;
}

export interface TenantPreferences {
  /** Preferred routing strategy name. */
  strategy?: string;
  /**
   * Which strategies this tenant's clients may ask for per request through the gateway (`x-llmrr-strategy`,
   * `llmrr.strategy`): `true` any, `false` none, or a list; instead of the router's `routing.clientStrategies`.
   */
  clientStrategies?: boolean | string[];
  [key: string]: unknown;
}

export interface Tenant {
  id: string;
  name: string;
  tier: TenantTier;
  /** Deployment names or aliases this tenant may use; absent means all. */
  allowedModels?: string[];
  /** Models only this tenant sees (same shape as config `models`). */
  models?: ModelConfig[];
  preferences: TenantPreferences;
  limits?: Limits;
  budget?: TenantBudget;
  /** A disabled tenant's keys fail authentication (`reason: 'tenant_disabled'`). */
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface TenantInput {
  /** Generated (`ten_...`) when absent. Must match `TENANT_ID_PATTERN`: 1-64 of A-Z a-z 0-9 . _ -, not only dots. */
  id?: string;
  name: string;
  tier?: TenantTier;
  allowedModels?: string[];
  /** Validated with the config's model schema (defaults filled in). */
  models?: ModelConfigInput[];
  preferences?: TenantPreferences;
  limits?: Limits;
  budget?: TenantBudget;
  disabled?: boolean;
}

/** Fields to change; `null` clears an optional field. */
export interface TenantPatch {
  name?: string;
  tier?: TenantTier;
  allowedModels?: string[] | null;
  models?: ModelConfigInput[] | null;
  preferences?: TenantPreferences;
  limits?: Limits | null;
  budget?: TenantBudget | null;
  disabled?: boolean;
}

/** A stored API key. The secret itself is never stored: only its SHA-256 (`hash`, hex). */
export interface ApiKey {
  /** Stable id (`key_...`), used by the admin API; survives rotation. */
  id: string;
  tenantId: string;
  name: string;
  /** First characters of the secret, safe to show (e.g. `llmrr_ab12cd`). */
  prefix: string;
  /** Hex SHA-256 of the secret. Never send it to clients. */
  hash: string;
  limits?: Limits;
  createdAt: number;
  /** Set by `rotateKey` to the time of the last rotation. */
  rotatedAt?: number;
  revokedAt?: number;
  expiresAt?: number;
  /** Updated by `authenticate`, at most about once a minute per key per process (it costs a write). */
  lastUsedAt?: number;
}

export interface ApiKeyInput {
  name: string;
  limits?: Limits;
  expiresAt?: number;
}

/** Fields of a key to change; `null` clears the limits or the expiry. */
export interface ApiKeyPatch {
  name?: string;
  limits?: Limits | null;
  /** Epoch ms; a time in the past makes the key fail authentication as `expired`. */
  expiresAt?: number | null;
}

/** `rotateKey` options. */
export interface RotateKeyOptions {
  /** Rotate only while the key's hash is still this one (compare-and-set); else `conflict`. */
  expectedHash?: string;
}

/** Returned by createKey/rotateKey: the only time the secret is ever visible. */
/** What `revokeKey` did. */
export interface RevokedApiKey {
  /** The key, with `revokedAt` set. */
  key: ApiKey;
  /**
   * True when this call revoked the key; false when it was revoked already (before, or by a concurrent call in this
   * or another process): exactly one of any number of revocations of a key reports true.
   */
  changed: boolean;
}

export interface CreatedApiKey {
  key: ApiKey;
  /** `llmrr_` + 43 base64url chars (32 random bytes). Show once; it cannot be recovered. */
  secret: string;
}

export type AuthFailureReason = 'malformed' | 'unknown_key' | 'revoked' | 'expired' | 'tenant_disabled' | 'tenant_missing';

/**
 * Result of `authenticate`. On failure, `reason` is for the audit log and metrics only; the client
 * should always get the same 401 (do not reveal which keys exist).
 */
export type AuthResult =
  | { ok: true; tenant: Tenant; key: ApiKey }
  | { ok: false; reason: AuthFailureReason; keyId?: string; tenantId?: string };

export interface ListOptions {
  /**
   * Default 100, at most 1000: a larger limit is taken as 1000 and one below 1 as 1, without an error, so page
   * on by the rows returned (`offset += rows.length`), not by the limit asked for.
   */
  limit?: number;
  offset?: number;
  /**
   * `listTenants` only: the tenants whose id sorts after this one (their order: byte order of ids): page on with the
   * id of a page's last tenant. Unlike `offset`, a tenant deleted between two pages (the cursor's own too) makes none
   * go missing, and one created meanwhile makes none come twice.
   */
  after?: string;
}

export interface TenantStore {
  /** Throws LLMError `conflict` if the id exists, `invalid_request` (naming the field) for bad input. */
  createTenant(input: TenantInput): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant | undefined>;
  /** Ordered by id (byte order), so a page goes on after its last tenant's id (`ListOptions.after`). */
  listTenants(options?: ListOptions): Promise<Tenant[]>;
  /** Throws LLMError `not_found` for an unknown id. */
  updateTenant(id: string, patch: TenantPatch): Promise<Tenant>;
  /** Deletes the tenant and its keys (ledger and audit entries stay). Returns false if it did not exist. */
  deleteTenant(id: string): Promise<boolean>;

  /** Throws `not_found` for an unknown tenant. */
  createKey(tenantId: string, input: ApiKeyInput): Promise<CreatedApiKey>;
  /**
   * New secret for the same key id; the old secret stops working at once. Throws `not_found`, or `conflict` if revoked.
   * With `expectedHash` (the `hash` of the key as read) it is a compare-and-set: when the key's hash is another by
   * then (rotated meanwhile, by this or another process) nothing changes and it throws `conflict`, so of two
   * rotations of one key read alike, one wins and the other issues no secret (it would be dead already).
   */
  rotateKey(keyId: string, options?: RotateKeyOptions): Promise<CreatedApiKey>;
  /**
   * Idempotent; returns the key with `revokedAt` set, and whether this call revoked it (`changed`: decided by the
   * store's write, so one of several concurrent calls reports it). Throws `not_found`.
   */
  revokeKey(keyId: string): Promise<RevokedApiKey>;
  /**
   * Changes a key's name, limits or expiry (`null` clears). Every process sees it on the key's next
   * request (the SQLite store's authentication cache is cleared by any other connection's commit; the
   * PostgreSQL store caches only with `authCacheTtlMs`, and then other processes see it within that TTL).
   * Throws `not_found`, `conflict` if the key is revoked, `invalid_request` naming the field.
   */
  updateKey(keyId: string, patch: ApiKeyPatch): Promise<ApiKey>;
  getKey(keyId: string): Promise<ApiKey | undefined>;
  /** Includes revoked keys (with `revokedAt`). */
  listKeys(tenantId: string): Promise<ApiKey[]>;
  /** Looks up a presented secret (from `Authorization: Bearer` or `X-API-Key`). */
  authenticate(secret: string): Promise<AuthResult>;

  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Rate limits

export type RateScopeKind = 'tenant' | 'key';
export type RateLimitKind = 'rpm' | 'tpm' | 'concurrency';

/** One subject of limits. A request usually presents two: its tenant and its key. */
export interface RateScope {
  kind: RateScopeKind;
  id: string;
  limits: Limits;
}

export interface RateAcquireOptions {
  /** Tokens charged now against `tpm` (input estimate + max output is a good upper bound). */
  estimatedTokens: number;
  /**
   * How long a concurrency slot is held if the lease is never released (crash safety).
   * Default 10 minutes.
   */
  leaseTtlMs?: number;
}

/**
 * Values for response headers, from the most constrained scope. `X-RateLimit-Limit/Remaining/Reset`
 * use the request numbers; `...-Tokens` variants the token numbers. `reset...Ms` is the time until the
 * window is fully replenished. Absent when no scope has that limit.
 */
export interface RateLimitInfo {
  limitRequests?: number;
  remainingRequests?: number;
  resetRequestsMs?: number;
  limitTokens?: number;
  remainingTokens?: number;
  resetTokensMs?: number;
  limitConcurrency?: number;
  remainingConcurrency?: number;
}

export interface RateLease {
  /**
   * Frees the concurrency slot and corrects the token charge from the estimate to `actualTokens`
   * (refunds when lower, charges more when higher). Idempotent; call it once in a `finally`. A release that failed
   * (its store unreachable) leaves the lease held: call it again (the shared store's corrects the tokens once, frees
   * the slot once) until it succeeds, or the slot is freed when the lease's TTL runs out.
   */
  release(actualTokens?: number): Promise<void>;
  /**
   * `release(actualTokens)`, resolving with what `peek` of the lease's scopes says right after it: the request counted,
   * its token charge corrected to `actualTokens`, its concurrency slot free, the places other requests took meanwhile
   * counted. In the release's own store round trip (the Redis limiter's release script answers it), so a caller that
   * wants both makes one call, not two. A lease whose release has nothing to do in its store (no concurrency limit, no
   * token charge to correct: the Redis limiter's under rpm limits only) may make no round trip for it either when it
   * was held briefly (the Redis limiter's: at most a second): it answers `releasedInfo`'s numbers with its token charge
   * kept (the requests other calls made meanwhile not counted, the resets as at the acquire). `fresh`: read the store
   * all the same, for numbers that must count what others took meanwhile (a refusal raised after the call held its
   * place). A lease released already: a peek. Rejects as `release` does. Optional: without it, `release` then `peek`
   * (the gateway's headers of a non-streamed answer).
   */
  releaseAndPeek?(actualTokens?: number, fresh?: boolean): Promise<RateLimitInfo>;
  /**
   * The acquire's numbers (`RateDecision.info`) as they are once this lease is given back with no tokens used
   * (`release(0)`) and nothing else happened: the request still counted (rpm), its concurrency slot free, its token
   * estimate refunded, each scope's numbers computed again and the most constrained scope chosen again (what `peek`
   * would say right after the release, at the acquire's clock reading). From the per-scope state the acquire read: no
   * store call, nothing computed until asked. For the headers of a request that gives its place back at once (a
   * refusal after admission, a refusal that calls no model), not of one that held it across some work: the places
   * other requests took meanwhile are not counted (`peek` after the release says them). Optional: without it, a
   * caller has only the acquire's `info`.
   */
  releasedInfo?(): RateLimitInfo;
}

export type RateDecision =
  | { ok: true; lease: RateLease; info: RateLimitInfo }
  | {
      ok: false;
      /** Which limit refused. */
      limit: RateLimitKind;
      scope: { kind: RateScopeKind; id: string };
      /** When a retry can succeed (for `Retry-After`, rounded up to seconds). */
      retryAfterMs: number;
      info: RateLimitInfo;
    };

/**
 * rpm and tpm use GCRA (generic cell rate algorithm): one timestamp per scope and limit, exact
 * (no window-edge bursts), O(1) memory, one atomic step. A burst of up to the whole per-minute amount
 * is allowed when idle. Acquisition across all scopes is all-or-nothing: a refused request charges nothing.
 */
export interface RateLimiter {
  acquire(scopes: RateScope[], options: RateAcquireOptions): Promise<RateDecision>;
  /** Current numbers without charging anything (for dashboards). */
  peek(scopes: RateScope[]): Promise<RateLimitInfo>;
  /**
   * Extends the concurrency slots of leases still held to their TTL (`leaseTtlMs`) from now, in one batch: for
   * calls that run longer than the TTL (the gateway renews its calls in flight periodically). Leases released,
   * expired (their slot may be someone else's by now) or of another limiter are skipped. Optional: a limiter
   * without it lets long calls lose their slot at the TTL.
   */
  renew?(leases: readonly RateLease[]): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Budgets

export interface BudgetReserveRequest {
  tenantId: string;
  period: BudgetPeriod;
  limitUsd: number;
  /** Upper bound of the request's cost. The invariant `settled + reserved <= limit` holds for reservations. */
  estimateUsd: number;
  /**
   * Unique per request (the request id is a good choice). Reserving an id again while its reservation is open returns
   * that reservation (a retried call takes nothing twice). Once it is settled, released or expired the store may forget
   * the id (the Redis store deletes a finished record): reserving it again is then a new reservation, so never reuse
   * an id for another request.
   */
  reservationId: string;
  /** A reservation neither settled nor released is dropped after this (crash safety). Default 10 minutes. */
  ttlMs?: number;
  /**
   * When the request arrived (epoch ms): the reservation is in the budget period this time falls in, the one its
   * ledger row (`createdAt`, the request's start) is invoiced in, even when the period ends between the two.
   * Default: the store's clock at reserve time.
   */
  at?: number;
  /**
   * Never refused: the limit is not checked and the amount is reserved whatever the period holds. For money already
   * spent (the gateway's prefetch metering reserves 0 with it and settles the cost), which the period must count even
   * when the calls in flight hold the room left: the settled spend may then go over the limit, and later reservations
   * are refused as usual. A store that does not know it refuses as for any reservation.
   */
  force?: boolean;
  /**
   * The request id of the usage ledger row this reservation's settlement charges (the gateway's request id): a store
   * with `unsettled` lists it while the reservation is open, so a carry (`raiseSpent`'s `pending`) can tell a row whose
   * settlement has not landed yet (it will add its cost) from one already counted. Optional; at most 200 characters.
   */
  ledgerId?: string;
}

/** An open reservation tied to a ledger row (`BudgetReserveRequest.ledgerId`), as `BudgetStore.unsettled` lists it. */
export interface UnsettledCharge {
  reservationId: string;
  ledgerId: string;
}

/** A ledger row a carry read whose settlement had not landed (`raiseSpent`'s `pending`): its cost is left to it. */
export interface PendingCharge extends UnsettledCharge {
  costUsd: number;
}

export type BudgetReservation =
  | { ok: true; reservationId: string; remainingUsd: number; periodKey: string }
  | { ok: false; remainingUsd: number; limitUsd: number; periodKey: string };

export interface BudgetState {
  tenantId: string;
  period: BudgetPeriod;
  /** `2026-05-20` (day), `2026-W21` (week), `2026-05` (month), `total`. */
  periodKey: string;
  /** Start and end of the period (epoch ms); `total` has start 0 and end Infinity. */
  periodStart: number;
  periodEnd: number;
  spentUsd: number;
  reservedUsd: number;
}

export interface BudgetStore {
  /** Atomic check-and-reserve: succeeds only if `spent + reserved + estimate <= limit`. */
  reserve(request: BudgetReserveRequest): Promise<BudgetReservation>;
  /**
   * Replaces the reservation with the actual cost, added to the settled spend of every period (day, week, month,
   * total) that the reservation's time (`at`, else the time it was made) falls in, not only the period it was
   * reserved in; even if the period ended meanwhile or the reservation expired. The gateway relies on it when a
   * tenant's budget period changes: the calls still running then settle into the new period's count (a store that
   * adds only to the reservation's own period leaves them out of it). The actual cost is always recorded, even
   * above the estimate. Idempotent: a second settle of the same id is ignored. Unknown ids: returns false.
   */
  settle(reservationId: string, actualUsd: number): Promise<boolean>;
  /** Drops the reservation without charging (the request failed before costing anything). Idempotent. */
  release(reservationId: string): Promise<boolean>;
  /**
   * Extends reservations still open (neither settled, released nor expired) to `ttlMs` (default 10 minutes)
   * from now, in one batch: for calls that run longer than the TTL (the gateway renews its calls in flight
   * periodically). Unknown, finished and expired ids are skipped. Goes to the store that reserved, as settle
   * does. Optional: a store without it lets long calls lose their reservation at the TTL.
   */
  renew?(reservationIds: readonly string[], ttlMs?: number): Promise<void>;
  // settle/release go to the store (process) that reserved: the SQLite store keeps open reservations in
  // memory (publishing their sum for other processes), so another process does not know their ids.
  /** Spent and reserved amounts in the current period. */
  spent(tenantId: string, period: BudgetPeriod): Promise<BudgetState>;
  /**
   * Raises the settled spend of `period` to `spentUsd` when it is less (never lowers it): a budget whose period
   * changed, or that is set where there was none, starts its period at what the ledger holds for that window (the
   * gateway's admin API and the gateway server's config seeding do), not at $0. `at` (epoch ms) picks the period, as
   * `reserve`'s does: the time the ledger's window was taken from, so a change made across a period's end raises the
   * period that was read. Default: the store's clock. Optional: a store without it keeps what it counted.
   * `pending` (with `unsettled`): ledger rows counted in `spentUsd` whose settlement had not landed when they were
   * listed; the cost of each one whose reservation is still open when the raise runs (its settlement will add it) is
   * taken from `spentUsd` first, atomically, so the row is counted once.
   */
  raiseSpent?(tenantId: string, period: BudgetPeriod, spentUsd: number, at?: number, pending?: readonly PendingCharge[]): Promise<void>;
  /**
   * The tenant's reservations made with a `ledgerId` that are still open (neither settled nor released), including
   * those past their TTL whose expiry is less than `settleForMs` ago (a settlement retried that long after may still
   * land). Read by the carry after its ledger snapshot: a row of the snapshot whose reservation is listed, and still
   * open when `raiseSpent` runs, is passed there as `pending` (its settlement adds it). A store may cap `settleForMs`
   * (the Redis store at 15 minutes: it keeps no member longer). Optional, with `raiseSpent`'s `pending`: a store
   * without it gets a carry of the ledger's whole sum.
   */
  unsettled?(tenantId: string, settleForMs: number): Promise<UnsettledCharge[]>;
  close(): Promise<void>;
}
