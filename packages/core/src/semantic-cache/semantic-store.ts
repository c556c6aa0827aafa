import type { CachedAnswer } from '../cache/exact-cache.js';

/** One cached question and answer, with the vector of the question. */
export interface SemanticEntry {
  /** The scope hash: tenant, model set, sampling parameters, context (see `semanticNamespace`). */
  namespace: string;
  tenant: string;
  /** End user's key (`userKey`: SHA-256 of the request's `user`, fixed size), for per-user erasure. */
  user?: string;
  /** The embedded text (the last user message). */
  prompt: string;
  /** Unit-length embedding of `prompt`. */
  vector: Float32Array;
  answer: CachedAnswer;
  /** Epoch ms after which the entry is never served. */
  expiresAt: number;
}

export interface SemanticMatch {
  id: number;
  /** Cosine similarity of the query and the stored prompt. */
  score: number;
  prompt: string;
  answer: CachedAnswer;
}

/**
 * Where semantic-cache entries live. Every method is namespace- or tenant-scoped; `search` never returns
 * an entry of another namespace, nor an expired one.
 */
export interface SemanticStore {
  readonly kind: string;
  /**
   * The store's bound on the bytes its entries hold in process (`semanticEntryBytes`), when it has one: an entry
   * larger on its own is not stored (`SemanticCache.store` says so: false, counted in `bypassed`).
   */
  readonly maxSizeBytes?: number;
  /** Stores an entry (evicting the least recently used past the store's cap); returns its id. */
  add(entry: SemanticEntry): Promise<number>;
  /**
   * The `k` most similar live entries of `namespace`, best first. Does not count as a use (see `touch`).
   * The answers may be the store's own objects: callers must not modify them (`SemanticCache` serves a copy).
   */
  search(namespace: string, vector: Float32Array, k: number): Promise<SemanticMatch[]>;
  /** Marks an entry as used (it was served), for least-recently-used eviction. Stores without recency omit it. */
  touch?(id: number): Promise<void>;
  delete(id: number): Promise<boolean>;
  /** Right to erasure: deletes every entry of a tenant; returns how many. */
  eraseTenant(tenant: string): Promise<number>;
  /** Right to erasure: deletes every entry a user of a tenant caused; returns how many. */
  eraseUser(tenant: string, user: string): Promise<number>;
  clear(): Promise<void>;
  /** Live entries. */
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface SemanticStoreLimits {
  /** Most entries kept; past it the least recently used goes. */
  maxEntries: number;
  /**
   * Bound on the bytes the entries held in process take (`semanticEntryBytes`: question, answer, user key, vector):
   * past it the least recently used go. The memory and SQLite stores (which hold every entry in process); the Redis
   * store holds only vectors in process, bounded by `maxEntries`. Default 64 MB.
   */
  maxSizeBytes?: number;
  /** Clock (epoch ms). */
  now?: () => number;
}
