import { afterEach, describe, expect, it } from 'vitest';
import { sharedFixture, sharedSkipReason, type StoreFixture } from '../__fixtures__/store-fixtures.js';

/**
 * A page after a cursor (UsageQuery.before) reads about one page of rows, whatever the cursor's depth: without the
 * redundant `created_at <= t` bound, `(created_at < t OR (created_at = t AND request_id < id))` gave PostgreSQL no
 * index bound on created_at, so it scanned backward from the newest row and filtered out every row newer than the
 * cursor (a deep page cost what `offset` costs).
 */
const skip = sharedSkipReason();
const T0 = Date.UTC(2026, 10, 1);
const ROWS = 100_000;

interface PlanNode {
  'Node Type': string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/** Rows the plan's scans read (kept + filtered out). */
function rowsRead(n: PlanNode): number {
  const own = /Scan/.test(n['Node Type']) ? (n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0) : 0;
  return own + (n.Plans ?? []).reduce((s, p) => s + rowsRead(p), 0);
}

describe.skipIf(skip !== undefined)(skip ?? 'PostgreSQL ledger: a cursor page reads about one page of rows', () => {
  let fx: StoreFixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });

  it('a cursor in the middle of 100 000 rows reads a page, not the 50 000 rows newer than it', async () => {
    fx = await sharedFixture();
    const ledger = fx.stores.ledger;
    await ledger.record({ requestId: 'seed', tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 1, status: 'success', createdAt: T0 });
    await fx.sql(
      `INSERT INTO llmrr_usage SELECT (json_populate_record(u, json_build_object('request_id', 'req_' || md5(g::text), 'created_at', u.created_at + g))).*
       FROM llmrr_usage u, generate_series(1, ${ROWS}) g WHERE u.request_id = 'seed'`,
    );
    await fx.sql('ANALYZE llmrr_usage');
    // The SQL and parameters the ledger sends for the page (captured, then explained on the same database).
    const handle = (ledger as unknown as { pg: { report: (sql: string, params?: unknown[]) => Promise<unknown[]> } }).pg;
    const original = handle.report.bind(handle);
    const sent: Array<{ sql: string; params: unknown[] }> = [];
    handle.report = async (sql, params = []) => {
      sent.push({ sql, params });
      return original(sql, params);
    };
    const middle = (await ledger.query({ tenantId: 'acme', limit: 1, offset: ROWS / 2 }))[0]!;
    for (const q of [{ tenantId: 'acme' }, {}]) {
      sent.length = 0;
      const page = await ledger.query({ ...q, limit: 100, before: { createdAt: middle.createdAt, requestId: middle.requestId } });
      expect(page).toHaveLength(100);
      expect(page[0]!.createdAt).toBe(middle.createdAt - 1);
      const { sql, params } = sent[0]!;
      const [row] = await fx.sql(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
      const plan = (row!['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan;
      expect(rowsRead(plan), `rows read for a page of 100 after a cursor at row ${ROWS / 2} (${JSON.stringify(q)})`).toBeLessThan(1_000);
    }
    // Inserting and analysing 100 000 rows took over 20 s once on a loaded 2-core machine: the bound is generous, the
    // assertion is on the plan's rows, not on time.
  }, 120_000);
});
