import { importOptional } from '../util/optional-import.js';
import type { VectorIndex, VectorMatch } from './vector-index.js';

/** The few parts of `usearch` (2.x) used here. */
interface USearchIndexNative {
  add(keys: bigint | BigUint64Array, vectors: Float32Array, threads?: number): void;
  remove(keys: bigint): number | number[];
  contains(key: bigint): boolean;
  search(vector: Float32Array, k: number, threads?: number): { keys: BigUint64Array; distances: Float32Array };
  size(): number;
  reserve?(n: number): void;
  capacity?(): number;
}
export interface USearchModule {
  Index: new (options: { dimensions: number; metric: string; connectivity?: number; expansion_add?: number; expansion_search?: number; quantization?: string }) => USearchIndexNative;
}

export interface USearchIndexOptions {
  /** Graph degree (HNSW M). Default 16. */
  connectivity?: number;
  /** Candidates considered while inserting / searching (HNSW efConstruction / ef). Defaults 128 / 64. */
  expansionAdd?: number;
  expansionSearch?: number;
}

/** Loads `usearch` (optional peer dependency; its npm tarball ships prebuilt binaries). */
export function loadUSearch(importer?: (specifier: string) => Promise<unknown>): Promise<USearchModule> {
  return importOptional<{ default?: USearchModule } & Partial<USearchModule>>('usearch', {
    engine: 'semantic cache ANN index',
    install: 'usearch@2',
    ...(importer ? { importer } : {}),
  }).then((m) => (m.Index ? (m as USearchModule) : m.default!));
}

/**
 * Approximate nearest neighbours (HNSW) over inner product, from `usearch`. Search cost grows with
 * log(n) instead of n; recall is high but not perfect, so small sets stay on the exact `FlatIndex`.
 */
export class USearchIndex implements VectorIndex {
  readonly #index: USearchIndexNative;
  #capacity = 0;

  constructor(mod: USearchModule, readonly dimensions: number, options: USearchIndexOptions = {}) {
    this.#index = new mod.Index({
      dimensions,
      metric: 'ip',
      connectivity: options.connectivity ?? 16,
      expansion_add: options.expansionAdd ?? 128,
      expansion_search: options.expansionSearch ?? 64,
    });
  }

  get size(): number {
    return this.#index.size();
  }

  has(id: number): boolean {
    return this.#index.contains(BigInt(id));
  }

  #reserve(n: number): void {
    if (n <= this.#capacity || !this.#index.reserve) return;
    this.#capacity = Math.max(n, this.#capacity * 2, 1024);
    this.#index.reserve(this.#capacity);
  }

  add(id: number, vector: Float32Array): void {
    const key = BigInt(id);
    if (this.#index.contains(key)) this.#index.remove(key);
    this.#reserve(this.size + 1);
    this.#index.add(key, vector, 1); // one vector: no thread pool
  }

  /** Adds many at once (usearch inserts a batch on several threads). */
  addMany(ids: readonly number[], vectors: Float32Array): void {
    if (ids.length === 0) return;
    this.#reserve(this.size + ids.length);
    this.#index.add(BigUint64Array.from(ids, (i) => BigInt(i)), vectors, 0); // a batch: every core
  }

  remove(id: number): boolean {
    const removed = this.#index.remove(BigInt(id));
    return (Array.isArray(removed) ? removed[0] ?? 0 : removed) > 0;
  }

  search(query: Float32Array, k: number): VectorMatch[] {
    if (this.size === 0 || k < 1) return [];
    // One query: on the calling thread (the default, 0, dispatches to a pool: slower and jittery under load).
    const r = this.#index.search(query, k, 1);
    const out: VectorMatch[] = [];
    for (let i = 0; i < r.keys.length; i++) {
      // usearch's `ip` distance is 1 - dot product.
      out.push({ id: Number(r.keys[i]!), score: 1 - r.distances[i]! });
    }
    return out;
  }
}
