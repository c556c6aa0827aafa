import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { createSemanticCache } from './create-semantic-cache.js';
import { SemanticCache } from './semantic-cache.js';
import { SqliteSemanticStore } from './sqlite-semantic-store.js';
import { BagOfWordsEmbedder } from './__fixtures__/bag-of-words-embedder.js';

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
    const b = await SqliteSemanticStore.open(path, { maxEntries: 100, maxSizeBytes: 5_000, now: () => 1_000 });
    const narrow = new SemanticCache({ config, embedder: new BagOfWordsEmbedder(), store: b, now: () => 1_000 });
    expect(await b.size()).toBe(2);
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
