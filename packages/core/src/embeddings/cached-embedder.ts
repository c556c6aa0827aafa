import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { EmbedOptions, Embedder, EmbedderCoverage } from './embedder.js';

export interface CachedEmbedderOptions {
  /** Most texts remembered (least recently used goes first). Default 10,000 (~20 MB at 512 dimensions). */
  maxEntries?: number;
}

/**
 * The cache key of a text: SHA-256 of its UTF-16 code units (lossless: a lone surrogate and U+FFFD differ, as they
 * would not in UTF-8), base64. 44 characters whatever the text's length, so an entry costs its vector, not its text;
 * hashing 100 KB takes ~0.2 ms, far below embedding it. With a `partition` (`EmbedOptions`), the hash starts with
 * its length and itself, so a text of one partition never keys another's.
 */
function textKey(text: string, partition: string | undefined): string {
  const hash = createHash('sha256');
  if (partition !== undefined) hash.update(`${partition.length}:`).update(partition, 'utf16le');
  return hash.update(text, 'utf16le').digest('base64');
}

/**
 * Remembers the vectors of recent texts (an LRU keyed by a SHA-256 of the exact text: memory per entry does not grow
 * with the text), so a repeated prompt is not embedded again. Only the texts not in the cache go to the inner
 * embedder, in one call. A text is reused within its `partition` only (`EmbedOptions`: the semantic cache's and the
 * prefetcher's tenant): a cached vector answers at once where embedding takes a model run or a provider call, so a
 * cache shared by tenants would let one time whether another just sent a text.
 */
export class CachedEmbedder implements Embedder {
  readonly id: string;
  /** The inner embedder's (and its `inputLength`). */
  readonly maxInputChars?: number;
  readonly inputLength?: (text: string) => number;
  /** The inner embedder's. */
  readonly coverage?: (text: string, cased?: string) => EmbedderCoverage | undefined;
  /** The inner embedder's. */
  readonly prepare?: () => Promise<void>;
  readonly #lru: LRUCache<string, Float32Array>;
  hits = 0;
  misses = 0;

  constructor(private readonly inner: Embedder, options: CachedEmbedderOptions = {}) {
    this.id = inner.id;
    if (inner.maxInputChars !== undefined) this.maxInputChars = inner.maxInputChars;
    if (inner.inputLength) this.inputLength = inner.inputLength.bind(inner);
    if (inner.coverage) this.coverage = inner.coverage.bind(inner);
    if (inner.prepare) this.prepare = inner.prepare.bind(inner);
    this.#lru = new LRUCache({ max: options.maxEntries ?? 10_000 });
  }

  async embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]> {
    const partition = options?.partition;
    const keys = texts.map((t) => textKey(t, partition));
    const out: Array<Float32Array | undefined> = keys.map((k) => this.#lru.get(k));
    // The texts to embed, once per distinct key, by key.
    const missing = new Map<string, string>();
    for (let i = 0; i < texts.length; i++) if (out[i] === undefined && !missing.has(keys[i]!)) missing.set(keys[i]!, texts[i]!);
    this.hits += out.filter((v) => v !== undefined).length;
    this.misses += missing.size;
    if (missing.size > 0) {
      const vectors = await this.inner.embed([...missing.values()], options);
      const byKey = new Map<string, Float32Array>();
      let j = 0;
      for (const k of missing.keys()) {
        byKey.set(k, vectors[j]!);
        this.#lru.set(k, vectors[j++]!);
      }
      for (let i = 0; i < texts.length; i++) out[i] ??= byKey.get(keys[i]!);
    }
    // Copies: callers may not corrupt the cached vectors.
    return out.map((v) => Float32Array.from(v!));
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}
