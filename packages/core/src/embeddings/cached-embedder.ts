import { LRUCache } from 'lru-cache';
import type { Embedder } from './embedder.js';

export interface CachedEmbedderOptions {
  /** Most texts remembered (least recently used goes first). Default 10,000 (~20 MB at 512 dimensions). */
  maxEntries?: number;
}

/**
 * Remembers the vectors of recent texts (an LRU keyed by the exact text), so a repeated prompt is not
 * embedded again. Only the texts not in the cache go to the inner embedder, in one call.
 */
export class CachedEmbedder implements Embedder {
  readonly id: string;
  /** The inner embedder's (and its `inputLength`). */
  readonly maxInputChars?: number;
  readonly inputLength?: (text: string) => number;
  readonly #lru: LRUCache<string, Float32Array>;
  hits = 0;
  misses = 0;

  constructor(private readonly inner: Embedder, options: CachedEmbedderOptions = {}) {
    this.id = inner.id;
    if (inner.maxInputChars !== undefined) this.maxInputChars = inner.maxInputChars;
    if (inner.inputLength) this.inputLength = inner.inputLength.bind(inner);
    this.#lru = new LRUCache({ max: options.maxEntries ?? 10_000 });
  }

  async embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]> {
    const out: Array<Float32Array | undefined> = texts.map((t) => this.#lru.get(t));
    const missing = [...new Set(texts.filter((_, i) => out[i] === undefined))];
    this.hits += texts.length - texts.filter((_, i) => out[i] === undefined).length;
    this.misses += missing.length;
    if (missing.length > 0) {
      const vectors = await this.inner.embed(missing, options);
      missing.forEach((t, i) => this.#lru.set(t, vectors[i]!));
      for (let i = 0; i < texts.length; i++) out[i] ??= this.#lru.get(texts[i]!) ?? vectors[missing.indexOf(texts[i]!)]!;
    }
    // Copies: callers may not corrupt the cached vectors.
    return out.map((v) => Float32Array.from(v!));
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}
