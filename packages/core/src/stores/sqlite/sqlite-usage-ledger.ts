import { normalizeUsageEntry, queryLimit } from '../../metering/usage-input.js';
import type { Invoice, UsageEntry, UsageEntryInput, UsageGroupBy, UsageLedger, UsageQuery, UsageSummary } from '../../metering/types.js';
import { LEDGER_AGGREGATES as AGGREGATES, buildInvoice, buildSummary, cursorFromRow, cursorRowLookup, groupExpression, ledgerWhere, validateRange, withCursor, type AggregateRow } from '../ledger-sql.js';
import { usdToNano } from '../../tenancy/money.js';
import { rowToUsage, type Row } from '../row-mapping.js';
import type { SqliteHandle } from './sqlite-database.js';

/**
 * The ledger read by time (schema step 8's index), for a listing without a tenant and a summary without a tenant but
 * with a `from`/`to`: the plans the planner takes without statistics. After an `ANALYZE` (nothing here runs one, an
 * operator may), its STAT4 samples could make it skip-scan `llmrr_usage_tenant_time` and sort the whole range instead
 * (a day of 100k rows, newest 100: 6-17 ms against 0.7-1.1 ms). Not for a summary without a range: it reads every row
 * (but those a status/model/key filter drops), cheapest from the table in one pass; through the time index each entry
 * costs a row lookup (all rows at 100k: 26-35 ms against 7-14 ms).
 */
const BY_TIME = 'llmrr_usage INDEXED BY llmrr_usage_time';

/** Whether `llmrr_usage_time` is there as schema step 8 makes it: on `llmrr_usage`, led by `created_at`, not partial. */
function hasTimeIndex(handle: SqliteHandle): boolean {
  const index = handle.db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'llmrr_usage_time' AND tbl_name = 'llmrr_usage'`).get() as { sql: string | null } | undefined;
  if (!index || /\bWHERE\b/i.test(index.sql ?? '')) return false;
  const columns = handle.db.prepare(`PRAGMA index_info(llmrr_usage_time)`).all() as Array<{ seqno: number; name: string | null }>;
  return columns.find((c) => c.seqno === 0)?.name === 'created_at';
}

/**
 * The usage ledger in SQLite. `record` is one `INSERT ... ON CONFLICT DO NOTHING`, group-committed with the
 * other writes of the same event-loop turn (`SqliteGroupCommit`): when its promise resolves, the row's
 * transaction is committed to the WAL (durable against a killed process; with `synchronous=FULL` also
 * against power loss).
 */
export class SqliteUsageLedger implements UsageLedger {
  /** `query` and `summary` filter by `status` (`ledgerWhere`): the gateway asks for a `status` page at any offset directly. */
  readonly filtersStatus = true as const;
  private readonly insert;
  private readonly getOne;
  /**
   * `BY_TIME` when the file has that index as schema step 8 makes it (led by `created_at`, not partial), else the plain
   * table: a file whose index an operator dropped, or one of a later version that replaced it (not migrated here), is
   * read without it (slower) rather than failing each listing with "no such index".
   */
  private readonly byTime: string;

  constructor(
    private readonly handle: SqliteHandle,
    private readonly clock: () => number = Date.now,
  ) {
    handle.retain();
    this.insert = handle.db.prepare(`INSERT INTO llmrr_usage (request_id, tenant_id, key_id, model, deployment, provider, endpoint,
      input_tokens, output_tokens, cached_input_tokens, cache_write_input_tokens, cache_write_1h_input_tokens, cost_nano, latency_ms, ttft_ms,
      status, error_code, cache_hit, stream, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (request_id) DO NOTHING`);
    this.getOne = handle.db.prepare(`SELECT * FROM llmrr_usage WHERE request_id = ?`);
    this.byTime = hasTimeIndex(handle) ? BY_TIME : 'llmrr_usage';
  }

  /** (Not `async`: the group commit's promise itself, without an async function's extra turns; a synchronous throw is a rejection.) */
  record(input: UsageEntryInput): Promise<{ inserted: boolean }> {
    try {
      return this.recordNow(input);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private recordNow(input: UsageEntryInput): Promise<{ inserted: boolean }> {
    const e = normalizeUsageEntry(input, this.clock());
    // Positional parameters, in the column order above (cheaper to bind than named ones).
    const params = [
      e.requestId, e.tenantId, e.keyId ?? null, e.model, e.deployment ?? null, e.provider ?? null, e.endpoint ?? null,
      e.inputTokens, e.outputTokens, e.cachedInputTokens, e.cacheWriteInputTokens, e.cacheWrite1hInputTokens, usdToNano(e.costUsd),
      e.latencyMs, e.ttftMs ?? null, e.status, e.errorCode ?? null, e.cacheHit ? 1 : 0, e.stream ? 1 : 0, e.createdAt,
    ];
    return this.handle.writes.run(
      () => ({ inserted: this.insert.run(params).changes > 0 }),
      // A request's last write: a WAL checkpoint that is due runs after it, off the request's path.
      () => this.handle.checkpoints?.requestEnded(),
    );
  }

  async get(requestId: string): Promise<UsageEntry | undefined> {
    const row = this.getOne.get(requestId) as Row | undefined;
    return row ? rowToUsage(row) : undefined;
  }

  async query(q: UsageQuery): Promise<UsageEntry[]> {
    validateRange(q);
    const filters = ledgerWhere(q, () => '?');
    const lookup = cursorRowLookup(filters, q, () => '?');
    const before = lookup ? cursorFromRow(this.handle.db.prepare(lookup.sql).get(...lookup.params) as Row | undefined, q.beforeId!) : q.before;
    const { where, params } = withCursor(filters, before, () => '?');
    const { limit, offset } = queryLimit(q);
    const table = q.tenantId === undefined ? this.byTime : 'llmrr_usage';
    const rows = this.handle.db.prepare(`SELECT * FROM ${table} ${where} ORDER BY created_at DESC, request_id DESC LIMIT ? OFFSET ?`).all(...params, limit, offset) as Row[];
    return rows.map(rowToUsage);
  }

  async summary(q: Omit<UsageQuery, 'limit' | 'offset'> & { groupBy?: UsageGroupBy }): Promise<UsageSummary> {
    validateRange(q);
    const { where, params } = ledgerWhere(q, () => '?');
    const db = this.handle.db;
    const table = q.tenantId === undefined && (q.from !== undefined || q.to !== undefined) ? this.byTime : 'llmrr_usage';
    const total = db.prepare(`SELECT ${AGGREGATES} FROM ${table} ${where}`).get(...params) as AggregateRow;
    let groups: AggregateRow[] | undefined;
    if (q.groupBy) {
      const g = groupExpression(q.groupBy, 'sqlite');
      groups = db.prepare(`SELECT ${g} AS group_key, ${AGGREGATES} FROM ${table} ${where} GROUP BY group_key ORDER BY group_key`).all(...params) as AggregateRow[];
    }
    return buildSummary(total, groups, q.groupBy);
  }

  async invoice(tenantId: string, periodStart: number, periodEnd: number): Promise<Invoice> {
    validateRange({ from: periodStart, to: periodEnd });
    const rows = this.handle.db
      .prepare(`SELECT model AS group_key, ${AGGREGATES} FROM llmrr_usage WHERE tenant_id = ? AND created_at >= ? AND created_at < ? GROUP BY model ORDER BY model`)
      .all(tenantId, periodStart, periodEnd) as AggregateRow[];
    return buildInvoice(tenantId, periodStart, periodEnd, rows, this.clock());
  }

  async close(): Promise<void> {
    this.handle.release();
  }
}
