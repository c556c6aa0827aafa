import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { createSemanticCache } from './create-semantic-cache.js';
import { MemorySemanticStore, semanticEntryBytes } from './memory-semantic-store.js';
import { SemanticCache } from './semantic-cache.js';
import type { SemanticEntry } from './semantic-store.js';
import { SqliteSemanticStore } from './sqlite-semantic-store.js';
import { BagOfWordsEmbedder } from './__fixtures__/bag-of-words-embedder.js';
import { entryOf, LruModel, MAX_BYTES, MAX_ENTRIES, rng, runOps, storeIds } from './__fixtures__/lru-model.js';

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
