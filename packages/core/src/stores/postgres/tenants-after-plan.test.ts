import { afterEach, describe, expect, it } from 'vitest';
import { sharedFixture, sharedSkipReason, type StoreFixture } from '../__fixtures__/store-fixtures.js';

/**
 * `listTenants({ after })` on PostgreSQL filters and sorts `id COLLATE "C"`, which the primary key's index (the
 * database's collation) does not serve: the `llmrr_tenants_id_c` index does, so a page reads about a page.
 */
const skip = sharedSkipReason();
const ROWS = 20_000;

interface PlanNode {
  'Node Type': string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}
function rowsRead(n: PlanNode): number {
  const own = /Scan/.test(n['Node Type']) ? (n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0) : 0;
  return own + (n.Plans ?? []).reduce((s, p) => s + rowsRead(p), 0);
}

describe.skipIf(skip !== undefined)(skip ?? 'PostgreSQL tenants page after a cursor', () => {
  let fx: StoreFixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });

  it('a page of 100 after a cursor in the middle of 20 000 tenants reads about a page', async () => {
    fx = await sharedFixture();
    await fx.stores.tenants.createTenant({ id: 'seed', name: 'seed' });
    await fx.sql(
      `INSERT INTO llmrr_tenants SELECT (json_populate_record(t, json_build_object('id', 't-' || lpad(g::text, 6, '0')))).*
       FROM llmrr_tenants t, generate_series(1, ${ROWS}) g WHERE t.id = 'seed'`,
    );
    await fx.sql('ANALYZE llmrr_tenants');
    const page = await fx.stores.tenants.listTenants({ after: 't-010000', limit: 100 });
    expect(page[0]!.id).toBe('t-010001');
    const [row] = await fx.sql(`EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM llmrr_tenants WHERE id COLLATE "C" > $1 ORDER BY id COLLATE "C" LIMIT 100 OFFSET 0`, ['t-010000']);
    const plan = (row!['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan;
    expect(rowsRead(plan), JSON.stringify(plan).slice(0, 400)).toBeLessThan(1_000);
  });
});
