import { normalize, type Embedder } from '../../embeddings/embedder.js';

/**
 * Test double: a bag-of-words embedder (each lower-cased word hashed to one of `dimensions` buckets), so
 * sentences sharing words are similar and a sentence is identical to itself. Counts its calls.
 */
export class BagOfWordsEmbedder implements Embedder {
  readonly id = 'bag-of-words';
  calls = 0;
  texts = 0;
  constructor(readonly dimensions = 256) {}

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.calls++;
    this.texts += texts.length;
    return texts.map((t) => {
      const v = new Float32Array(this.dimensions);
      for (const w of t.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
        let h = 2166136261;
        for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
        v[(h >>> 0) % this.dimensions]! += 1;
      }
      return normalize(v);
    });
  }
}
