import type { RoutingExample } from '../datasets/types.js';
import { fnv1a } from '../datasets/split-examples.js';
import { DEFAULT_HASH_DIM, featurize, fitFeatures } from '../features/feature-pipeline.js';
import { logLoss } from '../predictors/train-loop.js';
import { trainLogistic } from '../predictors/logistic-predictor.js';
import { trainTwoLayer } from '../predictors/two-layer-predictor.js';
import { PriorPredictor } from '../predictors/prior-predictor.js';
import { meanQuality } from '../predictors/types.js';
import type { EmbeddingLookup } from '../training/train-predictors.js';
import { toTrainingSet } from '../training/train-predictors.js';
import type { DifficultySpec } from './augment-spec.js';
import { excludeOverlap } from './prompt-overlap.js';

/** Per-prompt scores of other models (e.g. RouterDC's open7b) to learn prompt difficulty from. */
export interface AuxiliaryData {
  name: string;
  models: readonly string[];
  examples: readonly RoutingExample[];
}

export interface TrainDifficultyOptions {
  /**
   * Every prompt of the data the router is trained and evaluated on (all folds, all splits): an
   * auxiliary prompt matching any of them (normalized text or question stem) is never used.
   */
  evaluated: readonly string[];
  /** Keep only these auxiliary tasks (prefix match). Default: every task. */
  tasks?: readonly string[];
  mode?: DifficultySpec['mode'];
  /** The difficulty model: one logistic regression per auxiliary model (default), or one MLP with a shared hidden layer. */
  learner?: 'logistic' | 'mlp';
  /** Use the embedding block too (every kept auxiliary prompt must have an embedding). */
  embedding?: { dim: number; model: string; lookup: EmbeddingLookup };
  hashDim?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** What was used and dropped, and how well the difficulty model predicts on its own held-out share. */
export interface AugmentReport {
  source: string;
  auxiliary_prompts: number;
  kept: number;
  dropped_overlap: number;
  dropped_full_text: number;
  dropped_stem_only: number;
  /** Per auxiliary task: prompts before and after the overlap check. */
  per_task: Array<{ task: string; total: number; kept: number }>;
  mode: DifficultySpec['mode'];
  learner: 'logistic' | 'mlp';
  embedding: boolean;
  /** On 10% of the kept auxiliary prompts (not used for fitting): log loss vs the per-model mean, and the correlation of predicted and true mean score. */
  validation: { prompts: number; log_loss: number; prior_log_loss: number; mean_score_correlation: number };
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  if (n < 2) return 0;
  const ma = a.reduce((s, v) => s + v, 0) / n, mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

function meanKnown(row: readonly number[]): number {
  let s = 0, n = 0;
  for (const v of row) if (!Number.isNaN(v)) (s += v), n++;
  return n ? s / n : NaN;
}

/**
 * Learns the auxiliary difficulty model: one logistic regression per auxiliary model, on that data's
 * prompts minus every prompt that shares a question with the evaluated data (`excludeOverlap`),
 * early-stopped on 10% of them.
 */
export function trainDifficultyModel(aux: AuxiliaryData, options: TrainDifficultyOptions): { spec: DifficultySpec; report: AugmentReport } {
  const tasks = options.tasks;
  const pool = tasks && tasks.length ? aux.examples.filter((e) => tasks.some((t) => e.task === t || e.task.startsWith(`${t}/`))) : [...aux.examples];
  const overlap = excludeOverlap(pool, (e) => e.prompt, options.evaluated);
  const kept = overlap.kept;
  if (kept.length < 20) throw new Error(`Only ${kept.length} auxiliary prompts of ${aux.name} share no question with the evaluated data: too few to learn a difficulty model (choose other --augment-tasks)`);
  const keptIds = new Set(kept.map((e) => e.id));
  const taskNames = [...new Set(pool.map((e) => e.task))].sort();
  const perTask = taskNames.map((task) => ({ task, total: pool.filter((e) => e.task === task).length, kept: pool.filter((e) => e.task === task && keptIds.has(e.id)).length }));
  const isVal = (e: RoutingExample) => fnv1a(`aux-val:${e.id}`) % 10 === 0;
  const fit = kept.filter((e) => !isVal(e));
  const val = kept.filter(isVal);
  const emb = options.embedding;
  const features = fitFeatures(
    fit.map((e) => e.prompt),
    { hashDim: options.hashDim ?? DEFAULT_HASH_DIM, ...(emb ? { embedding: { dim: emb.dim, model: emb.model } } : {}) },
  );
  const M = aux.models.length;
  const trainSet = toTrainingSet(features, fit, M, emb?.lookup);
  const valSet = toTrainingSet(features, val, M, emb?.lookup);
  const predictor = options.learner === 'mlp' ? trainTwoLayer('mlp', trainSet, valSet, { seed: options.seed ?? 1 }) : trainLogistic(trainSet, valSet, { seed: options.seed ?? 1 });
  const prior = new PriorPredictor(meanQuality(trainSet.y, M));
  const predMean = valSet.x.map((x) => meanKnown(Array.from(predictor.predict(x))));
  const trueMean = val.map((e) => meanKnown(e.quality));
  const ok = trueMean.map((v, i) => !Number.isNaN(v) && !Number.isNaN(predMean[i]!));
  const validation = {
    prompts: val.length,
    log_loss: logLoss(predictor, valSet),
    prior_log_loss: logLoss(prior, valSet),
    mean_score_correlation: pearson(predMean.filter((_, i) => ok[i]), trueMean.filter((_, i) => ok[i])),
  };
  const mode = options.mode ?? 'per-model';
  const source = `${options.learner === 'mlp' ? 'MLP on ' : ''}${aux.name}${tasks && tasks.length ? ` (tasks ${tasks.join(', ')})` : ''}: ${kept.length} of ${pool.length} prompts (${overlap.dropped} dropped: same question as an evaluated prompt)`;
  options.log?.(`difficulty model: ${source}; validation log loss ${validation.log_loss.toFixed(4)} (per-model mean ${validation.prior_log_loss.toFixed(4)}), mean-score correlation ${validation.mean_score_correlation.toFixed(3)}`);
  const spec: DifficultySpec = { source, models: [...aux.models], features, predictor: predictor.toJSON(), mode };
  const report: AugmentReport = {
    source,
    auxiliary_prompts: pool.length,
    kept: kept.length,
    dropped_overlap: overlap.dropped,
    dropped_full_text: overlap.droppedByFullText,
    dropped_stem_only: overlap.droppedByStemOnly,
    per_task: perTask,
    mode,
    learner: options.learner ?? 'logistic',
    embedding: emb !== undefined,
    validation,
  };
  return { spec, report };
}

