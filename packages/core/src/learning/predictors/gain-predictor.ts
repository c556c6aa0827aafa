import { LLMError } from '../../errors/llm-error.js';
import type { SparseVector } from '../features/sparse-vector.js';
import { Adam } from './adam.js';
import type { LogisticOptions } from './logistic-predictor.js';
import { RowGradient } from './row-gradient.js';
import { trainLoop } from './train-loop.js';
import { packWeights, unpackWeights, type PredictorState, type QualityPredictor, type TrainingSet } from './types.js';

/** Indices of the weak and the strong model in a two-model data set's quality vectors. */
export interface ModelPair {
  weak: number;
  strong: number;
}

/** Classes of the gain model: 0 = the strong model is better, 1 = equal, 2 = the weak model is better. */
const CLASSES = 3;

/**
 * Soft class targets of one prompt: with d = q_strong - q_weak, [max(d, 0), 1 - |d|, max(-d, 0)]
 * (one-hot for 0/1 outcomes; the expected value of the class gain +1/0/-1 is d). Undefined when an
 * outcome is unknown.
 */
export function gainTargets(quality: readonly number[], pair: ModelPair): [number, number, number] | undefined {
  const s = quality[pair.strong], w = quality[pair.weak];
  if (s === undefined || w === undefined || Number.isNaN(s) || Number.isNaN(w)) return undefined;
  const d = Math.max(-1, Math.min(1, s - w));
  return [Math.max(d, 0), 1 - Math.abs(d), Math.max(-d, 0)];
}

/**
 * Learns the **gain** of the strong model directly (two-model data only): a 3-class softmax
 * regression over {strong better, equal, weak better} on the same features as `logistic`. The predicted
 * gain is g = P(strong better) - P(weak better) in [-1, 1]; `predict` writes q_strong = (1 + g) / 2 and
 * q_weak = (1 - g) / 2, so strong - weak = g and the two-model ranking is by g alone. Those two values
 * are not calibrated per-model probabilities of a good answer; only their difference means anything.
 */
export class GainPredictor implements QualityPredictor {
  readonly kind = 'gain' as const;
  readonly outputs = 2;
  private readonly z = new Float64Array(CLASSES);

  constructor(
    readonly dim: number,
    readonly pair: ModelPair,
    readonly w: Float32Array = new Float32Array(dim * CLASSES),
    readonly b: Float32Array = new Float32Array(CLASSES),
  ) {
    checkPair(pair, 'predictor');
  }

  /** Class probabilities [strong better, equal, weak better] into `out`. */
  classProbabilities(x: SparseVector, out: Float64Array = new Float64Array(CLASSES)): Float64Array {
    for (let c = 0; c < CLASSES; c++) out[c] = this.b[c]!;
    const { index, value } = x;
    for (let k = 0; k < index.length; k++) {
      const base = index[k]! * CLASSES, v = value[k]!;
      for (let c = 0; c < CLASSES; c++) out[c]! += v * this.w[base + c]!;
    }
    return softmaxInPlace(out);
  }

  /** Predicted gain P(strong better) - P(weak better), in [-1, 1]. */
  gain(x: SparseVector): number {
    const p = this.classProbabilities(x, this.z);
    return p[0]! - p[2]!;
  }

  predict(x: SparseVector, out = new Float64Array(this.outputs)): Float64Array {
    const g = this.gain(x);
    out[this.pair.strong] = (1 + g) / 2;
    out[this.pair.weak] = (1 - g) / 2;
    return out;
  }

  /** Mean 3-class cross-entropy over the rows with both outcomes known (the early-stopping loss). */
  validationLoss(set: TrainingSet): number {
    let loss = 0, n = 0;
    const p = new Float64Array(CLASSES);
    for (let i = 0; i < set.x.length; i++) {
      const t = gainTargets(set.y[i]!, this.pair);
      if (!t) continue;
      this.classProbabilities(set.x[i]!, p);
      for (let c = 0; c < CLASSES; c++) if (t[c]! > 0) loss -= t[c]! * Math.log(Math.max(1e-7, p[c]!));
      n++;
    }
    return n ? loss / n : 0;
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
    return { kind: 'gain', dim: this.dim, weak: this.pair.weak, strong: this.pair.strong, weights: packWeights(this.w, this.dim, CLASSES), bias: Array.from(this.b) };
  }

  static fromJSON(s: Extract<PredictorState, { kind: 'gain' }>): GainPredictor {
    if (s.weights.cols !== CLASSES || s.bias.length !== CLASSES) {
      throw new LLMError({ code: 'invalid_request', message: `Gain predictor expects ${CLASSES} classes, got ${s.weights.cols} weight columns and ${s.bias.length} biases`, param: 'predictor.weights' });
    }
    return new GainPredictor(s.dim, { weak: s.weak, strong: s.strong }, unpackWeights(s.weights, s.dim), Float32Array.from(s.bias));
  }
}

/** Softmax of the logits in `z`, in place. */
export function softmaxInPlace(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let c = 0; c < z.length; c++) sum += z[c] = Math.exp(z[c]! - max);
  for (let c = 0; c < z.length; c++) z[c]! /= sum;
  return z;
}

/** Throws unless `pair` names models 0 and 1 (the gain predictors are for two-model data only). */
export function checkPair(pair: ModelPair | undefined, param: string): asserts pair is ModelPair {
  const ok = (v: unknown) => Number.isInteger(v) && (v === 0 || v === 1);
  if (!pair || !ok(pair.weak) || !ok(pair.strong) || pair.weak === pair.strong) {
    throw new LLMError({ code: 'invalid_request', message: `The gain predictor needs two-model data (a weak and a strong model at indices 0 and 1), got ${JSON.stringify(pair)}`, param });
  }
}

/**
 * Trains the gain model with the logistic regression's optimizer settings (Adam, learning rate 0.01,
 * L2 1e-4, batches of 32, at most 12 epochs), early-stopped on the 3-class cross-entropy of `val`.
 * The biases start at the log of the smoothed class frequencies. Refuses data that is not two-model.
 */
export function trainGain(train: TrainingSet, val: TrainingSet | undefined, pair: ModelPair | undefined, options: LogisticOptions = {}): GainPredictor {
  checkPair(pair, 'predictors');
  if (train.outputs !== 2) {
    throw new LLMError({ code: 'invalid_request', message: `The gain predictor needs two-model data, got ${train.outputs} models`, param: 'predictors' });
  }
  const model = new GainPredictor(train.dim, pair);
  const targets = train.y.map((y) => gainTargets(y, pair));
  const freq = [1, 1, 1];
  for (const t of targets) if (t) for (let c = 0; c < CLASSES; c++) freq[c]! += t[c]!;
  const total = freq[0]! + freq[1]! + freq[2]!;
  for (let c = 0; c < CLASSES; c++) model.b[c] = Math.log(freq[c]! / total);
  const adamW = new Adam(model.w, options.learningRate ?? 0.01, options.l2 ?? 1e-4);
  const adamB = new Adam(model.b, options.learningRate ?? 0.01);
  const p = new Float64Array(CLASSES);
  const gb = new Float64Array(CLASSES);
  const gw = new RowGradient(train.dim, CLASSES);
  const dz = new Float64Array(CLASSES);
  let count = 0;
  trainLoop(
    model,
    train,
    val,
    (i) => {
      const t = targets[i];
      if (!t) return;
      const x = train.x[i]!;
      model.classProbabilities(x, p);
      for (let c = 0; c < CLASSES; c++) {
        dz[c] = p[c]! - t[c]!;
        gb[c]! += dz[c]!;
      }
      for (let k = 0; k < x.index.length; k++) gw.addRow(x.index[k]!, x.value[k]!, dz);
      count++;
    },
    () => {
      if (count === 0) return;
      adamW.tick();
      adamB.tick();
      gw.flush((j, g) => adamW.update(j, g / count));
      for (let c = 0; c < CLASSES; c++) adamB.update(c, gb[c]! / count);
      gb.fill(0);
      count = 0;
    },
    options,
  );
  return model;
}
