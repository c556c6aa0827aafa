import type { CallOptions } from '../spec/index.js';

/**
 * Turns texts into vectors. Implementations return unit-length vectors (cosine similarity = dot product)
 * of a fixed `dimensions`, one per input, in input order.
 */
export interface Embedder {
  /** Names the model; vectors of different embedders are never compared (it is part of the cache scope). */
  readonly id: string;
  /**
   * The longest text (in UTF-16 code units) the embedder embeds in full; a longer one is embedded by its start only,
   * so two texts that differ only after it get the same vector. Absent: no such bound.
   */
  readonly maxInputChars?: number;
  embed(texts: readonly string[], options?: Pick<CallOptions, 'signal'>): Promise<Float32Array[]>;
  close?(): Promise<void>;
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
