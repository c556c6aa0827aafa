/** One search result: an entry id and its cosine similarity to the query (vectors are unit length). */
export interface VectorMatch {
  id: number;
  score: number;
}

/** Nearest-neighbour search over unit vectors of one namespace. Ids are non-negative safe integers. */
export interface VectorIndex {
  readonly size: number;
  add(id: number, vector: Float32Array): void;
  remove(id: number): boolean;
  has(id: number): boolean;
  /** The `k` most similar entries, best first. */
  search(query: Float32Array, k: number): VectorMatch[];
}
