import { fnv1a } from '../datasets/split-examples.js';
import type { SparseVector } from '../features/sparse-vector.js';
import { trainLogistic, type LogisticPredictor } from '../predictors/logistic-predictor.js';
import type { TrainingSet } from '../predictors/types.js';
import { WEAK_ANSWER_FEATURES } from './weak-answer-features.js';

/** What the learned cascade scorer trains on: a prompt id, the weak answer's feature row and both models' outcomes. */
export interface CascadeTrainingRow {
  id: string;
  /** `WEAK_ANSWER_FEATURES` values, in that order. */
  features: readonly number[];
  /** [weak, strong] correctness (0..1; NaN: unknown, no gradient for that output). */
  quality: readonly number[];
}

/** A trained learned cascade scorer: standardization plus one logistic regression per model (weak, strong). */
export interface CascadeScorerModel {
  mean: number[];
  sd: number[];
  /** Outputs [weak, strong]: predicted probability that each model answers correctly. */
  model: LogisticPredictor;
  /** Rows fitted and rows used to stop early. */
  fitRows: number;
  validationRows: number;
}

/** Options of the learned scorer's logistic regression (as the cascade evaluation uses them). */
export const CASCADE_SCORER_TRAINING = { epochs: 60, patience: 8, learningRate: 0.02 } as const;

/** Standardizes raw feature rows into dense sparse vectors. */
export function standardizeRows(rows: readonly (readonly number[])[], mean: readonly number[], sd: readonly number[]): SparseVector[] {
  return rows.map((r) => ({ index: Int32Array.from(r, (_, j) => j), value: Float32Array.from(r, (v, j) => (v - mean[j]!) / sd[j]!) }));
}

/**
 * Trains the learned cascade scorer (`cascade-learned` of the evaluation, and the `learned` verifier's
 * artifact): features standardized on the fit rows, early-stopped on the 10% of the rows whose id hashes
 * to validation (`fnv1a("val:" + id) % 10 === 0`, as `trainPredictors`), logistic regression with
 * `CASCADE_SCORER_TRAINING`. The score is predicted strong minus predicted weak correctness.
 */
export function trainCascadeScorer(rows: readonly CascadeTrainingRow[], seed = 1): CascadeScorerModel {
  const isVal = (r: CascadeTrainingRow) => fnv1a(`val:${r.id}`) % 10 === 0;
  const fit = rows.filter((r) => !isVal(r)), val = rows.filter(isVal);
  const D = WEAK_ANSWER_FEATURES.length;
  const fitRaw = fit.map((r) => r.features);
  const mean = Array.from({ length: D }, (_, j) => fitRaw.reduce((a, r) => a + r[j]!, 0) / fitRaw.length);
  // A feature constant on the fit rows (its spread only the rounding of the mean) is left unscaled.
  const sd = Array.from({ length: D }, (_, j) => {
    const v = Math.sqrt(fitRaw.reduce((a, r) => a + (r[j]! - mean[j]!) ** 2, 0) / fitRaw.length);
    return v > 1e-9 * Math.max(1, Math.abs(mean[j]!)) ? v : 1;
  });
  const set = (xs: readonly CascadeTrainingRow[]): TrainingSet => ({ x: standardizeRows(xs.map((r) => r.features), mean, sd), y: xs.map((r) => [...r.quality]), dim: D, outputs: 2 });
  const model = trainLogistic(set(fit), set(val), { seed, ...CASCADE_SCORER_TRAINING });
  return { mean, sd, model, fitRows: fit.length, validationRows: val.length };
}
