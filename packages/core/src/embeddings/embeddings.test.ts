import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { makeUsage, type LanguageEngine } from '../spec/index.js';
import { BatchingEmbedder } from './batching-embedder.js';
import { CachedEmbedder } from './cached-embedder.js';
import { dot, normalize, type Embedder } from './embedder.js';
import { EngineEmbedder } from './engine-embedder.js';

class CountingEmbedder implements Embedder {
  readonly id = 'counting';
  calls: string[][] = [];
  fail = false;
  closes = 0;
  async close(): Promise<void> {
    this.closes++;
  }
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.calls.push([...texts]);
    if (this.fail) throw new LLMError({ code: 'provider_error', message: 'boom' });
    return texts.map((t) => normalize(Float32Array.from([t.length, 1, t.charCodeAt(0) || 0])));
  }
}

/** A full garbage collection (V8's `gc`, exposed for the test), so heap sizes compare what is kept. */
function heapGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function engine(embed?: LanguageEngine['embed']): LanguageEngine {
  return {
    specVersion: 'v1',
    provider: 'fake',
    modelId: 'emb-1',
    capabilities: { embeddings: embed !== undefined },
    generate: () => Promise.reject(new Error('unused')),
    stream: () => (async function* () {})(),
    ...(embed ? { embed } : {}),
  };
}

describe('normalize / dot', () => {
  it('scales to unit length and leaves zero vectors alone', () => {
    const v = normalize(Float32Array.from([3, 4]));
    expect(Array.from(v)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(dot(v, v)).toBeCloseTo(1, 6);
    expect(Array.from(normalize(new Float32Array(2)))).toEqual([0, 0]);
  });
});

describe('BatchingEmbedder', () => {
  it('coalesces concurrent calls into one inner call and keeps each caller its own vectors', async () => {
    const inner = new CountingEmbedder();
    const b = new BatchingEmbedder(inner, { maxBatch: 10 });
    const [a, c] = await Promise.all([b.embed(['a', 'bb']), b.embed(['ccc'])]);
    expect(inner.calls).toEqual([['a', 'bb', 'ccc']]);
    expect(b.batches).toBe(1);
    expect(a).toHaveLength(2);
    expect(c![0]).toEqual((await inner.embed(['ccc']))[0]);
  });

  it('splits at maxBatch', async () => {
    const inner = new CountingEmbedder();
    const b = new BatchingEmbedder(inner, { maxBatch: 2 });
    const out = await Promise.all([b.embed(['a', 'b', 'c']), b.embed(['d', 'e'])]);
    expect(inner.calls.map((c) => c.length).sort()).toEqual([1, 2, 2]);
    expect(inner.calls.flat().sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(out.flat()).toHaveLength(5);
  });

  it('waits maxWaitMs for more texts', async () => {
    const inner = new CountingEmbedder();
    const b = new BatchingEmbedder(inner, { maxBatch: 8, maxWaitMs: 20 });
    const first = b.embed(['a']);
    await new Promise((r) => setTimeout(r, 1));
    const second = b.embed(['b']);
    await Promise.all([first, second]);
    expect(inner.calls).toEqual([['a', 'b']]);
  });

  // The caller's signal stopped at this layer: an aborted lookup waited for its batch, and the inner embedder (USE lite's
  // split batches) never learned that nobody wanted the vectors any more.
  it("a caller's abort rejects its call at once (aborted); the inner call's signal aborts only when every caller of the batch has", async () => {
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const signals: Array<AbortSignal | undefined> = [];
    const inner: Embedder = {
      id: 'gated',
      async embed(texts, options) {
        signals.push(options?.signal);
        await gate;
        return texts.map(() => Float32Array.of(1));
      },
    };
    const b = new BatchingEmbedder(inner, { maxBatch: 8 });
    const one = new AbortController();
    const two = new AbortController();
    const first = b.embed(['a'], { signal: one.signal });
    const second = b.embed(['b', 'c'], { signal: two.signal });
    const firstDone = first.then(() => 'answered', (e: unknown) => (LLMError.isInstance(e) ? e.code : 'other'));
    await vi.waitFor(() => expect(signals).toHaveLength(1));
    one.abort();
    expect(await firstDone).toBe('aborted');
    expect(signals[0]!.aborted).toBe(false);
    release();
    expect(await second).toHaveLength(2);

    // Every caller of a batch gone: the inner call's signal aborts; a caller without a signal keeps it alive.
    gate = new Promise<void>((r) => (release = r));
    const three = new AbortController();
    const third = b.embed(['d'], { signal: three.signal }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(signals).toHaveLength(2));
    three.abort();
    expect(await third).toMatchObject({ code: 'aborted' });
    expect(signals[1]!.aborted).toBe(true);
    release();
    await Promise.all([b.embed(['e']), b.embed(['f'], { signal: new AbortController().signal })]);
    expect(signals[2]).toBeUndefined();
    await expect(b.embed(['g'], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
    expect(signals).toHaveLength(3);
  });

  it('rejects every caller of a failed batch, and validates options', async () => {
    const inner = new CountingEmbedder();
    inner.fail = true;
    const b = new BatchingEmbedder(inner);
    const results = await Promise.allSettled([b.embed(['a']), b.embed(['b'])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(() => new BatchingEmbedder(inner, { maxBatch: 0 })).toThrow(/maxBatch/);
    expect(await b.embed([])).toEqual([]);
  });

  // close() cleared the maxWaitMs timer and settled nothing: a call waiting for that batch never resolved nor rejected.
  it('close() fails the calls still waiting for their batch and later calls with shutting_down, and closes the inner embedder', async () => {
    const inner = new CountingEmbedder();
    const b = new BatchingEmbedder(inner, { maxWaitMs: 60_000 });
    const waiting = b.embed(['a', 'b']);
    const closing = b.close();
    expect(b.close()).toBe(closing);
    // (A hang here is the bug: the test's timeout ends it.)
    await expect(waiting).rejects.toMatchObject({ code: 'shutting_down' });
    await closing;
    expect(inner.calls).toEqual([]);
    expect(inner.closes).toBe(1);
    await expect(b.embed(['c'])).rejects.toMatchObject({ code: 'shutting_down' });
    expect(await b.embed([])).toEqual([]);
    expect(inner.calls).toEqual([]);

    // maxWaitMs 0: texts queued for the current tick are not sent once close() has run.
    const now = new BatchingEmbedder(inner);
    const queued = now.embed(['d'], { signal: new AbortController().signal });
    await now.close();
    await expect(queued).rejects.toMatchObject({ code: 'shutting_down' });
    expect(inner.calls).toEqual([]);
  }, 10_000);

  it('close() fails a call larger than a batch whose first batch was sent and the rest still waits, with shutting_down', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sent: string[][] = [];
    const inner: Embedder = {
      id: 'slow',
      embed: async (texts) => {
        sent.push([...texts]);
        await gate;
        return texts.map(() => Float32Array.from([1, 0]));
      },
    };
    const b = new BatchingEmbedder(inner, { maxBatch: 2, maxWaitMs: 10_000 });
    const big = b.embed(['1', '2', '3']);
    const closing = b.close();
    await expect(big).rejects.toMatchObject({ code: 'shutting_down' });
    await expect(b.embed(['late'])).rejects.toMatchObject({ code: 'shutting_down' });
    expect(sent).toEqual([['1', '2']]);
    release();
    await closing;
    expect(sent).toEqual([['1', '2']]);
  }, 10_000);
});

describe('CachedEmbedder', () => {
  it('embeds only texts it has not seen, once per distinct text, and returns copies', async () => {
    const inner = new CountingEmbedder();
    const c = new CachedEmbedder(inner, { maxEntries: 100 });
    const first = await c.embed(['x', 'yy', 'x']);
    expect(inner.calls).toEqual([['x', 'yy']]);
    expect(first[0]).toEqual(first[2]);
    first[0]![0] = 99;
    const second = await c.embed(['yy', 'x', 'zzz']);
    expect(inner.calls).toEqual([['x', 'yy'], ['zzz']]);
    expect(second[1]![0]).not.toBe(99);
    expect(second[0]).toEqual(first[1]);
    expect(c.hits).toBe(2); // the repeated "x" of the first call was embedded once, but not a hit
    expect(c.misses).toBe(3);
  });

  // Keyed by the text itself, 10 000 entries of 100 KB prompts held ~1-2 GB of keys (the vectors, 2 KB each, were the
  // small part). Keyed by a SHA-256 of the text, an entry costs its vector and a 44-character key.
  it('does not keep the texts: memory per entry is bounded whatever the text length', async () => {
    const gc = heapGc();
    // Counts its calls without keeping the texts (CountingEmbedder keeps them).
    const inner = { id: 'count-only', calls: 0, embed: async (texts: readonly string[]) => (inner.calls++, texts.map(() => Float32Array.of(1))) };
    const c = new CachedEmbedder(inner, { maxEntries: 1_000 });
    gc();
    const before = process.memoryUsage().heapUsed;
    // 100 distinct texts of 200 000 one-byte characters: 20 MB of text, gone once embedded.
    for (let i = 0; i < 100; i++) await c.embed([`${i} ${'x'.repeat(200_000)}`.slice(0)]);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(inner.calls).toBe(100);
    expect(grown).toBeLessThan(5_000_000);
    // Still a cache: the same text again is a hit.
    await c.embed([`7 ${'x'.repeat(200_000)}`]);
    expect(inner.calls).toBe(100);
  });

  it('never takes one text for another: texts alike but for their last character, or for a lone surrogate and U+FFFD', async () => {
    const inner = new CountingEmbedder();
    const c = new CachedEmbedder(inner);
    const long = 'y'.repeat(20_000);
    await c.embed([`${long}a`, `${long}b`, '\uD800', '\uFFFD', '\uDC00']);
    await c.embed([`${long}b`, '\uFFFD', '\uD800', '\uDC00', `${long}a`]);
    // One inner call: the second is all hits, each its own text's vector.
    expect(inner.calls.map((batch) => batch.length)).toEqual([5]);
    expect(c.hits).toBe(5);
  });

  it('forgets the least recently used past maxEntries', async () => {
    const inner = new CountingEmbedder();
    const c = new CachedEmbedder(inner, { maxEntries: 2 });
    await c.embed(['a']);
    await c.embed(['b']);
    await c.embed(['c']);
    await c.embed(['a']);
    expect(inner.calls).toEqual([['a'], ['b'], ['c'], ['a']]);
  });

  it("reuses a vector within its partition only (a tenant never gets another's cached vector, nor its speed)", async () => {
    const inner = new CountingEmbedder();
    const c = new CachedEmbedder(inner);
    await c.embed(['secret'], { partition: 'alpha' });
    await c.embed(['secret'], { partition: 'alpha' });
    await c.embed(['secret'], { partition: 'beta' });
    await c.embed(['secret']);
    // Lengths are in the key: partition "a" with text "bc" is not partition "ab" with text "c".
    await c.embed(['bc'], { partition: 'a' });
    await c.embed(['c'], { partition: 'ab' });
    expect(inner.calls).toEqual([['secret'], ['secret'], ['secret'], ['bc'], ['c']]);
    expect(c.hits).toBe(1);
  });
});

describe('EngineEmbedder', () => {
  it('calls the engine embed with the texts and normalizes the vectors', async () => {
    const seen: string[][] = [];
    const e = new EngineEmbedder(
      engine(async (input) => {
        seen.push(input);
        return { embeddings: input.map(() => [0, 3, 4]), usage: makeUsage(input.length, 0) };
      }),
    );
    expect(e.id).toBe('fake/emb-1');
    const out = await e.embed(['a', 'b']);
    expect(seen).toEqual([['a', 'b']]);
    expect(Array.from(out[0]!)).toEqual([0, expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
  });

  it('refuses an engine without embed and a wrong number of vectors', async () => {
    expect(() => new EngineEmbedder(engine())).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'cache.semantic.embedder' }));
    const e = new EngineEmbedder(engine(async () => ({ embeddings: [[1]], usage: makeUsage(1, 0) })));
    await expect(e.embed(['a', 'b'])).rejects.toMatchObject({ code: 'invalid_response' });
  });
});
