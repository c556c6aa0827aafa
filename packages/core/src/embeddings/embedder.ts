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
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
  close?(): Promise<void>;
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
