import { budgetPeriodWindow } from '../../tenancy/budget-period.js';
import { nanoToUsd, usdToNano, usdToNanoCeil } from '../../tenancy/money.js';
import type { BudgetPeriod, BudgetReservation, BudgetReserveRequest, BudgetState, BudgetStore } from '../../tenancy/types.js';
import { DEFAULT_RESERVATION_TTL_MS, validateReserveRequest, validateUsd } from '../budget-input.js';
import type { SqliteHandle } from './sqlite-database.js';

/** Finished reservations are kept this long (idempotent settle/release), then swept. */
const KEEP_FINISHED_MS = 7 * 86_400_000;

/**
 * Budgets in SQLite. Each reserve runs in a `BEGIN IMMEDIATE` transaction, which holds SQLite's write
 * lock: check-and-reserve is atomic within the process and across processes sharing the file.
 */
export class SqliteBudgetStore implements BudgetStore {
  private readonly stmt;
  private ops = 0;

  constructor(
    private readonly handle: SqliteHandle,
    private readonly clock: () => number = Date.now,
  ) {
    handle.retain();
    const db = handle.db;
    this.stmt = {
      getReservation: db.prepare(`SELECT tenant_id, period_key FROM llmrr_budget_reservations WHERE id = ?`),
      // settled + live reserved in one statement (the partial index covers the sum).
      used: db.prepare(`SELECT
          COALESCE((SELECT settled_nano FROM llmrr_budget_spend WHERE tenant_id = @t AND period_key = @p), 0) AS settled,
          COALESCE((SELECT SUM(amount_nano) FROM llmrr_budget_reservations WHERE tenant_id = @t AND period_key = @p AND state = 'reserved' AND expires_at > @now), 0) AS reserved`),
      insertReservation: db.prepare(`INSERT INTO llmrr_budget_reservations (id, tenant_id, period_key, amount_nano, state, expires_at, created_at) VALUES (?, ?, ?, ?, 'reserved', ?, ?)`),
      finish: db.prepare(`UPDATE llmrr_budget_reservations SET state = ? WHERE id = ? AND state = 'reserved' RETURNING tenant_id, period_key`),
      addSettled: db.prepare(`INSERT INTO llmrr_budget_spend (tenant_id, period_key, settled_nano) VALUES (?, ?, ?) ON CONFLICT (tenant_id, period_key) DO UPDATE SET settled_nano = settled_nano + excluded.settled_nano`),
      sweep: db.prepare(`DELETE FROM llmrr_budget_reservations WHERE created_at < ? AND (state <> 'reserved' OR expires_at < ?)`),
    };
  }

  async reserve(request: BudgetReserveRequest): Promise<BudgetReservation> {
    validateReserveRequest(request);
    const now = this.clock();
    const window = budgetPeriodWindow(request.period, now);
    const limit = usdToNano(request.limitUsd);
    const amount = usdToNanoCeil(request.estimateUsd);
    const ttl = request.ttlMs ?? DEFAULT_RESERVATION_TTL_MS;
    const result = this.handle.db
      .transaction((): BudgetReservation => {
        const existing = this.stmt.getReservation.get(request.reservationId) as { period_key: string; tenant_id: string } | undefined;
        const periodKey = existing?.period_key ?? window.key;
        const used = this.used(request.tenantId, periodKey, now);
        if (existing) return { ok: true, reservationId: request.reservationId, remainingUsd: nanoToUsd(Math.max(0, limit - used)), periodKey };
        if (used + amount > limit) return { ok: false, remainingUsd: nanoToUsd(Math.max(0, limit - used)), limitUsd: request.limitUsd, periodKey };
        this.stmt.insertReservation.run(request.reservationId, request.tenantId, periodKey, amount, now + ttl, now);
        return { ok: true, reservationId: request.reservationId, remainingUsd: nanoToUsd(limit - used - amount), periodKey };
      })
      .immediate();
    this.maybeSweep(now);
    return result;
  }

  async settle(reservationId: string, actualUsd: number): Promise<boolean> {
    validateUsd(actualUsd, 'actualUsd');
    const actual = usdToNano(actualUsd);
    return this.handle.db
      .transaction(() => {
        const r = this.stmt.finish.get('settled', reservationId) as { tenant_id: string; period_key: string } | undefined;
        if (!r) return false; // unknown, or already settled/released
        this.stmt.addSettled.run(r.tenant_id, r.period_key, actual);
        return true;
      })
      .immediate();
  }

  async release(reservationId: string): Promise<boolean> {
    return this.stmt.finish.get('released', reservationId) !== undefined;
  }

  async spent(tenantId: string, period: BudgetPeriod): Promise<BudgetState> {
    const now = this.clock();
    const w = budgetPeriodWindow(period, now);
    const { settled, reserved } = this.stmt.used.get({ t: tenantId, p: w.key, now }) as { settled: number; reserved: number };
    return { tenantId, period, periodKey: w.key, periodStart: w.start, periodEnd: w.end, spentUsd: nanoToUsd(settled), reservedUsd: nanoToUsd(reserved) };
  }

  async close(): Promise<void> {
    this.handle.release();
  }

  private used(tenantId: string, periodKey: string, now: number): number {
    const { settled, reserved } = this.stmt.used.get({ t: tenantId, p: periodKey, now }) as { settled: number; reserved: number };
    return settled + reserved;
  }

  private maybeSweep(now: number): void {
    if (++this.ops % 1000 !== 0) return;
    this.stmt.sweep.run(now - KEEP_FINISHED_MS, now - KEEP_FINISHED_MS);
  }
}
