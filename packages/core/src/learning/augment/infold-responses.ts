import type { RoutingExample } from '../datasets/types.js';
import type { EmbeddingLookup } from '../training/train-predictors.js';
import type { ResponseModelSpec } from './augment-spec.js';
import type { AugmentOptions } from './fit-augment.js';
import { innerPart } from './inner-part.js';
import { excludeOverlap } from './prompt-overlap.js';
import { responseRowsOf, trainResponseModel } from './response-model.js';

/**
 * In-fold response features (`--augment responses-infold`): the responses the models gave to a fold's
 * TRAINING prompts are auxiliary targets (`RESPONSE_TARGETS`) for a response model that sees only the
 * prompt; its predictions become features. Cross-fitted like `infoldAugment`: the model applied to the
 * fold's test prompts is fitted on the fold's training prompts only, and a training row's values come
 * from an inner model fitted without that row's inner part (`innerPart`, by normalized text), so they
 * are out of sample as they are for a new prompt.
 */
export interface ResponseSource {
  /**
   * The raw response targets (`responseTargetValues`) of a TRAINING prompt, undefined when it has no
   * responses. Never called for a test prompt, nor for a training prompt sharing a question with one.
   */
  targetsOf(example: RoutingExample): readonly number[] | undefined;
  /** The router's embedding block (the response model uses the same base features as the predictors). */
  embedding?: { dim: number; model: string; lookup: EmbeddingLookup };
  /** Inner parts for cross-fitting the training rows' values. Default 3. */
  innerFolds?: number;
  hashDim?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** What one fold's response models learned from. */
export interface ResponsesFoldReport {
  /** The fold's training prompts. */
  training: number;
  /** Training prompts left out because they share a question with a test prompt of the fold. */
  dropped_test_overlap: number;
  /** Training prompts with responses: the final model's rows. */
  rows: number;
  /** Rows of each inner model (every row but its own inner part's). */
  inner_rows: number[];
  /** The final model on 10% of its own rows: log loss against each target's mean. */
  validation_log_loss: number;
  validation_prior_log_loss: number;
}

/** The response features of one fold: a model for new prompts and one per inner part for the training rows. */
export function infoldResponses(
  source: ResponseSource,
  train: readonly RoutingExample[],
  test: readonly RoutingExample[],
): { options: Pick<AugmentOptions, 'responses' | 'responsesCrossFit'>; report: ResponsesFoldReport } {
  const usable = excludeOverlap(train, (e) => e.prompt, test.map((e) => e.prompt));
  const rows = responseRowsOf(usable.kept, (e) => source.targetsOf(e));
  const K = Math.max(2, source.innerFolds ?? 3);
  const base = {
    ...(source.embedding ? { embedding: source.embedding } : {}),
    ...(source.hashDim !== undefined ? { hashDim: source.hashDim } : {}),
    ...(source.seed !== undefined ? { seed: source.seed } : {}),
  };
  const final = trainResponseModel(rows, { ...base, label: 'responses of the fold\u2019s training prompts' });
  const inner: ResponseModelSpec[] = [];
  const innerRows: number[] = [];
  for (let k = 0; k < K; k++) {
    const part = rows.filter((r) => innerPart(r.prompt, K) !== k);
    inner.push(trainResponseModel(part, { ...base, label: `responses of the fold\u2019s training prompts outside inner part ${k + 1}/${K}` }).spec);
    innerRows.push(part.length);
  }
  const report: ResponsesFoldReport = {
    training: train.length,
    dropped_test_overlap: usable.dropped,
    rows: rows.length,
    inner_rows: innerRows,
    validation_log_loss: final.report.validation.log_loss,
    validation_prior_log_loss: final.report.validation.prior_log_loss,
  };
  source.log?.(`  in-fold responses: ${rows.length} of ${train.length} training prompts (${usable.dropped} share a question with a test prompt); cross-fitted on ${K} inner parts (${innerRows.join(', ')} rows); validation log loss ${report.validation_log_loss} (target means ${report.validation_prior_log_loss})`);
  return { options: { responses: final.spec, responsesCrossFit: { parts: K, models: inner } }, report };
}
