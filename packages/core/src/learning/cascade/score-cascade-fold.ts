import { rankRows, type EvaluateOptions } from '../evaluation/evaluate-dataset.js';
import { featurize } from '../features/feature-pipeline.js';
import type { PredictorKind } from '../predictors/types.js';
import { trainPredictors, type TrainPredictorsOptions } from '../training/train-predictors.js';
import type { CascadeExample } from './load-gsm8k-responses.js';
import { standardizeRows, trainCascadeScorer } from './train-cascade-scorer.js';
import { WEAK_ANSWER_FEATURES, ruleEscalationScore, type WeakAnswerFeatures } from './weak-answer-features.js';

/** The prompt-only router of the cascade evaluation: `trainPredictors` options, plus per-fold ones. */
export interface CascadeFoldRouter {
  options: TrainPredictorsOptions;
  foldOptions?: EvaluateOptions['foldOptions'];
}

/** One fold's escalation scores of its test prompts (within-fold ranks in [0, 1], as `rankRows`). */
export interface CascadeFoldScores {
  rule: number[];
  learned: number[];
  /** The learned scorer's logistic weights (feature j, output m at `j * 2 + m`). */
  learnedWeights: ArrayLike<number>;
  router?: {
    /** The kind picked on the fold's validation data. */
    chosen: PredictorKind;
    /** Ranked score of every trained kind but `prior`, in training order. */
    byKind: Array<[PredictorKind, number[]]>;
    /** The chosen predictor's raw predicted gain (strong minus weak quality) per test prompt. */
    chosenGain: number[];
  };
}

const PAIR = { weak: 0, strong: 1 };
const ranked = (rows: number[][]) => rankRows(rows, PAIR).map((r) => r[PAIR.strong]! - r[PAIR.weak]!);

/**
 * Trains on `train` and scores `test`: `cascade-rule` (no training), `cascade-learned` (standardized on
 * the fold's fit rows, early-stopped on 10% of its training prompts, as `trainPredictors`) and, when
 * `router` is given, the prompt-only router (the `evaluateDataset` fold loop).
 */
export function scoreCascadeFold(
  train: readonly CascadeExample[],
  test: readonly CascadeExample[],
  feats: ReadonlyMap<string, WeakAnswerFeatures>,
  seed: number,
  foldName: string,
  router?: CascadeFoldRouter,
): CascadeFoldScores {
  const vectorOf = (e: CascadeExample) => WEAK_ANSWER_FEATURES.map((k) => feats.get(e.id)![k]);
  const rule = ranked(test.map((e) => [0, ruleEscalationScore(feats.get(e.id)!)]));
  const learned = trainCascadeScorer(train.map((e) => ({ id: e.id, features: vectorOf(e), quality: e.quality })), seed);
  const lr = learned.model;
  const learnedRanks = ranked(standardizeRows(test.map(vectorOf), learned.mean, learned.sd).map((x) => Array.from(lr.predict(x))));
  const out: CascadeFoldScores = { rule, learned: learnedRanks, learnedWeights: lr.w };
  if (router) {
    const { train: foldTrain, ...foldOptions } = router.foldOptions?.(train, test, foldName) ?? {};
    const trained = trainPredictors(foldTrain ?? train, 2, PAIR, { seed, ...router.options, ...foldOptions });
    const emb = router.options.embedding;
    const x = test.map((e) => featurize(trained.features, e.prompt, emb?.lookup(e.prompt)));
    const byKind: Array<[PredictorKind, number[]]> = [];
    for (const [kind, p] of trained.predictors) if (kind !== 'prior') byKind.push([kind, ranked(x.map((xi) => Array.from(p.predict(xi))))]);
    const best = trained.predictors.get(trained.chosen) ?? trained.predictors.get('prior')!;
    const chosenGain = x.map((xi) => {
      const p = best.predict(xi);
      return p[PAIR.strong]! - p[PAIR.weak]!;
    });
    out.router = { chosen: trained.chosen, byKind, chosenGain };
  }
  return out;
}
