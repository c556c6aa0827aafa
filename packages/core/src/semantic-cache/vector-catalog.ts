import { LLMError } from '../errors/llm-error.js';
import { HybridIndex, type HybridIndexOptions } from './hybrid-index.js';
import type { VectorMatch } from './vector-index.js';

/** What the catalog keeps about each entry besides its vector. */
export interface CatalogMeta {
  namespace: string;
  tenant: string;
  user?: string;
  expiresAt: number;
  /** What the entry holds in process, in bytes (`semanticEntryBytes`), when the store bounds bytes; summed in `bytes`. */
  bytes?: number;
}

/**
 * The in-process part of every semantic store: one vector index per namespace, entry metadata, and
 * recency order (a Map re-inserted on use) for least-recently-used eviction. TTL is checked on every
 * search: an expired entry found is removed and never returned.
 */
export class VectorCatalog<M extends CatalogMeta = CatalogMeta> {
  readonly #indexes = new Map<string, HybridIndex>();
  /** id -> meta, oldest use first. */
  readonly #meta = new Map<number, M>();
  #bytes = 0;

  constructor(private readonly indexOptions: HybridIndexOptions = {}) {}

  get size(): number {
    return this.#meta.size;
  }

  /** The sum of the entries' `bytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  get(id: number): M | undefined {
    return this.#meta.get(id);
  }

  ids(): IterableIterator<number> {
    return this.#meta.keys();
  }

  /** Which index kind serves a namespace (`flat`/`ann`), for stats and tests. */
  indexKind(namespace: string): 'flat' | 'ann' | undefined {
    return this.#indexes.get(namespace)?.kind;
  }

  put(id: number, meta: M, vector: Float32Array): void {
    this.remove(id);
    let index = this.#indexes.get(meta.namespace);
    if (!index) {
      index = new HybridIndex(vector.length, this.indexOptions);
      this.#indexes.set(meta.namespace, index);
    }
    if (index.dimensions !== vector.length) {
      // The embedder is part of the namespace, so this means two embedders claim the same id.
      throw new LLMError({ code: 'invalid_request', message: `vector has ${vector.length} dimensions, namespace ${meta.namespace} holds ${index.dimensions}`, param: 'vector' });
    }
    index.add(id, vector);
    this.#meta.set(id, meta);
    this.#bytes += meta.bytes ?? 0;
  }

  /** Bulk `put` (loading a store): one index batch per namespace; the recency order is the items' (first = least recent). */
  putMany(items: ReadonlyArray<{ id: number; meta: M; vector: Float32Array }>): void {
    const groups = new Map<string, Array<{ id: number; meta: M; vector: Float32Array }>>();
    for (const item of items) {
      this.remove(item.id);
      const g = groups.get(item.meta.namespace);
      if (g) g.push(item);
      else groups.set(item.meta.namespace, [item]);
    }
    // Every group checked before any is added (a bad batch adds nothing).
    for (const [namespace, group] of groups) {
      const dimensions = this.#indexes.get(namespace)?.dimensions ?? group[0]!.vector.length;
      const bad = group.find((g) => g.vector.length !== dimensions);
      if (bad) {
        throw new LLMError({ code: 'invalid_request', message: `vector has ${bad.vector.length} dimensions, namespace ${namespace} holds ${dimensions}`, param: 'vector' });
      }
    }
    for (const [namespace, group] of groups) {
      let index = this.#indexes.get(namespace);
      if (!index) {
        index = new HybridIndex(group[0]!.vector.length, this.indexOptions);
        this.#indexes.set(namespace, index);
      }
      index.addMany(
        group.map((g) => g.id),
        group.map((g) => g.vector),
      );
    }
    // Metas in the items' order, not the namespaces': a store loaded oldest use first evicts in that order.
    for (const item of items) {
      const prev = this.#meta.get(item.id); // (an id given twice: the last wins, at its place)
      if (prev) {
        this.#meta.delete(item.id);
        this.#bytes -= prev.bytes ?? 0;
      }
      this.#meta.set(item.id, item.meta);
      this.#bytes += item.meta.bytes ?? 0;
    }
  }

  remove(id: number): boolean {
    const meta = this.#meta.get(id);
    if (!meta) return false;
    this.#meta.delete(id);
    this.#bytes -= meta.bytes ?? 0;
    const index = this.#indexes.get(meta.namespace);
    index?.remove(id);
    if (index && index.size === 0) this.#indexes.delete(meta.namespace);
    return true;
  }

  /** Marks an entry used (moves it to the young end of the eviction order). */
  touch(id: number): void {
    const meta = this.#meta.get(id);
    if (!meta) return;
    this.#meta.delete(id);
    this.#meta.set(id, meta);
  }

  /** The least recently used id. */
  oldest(): number | undefined {
    return this.#meta.keys().next().value;
  }

  /** Up to `k` live matches in the namespace, best first; expired ones met on the way are removed (returned in `expired`). */
  search(namespace: string, vector: Float32Array, k: number, now: number): { matches: VectorMatch[]; expired: number[] } {
    const index = this.#indexes.get(namespace);
    const expired: number[] = [];
    if (!index || index.dimensions !== vector.length) return { matches: [], expired };
    for (let round = 0; round < 4; round++) {
      const found = index.search(vector, k + expired.length);
      const live: VectorMatch[] = [];
      let sawExpired = false;
      for (const m of found) {
        const meta = this.#meta.get(m.id);
        if (!meta) continue;
        if (meta.expiresAt <= now) {
          expired.push(m.id);
          this.remove(m.id);
          sawExpired = true;
        } else live.push(m);
      }
      if (!sawExpired || live.length >= k) return { matches: live.slice(0, k), expired };
    }
    return { matches: index.search(vector, k).filter((m) => (this.#meta.get(m.id)?.expiresAt ?? 0) > now), expired };
  }

  /** Ids matching a predicate (tenant or user erasure, expiry sweeps). */
  select(predicate: (meta: M) => boolean): number[] {
    const out: number[] = [];
    for (const [id, meta] of this.#meta) if (predicate(meta)) out.push(id);
    return out;
  }

  clear(): void {
    this.#indexes.clear();
    this.#meta.clear();
    this.#bytes = 0;
  }
}
