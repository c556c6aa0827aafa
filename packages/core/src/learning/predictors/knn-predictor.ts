import type { SparseVector } from '../features/sparse-vector.js';
import type { PredictorState, QualityPredictor, TrainingSet } from './types.js';
import { meanQuality } from './types.js';

/** Keeps only the features in `[start, end)`, L2-normalized (cosine similarity = dot product). */
function slice(x: SparseVector, block: [number, number]): SparseVector {
  const idx: number[] = [];
  const val: number[] = [];
  let n = 0;
  for (let k = 0; k < x.index.length; k++) {
    const i = x.index[k]!;
    if (i < block[0] || i >= block[1]) continue;
    idx.push(i);
    val.push(x.value[k]!);
    n += x.value[k]! * x.value[k]!;
  }
  n = Math.sqrt(n) || 1;
  return { index: Int32Array.from(idx), value: Float32Array.from(val, (v) => v / n) };
}

/**
 * k nearest training prompts by cosine similarity on one feature block (the embedding, or hashed
 * TF-IDF), averaging their observed quality per model with similarity weights, smoothed toward the
 * model's mean by one pseudo-neighbour. Lookups use an inverted index over the training vectors.
 */
export class KnnPredictor implements QualityPredictor {
  readonly kind = 'knn' as const;
  readonly outputs: number;
  private readonly postings = new Map<number, { rows: number[]; values: number[] }>();
  private readonly scores: Float64Array;

  constructor(
    readonly k: number,
    readonly block: [number, number],
    readonly prior: number[],
    readonly vectors: SparseVector[],
    readonly quality: number[][],
  ) {
    this.outputs = prior.length;
    this.scores = new Float64Array(vectors.length);
    vectors.forEach((v, r) => {
      for (let j = 0; j < v.index.length; j++) {
        let p = this.postings.get(v.index[j]!);
        if (!p) this.postings.set(v.index[j]!, (p = { rows: [], values: [] }));
        p.rows.push(r);
        p.values.push(v.value[j]!);
      }
    });
  }

  predict(x: SparseVector, out = new Float64Array(this.outputs)): Float64Array {
    const q = slice(x, this.block);
    const s = this.scores;
    s.fill(0);
    for (let j = 0; j < q.index.length; j++) {
      const p = this.postings.get(q.index[j]!);
      if (!p) continue;
      const v = q.value[j]!;
      for (let t = 0; t < p.rows.length; t++) s[p.rows[t]!]! += v * p.values[t]!;
    }
    // Top k by partial selection.
    const top: number[] = [];
    for (let r = 0; r < s.length; r++) {
      if (s[r]! <= 0) continue;
      if (top.length < this.k) {
        top.push(r);
        if (top.length === this.k) top.sort((a, b) => s[a]! - s[b]!);
      } else if (s[r]! > s[top[0]!]!) {
        top[0] = r;
        for (let i = 0; i + 1 < top.length && s[top[i]!]! > s[top[i + 1]!]!; i++) [top[i], top[i + 1]] = [top[i + 1]!, top[i]!];
      }
    }
    for (let m = 0; m < this.outputs; m++) {
      let num = this.prior[m]!, den = 1;
      for (const r of top) {
        const y = this.quality[r]![m]!;
        if (Number.isNaN(y)) continue;
        num += s[r]! * y * 4;
        den += s[r]! * 4;
      }
      out[m] = num / den;
    }
    return out;
  }

  toJSON(): PredictorState {
    return {
      kind: 'knn',
      k: this.k,
      block: this.block,
      outputs: this.outputs,
      prior: this.prior,
      vectors: this.vectors.map((v) => [Array.from(v.index), Array.from(v.value, (x) => Number(x.toPrecision(4)))]),
      quality: this.quality.map((r) => r.map((y) => (Number.isNaN(y) ? null : y))),
    };
  }

  static fromJSON(s: Extract<PredictorState, { kind: 'knn' }>): KnnPredictor {
    return new KnnPredictor(
      s.k,
      s.block,
      s.prior,
      s.vectors.map(([i, v]) => ({ index: Int32Array.from(i), value: Float32Array.from(v) })),
      s.quality.map((r) => r.map((y) => y ?? NaN)),
    );
  }
}

export function trainKnn(train: TrainingSet, block: [number, number], k = 20): KnnPredictor {
  return new KnnPredictor(k, block, meanQuality(train.y, train.outputs), train.x.map((x) => slice(x, block)), train.y.map((r) => [...r]));
}
