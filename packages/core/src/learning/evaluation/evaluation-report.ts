import type { AugmentReport } from '../augment/difficulty-model.js';
import type { InfoldFoldReport } from '../augment/infold-augment.js';
import type { PredictorKind } from '../predictors/types.js';
import type { CostQualityPoint } from './many-model-metrics.js';
import type { PgrPoint } from './two-model-metrics.js';

export interface TwoModelResult {
  apgr: number;
  cpt50: number;
  cpt80: number;
  curve: PgrPoint[];
}

export interface ManyModelResult {
  aiq: number;
  /** The router's non-decreasing hull (mean cost per prompt in USD, mean quality). */
  hull: CostQualityPoint[];
  /** Hull quality at fractions of the best single model's cost. */
  quality_at_cost: Array<{ cost_fraction: number; cost: number; quality: number }>;
  /** Least cost reaching 95% of the best single model's quality, absolute and as a fraction of its cost. */
  cost_at_95: number | null;
  cost_fraction_at_95: number | null;
  /** The same against the reference model (the most expensive single model, e.g. GPT-4): least cost reaching 95% of its quality, as a fraction of its cost. */
  cost_fraction_at_95_of_reference: number | null;
  /** Where the router's hull is at or above the zero-router hull (0.5 point tolerance). */
  vs_zero_router: { share: number; worst_gap: number; worst_at_cost: number };
}

export interface SelectionResult {
  /** Mean quality of the model the router picks per prompt (lambda = 0). */
  quality: number;
}

export interface PredictorResult {
  kind: PredictorKind | 'random' | 'oracle';
  two_model?: TwoModelResult;
  many_model?: ManyModelResult;
  selection?: SelectionResult;
}

/** What `llmrr router eval --json` prints. */
export interface EvaluationReport {
  data: string;
  format: string;
  models: string[];
  mode: 'two-model' | 'many-model' | 'selection';
  /** How held-out prompts were chosen (test split, k-fold cross-validation, unseen task, given model). */
  protocol: string;
  n_test: number;
  /** Held-out prompts left out because an outcome (or cost) was missing. */
  dropped: number;
  /** Of `dropped`: those with every outcome but a missing cost (cost curves need every model's cost). */
  dropped_missing_cost?: number;
  /**
   * Many-model data with costs where no held-out prompt with every outcome has every model's cost: the held-out prompts
   * scored (each lacks a cost), on the quality of the model picked (`mode` `selection`), with no cost curve.
   */
  missing_cost_no_curves?: number;
  /**
   * Training prompts left out because their normalized text is a held-out prompt's (the same question
   * under another task with --holdout-task, or exported again without a split in partly split data);
   * absent for protocols that cannot have any (k-fold cross-validation by prompt text, the data's own split).
   */
  /** `--model`: prompts of the data left out because the model trained on them (its training prompts' fingerprint). */
  model_trained_dropped?: number;
  train_overlap_dropped?: number;
  /** Two-model data: the weak and the strong model (by the training data's mean quality, or the given model's pair). */
  pair?: { weak: string; strong: string };
  /** Predictor the training picked on validation data (most often, across folds). */
  chosen: PredictorKind;
  /** Headline numbers of the chosen predictor. */
  apgr?: number;
  cpt50?: number;
  cpt80?: number;
  aiq?: number;
  quality_at_cost?: ManyModelResult['quality_at_cost'];
  cost_fraction_at_95?: number | null;
  quality?: number;
  /** Single models on the held-out prompts. */
  single_models: Array<{ model: string; quality: number; cost?: number }>;
  best_single: { model: string; quality: number; cost?: number };
  /** Many models with costs: the most expensive single model, the one routing tries to save on. */
  reference?: { model: string; quality: number; cost: number };
  cost_fraction_at_95_of_reference?: number | null;
  zero_router?: { aiq: number; hull: CostQualityPoint[] };
  predictors: PredictorResult[];
  baselines: { random: PredictorResult; oracle: PredictorResult };
  /** Headline numbers of the chosen predictor per task (when there are 2 to 12 tasks). */
  per_task?: Array<{ task: string; n: number; apgr?: number; cpt50?: number; cpt80?: number; aiq?: number; zero_router_aiq?: number; cost_fraction_at_95?: number | null; cost_fraction_at_95_of_reference?: number | null; reference?: { model: string; quality: number; cost: number }; best_single?: { model: string; quality: number; cost?: number }; vs_zero_router?: ManyModelResult['vs_zero_router']; quality?: number }>;
  /** Validation scores of each candidate during training, per fold. */
  validation: Array<{ fold: string; kind: PredictorKind; metric: string; value: number }>;
  /** Optional feature groups added (`--features`, e.g. `+structure`); absent = none. */
  features?: string[];
  /** Bag size of every predictor kind (`--bag`, bagging across seeds); absent = 1. */
  bag?: number;
  /** The augmentation block used (`--augment`), with the difficulty model's data and overlap counts. */
  augment?: { kinds: string[]; difficulty?: AugmentReport; multitask?: { kept: number; dropped: number; droppedByFullText: number; droppedByStemOnly: number }; infold?: Array<InfoldFoldReport & { fold: string }> };
  seconds: number;
}
