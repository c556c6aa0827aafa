import type BetterSqlite3 from 'better-sqlite3';
import type { CachedAnswer } from '../cache/exact-cache.js';
import { importOptional } from '../util/optional-import.js';
import { MemorySemanticStore, semanticEntryBytes, type MemoryMeta, type MemorySemanticStoreOptions } from './memory-semantic-store.js';
import type { SemanticEntry } from './semantic-store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS llmrr_semantic_cache (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  namespace TEXT NOT NULL,
  tenant TEXT NOT NULL,
  user_id TEXT,
  prompt TEXT NOT NULL,
  vector BLOB NOT NULL,
  answer TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  last_used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS llmrr_semantic_cache_tenant ON llmrr_semantic_cache (tenant, user_id);
`;

/**
 * Files written before `last_used` existed get the column only: their rows all read 0, and the load's tie-break by id
 * (`ORDER BY last_used DESC, id DESC`) makes them used in the order written - no row is rewritten.
 */
const ADD_LAST_USED = 'ALTER TABLE llmrr_semantic_cache ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0';

/**
 * At most this many pending hits are written at once (the oldest first), with an insert or by a flush; the rest wait
 * for the next write, or close. A hit that makes this many pending schedules a flush (off the hit path).
 */
export const SQLITE_HITS_PER_WRITE = 256;

/**
 * Pending hits are flushed about this long (ms) after the first of them: a timer the hit that found none pending starts
 * (unref'd: it never keeps a process alive), or a hit coming this long (the store's clock) after the oldest pending one.
 * A flush that failed is not tried again (but by an insert or close) for as long.
 */
export const SQLITE_HIT_FLUSH_MS = 30_000;

interface Row {
  id: number;
  namespace: string;
  tenant: string;
  user_id: string | null;
  prompt: string;
  vector: Buffer;
  answer: string;
  expires_at: number;
  last_used: number;
}

function vectorBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export interface SqliteSemanticStoreOptions extends MemorySemanticStoreOptions {
  /** Seam for tests: the dynamic import. */
  importer?: (specifier: string) => Promise<unknown>;
  /**
   * Told once at open when rows are cut to fit the bounds, once when a flush of pending hits first fails (the file
   * locked or full), and when the hits pending at close cannot be written. Default: `console.warn`.
   */
  warn?: (message: string) => void;
}

/**
 * Semantic store persisted in a SQLite file (better-sqlite3): every entry is written through to the file
 * and the vectors are also held in process for search; `open` loads the live entries back, so the cache
 * survives a restart. One process per file (for several processes, use the Redis store).
 *
 * Recency survives a restart too: each row carries `last_used`, a use sequence (set on insert; a hit's new value is
 * kept in process and written with the next insert - at most `SQLITE_HITS_PER_WRITE`, the oldest first -, by a flush
 * off the hit path (`setImmediate` once `SQLITE_HITS_PER_WRITE` are pending; an unref'd timer `SQLITE_HIT_FLUSH_MS`
 * after the first pending hit, even if no other hit or insert comes), or at `close`; so a process that dies loses fewer
 * than `SQLITE_HITS_PER_WRITE` hits, those of the last `SQLITE_HIT_FLUSH_MS` or so, as the order the file keeps). A
 * flush is best effort: it does not wait for a lock another connection holds (busy timeout 0; inserts and `close`
 * still wait for SQLite's), its hits stay pending, and the first failure is reported once (`warn`). `open` reads the
 * rows most recently used first, stops at `maxEntries`/`maxSizeBytes`, deletes the rest in SQL (the least recently
 * used) and says so once (`warn`).
 */
export class SqliteSemanticStore extends MemorySemanticStore {
  override readonly kind = 'sqlite';
  readonly #db: BetterSqlite3.Database;
  readonly #insert: BetterSqlite3.Statement;
  readonly #deleteOne: BetterSqlite3.Statement;
  readonly #setUsed: BetterSqlite3.Statement;
  /** The last use sequence given (insert or hit): rows ordered by it are the in-process recency order. */
  #seq = 0;
  /** Hits not yet written: id -> use sequence (at most one per entry). */
  readonly #touched = new Map<number, number>();
  /** When (the store's clock) the oldest pending hit was made, about: set by the hit that found none pending. */
  #pendingSince = 0;
  /** The scheduled flush of pending hits (`#flushHits`), if any. */
  #flush: ReturnType<typeof setImmediate> | undefined;
  /** Flushes the pending hits `SQLITE_HIT_FLUSH_MS` after the first (or after a flush): armed while any are pending. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** After a flush failed (the file locked or full), no hit schedules one before this time (the store's clock). */
  #retryAt = 0;
  /** Whether a failed flush was reported (`warn`, once per store). */
  #flushFailReported = false;
  #closed = false;
  readonly #warn: (message: string) => void;

  private constructor(db: BetterSqlite3.Database, options: SqliteSemanticStoreOptions) {
    super(options);
    this.#db = db;
    this.#warn = options.warn ?? ((m: string) => console.warn(m));
    this.#insert = db.prepare(
      'INSERT INTO llmrr_semantic_cache (namespace, tenant, user_id, prompt, vector, answer, expires_at, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#deleteOne = db.prepare('DELETE FROM llmrr_semantic_cache WHERE id = ?');
    this.#setUsed = db.prepare('UPDATE llmrr_semantic_cache SET last_used = ? WHERE id = ?');
  }

  /** Opens (creating if needed) the file and loads its live entries. */
  static async open(path: string, options: SqliteSemanticStoreOptions = {}): Promise<SqliteSemanticStore> {
    const mod = await importOptional<{ default: typeof BetterSqlite3 }>('better-sqlite3', {
      engine: 'SQLite semantic cache store',
      install: 'better-sqlite3@12',
      ...(options.importer ? { importer: options.importer } : {}),
    });
    const db = new mod.default(path);
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    const hasLastUsed = () => (db.prepare('PRAGMA table_info(llmrr_semantic_cache)').all() as Array<{ name: string }>).some((c) => c.name === 'last_used');
    if (!hasLastUsed()) {
      try {
        db.exec(ADD_LAST_USED);
      } catch (e) {
        // Another process upgraded the file between the check and the ALTER: the column is there, go on.
        if (!/duplicate column name/i.test(String((e as Error)?.message)) || !hasLastUsed()) throw e;
      }
    }
    db.exec('CREATE INDEX IF NOT EXISTS llmrr_semantic_cache_last_used ON llmrr_semantic_cache (last_used)');
    // Rows an older release inserted after the upgrade (a rollback) read last_used 0 although they are newer than every
    // row this release wrote: place them after those rows, in the order written. Rows from before the upgrade (ids
    // below the first row this release wrote) keep 0. Only such rows are rewritten; usually there are none.
    const top = (db.prepare('SELECT max(last_used) AS m FROM llmrr_semantic_cache').get() as { m: number | null }).m ?? 0;
    if (top > 0) {
      db.prepare('UPDATE llmrr_semantic_cache SET last_used = id + ? WHERE last_used = 0 AND id > (SELECT min(id) FROM llmrr_semantic_cache WHERE last_used > 0)').run(top);
    }
    const store = new SqliteSemanticStore(db, options);
    const cut = store.#load();
    if (cut) {
      const why = cut.bound === 'maxEntries' ? `cache.semantic.maxEntries (${store.maxEntries})` : `cache.semantic.maxSizeBytes (${store.maxSizeBytes} bytes)`;
      store.#warn(
        `[llmrr] semantic cache ${path}: cut ${cut.rows} of ${cut.rows + cut.kept} rows on open, the least recently used, to fit ${why}; ` +
          `the ${cut.kept} kept hold ${cut.keptBytes} bytes. Raise cache.semantic.maxSizeBytes (and maxEntries) to keep more (see docs/caching.md).`,
      );
    }
    return store;
  }

  /**
   * Loads the live rows most recently used first, up to the bounds (parsing no row past them), then deletes the
   * rest (the least recently used) in SQL. Returns what was cut, if anything.
   */
  #load(): { rows: number; kept: number; keptBytes: number; bound: 'maxEntries' | 'maxSizeBytes' } | undefined {
    this.#db.prepare('DELETE FROM llmrr_semantic_cache WHERE expires_at <= ?').run(this.now());
    const kept: Array<{ id: number; meta: MemoryMeta; vector: Float32Array }> = [];
    let bytes = 0;
    let first: { row: Row; bound: 'maxEntries' | 'maxSizeBytes' } | undefined;
    for (const r of this.#db.prepare('SELECT * FROM llmrr_semantic_cache ORDER BY last_used DESC, id DESC').iterate() as IterableIterator<Row>) {
      if (kept.length >= this.maxEntries) {
        first = { row: r, bound: 'maxEntries' };
        break; // (ends the statement: the connection is free for the delete)
      }
      const meta = {
        namespace: r.namespace,
        tenant: r.tenant,
        ...(r.user_id !== null ? { user: r.user_id } : {}),
        expiresAt: r.expires_at,
        prompt: r.prompt,
        answer: JSON.parse(r.answer) as CachedAnswer,
      };
      const b = semanticEntryBytes({ ...meta, vector: r.vector });
      if (bytes + b > this.maxSizeBytes) {
        first = { row: r, bound: 'maxSizeBytes' };
        break;
      }
      bytes += b;
      this.#seq = Math.max(this.#seq, r.last_used);
      kept.push({ id: this.claimId(r.id), meta: { ...meta, bytes: b }, vector: new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength)) });
    }
    kept.reverse(); // oldest use first: the catalog's eviction order
    this.catalog.putMany(kept);
    if (!first) return undefined;
    const { row, bound } = first;
    const rows = this.#db.prepare('DELETE FROM llmrr_semantic_cache WHERE last_used < ? OR (last_used = ? AND id <= ?)').run(row.last_used, row.last_used, row.id).changes;
    return { rows, kept: kept.length, keptBytes: bytes, bound };
  }

  /**
   * Writes up to `limit` of the hits not yet written, the oldest hit first (with the next insert or a flush: a bounded
   * number, so a request never writes thousands; at close: all), inside the caller's transaction; returns how many, for
   * `#written` once it committed. Any subset keeps the file's order a possible recency order.
   */
  #writeTouched(limit: number): number {
    let n = 0;
    for (const [id, used] of this.#touched) {
      if (n >= limit) break;
      this.#setUsed.run(used, id);
      n++;
    }
    return n;
  }

  /** Forgets the `n` oldest pending hits: their transaction committed (a failed one leaves them pending). */
  #written(n: number): void {
    for (const id of this.#touched.keys()) {
      if (n-- <= 0) break;
      this.#touched.delete(id);
    }
    this.#idle();
  }

  override async touch(id: number): Promise<void> {
    if (this.#closed || !this.catalog.get(id)) return;
    this.catalog.touch(id);
    if (this.#touched.size === 0) this.#pendingSince = this.now();
    this.#touched.delete(id); // (re-inserted last: the map stays in hit order, oldest first)
    this.#touched.set(id, ++this.#seq);
    if (this.#timer === undefined) this.#arm();
    if (this.#flush === undefined && (this.#touched.size >= SQLITE_HITS_PER_WRITE || this.now() - this.#pendingSince >= SQLITE_HIT_FLUSH_MS) && this.now() >= this.#retryAt) {
      this.#flush = setImmediate(() => this.#flushHits());
    }
  }

  /** (Re)starts the timer that flushes the pending hits `SQLITE_HIT_FLUSH_MS` from now (none pending: stops it). */
  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#touched.size === 0 || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flushHits();
    }, SQLITE_HIT_FLUSH_MS);
    this.#timer.unref?.();
  }

  /** Stops the flush timer once no hit is pending (written with an insert, or their rows gone). */
  #idle(): void {
    if (this.#touched.size === 0 && this.#timer !== undefined) this.#arm();
  }

  /**
   * Writes up to `SQLITE_HITS_PER_WRITE` pending hits in one transaction (scheduled by `touch` or the timer), and
   * schedules the next batch if as many remain. Best effort: it does not wait for a lock (busy timeout 0 while it runs,
   * the store's own restored after), a failure keeps the hits pending (for an insert, a flush `SQLITE_HIT_FLUSH_MS`
   * later, or close) and the first one is reported.
   */
  #flushHits(): void {
    if (this.#flush !== undefined) clearImmediate(this.#flush);
    this.#flush = undefined;
    if (this.#closed || !this.#db.open || this.#touched.size === 0) return this.#idle();
    const busyTimeout = this.#db.pragma('busy_timeout', { simple: true }) as number;
    try {
      this.#db.pragma('busy_timeout = 0');
      this.#written(this.#db.transaction(() => this.#writeTouched(SQLITE_HITS_PER_WRITE))());
      this.#pendingSince = this.now();
      if (this.#touched.size >= SQLITE_HITS_PER_WRITE) this.#flush = setImmediate(() => this.#flushHits());
    } catch (e) {
      this.#retryAt = this.now() + SQLITE_HIT_FLUSH_MS;
      if (!this.#flushFailReported) {
        this.#flushFailReported = true;
        const message =
          `[llmrr] semantic cache ${this.#db.name}: writing ${this.#touched.size} pending hits failed (${(e as Error)?.message ?? e}); ` +
          `they stay pending (written with the next insert, tried again in ${SQLITE_HIT_FLUSH_MS} ms, or at close). Further failures are not reported.`;
        // Run from a timer: a logger that throws must neither end the process nor stop the retry armed below.
        try {
          this.#warn(message);
        } catch {
          /* the report is lost, the hits are not */
        }
      }
    } finally {
      this.#db.pragma(`busy_timeout = ${busyTimeout}`);
    }
    this.#arm(); // the rest (or, after a failure, all) are flushed SQLITE_HIT_FLUSH_MS from now at the latest
  }

  override async add(entry: SemanticEntry): Promise<number> {
    if (this.oversized(entry)) return 0;
    const insert = () => this.#insert.run(entry.namespace, entry.tenant, entry.user ?? null, entry.prompt, vectorBytes(entry.vector), JSON.stringify(entry.answer), entry.expiresAt, ++this.#seq);
    // (one transaction with the hits not yet written, when there are some)
    let written = 0;
    const info = this.#touched.size === 0 ? insert() : this.#db.transaction(() => ((written = this.#writeTouched(SQLITE_HITS_PER_WRITE)), insert()))();
    if (written > 0) this.#written(written);
    const id = this.claimId(Number(info.lastInsertRowid));
    this.catalog.put(id, this.meta(entry), entry.vector);
    await this.dropped(await this.evict());
    return id;
  }

  override async addMany(entries: readonly SemanticEntry[]): Promise<number[]> {
    const ids: number[] = [];
    let written = 0;
    this.#db.transaction(() => {
      written = this.#writeTouched(SQLITE_HITS_PER_WRITE);
      for (const e of entries) ids.push(this.oversized(e) ? 0 : Number(this.#insert.run(e.namespace, e.tenant, e.user ?? null, e.prompt, vectorBytes(e.vector), JSON.stringify(e.answer), e.expiresAt, ++this.#seq).lastInsertRowid));
    })();
    if (written > 0) this.#written(written);
    this.catalog.putMany(entries.flatMap((entry, i) => (ids[i] === 0 ? [] : [{ id: this.claimId(ids[i]!), meta: this.meta(entry), vector: entry.vector }])));
    await this.dropped(await this.evict());
    return ids;
  }

  protected override async dropped(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) this.#touched.delete(id);
    this.#idle();
    this.#db.transaction((list: number[]) => list.forEach((id) => this.#deleteOne.run(id)))(ids);
  }

  override async delete(id: number): Promise<boolean> {
    const removed = this.catalog.remove(id);
    this.#touched.delete(id);
    this.#idle();
    const n = this.#deleteOne.run(id).changes;
    return removed || n > 0;
  }

  override async clear(): Promise<void> {
    this.catalog.clear();
    this.#touched.clear();
    this.#idle();
    this.#db.exec('DELETE FROM llmrr_semantic_cache');
  }

  override async close(): Promise<void> {
    if (this.#closed || !this.#db.open) return;
    this.#closed = true; // (a hit from now on is ignored)
    if (this.#flush !== undefined) clearImmediate(this.#flush);
    this.#flush = undefined;
    this.#arm(); // (closed: stops the timer)
    try {
      this.#db.transaction(() => this.#writeTouched(this.#touched.size))(); // (at most maxEntries: one per live entry)
    } catch (e) {
      // The file stays consistent (the transaction rolled back); only these hits' recency is lost.
      this.#warn(`[llmrr] semantic cache: ${this.#touched.size} hits not written at close (${(e as Error)?.message ?? e}); their recency is lost.`);
    } finally {
      this.#touched.clear();
      this.#db.close();
    }
  }
}
