import { randomUUID } from 'node:crypto';
import { budgetPeriodWindow, type PeriodWindow } from '../../tenancy/budget-period.js';
import { nanoToUsd, usdToNano, usdToNanoCeil } from '../../tenancy/money.js';
import type { BudgetPeriod, BudgetReservation, BudgetReserveRequest, BudgetState, BudgetStore } from '../../tenancy/types.js';
import { DEFAULT_RESERVATION_TTL_MS, validateAt, validateReserveRequest, validateTtlMs, validateUsd } from '../budget-input.js';
import { OwnReservations, type OpenReservation } from './own-reservations.js';
import type { BatchScope } from './sqlite-group-commit.js';
import type { SqliteHandle } from './sqlite-database.js';

/** Hold rows of processes gone for this long are deleted. */
const KEEP_DEAD_HOLDS_MS = 86_400_000;

/** What one group transaction knows about a tenant's period (read once per batch). */
interface BatchBudget {
  /** Settled spend plus the live holds of every other process. */
  base: number;
  /** Change of this process's reserved total by the batch's earlier jobs. */
  ownDelta: number;
  /** Spend settled by the batch's jobs (written once at the end of the batch). */
  settled: number;
  /** Latest reservation expiry of the batch (for the hold row). */
  expiresAt: number;
  /** The batch changed this process's reservations: rewrite its hold row at the end. */
  holdChanged: boolean;
}

/**
 * Budgets in SQLite (embedded mode), without a row per reservation:
 * - this process's open reservations live in memory (`OwnReservations`);
 * - their sum per tenant and period is published as this process's HOLD row (`llmrr_budget_holds`,
 *   one per process, tenant and period), and settled spend is a counter (`llmrr_budget_spend`);
 * - reserve / settle / release are group-committed (`SqliteGroupCommit`): the jobs of one event-loop turn
 *   run in one `BEGIN IMMEDIATE` transaction, which holds SQLite's write lock, so check-and-reserve
 *   (settled + other processes' holds + own reservations + estimate <= limit) is atomic in this process
 *   and against other processes sharing the file; each promise resolves after its commit.
 *
 * A settlement is one counter update, committed in the same transaction as the ledger row when both are
 * issued in the same synchronous run (the gateway does so), so a restart never loses settled spend.
 * A crashed process's hold stays counted until its reservations' TTL passes (as a reservation row did).
 * Reservations are settled or released by the process (store) that made them; a reservation id is
 * idempotent while the reservation is open (a second settle or release returns false).
 */
export class SqliteBudgetStore implements BudgetStore {
  private readonly stmt;
  private readonly owner = randomUUID();
  private readonly own = new OwnReservations();
  private readonly windows = new Map<BudgetPeriod, PeriodWindow>();
  private ops = 0;

  constructor(
    private readonly handle: SqliteHandle,
    private readonly clock: () => number = Date.now,
  ) {
    handle.retain();
    const db = handle.db;
    this.stmt = {
      base: db.prepare(`SELECT
          COALESCE((SELECT settled_nano FROM llmrr_budget_spend WHERE tenant_id = @t AND period_key = @p), 0)
          + COALESCE((SELECT SUM(reserved_nano) FROM llmrr_budget_holds WHERE tenant_id = @t AND period_key = @p AND owner <> @o AND expires_at > @now), 0) AS base`),
      others: db.prepare(`SELECT
          COALESCE((SELECT settled_nano FROM llmrr_budget_spend WHERE tenant_id = @t AND period_key = @p), 0) AS settled,
          COALESCE((SELECT SUM(reserved_nano) FROM llmrr_budget_holds WHERE tenant_id = @t AND period_key = @p AND owner <> @o AND expires_at > @now), 0) AS reserved`),
      hold: db.prepare(`INSERT INTO llmrr_budget_holds (tenant_id, period_key, owner, reserved_nano, expires_at) VALUES (?, ?, ?, ?, ?)
          ON CONFLICT (tenant_id, period_key, owner) DO UPDATE SET reserved_nano = excluded.reserved_nano, expires_at = MAX(expires_at, excluded.expires_at)`),
      raiseSettled: db.prepare(`INSERT INTO llmrr_budget_spend (tenant_id, period_key, settled_nano) VALUES (?, ?, ?) ON CONFLICT (tenant_id, period_key) DO UPDATE SET settled_nano = MAX(settled_nano, excluded.settled_nano)`),
      addSettled: db.prepare(`INSERT INTO llmrr_budget_spend (tenant_id, period_key, settled_nano) VALUES (?, ?, ?) ON CONFLICT (tenant_id, period_key) DO UPDATE SET settled_nano = settled_nano + excluded.settled_nano`),
      sweep: db.prepare(`DELETE FROM llmrr_budget_holds WHERE expires_at < ?`),
    };
  }

  /**
   * (Not `async`: it returns the group commit's promise itself, as `settle` and `release` do, without the
   * extra turns an async function takes to adopt a returned promise; a synchronous throw is a rejection.)
   */
  reserve(request: BudgetReserveRequest): Promise<BudgetReservation> {
    try {
      return this.reserveNow(request);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private reserveNow(request: BudgetReserveRequest): Promise<BudgetReservation> {
    validateReserveRequest(request);
    const now = this.clock();
    const limit = usdToNano(request.limitUsd);
    const amount = usdToNanoCeil(request.estimateUsd);
    const expiresAt = now + (request.ttlMs ?? DEFAULT_RESERVATION_TTL_MS);
    const sweep = ++this.ops % 1000 === 0;
    const existing = this.own.get(request.reservationId);
    const periodKey = existing?.periodKey ?? this.periodKey(request.period, request.at ?? now);
    const tenantId = existing?.tenantId ?? request.tenantId;
    return this.handle.writes.run(
      (scope): BudgetReservation => {
        if (sweep) this.stmt.sweep.run(now - KEEP_DEAD_HOLDS_MS);
        const b = this.batchBudget(scope, tenantId, periodKey, now);
        const used = b.base + this.own.live(tenantId, periodKey, now) + b.ownDelta;
        if (existing || scope.has(`reserve\u0000${request.reservationId}`)) {
          return { ok: true, reservationId: request.reservationId, remainingUsd: nanoToUsd(Math.max(0, limit - used)), periodKey };
        }
        if (used + amount > limit) return { ok: false, remainingUsd: nanoToUsd(Math.max(0, limit - used)), limitUsd: request.limitUsd, periodKey };
        b.ownDelta += amount;
        b.holdChanged = true;
        if (expiresAt > b.expiresAt) b.expiresAt = expiresAt;
        scope.set(`reserve\u0000${request.reservationId}`, true);
        return { ok: true, reservationId: request.reservationId, remainingUsd: nanoToUsd(limit - used - amount), periodKey };
      },
      (r) => {
        if (r.ok && !existing && !this.own.get(request.reservationId)) this.own.add(request.reservationId, { tenantId, periodKey, amount, expiresAt });
      },
    );
  }

  settle(reservationId: string, actualUsd: number): Promise<boolean> {
    try {
      validateUsd(actualUsd, 'actualUsd');
      return this.finish(reservationId, usdToNano(actualUsd));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  release(reservationId: string): Promise<boolean> {
    try {
      return this.finish(reservationId, undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Extends this process's open reservations among `reservationIds` to `ttlMs` from now (unknown, finished and
   * expired ones are skipped), and their hold rows' expiry with them: one group-committed job.
   */
  renew(reservationIds: readonly string[], ttlMs: number = DEFAULT_RESERVATION_TTL_MS): Promise<void> {
    try {
      validateTtlMs(ttlMs);
    } catch (e) {
      return Promise.reject(e);
    }
    const now = this.clock();
    const expiresAt = now + ttlMs;
    const live: OpenReservation[] = [];
    for (const id of reservationIds) {
      const r = this.own.get(id);
      if (r && r.counted && r.expiresAt > now && r.expiresAt < expiresAt) live.push(r);
    }
    if (live.length === 0) return Promise.resolve();
    return this.handle.writes.run(
      (scope) => {
        for (const r of live) {
          const b = this.batchBudget(scope, r.tenantId, r.periodKey, now);
          b.holdChanged = true;
          if (expiresAt > b.expiresAt) b.expiresAt = expiresAt;
        }
      },
      () => {
        // An own reservation only ever expires later (its bucket's earliest expiry is recomputed when reached).
        for (const r of live) if (r.expiresAt < expiresAt) r.expiresAt = expiresAt;
      },
    );
  }

  async spent(tenantId: string, period: BudgetPeriod): Promise<BudgetState> {
    const now = this.clock();
    const w = budgetPeriodWindow(period, now);
    const { settled, reserved } = this.stmt.others.get({ t: tenantId, p: w.key, o: this.owner, now }) as { settled: number; reserved: number };
    const own = this.own.live(tenantId, w.key, now);
    return { tenantId, period, periodKey: w.key, periodStart: w.start, periodEnd: w.end, spentUsd: nanoToUsd(settled), reservedUsd: nanoToUsd(reserved + own) };
  }

  /** One group-committed upsert (`MAX`): after the batch's own settlements, so none is lost or counted twice. */
  raiseSpent(tenantId: string, period: BudgetPeriod, spentUsd: number, at?: number): Promise<void> {
    try {
      validateUsd(spentUsd, 'spentUsd');
      validateAt(at);
    } catch (e) {
      return Promise.reject(e);
    }
    const periodKey = budgetPeriodWindow(period, at ?? this.clock()).key;
    const nano = usdToNano(spentUsd);
    return this.handle.writes.run((scope) => {
      // A batch that settled for this tenant and period writes its sum at its end: raise after it.
      scope.atEnd(() => this.stmt.raiseSettled.run(tenantId, periodKey, nano));
    });
  }

  async close(): Promise<void> {
    // Open reservations keep their hold until their TTL (as reservation rows did): a request of this process
    // may still be running elsewhere in it, and a restart must not hand out room that may still be spent.
    this.handle.release();
  }

  /** Settle (`actual` in nano-dollars) or release (`undefined`) one of this process's reservations. */
  private finish(reservationId: string, actual: number | undefined): Promise<boolean> {
    const r: OpenReservation | undefined = this.own.get(reservationId);
    if (!r) return Promise.resolve(false); // unknown, or already settled/released
    const now = this.clock();
    return this.handle.writes.run(
      (scope) => {
        const key = `finish\u0000${reservationId}`;
        if (scope.has(key)) return false; // a second settle/release in the same batch
        scope.set(key, true);
        const b = this.batchBudget(scope, r.tenantId, r.periodKey, now);
        if (actual !== undefined) {
          b.settled += actual;
          b.base += actual;
        }
        this.own.live(r.tenantId, r.periodKey, now); // drops expired reservations from the total first
        if (r.counted) {
          b.ownDelta -= r.amount;
          b.holdChanged = true;
        }
        return true;
      },
      (done) => {
        if (done) this.own.remove(reservationId);
      },
    );
  }

  /** `budgetPeriodWindow(period, now).key`, the window kept per period until `now` leaves it. */
  private periodKey(period: BudgetPeriod, now: number): string {
    let w = this.windows.get(period);
    if (!w || now < w.start || now >= w.end) this.windows.set(period, (w = budgetPeriodWindow(period, now)));
    return w.key;
  }

  private batchBudget(scope: BatchScope, tenantId: string, periodKey: string, now: number): BatchBudget {
    const key = `budget\u0000${tenantId}\u0000${periodKey}`;
    let b = scope.get(key) as BatchBudget | undefined;
    if (!b) {
      const row = this.stmt.base.get({ t: tenantId, p: periodKey, o: this.owner, now }) as { base: number };
      const batch: BatchBudget = { base: row.base, ownDelta: 0, settled: 0, expiresAt: now, holdChanged: false };
      scope.set(key, batch);
      // One spend update and one hold update per tenant and period per batch, however many jobs it has.
      scope.atEnd(() => {
        if (batch.settled > 0) this.stmt.addSettled.run(tenantId, periodKey, batch.settled);
        if (batch.holdChanged) this.stmt.hold.run(tenantId, periodKey, this.owner, Math.max(0, this.own.live(tenantId, periodKey, now) + batch.ownDelta), batch.expiresAt);
      });
      b = batch;
    }
    return b;
  }
}
