import { LLMError, type RateLease } from '@llmrr/core';
import type { GatewayStores } from '../types.js';

/**
 * Default time between two renewal sweeps: a third of the stores' lease and reservation TTL (10 minutes), so
 * a call's holdings are renewed at most one sweep after they were taken, and one failed sweep is made up by the
 * next before they would expire.
 */
export const DEFAULT_RENEW_INTERVAL_MS = 200_000;

/** How often the admissions waiting for the stores are checked for a client's abort (ms). */
const ABORT_CHECK_MS = 250;

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
  private readonly tickMs: number;
  private ticks = 0;
  private sweeps = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly stores: GatewayStores | undefined,
    private readonly log: (message: string, error: unknown) => void,
    readonly intervalMs: number = DEFAULT_RENEW_INTERVAL_MS,
  ) {
    if (!Number.isInteger(intervalMs) || intervalMs < 1) {
      throw new LLMError({ code: 'invalid_request', message: `leaseRenewIntervalMs must be a positive integer, got ${String(intervalMs)}`, param: 'limits.leaseRenewIntervalMs' });
    }
    this.tickMs = Math.min(ABORT_CHECK_MS, intervalMs);
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

  /** Tracks a call's holdings until `remove`. */
  add(lease: RateLease | undefined, reservationId: string | undefined): Held {
    const h: Held = { lease, reservationId, sweep: this.sweeps };
    this.held.add(h);
    this.start();
    return h;
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
    // Nothing in flight and nothing waiting: the interval stops (an idle gateway is not woken 4 times a second);
    // the next admitted call starts it again.
    if (this.held.size === 0 && this.waiting.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  remove(h: Held): void {
    this.held.delete(h);
  }

  /** One sweep now (the interval's work). Skipped while the previous sweep is still waiting for its stores. */
  renewNow(): Promise<void> {
    return (this.running ??= this.sweep().finally(() => (this.running = undefined)));
  }

  /** Stops the interval (the calls still in flight keep what they hold until its TTL). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async sweep(): Promise<void> {
    const sweep = ++this.sweeps;
    const stores = this.stores;
    if (!stores || this.held.size === 0) return;
    const leases: RateLease[] = [];
    const reservations: string[] = [];
    // Every call in flight is renewed at every sweep: with sweeps a third of the TTL apart, a renewal that fails
    // (a Redis call past its bound, a busy SQLite) is tried again at the next sweep, before the TTL runs out.
    for (const h of this.held) {
      h.sweep = sweep;
      if (h.lease) leases.push(h.lease);
      if (h.reservationId !== undefined) reservations.push(h.reservationId);
      if (h.extensions) reservations.push(...h.extensions);
    }
    const work: Promise<void>[] = [];
    if (leases.length > 0 && stores.rateLimiter.renew) {
      work.push(stores.rateLimiter.renew(leases).catch((e: unknown) => this.log('renewing the concurrency leases of calls in flight failed', e)));
    }
    if (reservations.length > 0 && stores.budgets.renew) {
      work.push(stores.budgets.renew(reservations).catch((e: unknown) => this.log('renewing the budget reservations of calls in flight failed', e)));
    }
    await Promise.all(work);
  }
}

function abortedError(): LLMError {
  return new LLMError({ code: 'aborted', message: 'The client closed the request before its limits and budget were checked' });
}
