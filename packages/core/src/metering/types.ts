/**
 * Usage ledger contracts: one record per request, idempotent by request id, durable before the
 * response completes. Times are epoch milliseconds; money is USD at the interface and integer
 * nano-dollars in storage, so sums and invoices are exact.
 */

export type UsageStatus = 'success' | 'error' | 'aborted';

export interface UsageEntry {
  /** Unique per request; the idempotency key (a second record with the same id is a no-op). */
  requestId: string;
  tenantId: string;
  keyId?: string;
  /** The model the client asked for (name or alias). */
  model: string;
  /** The deployment (config model name) that served it, if any. */
  deployment?: string;
  provider?: string;
  /** e.g. `/v1/chat/completions`. */
  endpoint?: string;
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache (part of `inputTokens`). */
  cachedInputTokens: number;
  /**
   * Input tokens written to the provider's prompt cache (part of `inputTokens`, priced above plain input:
   * Anthropic 1.25x for the 5-minute TTL, 2x for 1 hour). 0 when none were written or the provider says nothing.
   */
  cacheWriteInputTokens: number;
  /** The part of `cacheWriteInputTokens` written with the 1-hour TTL (at most `cacheWriteInputTokens`). */
  cacheWrite1hInputTokens: number;
  costUsd: number;
  latencyMs: number;
  /** Time to first token (streams) or first byte. */
  ttftMs?: number;
  status: UsageStatus;
  /** LLMError code when status is not success. */
  errorCode?: string;
  /** Served from the router's own cache. */
  cacheHit: boolean;
  stream: boolean;
  createdAt: number;
}

type DefaultedUsageField = 'cachedInputTokens' | 'cacheWriteInputTokens' | 'cacheWrite1hInputTokens' | 'cacheHit' | 'stream' | 'createdAt';

/**
 * What callers pass; defaults: cachedInputTokens, cacheWriteInputTokens and cacheWrite1hInputTokens 0,
 * cacheHit false, stream false, createdAt now.
 */
export type UsageEntryInput = Omit<UsageEntry, DefaultedUsageField> & Partial<Pick<UsageEntry, DefaultedUsageField>>;

export interface UsageQuery {
  tenantId?: string;
  keyId?: string;
  model?: string;
  /**
   * Only the rows of this status (`success`, `error` or `aborted`); any other value is an `invalid_request` naming
   * `status`.
   */
  status?: UsageStatus;
  /** Inclusive lower bound on createdAt. */
  from?: number;
  /** Exclusive upper bound on createdAt. */
  to?: number;
  /**
   * Default 100, at most 1000 (`MAX_QUERY_LIMIT`): a larger limit is taken as 1000 and one below 1 as 1, without
   * an error, so page on by the rows returned (`offset += rows.length`), not by the limit asked for.
   */
  limit?: number;
  offset?: number;
  /**
   * Only the rows listed after this one (newest first: an earlier `createdAt`, or the same `createdAt` and a
   * `requestId` before it in byte order): page on from the last row of a page (its `createdAt` and `requestId`).
   * Unlike `offset`, rows written meanwhile (new calls, calls that were still running) do not move such a page, so
   * no row comes twice. `query` only.
   */
  before?: { createdAt: number; requestId: string };
  /**
   * As `before`, from a row named by its request id (a page's last): only a row this query lists (every other filter
   * of it matches the row: tenant, key, model, status, from, to), else an `invalid_request` naming `beforeId`, the
   * same for a row of another tenant (or model, ...) as for one that does not exist, so the answer tells nothing of
   * rows outside the filters. Not with `before` (an `invalid_request` naming `beforeId`). `query` only.
   */
  beforeId?: string;
}

export type UsageGroupBy = 'model' | 'tenant' | 'key' | 'day' | 'status';

export interface UsageTotals {
  requests: number;
  /** Calls that failed (status `error`). */
  errors: number;
  /** Calls the client ended before they finished (status `aborted`), not in `errors`. */
  aborted: number;
  cacheHits: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteInputTokens: number;
  cacheWrite1hInputTokens: number;
  costUsd: number;
  /** Mean latency over the group, ms (0 when empty). */
  avgLatencyMs: number;
}

export interface UsageSummary extends UsageTotals {
  groupBy?: UsageGroupBy;
  /** Present when `groupBy` was given; sorted by key. `day` keys are `YYYY-MM-DD` (UTC). */
  groups?: Array<UsageTotals & { key: string }>;
}

export interface InvoiceLine {
  model: string;
  requests: number;
  /** All input tokens, the cache reads and writes below included. */
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache. */
  cachedInputTokens: number;
  /** Input tokens written to the provider's prompt cache (all TTLs). */
  cacheWriteInputTokens: number;
  /** The 1-hour-TTL part of `cacheWriteInputTokens`. */
  cacheWrite1hInputTokens: number;
  /** `costNanoUsd` / 1e9. */
  costUsd: number;
  /** The line's cost in integer nano-dollars (1e-9 USD), as stored: the lines' `costNanoUsd` add up to `totalNanoUsd`. */
  costNanoUsd: number;
}

export interface Invoice {
  tenantId: string;
  /** Inclusive. */
  periodStart: number;
  /** Exclusive. */
  periodEnd: number;
  /** One line per model, sorted by model. */
  lines: InvoiceLine[];
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteInputTokens: number;
  cacheWrite1hInputTokens: number;
  /**
   * `totalNanoUsd` / 1e9: the lines' costs added exactly. The lines' `costUsd` added as floats may differ from it in
   * the last digit (0.1 + 0.2 + 0.3 is 0.6000000000000001), and in totals from some hundred thousand dollars by a
   * nano-dollar even rounded to 9 decimals: add the lines' `costNanoUsd`, which is exact.
   */
  totalUsd: number;
  /** The sum of the lines' `costNanoUsd` (integer nano-dollars). */
  totalNanoUsd: number;
  currency: 'USD';
  generatedAt: number;
}

export interface UsageLedger {
  /**
   * `true` when `query` and `summary` apply `UsageQuery.status` themselves (every ledger of core's does). A ledger of
   * one's own written before `status` existed leaves it out: the gateway then counts a `status` listing's page past
   * offset 0 itself (read by the `before` cursor, chunk by chunk), and refuses an answer holding other statuses.
   */
  readonly filtersStatus?: true;
  /**
   * Durable when the promise resolves (committed to SQLite WAL / PostgreSQL). Returns
   * `{ inserted: false }` when an entry with the same requestId already exists (the first one wins).
   * Throws LLMError `invalid_request` naming the field for bad input.
   */
  record(entry: UsageEntryInput): Promise<{ inserted: boolean }>;
  get(requestId: string): Promise<UsageEntry | undefined>;
  /** Newest first. */
  query(query: UsageQuery): Promise<UsageEntry[]>;
  summary(query: Omit<UsageQuery, 'limit' | 'offset' | 'before' | 'beforeId'> & { groupBy?: UsageGroupBy }): Promise<UsageSummary>;
  /** Lines per model from the ledger for `[periodStart, periodEnd)`. */
  invoice(tenantId: string, periodStart: number, periodEnd: number): Promise<Invoice>;
  /**
   * A budget carry's read of the tenant's rows in `[from, to)` (`to` undefined: no end), in one snapshot: their cost
   * summed (the snapshot is fixed by then), then `between()` (the budget store's `unsettled`, which must see every
   * reservation of a row in the snapshot), then the cost of each of the rows named by the ids it returned that the
   * snapshot holds in the window (`costs`, by request id). Optional: without it the carry reads `summary`.
   */
  carryRead?(tenantId: string, from: number, to: number | undefined, between: () => Promise<readonly string[]>): Promise<{ costUsd: number; costs: Map<string, number> }>;
  close(): Promise<void>;
}
