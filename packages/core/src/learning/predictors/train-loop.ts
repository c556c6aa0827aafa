import { seededRandom, shuffle } from './adam.js';
import type { QualityPredictor, TrainingSet } from './types.js';

export interface TrainLoopOptions {
  /** Most epochs (passes over the training set). Default 12. */
  epochs?: number;
  /** Examples per mini-batch. Default 32. */
  batchSize?: number;
  seed?: number;
  /** Stop after this many epochs without a better validation loss. Default 2. */
  patience?: number;
}

/** Masked binary cross-entropy of a predictor on a set (soft labels allowed). */
export function logLoss(p: QualityPredictor, set: TrainingSet): number {
  let loss = 0, n = 0;
  const out = new Float64Array(set.outputs);
  for (let i = 0; i < set.x.length; i++) {
    p.predict(set.x[i]!, out);
    const y = set.y[i]!;
    for (let m = 0; m < set.outputs; m++) {
      const t = y[m]!;
      if (Number.isNaN(t)) continue;
      const q = Math.min(1 - 1e-7, Math.max(1e-7, out[m]!));
      loss -= t * Math.log(q) + (1 - t) * Math.log(1 - q);
      n++;
    }
  }
  return n ? loss / n : 0;
}

/**
 * Mini-batch training with early stopping on a validation set: `step(i)` accumulates the gradient of
 * example `i`, `apply()` ends a batch; the parameters of the best validation epoch are kept. The
 * validation loss is the model's own `validationLoss` when it has one, else `logLoss`.
 */
export function trainLoop(
  model: QualityPredictor & { snapshot(): unknown; restore(s: unknown): void; validationLoss?(set: TrainingSet): number },
  train: TrainingSet,
  val: TrainingSet | undefined,
  step: (i: number) => void,
  apply: () => void,
  options: TrainLoopOptions = {},
): { epochs: number; valLoss: number | undefined } {
  const epochs = options.epochs ?? 12;
  const batch = options.batchSize ?? 32;
  const patience = options.patience ?? 2;
  const random = seededRandom(options.seed ?? 1);
  const order = Array.from(train.x, (_, i) => i);
  let best = Infinity, bestState: unknown, bestEpoch = 0, since = 0;
  for (let e = 1; e <= epochs; e++) {
    shuffle(order, random);
    for (let s = 0; s < order.length; s += batch) {
      const end = Math.min(order.length, s + batch);
      for (let k = s; k < end; k++) step(order[k]!);
      apply();
    }
    if (!val || val.x.length === 0) continue;
    const loss = model.validationLoss ? model.validationLoss(val) : logLoss(model, val);
    if (loss < best - 1e-5) {
      best = loss;
      bestState = model.snapshot();
      bestEpoch = e;
      since = 0;
    } else if (++since >= patience) break;
  }
  if (bestState !== undefined) model.restore(bestState);
  return { epochs: bestEpoch || epochs, valLoss: Number.isFinite(best) ? best : undefined };
}
