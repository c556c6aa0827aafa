import type { SparseVector } from '../features/sparse-vector.js';
import type { PredictorState, QualityPredictor } from './types.js';

/** Ignores the prompt: every model's mean training quality (what "always pick the best model" knows). */
export class PriorPredictor implements QualityPredictor {
  readonly kind = 'prior' as const;
  readonly outputs: number;

  constructor(private readonly mean: readonly number[]) {
    this.outputs = mean.length;
  }

  predict(_x: SparseVector, out = new Float64Array(this.outputs)): Float64Array {
    for (let m = 0; m < this.outputs; m++) out[m] = this.mean[m]!;
    return out;
  }

  toJSON(): PredictorState {
    return { kind: 'prior', mean: [...this.mean] };
  }
}
