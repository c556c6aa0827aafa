import { describe, expect, it } from 'vitest';
import { createStateStores } from '../create-state-stores.js';
import { PRUNE_SPEND_MAX_ROWS } from './sqlite-budget-store.js';

type Writes = { stats: { commits: number; jobs: number } };

describe('SqliteBudgetStore with group commit', () => {
  it('a ledger row and the budget settlement issued together commit in one transaction', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    try {
      const writes = (stores.ledger as unknown as { handle: { writes: Writes } }).handle.writes;
      expect((await stores.budgets.reserve({ tenantId: 't', period: 'total', limitUsd: 1, estimateUsd: 0.5, reservationId: 'r' })).ok).toBe(true);
      const before = { ...writes.stats };
      const [recorded, settled] = await Promise.all([
        stores.ledger.record({ requestId: 'r', tenantId: 't', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0.2, latencyMs: 1, status: 'success' }),
        stores.budgets.settle('r', 0.2),
      ]);
      expect(recorded.inserted).toBe(true);
      expect(settled).toBe(true);
      expect(writes.stats.commits - before.commits).toBe(1);
      expect(writes.stats.jobs - before.jobs).toBe(2);
      expect(await stores.budgets.spent('t', 'total')).toMatchObject({ spentUsd: 0.2, reservedUsd: 0 });
    } finally {
      await stores.close();
    }
  });

  it('many concurrent reserves of one tenant share commits and still never exceed the limit', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    try {
      const writes = (stores.budgets as unknown as { handle: { writes: Writes } }).handle.writes;
      const before = { ...writes.stats };
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => stores.budgets.reserve({ tenantId: 't', period: 'day', limitUsd: 1, estimateUsd: 0.01, reservationId: `r${i}` })),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(100);
      expect(writes.stats.commits - before.commits).toBe(1);
      // Settling and reserving in one batch: the freed room is usable by the later jobs of the same batch.
      const ok = results.flatMap((r) => (r.ok ? [r.reservationId] : []));
      const mixed = await Promise.all([
        ...ok.slice(0, 50).map((id) => stores.budgets.release(id)),
        ...Array.from({ length: 60 }, (_, i) => stores.budgets.reserve({ tenantId: 't', period: 'day', limitUsd: 1, estimateUsd: 0.01, reservationId: `w${i}` })),
      ]);
      expect(mixed.slice(50).filter((r) => typeof r === 'object' && r.ok)).toHaveLength(50);
      const s = await stores.budgets.spent('t', 'day');
      expect(s.reservedUsd).toBeCloseTo(1, 9);
    } finally {
      await stores.close();
    }
  });

  it('charges each reservation to the calendar period of its own time, across period ends and a clock set back', async () => {
    let now = Date.UTC(2026, 10, 26, 23, 59, 59, 999);
    const stores = await createStateStores({ mode: 'memory', clock: () => now });
    try {
      const reserve = (id: string) => stores.budgets.reserve({ tenantId: 't', period: 'day', limitUsd: 1, estimateUsd: 1, reservationId: id });
      expect(await reserve('a')).toMatchObject({ ok: true, periodKey: '2026-11-26' });
      expect(await reserve('full')).toMatchObject({ ok: false, periodKey: '2026-11-26' });
      now += 1; // midnight: a new day, a new budget
      expect(await reserve('b')).toMatchObject({ ok: true, periodKey: '2026-11-27' });
      now -= 2; // the clock stepped back: the earlier day again, still full
      expect(await reserve('c')).toMatchObject({ ok: false, periodKey: '2026-11-26' });
      now = Date.UTC(2026, 11, 1, 12);
      expect(await reserve('d')).toMatchObject({ ok: true, periodKey: '2026-12-01' });
      const month = await stores.budgets.reserve({ tenantId: 't', period: 'month', limitUsd: 1, estimateUsd: 0.5, reservationId: 'm' });
      expect(month).toMatchObject({ ok: true, periodKey: '2026-12' });
    } finally {
      await stores.close();
    }
  });

  it("a settlement counts in the other periods' counters, also for a reservation of one of them in the same batch", async () => {
    const stores = await createStateStores({ mode: 'memory' });
    try {
      const b = stores.budgets;
      expect((await b.reserve({ tenantId: 't', period: 'month', limitUsd: 10, estimateUsd: 1, reservationId: 'm' })).ok).toBe(true);
      // One group commit: the month's reservation settles $0.6, then a day reservation checks the day's room.
      const [, day] = await Promise.all([b.settle('m', 0.6), b.reserve({ tenantId: 't', period: 'day', limitUsd: 1, estimateUsd: 0.5, reservationId: 'd' })]);
      expect(day).toMatchObject({ ok: false });
      const [, dayFits] = await Promise.all([b.release('d'), b.reserve({ tenantId: 't', period: 'day', limitUsd: 1, estimateUsd: 0.4, reservationId: 'd2' })]);
      expect(dayFits).toMatchObject({ ok: true });
      for (const period of ['day', 'week', 'month', 'total'] as const) expect((await b.spent('t', period)).spentUsd).toBeCloseTo(0.6, 9);
    } finally {
      await stores.close();
    }
  });

  it("deletes the spend rows of days and weeks that ended more than 8 days ago (at most hourly); months and the total's stay", async () => {
    const DAY = 86_400_000;
    let now = Date.UTC(2026, 10, 29, 3, 0, 0);
    const stores = await createStateStores({ mode: 'memory', clock: () => now });
    try {
      const db = (stores.budgets as unknown as { handle: { db: { prepare(sql: string): { all(): Array<{ period_key: string }> } } } }).handle.db;
      const keys = () => db.prepare('SELECT period_key FROM llmrr_budget_spend ORDER BY period_key').all().map((r) => r.period_key);
      // Calls settled 30, 9 and 2 days ago, and now, each when it happened (a monthly budget: counted in the day's,
      // week's and total's rows too); each reservation prunes (hours apart), before its settlement.
      const start = now;
      for (const [i, ago] of [30, 9, 2, 0].entries()) {
        now = start - ago * DAY;
        expect((await stores.budgets.reserve({ tenantId: 't', period: 'month', limitUsd: 10, estimateUsd: 0.1, reservationId: `r${i}` })).ok).toBe(true);
        expect(await stores.budgets.settle(`r${i}`, 0.1)).toBe(true);
      }
      now += 3_600_000;
      expect((await stores.budgets.reserve({ tenantId: 't', period: 'month', limitUsd: 10, estimateUsd: 0.1, reservationId: 'r4' })).ok).toBe(true);
      // Gone: the day 30 days ago, the day 9 days ago (ended 8 days and an hour ago, written 9 days ago), their weeks
      // (W44; W47 ended 2026-11-23, 6 days ago: kept). Kept: the months, the total, the recent days and weeks.
      expect(keys()).toEqual(['2026-10', '2026-11', '2026-11-27', '2026-11-29', '2026-W47', '2026-W48', 'total']);
      expect((await stores.budgets.spent('t', 'month')).spentUsd).toBeCloseTo(0.3, 9);
      expect((await stores.budgets.spent('t', 'day')).spentUsd).toBeCloseTo(0.1, 9);
      expect((await stores.budgets.spent('t', 'total')).spentUsd).toBeCloseTo(0.4, 9);
    } finally {
      await stores.close();
    }
  });
  it('leaves an ended day or week row written since its cut (a call dated long past just settled there), and deletes it 8 days after its write', async () => {
    const DAY = 86_400_000;
    let now = Date.UTC(2026, 10, 29, 3, 0, 0);
    const stores = await createStateStores({ mode: 'memory', clock: () => now });
    try {
      const db = (stores.budgets as unknown as { handle: { db: { prepare(sql: string): { all(): Array<{ period_key: string }> } } } }).handle.db;
      const keys = () => db.prepare('SELECT period_key FROM llmrr_budget_spend ORDER BY period_key').all().map((r) => r.period_key);
      const reserve = (id: string, at: number, limitUsd = 1) => stores.budgets.reserve({ tenantId: 't', period: 'day', limitUsd, estimateUsd: 0.1, reservationId: id, at });
      const old = now - 30 * DAY; // 2026-10-30 (ISO week 2026-W44)
      // A call that arrived 30 days ago (the store's first reservation pruned: nothing yet) settles now.
      expect((await reserve('old', old)).ok).toBe(true);
      expect(await stores.budgets.settle('old', 0.1)).toBe(true);
      // An hour later a reservation prunes: the rows just written stay, so another call of that day still finds its spend.
      now += 3_600_000;
      expect((await reserve('now', now)).ok).toBe(true);
      expect(keys()).toEqual(['2026-10', '2026-10-30', '2026-W44', 'total']);
      expect((await reserve('old-too', old, 0.15)).ok).toBe(false);
      // 8 days (and an hour) after their write, the next prune deletes them.
      now += 8 * DAY + 3_600_000;
      expect((await reserve('later', now)).ok).toBe(true);
      expect(keys()).toEqual(['2026-10', 'total']);
    } finally {
      await stores.close();
    }
  });

  it('across an ISO week-year end the prune deletes by each kind of key its own bound (days before 2027-01-01, weeks before 2026-W53)', async () => {
    // 8 days after 2027-01-01 12:00 (a Friday of ISO week 2026-W53): the day bound is in 2027, the week bound in 2026.
    const now = Date.UTC(2027, 0, 9, 12, 0, 0);
    const stores = await createStateStores({ mode: 'memory', clock: () => now });
    try {
      const db = (stores.budgets as unknown as { handle: { db: { prepare(sql: string): { run(...a: unknown[]): unknown; all(): Array<{ period_key: string }> } } } }).handle.db;
      const ins = db.prepare(`INSERT INTO llmrr_budget_spend (tenant_id, period_key, settled_nano) VALUES (?, ?, 1)`);
      for (const k of ['2025-12', '2025-12-31', '2025-W52', '2026-12', '2026-12-30', '2026-12-31', '2026-W52', '2026-W53', '2027-01', '2027-01-01', '2027-01-09', '2027-W01', 'total']) ins.run('t', k);
      expect((await stores.budgets.reserve({ tenantId: 't', period: 'day', limitUsd: 1, estimateUsd: 0.01, reservationId: 'r' })).ok).toBe(true);
      expect(db.prepare('SELECT period_key FROM llmrr_budget_spend ORDER BY period_key').all().map((r) => r.period_key)).toEqual(['2025-12', '2026-12', '2026-W53', '2027-01', '2027-01-01', '2027-01-09', '2027-W01', 'total']);
    } finally {
      await stores.close();
    }
  });

  it('a prune deletes at most PRUNE_SPEND_MAX_ROWS rows, by index seeks; a backlog goes in runs a second apart, then hourly again', async () => {
    let now = Date.UTC(2026, 10, 29, 3, 0, 0);
    const stores = await createStateStores({ mode: 'memory', clock: () => now });
    try {
      type Stmt = { run(...a: unknown[]): unknown; all(...a: unknown[]): Array<Record<string, unknown>>; get(...a: unknown[]): Record<string, unknown>; source: string };
      const internals = stores.budgets as unknown as { handle: { db: { prepare(sql: string): Stmt; transaction(f: () => void): () => void } }; stmt: Record<string, Stmt> };
      const db = internals.handle.db;
      const count = () => db.prepare(`SELECT count(*) AS n FROM llmrr_budget_spend`).get()['n'] as number;
      // Neither statement of the prune scans the table (the period index; a tenant's row by its key).
      for (const [name, params] of [['nextSpendKey', ['2026-10-01']], ['pruneSpendKey', [{ k: '2026-10-01', c: 0, n: 1 }]]] as const) {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${internals.stmt[name]!.source}`).all(...params);
        expect(plan.map((r) => String(r['detail'])).filter((d) => d.startsWith('SCAN'))).toEqual([]);
      }
      // A backlog: 2,500 tenants with spend on two ended days and an ended week (7,500 rows), months and the total.
      const ins = db.prepare(`INSERT INTO llmrr_budget_spend (tenant_id, period_key, settled_nano) VALUES (?, ?, 1)`);
      db.transaction(() => {
        for (let t = 0; t < 2500; t++) for (const k of ['2026-09', '2026-09-14', '2026-09-15', '2026-W38', '2026-10', 'total']) ins.run(`t${t}`, k);
      })();
      expect(count()).toBe(15_000);
      const reserve = async (id: string) => expect((await stores.budgets.reserve({ tenantId: 'x', period: 'month', limitUsd: 1, estimateUsd: 0.01, reservationId: id })).ok).toBe(true);
      // Each run deletes the bound's worth of rows (the last one the rest), a second after the last one that hit it;
      // none within that second. (A reservation adds no spend row: its hold is another table.)
      expect(PRUNE_SPEND_MAX_ROWS).toBeLessThan(7500);
      let left = 7500;
      for (let run = 0; left > 0; run++) {
        await reserve(`r${run}`);
        left -= Math.min(PRUNE_SPEND_MAX_ROWS, left);
        expect(count()).toBe(7500 + left);
        now += 500;
        await reserve(`w${run}`);
        expect(count()).toBe(7500 + left);
        now += 500;
      }
      const keys = db.prepare(`SELECT DISTINCT period_key AS k FROM llmrr_budget_spend ORDER BY k`).all().map((r) => r['k']);
      expect(keys).toEqual(['2026-09', '2026-10', 'total']);
      // The last run did not hit the bound: the next is an hour later.
      ins.run('late', '2026-09-16');
      now += 1000;
      await reserve('d');
      expect(count()).toBe(7501);
      now += 3_600_000;
      await reserve('e');
      expect(count()).toBe(7500);
    } finally {
      await stores.close();
    }
  });
});
