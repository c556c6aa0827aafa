import { LLMError } from '../../errors/llm-error.js';
import type { SparseVector } from '../features/sparse-vector.js';
import { trainLoop, type TrainLoopOptions } from './train-loop.js';
import type { PredictorState, QualityPredictor, TrainingSet } from './types.js';

/** Indices of the weak and the strong model in a two-model data set's quality vectors. */
export interface ModelPair {
  weak: number;
  strong: number;
}

/** Classes of the gain models: 0 = the strong model is better, 1 = equal, 2 = the weak model is better. */
export const GAIN_CLASSES = 3;

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

/** Throws unless the training set has exactly two models (`kind` names the predictor in the message). */
export function checkTwoModels(train: TrainingSet, kind: 'gain' | 'gain-mlp'): void {
  if (train.outputs !== 2) {
    throw new LLMError({ code: 'invalid_request', message: `The ${kind} predictor needs two-model data, got ${train.outputs} models`, param: 'predictors' });
  }
}

/**
 * What the `gain` and `gain-mlp` predictors share: a 3-class softmax over {strong better, equal, weak
 * better} (subclasses supply the logits), the predicted gain g = P(strong better) - P(weak better) in
 * [-1, 1], and `predict` writing q_strong = (1 + g) / 2 and q_weak = (1 - g) / 2, so strong - weak = g
 * and the two-model ranking is by g alone. Those two values are not calibrated per-model
 * probabilities of a good answer; only their difference means anything.
 */
export abstract class GainModel implements QualityPredictor {
  abstract readonly kind: 'gain' | 'gain-mlp';
  readonly outputs = 2;
  private readonly z = new Float64Array(GAIN_CLASSES);

  constructor(readonly pair: ModelPair) {
    checkPair(pair, 'predictor');
  }

  /** The 3 class logits of `x` into `out`. */
  protected abstract logits(x: SparseVector, out: Float64Array): void;
  abstract snapshot(): unknown;
  abstract restore(s: unknown): void;
  abstract toJSON(): PredictorState;

  /** Class probabilities [strong better, equal, weak better] into `out`. */
  classProbabilities(x: SparseVector, out: Float64Array = new Float64Array(GAIN_CLASSES)): Float64Array {
    this.logits(x, out);
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
    const p = new Float64Array(GAIN_CLASSES);
    for (let i = 0; i < set.x.length; i++) {
      const t = gainTargets(set.y[i]!, this.pair);
      if (!t) continue;
      this.classProbabilities(set.x[i]!, p);
      for (let c = 0; c < GAIN_CLASSES; c++) if (t[c]! > 0) loss -= t[c]! * Math.log(Math.max(1e-7, p[c]!));
      n++;
    }
    return n ? loss / n : 0;
  }
}

/**
 * Trains a gain model on the 3-class cross-entropy: the logit gradient of a row is p - t (rows with an
 * unknown outcome are skipped), accumulated by `grad` and applied per mini-batch, early-stopped on `val`.
 * `targets[i]` is `gainTargets(train.y[i], model.pair)`.
 */
export function fitGain(
  model: GainModel,
  grad: { add(x: SparseVector, dz: Float64Array): void; step(): void },
  train: TrainingSet,
  val: TrainingSet | undefined,
  targets: ReadonlyArray<readonly number[] | undefined>,
  options: TrainLoopOptions,
): void {
  const p = new Float64Array(GAIN_CLASSES), dz = new Float64Array(GAIN_CLASSES);
  trainLoop(
    model,
    train,
    val,
    (i) => {
      const t = targets[i];
      if (!t) return;
      const x = train.x[i]!;
      model.classProbabilities(x, p);
      for (let c = 0; c < GAIN_CLASSES; c++) dz[c] = p[c]! - t[c]!;
      grad.add(x, dz);
    },
    () => grad.step(),
    options,
  );
}
