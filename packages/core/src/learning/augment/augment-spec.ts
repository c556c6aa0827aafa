import type { FeatureSpec } from '../features/feature-pipeline.js';
import type { PredictorState } from '../predictors/types.js';

/**
 * An auxiliary "difficulty" model: from a prompt's own features to the per-prompt score of other
 * models (e.g. the 7 open 7B models of RouterDC's open7b data), learned on prompts that share no
 * question with the router's data. Its predictions become features of the router's predictors.
 */
export interface DifficultySpec {
  /** Where its training prompts came from and what was dropped for overlap (human-readable). */
  source: string;
  /** The auxiliary models whose score it predicts (its outputs). */
  models: string[];
  /** Its own feature pipeline (fitted on its training prompts; never itself augmented). */
  features: FeatureSpec;
  /** A logistic regression per auxiliary model, or an MLP over all of them (soft labels). */
  predictor: PredictorState;
  /** `per-model`: the logit of each model's predicted score plus the logit of their mean; `mean`: the latter only. */
  mode: 'mean' | 'per-model';
}

/**
 * A response model (`--augment responses-infold`): from a prompt's own features to auxiliary targets
 * computed from the responses models gave to the router's TRAINING prompts (how wrong the weak answer
 * looks, how long it is, how many steps the strong answer takes; `RESPONSE_TARGETS`). Its predictions
 * (logits) become features of the router's predictors; at decision time it sees only the prompt.
 */
export interface ResponseModelSpec {
  /** What it learned from (human-readable). */
  source: string;
  /** The targets it predicts (its outputs, in order). */
  targets: string[];
  /** Its own feature pipeline (fitted on its training prompts; never itself augmented). */
  features: FeatureSpec;
  /** One logistic regression per target (soft labels in 0..1). */
  predictor: PredictorState;
}

/**
 * The augmentation block appended to the router's feature vector (part of `FeatureSpec`, so the
 * artifact the router loads carries the auxiliary model and decisions use it).
 */
export interface AugmentSpec {
  difficulty?: DifficultySpec;
  /** Word-problem structure features (`QUANTITY_FEATURES`). */
  quantities?: boolean;
  /** A response model (its logits come last in the block). */
  responses?: ResponseModelSpec;
  /** Standardization of the block's values, fitted on the router's training prompts. */
  mean: number[];
  std: number[];
}
