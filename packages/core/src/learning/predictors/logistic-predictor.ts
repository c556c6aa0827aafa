import type { SparseVector } from '../features/sparse-vector.js';
import { Adam } from './adam.js';
import { RowGradient } from './row-gradient.js';
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
    const M = this.outputs;
    for (let m = 0; m < M; m++) out[m] = this.b[m]!;
    const { index, value } = x;
    for (let k = 0; k < index.length; k++) {
      const base = index[k]! * M, v = value[k]!;
      for (let m = 0; m < M; m++) out[m]! += v * this.w[base + m]!;
    }
    return out;
  }

  predict(x: SparseVector, out = new Float64Array(this.outputs)): Float64Array {
    this.logits(x, out);
    for (let m = 0; m < this.outputs; m++) out[m] = sigmoid(out[m]!);
    return out;
  }

  snapshot(): unknown {
    return [this.w.slice(), this.b.slice()];
  }

  restore(s: unknown): void {
    const [w, b] = s as [Float32Array, Float32Array];
    this.w.set(w);
    this.b.set(b);
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
  const adamW = new Adam(model.w, options.learningRate ?? 0.01, options.l2 ?? 1e-4);
  const adamB = new Adam(model.b, options.learningRate ?? 0.01);
  const z = new Float64Array(M);
  const gb = new Float64Array(M);
  const gw = new RowGradient(train.dim, M);
  const dz = new Float64Array(M);
  let count = 0;
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
        gb[m]! += dz[m]!;
      }
      for (let k = 0; k < x.index.length; k++) gw.addRow(x.index[k]!, x.value[k]!, dz);
      count++;
    },
    () => {
      if (count === 0) return;
      adamW.tick();
      adamB.tick();
      gw.flush((j, g) => adamW.update(j, g / count));
      for (let m = 0; m < M; m++) adamB.update(m, gb[m]! / count);
      gb.fill(0);
      count = 0;
    },
    options,
  );
  return model;
}
