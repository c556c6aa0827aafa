import { FlatIndex } from './flat-index.js';
import { USearchIndex, type USearchIndexOptions, type USearchModule } from './usearch-index.js';
import type { VectorIndex, VectorMatch } from './vector-index.js';

export interface HybridIndexOptions extends USearchIndexOptions {
  /** Entries above which the namespace moves to the ANN index. Default 1,024 (see docs/caching.md). */
  annAbove?: number;
  /** The loaded `usearch` module, or a getter for it (undefined: not (yet) available; stay exact). */
  ann?: USearchModule | (() => USearchModule | undefined);
}

/**
 * Exact search while a namespace is small, HNSW (usearch) once it grows past `annAbove` entries and the
 * module is available. Without usearch it stays exact at any size (correct, only slower).
 */
export class HybridIndex implements VectorIndex {
  #index: FlatIndex | USearchIndex;
  readonly #options: HybridIndexOptions;

  constructor(readonly dimensions: number, options: HybridIndexOptions = {}) {
    this.#options = options;
    this.#index = new FlatIndex(dimensions);
  }

  /** `flat` or `ann`: which index serves the namespace now. */
  get kind(): 'flat' | 'ann' {
    return this.#index instanceof FlatIndex ? 'flat' : 'ann';
  }

  get size(): number {
    return this.#index.size;
  }

  has(id: number): boolean {
    return this.#index.has(id);
  }

  add(id: number, vector: Float32Array): void {
    this.#index.add(id, vector);
    if (this.#index instanceof FlatIndex && this.#index.size > (this.#options.annAbove ?? 1_024)) this.#promote(this.#index);
  }

  /** Adds many (bulk loads: a restart, a new Redis client); past `annAbove` they go to usearch in one multi-threaded batch. */
  addMany(ids: readonly number[], vectors: readonly Float32Array[]): void {
    const index = this.#index;
    if (index instanceof USearchIndex) {
      index.addMany(ids, concat(vectors, this.dimensions));
      return;
    }
    if (index.size + ids.length > (this.#options.annAbove ?? 1_024) && this.#annModule()) {
      this.#promote(index, ids, vectors);
      return;
    }
    ids.forEach((id, i) => index.add(id, vectors[i]!));
  }

  remove(id: number): boolean {
    return this.#index.remove(id);
  }

  search(query: Float32Array, k: number): VectorMatch[] {
    return this.#index.search(query, k);
  }

  #annModule(): USearchModule | undefined {
    const a = this.#options.ann;
    return typeof a === 'function' ? a() : a;
  }

  #promote(flat: FlatIndex, moreIds: readonly number[] = [], moreVectors: readonly Float32Array[] = []): void {
    const mod = this.#annModule();
    if (!mod) return;
    const ann = new USearchIndex(mod, this.dimensions, this.#options);
    const ids: number[] = [];
    const vectors: Float32Array[] = [];
    for (const [id, v] of flat.entries()) {
      ids.push(id);
      vectors.push(v);
    }
    ids.push(...moreIds);
    vectors.push(...moreVectors);
    ann.addMany(ids, concat(vectors, this.dimensions));
    this.#index = ann;
  }
}

function concat(vectors: readonly Float32Array[], d: number): Float32Array {
  const out = new Float32Array(vectors.length * d);
  vectors.forEach((v, i) => out.set(v, i * d));
  return out;
}
