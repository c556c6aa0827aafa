import { LLMError } from '../errors/llm-error.js';
import type { Invoice, InvoiceLine, UsageEntry, UsageGroupBy, UsageQuery, UsageSummary, UsageTotals } from '../metering/types.js';
import { USAGE_STATUSES } from '../metering/usage-input.js';
import { nanoToUsd, usdToNano } from '../tenancy/money.js';

/** SQL shared by the SQLite and PostgreSQL ledgers (both speak this subset). */
export const LEDGER_AGGREGATES = `COUNT(*) AS requests,
  COALESCE(SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END), 0) AS errors,
  COALESCE(SUM(CASE WHEN status = 'aborted' THEN 1 ELSE 0 END), 0) AS aborted,
  COALESCE(SUM(CASE WHEN cache_hit THEN 1 ELSE 0 END), 0) AS cache_hits,
  COALESCE(SUM(input_tokens), 0) AS input_tokens,
  COALESCE(SUM(output_tokens), 0) AS output_tokens,
  COALESCE(SUM(cached_input_tokens), 0) AS cached_input_tokens,
  COALESCE(SUM(cache_write_input_tokens), 0) AS cache_write_input_tokens,
  COALESCE(SUM(cache_write_1h_input_tokens), 0) AS cache_write_1h_input_tokens,
  COALESCE(SUM(cost_nano), 0) AS cost_nano,
  COALESCE(SUM(FLOOR(latency_ms * 1000 + 0.5)), 0) AS latency_us`;

export interface AggregateRow {
  group_key?: unknown;
  requests: unknown;
  errors: unknown;
  aborted: unknown;
  cache_hits: unknown;
  input_tokens: unknown;
  output_tokens: unknown;
  cached_input_tokens: unknown;
  cache_write_input_tokens: unknown;
  cache_write_1h_input_tokens: unknown;
  cost_nano: unknown;
  /**
   * The rows' latencies summed in whole microseconds (each rounded first), as doubles: whole numbers add exactly below
   * 2^53 in every database (an integer cast or sum would overflow, an error, on absurd latencies).
   */
  latency_us: unknown;
}

export function usageParams(e: UsageEntry): Record<string, string | number | boolean | null> {
  return {
    request_id: e.requestId,
    tenant_id: e.tenantId,
    key_id: e.keyId ?? null,
    model: e.model,
    deployment: e.deployment ?? null,
    provider: e.provider ?? null,
    endpoint: e.endpoint ?? null,
    input_tokens: e.inputTokens,
    output_tokens: e.outputTokens,
    cached_input_tokens: e.cachedInputTokens,
    cache_write_input_tokens: e.cacheWriteInputTokens,
    cache_write_1h_input_tokens: e.cacheWrite1hInputTokens,
    cost_nano: usdToNano(e.costUsd),
    latency_ms: e.latencyMs,
    ttft_ms: e.ttftMs ?? null,
    status: e.status,
    error_code: e.errorCode ?? null,
    cache_hit: e.cacheHit,
    stream: e.stream,
    created_at: e.createdAt,
  };
}

export const USAGE_COLUMNS = Object.keys(
  usageParams({ requestId: '', tenantId: '', model: '', inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0, costUsd: 0, latencyMs: 0, status: 'success', cacheHit: false, stream: false, createdAt: 0 }),
);

/** WHERE clause for a usage query; `ph(i)` makes the i-th placeholder (`?` or `$i`). */
export function ledgerWhere(q: UsageQuery, ph: (index: number) => string, firstIndex = 1): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const add = (column: string, op: string, v: unknown) => {
    params.push(v);
    parts.push(`${column} ${op} ${ph(firstIndex + params.length - 1)}`);
  };
  if (q.tenantId !== undefined) add('tenant_id', '=', q.tenantId);
  if (q.keyId !== undefined) add('key_id', '=', q.keyId);
  if (q.model !== undefined) add('model', '=', q.model);
  if (q.status !== undefined) {
    if (!USAGE_STATUSES.includes(q.status)) {
      throw new LLMError({ code: 'invalid_request', message: `Invalid usage query: status must be one of ${USAGE_STATUSES.join(', ')}`, param: 'status' });
    }
    add('status', '=', q.status);
  }
  if (q.from !== undefined) add('created_at', '>=', q.from);
  if (q.to !== undefined) add('created_at', '<', q.to);
  return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/**
 * `w` (a `ledgerWhere`) narrowed to the rows listed after `before` (`UsageQuery.before`): an earlier `created_at`, or
 * the same one and a `request_id` before it in the listing's byte order (`collate`: PostgreSQL's `COLLATE "C"`, as its
 * ORDER BY). Refuses a cursor that is not a time and a request id (`invalid_request` naming `before`).
 */
export function withCursor(w: { where: string; params: unknown[] }, before: UsageQuery['before'], ph: (index: number) => string, collate = ''): { where: string; params: unknown[] } {
  if (before === undefined) return w;
  if (typeof before !== 'object' || before === null || !Number.isSafeInteger(before.createdAt) || typeof before.requestId !== 'string') {
    throw new LLMError({ code: 'invalid_request', message: 'Invalid usage query: before must be { createdAt: epoch milliseconds (an integer), requestId: string }', param: 'before' });
  }
  const n = w.params.length;
  // `created_at <= t` first, redundant but a bound the planner takes from the created_at index (an OR alone gives
  // PostgreSQL none: a page deep in a big ledger read every row newer than the cursor).
  const cond = `created_at <= ${ph(n + 1)} AND (created_at < ${ph(n + 2)} OR (created_at = ${ph(n + 3)} AND request_id${collate} < ${ph(n + 4)}))`;
  return { where: w.where ? `${w.where} AND ${cond}` : `WHERE ${cond}`, params: [...w.params, before.createdAt, before.createdAt, before.createdAt, before.requestId] };
}

/**
 * The lookup of `q.beforeId`'s row among the rows `w` (the query's `ledgerWhere`) selects: SQL selecting its
 * `created_at` and `request_id`, or undefined without `beforeId`. Refuses a `beforeId` that is not a request id, or
 * given with `before` (`invalid_request` naming `beforeId`).
 */
export function cursorRowLookup(w: { where: string; params: unknown[] }, q: UsageQuery, ph: (index: number) => string): { sql: string; params: unknown[] } | undefined {
  const id = q.beforeId;
  if (id === undefined) return undefined;
  if (typeof id !== 'string' || id.length === 0) throw new LLMError({ code: 'invalid_request', message: 'Invalid usage query: beforeId must be a request id', param: 'beforeId' });
  if (q.before !== undefined) throw new LLMError({ code: 'invalid_request', message: 'Invalid usage query: beforeId cannot be given with before (give one cursor)', param: 'beforeId' });
  const cond = `request_id = ${ph(w.params.length + 1)}`;
  return { sql: `SELECT created_at, request_id FROM llmrr_usage ${w.where ? `${w.where} AND ${cond}` : `WHERE ${cond}`}`, params: [...w.params, id] };
}

/**
 * The cursor of `beforeId` from its lookup's row (`cursorRowLookup`). No row: the id is no row this query lists (no
 * row at all, or one outside its filters: another tenant's, ...), an `invalid_request` naming `beforeId` worded the
 * same either way, so it tells nothing of rows outside the filters.
 */
export function cursorFromRow(row: { created_at?: unknown; request_id?: unknown } | undefined, beforeId: string): { createdAt: number; requestId: string } {
  if (!row) {
    throw new LLMError({
      code: 'invalid_request',
      message: `beforeId must be the request id of a usage record this listing holds (the last of the page before, with the same filters), got "${beforeId.slice(0, 100)}"`,
      param: 'beforeId',
    });
  }
  return { createdAt: Number(row.created_at), requestId: String(row.request_id) };
}

export function groupExpression(groupBy: UsageGroupBy, dialect: 'sqlite' | 'postgres'): string {
  switch (groupBy) {
    case 'model':
      return 'model';
    case 'tenant':
      return 'tenant_id';
    case 'key':
      return "COALESCE(key_id, '')";
    case 'status':
      return 'status';
    case 'day':
      return dialect === 'sqlite'
        ? "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')"
        : "to_char(to_timestamp(created_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
    default:
      throw new LLMError({ code: 'invalid_request', message: `Invalid usage summary: groupBy must be one of model, tenant, key, day, status`, param: 'groupBy' });
  }
}

export function validateRange(q: { from?: number; to?: number }): void {
  for (const [param, v] of [['from', q.from], ['to', q.to]] as const) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
      throw new LLMError({ code: 'invalid_request', message: `Invalid usage query: ${param} must be epoch milliseconds`, param });
    }
  }
}

function totalsOf(r: AggregateRow): UsageTotals {
  return {
    requests: Number(r.requests),
    errors: Number(r.errors),
    aborted: Number(r.aborted),
    cacheHits: Number(r.cache_hits),
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    cachedInputTokens: Number(r.cached_input_tokens),
    cacheWriteInputTokens: Number(r.cache_write_input_tokens),
    cacheWrite1hInputTokens: Number(r.cache_write_1h_input_tokens),
    costUsd: nanoToUsd(Number(r.cost_nano)),
    avgLatencyMs: averageLatencyMs(Number(r.latency_us), Number(r.requests)),
  };
}

/**
 * The average latency (ms) from the latencies summed in whole microseconds, to the nanosecond (6 decimals). Not the
 * databases' `AVG`: they sum floats differently (SQLite compensated, PostgreSQL plainly), so one average differed in
 * its last bits between embedded and shared mode for the same rows, and rounding the two differing floats could still
 * differ; an integer sum is the same everywhere.
 */
function averageLatencyMs(sumUs: number, requests: number): number {
  return requests > 0 ? Math.round((sumUs / requests) * 1e3) / 1e6 : 0;
}

export function buildSummary(total: AggregateRow, groups: AggregateRow[] | undefined, groupBy: UsageGroupBy | undefined): UsageSummary {
  const s: UsageSummary = totalsOf(total);
  if (groupBy && groups) {
    s.groupBy = groupBy;
    s.groups = groups.map((g) => ({ key: String(g.group_key), ...totalsOf(g) }));
  }
  return s;
}

export function buildInvoice(tenantId: string, periodStart: number, periodEnd: number, rows: AggregateRow[], now: number): Invoice {
  const lines: InvoiceLine[] = rows.map((r) => {
    const t = totalsOf(r);
    return {
      model: String(r.group_key),
      requests: t.requests,
      inputTokens: t.inputTokens,
      outputTokens: t.outputTokens,
      cachedInputTokens: t.cachedInputTokens,
      cacheWriteInputTokens: t.cacheWriteInputTokens,
      cacheWrite1hInputTokens: t.cacheWrite1hInputTokens,
      costUsd: t.costUsd,
      costNanoUsd: Number(r.cost_nano),
    };
  });
  // The lines' integer nano-dollars added (exact below 2^53): `totalUsd` is that sum / 1e9 (a float sum of the lines'
  // `costUsd` may be off in its last digit, and by a nano-dollar in large totals even rounded to 9 decimals).
  const totalNano = lines.reduce((a, l) => a + l.costNanoUsd, 0);
  const sum = (k: 'requests' | 'inputTokens' | 'outputTokens' | 'cachedInputTokens' | 'cacheWriteInputTokens' | 'cacheWrite1hInputTokens') => lines.reduce((a, l) => a + l[k], 0);
  return {
    tenantId,
    periodStart,
    periodEnd,
    lines,
    requests: sum('requests'),
    inputTokens: sum('inputTokens'),
    outputTokens: sum('outputTokens'),
    cachedInputTokens: sum('cachedInputTokens'),
    cacheWriteInputTokens: sum('cacheWriteInputTokens'),
    cacheWrite1hInputTokens: sum('cacheWrite1hInputTokens'),
    totalUsd: nanoToUsd(totalNano),
    totalNanoUsd: totalNano,
    currency: 'USD',
    generatedAt: now,
  };
}
