import type { SparseVector } from '../features/sparse-vector.js';

export type PredictorKind = 'prior' | 'logistic' | 'knn' | 'mf' | 'mlp' | 'ensemble' | 'task' | 'stack' | 'gain' | 'gain-mlp';

/** Per-model probability of a good answer for one prompt's features. */
export interface QualityPredictor {
  readonly kind: PredictorKind;
  /** Number of models (outputs). */
  readonly outputs: number;
  /** Writes one value in [0,1] per model into `out` (allocated when absent) and returns it. */
  predict(x: SparseVector, out?: Float64Array): Float64Array;
  /** JSON-safe state; `loadPredictor` rebuilds the predictor from it. */
  toJSON(): PredictorState;
}

export type PredictorState =
  | { kind: 'prior'; mean: number[] }
  | { kind: 'logistic'; dim: number; outputs: number; weights: SparseWeights; bias: number[] }
  | TwoLayerState
  | { kind: 'ensemble'; members: PredictorState[] }
  | { kind: 'bag'; members: PredictorState[] }
  | { kind: 'task'; block: [number, number]; tasks: string[]; temperature: number; quality: number[][]; centroids: Array<[number[], number[]]> }
  | { kind: 'guarded'; inner: PredictorState; block: [number, number]; centroids: Array<[number[], number[]]>; prior: number[]; low: number; high: number }
  | { kind: 'gain'; dim: number; weak: number; strong: number; weights: SparseWeights; bias: number[] }
  | { kind: 'gain-mlp'; weak: number; strong: number; net: TwoLayerState }
  | { kind: 'stack'; members: PredictorState[]; meta: Array<{ weights: number[]; bias: number }> }
  /** `quality`: the training prompts' outcomes, `null` where one is missing (NaN in memory; JSON has no NaN). */
  | { kind: 'knn'; k: number; block: [number, number]; outputs: number; prior: number[]; vectors: Array<[number[], number[]]>; quality: Array<Array<number | null>> };

/** State of a `mf` / `mlp` network (also the network inside `gain-mlp`). */
export type TwoLayerState = { kind: 'mf' | 'mlp'; dim: number; hidden: number; outputs: number; activation: 'relu' | 'linear'; w1: SparseWeights; b1: number[]; w2: number[]; b2: number[] };

/** Row-major weights (dim x cols) stored by non-zero rows only: `rows[i]` is the row index of `values[i]`. */
export interface SparseWeights {
  cols: number;
  rows: number[];
  values: number[][];
}

/** Training data for the predictors: features and per-model quality (NaN = unknown, masked out). */
export interface TrainingSet {
  x: SparseVector[];
  y: number[][];
  dim: number;
  outputs: number;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Mean quality per model over the known outcomes (0.5 when a model has none). */
export function meanQuality(y: readonly number[][], outputs: number): number[] {
  const s = new Float64Array(outputs), n = new Float64Array(outputs);
  for (const row of y) {
    for (let m = 0; m < outputs; m++) {
      const v = row[m]!;
      if (!Number.isNaN(v)) {
        s[m]! += v;
        n[m]!++;
      }
    }
  }
  return Array.from(s, (v, m) => (n[m]! > 0 ? v / n[m]! : 0.5));
}

export function packWeights(w: Float32Array, dim: number, cols: number, digits = 5): SparseWeights {
  const rows: number[] = [];
  const values: number[][] = [];
  for (let r = 0; r < dim; r++) {
    let nz = false;
    for (let c = 0; c < cols; c++) if (w[r * cols + c] !== 0) nz = true;
    if (!nz) continue;
    rows.push(r);
    values.push(Array.from(w.subarray(r * cols, (r + 1) * cols), (v) => Number(v.toPrecision(digits))));
  }
  return { cols, rows, values };
}

export function unpackWeights(s: SparseWeights, dim: number): Float32Array {
  const w = new Float32Array(dim * s.cols);
  s.rows.forEach((r, i) => w.set(s.values[i]!, r * s.cols));
  return w;
}
