import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import '../engines/index.js';
import type { CachedAnswer } from '../cache/exact-cache.js';
import { replayAsStream } from '../cache/replay-stream.js';
import { dot } from '../embeddings/embedder.js';
import { BatchingEmbedder } from '../embeddings/batching-embedder.js';
import { CachedEmbedder } from '../embeddings/cached-embedder.js';
import { LocalUseEmbedder, USE_LITE_MAX_CHARS } from '../embeddings/local-use-embedder.js';
import { makeUsage, type GenerateRequest, type StreamPart } from '../spec/index.js';
import { SemanticCacheSchema } from '../config/schema.js';
import { MemorySemanticStore, semanticEntryBytes } from './memory-semantic-store.js';
import { createModelGuard } from './model-guard.js';
import { embeddingInput, lowCoverage, MIN_SEMANTIC_COVERAGE, sameUnknownText, SemanticCache, type SemanticCacheOptions, type SemanticLookupDetails, unknownText } from './semantic-cache.js';
import { SqliteSemanticStore } from './sqlite-semantic-store.js';
import { LLMRouter } from '../router/llm-router.js';
import { questionOf } from './semantic-namespace.js';
import type { SemanticEntry } from './semantic-store.js';
import { VectorCatalog, type CatalogMeta } from './vector-catalog.js';
import { BagOfWordsEmbedder } from './__fixtures__/bag-of-words-embedder.js';
import { LruModel, MAX_BYTES, MAX_ENTRIES, rng, runOps } from './__fixtures__/lru-model.js';

const scope = { models: ['m1', 'm2'], tenant: 'acme' };
const ask = (content: string, over: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature: 0, ...over });
const Q = 'what is the capital city of france';
// Bag of words: 6 of 7 words shared -> cosine 6/7 = 0.857; identical -> 1.
const CLOSE = 'what is the capital city of spain';

function answer(text = 'Paris.', over: Partial<CachedAnswer> = {}): Omit<CachedAnswer, 'createdAt'> {
  return { text, toolCalls: [], finishReason: 'stop', usage: makeUsage(7, 2), deployment: 'm1', model: 'mock-1', provider: 'mock', ...over };
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function cache(config: SemanticCacheOptions['config'] = {}, rest: Omit<SemanticCacheOptions, 'config'> = {}) {
  return new SemanticCache({ config: { enabled: true, threshold: 0.8, guardAbove: 0.8, ...config }, embedder: new BagOfWordsEmbedder(), ...rest });
}

describe('SemanticCache', () => {
  it('serves a paraphrase above the threshold with its score, misses below it', async () => {
    const c = cache();
    expect(await c.lookup(ask(Q), scope)).toBeUndefined();
    expect(await c.store(ask(Q), scope, answer())).toBe(true);
    const exact = await c.lookup(ask(Q), scope);
    expect(exact).toMatchObject({ kind: 'semantic', score: expect.closeTo(1, 5), cachedQuestion: Q, answer: { text: 'Paris.' } });
    const close = await c.lookup(ask(CLOSE), scope);
    expect(close?.score).toBeCloseTo(6 / 7, 5);
    expect(await c.lookup(ask(CLOSE), scope, { threshold: 0.9 })).toBeUndefined();
    expect(await c.lookup(ask('how do I bake bread'), scope)).toBeUndefined();
    expect(c.stats).toMatchObject({ hits: 2, misses: 3, stores: 1 });
  });

  it('never serves across tenants, model sets, sampling parameters or conversation context', async () => {
    const c = cache();
    await c.store(ask(Q), scope, answer());
    expect(await c.lookup(ask(Q), { ...scope, tenant: 'globex' })).toBeUndefined();
    expect(await c.lookup(ask(Q), { models: scope.models })).toBeUndefined();
    expect(await c.lookup(ask(Q), { ...scope, models: ['m1'] })).toBeUndefined();
    expect(await c.lookup(ask(Q), { ...scope, models: ['m2', 'm1', 'm1'] })).toBeDefined();
    expect(await c.lookup(ask(Q, { maxTokens: 5 }), scope)).toBeUndefined();
    expect(await c.lookup(ask(Q, { responseFormat: { type: 'json_object' } }), scope)).toBeUndefined();
    const withSystem: GenerateRequest = { messages: [{ role: 'system', content: 'Answer in French.' }, { role: 'user', content: Q }], temperature: 0 };
    expect(await c.lookup(withSystem, scope)).toBeUndefined();
    expect(await c.lookup(ask(Q, { user: 'someone-else' }), scope)).toBeDefined(); // the end user is not part of the scope
  });

  it('uses a per-tenant threshold', async () => {
    const c = cache({ tenantThresholds: { strict: 0.99 } });
    const strict = { ...scope, tenant: 'strict' };
    await c.store(ask(Q), strict, answer());
    expect(c.thresholdFor('strict')).toBe(0.99);
    expect(await c.lookup(ask(CLOSE), strict)).toBeUndefined();
    expect(await c.lookup(ask(Q), strict)).toBeDefined();
  });

  it('a tenant named like an Object.prototype member ("constructor", "toString", "__proto__") gets the default threshold', async () => {
    const c = cache({ threshold: 0.9, tenantThresholds: { strict: 0.99 } });
    for (const tenant of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
      expect(c.thresholdFor(tenant)).toBe(0.9);
      const own = { ...scope, tenant };
      await c.store(ask(Q), own, answer());
      expect(await c.lookup(ask('how do I bake bread'), own)).toBeUndefined();
      expect(await c.lookup(ask(CLOSE), own)).toBeUndefined(); // 6/7 < 0.9
    }
  });

  it('guard "miss": a match between threshold and guardAbove is a miss', async () => {
    const c = cache({ threshold: 0.8, guardAbove: 0.95, guard: 'miss' });
    await c.store(ask(Q), scope, answer());
    expect(await c.lookup(ask(CLOSE), scope)).toBeUndefined();
    expect(await c.lookup(ask(Q), scope)).toBeDefined();
    expect(c.stats.guardMisses).toBe(1);
  });

  it('guard "verify": serves only what the guard accepts; a throwing guard is a miss', async () => {
    const seen: string[] = [];
    let verdict: boolean | Error = true;
    const c = cache(
      { threshold: 0.8, guardAbove: 0.95, guard: 'verify' },
      {
        guard: {
          verify: async (input) => {
            seen.push(`${input.question} <- ${input.cachedQuestion} (${input.score.toFixed(3)})`);
            if (verdict instanceof Error) throw verdict;
            return verdict;
          },
        },
      },
    );
    await c.store(ask(Q), scope, answer());
    expect(await c.lookup(ask(CLOSE), scope)).toMatchObject({ guarded: 'verified', answer: { text: 'Paris.' } });
    verdict = false;
    expect(await c.lookup(ask(CLOSE), scope)).toBeUndefined();
    verdict = new Error('guard down');
    expect(await c.lookup(ask(CLOSE), scope)).toBeUndefined();
    expect(seen[0]).toBe(`${CLOSE} <- ${Q} (0.857)`);
    expect(await c.lookup(ask(Q), scope)).not.toHaveProperty('guarded'); // above guardAbove: no guard call
    expect(seen).toHaveLength(3);
    expect(c.stats).toMatchObject({ verified: 1, guardMisses: 2 });
  });

  it('noGuard (a cache-only call): a match the guard would judge is a miss without a guard call, counted apart from guardMisses', async () => {
    let calls = 0;
    const c = cache({ threshold: 0.8, guardAbove: 0.95, guard: 'verify' }, { guard: { verify: async () => (calls++, true) } });
    await c.store(ask(Q), scope, answer());
    expect(await c.lookup(ask(CLOSE), scope, { noGuard: true })).toBeUndefined();
    expect(await c.lookup(ask(Q), scope, { noGuard: true })).toMatchObject({ answer: { text: 'Paris.' } });
    expect({ calls, stats: c.stats }).toMatchObject({ calls: 0, stats: { unguardedMisses: 1, guardMisses: 0, misses: 1, hits: 1 } });
  });

  it('guard "adapt" through a model: the answer is rewritten for the new question', async () => {
    const requests: GenerateRequest[] = [];
    const guard = createModelGuard(async (request) => {
      requests.push(request);
      return { text: 'Madrid.' };
    });
    const c = cache({ threshold: 0.8, guardAbove: 0.95, guard: 'adapt' }, { guard });
    await c.store(ask(Q), scope, answer());
    const hit = await c.lookup(ask(CLOSE), scope);
    expect(hit).toMatchObject({ guarded: 'adapted', answer: { text: 'Madrid.', deployment: 'm1' } });
    expect(requests[0]?.temperature).toBe(0);
    expect(JSON.stringify(requests[0]?.messages)).toContain(CLOSE);
    // The stored answer itself is unchanged.
    expect((await c.lookup(ask(Q), scope))?.answer.text).toBe('Paris.');
  });

  it('createModelGuard.verify reads YES/NO', async () => {
    let reply = 'YES';
    const guard = createModelGuard(async () => ({ text: reply }));
    const input = { question: 'a', cachedQuestion: 'b', answer: { ...answer(), createdAt: 0 }, score: 0.9 };
    expect(await guard.verify(input)).toEqual({ ok: true });
    reply = 'no, it does not';
    expect(await guard.verify(input)).toEqual({ ok: false });
  });

  it('refuses a verify/adapt guard without a guard function, and an invalid config, naming the field', () => {
    expect(() => cache({ guard: 'verify' })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'cache.semantic.guard' }));
    expect(() => cache({ threshold: 1.5 })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'cache.semantic.threshold' }));
    expect(() => new SemanticCache({ config: { embedder: 'openai-small' } })).toThrow(expect.objectContaining({ param: 'cache.semantic.embedder' }));
  });

  it('expires entries after ttlMs', async () => {
    const c0 = clock();
    const c = cache({ ttlMs: 5_000 }, { now: c0.now });
    await c.store(ask(Q), scope, answer());
    c0.advance(4_999);
    expect(await c.lookup(ask(Q), scope)).toBeDefined();
    c0.advance(2);
    expect(await c.lookup(ask(Q), scope)).toBeUndefined();
    expect(await c.backend.size()).toBe(0);
  });

  it('evicts the least recently used past maxEntries', async () => {
    const c = cache({ maxEntries: 2 });
    await c.store(ask('alpha one'), scope, answer('A'));
    await c.store(ask('beta two'), scope, answer('B'));
    expect(await c.lookup(ask('alpha one'), scope)).toBeDefined(); // alpha is now the most recent
    await c.store(ask('gamma three'), scope, answer('C'));
    expect(await c.backend.size()).toBe(2);
    expect(await c.lookup(ask('beta two'), scope)).toBeUndefined();
    expect((await c.lookup(ask('alpha one'), scope))?.answer.text).toBe('A');
    expect((await c.lookup(ask('gamma three'), scope))?.answer.text).toBe('C');
  });

  it('evicts the least recently used past maxSizeBytes (answer, question, user key, vector counted); an entry larger on its own is not stored', async () => {
    const c = cache({ maxSizeBytes: 5_000 });
    const store = c.backend as MemorySemanticStore;
    const big = (tag: string) => answer(`${tag}: ${'x'.repeat(1_000)}`);
    await c.store(ask('alpha one'), scope, big('A'));
    await c.store(ask('beta two'), scope, big('B'));
    expect(store.sizeBytes).toBeGreaterThan(4_000); // two answers and vectors (256 floats) of ~1 kB each, and what is around them
    expect(store.sizeBytes).toBeLessThanOrEqual(5_000);
    expect(await c.lookup(ask('alpha one'), scope)).toBeDefined(); // alpha is now the most recent
    await c.store(ask('gamma three'), scope, big('C'));
    expect(await c.backend.size()).toBe(2);
    expect(store.sizeBytes).toBeLessThanOrEqual(5_000);
    expect(await c.lookup(ask('beta two'), scope)).toBeUndefined();
    expect((await c.lookup(ask('alpha one'), scope))?.answer.text).toMatch(/^A: /);
    // Larger than the bound on its own: not stored (nor embedded), and nothing else evicted for it.
    const before = c.stats.bypassed;
    expect(await c.store(ask('delta four'), scope, answer('x'.repeat(5_000)))).toBe(false);
    expect(c.stats.bypassed).toBe(before + 1);
    expect(await c.backend.size()).toBe(2);
    // A long `user` is kept as a 43-character key: a short answer with a 1 MB user is stored, and small.
    expect(await c.store(ask('epsilon five', { user: 'u'.repeat(1_000_000) }), scope, answer('E'))).toBe(true);
    expect(store.sizeBytes).toBeLessThanOrEqual(5_000);
    expect(c.config.maxSizeBytes).toBe(5_000);
    expect(cache().config.maxSizeBytes).toBe(64_000_000);
    expect(() => cache({ maxSizeBytes: 0 })).toThrow(/maxSizeBytes/);
  });

  it('keeps `user` as a fixed-size key (SHA-256) and erases by it; entries kept under the id itself (older files) are erased too', async () => {
    const added: SemanticEntry[] = [];
    const store = new (class extends MemorySemanticStore {
      override add(entry: SemanticEntry): Promise<number> {
        added.push(entry);
        return super.add(entry);
      }
    })({ maxEntries: 10 });
    const c = cache({}, { store });
    const long = `user-${'u'.repeat(100_000)}`;
    await c.store(ask('alpha one', { user: long }), scope, answer('A'));
    expect(added[0]!.user).toHaveLength(43);
    expect(added[0]!.user).not.toContain('uuu');
    // An entry a persistent store kept before ids were hashed (the raw id).
    await store.add({ namespace: 'acme:legacy', tenant: 'acme', user: 'u1', prompt: 'beta two', vector: new Float32Array([1, 0]), answer: { ...answer('B'), createdAt: 0 }, expiresAt: Date.now() + 60_000 });
    await c.store(ask('gamma three', { user: 'u1' }), scope, answer('C'));
    expect(await c.eraseUser('acme', 'u1')).toBe(2);
    expect(await c.eraseUser('acme', long)).toBe(1);
    expect(await store.size()).toBe(0);
  });

  it('refuses an entry larger than maxSizeBytes before embedding its question (no embedder call)', async () => {
    const embedder = new BagOfWordsEmbedder();
    const c = cache({ maxSizeBytes: 5_000 }, { embedder });
    expect(await c.store(ask('delta four'), scope, answer('x'.repeat(6_000)))).toBe(false);
    expect(embedder.calls).toBe(0);
    expect(await c.store(ask('delta four'), scope, answer('small'))).toBe(true);
    expect(embedder.calls).toBe(1);
  });

  it('does not scope lookups by user: an answer stored for one user serves another and a request without user', async () => {
    const c = cache();
    await c.store(ask(Q, { user: 'alice' }), scope, answer('Paris'));
    expect((await c.lookup(ask(Q, { user: 'bob' }), scope))?.answer.text).toBe('Paris');
    expect((await c.lookup(ask(Q), scope))?.answer.text).toBe('Paris');
  });

  it('erases one tenant, and one user of a tenant, and nothing else', async () => {
    const c = cache();
    const globex = { ...scope, tenant: 'globex' };
    await c.store(ask(Q), scope, answer('acme-anon'));
    await c.store(ask('alpha one', { user: 'u1' }), scope, answer('acme-u1'));
    await c.store(ask('beta two'), scope, answer('acme-u2'), { user: 'u2' });
    await c.store(ask('alpha one', { user: 'u1' }), globex, answer('globex-u1'));
    expect(await c.eraseUser('acme', 'u1')).toBe(1);
    expect(await c.lookup(ask('alpha one'), scope)).toBeUndefined();
    expect(await c.lookup(ask('beta two'), scope)).toBeDefined();
    expect(await c.lookup(ask('alpha one'), globex)).toBeDefined();
    expect(await c.eraseTenant('acme')).toBe(2);
    expect(await c.lookup(ask(Q), scope)).toBeUndefined();
    expect(await c.lookup(ask('beta two'), scope)).toBeUndefined();
    expect((await c.lookup(ask('alpha one'), globex))?.answer.text).toBe('globex-u1');
  });

  it('never stores failed, content-filtered or redacted answers (redacted only when allowed)', async () => {
    const c = cache();
    expect(await c.store(ask(Q), scope, answer('x', { finishReason: 'error' }))).toBe(false);
    expect(await c.store(ask(Q), scope, answer('x', { finishReason: 'content-filter' }))).toBe(false);
    expect(await c.store(ask(Q), scope, answer('[REDACTED]'), { redacted: true })).toBe(false);
    expect(await c.lookup(ask(Q), scope)).toBeUndefined();
    expect(c.stats.bypassed).toBe(3);
    const loose = cache({ allowRedacted: true });
    expect(await loose.store(ask(Q), scope, answer('[REDACTED]'), { redacted: true })).toBe(true);
  });

  it("stores no answer of a tenant erased before the store or while its question was embedded (options.erased)", async () => {
    const erased = new Set<string>();
    const inner = new BagOfWordsEmbedder();
    // The tenant is erased while its question is being embedded.
    const embedder = Object.assign(Object.create(inner) as BagOfWordsEmbedder, {
      embed: async (texts: string[]) => {
        const v = await inner.embed(texts);
        erased.add('acme');
        return v;
      },
    });
    const c = cache({}, { embedder });
    const isErased = (t: string) => erased.has(t);
    expect(await c.store(ask(Q), scope, answer(), { erased: isErased })).toBe(false);
    expect(await c.store(ask(Q), scope, answer(), { erased: isErased })).toBe(false);
    expect(await c.store(ask(Q), { ...scope, tenant: 'globex' }, answer(), { erased: isErased })).toBe(true);
    expect(await c.lookup(ask(Q), scope)).toBeUndefined();
    expect(c.stats).toMatchObject({ stores: 1, bypassed: 2 });
  });

  it('never stores a blank answer (no text, no tool call, no refusal)', async () => {
    const c = cache();
    expect(await c.store(ask(Q), scope, answer(''))).toBe(false);
    expect(await c.store(ask(Q), scope, answer('  \n', { finishReason: 'length' }))).toBe(false);
    expect(await c.lookup(ask(Q), scope)).toBeUndefined();
    expect(c.stats).toMatchObject({ bypassed: 2, stores: 0 });
    expect(await c.store(ask(Q), scope, answer('', { refusal: 'I cannot help with that.' }))).toBe(true);
  });

  it('an answer with tool calls is served unguarded only to the same question (whitespace aside, case kept); a verify guard may accept another', async () => {
    const call = answer('', { finishReason: 'tool-calls', toolCalls: [{ id: 'c1', name: 'weather', arguments: '{"city":"France"}' }] });
    const c = cache({ threshold: 0.8, guardAbove: undefined });
    await c.store(ask(Q), scope, call);
    const details: SemanticLookupDetails = {};
    expect(await c.lookup(ask(CLOSE), scope, { details })).toBeUndefined();
    expect(details.outcome).toBe('mismatch');
    expect(await c.probe(ask(CLOSE), scope)).toBe(false);
    expect((await c.lookup(ask(` ${Q.replace(/ /g, '  ')}\n`), scope))?.answer.toolCalls).toEqual(call.toolCalls);
    // Tool arguments are case-sensitive (a file path, an id): the question in other case is another question.
    expect(await c.lookup(ask(Q.toUpperCase()), scope)).toBeUndefined();
    expect(c.stats).toMatchObject({ hits: 1, guardMisses: 2 });
    const seen: string[] = [];
    const guarded = cache({ guard: 'verify', guardAbove: undefined }, { guard: { verify: async (i) => (seen.push(i.cachedQuestion), true) } });
    await guarded.store(ask(Q), scope, call);
    expect(await guarded.lookup(ask(CLOSE), scope)).toMatchObject({ guarded: 'verified', answer: { toolCalls: call.toolCalls } });
    expect(seen).toEqual([Q]);
    // `adapt` rewrites text only: never an answer with tool calls.
    const adapting = cache({ guard: 'adapt', guardAbove: undefined }, { guard: { adapt: async () => 'rewritten' } });
    await adapting.store(ask(Q), scope, call);
    expect(await adapting.lookup(ask(CLOSE), scope)).toBeUndefined();
  });

  it('a match naming other numbers is a miss unguarded (outcome mismatch), and goes to a verify guard', async () => {
    const c = cache({ guardAbove: undefined });
    await c.store(ask('convert 10 miles to kilometers now'), scope, answer('16.09 km'));
    const details: SemanticLookupDetails = {};
    expect(await c.lookup(ask('convert 12 miles to kilometers now'), scope, { details })).toBeUndefined();
    expect(details.outcome).toBe('mismatch');
    expect(await c.probe(ask('convert 12 miles to kilometers now'), scope)).toBe(false);
    expect(await c.lookup(ask('now convert 10 miles to kilometers'), scope)).toMatchObject({ answer: { text: '16.09 km' } });
    const guarded = cache({ guard: 'verify', guardAbove: undefined }, { guard: { verify: async () => false } });
    await guarded.store(ask('convert 10 miles to kilometers now'), scope, answer('16.09 km'));
    expect(await guarded.lookup(ask('convert 12 miles to kilometers now'), scope)).toBeUndefined();
    expect(guarded.stats).toMatchObject({ guardMisses: 1, verified: 0 });
  });

  it('never keeps an answer\'s log probabilities: a paraphrase\'s hit carries none (they belong to the stored prompt)', async () => {
    const c = cache();
    const tokens = [{ token: 'Paris', logprob: -0.1 }, { token: '.', logprob: -0.2 }];
    expect(await c.store(ask(Q), scope, answer('Paris.', { logprobs: tokens }))).toBe(true);
    const hit = await c.lookup(ask(CLOSE), scope);
    expect(hit?.answer.text).toBe('Paris.');
    expect(hit?.answer).not.toHaveProperty('logprobs');
    // A request asking for them never stores nor looks up.
    expect(await c.store(ask(Q, { logprobs: {} }), scope, answer('Paris.', { logprobs: tokens }))).toBe(false);
    expect(await c.lookup(ask(Q, { logprobs: {} }), scope)).toBeUndefined();
  });

  it('applies the temperature rule to lookup and store', async () => {
    const hot = ask(Q, { temperature: 0.7 });
    const strict = cache();
    expect(await strict.store(hot, scope, answer())).toBe(false);
    expect(await strict.lookup(hot, scope)).toBeUndefined();
    expect(strict.stats).toMatchObject({ bypassed: 2, stores: 0 });
    const loose = cache({ allowNonZeroTemperature: true });
    expect(await loose.store(hot, scope, answer())).toBe(true);
    expect(await loose.lookup(hot, scope)).toBeDefined();
    expect(await loose.lookup(ask(Q, { temperature: 0.2 }), scope)).toBeUndefined(); // other temperature: other namespace
  });

  it('honours the tenant opt-out, the per-call opt-out and `enabled`', async () => {
    const c = cache({ optOutTenants: ['private'] });
    const priv = { ...scope, tenant: 'private' };
    expect(await c.store(ask(Q), priv, answer())).toBe(false);
    expect(await c.lookup(ask(Q), priv)).toBeUndefined();
    await c.store(ask(Q), scope, answer());
    expect(await c.lookup(ask(Q), scope, { optOut: true })).toBeUndefined();
    expect(await c.store(ask('x y'), scope, answer(), { optOut: true })).toBe(false);
    const off = cache({ enabled: false });
    expect(await off.store(ask(Q), scope, answer())).toBe(false);
    expect(c.stats.bypassed).toBe(4);
  });

  it('only caches text questions (last message from the user, no images)', async () => {
    expect(questionOf({ messages: [{ role: 'user', content: '  hi  ' }] })).toBe('hi');
    expect(questionOf({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }] })).toBe('ab');
    expect(questionOf({ messages: [{ role: 'user', content: [{ type: 'image', url: 'x' }] }] })).toBeUndefined();
    expect(questionOf({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] })).toBeUndefined();
    expect(questionOf({ messages: [] })).toBeUndefined();
  });

  it('replays a semantic hit as a stream', async () => {
    const c = cache();
    await c.store(ask(Q), scope, answer('The capital of France is Paris.'));
    const hit = await c.lookup(ask(Q), scope);
    const parts: StreamPart[] = [];
    for await (const p of replayAsStream(hit!.answer)) parts.push(p);
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { delta: string }).delta).join('')).toBe('The capital of France is Paris.');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', usage: makeUsage(7, 2) });
  });

  it('uses a precomputed embedding, reports timings, and returns answers callers cannot corrupt', async () => {
    const embedder = new BagOfWordsEmbedder();
    const c = new SemanticCache({ config: { enabled: true, threshold: 0.8, guardAbove: 0.8 }, embedder, store: new MemorySemanticStore({ maxEntries: 10 }) });
    const [v] = await embedder.embed([Q]);
    const callsBefore = embedder.calls;
    await c.store(ask(Q), scope, answer(), { embedding: v! });
    const timings: { embedMs?: number; searchMs?: number } = {};
    const hit = await c.lookup(ask(Q), scope, { embedding: v!, timings });
    expect(embedder.calls).toBe(callsBefore);
    expect(timings.searchMs).toBeGreaterThanOrEqual(0);
    hit!.answer.text = 'mutated';
    expect((await c.lookup(ask(Q), scope))?.answer.text).toBe('Paris.');
  });
});

describe('SemanticCache: choosing among close stored questions', () => {
  // Bag of words cannot tell word order apart: these two stored questions have the same vector.
  const A = 'reset password account';
  const B = 'account password reset';
  const QUERY = 'reset password account please';

  class CountingStore extends MemorySemanticStore {
    ks: number[] = [];
    override async search(namespace: string, vector: Float32Array, k: number) {
      this.ks.push(k);
      return super.search(namespace, vector, k);
    }
  }

  it('defaults: hybrid scoring over 8 candidates, margin 0.015, threshold 0.85, no guard band', () => {
    const c = new SemanticCache({ config: { enabled: true }, embedder: new BagOfWordsEmbedder() });
    expect(c.config).toMatchObject({ scoring: 'hybrid', lexicalWeight: 0.4, minMargin: 0.015, candidates: 8, threshold: 0.85, guard: 'miss' });
    expect(c.config.guardAbove).toBeUndefined();
  });

  it('cosine scoring calls two stored questions with the same vector ambiguous (a miss); hybrid picks the one worded like the question', async () => {
    const plain = cache({ scoring: 'cosine' });
    const hybrid = cache();
    for (const c of [plain, hybrid]) {
      await c.store(ask(A), scope, answer('A'));
      await c.store(ask(B), scope, answer('B'));
    }
    const details: SemanticLookupDetails = {};
    expect(await plain.lookup(ask(QUERY), scope, { details })).toBeUndefined();
    expect(details).toMatchObject({ outcome: 'ambiguous', margin: 0, threshold: 0.8 });
    expect(details.candidates).toHaveLength(2);
    expect(plain.stats).toMatchObject({ ambiguous: 1, guardMisses: 1, misses: 1, hits: 0 });

    const hit = await hybrid.lookup(ask(QUERY), scope);
    expect(hit).toMatchObject({ answer: { text: 'A' }, cachedQuestion: A });
    expect(hit!.score).toBeCloseTo(Math.sqrt(3 / 4), 5); // the cosine, as before
    expect(hit!.margin).toBeGreaterThan(0.015);
    expect(hit!.rankScore).toBeGreaterThan(hit!.score * 0.6);
    expect(hybrid.stats.ambiguous).toBe(0);
  });

  it('a hybrid tie is still ambiguous: minMargin 0 serves it, a verify guard decides it', async () => {
    const tie = ['alpha beta gamma kilo', 'alpha beta gamma mega'];
    const loose = cache({ minMargin: 0 });
    const seen: string[] = [];
    const guarded = cache({ guard: 'verify' }, { guard: { verify: async (i) => (seen.push(i.cachedQuestion), true) } });
    for (const c of [loose, guarded]) for (const t of tie) await c.store(ask(t), scope, answer(t));
    expect(await loose.lookup(ask('alpha beta gamma'), scope)).toBeDefined();
    const hit = await guarded.lookup(ask('alpha beta gamma'), scope);
    expect(hit).toMatchObject({ guarded: 'verified', cachedQuestion: tie[0] });
    expect(seen).toEqual([tie[0]]);
    expect(guarded.stats).toMatchObject({ ambiguous: 1, verified: 1, hits: 1 });
  });

  it('the same question stored twice (two concurrent misses) is not ambiguous', async () => {
    const c = cache();
    await c.store(ask(Q), scope, answer('Paris.'));
    await c.store(ask(Q), scope, answer('Paris!'));
    expect(await c.backend.size()).toBe(2);
    const hit = await c.lookup(ask(CLOSE), scope);
    expect(hit?.answer.text).toMatch(/^Paris/);
    expect(hit).not.toHaveProperty('margin'); // no rival with another text
  });

  it('asks the store for one candidate when neither re-ranking nor the margin needs more', async () => {
    const oneStore = new CountingStore({ maxEntries: 10 });
    const one = cache({ scoring: 'cosine', minMargin: 0 }, { store: oneStore });
    const manyStore = new CountingStore({ maxEntries: 10 });
    const many = cache({ candidates: 5 }, { store: manyStore });
    for (const c of [one, many]) {
      await c.store(ask(Q), scope, answer());
      expect(await c.lookup(ask(CLOSE), scope)).toBeDefined();
    }
    expect(oneStore.ks).toEqual([1]);
    expect(manyStore.ks).toEqual([5]);
  });

  it('reports below-threshold and empty lookups in details', async () => {
    const c = cache();
    const empty: SemanticLookupDetails = {};
    expect(await c.lookup(ask(Q), scope, { details: empty })).toBeUndefined();
    expect(empty).toMatchObject({ outcome: 'empty', candidates: [] });
    await c.store(ask(Q), scope, answer());
    const below: SemanticLookupDetails = {};
    expect(await c.lookup(ask('how do I bake bread'), scope, { details: below })).toBeUndefined();
    expect(below.outcome).toBe('below-threshold');
    const served: SemanticLookupDetails = {};
    await c.lookup(ask(CLOSE), scope, { details: served });
    expect(served.outcome).toBe('served');
    expect(served.candidates?.[0]).toMatchObject({ candidate: { prompt: Q }, lexical: expect.any(Number) });
  });
});

describe('SemanticCache with its default embedder (USE lite)', () => {
  it('embeds the question lower-cased: a question that differs only in case is served (it scored 0.73 as asked, a miss)', async () => {
    const stored = 'Convert 12 miles to km';
    const asked = 'convert 12 Miles to km';
    const use = new LocalUseEmbedder();
    const [a, b] = await use.embed([stored, asked]);
    // As asked, USE lite puts the two apart (0.73 when measured): below the default threshold 0.85.
    expect(dot(a!, b!)).toBeLessThan(0.85);
    const c = new SemanticCache({ config: { enabled: true }, embedder: use });
    try {
      expect(c.config.threshold).toBe(0.85);
      expect(await c.store(ask(stored), scope, answer('About 19.3 km.'))).toBe(true);
      const hit = await c.lookup(ask(asked), scope);
      // The stored question keeps its case; only the embedding input is lower-cased.
      expect(hit).toMatchObject({ kind: 'semantic', score: expect.closeTo(1, 4), cachedQuestion: stored, answer: { text: 'About 19.3 km.' } });
    } finally {
      await c.close();
    }
  }, 60_000);
});

describe('SemanticCache: a question longer than the embedder embeds in full', () => {
  // USE lite embeds the first USE_LITE_MAX_CHARS characters of a text only (its cost grows about quadratically):
  // two long prompts that differ only after the cut get the same vector. Such a question skips the semantic cache.
  it('is neither stored nor looked up (bypassed): a long prompt is never served for another with the same start', async () => {
    const c = new SemanticCache({ config: { enabled: true }, embedder: new LocalUseEmbedder() });
    const start = 'Summarize the following report. '.repeat(300); // 9 600 characters
    try {
      expect(await c.store(ask(`${start}The quarter ended with a loss.`), scope, answer('A loss.'))).toBe(false);
      expect(await c.lookup(ask(`${start}The quarter ended with a profit.`), scope)).toBeUndefined();
      expect(c.stats).toMatchObject({ stores: 0, bypassed: 2 });
      // Measured as the model sees it, after NFKC: 7 990 characters of U+FDFA are 71 910 for USE lite (embedding
      // them blocked the event loop for 9-12 s). Bypassed, not embedded.
      const expanding = '\uFDFA '.repeat(3_995);
      expect(expanding.length).toBeLessThan(USE_LITE_MAX_CHARS);
      expect(await c.lookup(ask(expanding), scope)).toBeUndefined();
      expect(c.stats).toMatchObject({ stores: 0, misses: 0, bypassed: 3 });
      // At the bound, a question is still cached.
      const atBound = `${'a'.repeat(USE_LITE_MAX_CHARS - 2)} b`;
      expect(await c.store(ask(atBound), scope, answer('Yes.'))).toBe(true);
      expect(await c.lookup(ask(atBound), scope)).toMatchObject({ kind: 'semantic', answer: { text: 'Yes.' } });
    } finally {
      await c.close();
    }
  }, 60_000);

  it('follows the embedder\'s maxInputChars through the batching and LRU wrappers (an embedder without one: no bound)', async () => {
    const bounded = Object.assign(new BagOfWordsEmbedder(), { maxInputChars: 40 });
    const c = new SemanticCache({ config: { enabled: true }, embedder: new CachedEmbedder(new BatchingEmbedder(bounded)) });
    expect(c.embedder.maxInputChars).toBe(40);
    expect(await c.store(ask(Q), scope, answer())).toBe(true); // 34 characters
    expect(await c.store(ask(`${Q} and of its neighbours`), scope, answer())).toBe(false);
    expect(bounded.texts).toBe(1);
    const unbounded = cache();
    expect(await unbounded.store(ask(`${Q} and of its neighbours`), scope, answer())).toBe(true);
  });

  it('measures a question with the embedder\'s inputLength, through the batching and LRU wrappers', async () => {
    const bounded = Object.assign(new BagOfWordsEmbedder(), { maxInputChars: 40, inputLength: (t: string) => t.normalize('NFKC').length });
    const c = new SemanticCache({ config: { enabled: true }, embedder: new CachedEmbedder(new BatchingEmbedder(bounded)) });
    expect(c.embedder.inputLength?.('\uFDFA')).toBe(18);
    expect(await c.store(ask(Q), scope, answer())).toBe(true);
    expect(await c.store(ask('\uFDFA \uFDFA \uFDFA'), scope, answer())).toBe(false); // 5 characters, 56 after NFKC
    expect(bounded.texts).toBe(1);
  });
});

// USE lite's vocabulary is English word pieces: its tokenizer gives every run of characters outside it one unknown id,
// so all-Chinese, all-Japanese or all-emoji texts got one and the same vector (cosine 1.0) and a second, different
// question was served the first one's answer; unrelated Russian questions scored 0.907, above the threshold. A question
// mostly covered is cached, but served a stored question only when their text outside the vocabulary is the same: two
// questions that differ only in a maths symbol or an emoji the vocabulary lacks were one vector, and the second was
// served the first one's answer; skipping every question with an unknown letter instead skipped English and Latin-script
// questions ("na\u00efve", "Erd\u0151s", a Greek sigma, German sz, Polish and Czech letters).
describe('SemanticCache: a question its embedder\'s vocabulary does not cover', () => {
  const routers: LLMRouter[] = [];
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
  });
  const router = (): LLMRouter => {
    const r = new LLMRouter({ models: [{ name: 'chat', engine: 'mock' }], cache: { exact: { enabled: true }, semantic: { enabled: true } } });
    routers.push(r);
    return r;
  };

  for (const [label, first, second] of [
    ['Chinese', '\u4f60\u597d\u5417\uff1f', '\u4eca\u5929\u5929\u6c14\u600e\u4e48\u6837\uff1f'],
    ['English with Chinese words', 'Translate \u4f60\u597d to English', 'Translate \u518d\u89c1 to English'],
    ['Japanese', '\u3053\u3093\u306b\u3061\u306f', '\u3055\u3088\u3046\u306a\u3089'],
    ['Russian', '\u041a\u0430\u043a \u0434\u0435\u043b\u0430?', '\u0421\u043a\u043e\u043b\u044c\u043a\u043e \u0441\u0442\u043e\u0438\u0442 \u0431\u0438\u043b\u0435\u0442?'],
    ['emoji', '\u{1F355}\u{1F354}\u{1F35F}', '\u{1F600}\u{1F603}\u{1F604}'],
    ['a maths symbol (less-or-equal, greater-or-equal)', 'What does the symbol \u2264 mean in maths?', 'What does the symbol \u2265 mean in maths?'],
    ['a maths symbol (partial, nabla)', 'What does \u2202 mean in a formula?', 'What does \u2207 mean in a formula?'],
    ['a maths symbol (not equal, almost equal)', 'How do I type the \u2260 sign on a Mac keyboard?', 'How do I type the \u2248 sign on a Mac keyboard?'],
    ['an emoji beside English words', 'What does the \u{1F346} emoji mean in a text message?', 'What does the \u{1F351} emoji mean in a text message?'],
  ] as const) {
    it(`${label}: a second, different question is not answered with the first question's answer (default local-use settings)`, async () => {
      const r = router();
      expect(await r.generate(first, { temperature: 0 })).toMatchObject({ cached: false });
      const two = await r.generate(second, { temperature: 0 });
      expect({ cached: two.cached, text: two.text }).toEqual({ cached: false, text: `Mock answer to: ${second}` });
      // The exact cache still answers the same question again.
      expect(await r.generate(second, { temperature: 0 })).toMatchObject({ cached: 'exact', text: `Mock answer to: ${second}` });
    }, 60_000);
  }

  it('an English question with an accented or a Greek letter is cached: a paraphrase with the same letter is served', async () => {
    const pairs = [
      ['Is the na\u00efve Bayes classifier good for spam filtering?', 'is the na\u00efve bayes classifier good for filtering spam'],
      ['Who was Paul Erd\u0151s and what did he prove?', 'who was paul erd\u0151s and what did he prove'],
      ['What is the \u03c3 of a normal distribution with variance 4?', 'what is the \u03c3 of a normal distribution whose variance is 4'],
    ] as const;
    const served = async (list: ReadonlyArray<readonly [string, string]>): Promise<string[]> => {
      const out: string[] = [];
      for (const [first, paraphrase] of list) {
        const r = router();
        await r.generate(first, { temperature: 0 });
        const two = await r.generate(paraphrase, { temperature: 0 });
        out.push(two.cached === 'semantic' ? two.text : `not served: ${paraphrase}`);
      }
      return out;
    };
    const expected = pairs.map(([first]) => `Mock answer to: ${first}`);
    // The same pairs written in ASCII are served too (the control: the paraphrases are close enough).
    const ascii = (t: string): string => t.replace(/\u00ef/g, 'i').replace(/\u0151/g, 'o').replace(/\u03c3/g, 's');
    expect(await served(pairs.map(([a, b]) => [ascii(a), ascii(b)] as const))).toEqual(expected.map(ascii));
    expect(await served(pairs)).toEqual(expected);
  }, 120_000);

  it('Latin-script questions with letters outside the vocabulary are not skipped; Chinese, Russian, Greek and emoji-only ones are', async () => {
    const e = new LocalUseEmbedder();
    await e.prepare();
    const skipped = (q: string): boolean => lowCoverage(e.coverage(embeddingInput(q))!);
    const latin = [
      'Wie hei\u00dft die Hauptstadt von \u00d6sterreich?',
      'Quelle est la sp\u00e9cialit\u00e9 de l\u2019\u00eele de la R\u00e9union ?',
      'Qual \u00e9 a popula\u00e7\u00e3o das cidades do Brasil? Informa\u00e7\u00f5es, por favor.',
      'Jak dojecha\u0107 do \u0141odzi poci\u0105giem?',
      'Kolik stoj\u00ed l\u00edstek do \u010cesk\u00fdch Bud\u011bjovic?',
    ];
    expect(latin.filter(skipped)).toEqual([]);
    // They do have letters outside the vocabulary: compared, not skipped.
    expect(latin.filter((q) => e.coverage(embeddingInput(q))!.unknown.length > 0).length).toBeGreaterThan(0);
    const other = ['\u4eca\u5929\u5929\u6c14\u600e\u4e48\u6837\uff1f', '\u0421\u043a\u043e\u043b\u044c\u043a\u043e \u0441\u0442\u043e\u0438\u0442 \u0431\u0438\u043b\u0435\u0442?', '\u0393\u03b5\u03b9\u03b1 \u03c3\u03bf\u03c5, \u03c4\u03b9 \u03ba\u03ac\u03bd\u03b5\u03b9\u03c2;', '\u{1F355}\u{1F354}'];
    expect(other.filter((q) => !skipped(q))).toEqual([]);
    // Keycaps (a digit, "#" or "*", U+FE0F, U+20E3) counted no character: a keycap-only question was compared as if all
    // covered, and "#\uFE0F\u20E3 *\uFE0F\u20E3" was served the answer of "*\uFE0F\u20E3 #\uFE0F\u20E3" (cosine 0.91).
    const keycaps = ['1\uFE0F\u20E3 2\uFE0F\u20E3', '#\uFE0F\u20E3 *\uFE0F\u20E3', '3\u20E3'];
    expect(keycaps.filter((q) => !skipped(q))).toEqual([]);
    expect(skipped('Press #\uFE0F\u20E3 to continue')).toBe(false);
  });

  it('is neither stored nor looked up (bypassed), and not embedded; English with an emoji is still cached', async () => {
    const use = new LocalUseEmbedder();
    const c = new SemanticCache({ config: { enabled: true }, embedder: new CachedEmbedder(use) });
    try {
      // Why: the model cannot tell these apart.
      const [a, b] = await use.embed(['\u4f60\u597d\u5417', '\u4eca\u5929\u5929\u6c14\u600e\u4e48\u6837']);
      expect(dot(a!, b!)).toBeGreaterThan(0.999);
      expect(await c.store(ask('\u4f60\u597d\u5417'), scope, answer('Fine.'))).toBe(false);
      expect(await c.lookup(ask('\u4eca\u5929\u5929\u6c14\u600e\u4e48\u6837'), scope)).toBeUndefined();
      expect(await c.probe(ask('\u4eca\u5929\u5929\u6c14\u600e\u4e48\u6837'), scope)).toBe(false);
      expect(c.stats).toMatchObject({ stores: 0, misses: 0, bypassed: 2 });
      expect((c.embedder as CachedEmbedder).misses).toBe(0);
      // An emoji beside English words (as in the GPTCache pairs: "Hugging Face \u{1F917}") is compared, not skipped: the
      // same emoji is served; a paraphrase without it is not (one side only is a difference the vector hides), at the
      // question's start or end too ("What does this emoji mean? \u{1F346}" is not "What does this emoji mean?").
      const hub = 'What is the Hugging Face \u{1F917} Hub?';
      expect(await c.store(ask(hub), scope, answer('A platform.'))).toBe(true);
      expect(await c.lookup(ask('what is the hugging face \u{1F917} hub'), scope)).toMatchObject({ kind: 'semantic', answer: { text: 'A platform.' } });
      expect(await c.lookup(ask('what is the hugging face hub'), scope)).toBeUndefined();
      expect(await c.store(ask('How do I load a JSON file with datasets?'), scope, answer('load_dataset json.'))).toBe(true);
      expect(await c.lookup(ask('how do i load a json file with datasets?'), scope)).toMatchObject({ kind: 'semantic', answer: { text: 'load_dataset json.' } });
      expect(await c.lookup(ask('how do i load a json file with datasets? \u{1F917}'), scope)).toBeUndefined();
      expect(await c.store(ask('\u{1F917} Datasets: how do I load a CSV file?'), scope, answer('load_dataset.'))).toBe(true);
      expect(await c.lookup(ask('\u{1F917} datasets: how do i load a csv file'), scope)).toMatchObject({ kind: 'semantic', answer: { text: 'load_dataset.' } });
      expect(await c.lookup(ask('datasets: how do i load a csv file'), scope)).toBeUndefined();
    } finally {
      await c.close();
    }
  }, 60_000);

  it('chooses the stored question with the same unknown text over a closer one with other unknown text; none: a mismatch for the guard', async () => {
    const guarded: Array<{ question: string; cachedQuestion: string }> = [];
    const c = new SemanticCache({
      config: { enabled: true, guard: 'verify' },
      embedder: new CachedEmbedder(new LocalUseEmbedder()),
      guard: { verify: async (input) => (guarded.push({ question: input.question, cachedQuestion: input.cachedQuestion }), false) },
    });
    try {
      const le = 'What does the symbol \u2264 mean in maths?';
      const ge = 'What does the \u2265 symbol mean in mathematics?';
      expect(await c.store(ask(le), scope, answer('Less than or equal.'))).toBe(true);
      expect(await c.store(ask(ge), scope, answer('Greater than or equal.'))).toBe(true);
      const details: SemanticLookupDetails = {};
      expect(await c.lookup(ask('What does the symbol \u2265 mean in maths?'), scope, { details })).toMatchObject({ answer: { text: 'Greater than or equal.' } });
      // The closer stored question (worded alike, other symbol) ranked first, and was passed over.
      expect(details.candidates?.[0]?.candidate.prompt).toBe(le);
      expect(guarded).toEqual([]);
      expect(await c.probe(ask('What does the symbol \u2265 mean in maths?'), scope)).toBe(true);
      // Only stored questions with other unknown text: the top one as a mismatch, which the guard judges (it says no).
      const d2: SemanticLookupDetails = {};
      expect(await c.lookup(ask('What does the symbol \u2260 mean in maths?'), scope, { details: d2 })).toBeUndefined();
      expect(d2.outcome).toBe('mismatch');
      expect(guarded).toEqual([{ question: 'What does the symbol \u2260 mean in maths?', cachedQuestion: le }]);
      expect(await c.probe(ask('What does the symbol \u2260 mean in maths?'), scope)).toBe(false);
    } finally {
      await c.close();
    }
  }, 60_000);

  it('compares the unknown text of the question read back from a SQLite file (the store keeps the question as asked)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-semantic-unknown-'));
    const path = join(dir, 'semantic.db');
    const embedder = new CachedEmbedder(new LocalUseEmbedder());
    try {
      const first = new SemanticCache({ config: { enabled: true }, embedder, store: await SqliteSemanticStore.open(path) });
      expect(await first.store(ask('How do I type the \u2260 sign on a Mac keyboard?'), scope, answer('Option + =.'))).toBe(true);
      await first.backend.close();
      const again = new SemanticCache({ config: { enabled: true }, embedder, store: await SqliteSemanticStore.open(path) });
      try {
        expect(await again.lookup(ask('How do I type the \u2248 sign on a Mac keyboard?'), scope)).toBeUndefined();
        expect(await again.lookup(ask('how do i type the \u2260 sign on a mac keyboard'), scope)).toMatchObject({ kind: 'semantic', answer: { text: 'Option + =.' } });
      } finally {
        await again.backend.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("follows the embedder's coverage through the batching and LRU wrappers; an embedder without coverage (remote ones) caches any text", async () => {
    const reported = { characters: 4, covered: 0, unknown: ['\u4f60\u597d\u5417'] };
    const low = Object.assign(new BagOfWordsEmbedder(), { coverage: (t: string) => (/[a-z]/.test(t) ? undefined : reported) });
    const c = new SemanticCache({ config: { enabled: true }, embedder: new CachedEmbedder(new BatchingEmbedder(low)) });
    expect(c.embedder.coverage?.('\u4f60\u597d')).toEqual(reported);
    expect(await c.store(ask(Q), scope, answer())).toBe(true);
    expect(await c.store(ask('\u4f60\u597d\u5417 42'), scope, answer())).toBe(false);
    expect(low.texts).toBe(1);
    expect(await cache().store(ask('\u4f60\u597d\u5417 42'), scope, answer())).toBe(true);
  });

  it('lowCoverage: less than MIN_SEMANTIC_COVERAGE of the letters and pictographs covered (unknown text alone does not skip)', () => {
    expect(MIN_SEMANTIC_COVERAGE).toBe(0.5);
    expect(lowCoverage({ characters: 20, covered: 18 })).toBe(false);
    expect(lowCoverage({ characters: 10, covered: 4 })).toBe(true);
    expect(lowCoverage({ characters: 10, covered: 5 })).toBe(false);
    expect(lowCoverage({ characters: 0, covered: 0 })).toBe(false);
  });

  it('sameUnknownText: the same runs on both sides; unknown text on one side only is a mismatch, emoji at the start or end included', () => {
    const e = { coverage: (t: string, cased = t) => ({ characters: 1, covered: 1, unknown: [...cased.matchAll(/[^A-Za-z0-9 ?.:]+/g)].map((m) => m[0]) }) };
    const same = (a: string, b: string): boolean => sameUnknownText(unknownText(e, a), unknownText(e, b));
    expect(same('what does \u2264 mean', 'what does \u2264 mean')).toBe(true);
    expect(same('what does \u2264 mean', 'what does \u2265 mean')).toBe(false);
    expect(same('what does \u2264 mean', 'what does \u2264 or \u2265 mean')).toBe(false);
    expect(same('what does \u2264 mean', 'what does it mean')).toBe(false);
    expect(same('what does it mean', 'what does \u2265 mean')).toBe(false);
    // Emoji on one side only, at the start, the end or in the middle, or another emoji: a difference.
    expect(same('\u{1F917} Datasets is a library', '\u{1F917} Datasets is a library')).toBe(true);
    expect(same('\u{1F917} Datasets is a library', 'Datasets is a library')).toBe(false);
    expect(same('Datasets is a library', 'Datasets is a library. \u{1F917}')).toBe(false);
    expect(same('\u{1F917} what does \u2264 mean \u{1F44D}\u{1F3FD}', 'what does \u2264 mean')).toBe(false);
    expect(same('A fingerprint in \u{1F917} Datasets', 'A fingerprint in Datasets')).toBe(false);
    expect(same('what does this mean? \u{1F346}', 'what does this mean? \u{1F351}')).toBe(false);
    expect(same('\u{1F917} what does \u2264 mean', 'what does \u2265 mean')).toBe(false);
    // Read with its case kept.
    expect(same('what does \u03a3 mean', 'what does \u03c3 mean')).toBe(false);
    // An embedder without coverage (remote ones): nothing to compare.
    expect(sameUnknownText(unknownText({}, 'what does \u2264 mean'), unknownText({}, 'what does \u2265 mean'))).toBe(true);
  });

  it("reads a stored question's unknown text once, not on every lookup that compares it", async () => {
    const read: string[] = [];
    const coverage = (t: string, cased = t) => (read.push(cased), { characters: 10, covered: 10, unknown: [...cased.matchAll(/[^a-z ]+/g)].map((m) => m[0]) });
    const c = new SemanticCache({ config: { enabled: true, threshold: 0.8 }, embedder: Object.assign(new BagOfWordsEmbedder(), { coverage }) });
    expect(await c.store(ask(`${Q} \u2264`), scope, answer())).toBe(true);
    for (let i = 0; i < 3; i++) expect(await c.lookup(ask(`${CLOSE} \u2264`), scope)).toMatchObject({ answer: { text: 'Paris.' } });
    const details: SemanticLookupDetails = {};
    expect(await c.lookup(ask(`${CLOSE} \u2265`), scope, { details })).toBeUndefined();
    expect(details.outcome).toBe('mismatch');
    expect(read.filter((t) => t === `${Q} \u2264`)).toHaveLength(2); // when stored, then once for 4 lookups
  });

  it('unknownText (USE lite): each unknown run is read from the question with its case kept; lower-casing that changes the length reads the whole question', () => {
    const e = new LocalUseEmbedder();
    expect(unknownText(e, 'What does \u03a3 mean in a statistics formula?').runs).toEqual(['\u03a3']);
    expect(unknownText(e, 'What does \u03c3 mean in a statistics formula?').runs).toEqual(['\u03c3']);
    expect(unknownText(e, 'What does \u03a6 stand for, and \u2264?').runs).toEqual(['\u03a6', '\u2264']);
    // NFKC as the model applies it: the ohm sign is the capital omega (not the small one the model is given).
    expect(unknownText(e, 'What does \u2126 mean?').runs).toEqual(['\u03a9']);
    // U+0130 lower-cases to two characters: the positions do not line up, the whole question is the unknown text.
    expect(unknownText(e, '\u0130stanbul \u2264 Ankara?').runs).toEqual(['\u0130stanbul \u2264 Ankara?']);
    expect(sameUnknownText(unknownText(e, '\u0130stanbul \u2264 Ankara?'), unknownText(e, '\u0130stanbul \u2265 Ankara?'))).toBe(false);
  });

  // U+0130 lower-cases to two characters (+1); "H" + U+0331 lower-cases (NFKC) to the one precomposed U+1E96 (-1):
  // the counts agree, but the characters between them are shifted. Checked place by place, they read the whole question.
  it('unknownText (USE lite): characters that line up by count but not by place read the whole question, not shifted runs', () => {
    const e = new LocalUseEmbedder();
    const a = 'Does \u0130 \u2264 H\u0331 hold here?';
    const b = 'Does \u0130 \u2265 H\u0331 hold here?';
    expect(unknownText(e, a).runs).toEqual([a.normalize('NFKC')]);
    expect(sameUnknownText(unknownText(e, a), unknownText(e, b))).toBe(false);
  });

  it('a question differing only in a symbol between U+0130 and H+U+0331 is not served the other\'s answer (USE lite)', async () => {
    const c = new SemanticCache({ config: { enabled: true }, embedder: new LocalUseEmbedder() });
    try {
      expect(await c.store(ask('Does \u0130 \u2264 H\u0331 hold here?'), scope, answer('yes, less or equal'))).toBe(true);
      expect((await c.lookup(ask('Does \u0130 \u2265 H\u0331 hold here?'), scope))?.answer.text).toBeUndefined();
      expect(await c.lookup(ask('Does \u0130 \u2264 H\u0331 hold here?'), scope)).toMatchObject({ answer: { text: 'yes, less or equal' } });
    } finally {
      await c.close();
    }
  }, 60_000);

  // Upper- and lower-case Greek letters are different symbols (summation vs standard deviation, a change vs a small
  // delta); the question is embedded lower-cased, so only the case-kept unknown text tells them apart.
  for (const [label, upper, lower] of [
    ['Sigma / sigma', 'What does \u03a3 mean in a statistics formula?', 'What does \u03c3 mean in a statistics formula?'],
    ['Delta / delta', 'What does \u0394 mean in a physics formula?', 'What does \u03b4 mean in a physics formula?'],
    ['Phi / phi', 'What does \u03a6 stand for in electromagnetism?', 'What does \u03c6 stand for in electromagnetism?'],
  ] as const) {
    it(`${label}: a question with the lower-case letter is not served the answer for the upper-case one (USE lite)`, async () => {
      const use = new LocalUseEmbedder();
      const c = new SemanticCache({ config: { enabled: true }, embedder: use });
      try {
        await use.prepare();
        expect(use.coverage(embeddingInput(upper))!.unknown.length).toBeGreaterThan(0);
        expect(await c.store(ask(upper), scope, answer(`about ${upper}`))).toBe(true);
        expect((await c.lookup(ask(lower), scope))?.answer.text).toBeUndefined();
        // The same letter in the same case is still served.
        expect(await c.lookup(ask(upper.replace('What does', 'what does')), scope)).toMatchObject({ answer: { text: `about ${upper}` } });
      } finally {
        await c.close();
      }
    }, 60_000);
  }

  // The unknown id moves the vector little: a stored question that does not name the symbol, emoji or word asked about
  // is close (cosine 0.98 for the maths symbol), and would be served for it at the default threshold (0.85).
  for (const [label, stored, asked] of [
    ['a maths symbol', 'What does the symbol mean in maths?', 'What does the symbol \u2264 mean in maths?'],
    ['an emoji', 'What does this emoji mean in a text message?', 'What does this \u{1F346} emoji mean in a text message?'],
    ['a Chinese word', 'Translate this word to English', 'Translate this word \u732b to English'],
    // At the question's end the emoji may be what is asked about: not decoration.
    ['an emoji at the end', 'What does this emoji mean?', 'What does this emoji mean? \u{1F346}'],
    ['an emoji at the end (translate)', 'Translate this emoji into words:', 'Translate this emoji into words: \u{1F64F}'],
    ['an emoji at the end (safety)', 'Is this safe to eat?', 'Is this safe to eat? \u{1F344}'],
    ['an emoji at the start', 'What is the capital city of France?', '\u{1F3DB} What is the capital city of France?'],
  ] as const) {
    it(`${label} on one side only: neither question is served the other's answer (USE lite)`, async () => {
      const use = new LocalUseEmbedder();
      for (const [first, second] of [[stored, asked], [asked, stored]] as const) {
        const c = new SemanticCache({ config: { enabled: true }, embedder: use });
        try {
          expect(await c.store(ask(first), scope, answer(`about ${first}`))).toBe(true);
          const details: SemanticLookupDetails = {};
          const hit = await c.lookup(ask(second), scope, { details });
          expect({ served: hit?.answer.text, outcome: details.outcome }).toEqual({ served: undefined, outcome: 'mismatch' });
        } finally {
          await c.close();
        }
      }
    }, 60_000);
  }
});

describe('MemorySemanticStore', () => {
  it('refuses a vector of another size in an existing namespace, naming both sizes', async () => {
    const store = new MemorySemanticStore();
    const base = { namespace: 'ns', tenant: 't', prompt: 'p', answer: { ...answer(), createdAt: 0 }, expiresAt: Date.now() + 1_000 };
    await store.add({ ...base, vector: new Float32Array([1, 0, 0]) });
    await expect(store.add({ ...base, vector: new Float32Array([1, 0]) })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('2 dimensions, namespace ns holds 3') });
    await expect(store.addMany([{ ...base, vector: new Float32Array([0, 1]) }])).rejects.toMatchObject({ code: 'invalid_request' });
    expect(await store.size()).toBe(1);
  });
});

describe('semantic cache byte bound', () => {
  it('the default 64 MB holds the entries docs/caching.md says (4 674 of a 3072-d vector and a 1 kB answer, fewer than maxEntries)', () => {
    const config = SemanticCacheSchema.parse({ enabled: true });
    expect(config.maxSizeBytes).toBe(64_000_000);
    expect(config.maxEntries).toBe(10_000);
    const entry = (dims: number): SemanticEntry => ({
      namespace: 'acme:0123456789abcdef0123456789abcdef',
      tenant: 'acme',
      user: 'x'.repeat(43),
      prompt: 'How do I configure feature number 1 of the product for my team?',
      vector: new Float32Array(dims),
      answer: { ...answer('a'.repeat(1_000)), usage: makeUsage(20, 200), createdAt: 0 },
      expiresAt: 0,
    });
    // The upgrade note's table: 4 bytes a dimension plus ~1.4 kB of answer, question and keys.
    const fits = (dims: number) => Math.floor(config.maxSizeBytes / semanticEntryBytes(entry(dims)));
    expect(fits(3072)).toBe(4_674);
    expect(fits(1536)).toBeGreaterThan(8_400);
    expect(fits(1536)).toBeLessThan(8_600);
    expect(fits(512)).toBeGreaterThan(config.maxEntries);
    // Raising maxSizeBytes as the note says keeps 10 000 such entries.
    expect(Math.floor(140_000_000 / semanticEntryBytes(entry(3072)))).toBeGreaterThanOrEqual(10_000);
  });

  it('memory store: sizeBytes equals the recomputed sum and the kept ids follow an LRU model after every random operation', async () => {
    for (const seed of [1, 2, 3]) {
      const store = new MemorySemanticStore({ maxEntries: MAX_ENTRIES, maxSizeBytes: MAX_BYTES });
      await runOps(store, new LruModel(MAX_ENTRIES, MAX_BYTES), rng(seed), 300);
    }
  });

  it('VectorCatalog: the byte total equals the sum of the kept metas after put/putMany replacing ids, removes, touches, expiring searches and clears', () => {
    const r = rng(99);
    const cat = new VectorCatalog<CatalogMeta>();
    const vec = () => Float32Array.from({ length: 4 }, () => r() - 0.5);
    const meta = (): CatalogMeta => ({ namespace: r() < 0.5 ? 'a' : 'b', tenant: 't', expiresAt: Math.floor(r() * 100), bytes: Math.floor(r() * 1_000) });
    for (let step = 0; step < 3_000; step++) {
      const op = r();
      const id = 1 + Math.floor(r() * 20); // small id space: puts replace existing ids often
      if (op < 0.35) cat.put(id, meta(), vec());
      else if (op < 0.5) cat.putMany(Array.from({ length: 1 + Math.floor(r() * 4) }, (_, k) => ({ id: id + k * 3, meta: meta(), vector: vec() })));
      else if (op < 0.65) cat.remove(id);
      else if (op < 0.75) cat.touch(id);
      else if (op < 0.95) cat.search(r() < 0.5 ? 'a' : 'b', vec(), 1 + Math.floor(r() * 4), Math.floor(r() * 100));
      else cat.clear();
      let sum = 0;
      for (const i of cat.ids()) sum += cat.get(i)!.bytes!;
      expect(cat.bytes).toBe(sum);
    }
  });

  it('VectorCatalog.putMany keeps the items\' order as the recency order across namespaces, and adds nothing from a batch with a bad vector', () => {
    const cat = new VectorCatalog<CatalogMeta>();
    const m = (namespace: string): CatalogMeta => ({ namespace, tenant: 't', expiresAt: 1e15, bytes: 10 });
    cat.putMany([
      { id: 1, meta: m('a'), vector: new Float32Array([1, 0]) },
      { id: 2, meta: m('b'), vector: new Float32Array([0, 1, 0]) },
      { id: 3, meta: m('a'), vector: new Float32Array([0, 1]) },
    ]);
    expect([...cat.ids()]).toEqual([1, 2, 3]);
    expect(() => cat.putMany([{ id: 4, meta: m('c'), vector: new Float32Array([1]) }, { id: 5, meta: m('a'), vector: new Float32Array([1, 0, 0]) }])).toThrow(/namespace a holds 2/);
    expect([...cat.ids()]).toEqual([1, 2, 3]);
    expect(cat.indexKind('c')).toBeUndefined();
    expect(cat.bytes).toBe(30);
  });
});
