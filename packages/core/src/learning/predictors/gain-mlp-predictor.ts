import { LLMError } from '../../errors/llm-error.js';
import type { SparseVector } from '../features/sparse-vector.js';
import { Adam } from './adam.js';
import { checkPair, gainTargets, softmaxInPlace, type ModelPair } from './gain-predictor.js';
import { RowGradient } from './row-gradient.js';
import { trainLoop } from './train-loop.js';
import { TwoLayerPredictor, type TwoLayerOptions } from './two-layer-predictor.js';
import type { PredictorState, QualityPredictor, TrainingSet, TwoLayerState } from './types.js';

const CLASSES = 3;

/**
 * The `gain` predictor's target and outputs with the `mlp` predictor's network: prompt features ->
 * 32 ReLU units -> a 3-class softmax over {strong better, equal, weak better}. Predicted gain
 * g = P(strong better) - P(weak better); `predict` writes q_strong = (1 + g) / 2, q_weak = (1 - g) / 2.
 */
export class GainMlpPredictor implements QualityPredictor {
  readonly kind = 'gain-mlp' as const;
  readonly outputs = 2;
  private readonly z = new Float64Array(CLASSES);

  constructor(
    readonly net: TwoLayerPredictor,
    readonly pair: ModelPair,
  ) {
    checkPair(pair, 'predictor');
    if (net.outputs !== CLASSES || net.activation !== 'relu') {
      throw new LLMError({ code: 'invalid_request', message: `gain-mlp expects a ReLU network with ${CLASSES} outputs, got ${net.outputs} (${net.activation})`, param: 'predictor.net' });
    }
  }

  /** Class probabilities [strong better, equal, weak better] into `out`. */
  classProbabilities(x: SparseVector, out: Float64Array = new Float64Array(CLASSES)): Float64Array {
    this.net.forward(x, out);
    return softmaxInPlace(out);
  }

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
  if (train.outputs !== 2) throw new LLMError({ code: 'invalid_request', message: `The gain-mlp predictor needs two-model data, got ${train.outputs} models`, param: 'predictors' });
  const H = options.hidden ?? 32;
  const net = TwoLayerPredictor.init(train.dim, H, CLASSES, 'relu', options.seed ?? 7);
  const model = new GainMlpPredictor(net, pair);
  const targets = train.y.map((y) => gainTargets(y, pair));
  const lr = options.learningRate ?? 0.003;
  const l2 = options.l2 ?? 1e-4;
  const a1 = new Adam(net.w1, lr, l2), ab1 = new Adam(net.b1, lr), a2 = new Adam(net.w2, lr, l2), ab2 = new Adam(net.b2, lr);
  const p = new Float64Array(CLASSES), dz = new Float64Array(CLASSES), dh = new Float64Array(H);
  const gw1 = new RowGradient(train.dim, H);
  const gb1 = new Float64Array(H), gw2 = new Float64Array(H * CLASSES), gb2 = new Float64Array(CLASSES);
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
      for (let c = 0; c < CLASSES; c++) dz[c] = p[c]! - t[c]!;
      count++;
      const h = net.h;
      dh.fill(0);
      for (let j = 0; j < H; j++) {
        for (let c = 0; c < CLASSES; c++) {
          gw2[j * CLASSES + c]! += h[j]! * dz[c]!;
          dh[j]! += net.w2[j * CLASSES + c]! * dz[c]!;
        }
        if (h[j]! <= 0) dh[j] = 0;
      }
      for (let c = 0; c < CLASSES; c++) gb2[c]! += dz[c]!;
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
      for (let j = 0; j < H * CLASSES; j++) a2.update(j, gw2[j]! / count);
      for (let c = 0; c < CLASSES; c++) ab2.update(c, gb2[c]! / count);
      gb1.fill(0);
      gw2.fill(0);
      gb2.fill(0);
      count = 0;
    },
    options,
  );
  // As in `trainTwoLayer`: rows of features never seen in training keep no random weights.
  const seen = new Uint8Array(train.dim);
  for (const x of train.x) for (let k = 0; k < x.index.length; k++) seen[x.index[k]!] = 1;
  for (let r = 0; r < train.dim; r++) if (!seen[r]) net.w1.fill(0, r * H, (r + 1) * H);
  return model;
}
