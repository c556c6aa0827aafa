import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import { LLMError } from '../../errors/llm-error.js';
import { importOptional } from '../../util/optional-import.js';
import { SqliteGroupCommit } from './sqlite-group-commit.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';
import { SqliteWalCheckpoints } from './sqlite-wal-checkpoints.js';

export type SqliteDatabase = BetterSqlite3.Database;

export interface SqliteOpenOptions {
  /** `normal` (default) survives a killed process; `full` also survives power loss. */
  synchronous?: 'normal' | 'full';
  /**
   * SQLite's page cache per connection, KiB (default 2000: SQLite's own default; better-sqlite3 builds SQLite
   * with 16 000). The gateway's writes append (request ids start with the time) and its reads are small, so a
   * larger cache only holds memory: 16 MB of it left the gateway's resident set ~14-17 MB higher after a
   * 512-stream burst, with no CPU difference seen at 2 MB (docs/benchmarks.md, "Memory").
   */
  cacheKib?: number;
  /**
   * How long one statement waits for another connection's write lock (ms, default 5000: SQLite's `busy_timeout`).
   * The schema upgrade at open waits longer (`SQLITE_MIGRATE_WAIT_MS`).
   */
  busyTimeoutMs?: number;
}

/**
 * How long `openSqlite` keeps trying the schema upgrade while another connection holds the write lock (ms): another
 * process upgrading the same file (building an index of a large table holds the lock for seconds, ~1.2 µs per row of
 * `llmrr_budget_spend`) is waited for, and then the upgrade finds the file at its version: nothing left to do.
 */
export const SQLITE_MIGRATE_WAIT_MS = 60_000;

export const SQLITE_DEFAULT_CACHE_KIB = 2000;

/**
 * One SQLite connection shared by the embedded stores. Each store calls `release()` on close; the
 * database closes with the last one.
 */
export class SqliteHandle {
  private refs = 0;
  private closed = false;
  /** Group commit for the per-request writes (ledger rows, budget reservations and settlements). */
  readonly writes: SqliteGroupCommit;
  /** WAL checkpoints after group commits instead of inside one (a file database in WAL mode only). */
  readonly checkpoints: SqliteWalCheckpoints | undefined;

  constructor(readonly db: SqliteDatabase) {
    const checkpoints = db.pragma('journal_mode', { simple: true }) === 'wal' ? new SqliteWalCheckpoints(db) : undefined;
    this.checkpoints = checkpoints;
    this.writes = new SqliteGroupCommit(db, checkpoints ? { afterCommit: () => checkpoints.committed() } : {});
  }

  retain(): this {
    this.refs += 1;
    return this;
  }

  release(): void {
    this.refs -= 1;
    if (this.refs <= 0 && !this.closed) {
      this.closed = true;
      this.writes.close();
      this.db.close();
    }
  }
}

/** Opens (creating if needed) a SQLite file, or `:memory:`, with WAL and the llmrr schema. */
export async function openSqlite(path: string, options: SqliteOpenOptions = {}): Promise<SqliteHandle> {
  const mod = await importOptional<{ default: typeof BetterSqlite3 }>('better-sqlite3', {
    engine: 'SQLite state store (embedded mode)',
    install: 'better-sqlite3@12',
  });
  const db = new mod.default(path);
  try {
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a committed transaction is in the WAL file (OS cache) before the call returns, so a
    // killed process loses nothing; only power loss can lose the last commits. FULL fsyncs each commit.
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    const cacheKib = options.cacheKib ?? SQLITE_DEFAULT_CACHE_KIB;
    if (!Number.isInteger(cacheKib) || cacheKib < 64) throw new LLMError({ code: 'config_invalid', message: `cacheKib: the SQLite page cache must be a whole number of at least 64 KiB, got ${cacheKib}` });
    db.pragma(`cache_size = -${cacheKib}`);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma('foreign_keys = ON');
    await migrateWaiting(db, SQLITE_MIGRATE_WAIT_MS);
  } catch (e) {
    db.close();
    throw e;
  }
  return new SqliteHandle(db);
}

/**
 * Opens an existing SQLite file read-only, as a tool that only reads it does (`llmrr audit verify`): never creates the
 * file, a table, nor upgrades the schema. A file that is not an llmrr database, of a schema version this build does
 * not know, or without the `tables` asked for is refused (`config_invalid`), never read as empty. A damaged SQLite
 * file (its header or first page refused) throws SQLite's own error (`SQLITE_NOTADB`, `SQLITE_CORRUPT`).
 *
 * A closed gateway's WAL database has no `-wal` file. A read-only connection would create `-wal` and `-shm` and could
 * not remove them on close, so then the file is opened for writing with `query_only` (no statement can change it):
 * SQLite's own close removes them when it is the last connection (and keeps them for a gateway that opened the
 * database meanwhile). A database with a `-wal` file (a running gateway's, or one that crashed) is opened read-only:
 * its files are left as they were, and a crashed gateway's WAL is not checkpointed into the file.
 */
export async function openSqliteReadOnly(path: string, tables: readonly string[] = []): Promise<SqliteHandle> {
  const mod = await importOptional<{ default: typeof BetterSqlite3 }>('better-sqlite3', {
    engine: 'SQLite state store (embedded mode)',
    install: 'better-sqlite3@12',
  });
  const walFree = path !== ':memory:' && !existsSync(`${path}-wal`);
  const db = new mod.default(path, { readonly: !walFree, fileMustExist: true });
  try {
    if (walFree) db.pragma('query_only = ON');
    let version: number;
    try {
      version = db.pragma('user_version', { simple: true }) as number;
    } catch (e) {
      // A file that starts as SQLite's do but whose header SQLite refuses (a page size byte overwritten) is a damaged
      // database: its SQLite error is thrown as is, as for a damaged page. Only a file without the magic is not one.
      if ((e as { code?: unknown }).code !== 'SQLITE_NOTADB' || hasSqliteMagic(path)) throw e;
      throw new LLMError({ code: 'config_invalid', message: `${path}: not a SQLite database`, cause: e });
    }
    if (version > SQLITE_MIGRATIONS.length) {
      throw new LLMError({ code: 'config_invalid', message: `${path}: schema version ${version} is newer than this llmrr build knows (${SQLITE_MIGRATIONS.length}); use the gateway's llmrr version` });
    }
    const has = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).pluck();
    const missing = tables.filter((t) => has.get(t) === undefined);
    if (version === 0 || missing.length > 0) {
      // `details.schemaVersion` 0: an empty file or one no llmrr process ever migrated.
      throw new LLMError({ code: 'config_invalid', message: `${path}: not an llmrr database with ${tables.length > 0 ? `the table(s) ${missing.join(', ') || tables.join(', ')}` : 'its tables'} (schema version ${version})`, details: { schemaVersion: version } });
    }
  } catch (e) {
    db.close();
    throw e;
  }
  return new SqliteHandle(db);
}

/** The 16 bytes every SQLite database file starts with. */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** Whether the file at `path` starts as a SQLite database does (false when it cannot be read). */
function hasSqliteMagic(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * `migrateSqlite`, tried again while it fails with `SQLITE_BUSY` (another connection's write lock held past the busy
 * timeout: another process's upgrade), for up to `waitMs`; the event loop runs between tries. A file upgraded meanwhile
 * is then at its version: the try that gets the lock changes nothing.
 */
async function migrateWaiting(db: SqliteDatabase, waitMs: number): Promise<void> {
  const until = performance.now() + waitMs;
  for (;;) {
    try {
      migrateSqlite(db);
      return;
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'SQLITE_BUSY' || performance.now() >= until) throw e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function migrateSqlite(db: SqliteDatabase): void {
  const run = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < SQLITE_MIGRATIONS.length; i++) {
      db.exec(SQLITE_MIGRATIONS[i] as string);
    }
    if (version < SQLITE_MIGRATIONS.length) db.pragma(`user_version = ${SQLITE_MIGRATIONS.length}`);
  });
  run.immediate();
}
