import BetterSqlite3 from 'better-sqlite3';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { createSemanticCache } from './create-semantic-cache.js';
import { MemorySemanticStore, semanticEntryBytes } from './memory-semantic-store.js';
import { SemanticCache } from './semantic-cache.js';
import type { SemanticEntry } from './semantic-store.js';
import { SQLITE_HIT_FLUSH_MS, SQLITE_HITS_PER_WRITE, SqliteSemanticStore } from './sqlite-semantic-store.js';
import { BagOfWordsEmbedder } from './__fixtures__/bag-of-words-embedder.js';
import { entryOf, LruModel, MAX_BYTES, MAX_ENTRIES, rng, runOps, storeIds } from './__fixtures__/lru-model.js';
import { readSqlite, semanticRow } from './sqlite-semantic-store.test-helpers.js';

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }] });
const answer = (text: string) => ({ text, toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(3, 1), deployment: 'm1', model: 'mock-1', provider: 'mock' });
const config = { enabled: true, threshold: 0.8, guardAbove: 0.8, ttlMs: 10_000 };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-semantic-sqlite-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function open(path: string, now: () => number, maxEntries = 100) {
  const store = await SqliteSemanticStore.open(path, { maxEntries, now });
  return new SemanticCache({ config: { ...config, maxEntries }, embedder: new BagOfWordsEmbedder(), store, now });
}

describe('SqliteSemanticStore', () => {
  it('survives a restart: entries, erasures and expiry are all read back from the file', async () => {
    let t = 1_000;
    const now = () => t;
    const path = join(dir, 'cache.db');
    const a = await open(path, now);
    await a.store(ask('what is the capital of france'), scope, answer('Paris'));
    await a.store(ask('who wrote hamlet'), scope, answer('Shakespeare'), { user: 'u1' });
    await a.store(ask('short lived question'), { ...scope, tenant: 'globex' }, answer('G'));
    expect(await a.eraseUser('acme', 'u1')).toBe(1);
    await a.close();

    const b = await open(path, now);
    expect((await b.lookup(ask('what is the capital of france'), scope))?.answer.text).toBe('Paris');
    expect(await b.lookup(ask('who wrote hamlet'), scope)).toBeUndefined();
    expect(await b.lookup(ask('short lived question'), scope)).toBeUndefined(); // other tenant
    expect(await b.lookup(ask('short lived question'), { ...scope, tenant: 'globex' })).toBeDefined();
    // New ids continue after the loaded ones.
    await b.store(ask('new after restart'), scope, answer('N'));
    expect(await b.backend.size()).toBe(3);
    expect(await b.eraseTenant('globex')).toBe(1);
    await b.close();

    t += 20_000; // everything expired
    const c = await open(path, now);
    expect(await c.backend.size()).toBe(0);
    expect(await c.lookup(ask('what is the capital of france'), scope)).toBeUndefined();
    await c.close();
  });

  it('erases a user\'s entries kept under the user key and under the raw id (rows written before ids were hashed), in the file too', async () => {
    const path = join(dir, 'users.db');
    const store = await SqliteSemanticStore.open(path, { maxEntries: 10 });
    const c = new SemanticCache({ config, embedder: new BagOfWordsEmbedder(), store });
    await c.store({ ...ask('alpha one'), user: 'u1' }, scope, answer('A'));
    const catalog = (store as unknown as { catalog: { ids(): IterableIterator<number>; get(id: number): { namespace: string; user?: string } } }).catalog;
    const kept = catalog.get([...catalog.ids()][0]!);
    expect(kept.user).toHaveLength(43); // the key, not the id
    // A row an older version wrote under the raw id.
    await store.add({ namespace: kept.namespace, tenant: 'acme', user: 'u1', prompt: 'beta two', vector: (await new BagOfWordsEmbedder().embed(['beta two']))[0]!, answer: { ...answer('B'), createdAt: Date.now() }, expiresAt: Date.now() + 60_000 });
    await c.store({ ...ask('gamma three'), user: 'u2' }, scope, answer('C'));
    expect((await c.lookup(ask('beta two'), scope))?.answer.text).toBe('B');
    expect(await c.eraseUser('acme', 'u1')).toBe(2);
    expect(await c.lookup(ask('alpha one'), scope)).toBeUndefined();
    expect(await c.lookup(ask('beta two'), scope)).toBeUndefined();
    expect((await c.lookup(ask('gamma three'), scope))?.answer.text).toBe('C');
    await store.close();
    const again = await SqliteSemanticStore.open(path, { maxEntries: 10 });
    expect(await again.size()).toBe(1);
    await again.close();
  });

  it('caps entries in the file too', async () => {
    const path = join(dir, 'cap.db');
    const a = await open(path, () => 1_000, 2);
    for (const q of ['alpha one', 'beta two', 'gamma three']) await a.store(ask(q), scope, answer(q));
    await a.close();
    const b = await open(path, () => 1_000, 2);
    expect(await b.backend.size()).toBe(2);
    expect(await b.lookup(ask('alpha one'), scope)).toBeUndefined();
    expect(await b.lookup(ask('gamma three'), scope)).toBeDefined();
    await b.clear();
    expect(await b.backend.size()).toBe(0);
    await b.close();
  });

  it('bounds the entries it holds in process by maxSizeBytes, in the file too (a file written under a larger bound is cut when opened)', async () => {
    const path = join(dir, 'bytes.db');
    const long = (q: string) => answer(`${q}: ${'x'.repeat(1_000)}`);
    const a = await SqliteSemanticStore.open(path, { maxEntries: 100, maxSizeBytes: 100_000, now: () => 1_000 });
    const wide = new SemanticCache({ config, embedder: new BagOfWordsEmbedder(), store: a, now: () => 1_000 });
    for (const q of ['alpha one', 'beta two', 'gamma three']) await wide.store(ask(q), scope, long(q));
    expect(a.sizeBytes).toBeGreaterThan(6_000); // three entries of ~2.3 kB (answer and 256-float vector)
    // Larger than the bound on its own: not written either.
    expect(await wide.store(ask('delta four'), scope, answer('x'.repeat(200_000)))).toBe(false);
    await a.close();
    const warn = vi.fn();
    const b = await SqliteSemanticStore.open(path, { maxEntries: 100, maxSizeBytes: 5_000, now: () => 1_000, warn });
    const narrow = new SemanticCache({ config, embedder: new BagOfWordsEmbedder(), store: b, now: () => 1_000 });
    expect(await b.size()).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(b.sizeBytes).toBeLessThanOrEqual(5_000);
    expect(await narrow.lookup(ask('alpha one'), scope)).toBeUndefined(); // the oldest went
    expect(await narrow.lookup(ask('gamma three'), scope)).toBeDefined();
    await b.close();
    const c = await SqliteSemanticStore.open(path, { maxEntries: 100, maxSizeBytes: 100_000, now: () => 1_000 });
    expect(await c.size()).toBe(2); // dropped from the file, not only from memory
    await c.close();
  });

  it('loads a large file back into the ANN index in one batch', async () => {
    const { annReady } = await import('./ann-loader.js');
    expect(await annReady()).toBeDefined();
    const path = join(dir, 'big.db');
    const embedder = new BagOfWordsEmbedder();
    const a = await SqliteSemanticStore.open(path, { maxEntries: 1_000, now: () => 1_000, index: { annAbove: 50 } });
    const cache = new SemanticCache({ config: { ...config, maxEntries: 1_000 }, embedder, store: a, now: () => 1_000 });
    for (let i = 0; i < 120; i++) await cache.store(ask(`question number w${i} about topic t${i % 7}`), scope, answer(`A${i}`));
    await a.close();
    const b = await SqliteSemanticStore.open(path, { maxEntries: 1_000, now: () => 1_000, index: { annAbove: 50 } });
    const reopened = new SemanticCache({ config: { ...config, maxEntries: 1_000 }, embedder, store: b, now: () => 1_000 });
    expect(await b.size()).toBe(120);
    expect((await reopened.lookup(ask('question number w77 about topic t0'), scope))?.answer.text).toBe('A77');
    const { semanticNamespace } = await import('./semantic-namespace.js');
    expect(b.indexKind(await semanticNamespace(ask('x'), scope, embedder.id))).toBe('ann');
    await b.close();
  });

  it('createSemanticCache passes its warn to the SQLite store: the one-time cut message reaches it, not console.warn', async () => {
    const path = join(dir, 'log.db');
    const a = await SqliteSemanticStore.open(path, { maxEntries: 10 });
    await a.addMany([1, 2, 3].map((i) => ({ namespace: 'ns', tenant: 'acme', prompt: `q${i}`, vector: Float32Array.of(i, 1, 0, 0), answer: { ...answer(`a${i}`), createdAt: 0 }, expiresAt: Date.now() + 600_000 })));
    await a.close();
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const warn = vi.fn();
      const cache = await createSemanticCache({ enabled: true, maxEntries: 2, store: { type: 'sqlite', path } }, { warn });
      await cache.close();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatch(/cut 1 of 3 rows on open/);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('is built from config by createSemanticCache (path relative to baseDir)', async () => {
    const a = await createSemanticCache({ ...config, store: { type: 'sqlite', path: 'from-config.db' } }, { baseDir: dir });
    expect(a.backend.kind).toBe('sqlite');
    await a.close();
    await expect(createSemanticCache({ ...config, embedder: 'nope' })).rejects.toMatchObject({ code: 'config_invalid', param: 'cache.semantic.embedder' });
  });
});

describe('SqliteSemanticStore: recency in the file, and the cut when opened under smaller bounds', () => {
  const long = (q: string) => answer(`${q}: ${'x'.repeat(1_000)}`);
  const wideStore = (path: string) => SqliteSemanticStore.open(path, { maxEntries: 100, maxSizeBytes: 100_000, now: () => 1_000 });
  const over = (store: SqliteSemanticStore) => new SemanticCache({ config, embedder: new BagOfWordsEmbedder(), store, now: () => 1_000 });
  const rowIds = (path: string): number[] => {
    const db = new BetterSqlite3(path, { readonly: true });
    try {
      return (db.prepare('SELECT id FROM llmrr_semantic_cache ORDER BY id').all() as Array<{ id: number }>).map((x) => x.id);
    } finally {
      db.close();
    }
  };

  it('cuts the least recently used: a hit before the restart counts (recency is kept in the file)', async () => {
    const path = join(dir, 'lru.db');
    const a = await wideStore(path);
    const wide = over(a);
    for (const q of ['alpha one', 'beta two', 'gamma three']) await wide.store(ask(q), scope, long(q));
    // alpha is used again: beta is now the least recently used.
    expect((await wide.lookup(ask('alpha one'), scope))?.answer.text).toMatch(/^alpha one: /);
    await a.close();
    const warn = vi.fn();
    const b = await SqliteSemanticStore.open(path, { maxEntries: 100, maxSizeBytes: 5_000, now: () => 1_000, warn });
    const narrow = over(b);
    expect(await b.size()).toBe(2);
    expect(await narrow.lookup(ask('beta two'), scope)).toBeUndefined();
    expect(await narrow.lookup(ask('alpha one'), scope)).toBeDefined();
    expect(await narrow.lookup(ask('gamma three'), scope)).toBeDefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/cut 1 of 3 rows on open, the least recently used, to fit cache\.semantic\.maxSizeBytes \(5000 bytes\)/);
    await b.close();
  });

  it('cuts by recency across namespaces: the newest row of the namespace seen first stays', async () => {
    const path = join(dir, 'ns.db');
    const m2 = { ...scope, models: ['m2'] };
    const a = await wideStore(path);
    const wide = over(a);
    await wide.store(ask('alpha one'), scope, long('alpha one')); // id 1, namespace of m1
    await wide.store(ask('beta two'), m2, long('beta two')); // id 2, namespace of m2
    await wide.store(ask('gamma three'), m2, long('gamma three')); // id 3
    await wide.store(ask('delta four'), scope, long('delta four')); // id 4, the newest (namespace of m1)
    await a.close();
    const warn = vi.fn();
    const b = await SqliteSemanticStore.open(path, { maxEntries: 2, maxSizeBytes: 100_000, now: () => 1_000, warn });
    const narrow = over(b);
    expect(await b.size()).toBe(2);
    expect(await narrow.lookup(ask('delta four'), scope)).toBeDefined();
    expect(await narrow.lookup(ask('gamma three'), m2)).toBeDefined();
    expect(rowIds(path)).toEqual([3, 4]);
    expect(warn.mock.calls[0]![0]).toMatch(/cut 2 of 4 rows .* to fit cache\.semantic\.maxEntries \(2\)/);
    await b.close();
  });

  it('after an upgrade to the 64 MB default: a raised maxSizeBytes keeps every row; the default cuts the oldest, once, and logs it', async () => {
    const path = join(dir, 'upgrade.db');
    const entry = (i: number): SemanticEntry => ({
      namespace: 'acme:0123456789abcdef0123456789abcdef',
      tenant: 'acme',
      prompt: `question ${i}`,
      vector: Float32Array.from({ length: 8 }, (_, k) => ((i * 31 + k) % 17) / 17 + 0.01),
      answer: { text: `${i} ${'c'.repeat(1_000_000)}`, toolCalls: [], finishReason: 'stop', usage: makeUsage(20, 200), deployment: 'm', model: 'm', provider: 'p', createdAt: 0 },
      expiresAt: Date.now() + 86_400_000,
    });
    // Written as before the byte bound (none in effect): 70 answers of 1 MB.
    const before = await SqliteSemanticStore.open(path, { maxEntries: 1_000, maxSizeBytes: 1_000_000_000 });
    const written = await before.addMany(Array.from({ length: 70 }, (_, i) => entry(i)));
    await before.close();
    const warn = vi.fn();
    const raised = await SqliteSemanticStore.open(path, { maxEntries: 1_000, maxSizeBytes: 100_000_000, warn });
    expect(await raised.size()).toBe(70);
    expect(warn).not.toHaveBeenCalled();
    await raised.close();
    // The same config without maxSizeBytes: 64 MB hold 63 of these; the 7 oldest written (never used) go.
    const per = semanticEntryBytes(entry(0));
    const fit = Math.floor(64_000_000 / per);
    expect(fit).toBe(63);
    const after = await SqliteSemanticStore.open(path, { maxEntries: 1_000, warn });
    expect(await after.size()).toBe(fit);
    expect(rowIds(path)).toEqual(written.slice(70 - fit));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/cut 7 of 70 rows on open, the least recently used, to fit cache\.semantic\.maxSizeBytes \(64000000 bytes\).*Raise cache\.semantic\.maxSizeBytes/);
    await after.close();
    const again = await SqliteSemanticStore.open(path, { maxEntries: 1_000, warn });
    expect(await again.size()).toBe(fit);
    expect(warn).toHaveBeenCalledTimes(1); // within the bound now: nothing more cut or logged
    await again.close();
  }, 60_000);

  it('upgrades a file written before last_used: its rows count as used in the order written', async () => {
    const path = join(dir, 'legacy.db');
    const a = await wideStore(path);
    const wide = over(a);
    for (const q of ['alpha one', 'beta two', 'gamma three']) await wide.store(ask(q), scope, long(q));
    expect(await wide.lookup(ask('alpha one'), scope)).toBeDefined(); // (a hit the old schema cannot keep)
    await a.close();
    const db = new BetterSqlite3(path);
    db.exec('DROP INDEX llmrr_semantic_cache_last_used; ALTER TABLE llmrr_semantic_cache DROP COLUMN last_used;');
    db.close();
    const b = await SqliteSemanticStore.open(path, { maxEntries: 2, now: () => 1_000, warn: () => {} });
    expect(await over(b).lookup(ask('alpha one'), scope)).toBeUndefined();
    expect(rowIds(path)).toEqual([2, 3]);
    // Only the column is added: the kept rows are not rewritten (the order comes from the tie-break by id).
    const peek = new BetterSqlite3(path, { readonly: true });
    try {
      expect(peek.prepare('SELECT last_used FROM llmrr_semantic_cache ORDER BY id').all()).toEqual([{ last_used: 0 }, { last_used: 0 }]);
    } finally {
      peek.close();
    }
    await b.close();
  });

  it('parses no row past the bounds: an older row is deleted in SQL without being read', async () => {
    const path = join(dir, 'corrupt.db');
    const a = await wideStore(path);
    const wide = over(a);
    for (const q of ['alpha one', 'beta two', 'gamma three']) await wide.store(ask(q), scope, long(q));
    await a.close();
    const db = new BetterSqlite3(path);
    db.prepare('UPDATE llmrr_semantic_cache SET answer = ? WHERE id = 1').run('{not json');
    db.close();
    const b = await SqliteSemanticStore.open(path, { maxEntries: 2, now: () => 1_000, warn: () => {} });
    expect(await b.size()).toBe(2);
    expect(rowIds(path)).toEqual([2, 3]);
    await b.close();
  });

  it('holds in the file exactly the ids held in process after random operations, and a reopen keeps them in the same recency order', async () => {
    for (const seed of [11, 12]) {
      const path = join(dir, `p${seed}.db`);
      const r = rng(seed);
      const model = new LruModel(MAX_ENTRIES, MAX_BYTES);
      let store = await SqliteSemanticStore.open(path, { maxEntries: MAX_ENTRIES, maxSizeBytes: MAX_BYTES });
      const peek = new BetterSqlite3(path, { readonly: true });
      const fileIds = (): number[] => (peek.prepare('SELECT id FROM llmrr_semantic_cache ORDER BY id').all() as Array<{ id: number }>).map((x) => x.id);
      try {
        for (let round = 0; round < 3; round++) {
          await runOps(store, model, r, 100, () => expect(fileIds()).toEqual(storeIds(store).sort((x, y) => x - y)));
          const bytes = store.sizeBytes;
          await store.close();
          store = await SqliteSemanticStore.open(path, { maxEntries: MAX_ENTRIES, maxSizeBytes: MAX_BYTES });
          expect(storeIds(store)).toEqual(model.list.map((k) => k.id)); // hits written at close
          expect(fileIds()).toEqual(storeIds(store).sort((x, y) => x - y));
          expect(store.sizeBytes).toBe(bytes);
        }
      } finally {
        peek.close();
        await store.close();
      }
    }
  });
});

describe('memory and SQLite stores: byte accounting with expiry', () => {
  it('sizeBytes equals the sum over the kept ids after adds, searches, size sweeps and evictions of expired entries', async () => {
    for (const kind of ['memory', 'sqlite'] as const) {
      let t = 1_000;
      const now = () => t;
      const r = rng(kind === 'memory' ? 21 : 22);
      const store = kind === 'memory' ? new MemorySemanticStore({ maxEntries: MAX_ENTRIES, maxSizeBytes: MAX_BYTES, now }) : await SqliteSemanticStore.open(join(dir, 'exp.db'), { maxEntries: MAX_ENTRIES, maxSizeBytes: MAX_BYTES, now });
      const bytesOf = new Map<number, number>();
      for (let step = 0; step < 400; step++) {
        const op = r();
        if (op < 0.5) {
          const e = { ...entryOf(r, r() < 0.5 ? 'ns1' : 'ns2'), expiresAt: t + Math.floor(r() * 50) };
          const id = await store.add(e);
          if (id !== 0) bytesOf.set(id, semanticEntryBytes(e));
        } else if (op < 0.8) {
          await store.search(r() < 0.5 ? 'ns1' : 'ns2', Float32Array.from({ length: 4 }, () => r() - 0.5), 1 + Math.floor(r() * 3));
        } else if (op < 0.9) {
          await store.size();
        } else t += Math.floor(r() * 30);
        expect(store.sizeBytes).toBe(storeIds(store).reduce((sum, id) => sum + bytesOf.get(id)!, 0));
        expect(store.sizeBytes).toBeLessThanOrEqual(MAX_BYTES);
      }
      await store.close();
    }
  });
});

describe('SqliteSemanticStore: upgrade, pending hits and close', () => {
  const row = semanticRow;
  const query = readSqlite;

  const fileIds = (path: string): number[] => query<{ id: number }>(path, 'SELECT id FROM llmrr_semantic_cache ORDER BY id').map((x) => x.id);
  const sortedIds = (store: SqliteSemanticStore): number[] => storeIds(store).sort((a, b) => a - b);
  /** A file as the release before `last_used` wrote it; `answerText` sizes the rows. */
  const legacyFile = (path: string, rows: number, answerText = (i: number) => `answer ${i}`): void => {
    const db = new BetterSqlite3(path);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE llmrr_semantic_cache (id INTEGER PRIMARY KEY AUTOINCREMENT, namespace TEXT NOT NULL, tenant TEXT NOT NULL, user_id TEXT,
      prompt TEXT NOT NULL, vector BLOB NOT NULL, answer TEXT NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX llmrr_semantic_cache_tenant ON llmrr_semantic_cache (tenant, user_id);`);
    const ins = db.prepare('INSERT INTO llmrr_semantic_cache (namespace, tenant, user_id, prompt, vector, answer, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < rows; i++) {
        const e = row(i);
        ins.run(e.namespace, e.tenant, null, e.prompt, Buffer.from(e.vector.buffer), JSON.stringify({ ...e.answer, text: answerText(i) }), e.expiresAt);
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  };

  it('upgrades a large legacy file with one ALTER: no row is rewritten (the WAL stays small) and rows count as used in the order written', async () => {
    const path = join(dir, 'big.db');
    legacyFile(path, 20, (i) => `${i} ${'c'.repeat(500_000)}`);
    const size = statSync(path).size;
    const warn = vi.fn();
    const store = await SqliteSemanticStore.open(path, { maxEntries: 18, maxSizeBytes: 1_000_000_000, warn });
    expect(await store.size()).toBe(18);
    expect(fileIds(path)).toEqual(Array.from({ length: 18 }, (_, i) => i + 3)); // the 2 written first are cut
    expect(warn.mock.calls[0]![0]).toMatch(/cut 2 of 20 rows/);
    expect(statSync(`${path}-wal`).size).toBeLessThan(size / 4);
    await store.close();
  }, 60_000);

  it('opens a legacy file that another process upgrades between the column check and the ALTER (duplicate column)', async () => {
    const path = join(dir, 'race.db');
    legacyFile(path, 3);
    const other = () => {
      const db = new BetterSqlite3(path);
      db.exec('ALTER TABLE llmrr_semantic_cache ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0');
      db.close();
    };
    // The other process runs its upgrade right after this process's first PRAGMA table_info.
    let raced = false;
    const importer = async () => {
      function Interleaved(file: string): BetterSqlite3.Database {
        const db = new BetterSqlite3(file);
        const prepare = db.prepare.bind(db);
        db.prepare = ((sql: string) => {
          const stmt = prepare(sql);
          if (raced || !sql.startsWith('PRAGMA table_info')) return stmt;
          const all = stmt.all.bind(stmt);
          return Object.assign(stmt, { all: (...a: unknown[]) => { const r = all(...(a as [])); raced = true; other(); return r; } });
        }) as typeof db.prepare;
        return db;
      }
      return { default: Interleaved };
    };
    const store = await SqliteSemanticStore.open(path, { importer });
    expect(raced).toBe(true);
    expect(await store.size()).toBe(3);
    await store.close();
  });

  it('a failed upgrade leaves the legacy file as it was, and the next open upgrades it', async () => {
    const path = join(dir, 'failed.db');
    legacyFile(path, 3);
    const importer = async () => {
      class FailingAlter extends BetterSqlite3 {
        override exec(sql: string) {
          if (sql.startsWith('ALTER TABLE')) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
          return super.exec(sql);
        }
      }
      return { default: FailingAlter };
    };
    await expect(SqliteSemanticStore.open(path, { importer })).rejects.toThrow(/locked/);
    expect(query<{ name: string }>(path, 'PRAGMA table_info(llmrr_semantic_cache)').map((c) => c.name)).not.toContain('last_used');
    const store = await SqliteSemanticStore.open(path, { maxEntries: 2, warn: () => {} });
    expect(fileIds(path)).toEqual([2, 3]);
    await store.close();
  });

  it('rows an older release inserts after the upgrade (last_used 0) count as the most recently used, in the order written', async () => {
    const path = join(dir, 'rollback.db');
    const a = await SqliteSemanticStore.open(path, { maxEntries: 10 });
    const ids = await a.addMany([row(1), row(2), row(3)]);
    await a.close();
    // The previous release (a rollback, or an old process still running) inserts with its own INSERT: last_used takes the default.
    const db = new BetterSqlite3(path);
    const oldInsert = db.prepare('INSERT INTO llmrr_semantic_cache (namespace, tenant, user_id, prompt, vector, answer, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const written = [4, 5].map((i) => {
      const e = row(i);
      return Number(oldInsert.run(e.namespace, e.tenant, null, e.prompt, Buffer.from(e.vector.buffer), JSON.stringify(e.answer), e.expiresAt).lastInsertRowid);
    });
    db.close();
    const b = await SqliteSemanticStore.open(path, { maxEntries: 3, warn: () => {} });
    expect(sortedIds(b)).toEqual([ids[2]!, ...written]);
    expect(fileIds(path)).toEqual(sortedIds(b));
    expect(storeIds(b)).toEqual([ids[2]!, ...written]); // recency order, least recent first
    await b.close();
  });

  it(`writes at most ${SQLITE_HITS_PER_WRITE} pending hits with an insert, the oldest hit first; the rest with the next inserts or at close`, async () => {
    const path = join(dir, 'hits.db');
    const n = 600;
    const store = await SqliteSemanticStore.open(path, { maxEntries: 1_000 });
    const ids = await store.addMany(Array.from({ length: n }, (_, i) => row(i)));
    const hitOrder = [...ids].reverse();
    for (const id of hitOrder) await store.touch(id); // use sequence n+1 .. 2n
    const hitsWritten = () => query<{ id: number }>(path, `SELECT id FROM llmrr_semantic_cache WHERE last_used > ${n} AND last_used <= ${2 * n} ORDER BY last_used`).map((x) => x.id);
    expect(hitsWritten()).toEqual([]);
    const added = [await store.add(row(n))];
    expect(hitsWritten()).toEqual(hitOrder.slice(0, SQLITE_HITS_PER_WRITE));
    added.push(await store.add(row(n + 1)));
    expect(hitsWritten()).toEqual(hitOrder.slice(0, 2 * SQLITE_HITS_PER_WRITE));
    await store.touch(hitOrder[0]!); // used again: now the newest hit, written last
    await store.close();
    expect(hitsWritten()).toEqual(hitOrder.slice(1));
    const again = await SqliteSemanticStore.open(path, { maxEntries: 1_000 });
    expect(storeIds(again)).toEqual([...hitOrder.slice(1), ...added, hitOrder[0]]); // least recently used first
    await again.close();
  });

  it(`writes pending hits without an insert or close once ${SQLITE_HITS_PER_WRITE} are pending, off the hit path: a store reopened after a crash keeps them`, async () => {
    const path = join(dir, 'flush.db');
    const n = 300;
    const store = await SqliteSemanticStore.open(path, { maxEntries: 1_000 });
    const ids = await store.addMany(Array.from({ length: n }, (_, i) => row(i)));
    const hitOrder = [...ids].reverse();
    const hitsWritten = () => query<{ id: number }>(path, `SELECT id FROM llmrr_semantic_cache WHERE last_used > ${n} ORDER BY last_used`).map((x) => x.id);
    for (const id of hitOrder.slice(0, SQLITE_HITS_PER_WRITE - 1)) await store.touch(id);
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(hitsWritten()).toEqual([]); // fewer pending (and none old): nothing written
    for (const id of hitOrder.slice(SQLITE_HITS_PER_WRITE - 1)) await store.touch(id);
    expect(hitsWritten()).toEqual([]); // the hit that made them as many wrote nothing itself
    await vi.waitFor(() => expect(hitsWritten()).toEqual(hitOrder.slice(0, SQLITE_HITS_PER_WRITE)), { timeout: 10_000 });
    // The process dies (no close): a store opened on the file keeps the hit rows as the most recently used.
    const reopened = await SqliteSemanticStore.open(path, { maxEntries: SQLITE_HITS_PER_WRITE, warn: () => {} });
    expect(storeIds(reopened)).toEqual(hitOrder.slice(0, SQLITE_HITS_PER_WRITE)); // least recently used first
    await reopened.close();
    await store.close();
  });

  it(`writes pending hits once the oldest is ${SQLITE_HIT_FLUSH_MS} ms old (at the next hit): a store reopened after a crash keeps them`, async () => {
    const path = join(dir, 'flush-age.db');
    let t = 1_000;
    const store = await SqliteSemanticStore.open(path, { maxEntries: 100, now: () => t });
    const ids = await store.addMany([1, 2, 3, 4].map((i) => row(i)));
    const lastUsed = () => query<{ id: number; last_used: number }>(path, 'SELECT id, last_used FROM llmrr_semantic_cache ORDER BY last_used DESC').map((x) => x.id);
    await store.touch(ids[0]!);
    t += SQLITE_HIT_FLUSH_MS - 1;
    await store.touch(ids[1]!);
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(lastUsed()).toEqual([ids[3], ids[2], ids[1], ids[0]]); // not yet: the hits wait in process
    t += 1;
    await store.touch(ids[1]!);
    await vi.waitFor(() => expect(lastUsed()).toEqual([ids[1], ids[0], ids[3], ids[2]]), { timeout: 10_000 });
    const reopened = await SqliteSemanticStore.open(path, { maxEntries: 2, now: () => t, warn: () => {} });
    expect(storeIds(reopened)).toEqual([ids[0], ids[1]]);
    await reopened.close();
    await store.close();
  });

  it(`writes a pending hit ${SQLITE_HIT_FLUSH_MS} ms after it even when no other hit or insert comes (a quiet cache): a store reopened after a crash keeps it`, async () => {
    const path = join(dir, 'quiet.db');
    // Date and the timers faked (not setImmediate), so "30 s later" needs no sleep.
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      const store = await SqliteSemanticStore.open(path, { maxEntries: 100 });
      const ids = await store.addMany([1, 2, 3].map((i) => row(i)));
      const mostRecent = () => query<{ id: number }>(path, 'SELECT id FROM llmrr_semantic_cache ORDER BY last_used DESC LIMIT 1')[0]!.id;
      expect(vi.getTimerCount()).toBe(0); // nothing pending: no timer
      await store.touch(ids[0]!); // one hit, then the cache goes quiet (no hit, no insert)
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(SQLITE_HIT_FLUSH_MS - 1);
      expect(mostRecent()).toBe(ids[2]); // not yet: the hit waits in process
      vi.advanceTimersByTime(1);
      expect(mostRecent()).toBe(ids[0]);
      expect(vi.getTimerCount()).toBe(0); // nothing pending: the timer is not re-armed
      // The process dies (no close): a store opened on the file keeps the hit row as the most recently used.
      const reopened = await SqliteSemanticStore.open(path, { maxEntries: 100 });
      expect(storeIds(reopened)).toEqual([ids[1], ids[2], ids[0]]); // least recently used first
      await reopened.close();
      // A hit written with an insert stops the timer; close stops it too; a hit after close is ignored (no timer, no write).
      await store.touch(ids[1]!);
      expect(vi.getTimerCount()).toBe(1);
      await store.add(row(4));
      expect(vi.getTimerCount()).toBe(0);
      await store.touch(ids[2]!);
      expect(vi.getTimerCount()).toBe(1);
      await store.close();
      expect(vi.getTimerCount()).toBe(0);
      await store.touch(ids[1]!);
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(2 * SQLITE_HIT_FLUSH_MS);
      expect(mostRecent()).toBe(ids[2]); // written at close; the hit after close was not
    } finally {
      vi.useRealTimers();
    }
  });

  it(`a flush that fails (another connection holds the write lock) gives up at once, keeps its hits pending, reports the first failure once and is not tried again for ${SQLITE_HIT_FLUSH_MS} ms`, async () => {
    const path = join(dir, 'flush-busy.db');
    let t = 1_000;
    const warn = vi.fn();
    const store = await SqliteSemanticStore.open(path, { maxEntries: 1_000, now: () => t, warn });
    const ids = await store.addMany(Array.from({ length: SQLITE_HITS_PER_WRITE + 2 }, (_, i) => row(i)));
    const hitsWritten = () => query<{ n: number }>(path, `SELECT count(*) AS n FROM llmrr_semantic_cache WHERE last_used > ${ids.length}`)[0]!.n;
    const locked = async (during: () => Promise<void>) => {
      const holder = new BetterSqlite3(path);
      holder.exec('BEGIN IMMEDIATE');
      try {
        await during();
      } finally {
        holder.exec('ROLLBACK');
        holder.close();
      }
    };
    await locked(async () => {
      for (const id of ids.slice(0, SQLITE_HITS_PER_WRITE)) await store.touch(id);
      await new Promise((r) => setImmediate(r)); // the flush ran and failed
    });
    expect(hitsWritten()).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(new RegExp(`semantic cache .*flush-busy\\.db: writing ${SQLITE_HITS_PER_WRITE} pending hits failed \\(.*locked\\); they stay pending`));
    // Not retried at every hit: the file is free, yet nothing is written.
    await store.touch(ids[0]!);
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(hitsWritten()).toBe(0);
    // Tried again (failing again: not reported again) once SQLITE_HIT_FLUSH_MS passed.
    t += SQLITE_HIT_FLUSH_MS;
    await locked(async () => {
      await store.touch(ids[1]!);
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    });
    expect(hitsWritten()).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    t += SQLITE_HIT_FLUSH_MS;
    await store.touch(ids[SQLITE_HITS_PER_WRITE]!);
    await vi.waitFor(() => expect(hitsWritten()).toBe(SQLITE_HITS_PER_WRITE), { timeout: 10_000 });
    await store.close();
    expect(hitsWritten()).toBe(SQLITE_HITS_PER_WRITE + 1);
    expect(warn).toHaveBeenCalledTimes(1);
  }, 15_000);

  it('a flush does not wait for a lock another thread holds (it would block the event loop for the busy timeout), while an insert still does and writes the pending hits', async () => {
    const path = join(dir, 'flush-wait.db');
    const warn = vi.fn();
    const store = await SqliteSemanticStore.open(path, { maxEntries: 1_000, warn });
    const ids = await store.addMany(Array.from({ length: SQLITE_HITS_PER_WRITE }, (_, i) => row(i)));
    const hitsWritten = () => query<{ n: number }>(path, `SELECT count(*) AS n FROM llmrr_semantic_cache WHERE last_used > ${ids.length} AND id <= ${ids.at(-1)}`)[0]!.n;
    // Another thread takes the write lock and, told to, releases it 1.5 s later: a flush that waited (SQLite's busy
    // timeout is 5 s) would then succeed; one that gives up at once fails. An insert waits, and succeeds.
    const holder = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
      const db = new (require(workerData.module))(workerData.path);
      db.exec('BEGIN IMMEDIATE');
      parentPort.postMessage('locked');
      parentPort.once('message', () => setTimeout(() => { db.exec('ROLLBACK'); db.close(); parentPort.postMessage('released'); }, 1_500));`,
      { eval: true, workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), path } },
    );
    try {
      await once(holder, 'message');
      holder.postMessage('release later');
      for (const id of ids) await store.touch(id); // the last one schedules the flush
      await new Promise((r) => setImmediate(r)); // the flush runs in this turn
      expect(hitsWritten()).toBe(0); // (a flush that waited for the lock would have written them)
      expect(warn).toHaveBeenCalledTimes(1);
      await store.add(row(SQLITE_HITS_PER_WRITE)); // waits for the lock (the store's busy timeout is back)
      expect(hitsWritten()).toBe(SQLITE_HITS_PER_WRITE);
      expect(fileIds(path)).toHaveLength(SQLITE_HITS_PER_WRITE + 1);
    } finally {
      await holder.terminate();
      await store.close();
    }
  }, 15_000);

  it('close() closes the file even when writing the pending hits fails (another connection holds the write lock); the loss is logged', async () => {
    const path = join(dir, 'busy.db');
    const warn = vi.fn();
    const store = await SqliteSemanticStore.open(path, { warn });
    const id = await store.add(row(1));
    await store.touch(id); // a pending hit: written at close
    const holder = new BetterSqlite3(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      await store.close(); // resolves after the busy timeout
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/1 hits not written at close .*locked/);
    await expect(store.add(row(2))).rejects.toThrow(/not open/);
    expect(fileIds(path)).toEqual([id]);
  }, 30_000);

  it('hits pending for rows erased by tenant or user are neither resurrected nor an error at the next insert or at close; other tenants untouched', async () => {
    const path = join(dir, 'erase.db');
    const store = await SqliteSemanticStore.open(path, { maxEntries: 10 });
    const ids = await store.addMany([row(1), { ...row(2), tenant: 'globex' }, { ...row(3), user: 'u1' }, row(4)]);
    for (const id of ids) await store.touch(id);
    expect(await store.eraseUser('acme', 'u1')).toBe(1);
    expect(await store.eraseTenant('globex')).toBe(1);
    const fifth = await store.add(row(5));
    await store.touch(ids[0]!);
    await store.delete(ids[0]!);
    await store.close();
    expect(fileIds(path)).toEqual([ids[3]!, fifth]);
    const again = await SqliteSemanticStore.open(path, { maxEntries: 10 });
    expect(sortedIds(again)).toEqual([ids[3]!, fifth]);
    await again.close();
  });

  it('a bound by count and by bytes together: the file keeps exactly the most recently used rows that fit both, across namespaces', async () => {
    const path = join(dir, 'both.db');
    const a = await SqliteSemanticStore.open(path, { maxEntries: 100 });
    const ids = await a.addMany(Array.from({ length: 12 }, (_, i) => row(i, i % 2 ? 'n1' : 'n2')));
    for (const i of [0, 3, 5]) await a.touch(ids[i]!); // used last: 0, 3, 5 (in that order)
    await a.close();
    const per = semanticEntryBytes(row(10, 'n1'));
    const warn = vi.fn();
    const b = await SqliteSemanticStore.open(path, { maxEntries: 5, maxSizeBytes: per * 4 + 10, warn });
    expect(sortedIds(b)).toEqual([ids[0]!, ids[3]!, ids[5]!, ids[11]!].sort((x, y) => x - y));
    expect(fileIds(path)).toEqual(sortedIds(b));
    expect(warn.mock.calls[0]![0]).toMatch(/cut 8 of 12 rows .*maxSizeBytes/);
    await b.close();
  });
});
