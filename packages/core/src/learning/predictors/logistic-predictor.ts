import type { SparseVector } from '../features/sparse-vector.js';
import { LinearGradient, linearForward, restoreArrays, snapshotArrays } from './linear-layer.js';
import { trainLoop, type TrainLoopOptions } from './train-loop.js';
import { packWeights, sigmoid, unpackWeights, type PredictorState, type QualityPredictor, type TrainingSet } from './types.js';

/** One logistic regression per model over the shared features (soft labels, L2). */
export class LogisticPredictor implements QualityPredictor {
  readonly kind = 'logistic' as const;

  constructor(
    readonly dim: number,
    readonly outputs: number,
    readonly w: Float32Array = new Float32Array(dim * outputs),
    readonly b: Float32Array = new Float32Array(outputs),
  ) {}

  logits(x: SparseVector, out: Float64Array): Float64Array {
    return linearForward(this.w, this.b, x, out);
  }

  predict(x: SparseVector, out = new Float64Array(this.outputs)): Float64Array {
    this.logits(x, out);
    for (let m = 0; m < this.outputs; m++) out[m] = sigmoid(out[m]!);
    return out;
  }

  snapshot(): unknown {
    return snapshotArrays(this.w, this.b);
  }

  restore(s: unknown): void {
    restoreArrays(s, this.w, this.b);
  }

  toJSON(): PredictorState {
    return { kind: 'logistic', dim: this.dim, outputs: this.outputs, weights: packWeights(this.w, this.dim, this.outputs), bias: Array.from(this.b) };
  }

  static fromJSON(s: Extract<PredictorState, { kind: 'logistic' }>): LogisticPredictor {
    return new LogisticPredictor(s.dim, s.outputs, unpackWeights(s.weights, s.dim), Float32Array.from(s.bias));
  }
}

export interface LogisticOptions extends TrainLoopOptions {
  learningRate?: number;
  l2?: number;
}

/** Trains per-model logistic regressions with Adam, early-stopped on `val`. Bias starts at each model's log-odds. */
export function trainLogistic(train: TrainingSet, val: TrainingSet | undefined, options: LogisticOptions = {}): LogisticPredictor {
  const M = train.outputs;
  const model = new LogisticPredictor(train.dim, M);
  const grad = new LinearGradient(model.w, model.b, train.dim, options.learningRate ?? 0.01, options.l2 ?? 1e-4);
  const z = new Float64Array(M);
  const dz = new Float64Array(M);
  trainLoop(
    model,
    train,
    val,
    (i) => {
      const x = train.x[i]!, y = train.y[i]!;
      model.logits(x, z);
      for (let m = 0; m < M; m++) {
        const t = y[m]!;
        dz[m] = Number.isNaN(t) ? 0 : sigmoid(z[m]!) - t;
      }
      grad.add(x, dz);
    },
    () => grad.step(),
    options,
  );
  return model;
}
