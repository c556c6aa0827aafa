import { randomUUID } from 'node:crypto';
import { budgetPeriodWindow, type PeriodWindow } from '../../tenancy/budget-period.js';
import { nanoToUsd, usdToNano, usdToNanoCeil } from '../../tenancy/money.js';
import type { BudgetPeriod, BudgetReservation, BudgetReserveRequest, BudgetState, BudgetStore } from '../../tenancy/types.js';
import { DEFAULT_RESERVATION_TTL_MS, validateAt, validateReserveRequest, validateTtlMs, validateUsd } from '../budget-input.js';
import { OwnReservations, type OpenReservation } from './own-reservations.js';
import type { BatchScope } from './sqlite-group-commit.js';
import type { SqliteHandle } from './sqlite-database.js';

/** Every budget period: a settlement counts in each one's counter. */
const PERIODS: readonly BudgetPeriod[] = ['day', 'week', 'month', 'total'];

/** Hold rows of processes gone for this long are deleted. */
const KEEP_DEAD_HOLDS_MS = 86_400_000;

/**
 * A day's or a week's spend row is deleted once its period ended this long ago: a budget reads only its current
 * period's row, or that of a call that arrived in an earlier one and is still running (its reservation expires long
 * before); the ledger keeps the history. A settlement adds to every period's row (`PERIODS`), so without this a tenant
 * gathered some 430 rows a year. Month rows (12 a year) and the total's stay.
 */
const KEEP_ENDED_SPEND_MS = 8 * 86_400_000;
/** How often (at most; wall clock) a reservation's group commit also deletes those rows. */
const PRUNE_SPEND_EVERY_MS = 3_600_000;
/**
 * At most this many rows are deleted by one prune (it runs inside a reservation's write transaction, which holds
 * SQLite's write lock: other processes sharing the file wait for it); a backlog (a file from before the prune, a
 * process down for weeks) is worked off by later runs, `PRUNE_BACKLOG_EVERY_MS` apart while a run hits the bound.
 */
export const PRUNE_SPEND_MAX_ROWS = 2000;
const PRUNE_BACKLOG_EVERY_MS = 1000;
const DAY_KEY = /^\d{4}-\d{2}-\d{2}$/;
const WEEK_KEY = /^\d{4}-W\d{2}$/;

/** What one group transaction knows about a tenant's period (read once per batch). */
interface BatchBudget {
  /** Settled spend plus the live holds of every other process. */
  base: number;
  /** Change of this process's reserved total by the batch's earlier jobs. */
  ownDelta: number;
  /** Spend settled by the batch's jobs (written once at the end of the batch). */
  settled: number;
  /** Latest reservation expiry of the batch (for the hold row: the wall clock, which other processes read it on). */
  expiresAt: number;
  /** The batch changed this process's reservations: rewrite its hold row at the end. */
  holdChanged: boolean;
}

export interface SqliteBudgetStoreOptions {
  /**
   * The clock this process's reservations expire on (ms, any origin, never stepped). Default: the store's `clock`
   * when one is given (a test that moves it expires reservations), else `performance.now()`.
   */
  monotonicClock?: () => number;
}

const monotonicNow = (): number => performance.now();

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
 * A settlement adds the cost to the counter of each period (day, week, month, total) its reservation's time falls in,
 * committed in the same transaction as the ledger row when both are issued in the same synchronous run (the gateway
 * does so), so a restart never loses settled spend, and a budget whose period changes finds the calls that settle
 * after the change (reserved in the old period) in the new period's count.
 * A crashed process's hold stays counted until its reservations' TTL passes (as a reservation row did).
 * Reservations are settled or released by the process (store) that made them; a reservation id is
 * idempotent while the reservation is open (a second settle or release returns false).
 * This process's reservations expire on its monotonic clock (`monotonicClock`), so a wall clock that jumps forward
 * past their TTL frees no room of a call still running here; the hold row is dated on the wall clock (`clock`), which
 * other processes read it on (a jump past the TTL hides it from them until the next reservation or renewal here
 * republishes it: the gateway renews its calls in flight every 200 s).
 */
export class SqliteBudgetStore implements BudgetStore {
  private readonly stmt;
  private readonly owner = randomUUID();
  private readonly own = new OwnReservations();
  private readonly windows = new Map<BudgetPeriod, PeriodWindow>();
  private ops = 0;
  /** When (wall clock) the ended day and week rows were last deleted (`pruneSpend`). */
  private prunedAt = Number.NEGATIVE_INFINITY;
  /** Wait before the next prune: shorter while the last one hit `PRUNE_SPEND_MAX_ROWS`. */
  private pruneEveryMs = PRUNE_SPEND_EVERY_MS;
  private readonly clock: () => number;
  private readonly monotonic: () => number;

  constructor(
    private readonly handle: SqliteHandle,
    clock?: () => number,
    options: SqliteBudgetStoreOptions = {},
  ) {
    this.clock = clock ?? Date.now;
    this.monotonic = options.monotonicClock ?? clock ?? monotonicNow;
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
      // (`written_at`: the prune leaves a row written since its cut.)
      raiseSettled: db.prepare(`INSERT INTO llmrr_budget_spend (tenant_id, period_key, settled_nano, written_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (tenant_id, period_key) DO UPDATE SET settled_nano = MAX(settled_nano, excluded.settled_nano), written_at = MAX(written_at, excluded.written_at)`),
      addSettled: db.prepare(`INSERT INTO llmrr_budget_spend (tenant_id, period_key, settled_nano, written_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (tenant_id, period_key) DO UPDATE SET settled_nano = settled_nano + excluded.settled_nano, written_at = MAX(written_at, excluded.written_at)`),
      sweep: db.prepare(`DELETE FROM llmrr_budget_holds WHERE expires_at < ?`),
      // The prune's walk over the distinct period keys: one seek each in llmrr_budget_spend_period.
      nextSpendKey: db.prepare(`SELECT period_key FROM llmrr_budget_spend WHERE period_key > ? ORDER BY period_key LIMIT 1`).pluck(),
      // Up to @n rows of one key not written since the cut @c (tenant ids read from the period index, each row deleted
      // by its primary key).
      pruneSpendKey: db.prepare(`DELETE FROM llmrr_budget_spend WHERE period_key = @k AND written_at < @c
          AND tenant_id IN (SELECT tenant_id FROM llmrr_budget_spend WHERE period_key = @k AND written_at < @c LIMIT @n)`),
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
    const mono = this.monotonic();
    const limit = usdToNano(request.limitUsd);
    const amount = usdToNanoCeil(request.estimateUsd);
    const ttl = request.ttlMs ?? DEFAULT_RESERVATION_TTL_MS;
    const expiresAt = now + ttl;
    const sweep = ++this.ops % 1000 === 0;
    // (A wall clock stepped back behind the last prune counts as an hour later.)
    const prune = now - this.prunedAt >= this.pruneEveryMs || now < this.prunedAt;
    if (prune) this.prunedAt = now;
    const existing = this.own.get(request.reservationId);
    const at = existing?.at ?? request.at ?? now;
    const periodKey = existing?.periodKey ?? this.periodKey(request.period, at);
    const tenantId = existing?.tenantId ?? request.tenantId;
    return this.handle.writes.run(
      (scope): BudgetReservation => {
        if (sweep) this.stmt.sweep.run(now - KEEP_DEAD_HOLDS_MS);
        if (prune) this.pruneEveryMs = this.pruneSpend(now) ? PRUNE_BACKLOG_EVERY_MS : PRUNE_SPEND_EVERY_MS;
        const b = this.batchBudget(scope, tenantId, periodKey, now, mono);
        const used = b.base + this.own.live(tenantId, periodKey, mono) + b.ownDelta;
        if (existing || scope.has(`reserve\u0000${request.reservationId}`)) {
          return { ok: true, reservationId: request.reservationId, remainingUsd: nanoToUsd(Math.max(0, limit - used)), periodKey };
        }
        if (!request.force && used + amount > limit) return { ok: false, remainingUsd: nanoToUsd(Math.max(0, limit - used)), limitUsd: request.limitUsd, periodKey };
        b.ownDelta += amount;
        b.holdChanged = true;
        if (expiresAt > b.expiresAt) b.expiresAt = expiresAt;
        scope.set(`reserve\u0000${request.reservationId}`, true);
        return { ok: true, reservationId: request.reservationId, remainingUsd: nanoToUsd(Math.max(0, limit - used - amount)), periodKey };
      },
      (r) => {
        if (r.ok && !existing && !this.own.get(request.reservationId)) this.own.add(request.reservationId, { tenantId, periodKey, at, amount, expiresAt: mono + ttl });
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
    const mono = this.monotonic();
    const ownExpiry = mono + ttlMs;
    const live: OpenReservation[] = [];
    for (const id of reservationIds) {
      const r = this.own.get(id);
      if (r && r.counted && r.expiresAt > mono && r.expiresAt < ownExpiry) live.push(r);
    }
    if (live.length === 0) return Promise.resolve();
    return this.handle.writes.run(
      (scope) => {
        for (const r of live) {
          const b = this.batchBudget(scope, r.tenantId, r.periodKey, now, mono);
          b.holdChanged = true;
          if (now + ttlMs > b.expiresAt) b.expiresAt = now + ttlMs;
        }
      },
      () => {
        // An own reservation only ever expires later (its bucket's earliest expiry is recomputed when reached).
        for (const r of live) if (r.expiresAt < ownExpiry) r.expiresAt = ownExpiry;
      },
    );
  }

  /**
   * Deletes the spend rows of days and weeks that ended more than `KEEP_ENDED_SPEND_MS` before `now`, at most
   * `PRUNE_SPEND_MAX_ROWS` of them; true when it stopped at that bound (there may be more). Day keys are YYYY-MM-DD,
   * week keys YYYY-Www (ISO week-year first): each orders as its periods do, but in one index with the month keys
   * (YYYY-MM, just before its month's days) and the weeks of earlier years. So the prune walks the
   * distinct keys below the later bound, one index seek each (some 12 month keys a year of history, the weeks and days
   * being deleted, the last 8 days), and deletes each ended day's and week's rows: its cost is the rows it deletes,
   * not the table's size.
   */
  private pruneSpend(now: number): boolean {
    const kept = now - KEEP_ENDED_SPEND_MS;
    const day = budgetPeriodWindow('day', kept).key;
    const week = budgetPeriodWindow('week', kept).key;
    const end = day > week ? day : week;
    let left = PRUNE_SPEND_MAX_ROWS;
    for (let key = this.stmt.nextSpendKey.get('') as string | undefined; key !== undefined && key < end; key = this.stmt.nextSpendKey.get(key) as string | undefined) {
      if ((DAY_KEY.test(key) && key < day) || (WEEK_KEY.test(key) && key < week)) {
        left -= this.stmt.pruneSpendKey.run({ k: key, c: kept, n: left }).changes;
        if (left <= 0) return true;
      }
    }
    return false;
  }

  async spent(tenantId: string, period: BudgetPeriod): Promise<BudgetState> {
    const now = this.clock();
    const w = budgetPeriodWindow(period, now);
    const { settled, reserved } = this.stmt.others.get({ t: tenantId, p: w.key, o: this.owner, now }) as { settled: number; reserved: number };
    const own = this.own.live(tenantId, w.key, this.monotonic());
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
      scope.atEnd(() => this.stmt.raiseSettled.run(tenantId, periodKey, nano, this.clock()));
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
    const mono = this.monotonic();
    return this.handle.writes.run(
      (scope) => {
        const key = `finish\u0000${reservationId}`;
        if (scope.has(key)) return false; // a second settle/release in the same batch
        scope.set(key, true);
        const b = this.batchBudget(scope, r.tenantId, r.periodKey, now, mono);
        if (actual !== undefined) {
          b.settled += actual;
          b.base += actual;
          // Counted in every period's counter at the reservation's time, so a budget whose period changes while the
          // call runs (or later) finds it there: the new period's count agrees with the ledger without a carry.
          if (actual > 0) {
            for (const p of PERIODS) {
              const key = this.periodKey(p, r.at);
              if (key !== r.periodKey) this.settleElsewhere(scope, r.tenantId, key, actual);
            }
          }
        }
        this.own.live(r.tenantId, r.periodKey, mono); // drops expired reservations from the total first
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

  /**
   * Adds a settled cost to another period's counter than the reservation's (one upsert per tenant and period at the
   * batch's end). Its base is read only when a job of the batch reserves in that period (`batchBudget` counts it in).
   */
  private settleElsewhere(scope: BatchScope, tenantId: string, periodKey: string, actual: number): void {
    const b = scope.get(`budget\u0000${tenantId}\u0000${periodKey}`) as BatchBudget | undefined;
    if (b) {
      b.settled += actual;
      b.base += actual;
      return;
    }
    const key = `elsewhere\u0000${tenantId}\u0000${periodKey}`;
    let e = scope.get(key) as { settled: number } | undefined;
    if (!e) {
      const added = (e = { settled: 0 });
      scope.set(key, added);
      scope.atEnd(() => {
        if (added.settled > 0) this.stmt.addSettled.run(tenantId, periodKey, added.settled, this.clock());
      });
    }
    e.settled += actual;
  }

  /** `now`: the wall clock (hold rows); `mono`: the monotonic clock (this process's reservations). */
  private batchBudget(scope: BatchScope, tenantId: string, periodKey: string, now: number, mono: number): BatchBudget {
    const key = `budget\u0000${tenantId}\u0000${periodKey}`;
    let b = scope.get(key) as BatchBudget | undefined;
    if (!b) {
      const row = this.stmt.base.get({ t: tenantId, p: periodKey, o: this.owner, now }) as { base: number };
      // What earlier jobs of the batch settled into this period from another period's reservation (not yet written).
      const elsewhere = scope.get(`elsewhere\u0000${tenantId}\u0000${periodKey}`) as { settled: number } | undefined;
      const batch: BatchBudget = { base: row.base + (elsewhere?.settled ?? 0), ownDelta: 0, settled: 0, expiresAt: now, holdChanged: false };
      scope.set(key, batch);
      // One spend update and one hold update per tenant and period per batch, however many jobs it has.
      scope.atEnd(() => {
        if (batch.settled > 0) this.stmt.addSettled.run(tenantId, periodKey, batch.settled, now);
        if (batch.holdChanged) this.stmt.hold.run(tenantId, periodKey, this.owner, Math.max(0, this.own.live(tenantId, periodKey, mono) + batch.ownDelta), batch.expiresAt);
      });
      b = batch;
    }
    return b;
  }
}
