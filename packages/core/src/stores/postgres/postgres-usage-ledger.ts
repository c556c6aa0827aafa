import { normalizeUsageEntry, queryLimit } from '../../metering/usage-input.js';
import type { Invoice, UsageEntry, UsageEntryInput, UsageGroupBy, UsageLedger, UsageQuery, UsageSummary } from '../../metering/types.js';
import { LEDGER_AGGREGATES, USAGE_COLUMNS, buildInvoice, buildSummary, cursorFromRow, cursorRowLookup, groupExpression, ledgerWhere, usageParams, validateRange, withCursor, type AggregateRow } from '../ledger-sql.js';
import { nanoToUsd } from '../../tenancy/money.js';
import { rowToUsage } from '../row-mapping.js';
import type { PostgresHandle } from './postgres-database.js';

const INSERT = `INSERT INTO llmrr_usage (${USAGE_COLUMNS.join(', ')}) VALUES (${USAGE_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (request_id) DO NOTHING`;
const ph = (i: number) => `$${i}`;

/**
 * The usage ledger in PostgreSQL: `record` resolves after the INSERT committed (autocommit). Reports (`query`,
 * `summary`, `invoice`) are bounded by `reportTimeoutMs` (a scan of a large ledger), the rest by `queryTimeoutMs`.
 */
export class PostgresUsageLedger implements UsageLedger {
  /** `query` and `summary` filter by `status` (`ledgerWhere`): the gateway asks for a `status` page at any offset directly. */
  readonly filtersStatus = true as const;
  constructor(
    private readonly pg: PostgresHandle,
    private readonly clock: () => number = Date.now,
  ) {
    pg.retain();
  }

  async record(input: UsageEntryInput): Promise<{ inserted: boolean }> {
    const p = usageParams(normalizeUsageEntry(input, this.clock()));
    // Bounded (`queryTimeoutMs`): past it, `store_unavailable` saying the row may have been written; a retry
    // (the gateway's settle tries once more) then inserts nothing (`ON CONFLICT (request_id) DO NOTHING`).
    return { inserted: (await this.pg.execute(INSERT, USAGE_COLUMNS.map((c) => p[c]))) > 0 };
  }

  async get(requestId: string): Promise<UsageEntry | undefined> {
    const rows = await this.pg.query(`SELECT * FROM llmrr_usage WHERE request_id = $1`, [requestId]);
    return rows[0] ? rowToUsage(rows[0]) : undefined;
  }

  async query(q: UsageQuery): Promise<UsageEntry[]> {
    validateRange(q);
    const filters = ledgerWhere(q, ph);
    const lookup = cursorRowLookup(filters, q, ph);
    const before = lookup ? cursorFromRow((await this.pg.report(lookup.sql, lookup.params))[0], q.beforeId!) : q.before;
    const { where, params } = withCursor(filters, before, ph, ' COLLATE "C"');
    const { limit, offset } = queryLimit(q);
    const n = params.length;
    const rows = await this.pg.report(`SELECT * FROM llmrr_usage ${where} ORDER BY created_at DESC, request_id COLLATE "C" DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [...params, limit, offset]);
    return rows.map(rowToUsage);
  }

  async summary(q: Omit<UsageQuery, 'limit' | 'offset'> & { groupBy?: UsageGroupBy }): Promise<UsageSummary> {
    validateRange(q);
    const { where, params } = ledgerWhere(q, ph);
    const total = (await this.pg.report<AggregateRow & Record<string, unknown>>(`SELECT ${LEDGER_AGGREGATES} FROM llmrr_usage ${where}`, params))[0] as AggregateRow;
    let groups: AggregateRow[] | undefined;
    if (q.groupBy) {
      const g = groupExpression(q.groupBy, 'postgres');
      // Text is sorted by its bytes (`COLLATE "C"`), as SQLite and the memory store sort it, whatever the database's
      // collation (en_US.UTF-8 on most installs would put `a-model` before `B-model`).
      groups = await this.pg.report<AggregateRow & Record<string, unknown>>(`SELECT ${g} AS group_key, ${LEDGER_AGGREGATES} FROM llmrr_usage ${where} GROUP BY 1 ORDER BY ${g} COLLATE "C"`, params);
    }
    return buildSummary(total, groups, q.groupBy);
  }

  /**
   * One REPEATABLE READ READ ONLY transaction: the window's cost (the first statement: the snapshot is taken then), then
   * `between()`, then the cost of each row it names in the window, from the same snapshot.
   */
  async carryRead(tenantId: string, from: number, to: number | undefined, between: () => Promise<readonly string[]>): Promise<{ costUsd: number; costs: Map<string, number> }> {
    const q = { tenantId, from, ...(to !== undefined ? { to } : {}) };
    validateRange(q);
    const { where, params } = ledgerWhere(q, ph);
    return this.pg.snapshotReport(async (c) => {
      const total = (await c.query<{ cost_nano: unknown }>(`SELECT COALESCE(SUM(cost_nano), 0) AS cost_nano FROM llmrr_usage ${where}`, params)).rows[0];
      const ids = [...new Set(await between())];
      const costs = new Map<string, number>();
      if (ids.length > 0) {
        const rows = (await c.query<{ request_id: string; cost_nano: unknown }>(`SELECT request_id, cost_nano FROM llmrr_usage ${where} AND request_id = ANY($${params.length + 1}::text[])`, [...params, ids])).rows;
        for (const r of rows) costs.set(r.request_id, nanoToUsd(Number(r.cost_nano)));
      }
      return { costUsd: nanoToUsd(Number(total?.cost_nano ?? 0)), costs };
    });
  }

  async invoice(tenantId: string, periodStart: number, periodEnd: number): Promise<Invoice> {
    validateRange({ from: periodStart, to: periodEnd });
    const rows = await this.pg.report<AggregateRow & Record<string, unknown>>(
      `SELECT model AS group_key, ${LEDGER_AGGREGATES} FROM llmrr_usage WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY model ORDER BY model COLLATE "C"`,
      [tenantId, periodStart, periodEnd],
    );
    return buildInvoice(tenantId, periodStart, periodEnd, rows, this.clock());
  }

  async close(): Promise<void> {
    await this.pg.release();
  }
}
