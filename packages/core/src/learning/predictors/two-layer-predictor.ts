import type { SparseVector } from '../features/sparse-vector.js';
import { seededRandom } from './adam.js';
import { restoreArrays, snapshotArrays } from './linear-layer.js';
import { trainLoop, type TrainLoopOptions } from './train-loop.js';
import { TwoLayerGradient, zeroUnseenRows } from './two-layer-gradient.js';
import { packWeights, sigmoid, unpackWeights, type PredictorState, type QualityPredictor, type TrainingSet } from './types.js';

/**
 * Prompt features -> hidden layer -> one sigmoid per model.
 * - `mlp`: ReLU hidden layer (a small multi-layer perceptron).
 * - `mf`: linear hidden layer, i.e. RouteLLM's matrix factorization: the prompt is projected to a
 *   latent vector `W1^T x + b1`, each model has a latent vector (a column of `W2`), and the model's
 *   score is their dot product plus a per-model bias.
 */
export class TwoLayerPredictor implements QualityPredictor {
  readonly kind: 'mf' | 'mlp';
  readonly h: Float64Array;

  constructor(
    readonly dim: number,
    readonly hidden: number,
    readonly outputs: number,
    readonly activation: 'relu' | 'linear',
    readonly w1: Float32Array,
    readonly b1: Float32Array,
    readonly w2: Float32Array,
    readonly b2: Float32Array,
  ) {
    this.kind = activation === 'relu' ? 'mlp' : 'mf';
    this.h = new Float64Array(hidden);
  }

  static init(dim: number, hidden: number, outputs: number, activation: 'relu' | 'linear', seed = 7): TwoLayerPredictor {
    const r = seededRandom(seed);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const w1 = new Float32Array(dim * hidden);
    const s1 = 0.1;
    for (let i = 0; i < w1.length; i++) w1[i] = gauss() * s1;
    const w2 = new Float32Array(hidden * outputs);
    const s2 = 1 / Math.sqrt(hidden);
    for (let i = 0; i < w2.length; i++) w2[i] = gauss() * s2;
    return new TwoLayerPredictor(dim, hidden, outputs, activation, w1, new Float32Array(hidden), w2, new Float32Array(outputs));
  }

  /** Hidden activations into `this.h` and logits into `z`. */
  forward(x: SparseVector, z: Float64Array): void {
    const H = this.hidden, M = this.outputs, h = this.h;
    for (let j = 0; j < H; j++) h[j] = this.b1[j]!;
    const { index, value } = x;
    for (let k = 0; k < index.length; k++) {
      const base = index[k]! * H, v = value[k]!;
      for (let j = 0; j < H; j++) h[j]! += v * this.w1[base + j]!;
    }
    if (this.activation === 'relu') for (let j = 0; j < H; j++) if (h[j]! < 0) h[j] = 0;
    for (let m = 0; m < M; m++) {
      let s = this.b2[m]!;
      for (let j = 0; j < H; j++) s += h[j]! * this.w2[j * M + m]!;
      z[m] = s;
    }
  }

  predict(x: SparseVector, out = new Float64Array(this.outputs)): Float64Array {
    this.forward(x, out);
    for (let m = 0; m < this.outputs; m++) out[m] = sigmoid(out[m]!);
    return out;
  }

  snapshot(): unknown {
    return snapshotArrays(this.w1, this.b1, this.w2, this.b2);
  }

  restore(s: unknown): void {
    restoreArrays(s, this.w1, this.b1, this.w2, this.b2);
  }

  toJSON(): PredictorState {
    const r = (a: Float32Array) => Array.from(a, (v) => Number(v.toPrecision(5)));
    return {
      kind: this.kind,
      dim: this.dim,
      hidden: this.hidden,
      outputs: this.outputs,
      activation: this.activation,
      w1: packWeights(this.w1, this.dim, this.hidden),
      b1: r(this.b1),
      w2: r(this.w2),
      b2: r(this.b2),
    };
  }

  static fromJSON(s: Extract<PredictorState, { kind: 'mf' | 'mlp' }>): TwoLayerPredictor {
    return new TwoLayerPredictor(
      s.dim,
      s.hidden,
      s.outputs,
      s.activation,
      unpackWeights(s.w1, s.dim),
      Float32Array.from(s.b1),
      Float32Array.from(s.w2),
      Float32Array.from(s.b2),
    );
  }
}

export interface TwoLayerOptions extends TrainLoopOptions {
  hidden?: number;
  learningRate?: number;
  l2?: number;
}

/** Trains a `mlp` (ReLU) or `mf` (linear, RouteLLM-style factorization) predictor. */
export function trainTwoLayer(kind: 'mlp' | 'mf', train: TrainingSet, val: TrainingSet | undefined, options: TwoLayerOptions = {}): TwoLayerPredictor {
  const H = options.hidden ?? (kind === 'mlp' ? 32 : 16);
  const M = train.outputs;
  const model = TwoLayerPredictor.init(train.dim, H, M, kind === 'mlp' ? 'relu' : 'linear', options.seed ?? 7);
  const grad = new TwoLayerGradient(model, options.learningRate ?? 0.003, options.l2 ?? 1e-4);
  const z = new Float64Array(M), dz = new Float64Array(M);
  trainLoop(
    model,
    train,
    val,
    (i) => {
      const x = train.x[i]!, y = train.y[i]!;
      model.forward(x, z);
      let any = false;
      for (let m = 0; m < M; m++) {
        const t = y[m]!;
        dz[m] = Number.isNaN(t) ? 0 : sigmoid(z[m]!) - t;
        if (dz[m] !== 0) any = true;
      }
      grad.add(x, any ? dz : null);
    },
    () => grad.step(),
    options,
  );
  zeroUnseenRows(model, train);
  return model;
}
