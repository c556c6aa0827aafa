import { CentroidIndex } from '../features/centroid-index.js';
import type { SparseVector } from '../features/sparse-vector.js';
import type { PredictorState, QualityPredictor, TrainingSet } from './types.js';

/** Share of training prompts allowed below the full-trust similarity (the guard's `high` is this quantile). */
export const GUARD_QUANTILE = 0.01;

/**
 * Out-of-distribution guard around a predictor: a prompt's highest cosine similarity to the training
 * tasks' centroids (one feature block) tells how much it looks like what the predictor was trained
 * on. At or above `high` (the 1st percentile of the training prompts' own similarities) the inner
 * predictor is used as is; at or below `low` (half of it) the prediction is each model's mean training
 * quality (the prior); in between, a linear blend. A prompt unlike anything seen gets the prior's
 * average-case answer instead of a confident extrapolation.
 */
export class GuardedPredictor implements QualityPredictor {
  readonly outputs: number;
  private readonly sims: Float64Array<ArrayBufferLike>;

  constructor(
    readonly inner: QualityPredictor,
    readonly index: CentroidIndex,
    readonly prior: number[],
    readonly low: number,
    readonly high: number,
  ) {
    this.outputs = inner.outputs;
    this.sims = new Float64Array(index.size);
  }

  get kind(): QualityPredictor['kind'] {
    return this.inner.kind;
  }

  /** 1 = in distribution (trust the inner predictor), 0 = out of it (use the prior). */
  trust(x: SparseVector): number {
    const s = this.index.similarities(x, this.sims);
    let max = 0;
    for (let i = 0; i < s.length; i++) max = Math.max(max, s[i]!);
    if (max >= this.high) return 1;
    if (max <= this.low) return 0;
    return (max - this.low) / (this.high - this.low);
  }

  predict(x: SparseVector, out = new Float64Array(this.outputs)): Float64Array {
    const w = this.trust(x);
    if (w === 0) {
      for (let m = 0; m < this.outputs; m++) out[m] = this.prior[m]!;
      return out;
    }
    this.inner.predict(x, out);
    if (w < 1) for (let m = 0; m < this.outputs; m++) out[m] = w * out[m]! + (1 - w) * this.prior[m]!;
    return out;
  }

  toJSON(): PredictorState {
    return {
      kind: 'guarded',
      inner: this.inner.toJSON(),
      block: this.index.block,
      centroids: this.index.centroids.map(([i, v]) => [i, v.map((x) => Number(x.toPrecision(4)))]),
      prior: this.prior,
      low: this.low,
      high: this.high,
    };
  }
}

/**
 * Fits the guard on the inner predictor's training rows: centroids per task (`taskOf`) on `block`, the
 * training prompts' highest similarities, `high` = their `GUARD_QUANTILE` quantile, `low` = half of it.
 */
export function fitGuard(inner: QualityPredictor, train: TrainingSet, taskOf: readonly string[], block: [number, number], prior: number[]): GuardedPredictor {
  const tasks = [...new Set(taskOf)].sort();
  const tIndex = new Map(tasks.map((t, i) => [t, i]));
  const index = CentroidIndex.fit(train.x, taskOf.map((t) => tIndex.get(t)!), tasks.length, block);
  const best = train.x.map((x) => Math.max(0, ...index.similarities(x))).sort((a, b) => a - b);
  const high = best[Math.floor(GUARD_QUANTILE * (best.length - 1))] ?? 0;
  return new GuardedPredictor(inner, index, prior, high / 2, high);
}
