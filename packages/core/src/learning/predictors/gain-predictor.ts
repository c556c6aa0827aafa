import { LLMError } from '../../errors/llm-error.js';
import type { SparseVector } from '../features/sparse-vector.js';
import { checkPair, checkTwoModels, fitGain, GAIN_CLASSES, GainModel, gainTargets, type ModelPair } from './gain-model.js';
import { LinearGradient, linearForward, restoreArrays, snapshotArrays } from './linear-layer.js';
import type { LogisticOptions } from './logistic-predictor.js';
import { packWeights, unpackWeights, type PredictorState, type TrainingSet } from './types.js';

/**
 * Learns the **gain** of the strong model directly (two-model data only): a 3-class softmax
 * regression over {strong better, equal, weak better} on the same features as `logistic` (outputs as
 * described on `GainModel`).
 */
export class GainPredictor extends GainModel {
  readonly kind = 'gain' as const;

  constructor(
    readonly dim: number,
    pair: ModelPair,
    readonly w: Float32Array = new Float32Array(dim * GAIN_CLASSES),
    readonly b: Float32Array = new Float32Array(GAIN_CLASSES),
  ) {
    super(pair);
  }

  protected logits(x: SparseVector, out: Float64Array): void {
    linearForward(this.w, this.b, x, out);
  }

  snapshot(): unknown {
    return snapshotArrays(this.w, this.b);
  }

  restore(s: unknown): void {
    restoreArrays(s, this.w, this.b);
  }

  toJSON(): PredictorState {
    return { kind: 'gain', dim: this.dim, weak: this.pair.weak, strong: this.pair.strong, weights: packWeights(this.w, this.dim, GAIN_CLASSES), bias: Array.from(this.b) };
  }

  static fromJSON(s: Extract<PredictorState, { kind: 'gain' }>): GainPredictor {
    if (s.weights.cols !== GAIN_CLASSES || s.bias.length !== GAIN_CLASSES) {
      throw new LLMError({ code: 'invalid_request', message: `Gain predictor expects ${GAIN_CLASSES} classes, got ${s.weights.cols} weight columns and ${s.bias.length} biases`, param: 'predictor.weights' });
    }
    return new GainPredictor(s.dim, { weak: s.weak, strong: s.strong }, unpackWeights(s.weights, s.dim), Float32Array.from(s.bias));
  }
}

/**
 * Trains the gain model with the logistic regression's optimizer settings (Adam, learning rate 0.01,
 * L2 1e-4, batches of 32, at most 12 epochs), early-stopped on the 3-class cross-entropy of `val`.
 * The biases start at the log of the smoothed class frequencies. Refuses data that is not two-model.
 */
export function trainGain(train: TrainingSet, val: TrainingSet | undefined, pair: ModelPair | undefined, options: LogisticOptions = {}): GainPredictor {
  checkPair(pair, 'predictors');
  checkTwoModels(train, 'gain');
  const model = new GainPredictor(train.dim, pair);
  const targets = train.y.map((y) => gainTargets(y, pair));
  const freq = [1, 1, 1];
  for (const t of targets) if (t) for (let c = 0; c < GAIN_CLASSES; c++) freq[c]! += t[c]!;
  const total = freq[0]! + freq[1]! + freq[2]!;
  for (let c = 0; c < GAIN_CLASSES; c++) model.b[c] = Math.log(freq[c]! / total);
  const grad = new LinearGradient(model.w, model.b, train.dim, options.learningRate ?? 0.01, options.l2 ?? 1e-4);
  fitGain(model, grad, train, val, targets, options);
  return model;
}
