import type BetterSqlite3 from 'better-sqlite3';
import type { CachedAnswer } from '../cache/exact-cache.js';
import { importOptional } from '../util/optional-import.js';
import { MemorySemanticStore, semanticEntryBytes, type MemorySemanticStoreOptions } from './memory-semantic-store.js';
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
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS llmrr_semantic_cache_tenant ON llmrr_semantic_cache (tenant, user_id);
`;

interface Row {
  id: number;
  namespace: string;
  tenant: string;
  user_id: string | null;
  prompt: string;
  vector: Buffer;
  answer: string;
  expires_at: number;
}

function vectorBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export interface SqliteSemanticStoreOptions extends MemorySemanticStoreOptions {
  /** Seam for tests: the dynamic import. */
  importer?: (specifier: string) => Promise<unknown>;
}

/**
 * Semantic store persisted in a SQLite file (better-sqlite3): every entry is written through to the file
 * and the vectors are also held in process for search; `open` loads the live entries back, so the cache
 * survives a restart. One process per file (for several processes, use the Redis store).
 */
export class SqliteSemanticStore extends MemorySemanticStore {
  override readonly kind = 'sqlite';
  readonly #db: BetterSqlite3.Database;
  readonly #insert: BetterSqlite3.Statement;
  readonly #deleteOne: BetterSqlite3.Statement;

  private constructor(db: BetterSqlite3.Database, options: SqliteSemanticStoreOptions) {
    super(options);
    this.#db = db;
    this.#insert = db.prepare(
      'INSERT INTO llmrr_semantic_cache (namespace, tenant, user_id, prompt, vector, answer, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#deleteOne = db.prepare('DELETE FROM llmrr_semantic_cache WHERE id = ?');
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
    const store = new SqliteSemanticStore(db, options);
    store.#load();
    // A file written under a larger bound (maxEntries, maxSizeBytes) is brought within this one's.
    await store.dropped(await store.evict());
    return store;
  }

  #load(): void {
    const now = this.now();
    this.#db.prepare('DELETE FROM llmrr_semantic_cache WHERE expires_at <= ?').run(now);
    const rows = this.#db.prepare('SELECT * FROM llmrr_semantic_cache ORDER BY id').all() as Row[];
    this.catalog.putMany(
      rows.map((r) => {
        const meta = {
          namespace: r.namespace,
          tenant: r.tenant,
          ...(r.user_id !== null ? { user: r.user_id } : {}),
          expiresAt: r.expires_at,
          prompt: r.prompt,
          answer: JSON.parse(r.answer) as CachedAnswer,
        };
        return { id: this.claimId(r.id), meta: { ...meta, bytes: semanticEntryBytes({ ...meta, vector: r.vector }) }, vector: new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength)) };
      }),
    );
  }

  override async add(entry: SemanticEntry): Promise<number> {
    if (this.oversized(entry)) return 0;
    const info = this.#insert.run(
      entry.namespace,
      entry.tenant,
      entry.user ?? null,
      entry.prompt,
      vectorBytes(entry.vector),
      JSON.stringify(entry.answer),
      entry.expiresAt,
    );
    const id = this.claimId(Number(info.lastInsertRowid));
    this.catalog.put(id, this.meta(entry), entry.vector);
    await this.dropped(await this.evict());
    return id;
  }

  override async addMany(entries: readonly SemanticEntry[]): Promise<number[]> {
    const ids: number[] = [];
    this.#db.transaction(() => {
      for (const e of entries) ids.push(this.oversized(e) ? 0 : Number(this.#insert.run(e.namespace, e.tenant, e.user ?? null, e.prompt, vectorBytes(e.vector), JSON.stringify(e.answer), e.expiresAt).lastInsertRowid));
    })();
    this.catalog.putMany(entries.flatMap((entry, i) => (ids[i] === 0 ? [] : [{ id: this.claimId(ids[i]!), meta: this.meta(entry), vector: entry.vector }])));
    await this.dropped(await this.evict());
    return ids;
  }

  protected override async dropped(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    this.#db.transaction((list: number[]) => list.forEach((id) => this.#deleteOne.run(id)))(ids);
  }

  override async delete(id: number): Promise<boolean> {
    const removed = this.catalog.remove(id);
    const n = this.#deleteOne.run(id).changes;
    return removed || n > 0;
  }

  override async clear(): Promise<void> {
    this.catalog.clear();
    this.#db.exec('DELETE FROM llmrr_semantic_cache');
  }

  override async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
