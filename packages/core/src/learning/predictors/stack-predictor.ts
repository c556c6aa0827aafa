import type { SparseVector } from '../features/sparse-vector.js';
import { denseLogisticPredict, type DenseLogistic } from './meta-logistic.js';
import type { PredictorState, QualityPredictor } from './types.js';

/** Clamped log-odds: what the stacker sees of a member's probability. */
export function logit(p: number): number {
  const q = Math.min(1 - 1e-4, Math.max(1e-4, p));
  return Math.log(q / (1 - q));
}

/**
 * Stacked generalization: each member predictor's outputs (as log-odds, every member and every model)
 * feed one small logistic regression per model, fitted on out-of-fold predictions of the members
 * (`trainStack`). It learns how much to trust each member, for each model, and how to recalibrate it.
 */
export class StackPredictor implements QualityPredictor {
  readonly kind = 'stack' as const;
  readonly outputs: number;
  private readonly tmp: Float64Array;
  private readonly features: Float64Array;

  constructor(
    readonly members: readonly QualityPredictor[],
    readonly meta: readonly DenseLogistic[],
  ) {
    this.outputs = meta.length;
    this.tmp = new Float64Array(this.outputs);
    this.features = new Float64Array(members.length * this.outputs);
  }

  /** The stacker's inputs for a prompt: member k's log-odds for model m at `k * outputs + m`. */
  memberFeatures(x: SparseVector, out: Float64Array = this.features): Float64Array {
    const M = this.outputs;
    this.members.forEach((member, k) => {
      member.predict(x, this.tmp);
      for (let m = 0; m < M; m++) out[k * M + m] = logit(this.tmp[m]!);
    });
    return out;
  }

  predict(x: SparseVector, out = new Float64Array(this.outputs)): Float64Array {
    const f = this.memberFeatures(x);
    for (let m = 0; m < this.outputs; m++) out[m] = denseLogisticPredict(this.meta[m]!, f);
    return out;
  }

  toJSON(): PredictorState {
    return {
      kind: 'stack',
      members: this.members.map((m) => m.toJSON()),
      meta: this.meta.map((m) => ({ weights: m.weights.map((w) => Number(w.toPrecision(6))), bias: Number(m.bias.toPrecision(6)) })),
    };
  }
}
