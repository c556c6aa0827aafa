import type { CallOptions } from '../spec/index.js';

/**
 * Turns texts into vectors. Implementations return unit-length vectors (cosine similarity = dot product)
 * of a fixed `dimensions`, one per input, in input order.
 */
export interface Embedder {
  /** Names the model; vectors of different embedders are never compared (it is part of the cache scope). */
  readonly id: string;
  /**
   * The longest text the embedder embeds in full, as `inputLength` measures it; a longer one is embedded by its start
   * only, so two texts that differ only after it get the same vector. Absent: no such bound.
   */
  readonly maxInputChars?: number;
  /**
   * The length of `text` as the embedder measures it against `maxInputChars` (local-use: UTF-16 code units after NFKC,
   * which its tokenizer applies first: one U+FDFA is 18). Absent: `text.length`.
   */
  inputLength?(text: string): number;
  /**
   * How much of `text` the embedder's vocabulary covers, measured on the text as it embeds it (its normalisation and
   * `maxInputChars` cut applied). The semantic cache skips a question with low coverage (`lowCoverage`): its vector
   * does not tell it from other questions; and serves a stored question only for one with the same `unknown` text.
   * Absent, or undefined for a text: not known (the semantic cache takes the text as covered and compares no unknown
   * text). local-use reports it; `EngineEmbedder` (OpenAI-compatible and other remote models) does not. `cased`: the
   * text before the caller lower-cased it (the semantic cache embeds questions lower-cased): `unknown` is then read
   * from it, so U+03A3 and U+03C3 are not the same unknown text; `text` is segmented as given.
   */
  coverage?(text: string, cased?: string): EmbedderCoverage | undefined;
  /**
   * Loads what `coverage` needs, asynchronously (local-use: its vocabulary and its language detector); the semantic
   * cache awaits it before it reads a question (the first one read loads it: not when the cache is created). Resolves
   * when done or failed (never rejects: `coverage` then says less).
   */
  prepare?(): Promise<void>;
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
  close?(): Promise<void>;
}

/**
 * How much of a text an embedder's vocabulary covers (`Embedder.coverage`), counted in letters and emoji of the text as
 * the model is given it; digits, punctuation and spaces are not counted, nor text symbols that are pictographs too
 * (local-use: U+00A9, U+00AE, arrows, check marks without U+FE0F).
 */
export interface EmbedderCoverage {
  /** Letters and emoji of the text. */
  characters: number;
  /**
   * Of them, inside a vocabulary piece of two or more characters: read as (part of) a word the model knows. The rest
   * are single-character pieces (a Cyrillic or CJK character the vocabulary has on its own) or unknown.
   */
  covered: number;
  /**
   * The text the model is given as its unknown id, run by run (a run of characters outside the vocabulary is one id),
   * in text order; white space and control and format characters left out (they carry no meaning), runs of only
   * those not listed. Two texts that differ only there get the same vector ("What does U+2264 mean?" and the same
   * with U+2265; "Translate <one Chinese word> to English" and the same with another word; two emoji the vocabulary
   * does not have): the semantic cache serves a stored question only for a question whose runs are the same.
   */
  unknown: readonly string[];
  /**
   * The runs of `unknown` (by index) that are accented letters of letters the vocabulary has, inside a word (local-use:
   * the U+00EF of "naïve", a letter it does not have, where it has "i"), with their word lower-cased and its accents
   * folded ("naive"), in text order. The semantic cache compares such a word with the other question's words folded
   * alike instead of comparing the run: "naïve" matches "naive" (and "naïve"), not "naïf". Absent: none.
   */
  folded?: ReadonlyArray<{ run: number; word: string }>;
  /**
   * The words, lower-cased and folded alike, with an accented letter the vocabulary has only as a piece of its own
   * (local-use: the U+00FC of "Müller"; the vector barely tells it from U+00F6: "Who is Thomas Müller?" and "... Möller?"
   * scored 0.91), in text order, each word once (one with an unknown run too may also be in `folded`): compared as `folded`'s words are, so
   * "Müller" matches "Muller", not "Möller". local-use folds no word longer than 64 letters. Absent: none.
   */
  foldedWords?: readonly string[];
  /**
   * The text's language (ISO 639-1) when it is not one the embedder's vectors tell texts apart in; absent when it is,
   * or when the language is not known. local-use: any language but English its detector (`eld`) reads the text as:
   * USE lite covers German, French, Spanish... with English word pieces, and unrelated questions in them scored up to
   * 0.99 ("Wie kann ich eine Datei in Python öffnen?" / "... löschen?"). The semantic cache skips such a text.
   */
  otherLanguage?: string;
  /**
   * True when the embedder tells languages apart but could not for this reading (local-use: its language detector is
   * not loaded yet, or failed to load): `otherLanguage` is then absent whatever the text's language. The semantic
   * cache remembers such a reading of a stored question until the embedder's reading of the empty text no longer says
   * this (it reads it again once the language can be known).
   */
  languageUnknown?: true;
}

/** Options of `Embedder.embed`. */
export interface EmbedOptions extends Pick<CallOptions, 'signal'> {
  /**
   * Whose texts these are (the semantic cache and the prefetcher pass the call's tenant): a caching embedder
   * (`CachedEmbedder`) reuses a vector only within one partition, so how fast one tenant's text is embedded never
   * tells whether another tenant sent it. Other embedders ignore it.
   */
  partition?: string;
}

/** `text`'s length as `embedder` measures it against its `maxInputChars`. */
export function embedderInputLength(embedder: Pick<Embedder, 'inputLength'>, text: string): number {
  return embedder.inputLength ? embedder.inputLength(text) : text.length;
}

/** Scales a vector to unit length in place (a zero vector stays zero) and returns it. */
export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv;
  }
  return v;
}

/** Dot product of two vectors of the same length (= cosine similarity for unit vectors). */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
