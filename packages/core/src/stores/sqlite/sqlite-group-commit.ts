import type { SqliteDatabase } from './sqlite-database.js';

/** State one batch's jobs may share (e.g. a sum read once per batch); fresh for every transaction attempt. */
export class BatchScope extends Map<string, unknown> {
  private readonly ends: Array<() => void> = [];

  /** Runs `fn` inside the transaction after the batch's last job (e.g. one row update for many jobs). */
  atEnd(fn: () => void): void {
    this.ends.push(fn);
  }

  /** @internal */
  runEnds(): void {
    for (const fn of this.ends) fn();
  }
}

export interface GroupCommitOptions {
  /** Called after each committed transaction, once its callers' promises are resolved (WAL checkpoints). */
  afterCommit?: () => void;
}

interface Job {
  work: (scope: BatchScope) => unknown;
  onCommit: ((result: unknown) => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for SQLite: writes queued in the same turn of the event loop (the requests that finish
 * together) run in ONE `BEGIN IMMEDIATE` transaction, flushed on `setImmediate`. Each caller's promise
 * resolves only after that transaction committed, so "durable when the promise resolves" holds per
 * caller exactly as with one autocommit per write (WAL + synchronous=NORMAL: the commit is in the WAL
 * file before COMMIT returns, so a killed process loses nothing; FULL also fsyncs). One commit costs
 * about as much as four small row writes, so sharing it is most of the saving.
 *
 * A job that throws rolls the batch back; it gets its error and the other jobs run again without it
 * (jobs must be SQL only, without side effects outside the transaction, or keep those in `scope`).
 * A failure of BEGIN or COMMIT itself (e.g. SQLITE_BUSY after busy_timeout) fails every job of the batch.
 */
export class SqliteGroupCommit {
  private pending: Job[] = [];
  private scheduled = false;
  private closed = false;
  private readonly afterCommit: (() => void) | undefined;
  /** Transactions committed and jobs they carried (jobs / commits = the mean batch size). */
  readonly stats = { commits: 0, jobs: 0 };

  /**
   * The batch transaction, wrapped once: `db.transaction()` builds its four wrapper functions on every
   * call (about 6 µs, as much as the BEGIN and COMMIT themselves); the wrapper is reusable with arguments.
   */
  private readonly transaction: (batch: Job[], results: unknown[], failure: { index: number; error: unknown }) => void;

  constructor(db: SqliteDatabase, options: GroupCommitOptions = {}) {
    this.afterCommit = options.afterCommit;
    this.transaction = db.transaction((batch: Job[], results: unknown[], failure: { index: number; error: unknown }) => {
      const scope = new BatchScope();
      for (let i = 0; i < batch.length; i++) {
        try {
          results[i] = batch[i]!.work(scope);
        } catch (e) {
          failure.index = i;
          failure.error = e;
          throw e;
        }
      }
      scope.runEnds();
    }).immediate;
  }

  /**
   * Queues `work` for the next group transaction. `onCommit` runs synchronously right after that
   * transaction committed, before any other job of a later batch (for in-memory state that must follow
   * the database exactly). Jobs queued in the same synchronous run always share one transaction.
   */
  run<T>(work: (scope: BatchScope) => T, onCommit?: (result: T) => void): Promise<T> {
    if (this.closed) return Promise.reject(new Error('The SQLite store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, onCommit: onCommit as ((r: unknown) => void) | undefined, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs everything queued now (also called before the database closes). */
  flush(): void {
    this.scheduled = false;
    const jobs = this.pending;
    if (jobs.length === 0) return;
    this.pending = [];
    this.commit(jobs);
  }

  /** Flushes what is queued and refuses new work. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private commit(jobs: Job[]): void {
    let live = jobs;
    while (live.length > 0) {
      const results: unknown[] = new Array(live.length);
      const failure = { index: -1, error: undefined as unknown };
      const batch = live;
      try {
        this.transaction(batch, results, failure);
      } catch (e) {
        if (failure.index < 0) {
          // BEGIN or COMMIT failed: nothing of this batch is durable.
          for (const j of batch) j.reject(e);
          return;
        }
        batch[failure.index]!.reject(failure.error);
        live = batch.filter((_, i) => i !== failure.index);
        continue;
      }
      this.stats.commits += 1;
      this.stats.jobs += batch.length;
      for (let i = 0; i < batch.length; i++) {
        const job = batch[i]!;
        try {
          job.onCommit?.(results[i]);
        } catch (e) {
          job.reject(e);
          continue;
        }
        job.resolve(results[i]);
      }
      this.afterCommit?.();
      return;
    }
  }
}
