/**
 * The semantic cache inside `LLMRouter`: exact first, then semantic; scoped by tenant; replayed as a
 * stream; temperature and failed answers are never stored; a broken cache is a miss reported as
 * `cache:error`. The embedder is a deployment (the mock engine's deterministic trigram embeddings), not
 * the local USE model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RouterConfigInput, SemanticCacheConfigInput } from '../config/schema.js';
import '../engines/index.js';
import { MockEngine, type MockEngineOptions } from '../engines/mock/mock-engine.js';
import { LLMError } from '../errors/llm-error.js';
import { makeUsage } from '../spec/index.js';
import { SqliteSemanticStore } from '../semantic-cache/sqlite-semantic-store.js';
import { freePort } from '../stores/__fixtures__/free-port.js';
import { mockChatRouter } from '../test/mock-chat-router.test-helpers.js';
import { LLMRouter } from './llm-router.js';
import type { RouterEvents, RouterStreamPart } from './types.js';

const QUESTION = 'What is the capital of France?';
/** Cosine ~0.96 with QUESTION under the mock's trigram embeddings. */
const PARAPHRASE = 'what is the capital of france';
/** Cosine ~0.82: below the threshold. */
const OTHER = 'what is the capital of Germany?';

const routers: LLMRouter[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

function setup(semantic: SemanticCacheConfigInput = {}, chat: MockEngineOptions = {}, extra: { cache?: RouterConfigInput['cache'] } = {}) {
  const cache = 'cache' in extra ? extra.cache : { semantic: { enabled: true, embedder: 'emb', threshold: 0.9, guardAbove: 0.9, ...semantic } };
  const { router, engine, embedder } = mockChatRouter(routers, cache, chat);
  const hits: RouterEvents['cache:hit'][] = [];
  const errors: RouterEvents['cache:error'][] = [];
  router.on('cache:hit', (e) => hits.push(e));
  router.on('cache:error', (e) => errors.push(e));
  return { router, engine, embedder, hits, errors };
}

async function collect(stream: AsyncIterable<RouterStreamPart>): Promise<RouterStreamPart[]> {
  const parts: RouterStreamPart[] = [];
  for await (const p of stream) parts.push(p);
  return parts;
}

describe('LLMRouter with cache.semantic', () => {
  it('answers a paraphrase from the cache: cached "semantic", the score, cost 0, a cache:hit event with the score', async () => {
    const { router, engine, embedder, hits, errors } = setup();
    const first = await router.generate(QUESTION, { requestId: 'r1' });
    expect(first.cached).toBe(false);
    expect(first.cacheScore).toBeUndefined();
    const second = await router.generate(PARAPHRASE, { requestId: 'r2' });
    expect(second).toMatchObject({ cached: 'semantic', text: first.text, deployment: 'chat', requestId: 'r2', attempts: [] });
    expect(second.cost.totalUsd).toBe(0);
    expect(second.cacheScore).toBeGreaterThanOrEqual(0.9);
    expect(second.cacheScore).toBeLessThan(1);
    expect(engine.calls).toBe(1);
    expect(embedder.embedCalls).toBeGreaterThanOrEqual(1);
    expect(hits).toEqual([{ requestId: 'r2', kind: 'semantic', deployment: 'chat', score: second.cacheScore }]);
    // Below the threshold: a miss, answered by the model.
    const other = await router.generate(OTHER);
    expect(other.cached).toBe(false);
    expect(engine.calls).toBe(2);
    expect(errors).toEqual([]);
  });

  it('never serves an answer to another tenant', async () => {
    const { router, engine } = setup();
    await router.generate(QUESTION, { tenant: 'acme' });
    expect((await router.generate(PARAPHRASE, { tenant: 'globex' })).cached).toBe(false);
    expect((await router.generate(PARAPHRASE, { tenant: 'acme' })).cached).toBe('semantic');
    expect(engine.calls).toBe(2);
  });

  it('replays a semantic hit as a stream: route part with cached and score, the text as deltas, finish', async () => {
    const { router, engine } = setup();
    const original = await collect(router.stream(QUESTION));
    expect(original.at(-1)?.type).toBe('finish');
    const s = router.stream(PARAPHRASE);
    const parts = await collect(s);
    const route = parts[0];
    expect(route).toMatchObject({ type: 'route', deployment: 'chat', cached: 'semantic' });
    expect(route?.type === 'route' ? route.cacheScore : undefined).toBeGreaterThanOrEqual(0.9);
    const text = parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');
    expect(text).toBe(`Mock answer to: ${QUESTION}`);
    expect(parts.filter((p) => p.type === 'text-delta').length).toBeGreaterThan(1);
    expect(parts.at(-1)?.type).toBe('finish');
    const result = await s.result;
    expect(result.cached).toBe('semantic');
    expect(result.cacheScore).toBe(route?.type === 'route' ? route.cacheScore : NaN);
    expect(engine.calls).toBe(1);
  });

  it('does not cache calls with temperature > 0 unless allowNonZeroTemperature', async () => {
    const off = setup();
    await off.router.generate(QUESTION, { temperature: 0.7 });
    expect((await off.router.generate(QUESTION, { temperature: 0.7 })).cached).toBe(false);
    expect(off.engine.calls).toBe(2);
    // temperature 0 is cached
    await off.router.generate(QUESTION, { temperature: 0 });
    expect((await off.router.generate(PARAPHRASE, { temperature: 0 })).cached).toBe('semantic');

    const on = setup({ allowNonZeroTemperature: true });
    await on.router.generate(QUESTION, { temperature: 0.7 });
    expect((await on.router.generate(PARAPHRASE, { temperature: 0.7 })).cached).toBe('semantic');
    // sampling parameters are part of the namespace: another temperature misses
    expect((await on.router.generate(PARAPHRASE, { temperature: 0.5 })).cached).toBe(false);
    expect(on.engine.calls).toBe(2);
  });

  it('never stores a failed answer: a stream that broke mid-way is not served later', async () => {
    const { router, engine } = setup({}, { failures: [{ code: 'provider_unavailable', afterChunks: 1 }], wordsPerChunk: 1 });
    const broken = await collect(router.stream(QUESTION));
    expect(broken.at(-1)).toMatchObject({ type: 'error' });
    const again = await router.generate(QUESTION);
    expect(again.cached).toBe(false);
    expect(engine.calls).toBe(2);
    expect((await router.generate(PARAPHRASE)).cached).toBe('semantic');
  });

  it('cache: false bypasses it, "refresh" stores without looking up', async () => {
    const { router, engine } = setup();
    await router.generate(QUESTION, { cache: false });
    expect((await router.generate(PARAPHRASE, { cache: 'refresh' })).cached).toBe(false);
    expect((await router.generate(QUESTION, { cache: false })).cached).toBe(false);
    expect((await router.generate(QUESTION)).cached).toBe('semantic');
    expect(engine.calls).toBe(3);
  });

  it('exact first, then semantic, when both are on', async () => {
    const { router, engine, hits } = setup({}, {}, { cache: { exact: { enabled: true }, semantic: { enabled: true, embedder: 'emb', threshold: 0.9, guardAbove: 0.9 } } });
    await router.generate(QUESTION);
    expect((await router.generate(QUESTION)).cached).toBe('exact');
    expect((await router.generate(PARAPHRASE)).cached).toBe('semantic');
    expect(hits.map((h) => [h.kind, h.score === undefined])).toEqual([
      ['exact', true],
      ['semantic', false],
    ]);
    expect(engine.calls).toBe(1);
  });

  it('a broken store (Redis that refuses connections) is a miss reported as cache:error; calls still succeed', async () => {
    // A loopback port nothing listens on (bound, then closed).
    const port = await freePort();
    const { router, engine, errors } = setup({ store: { type: 'redis', url: `redis://127.0.0.1:${port}` } });
    const a = await router.generate(QUESTION);
    const b = await router.generate(QUESTION);
    expect([a.cached, b.cached]).toEqual([false, false]);
    expect(engine.calls).toBe(2);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatchObject({ kind: 'semantic', error: { code: 'engine_unavailable' } });
    expect(errors[0]?.error.message).toContain(`127.0.0.1:${port}`);
    // Reported with the id of the call whose lookup built the cache (README: the request id when a call met it).
    expect(errors[0]?.requestId).toBe(a.requestId);
  });

  it('tells options.warn (not console.warn) what its SQLite store reports once: the rows cut at open to fit maxEntries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-router-warn-'));
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      // A file written under a larger bound: three rows, opened by a router whose cache keeps two.
      const seed = await SqliteSemanticStore.open(join(dir, 'semantic.db'), { maxEntries: 10 });
      const answer = { text: 'a', toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(1, 1), deployment: 'chat', model: 'mock', provider: 'mock', createdAt: 0 };
      await seed.addMany([1, 2, 3].map((i) => ({ namespace: 'ns', tenant: '', prompt: `q${i}`, vector: Float32Array.of(i, 1, 0, 0), answer, expiresAt: Date.now() + 600_000 })));
      await seed.close();
      const warned: string[] = [];
      const router = new LLMRouter(
        {
          models: [
            { name: 'chat', engine: 'mock', capabilities: ['chat', 'streaming'] },
            { name: 'emb', engine: 'mock', capabilities: ['embeddings'] },
          ],
          routing: { strategy: 'priority', retries: { max: 0 } },
          cache: { semantic: { enabled: true, embedder: 'emb', maxEntries: 2, store: { type: 'sqlite', path: 'semantic.db' } } },
        },
        { engines: { chat: new MockEngine(), emb: new MockEngine({ modelId: 'mock-embed' }) }, baseDir: dir, warn: (m) => warned.push(m) },
      );
      routers.push(router);
      await router.generate(QUESTION); // the first call builds the cache (opens the file)
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatch(/semantic cache .*semantic\.db: cut 1 of 3 rows on open, the least recently used, to fit cache\.semantic\.maxEntries \(2\)/);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      await Promise.all(routers.splice(0).map((r) => r.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an embedder that is not a deployment is refused when the router is created, naming the field', () => {
    // (Built lazily, such a cache would make every lookup a miss; SemanticCacheHook still reports it as cache:error.)
    expect(() => setup({ embedder: 'nope' })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'cache.semantic.embedder' }));
  });

  // Judged by the engine's capabilities when none are listed: the message names the fix that fits.
  it('an embedder deployment whose engine cannot embed is refused when the router is created, naming the fix', () => {
    const build = (embedder: Record<string, unknown>) => {
      const router = new LLMRouter({ models: [{ name: 'chat', engine: 'mock' }, { name: 'emb', ...embedder } as never], cache: { semantic: { enabled: true, embedder: 'emb' } } }, { env: {} });
      routers.push(router);
      return router;
    };
    const refused = (embedder: Record<string, unknown>): string => {
      try {
        build(embedder);
      } catch (e) {
        expect(e).toMatchObject({ code: 'config_invalid', param: 'cache.semantic.embedder' });
        return (e as Error).message;
      }
      return expect.fail('built');
    };
    // An OpenAI-compatible embedding model whose id the engine does not know as one (only text-embedding-* are).
    expect(refused({ engine: 'openai-compatible', preset: 'ollama', model: 'nomic-embed-text' })).toBe(
      'Invalid router config: cache.semantic.embedder: deployment "emb" cannot embed (lacks capabilities: embeddings): if its model embeds (an embedding model the engine does not know as one, such as nomic-embed-text or mistral-embed), add capabilities: [embeddings] to the deployment; else name an embedding model or "local-use"',
    );
    expect(build({ engine: 'openai-compatible', preset: 'ollama', model: 'nomic-embed-text', capabilities: ['embeddings'] })).toBeInstanceOf(LLMRouter);
    // A Gemini chat model has no :batchEmbedContents: capabilities would not help.
    expect(refused({ engine: 'gemini', model: 'gemini-2.5-flash', apiKey: 'k' })).toMatch(/cannot embed .*: name an embedding model \(for Gemini, an embedding model id or options\.embeddingModel\) or "local-use"$/);
    // An engine that cannot be built yet (azure-openai without an endpoint) is not judged: its calls say why.
    expect(build({ engine: 'openai-compatible', preset: 'azure-openai', model: 'x' })).toBeInstanceOf(LLMRouter);
  });
});

describe('LLMRouter cacheOnly calls (a caller that may pay for nothing: the gateway for a tenant over its budget)', () => {
  const refusal = () => new LLMError({ code: 'budget_exceeded', message: 'no budget left' });

  it('serves an exact hit (generate and stream); a miss rejects with the given error and calls no model', async () => {
    const { router, engine } = setup({}, {}, { cache: { exact: { enabled: true }, semantic: { enabled: true, embedder: 'emb', threshold: 0.9, guardAbove: 0.9 } } });
    const first = await router.generate(QUESTION);
    const err = refusal();
    expect(await router.generate(QUESTION, { cacheOnly: err })).toMatchObject({ cached: 'exact', text: first.text, cost: { totalUsd: 0 } });
    const replay = await collect(router.stream(QUESTION, { cacheOnly: err }));
    expect(replay[0]).toMatchObject({ type: 'route', cached: 'exact' });
    await expect(router.generate('Something never asked', { cacheOnly: err })).rejects.toBe(err);
    const parts = await collect(router.stream('Something never asked', { cacheOnly: err }));
    expect(parts).toEqual([{ type: 'error', error: err }]);
    // A call that reads no cache is a miss too.
    await expect(router.generate(QUESTION, { cacheOnly: err, cache: 'refresh' })).rejects.toBe(err);
    expect(engine.calls).toBe(1);
  });

  it('skips the semantic cache when its embedder is a deployment (a paid call): a paraphrase is a miss without an embedding', async () => {
    const { router, engine, embedder } = setup();
    await router.generate(QUESTION);
    expect((await router.generate(PARAPHRASE)).cached).toBe('semantic');
    const embeds = embedder.embedCalls;
    const err = refusal();
    await expect(router.generate(PARAPHRASE, { cacheOnly: err })).rejects.toBe(err);
    expect({ embeds: embedder.embedCalls - embeds, calls: engine.calls }).toEqual({ embeds: 0, calls: 1 });
  });

  it('a cascade rejects at once with the given error (its answer is no one cache entry)', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'weak', engine: 'mock', capabilities: ['chat', 'streaming'] },
        { name: 'strong', engine: 'mock', capabilities: ['chat', 'streaming'] },
      ],
      routing: { strategy: 'priority', retries: { max: 0 }, cascades: [{ name: 'duo', weak: 'weak', strong: 'strong', verifier: 'arithmetic' }] },
      cache: { exact: { enabled: true } },
    });
    routers.push(router);
    const ends: RouterEvents['request:end'][] = [];
    router.on('request:end', (e) => ends.push(e));
    const err = refusal();
    await expect(router.generate(QUESTION, { model: 'duo', cacheOnly: err })).rejects.toBe(err);
    expect(await collect(router.stream(QUESTION, { model: 'duo', cacheOnly: err }))).toEqual([{ type: 'error', error: err }]);
    expect(ends).toEqual([]);
  });

  it('an embed call rejects with the given error once planned and calls no embedding engine (embeddings are not cached)', async () => {
    const { router, embedder } = setup({}, {}, { cache: { exact: { enabled: true } } });
    await router.embed('hello world');
    const embeds = embedder.embedCalls;
    const err = refusal();
    await expect(router.embed('hello world', { cacheOnly: err })).rejects.toBe(err);
    // Bad input is still the input's error.
    await expect(router.embed('hello world', { cacheOnly: err, dimensions: 0 })).rejects.toMatchObject({ code: 'invalid_request', param: 'dimensions' });
    // So is input no deployment can take (token ids to mock engines): the plan's 400, before the cache-only refusal.
    await expect(router.embed([[1, 2, 3]], { cacheOnly: err })).rejects.toMatchObject({ code: 'unsupported', message: expect.stringContaining('cannot embed token ids') });
    expect(embedder.embedCalls - embeds).toBe(0);
  });
});
