import type { SparseVector } from './sparse-vector.js';

/** Entries kept per centroid (largest magnitudes): bounds the artifact and the decision time. */
export const CENTROID_ENTRIES = 512;

/** Keeps the features in `[start, end)`, L2-normalized. */
export function sliceBlock(x: SparseVector, block: readonly [number, number]): { index: number[]; value: number[] } {
  const index: number[] = [];
  const value: number[] = [];
  let n = 0;
  for (let k = 0; k < x.index.length; k++) {
    const i = x.index[k]!;
    if (i < block[0] || i >= block[1]) continue;
    index.push(i);
    value.push(x.value[k]!);
    n += x.value[k]! * x.value[k]!;
  }
  n = Math.sqrt(n) || 1;
  for (let k = 0; k < value.length; k++) value[k]! /= n;
  return { index, value };
}

/**
 * Cosine similarity of a prompt's features (one block) to a few sparse unit-length centroids, through
 * an inverted index: the cost is the prompt's non-zeros times the centroids sharing them.
 */
export class CentroidIndex {
  private readonly postings = new Map<number, { ids: number[]; values: number[] }>();

  constructor(
    readonly block: [number, number],
    /** Sparse unit-length centroids: [indices, values]. */
    readonly centroids: Array<[number[], number[]]>,
  ) {
    centroids.forEach(([idx, val], c) => {
      idx.forEach((i, k) => {
        let p = this.postings.get(i);
        if (!p) this.postings.set(i, (p = { ids: [], values: [] }));
        p.ids.push(c);
        p.values.push(val[k]!);
      });
    });
  }

  get size(): number {
    return this.centroids.length;
  }

  /** Cosine similarity to every centroid (no allocation: this is on the decision path). */
  similarities(x: SparseVector, out: Float64Array = new Float64Array(this.centroids.length)): Float64Array {
    const [start, end] = this.block;
    let n = 0;
    for (let k = 0; k < x.index.length; k++) {
      const i = x.index[k]!;
      if (i >= start && i < end) n += x.value[k]! * x.value[k]!;
    }
    out.fill(0);
    if (n === 0) return out;
    const inv = 1 / Math.sqrt(n);
    for (let k = 0; k < x.index.length; k++) {
      const i = x.index[k]!;
      if (i < start || i >= end) continue;
      const p = this.postings.get(i);
      if (!p) continue;
      const v = x.value[k]! * inv;
      for (let j = 0; j < p.ids.length; j++) out[p.ids[j]!]! += v * p.values[j]!;
    }
    return out;
  }

  /**
   * One centroid per group: the mean of the group's unit vectors on `block`, its largest entries kept,
   * renormalized. `groups` are the group ids (0..groupCount-1) of `vectors`.
   */
  static fit(vectors: readonly SparseVector[], groups: readonly number[], groupCount: number, block: [number, number]): CentroidIndex {
    const sums = Array.from({ length: groupCount }, () => new Map<number, number>());
    vectors.forEach((x, i) => {
      const v = sliceBlock(x, block);
      const acc = sums[groups[i]!]!;
      v.index.forEach((j, k) => acc.set(j, (acc.get(j) ?? 0) + v.value[k]!));
    });
    const centroids = sums.map((acc): [number[], number[]] => {
      const top = [...acc].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, CENTROID_ENTRIES).sort((a, b) => a[0] - b[0]);
      const n = Math.sqrt(top.reduce((s, [, v]) => s + v * v, 0)) || 1;
      return [top.map(([j]) => j), top.map(([, v]) => v / n)];
    });
    return new CentroidIndex(block, centroids);
  }
}
