import { LLMError } from '../../errors/llm-error.js';
import { budgetPeriodWindow } from '../../tenancy/budget-period.js';
import { nanoToUsd, usdToNano, usdToNanoCeil } from '../../tenancy/money.js';
import type { BudgetPeriod, BudgetReservation, BudgetReserveRequest, BudgetState, BudgetStore, PendingCharge, UnsettledCharge } from '../../tenancy/types.js';
import { DEFAULT_RESERVATION_TTL_MS, validateAt, validateReserveRequest, validateTtlMs, validateUsd } from '../budget-input.js';
import { FINISH_SCRIPT, RAISE_SETTLED_SCRIPT, RENEW_SCRIPT, RESERVE_SCRIPT, SPENT_SCRIPT, UNSETTLED_SCRIPT } from './budget-scripts.js';
import { bounded, redisTimeout, type RedisHandle } from './redis-connection.js';

/** Every budget period: a settlement counts in each one's counter at its reservation's time. */
const PERIODS: readonly BudgetPeriod[] = ['day', 'week', 'month', 'total'];

/** The reservation record's fields naming the other periods' buckets and their ends (`o1`, `e1`, ...). */
const OTHER_FIELDS = [1, 2, 3].flatMap((n) => [`o${n}`, `e${n}`]);

/** Counters of a period are kept this long after it ends, or after now for a past period (late settles, reports). */
const KEEP_AFTER_PERIOD_MS = 35 * 86_400_000;
/**
 * An open reservation's record is kept this long past its TTL (idempotent settle/release); a finished one's is
 * deleted once its finish is answered (see `finish`), so only a finish whose answer was lost keeps it this long.
 */
const KEEP_RESERVATION_MS = 7 * 86_400_000;
/**
 * A counter a settlement creates in another period than its reservation's (the day's and the week's of a monthly
 * budget's calls, ...) is kept this long after its period ends: as long as a reservation of that period may still be
 * settled (its record's keep, plus a day), not `KEEP_AFTER_PERIOD_MS`. Only a budget of that period reads it, and only
 * while the period runs (or for a call that arrived in it); one that a reservation in its period made keeps the longer
 * expiry that reservation gave it.
 */
const KEEP_OTHER_AFTER_PERIOD_MS = KEEP_RESERVATION_MS + 86_400_000;

/**
 * The longest a reservation tied to a ledger row stays in its tenant's open set past its expiry without being finished
 * (ms): `unsettled` lists one at most this long past it (a larger `settleForMs` is capped to it), and each reserve's
 * pruning removes one older than that (a crashed process's, whose settlement will never come). At least the gateway's
 * horizon (its `Renewals.retry` tries a settlement for 10 minutes, `RETRY_FOR_MS`, plus a minute: 11 minutes).
 */
export const UNSETTLED_HORIZON_MS = 15 * 60_000;

/** Members of a tenant's open set that one `unsettled` step reads (an SSCAN COUNT: one script each, a few ms of Redis). */
const UNSETTLED_CHUNK = 500;

/** The bound on a whole `unsettled` listing, in the store's bounds (`timeoutMs`): each step has its own, within it. */
const UNSETTLED_BOUNDS = 3;

export interface RedisBudgetStoreOptions {
  /**
   * Bound on each call to Redis (ms): a Redis that stops answering fails `reserve` (and the others) with
   * `store_unavailable` (503, retryable) after this instead of holding the request. Default 2000.
   */
  timeoutMs?: number;
}

/**
 * Budgets shared by every gateway process through Redis. Check-and-reserve is one Lua script, so
 * concurrent reservations from any number of processes never exceed the limit. A settlement adds the cost to the
 * counter of each period (day, week, month, total) at the reservation's time, in the same script. The clock for
 * expiry is Redis's; `clock` only picks the calendar period. Every call is bounded by `timeoutMs`. A
 * `reserve` that times out may still have reserved in Redis: the store releases it when the late answer comes (one
 * script, one EVAL, not a forced one of $0, which holds no room and is left for a retry of its charge to settle); every
 * reserve of the id made while a try of it is in flight is sent only once that try has answered, failed or passed its
 * bound (sent after it on the connection: a new reservation, or the late one when the release did not run), or fails
 * with `store_unavailable` at its own bound meanwhile. A release that fails is tried again (backoff from 100 ms,
 * doubling, at most 30 s; one past its bound once it failed) until Redis answers one try, a reserve of the id sent
 * meanwhile is answered (it took the reservation over; one failing without an answer gives the tries back), or its TTL
 * ends; if no late answer ever comes, the reservation expires by its TTL (10 minutes by default), like a crashed
 * process's.
 */
/** The least time left after waiting for a release for a reservation to be sent (ms; or a tenth of the bound). */
const MIN_RETRY_BOUND_MS = 25;

/** The first wait before a late release that failed is tried again (ms); it doubles with each failed try. */
const LATE_RELEASE_FIRST_WAIT_MS = 100;
/** The longest wait between two tries of a late release (ms). */
const LATE_RELEASE_MAX_WAIT_MS = 30_000;
/**
 * The most late releases waiting to be tried again (each a small record and an unref'd timer): past it, a late release
 * that fails is not tried again (its reservation holds its amount until its TTL, as before these tries).
 */
export const MAX_LATE_RELEASES = 10_000;

/** A late reservation's release (see `releaseLate`), tried until Redis answers one try. */
interface LateRelease {
  /**
   * Pending while a try runs, until it is answered, fails, or passes the store's bound: every reserve of the id waits
   * for it (a fence: none is sent between the try and its answer). Undefined otherwise.
   */
  trying: Promise<void> | undefined;
  /**
   * A try's script was sent and has neither been answered nor failed (past its bound, on a half-open connection): the
   * next try is sent only once it failed (one sent meanwhile would wait behind it on the same connection).
   */
  sent: boolean;
  /** The next try's timer, between tries. */
  timer: ReturnType<typeof setTimeout> | undefined;
  waitMs: number;
  /** No try after this (`performance.now()`): the reservation's TTL has ended, its amount no longer held. */
  until: number;
  /** Answered, given up, or a reserve of the id answered: no further try, and a late answer does nothing. */
  over: boolean;
  /**
   * The reserve of the id sent last since the tries began, while it has no answer: it takes the reservation over (no
   * try meanwhile); failing without one, it gives the tries back.
   */
  heldBy: object | undefined;
  /** A reserve of the id was sent since the first try: an answer no longer deletes the record (it may be that reserve's). */
  reserved: boolean;
  readonly keys: [string, string, string];
}

export class RedisBudgetStore implements BudgetStore {
  private readonly timeoutMs: number;

  /** Reserve calls in progress per reservation id (see `reserve`). */
  private readonly turns = new Map<string, number>();

  /**
   * The releases of late reservations not yet answered, by id (see `releaseLate`): a reserve of the id ends their
   * tries and waits for the one running (see `reserve`).
   */
  private readonly releasing = new Map<string, LateRelease>();

  /** The late releases waiting for their next try (a timer each): at most `MAX_LATE_RELEASES`. */
  private waitingReleases = 0;

  /** `close` was called: a late release that fails is not tried again. */
  private closed = false;

  constructor(
    private readonly redis: RedisHandle,
    private readonly clock: () => number = Date.now,
    options: RedisBudgetStoreOptions = {},
  ) {
    this.timeoutMs = redisTimeout(options.timeoutMs, 'timeoutMs');
    redis.retain(this.timeoutMs);
  }

  async reserve(request: BudgetReserveRequest): Promise<BudgetReservation> {
    validateReserveRequest(request);
    // A retry sent while the store releases the late answer of an earlier try of the id: it is sent only once that
    // release's try in flight is over, as is every other reserve of the id (answered: its record deleted, on the same
    // connection, and this is a new reservation; failed or past the store's bound: sent after it on the connection, so
    // it runs after it in Redis if that try runs at all, the try being one command). Sent before, it could run in Redis
    // before the release and get back as its own the reservation the release then closed (the call holding nothing, its
    // settlement changing nothing). Waiting counts in its bound: a release whose answer is slow fails it as
    // `store_unavailable` (nothing sent), as a Redis that does not answer would. Once sent, it takes the reservation
    // over (see `LateRelease.heldBy`: returned as its own while it is open, reserved anew once the release ran).
    let timeoutMs = this.timeoutMs;
    if (this.releasing.get(request.reservationId)?.trying) {
      const started = performance.now();
      await bounded(this.lateReleaseFence(request.reservationId), timeoutMs, 'budget reservation (waiting for the release of an earlier reservation of its id)');
      timeoutMs = Math.round(timeoutMs - (performance.now() - started));
      // Too little left for a round trip: not sent (a reservation sent with a bound it cannot meet would run in Redis
      // after its caller gave up, and hold the tenant's budget until its own late release).
      if (timeoutMs < Math.max(MIN_RETRY_BOUND_MS, this.timeoutMs / 10)) {
        throw new LLMError({
          code: 'store_unavailable',
          message: `Redis did not answer the budget reservation within ${this.timeoutMs} ms (the release of an earlier reservation of its id took most of it; nothing sent)`,
        });
      }
    }
    const at = request.at ?? this.clock();
    const w = budgetPeriodWindow(request.period, at);
    const [bucket, zset] = this.bucketKeys(request.tenantId, w.key);
    const ttl = request.ttlMs ?? DEFAULT_RESERVATION_TTL_MS;
    const args: Array<string | number> = [
      usdToNano(request.limitUsd),
      usdToNanoCeil(request.estimateUsd),
      ttl,
      request.reservationId,
      Number.isFinite(w.end) ? w.end : 0,
      ttl + KEEP_RESERVATION_MS,
      KEEP_AFTER_PERIOD_MS,
      request.force ? 1 : 0,
      request.ledgerId ?? '',
      this.reservationKey(''),
      UNSETTLED_HORIZON_MS,
    ];
    // The other periods' buckets at the same time: a settlement counts there too (see FINISH_SCRIPT).
    for (const p of PERIODS) {
      if (p === request.period) continue;
      const o = budgetPeriodWindow(p, at);
      args.push(this.bucketKeys(request.tenantId, o.key)[0], Number.isFinite(o.end) ? o.end : 0);
    }
    const resKey = this.reservationKey(request.reservationId);
    const sentAt = performance.now();
    // A reservation tied to a ledger row is listed in its tenant's set of open ones (`unsettled`) until it is finished.
    const keys = request.ledgerId === undefined ? [bucket, zset, resKey] : [bucket, zset, resKey, this.openKey(request.tenantId)];
    // Sent while a late release of the id is not over: this reserve takes the reservation over (no try meanwhile).
    const taken = this.takeLateRelease(request.reservationId);
    const work = this.redis.eval<[number, string, number]>(RESERVE_SCRIPT, keys, args);
    // The reserve calls of one id in progress (a retry after a timeout reuses the id): a late answer releases the
    // reservation only when no later call of the id took it over (that call returned it to its caller as its own).
    // A forced reservation of $0 (a charge already spent, the gateway's prefetch charge) is never released so: it holds no room (it expires at its TTL and
    // can still be settled until its record's keep), and a retry of its charge that reserved the id in the meantime
    // would get it back as its own and then find its settlement refused (the charge lost).
    const id = request.reservationId;
    const turn = (this.turns.get(id) ?? 0) + 1;
    this.turns.set(id, turn);
    const reply = bounded(work, timeoutMs, 'budget reservation', (late) => {
      // Nobody waits for this reservation any more (a fresh one, not an earlier reservation of the same id).
      if (!(request.force && usdToNanoCeil(request.estimateUsd) === 0) && this.turns.get(id) === turn && Number(late[0]) === 1 && Number(late[2]) !== 1) this.releaseLate(id, [resKey, bucket, zset], sentAt + ttl);
    });
    // Once Redis answered (in time or late, or failed), this turn is over (run after `bounded`'s own handlers).
    const over = () => {
      if (this.turns.get(id) === turn) this.turns.delete(id);
    };
    work.then(over, over);
    let answer: [number, string, number];
    try {
      answer = await reply;
    } catch (e) {
      // No answer (refused unsent, a connection error, its bound): nobody holds the reservation, the tries go on.
      if (taken) this.giveBackLateRelease(id, taken.late, taken.by);
      throw e;
    }
    // Answered: the reservation is the caller's (or it was gone and none was made): no further try.
    if (taken) this.endLateRelease(id, taken.late);
    const remainingUsd = nanoToUsd(Math.max(0, Number(answer[1])));
    if (Number(answer[0]) === 1) return { ok: true, reservationId: request.reservationId, remainingUsd, periodKey: w.key };
    return { ok: false, remainingUsd, limitUsd: request.limitUsd, periodKey: w.key };
  }

  /**
   * Releases a reservation whose answer came late: one script (`FINISH_SCRIPT`) on the keys the reserve wrote, sent at
   * once (`finish` first reads them from the record: a round trip before the script, during which a retry's reserve
   * could be sent and run before it), as one EVAL with its source (EVALSHA, refused with NOSCRIPT after a restart, a
   * failover or a SCRIPT FLUSH, then EVAL would be two commands, and a reserve of the id sent between them would run
   * before the release and get back the reservation it then closes). A try that fails (a reset connection, an error
   * reply) is tried again, from `LATE_RELEASE_FIRST_WAIT_MS` doubling up to `LATE_RELEASE_MAX_WAIT_MS`, until one is
   * answered (even after its bound: the release ran), a reserve of the id sent meanwhile is answered (it took the
   * reservation over; one that fails without an answer gives the tries back), or the reservation's TTL ends (`until`:
   * its amount is no longer held). A try not answered within the store's bound (a half-open connection, a stalled
   * Redis) no longer holds the reserves of the id, but the next try waits until it failed (the connection dropped):
   * one sent before would wait behind it on the same connection. The script is idempotent: a try whose answer was
   * lost, tried again, changes nothing. The answer that ends the tries deletes the record (as `finish` does) when no
   * reserve of the id was sent since the first try, before the reserves waiting for that try are sent.
   */
  private releaseLate(id: string, keys: [string, string, string], until: number): void {
    const earlier = this.releasing.get(id);
    if (earlier) this.endLateRelease(id, earlier);
    const late: LateRelease = { trying: undefined, sent: false, timer: undefined, waitMs: LATE_RELEASE_FIRST_WAIT_MS, until, over: false, heldBy: undefined, reserved: false, keys };
    // Set before the release is sent: a reserve called from here on waits for this try.
    this.releasing.set(id, late);
    this.tryLateRelease(id, late);
  }

  /** One try of a late release (see `releaseLate`). */
  private tryLateRelease(id: string, late: LateRelease): void {
    late.timer = undefined;
    late.sent = true;
    let open = true;
    let done!: () => void;
    const trying = new Promise<void>((resolve) => (done = resolve));
    late.trying = trying;
    // This try no longer holds the reserves of the id (they are sent after it, on the same connection).
    const close = () => {
      if (!open) return;
      open = false;
      clearTimeout(bound);
      if (late.trying === trying) late.trying = undefined;
      done();
    };
    const bound = setTimeout(close, this.timeoutMs);
    (bound as { unref?: () => void }).unref?.();
    const [resKey, bucket, zset] = late.keys;
    const script = ['EVAL', FINISH_SCRIPT.source, '3', resKey, bucket, zset, id, 'release', '0', String(KEEP_OTHER_AFTER_PERIOD_MS)];
    settledCall(() => this.redis.command(script)).then(
      () => {
        late.sent = false;
        // Answered, in time or not: the release ran in Redis. Its record is deleted, on the same connection, before the
        // reserves of the id waiting for this try are sent; never once a reserve of the id was sent after the first
        // try (the record may then be that reserve's).
        if (!late.over) {
          if (!late.reserved) this.redis.command(['UNLINK', resKey]).catch(() => undefined);
          this.endLateRelease(id, late);
        }
        close();
      },
      () => {
        late.sent = false;
        close();
        this.retryLateRelease(id, late);
      },
    );
  }

  /**
   * Schedules the next try of a late release that failed, unless a reserve of the id holds it, a try is still sent, its
   * TTL ended or too many wait (`MAX_LATE_RELEASES`).
   */
  private retryLateRelease(id: string, late: LateRelease): void {
    if (late.timer !== undefined || late.over || late.sent || late.heldBy !== undefined) return;
    const at = performance.now() + late.waitMs;
    if (this.closed || at >= late.until || this.waitingReleases >= MAX_LATE_RELEASES) {
      this.endLateRelease(id, late);
      return;
    }
    this.waitingReleases++;
    late.timer = setTimeout(() => {
      late.timer = undefined;
      this.waitingReleases--;
      if (!late.over && late.heldBy === undefined) this.tryLateRelease(id, late);
    }, late.waitMs);
    (late.timer as { unref?: () => void }).unref?.();
    late.waitMs = Math.min(late.waitMs * 2, LATE_RELEASE_MAX_WAIT_MS);
  }

  /** Settles once no try of a late release of `id` is in flight within its bound (see `reserve`). */
  private async lateReleaseFence(id: string): Promise<void> {
    for (let late = this.releasing.get(id); late?.trying; late = this.releasing.get(id)) await late.trying;
  }

  /** A reserve of `id` is being sent: it holds the late release of the id, if any, until it is answered or fails. */
  private takeLateRelease(id: string): { late: LateRelease; by: object } | undefined {
    const late = this.releasing.get(id);
    if (!late) return undefined;
    const by = {};
    late.heldBy = by;
    late.reserved = true;
    if (late.timer !== undefined) {
      clearTimeout(late.timer);
      late.timer = undefined;
      this.waitingReleases--;
    }
    return { late, by };
  }

  /** The reserve `by` failed without an answer: unless a later reserve holds it, the late release is tried again. */
  private giveBackLateRelease(id: string, late: LateRelease, by: object): void {
    if (late.over || late.heldBy !== by) return;
    late.heldBy = undefined;
    this.retryLateRelease(id, late);
  }

  /** No further try of `late` (a try in flight still settles for the reserves waiting for it). */
  private endLateRelease(id: string, late: LateRelease): void {
    late.over = true;
    if (late.timer !== undefined) {
      clearTimeout(late.timer);
      late.timer = undefined;
      this.waitingReleases--;
    }
    if (this.releasing.get(id) === late) this.releasing.delete(id);
  }

  async settle(reservationId: string, actualUsd: number): Promise<boolean> {
    validateUsd(actualUsd, 'actualUsd');
    return this.finish(reservationId, 'settle', usdToNano(actualUsd));
  }

  async release(reservationId: string): Promise<boolean> {
    return this.finish(reservationId, 'release', 0);
  }

  /** Extends the open reservations among `reservationIds` to `ttlMs` from now: one script. */
  async renew(reservationIds: readonly string[], ttlMs: number = DEFAULT_RESERVATION_TTL_MS): Promise<void> {
    validateTtlMs(ttlMs);
    if (reservationIds.length === 0) return;
    const keys = reservationIds.map((id) => this.reservationKey(id));
    await bounded(this.redis.eval(RENEW_SCRIPT, keys, [ttlMs, ...reservationIds, KEEP_RESERVATION_MS]), this.timeoutMs, 'budget renewal');
  }

  async spent(tenantId: string, period: BudgetPeriod): Promise<BudgetState> {
    const w = budgetPeriodWindow(period, this.clock());
    const reply = await bounded(this.redis.eval<[string, string]>(SPENT_SCRIPT, this.bucketKeys(tenantId, w.key), []), this.timeoutMs, 'budget read');
    return { tenantId, period, periodKey: w.key, periodStart: w.start, periodEnd: w.end, spentUsd: nanoToUsd(Number(reply[0])), reservedUsd: nanoToUsd(Number(reply[1])) };
  }

  /**
   * One script: `settled` raised (never lowered) atomically against concurrent settlements, to `spentUsd` less the cost
   * of each `pending` row whose reservation is still open then (its settlement, to come, adds it).
   */
  async raiseSpent(tenantId: string, period: BudgetPeriod, spentUsd: number, at?: number, pending: readonly PendingCharge[] = []): Promise<void> {
    validateUsd(spentUsd, 'spentUsd');
    validateAt(at);
    const w = budgetPeriodWindow(period, at ?? this.clock());
    const keys = this.bucketKeys(tenantId, w.key) as string[];
    const args: Array<string | number> = [usdToNano(spentUsd), Number.isFinite(w.end) ? w.end : 0, KEEP_AFTER_PERIOD_MS];
    for (const p of pending) {
      if (typeof p?.reservationId !== 'string' || typeof p.ledgerId !== 'string') throw new LLMError({ code: 'invalid_request', message: 'pending: each must name its reservationId and ledgerId', param: 'pending' });
      validateUsd(p.costUsd, 'pending.costUsd');
      keys.push(this.reservationKey(p.reservationId));
      args.push(p.ledgerId, usdToNano(p.costUsd));
    }
    await bounded(this.redis.eval(RAISE_SETTLED_SCRIPT, keys, args), this.timeoutMs, 'budget raise');
  }

  /**
   * The tenant's reservations made with a `ledgerId` still open, those expired less than `settleForMs` ago included
   * (capped to `UNSETTLED_HORIZON_MS`); the set's members whose record is gone, finished or expired more than
   * `UNSETTLED_HORIZON_MS` ago leave it (a shorter `settleForMs` lists less but drops nothing a longer one lists). Read in
   * chunks (one SSCAN step per script, `UNSETTLED_CHUNK` members), so no call holds Redis for the whole set; the whole
   * listing is bounded by `UNSETTLED_BOUNDS` times the store's bound. For a carry's snapshot, a scan is as good as one
   * read: a member present for the whole scan is returned (SSCAN's guarantee; once, duplicates dropped), one removed
   * during it was finished (its cost already in the counter) or stale, and one added during it was reserved after the
   * listing started, so after the snapshot; its row is not in the snapshot unless it was written before that reserve
   * (a prefetch whose first reserve failed writes its row, then reserves again: if that lands during the listing, the
   * carry counts it and so does its settlement; documented).
   */
  async unsettled(tenantId: string, settleForMs: number): Promise<UnsettledCharge[]> {
    validateTtlMs(settleForMs);
    const horizon = Math.min(settleForMs, UNSETTLED_HORIZON_MS);
    const key = this.openKey(tenantId);
    const prefix = this.reservationKey('');
    const deadline = performance.now() + UNSETTLED_BOUNDS * this.timeoutMs;
    const found = new Map<string, string>();
    let cursor = '0';
    do {
      const left = Math.round(deadline - performance.now());
      if (left <= 0) throw new LLMError({ code: 'store_unavailable', message: `Redis did not list the open budget reservations within ${UNSETTLED_BOUNDS * this.timeoutMs} ms` });
      const reply = await bounded(this.redis.eval<string[]>(UNSETTLED_SCRIPT, [key], [prefix, horizon, cursor, UNSETTLED_CHUNK, UNSETTLED_HORIZON_MS]), Math.min(this.timeoutMs, left), 'budget read');
      cursor = String(reply[0]);
      for (let i = 1; i + 1 < reply.length; i += 2) found.set(String(reply[i]), String(reply[i + 1]));
    } while (cursor !== '0');
    return [...found].map(([reservationId, ledgerId]) => ({ reservationId, ledgerId }));
  }

  async close(): Promise<void> {
    this.closed = true;
    // The late releases waiting for their next try get one now, before the connection closes (the handle's close
    // waits for the commands in flight within its grace): one that fails again leaves its reservation to its TTL.
    for (const [id, late] of [...this.releasing]) {
      if (late.timer === undefined) continue;
      clearTimeout(late.timer);
      late.timer = undefined;
      this.waitingReleases--;
      this.tryLateRelease(id, late);
    }
    await this.redis.release();
  }

  /**
   * Settles or releases, once however often it is called: the record's state says whether it is still open. Once an
   * answer has come back (in time), no finish of the reservation follows (a caller tries again only after a failure),
   * so the record is deleted then (UNLINK, not awaited, on the same connection: an earlier attempt of this finish
   * sent on it, or a late reserve of the id, has run before). Only a finish whose answer was lost (or came after its
   * bound) leaves it, for its retry: that retry finds the state settled or released and changes nothing, or, when
   * an answered finish deleted it meanwhile, finds no record and changes nothing either (no second charge, no refund:
   * the reservation's amount left the bucket with the finish that ran). A failed UNLINK leaves it to its TTL.
   */
  private async finish(reservationId: string, mode: 'settle' | 'release', actualNano: number): Promise<boolean> {
    const resKey = this.reservationKey(reservationId);
    const changed = await bounded(this.finishNow(resKey, reservationId, mode, actualNano), this.timeoutMs, `budget ${mode}`);
    if (changed === undefined) return false; // no record: unknown, or finished and deleted already
    this.redis.command(['UNLINK', resKey]).catch(() => undefined);
    return changed;
  }

  /** Whether the script changed the reservation; undefined when there is no record. */
  private async finishNow(resKey: string, reservationId: string, mode: 'settle' | 'release', actualNano: number): Promise<boolean | undefined> {
    const [bucket, zset, ...also] = await this.redis.command<Array<string | null>>(['HMGET', resKey, 'bucket', 'zset', ...OTHER_FIELDS]);
    if (!bucket || !zset) return undefined;
    const keys = [resKey, bucket, zset];
    const ends: Array<string | number> = [];
    // The other periods' buckets (none in a record an earlier version wrote).
    for (let i = 0; i + 1 < also.length; i += 2) {
      if (!also[i] || also[i + 1] == null) continue;
      keys.push(also[i]!);
      ends.push(also[i + 1]!);
    }
    const changed = await this.redis.eval<number>(FINISH_SCRIPT, keys, [reservationId, mode, actualNano, KEEP_OTHER_AFTER_PERIOD_MS, ...ends]);
    return Number(changed) === 1;
  }

  private bucketKeys(tenantId: string, periodKey: string): [string, string] {
    const base = `${this.redis.prefix}budget:${tenantId}:${periodKey}`;
    return [base, `${base}:exp`];
  }

  /**
   * The tenant's set of open reservations tied to a ledger row: a namespace of its own (`budget-open:`), never a bucket's
   * (`budget:<tenant>:<period>`) nor a record's (`budget:res:<id>`) name (`budget:<tenant>:open` was tenant `res`'s set
   * and reservation `open`'s record alike).
   */
  private openKey(tenantId: string): string {
    return `${this.redis.prefix}budget-open:${tenantId}`;
  }

  private reservationKey(id: string): string {
    return `${this.redis.prefix}budget:res:${id}`;
  }
}

/** `fn()`, a synchronous throw as a rejection. */
function settledCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (e) {
    return Promise.reject(e);
  }
}
