import type { SparseVector } from '../features/sparse-vector.js';
import type { PredictorState, QualityPredictor } from './types.js';

/** The mean of several predictors' outputs (an average of differently biased models is often steadier). */
export class EnsemblePredictor implements QualityPredictor {
  readonly kind = 'ensemble' as const;
  readonly outputs: number;
  private readonly tmp: Float64Array;

  constructor(readonly members: readonly QualityPredictor[]) {
    this.outputs = members[0]?.outputs ?? 0;
    this.tmp = new Float64Array(this.outputs);
  }

  predict(x: SparseVector, out = new Float64Array(this.outputs)): Float64Array {
    out.fill(0);
    for (const m of this.members) {
      m.predict(x, this.tmp);
      for (let k = 0; k < this.outputs; k++) out[k]! += this.tmp[k]!;
    }
    for (let k = 0; k < this.outputs; k++) out[k]! /= this.members.length || 1;
    return out;
  }

  toJSON(): PredictorState {
    return { kind: 'ensemble', members: this.members.map((m) => m.toJSON()) };
  }
}
