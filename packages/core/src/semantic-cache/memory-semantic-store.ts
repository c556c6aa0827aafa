import type { CachedAnswer } from '../cache/exact-cache.js';
import { LLMError } from '../errors/llm-error.js';
import { annModule } from './ann-loader.js';
import type { HybridIndexOptions } from './hybrid-index.js';
import type { SemanticEntry, SemanticMatch, SemanticStore, SemanticStoreLimits } from './semantic-store.js';
import { VectorCatalog, type CatalogMeta } from './vector-catalog.js';

interface MemoryMeta extends CatalogMeta {
  prompt: string;
  answer: CachedAnswer;
}

export interface MemorySemanticStoreOptions extends Partial<SemanticStoreLimits> {
  /** Vector index tuning (when to move a namespace to the ANN index, HNSW parameters). */
  index?: HybridIndexOptions;
}

/** Checks a positive-integer option, naming it in the error. */
export function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new LLMError({ code: 'config_invalid', message: `${name} must be a positive integer, got ${String(value)}`, param: name });
  }
}

/**
 * In-process semantic store (the default): vectors in per-namespace indexes, answers beside them,
 * least-recently-used eviction past `maxEntries`, TTL checked on every search.
 */
export class MemorySemanticStore implements SemanticStore {
  readonly kind: string = 'memory';
  protected readonly catalog: VectorCatalog<MemoryMeta>;
  protected readonly maxEntries: number;
  protected readonly now: () => number;
  #nextId = 1;

  constructor(options: MemorySemanticStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    checkPositiveInt('cache.semantic.maxEntries', this.maxEntries);
    this.now = options.now ?? Date.now;
    this.catalog = new VectorCatalog<MemoryMeta>({ ann: annModule, ...options.index });
  }

  /** Which index serves a namespace now (`flat` exact scan or `ann`). */
  indexKind(namespace: string): 'flat' | 'ann' | undefined {
    return this.catalog.indexKind(namespace);
  }

  /** Next id to assign (subclasses that persist ids move it past what they loaded). */
  protected claimId(at?: number): number {
    if (at !== undefined) {
      this.#nextId = Math.max(this.#nextId, at + 1);
      return at;
    }
    return this.#nextId++;
  }

  protected meta(entry: SemanticEntry): MemoryMeta {
    return {
      namespace: entry.namespace,
      tenant: entry.tenant,
      ...(entry.user !== undefined ? { user: entry.user } : {}),
      expiresAt: entry.expiresAt,
      prompt: entry.prompt,
      answer: structuredClone(entry.answer),
    };
  }

  async add(entry: SemanticEntry): Promise<number> {
    const id = this.claimId();
    this.catalog.put(id, this.meta(entry), entry.vector);
    await this.dropped(await this.evict());
    return id;
  }

  /** Bulk add (warm-up, benchmarks): one index batch per namespace, then eviction. Returns the ids. */
  async addMany(entries: readonly SemanticEntry[]): Promise<number[]> {
    const items = entries.map((entry) => ({ id: this.claimId(), meta: this.meta(entry), vector: entry.vector }));
    this.catalog.putMany(items);
    await this.dropped(await this.evict());
    return items.map((i) => i.id);
  }

  /** Called with the ids the catalog dropped on its own (expired, evicted), for persistent subclasses. */
  protected async dropped(_ids: number[]): Promise<void> {}

  /** Drops expired entries when full, then the least recently used until within the cap; returns the ids dropped. */
  protected async evict(): Promise<number[]> {
    const dropped: number[] = [];
    if (this.catalog.size <= this.maxEntries) return dropped;
    const now = this.now();
    for (const id of this.catalog.select((m) => m.expiresAt <= now)) if (this.catalog.remove(id)) dropped.push(id);
    while (this.catalog.size > this.maxEntries) {
      const id = this.catalog.oldest();
      if (id === undefined || !this.catalog.remove(id)) break;
      dropped.push(id);
    }
    return dropped;
  }

  async search(namespace: string, vector: Float32Array, k: number): Promise<SemanticMatch[]> {
    const { matches, expired } = this.catalog.search(namespace, vector, k, this.now());
    if (expired.length > 0) await this.dropped(expired);
    return matches.map((m) => {
      const meta = this.catalog.get(m.id)!;
      // The stored answer itself: a lookup compares several candidates but copies only the one it serves.
      return { id: m.id, score: m.score, prompt: meta.prompt, answer: meta.answer };
    });
  }

  async touch(id: number): Promise<void> {
    if (this.catalog.get(id)) this.catalog.touch(id);
  }

  async delete(id: number): Promise<boolean> {
    return this.catalog.remove(id);
  }

  async eraseTenant(tenant: string): Promise<number> {
    return this.#removeAll(this.catalog.select((m) => m.tenant === tenant));
  }

  async eraseUser(tenant: string, user: string): Promise<number> {
    return this.#removeAll(this.catalog.select((m) => m.tenant === tenant && m.user === user));
  }

  async #removeAll(ids: number[]): Promise<number> {
    let n = 0;
    for (const id of ids) if (await this.delete(id)) n++;
    return n;
  }

  async clear(): Promise<void> {
    this.catalog.clear();
  }

  async size(): Promise<number> {
    const now = this.now();
    const expired = this.catalog.select((m) => m.expiresAt <= now);
    for (const id of expired) this.catalog.remove(id);
    await this.dropped(expired);
    return this.catalog.size;
  }

  async close(): Promise<void> {}
}
