import { LLMError } from '../../errors/llm-error.js';
import type { SparseVector } from '../features/sparse-vector.js';
import { checkPair, checkTwoModels, fitGain, GAIN_CLASSES, GainModel, gainTargets, type ModelPair } from './gain-model.js';
import { TwoLayerGradient, zeroUnseenRows } from './two-layer-gradient.js';
import { TwoLayerPredictor, type TwoLayerOptions } from './two-layer-predictor.js';
import type { PredictorState, TrainingSet, TwoLayerState } from './types.js';

/**
 * The `gain` predictor's target and outputs with the `mlp` predictor's network: prompt features ->
 * 32 ReLU units -> a 3-class softmax over {strong better, equal, weak better} (outputs as described
 * on `GainModel`).
 */
export class GainMlpPredictor extends GainModel {
  readonly kind = 'gain-mlp' as const;

  constructor(
    readonly net: TwoLayerPredictor,
    pair: ModelPair,
  ) {
    super(pair);
    if (net.outputs !== GAIN_CLASSES || net.activation !== 'relu') {
      throw new LLMError({ code: 'invalid_request', message: `gain-mlp expects a ReLU network with ${GAIN_CLASSES} outputs, got ${net.outputs} (${net.activation})`, param: 'predictor.net' });
    }
  }

  protected logits(x: SparseVector, out: Float64Array): void {
    this.net.forward(x, out);
  }

  snapshot(): unknown {
    return this.net.snapshot();
  }

  restore(s: unknown): void {
    this.net.restore(s);
  }

  toJSON(): PredictorState {
    const net = this.net.toJSON() as TwoLayerState;
    return { kind: 'gain-mlp', weak: this.pair.weak, strong: this.pair.strong, net };
  }

  static fromJSON(s: Extract<PredictorState, { kind: 'gain-mlp' }>): GainMlpPredictor {
    return new GainMlpPredictor(TwoLayerPredictor.fromJSON(s.net), { weak: s.weak, strong: s.strong });
  }
}

/**
 * Trains `gain-mlp` with the `mlp` predictor's settings (32 hidden units, Adam at 0.003, L2 1e-4, the
 * same initialization), early-stopped on the 3-class cross-entropy of `val`. Two-model data only.
 */
export function trainGainMlp(train: TrainingSet, val: TrainingSet | undefined, pair: ModelPair | undefined, options: TwoLayerOptions = {}): GainMlpPredictor {
  checkPair(pair, 'predictors');
  checkTwoModels(train, 'gain-mlp');
  const net = TwoLayerPredictor.init(train.dim, options.hidden ?? 32, GAIN_CLASSES, 'relu', options.seed ?? 7);
  const model = new GainMlpPredictor(net, pair);
  const targets = train.y.map((y) => gainTargets(y, pair));
  const grad = new TwoLayerGradient(net, options.learningRate ?? 0.003, options.l2 ?? 1e-4);
  fitGain(model, grad, train, val, targets, options);
  zeroUnseenRows(net, train);
  return model;
}
