import { LLMError, type RateLease } from '@llmrr/core';
import type { GatewayStores } from '../types.js';
import { settled } from './settled.js';

/**
 * Default time between two renewal sweeps: a third of the stores' lease and reservation TTL (10 minutes), so
 * a call's holdings are renewed at most one sweep after they were taken, and one failed sweep is made up by the
 * next before they would expire.
 */
export const DEFAULT_RENEW_INTERVAL_MS = 200_000;

/** How often the admissions waiting for the stores are checked for a client's abort (ms). */
const ABORT_CHECK_MS = 250;

/** The longest wait between two tries of a call's finish that failed (ms); the first is the next tick. */
const MAX_RETRY_WAIT_MS = 30_000;

/**
 * How long a call's finish that failed is tried again (ms): the stores' lease and reservation TTL (10 minutes), past
 * which its slot is free anyway (a budget settlement is still tried until then: a late one still charges the cost).
 */
export const RETRY_FOR_MS = 10 * 60_000;

const GAVE_UP = 'releasing limits or settling the budget of a finished call failed, and failed again until given up';

/** What is logged when a call's finish is given up: `label` names the call (its request id and tenant), as a charge's does. */
function gaveUp(label: string | undefined): string {
  return label === undefined ? GAVE_UP : `${GAVE_UP}: ${label}`;
}

/**
 * The most calls' finishes waiting to be tried again (`retry`): during a long store outage every finished call adds one
 * (a closure holding its lease or reservation, some hundreds of bytes). Past it the oldest are dropped (logged with
 * their count): their slots and reservations expire at the stores' TTL, and a dropped settlement's cost is not charged.
 * Prefetches' charges (`retryCharge`) are not counted here: they have their own cap, so they never push a call out.
 */
export const MAX_UNFINISHED = 50_000;

/**
 * The most prefetches' budget charges waiting to be tried again (`retryCharge`; each some 2-2.5 KB: its ledger entry,
 * its reservation request and their closures, never the prefetch's answer; some 25 MB at the cap). Past it their own
 * oldest are dropped (logged with their count and some of their labels): a dropped charge's cost is not counted in its
 * tenant's budget (nor, for a prefetch whose tenant could not be read, its ledger row written).
 */
export const MAX_UNFINISHED_CHARGES = 10_000;

/** How many dropped charges a log line names (the count covers them all). */
const NAMED_DROPS = 5;

/** What a charge given up or dropped loses, unless `retryCharge` is told otherwise (`lost`). */
const CHARGE_LOST = 'not counted in the budget (unless a try whose answer was lost landed)';

/**
 * How many rounds of work queued while closing `close` waits for (work whose last try queued more: a prefetch whose
 * tenant is read at last and whose charge then fails queues that charge). Each round's work is bounded by the
 * stores' own bounds; what is queued past the last round runs unwaited.
 */
const CLOSE_ROUNDS = 4;

/** The finishes of one kind waiting to be tried again, oldest first (the cap drops them), and their cap's count. */
interface Pool {
  readonly items: Set<Unfinished>;
  readonly max: number;
  /** Dropped by the cap since the last tick logged them. */
  dropped: number;
  /** Of those, the ones that lose more than the pool's usual (`Unfinished.lost`: a prefetch's ledger row too). */
  droppedMore: number;
  /** The labels of the first dropped since then (at most `NAMED_DROPS`). */
  droppedLabels: string[];
  readonly droppedMessage: (n: number, max: number, labels: readonly string[], more: number) => string;
}

/** A call's finish that failed (its limits or budget store unreachable), tried again with backoff (`retry`). */
interface Unfinished {
  work: () => Promise<void>;
  pool: Pool;
  /** What is logged when it is given up (a call's finish, or `retryCharge`'s label). */
  gaveUp: string;
  /** `retryCharge`'s label (named when the cap drops it). */
  label?: string;
  /** `retryCharge`'s `lost` when it is not the usual (`CHARGE_LOST`): named with the label when the cap drops it. */
  lost?: string;
  /** When it is tried next (`performance.now()`). */
  at: number;
  waitMs: number;
  until: number;
  /** The try running: true when it succeeded. */
  running: Promise<boolean> | undefined;
}

function droppedMessage(n: number, max: number): string {
  return `${n} finished call(s) whose limits release or budget settlement failed were dropped untried: more than ${max} were waiting to be tried again (their slots and reservations expire at the stores' TTL)`;
}

function droppedChargesMessage(n: number, max: number, labels: readonly string[], more: number): string {
  const named = labels.length < n ? `${labels.join('; ')}; ...` : labels.join('; ');
  const rows = more > 0 ? `; ${more} of them, whose tenant could not be read, ${more === 1 ? 'has' : 'have'} no ledger row either` : '';
  return `${n} prefetch budget charge(s) that failed were dropped untried: more than ${max} were waiting to be tried again (their costs are not counted in the budgets${rows}): ${named}`;
}

/** An admission waiting for a store's answer. */
interface Waiting {
  signal: AbortSignal;
  over: boolean;
  reject: (e: unknown) => void;
}

/** What one admitted call holds: its concurrency lease and its budget reservation, where it has them. */
export interface Held {
  lease: RateLease | undefined;
  reservationId: string | undefined;
  /** The reservations that extended it before a stream's retry or fallback (see `Admission.extend`). */
  extensions?: string[];
  /** The sweep that last renewed it (or the last one before it was admitted). */
  sweep: number;
  /** When its renewals stop (`performance.now()`; `add`'s `renewForMs`): past it, it is left to expire at the TTL. */
  until?: number;
  /** What is logged (once) when its renewals stop at `until`. */
  stopped?: string;
}

/**
 * Keeps the concurrency leases and budget reservations of calls in flight alive past the stores' TTL (a
 * crash-safety bound, 10 minutes): a call that runs longer (a slow local model, a long reasoning answer) keeps
 * its slot and its reservation. One unref'd interval per gateway, started by an admitted call, stopped at a
 * tick that finds nothing in flight (and by `close`); per call only an insert and a delete in a set. The same interval ends the wait of an
 * admission whose client went away while a store had not answered (`waitFor`). Each sweep renews, in one batch per store
 * (`RateLimiter.renew`, `BudgetStore.renew`), every call in flight, so one failed renewal is retried an interval
 * later, well within the TTL (a call in flight at a sweep is renewed at most an interval after its admission). A limiter or budget store without `renew` (a custom one) is not renewed.
 */
export class Renewals {
  private readonly held = new Set<Held>();
  private readonly waiting = new Set<Waiting>();
  /** Calls' finishes (`retry`), capped at `maxUnfinished`. */
  private readonly calls: Pool;
  /** Prefetches' charges (`retryCharge`), capped apart at `maxUnfinishedCharges`. */
  private readonly charges: Pool;
  /** The finishes waiting in either pool, not running, by the tick at which each is due (`slot`): a tick looks only at those due. */
  private readonly due = new Map<number, Unfinished[]>();
  private readonly tickMs: number;
  private ticks = 0;
  private sweeps = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  /** The work queued while `close` runs (each tried once at once): `close` waits for it too. */
  private readonly closing = new Set<Promise<void>>();

  constructor(
    private readonly stores: GatewayStores | undefined,
    private readonly log: (message: string, error: unknown) => void,
    readonly intervalMs: number = DEFAULT_RENEW_INTERVAL_MS,
    maxUnfinished: number = MAX_UNFINISHED,
    maxUnfinishedCharges: number = MAX_UNFINISHED_CHARGES,
  ) {
    checkRenewInterval(intervalMs);
    this.tickMs = Math.min(ABORT_CHECK_MS, intervalMs);
    this.calls = { items: new Set(), max: maxUnfinished, dropped: 0, droppedMore: 0, droppedLabels: [], droppedMessage };
    this.charges = { items: new Set(), max: maxUnfinishedCharges, dropped: 0, droppedMore: 0, droppedLabels: [], droppedMessage: droppedChargesMessage };
  }

  private get unfinishedCount(): number {
    return this.calls.items.size + this.charges.items.size;
  }

  /**
   * `work`, or a 499 `aborted` once `signal` is seen aborted (the client went away while a store had not
   * answered: a stalled Redis must not hold the request). Checked by the gateway's one interval every 250 ms, so
   * no listener is added to the request's signal per call; what `work` took when it answers after all is given
   * back by `late`.
   */
  waitFor<T>(work: Promise<T>, signal: AbortSignal | undefined, late: (value: T) => void): Promise<T> {
    if (!signal) return work;
    if (signal.aborted) {
      work.then(late, () => undefined);
      return Promise.reject(abortedError());
    }
    return new Promise<T>((resolve, reject) => {
      const w: Waiting = { signal, over: false, reject };
      this.waiting.add(w);
      this.start();
      work.then(
        (value) => {
          if (w.over) return late(value);
          this.waiting.delete(w);
          resolve(value);
        },
        (e: unknown) => {
          if (w.over) return;
          this.waiting.delete(w);
          reject(e);
        },
      );
    });
  }

  /**
   * Tracks a call's holdings until `remove`; with `renewForMs`, only for that long (the first sweep after it drops them,
   * logged once naming `what`): they then expire at the stores' TTL, so work that never ends frees them at most then.
   */
  add(lease: RateLease | undefined, reservationId: string | undefined, renewForMs?: number, what = 'a held place'): Held {
    const h: Held = { lease, reservationId, sweep: this.sweeps };
    if (renewForMs !== undefined) {
      h.until = performance.now() + renewForMs;
      h.stopped = `${what} held for more than ${Math.round(renewForMs / 1000)} s is no longer renewed: it expires at the stores' TTL`;
    }
    this.held.add(h);
    this.start();
    return h;
  }

  /**
   * Tries `work` (what a call's `finish` could not do: release its concurrency lease, settle or release its budget
   * reservation; or a lease given back before the call, `releaseOrRetry`; idempotent) again until it succeeds: first at the next tick, then at twice the wait each time (at most
   * 30 s), for 10 minutes (the stores' TTL), then logs that it gave up, naming `label` (the call: `call <request id>
   * (tenant "<id>")`). `close` makes a last try of those left. At most `MAX_UNFINISHED` wait: past it the oldest is
   * dropped (counted, logged at the next tick).
   */
  retry(work: () => Promise<void>, label?: string): void {
    this.enqueue(work, this.calls, gaveUp(label));
  }

  /**
   * As `retry`, for a prefetch's budget charge that failed (`label` names it: its request id, tenant and cost, in the
   * give-up and drop logs; `lost` says what is lost when it is given up or dropped), or its tenant's read that failed
   * (its row and charge, made once the tenant is read). At most `MAX_UNFINISHED_CHARGES` wait, apart from the calls'
   * finishes: past it the oldest charge is dropped, never a call's finish.
   */
  retryCharge(work: () => Promise<void>, label: string, lost = CHARGE_LOST): void {
    this.enqueue(work, this.charges, `${label} failed, and failed again until given up: ${lost}`, label, lost === CHARGE_LOST ? undefined : lost);
  }

  private enqueue(work: () => Promise<void>, pool: Pool, gaveUp: string, label?: string, lost?: string): void {
    if (this.closed) {
      // Tried once, at once (no later tick); `close`, while it runs, waits for it (see `close`).
      const p: Promise<void> = settled(work)
        .catch((e: unknown) => this.log(gaveUp, e))
        .finally(() => this.closing.delete(p));
      this.closing.add(p);
      return;
    }
    if (pool.items.size >= pool.max) {
      // The oldest not being tried right now: one whose try is running may still succeed (dropping it would log it as
      // not done though it was); with every one running, none is dropped (the pool passes its cap by those few).
      let oldest: Unfinished | undefined;
      for (const item of pool.items) {
        if (item.running === undefined) {
          oldest = item;
          break;
        }
      }
      if (oldest !== undefined) {
        pool.items.delete(oldest);
        if (oldest.label !== undefined && pool.droppedLabels.length < NAMED_DROPS) pool.droppedLabels.push(oldest.lost === undefined ? oldest.label : `${oldest.label}: ${oldest.lost}`);
        pool.dropped++;
        if (oldest.lost !== undefined) pool.droppedMore++;
      }
    }
    const now = performance.now();
    const u: Unfinished = { work, pool, gaveUp, ...(label !== undefined ? { label } : {}), ...(lost !== undefined ? { lost } : {}), at: now, waitMs: this.tickMs, until: now + RETRY_FOR_MS, running: undefined };
    pool.items.add(u);
    this.schedule(u);
    this.start();
  }

  /** Logs the finishes each pool's cap dropped since the last time. */
  private logDropped(): void {
    for (const pool of [this.calls, this.charges]) {
      if (pool.dropped === 0) continue;
      this.log(pool.droppedMessage(pool.dropped, pool.max, pool.droppedLabels, pool.droppedMore), undefined);
      pool.dropped = 0;
      pool.droppedMore = 0;
      pool.droppedLabels = [];
    }
  }

  /** Files `u` under the first tick at or after its `at`. */
  private schedule(u: Unfinished): void {
    const slot = Math.ceil(u.at / this.tickMs);
    const list = this.due.get(slot);
    if (list) list.push(u);
    else this.due.set(slot, [u]);
  }

  /** Starts the gateway's one interval (unref'd): abort checks every tick, a renewal sweep every `intervalMs`. */
  private start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private tick(): void {
    for (const w of this.waiting) {
      if (!w.signal.aborted) continue;
      w.over = true;
      this.waiting.delete(w);
      w.reject(abortedError());
    }
    if (++this.ticks * this.tickMs >= this.intervalMs) {
      this.ticks = 0;
      void this.renewNow();
    }
    this.logDropped();
    if (this.unfinishedCount > 0) this.retryDue(performance.now());
    // Nothing in flight, waiting or to finish: the interval stops (an idle gateway is not woken 4 times a second);
    // the next admitted call starts it again.
    if (this.held.size === 0 && this.waiting.size === 0 && this.unfinishedCount === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.due.clear();
    }
  }

  remove(h: Held): void {
    this.held.delete(h);
  }

  /**
   * Tries the unfinished finishes that are due (one try of each at a time): only the ticks' lists that are due are
   * read (some 120 lists at most: waits are at most 30 s), not every finish waiting.
   */
  private retryDue(now: number): void {
    const current = Math.floor(now / this.tickMs);
    for (const [slot, list] of this.due) {
      if (slot > current) continue;
      this.due.delete(slot);
      for (const u of list) if (u.pool.items.has(u)) this.tryAgain(u);
    }
  }

  private tryAgain(u: Unfinished): void {
    u.running = settled(u.work).then(
      () => {
        u.pool.items.delete(u);
        return true;
      },
      (e: unknown) => {
        u.running = undefined;
        // Dropped by the cap (or taken by `close`) meanwhile: not tried again here.
        if (!u.pool.items.has(u)) return false;
        const t = performance.now();
        if (t >= u.until) {
          u.pool.items.delete(u);
          this.log(u.gaveUp, e);
        } else {
          u.waitMs = Math.min(u.waitMs * 2, MAX_RETRY_WAIT_MS);
          u.at = t + u.waitMs;
          this.schedule(u);
        }
        return false;
      },
    );
  }

  /** One sweep now (the interval's work). Skipped while the previous sweep is still waiting for its stores. */
  renewNow(): Promise<void> {
    return (this.running ??= this.sweep().finally(() => (this.running = undefined)));
  }

  /**
   * Stops the interval (the calls still in flight keep what they hold until its TTL), after a last try of the
   * finishes that failed (`retry`); one that fails again is logged. Work queued from here on (`retry`, `retryCharge`:
   * a last try that queued more, a prefetch's charge failing while the gateway closes) is tried once at once, and
   * waited for until none is left (at most `CLOSE_ROUNDS` rounds), so that the stores can be closed once this returns.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.lastTries();
    for (let round = 0; round < CLOSE_ROUNDS && this.closing.size > 0; round++) await Promise.all([...this.closing]);
    // Work that kept queueing more past the rounds (none of the gateway's does): said, as it may meet closed stores.
    if (this.closing.size > 0) this.log(`closing with ${this.closing.size} retried finish(es) still running (queued while closing, past ${CLOSE_ROUNDS} rounds)`, undefined);
  }

  /** `close`'s last try of each finish waiting (one running is waited for, and tried again only when it failed). */
  private async lastTries(): Promise<void> {
    if (this.unfinishedCount === 0) return;
    const left = [...this.calls.items, ...this.charges.items];
    this.calls.items.clear();
    this.charges.items.clear();
    this.due.clear();
    this.logDropped();
    await Promise.all(
      left.map(async (u) => {
        if (u.running && (await u.running)) return;
        await settled(u.work).catch((e: unknown) => this.log(u.gaveUp, e));
      }),
    );
  }

  private async sweep(): Promise<void> {
    const sweep = ++this.sweeps;
    const stores = this.stores;
    if (!stores || this.held.size === 0) return;
    const leases: RateLease[] = [];
    const reservations: string[] = [];
    // Every call in flight is renewed at every sweep: with sweeps a third of the TTL apart, a renewal that fails
    // (a Redis call past its bound, a busy SQLite) is tried again at the next sweep, before the TTL runs out.
    const now = performance.now();
    for (const h of this.held) {
      if (h.until !== undefined && now >= h.until) {
        this.held.delete(h);
        this.log(h.stopped ?? '', undefined);
        continue;
      }
      h.sweep = sweep;
      if (h.lease) leases.push(h.lease);
      if (h.reservationId !== undefined) reservations.push(h.reservationId);
      if (h.extensions) reservations.push(...h.extensions);
    }
    const work: Promise<void>[] = [];
    if (leases.length > 0 && stores.rateLimiter.renew) {
      const limiter = stores.rateLimiter;
      work.push(settled(() => limiter.renew!(leases)).catch((e: unknown) => this.log('renewing the concurrency leases of calls in flight failed', e)));
    }
    if (reservations.length > 0 && stores.budgets.renew) {
      const budgets = stores.budgets;
      work.push(settled(() => budgets.renew!(reservations)).catch((e: unknown) => this.log('renewing the budget reservations of calls in flight failed', e)));
    }
    await Promise.all(work);
  }
}

/**
 * Refuses a renewal interval (`GatewayOptions.limits.leaseRenewIntervalMs`) that is no positive integer of ms: the
 * operator's configuration error (`config_invalid` naming the option). Undefined is the default.
 */
export function checkRenewInterval(intervalMs: number | undefined): void {
  if (intervalMs !== undefined && !(Number.isInteger(intervalMs) && intervalMs >= 1)) {
    throw new LLMError({ code: 'config_invalid', message: `limits.leaseRenewIntervalMs must be a positive integer number of ms, got ${String(intervalMs)}`, param: 'limits.leaseRenewIntervalMs' });
  }
}

function abortedError(): LLMError {
  return new LLMError({ code: 'aborted', message: 'The client closed the request before its limits and budget were checked' });
}
