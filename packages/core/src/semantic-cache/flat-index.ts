import { LLMError } from '../errors/llm-error.js';
import type { VectorIndex, VectorMatch } from './vector-index.js';

/**
 * Exact search: every vector in one contiguous Float32Array, scanned with a dot product per entry. Exact
 * (no recall loss) and the fastest choice for small sets; cost grows linearly (see docs/caching.md for
 * the measured crossover with the ANN index). Removal swaps the last vector into the hole.
 */
export class FlatIndex implements VectorIndex {
  #data: Float32Array;
  #ids: number[] = [];
  readonly #slot = new Map<number, number>();

  constructor(readonly dimensions: number, initialCapacity = 64) {
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new LLMError({ code: 'config_invalid', message: `FlatIndex: dimensions must be a positive integer, got ${String(dimensions)}`, param: 'dimensions' });
    }
    this.#data = new Float32Array(dimensions * Math.max(1, initialCapacity));
  }

  get size(): number {
    return this.#ids.length;
  }

  has(id: number): boolean {
    return this.#slot.has(id);
  }

  add(id: number, vector: Float32Array): void {
    const d = this.dimensions;
    if (vector.length !== d) {
      throw new LLMError({ code: 'invalid_request', message: `vector has ${vector.length} dimensions, the index ${d}`, param: 'vector' });
    }
    let slot = this.#slot.get(id);
    if (slot === undefined) {
      slot = this.#ids.length;
      if ((slot + 1) * d > this.#data.length) {
        const grown = new Float32Array(this.#data.length * 2);
        grown.set(this.#data);
        this.#data = grown;
      }
      this.#ids.push(id);
      this.#slot.set(id, slot);
    }
    this.#data.set(vector, slot * d);
  }

  remove(id: number): boolean {
    const slot = this.#slot.get(id);
    if (slot === undefined) return false;
    const last = this.#ids.length - 1;
    const d = this.dimensions;
    if (slot !== last) {
      const lastId = this.#ids[last]!;
      this.#data.copyWithin(slot * d, last * d, (last + 1) * d);
      this.#ids[slot] = lastId;
      this.#slot.set(lastId, slot);
    }
    this.#ids.pop();
    this.#slot.delete(id);
    return true;
  }

  search(query: Float32Array, k: number): VectorMatch[] {
    const d = this.dimensions;
    const n = this.#ids.length;
    if (n === 0 || k < 1 || query.length !== d) return [];
    const data = this.#data;
    // Keep the best k in a small sorted array (k is tiny: 1-5).
    const best: VectorMatch[] = [];
    for (let i = 0; i < n; i++) {
      const o = i * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += data[o + j]! * query[j]!;
      if (best.length < k || s > best[best.length - 1]!.score) {
        const m = { id: this.#ids[i]!, score: s };
        let at = best.length;
        while (at > 0 && best[at - 1]!.score < s) at--;
        best.splice(at, 0, m);
        if (best.length > k) best.pop();
      }
    }
    return best;
  }

  /** Every (id, vector) pair, for moving into another index. */
  *entries(): IterableIterator<[number, Float32Array]> {
    const d = this.dimensions;
    for (let i = 0; i < this.#ids.length; i++) yield [this.#ids[i]!, this.#data.subarray(i * d, (i + 1) * d)];
  }
}
