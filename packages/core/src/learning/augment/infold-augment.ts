import type { RoutingExample } from '../datasets/types.js';
import type { DifficultySpec } from './augment-spec.js';
import type { DenoiseFoldReport } from './denoise-labels.js';
import { trainDifficultyModel, type AuxiliaryData, type TrainDifficultyOptions } from './difficulty-model.js';
import type { AugmentOptions } from './fit-augment.js';
import type { ResponsesFoldReport } from './infold-responses.js';
import type { ResponsesMultitaskReport } from './responses-multitask.js';
import { innerPart } from './inner-part.js';
import { excludeOverlap } from './prompt-overlap.js';

/**
 * In-fold augmentation (`--augment open7b-infold`): the difficulty model of one cross-validation fold
 * (or of a train/test split) learns from every auxiliary prompt that shares no question with that
 * fold's TEST prompts, so auxiliary outcomes of the fold's training prompts (for RouteLLM: open7b's
 * MMLU and GSM8K test files, which are RouteLLM questions) are training data too.
 *
 * The router's own training rows get cross-fitted difficulty values: the training prompts are cut into
 * `innerFolds` parts (by normalized text, so duplicates stay together) and part k's values come from a
 * difficulty model that also left out every auxiliary prompt sharing a question with part k. A row's
 * difficulty features are then out of sample, as they are for the held-out prompts, instead of a model
 * that saw that very prompt's auxiliary outcomes (which the router would learn to over-trust).
 */
export interface InfoldSource {
  aux: AuxiliaryData;
  /** Only these auxiliary tasks (prefix match). Default: every task. */
  tasks?: readonly string[];
  mode?: DifficultySpec['mode'];
  learner?: 'logistic' | 'mlp';
  /** Inner parts for cross-fitting the training rows' values. Default 3. */
  innerFolds?: number;
  hashDim?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** What one fold's difficulty models learned from (the overlap counts are against the fold's test prompts). */
export interface InfoldDifficultyReport {
  /** Auxiliary prompts considered (after `tasks`). */
  auxiliary_prompts: number;
  /** Dropped because they share a question with a test prompt of this fold (never used in any way). */
  dropped_test_overlap: number;
  /** Kept auxiliary prompts that share a question with a training prompt of this fold (the in-task gain). */
  kept_training_overlap: number;
  /** Kept for the fold's final difficulty model (the one applied to the test prompts). */
  kept: number;
  /** Per inner part: auxiliary prompts kept for the model that gives that part's training rows their values (difficulty model only). */
  inner_kept?: number[];
  /** The fold's difficulty model on 10% of its own prompts (difficulty model only). */
  validation_log_loss?: number;
  validation_prior_log_loss?: number;
  /** In-fold label denoising (`denoiseLabels`), when asked for. */
  denoise?: DenoiseFoldReport;
}

/**
 * One fold's in-fold augmentation: the difficulty model's counts (absent with `responses-infold`
 * alone) and/or the response models' (`infoldResponses`, `responsesMultitask`).
 */
export interface InfoldFoldReport extends Partial<InfoldDifficultyReport> {
  responses?: ResponsesFoldReport;
  responses_multitask?: ResponsesMultitaskReport;
}

/**
 * The augmentation of one fold: a difficulty model for the test prompts (trained on every auxiliary
 * prompt sharing no question with `test`) and one per inner part for the training rows (trained on
 * every auxiliary prompt sharing no question with `test` nor with that part).
 */
export function infoldAugment(source: InfoldSource, train: readonly RoutingExample[], test: readonly RoutingExample[]): { options: AugmentOptions; report: InfoldDifficultyReport } {
  const tasks = source.tasks;
  const pool = tasks && tasks.length ? source.aux.examples.filter((e) => tasks.some((t) => e.task === t || e.task.startsWith(`${t}/`))) : [...source.aux.examples];
  const aux: AuxiliaryData = { ...source.aux, examples: pool };
  const testPrompts = test.map((e) => e.prompt);
  const afterTest = excludeOverlap(pool, (e) => e.prompt, testPrompts);
  const trainOverlap = afterTest.dropped === pool.length ? 0 : excludeOverlap(afterTest.kept, (e) => e.prompt, train.map((e) => e.prompt)).dropped;
  const K = Math.max(2, source.innerFolds ?? 3);
  const base: Omit<TrainDifficultyOptions, 'evaluated'> = {
    ...(source.mode ? { mode: source.mode } : {}),
    ...(source.learner ? { learner: source.learner } : {}),
    ...(source.hashDim !== undefined ? { hashDim: source.hashDim } : {}),
    ...(source.seed !== undefined ? { seed: source.seed } : {}),
  };
  const final = trainDifficultyModel(aux, { ...base, evaluated: testPrompts, ...(source.log ? { log: source.log } : {}) });
  const inner: DifficultySpec[] = [];
  const innerKept: number[] = [];
  for (let k = 0; k < K; k++) {
    const part = train.filter((e) => innerPart(e.prompt, K) === k).map((e) => e.prompt);
    const m = trainDifficultyModel(aux, { ...base, evaluated: [...testPrompts, ...part] });
    inner.push(m.spec);
    innerKept.push(m.report.kept);
  }
  source.log?.(`  in-fold difficulty: ${final.report.kept} of ${pool.length} auxiliary prompts (${afterTest.dropped} share a question with this fold's test prompts; ${trainOverlap} kept ones with its training prompts); cross-fitted on ${K} inner parts (${innerKept.join(', ')} kept)`);
  return {
    options: { difficulty: final.spec, crossFit: { parts: K, models: inner } },
    report: {
      auxiliary_prompts: pool.length,
      dropped_test_overlap: afterTest.dropped,
      kept_training_overlap: trainOverlap,
      kept: final.report.kept,
      inner_kept: innerKept,
      validation_log_loss: final.report.validation.log_loss,
      validation_prior_log_loss: final.report.validation.prior_log_loss,
    },
  };
}
