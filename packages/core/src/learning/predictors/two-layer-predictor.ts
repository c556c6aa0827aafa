import type { SparseVector } from '../features/sparse-vector.js';
import { Adam, seededRandom } from './adam.js';
import { RowGradient } from './row-gradient.js';
import { trainLoop, type TrainLoopOptions } from './train-loop.js';
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
    return [this.w1.slice(), this.b1.slice(), this.w2.slice(), this.b2.slice()];
  }

  restore(s: unknown): void {
    const [w1, b1, w2, b2] = s as Float32Array[];
    this.w1.set(w1!);
    this.b1.set(b1!);
    this.w2.set(w2!);
    this.b2.set(b2!);
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
  const lr = options.learningRate ?? 0.003;
  const l2 = options.l2 ?? 1e-4;
  const a1 = new Adam(model.w1, lr, l2), ab1 = new Adam(model.b1, lr), a2 = new Adam(model.w2, lr, l2), ab2 = new Adam(model.b2, lr);
  const z = new Float64Array(M), dz = new Float64Array(M), dh = new Float64Array(H);
  const gw1 = new RowGradient(train.dim, H);
  const gb1 = new Float64Array(H), gw2 = new Float64Array(H * M), gb2 = new Float64Array(M);
  let count = 0;
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
      count++;
      if (!any) return;
      const h = model.h;
      dh.fill(0);
      for (let j = 0; j < H; j++) {
        for (let m = 0; m < M; m++) {
          gw2[j * M + m]! += h[j]! * dz[m]!;
          dh[j]! += model.w2[j * M + m]! * dz[m]!;
        }
        if (model.activation === 'relu' && h[j]! <= 0) dh[j] = 0;
      }
      for (let m = 0; m < M; m++) gb2[m]! += dz[m]!;
      for (let j = 0; j < H; j++) gb1[j]! += dh[j]!;
      for (let k = 0; k < x.index.length; k++) gw1.addRow(x.index[k]!, x.value[k]!, dh);
    },
    () => {
      if (count === 0) return;
      a1.tick();
      ab1.tick();
      a2.tick();
      ab2.tick();
      gw1.flush((j, g) => a1.update(j, g / count));
      for (let j = 0; j < H; j++) ab1.update(j, gb1[j]! / count);
      for (let j = 0; j < H * M; j++) a2.update(j, gw2[j]! / count);
      for (let m = 0; m < M; m++) ab2.update(m, gb2[m]! / count);
      gb1.fill(0);
      gw2.fill(0);
      gb2.fill(0);
      count = 0;
    },
    options,
  );
  // Rows of features absent from the training prompts never got a gradient: their random initial
  // weights would only add noise to predictions (and size to the artifact). Zero them.
  const seen = new Uint8Array(train.dim);
  for (const x of train.x) for (let k = 0; k < x.index.length; k++) seen[x.index[k]!] = 1;
  for (let r = 0; r < train.dim; r++) if (!seen[r]) model.w1.fill(0, r * H, (r + 1) * H);
  return model;
}
