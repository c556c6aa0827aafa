import { answerBytes, type CachedAnswer } from '../cache/exact-cache.js';
import { LLMError } from '../errors/llm-error.js';
import { annModule } from './ann-loader.js';
import type { HybridIndexOptions } from './hybrid-index.js';
import type { SemanticEntry, SemanticMatch, SemanticStore, SemanticStoreLimits } from './semantic-store.js';
import { VectorCatalog, type CatalogMeta } from './vector-catalog.js';

export interface MemoryMeta extends CatalogMeta {
  prompt: string;
  answer: CachedAnswer;
}

export interface MemorySemanticStoreOptions extends Partial<SemanticStoreLimits> {
  /** Vector index tuning (when to move a namespace to the ANN index, HNSW parameters). */
  index?: HybridIndexOptions;
}

/**
 * About how many bytes a semantic entry holds in process: its answer as the exact cache counts one (`answerBytes`:
 * text, reasoning, tool calls, log probabilities, 256 for the rest) with the question as its key, the namespace,
 * tenant and user key, and the vector. What `maxSizeBytes` bounds.
 */
export function semanticEntryBytes(entry: Pick<SemanticEntry, 'namespace' | 'tenant' | 'user' | 'prompt' | 'answer'> & { vector: { byteLength: number } }): number {
  // The question counts as the answer's key; the namespace and the user key are ASCII (a URI-encoded tenant and hashes).
  return answerBytes(entry.answer, entry.prompt) + entry.namespace.length + Buffer.byteLength(entry.tenant, 'utf8') + (entry.user?.length ?? 0) + entry.vector.byteLength;
}

/** Checks a positive-integer option, naming it in the error. */
export function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new LLMError({ code: 'config_invalid', message: `${name} must be a positive integer, got ${String(value)}`, param: name });
  }
}

/**
 * In-process semantic store (the default): vectors in per-namespace indexes, answers beside them,
 * least-recently-used eviction past `maxEntries` or `maxSizeBytes` (default 64 MB), TTL checked on every search.
 * An entry larger than `maxSizeBytes` on its own is not stored (`add` returns 0, an id that names nothing).
 */
export class MemorySemanticStore implements SemanticStore {
  readonly kind: string = 'memory';
  protected readonly catalog: VectorCatalog<MemoryMeta>;
  protected readonly maxEntries: number;
  readonly maxSizeBytes: number;
  protected readonly now: () => number;
  #nextId = 1;

  constructor(options: MemorySemanticStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    checkPositiveInt('cache.semantic.maxEntries', this.maxEntries);
    this.maxSizeBytes = options.maxSizeBytes ?? 64_000_000;
    checkPositiveInt('cache.semantic.maxSizeBytes', this.maxSizeBytes);
    this.now = options.now ?? Date.now;
    this.catalog = new VectorCatalog<MemoryMeta>({ ann: annModule, ...options.index });
  }

  /** What the live and not yet swept entries hold, in bytes (`semanticEntryBytes`): at most `maxSizeBytes`. */
  get sizeBytes(): number {
    return this.catalog.bytes;
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
      bytes: semanticEntryBytes(entry),
    };
  }

  /** Whether an entry is larger than `maxSizeBytes` on its own (never stored: it would evict everything else and itself). */
  protected oversized(entry: SemanticEntry): boolean {
    return semanticEntryBytes(entry) > this.maxSizeBytes;
  }

  async add(entry: SemanticEntry): Promise<number> {
    const meta = this.meta(entry);
    if (meta.bytes! > this.maxSizeBytes) return 0;
    const id = this.claimId();
    this.catalog.put(id, meta, entry.vector);
    await this.dropped(await this.evict());
    return id;
  }

  /** Bulk add (warm-up, benchmarks): one index batch per namespace, then eviction. Returns the ids (0: too large, not stored). */
  async addMany(entries: readonly SemanticEntry[]): Promise<number[]> {
    const items = entries.map((entry) => {
      const meta = this.meta(entry);
      return { id: meta.bytes! > this.maxSizeBytes ? 0 : this.claimId(), meta, vector: entry.vector };
    });
    this.catalog.putMany(items.filter((i) => i.id !== 0));
    await this.dropped(await this.evict());
    return items.map((i) => i.id);
  }

  /** Called with the ids the catalog dropped on its own (expired, evicted), for persistent subclasses. */
  protected async dropped(_ids: number[]): Promise<void> {}

  /** Drops expired entries when full, then the least recently used until within both caps; returns the ids dropped. */
  protected async evict(): Promise<number[]> {
    const dropped: number[] = [];
    const full = (): boolean => this.catalog.size > this.maxEntries || this.catalog.bytes > this.maxSizeBytes;
    if (!full()) return dropped;
    const now = this.now();
    for (const id of this.catalog.select((m) => m.expiresAt <= now)) if (this.catalog.remove(id)) dropped.push(id);
    while (full()) {
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
