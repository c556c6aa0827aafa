import type { AuditLog } from './types.js';

/** One failed authentication, as the gateway saw it. Never put the presented secret here. */
export interface AuthFailure {
  /** Why: `missing_key`, `malformed`, `unknown_key`, `revoked`, `wrong_admin_key`, `wrong_metrics_key`, ... */
  reason: string;
  requestId?: string;
  ip?: string;
  /** The key's id when the secret matched a stored key (revoked, expired, tenant disabled). */
  keyId?: string;
  tenantId?: string;
  /** The first characters of a well-formed but unknown secret (the part admins see as the key's prefix). */
  keyPrefix?: string;
  /** Other fields to keep on the row (e.g. `scope: 'admin'`, `path`). JSON-serializable, no secrets. */
  extra?: Record<string, unknown>;
}

export interface AuthFailureAuditOptions {
  /** Length of an aggregation window. Default 60 000 ms. */
  windowMs?: number;
  /** Rows (first failures of a source) written per window at most, over all sources. Default 100. */
  maxRowsPerWindow?: number;
  /** Wall clock (epoch ms) that dates the rows (`firstAt`, `lastAt`). Default `Date.now`. */
  clock?: () => number;
  /** Monotonic clock (ms) that measures the windows. Default `performance.now`. */
  monotonicClock?: () => number;
}

interface Bucket {
  /** When its window started, on the monotonic clock. */
  start: number;
  /** The earliest and latest wall-clock readings of its failures. */
  firstAt: number;
  lastAt: number;
  /** Failures after the first one, not yet written. */
  repeats: number;
  failure: AuthFailure;
}

/**
 * Audits authentication failures with a bounded number of rows, so an unauthenticated client cannot grow
 * the audit log at will, while every failure is still counted:
 * - the FIRST failure of a source (client IP + reason + key id or key prefix) in a window is written at
 *   once as `auth.failure` (with the request id);
 * - further failures of that source in the window are counted and written as ONE `auth.failure` row with
 *   `details.count`, `firstAt`, `lastAt` when the window ends (`repeated: true`);
 * - at most `maxRowsPerWindow` first-failure rows per window over all sources; beyond it, failures are
 *   counted into one `auth.failure.suppressed` row per window.
 * So the windows write 2 x maxRowsPerWindow + 1 rows a window on average; one window of the cap can see 3 x
 * maxRowsPerWindow + 1 (each source's window starts at its own first failure, so the counted rows of the previous
 * window's late sources land in it beside its own), and memory holds at most 2 x maxRowsPerWindow
 * sources. Pending counts are written by `flush()` (on a timer, and by `close()`) or by the first `record()` after
 * their window ended; a failed write of them goes to the constructor's `onError`, never to a `record()` call's.
 *
 * Windows are measured on a monotonic clock, the wall clock only dates the rows: a wall clock stepped back or
 * forth (NTP, a hypervisor's time sync) neither prolongs a window (its counts unwritten and new sources past the cap
 * audited only as a count until the clock has caught up) nor ends one (a clock flapping between two readings would
 * turn every failure into a row). A row's `firstAt` and `lastAt` are the earliest and latest wall-clock readings of
 * the failures it counts, so `lastAt` is never before `firstAt`.
 */
export class AuthFailureAudit {
  private readonly windowMs: number;
  private readonly maxRows: number;
  private readonly clock: () => number;
  private readonly monotonic: () => number;
  private readonly buckets = new Map<string, Bucket>();
  /** On the monotonic clock. */
  private windowStart: number;
  private rowsThisWindow = 0;
  private suppressed = 0;
  private suppressedFirstAt = 0;
  private suppressedLastAt = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(
    private readonly audit: AuditLog,
    options: AuthFailureAuditOptions = {},
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxRows = options.maxRowsPerWindow ?? 100;
    this.clock = options.clock ?? Date.now;
    this.monotonic = options.monotonicClock ?? (() => performance.now());
    this.windowStart = this.monotonic();
  }

  /**
   * Counts one failure; resolves once its row (if it gets one now) and the counts of the windows it ends are
   * written. A failed write of this failure's own row goes to `onError` when given (the caller's: logged under its
   * request), else to the constructor's; a failed write of the counts of an ended window (other sources' failures,
   * whichever call or timer tick ends it) always goes to the constructor's.
   */
  async record(failure: AuthFailure, onError?: (error: unknown) => void): Promise<void> {
    if (this.closed) return;
    const now = this.clock();
    const mono = this.monotonic();
    const writes = this.rollWindows(mono);
    const ended = writes.length;
    const key = sourceKey(failure);
    const b = this.buckets.get(key);
    if (b && mono - b.start < this.windowMs) {
      b.repeats += 1;
      if (now < b.firstAt) b.firstAt = now;
      if (now > b.lastAt) b.lastAt = now;
    } else if (this.rowsThisWindow < this.maxRows) {
      this.rowsThisWindow += 1;
      this.buckets.set(key, { start: mono, firstAt: now, lastAt: now, repeats: 0, failure });
      writes.push(this.audit.append(row(failure, { ...(failure.requestId ? { requestId: failure.requestId } : {}) })));
    } else {
      if (this.suppressed === 0) this.suppressedFirstAt = this.suppressedLastAt = now;
      else if (now < this.suppressedFirstAt) this.suppressedFirstAt = now;
      else if (now > this.suppressedLastAt) this.suppressedLastAt = now;
      this.suppressed += 1;
    }
    this.ensureTimer();
    await this.settle(writes, ended, onError);
  }

  /** Writes the counts of every window that ended (all of them with `all`). */
  async flush(all = false): Promise<void> {
    await this.settle(this.rollWindows(this.monotonic(), all));
  }

  /** Writes everything pending and stops the timer. Idempotent. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    this.closed = true;
    await this.flush(true);
  }

  /** Ends windows that are over at `mono` (the monotonic clock) and returns the appends of their summary rows. */
  private rollWindows(mono: number, all = false): Array<Promise<unknown>> {
    const writes: Array<Promise<unknown>> = [];
    for (const [key, b] of this.buckets) {
      if (!all && mono - b.start < this.windowMs) continue;
      this.buckets.delete(key);
      if (b.repeats > 0) writes.push(this.audit.append(row(b.failure, { repeated: true, count: b.repeats, firstAt: b.firstAt, lastAt: b.lastAt })));
    }
    if (all || mono - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) {
        writes.push(
          this.audit.append({
            actor: 'anonymous',
            action: 'auth.failure.suppressed',
            details: { count: this.suppressed, firstAt: this.suppressedFirstAt, lastAt: this.suppressedLastAt, maxRowsPerWindow: this.maxRows, windowMs: this.windowMs },
          }),
        );
      }
      this.suppressed = 0;
      this.rowsThisWindow = 0;
      this.windowStart = mono;
    }
    return writes;
  }

  /** Waits for `writes`; a failure of one at index `own` or later goes to `onError` (a call's own row), else to the constructor's. */
  private async settle(writes: Array<Promise<unknown>>, own = writes.length, onError: (error: unknown) => void = this.onError): Promise<void> {
    const results = await Promise.allSettled(writes);
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.status === 'rejected') (i < own ? this.onError : onError)(r.reason);
    }
  }

  private ensureTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => {
      this.flush().catch((e: unknown) => {
        try {
          this.onError(e);
        } catch {
          // never throw from a timer
        }
      });
      if (this.buckets.size === 0 && this.suppressed === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
      // A millisecond past the window: timers count whole ms, the window fractional ones (`performance.now`), so a tick
      // at `windowMs` can come just before the first source's window ends and leave its counts for a window later.
    }, this.windowMs + 1);
    this.timer.unref?.();
  }
}

function sourceKey(f: AuthFailure): string {
  return `${f.ip ?? ''}\u0000${f.reason}\u0000${f.keyId ?? f.keyPrefix ?? ''}\u0000${typeof f.extra?.scope === 'string' ? f.extra.scope : ''}`;
}

function row(f: AuthFailure, more: Record<string, unknown>) {
  return {
    actor: 'anonymous',
    action: 'auth.failure',
    ...(f.keyId ? { target: f.keyId } : {}),
    details: {
      ...f.extra,
      reason: f.reason,
      ...(f.keyId ? { keyId: f.keyId } : {}),
      ...(f.tenantId ? { tenantId: f.tenantId } : {}),
      ...(f.keyPrefix ? { keyPrefix: f.keyPrefix } : {}),
      ...more,
    },
    ...(f.ip ? { ip: f.ip } : {}),
  };
}

const registry = new WeakMap<AuditLog, AuthFailureAudit>();

/** The one `AuthFailureAudit` of an audit log in this process (created on first use). */
export function authFailureAuditFor(audit: AuditLog, options?: AuthFailureAuditOptions, onError?: (error: unknown) => void): AuthFailureAudit {
  let a = registry.get(audit);
  if (!a) registry.set(audit, (a = new AuthFailureAudit(audit, options, onError)));
  return a;
}

/** Writes what the audit log's `AuthFailureAudit` still holds (call before closing the log). */
export async function closeAuthFailureAudit(audit: AuditLog): Promise<void> {
  const a = registry.get(audit);
  if (!a) return;
  await a.close();
  registry.delete(audit);
}
