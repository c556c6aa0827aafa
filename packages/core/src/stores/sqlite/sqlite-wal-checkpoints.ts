import type { SqliteDatabase } from './sqlite-database.js';

/** About how many WAL pages to let accumulate between checkpoints (SQLite's own default). */
const TARGET_PAGES = 1000;
const MIN_COMMITS = 16;
const MAX_COMMITS = 4096;

/**
 * WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside the COMMIT that takes
 * the WAL past 1000 pages: that commit, and so every answer waiting for it, also copies the pages into the
 * database file and fsyncs it (3-14 ms on the benchmark VM; at concurrency 1, about 0.7-0.85% of the gateway's
 * requests had a commit over 1 ms). This turns the automatic checkpoint off for this connection (`wal_autocheckpoint
 * = 0`; other connections and processes on the file keep theirs) and runs the same PASSIVE checkpoint
 * itself once every so many group commits (scaled after each checkpoint so that about 1000 pages
 * accumulate, as before), right after a commit that carried a ledger record, once the answers waiting for
 * it are written.
 *
 * Durability is unchanged: a transaction is durable once it is in the WAL; a checkpoint only copies
 * committed pages into the main file. A checkpoint that fails (or finds readers in the way) is left to the
 * next one, as SQLite does with its own; closing the last connection checkpoints as before.
 */
export class SqliteWalCheckpoints {
  private commits = 0;
  private every = 128;
  private scheduled = false;
  /**
   * Checkpoints run, WAL pages they found (pages / checkpoints = the mean WAL size between them), and
   * checkpoints that failed (left to the next one).
   */
  readonly stats = { checkpoints: 0, pages: 0, failures: 0 };

  constructor(private readonly db: SqliteDatabase) {
    db.pragma('wal_autocheckpoint = 0');
  }

  /** Called after each group commit. Without ledger writes, a checkpoint still comes after 4x the usual. */
  committed(): void {
    if (++this.commits >= 4 * this.every) this.schedule();
  }

  /**
   * Called when a ledger record committed (a request's last write): a checkpoint that is due runs now,
   * on `setImmediate`, after the answers that waited for this commit were written. Not after a budget
   * reservation's commit: its request's upstream call is still to be sent, turns of the event loop later.
   */
  requestEnded(): void {
    if (this.commits >= this.every) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.checkpoint);
  }

  private readonly checkpoint = (): void => {
    this.scheduled = false;
    this.commits = 0;
    if (!this.db.open) return;
    try {
      const [r] = this.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
      this.stats.checkpoints += 1;
      if (r && r.log > 0) {
        this.stats.pages += r.log;
        this.every = Math.min(MAX_COMMITS, Math.max(MIN_COMMITS, Math.round((this.every * TARGET_PAGES) / r.log)));
      }
    } catch {
      this.stats.failures += 1;
      // Left to the next checkpoint (SQLite ignores a failed automatic checkpoint the same way).
    }
  };
}
