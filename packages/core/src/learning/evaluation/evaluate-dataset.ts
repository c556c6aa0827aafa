import { LLMError } from '../../errors/llm-error.js';
import { missingModels, missingOutcomes } from '../datasets/missing-outcomes.js';
import { heldOutFolds, unseenTaskFold, type Fold } from '../datasets/split-examples.js';
import type { RoutingDataset, RoutingExample } from '../datasets/types.js';
import { featurize } from '../features/feature-pipeline.js';
import type { PredictorKind } from '../predictors/types.js';
import { predictCost } from '../training/cost-model.js';
import { digestSet } from '../training/prompt-digest.js';
import { routingIndecisive } from '../training/routing-score.js';
import type { RouterModel } from '../training/router-model.js';
import { trainPredictors, type TrainPredictorsOptions } from '../training/train-predictors.js';
import type { EvaluationReport } from './evaluation-report.js';
import { costCurvesPossible, evaluatePredictions, type PooledPredictions } from './evaluate-predictions.js';

/** Per-fold training options (`EvaluateOptions.foldOptions`). */
export interface FoldOptions extends Pick<TrainPredictorsOptions, 'augment' | 'multitask'> {
  /** The fold's training prompts, same ids and prompts, with other targets (`denoiseLabels`). */
  train?: RoutingExample[];
}

export interface EvaluateOptions extends TrainPredictorsOptions {
  /** Folds for cross-validation when the data has no split. Default 5. */
  folds?: number;
  /** Train on every other task, evaluate on this one. */
  holdoutTask?: string;
  /** Only these tasks (prefix match: `mmlu` matches `mmlu/anatomy`). */
  tasks?: readonly string[];
  /**
   * Per-fold augmentation (`infoldAugment`, in-fold multi-task data): called with each fold's training
   * and test prompts, its fields replace `augment` / `multitask` (and `train`: the same training prompts
   * with other targets) for that fold. It must not use the
   * auxiliary outcomes of a prompt sharing a question with a test prompt.
   */
  foldOptions?: (train: readonly RoutingExample[], test: readonly RoutingExample[], fold: string) => FoldOptions;
}

export function filterTasks(examples: RoutingExample[], tasks: readonly string[] | undefined): RoutingExample[] {
  if (!tasks || tasks.length === 0) return examples;
  return examples.filter((e) => tasks.some((t) => e.task === t || e.task.startsWith(`${t}/`)));
}

/** An `invalid_request` error for an evaluation with nothing to train on or nothing held out. */
function noPrompts(message: string, param: string): LLMError {
  return new LLMError({ code: 'invalid_request', message, param });
}

/** The data's tasks, for an error naming a task that is not there (at most 12, then how many more). */
function taskList(examples: readonly RoutingExample[]): string {
  const tasks = [...new Set(examples.map((e) => e.task))].sort();
  return tasks.length <= 12 ? tasks.join(', ') : `${tasks.slice(0, 12).join(', ')} and ${tasks.length - 12} more`;
}

/** `filterTasks`, refusing a selection that matches no prompt (`--tasks` naming no task of the data). */
function selectTasks(dataset: RoutingDataset, tasks: readonly string[] | undefined): RoutingExample[] {
  const examples = filterTasks(dataset.examples, tasks);
  if (examples.length === 0) throw noPrompts(`--tasks ${tasks!.join(',')} matches no prompt of ${dataset.name} (its tasks: ${taskList(dataset.examples)})`, 'tasks');
  return examples;
}

/** The unseen-task fold, refusing a task the data does not have (a typo) or one that is all of it. */
function holdoutFold(dataset: RoutingDataset, examples: RoutingExample[], task: string): Fold {
  const fold = unseenTaskFold(examples, task);
  if (fold.test.length === 0) throw noPrompts(`--holdout-task ${task} matches no prompt of ${dataset.name} (its tasks: ${taskList(examples)})`, 'holdoutTask');
  return fold;
}

/** What an evaluation is refused on before any work (`checkEvaluation`): the options that select its prompts. */
export type EvaluationSelection = Pick<EvaluateOptions, 'tasks' | 'holdoutTask' | 'folds'>;

/**
 * The folds `evaluateDataset` trains and scores, and its protocol: the `tasks` selected, held out by `holdoutTask`,
 * the test split or cross-validation. Refused (`invalid_request`) when no fold has both training and held-out prompts
 * or when no held-out prompt has every model's outcome (`checkScorable`).
 */
function evaluationFolds(dataset: RoutingDataset, options: EvaluationSelection): { folds: Fold[]; protocol: string } {
  const examples = selectTasks(dataset, options.tasks);
  const folds: Fold[] = options.holdoutTask ? [holdoutFold(dataset, examples, options.holdoutTask)] : heldOutFolds(examples, options.folds ?? 5);
  if (folds.every((f) => f.train.length === 0 || f.test.length === 0)) throw noHeldOut(dataset, examples, options.holdoutTask);
  const protocol = folds.length === 1 ? folds[0]!.name : `${folds.length}-fold cross-validation (by hash of prompt text)`;
  checkScorable(dataset, folds.flatMap((f) => (f.train.length === 0 ? [] : f.test)), protocol);
  return { folds, protocol };
}

/**
 * Refuses, before any work (embeddings, a difficulty model, training), what `evaluateDataset` (or `evaluateModel`, given
 * `model`) would refuse about the prompts it scores: no held-out or no training prompt, `tasks` or `holdoutTask` matching
 * nothing, a model that does not fit the data, held-out prompts none of which has every model's outcome. The same
 * `invalid_request` errors, thrown by the same code. Returns `ties`, why every router would score the same on the
 * held-out prompts (only one has every model's outcome, or each such prompt has the same outcome for every model:
 * `routingIndecisive`), for a warning: the evaluation runs, its metrics rank nothing.
 */
export function checkEvaluation(dataset: RoutingDataset, options: EvaluationSelection, model?: RouterModel): { ties?: string } {
  const heldOut = model ? modelHeldOut(dataset, model, options).examples : evaluationFolds(dataset, options).folds.flatMap((f) => (f.train.length === 0 ? [] : f.test));
  const ties = routingIndecisive(heldOut, dataset.pair, dataset.examples.some((e) => e.cost !== undefined) ? [] : undefined, 'held-out');
  return ties !== undefined ? { ties } : {};
}

/**
 * Trains every predictor kind on each fold's training prompts and evaluates on its held-out prompts
 * (the test split, k-fold cross-validation, or an unseen task); predictions are pooled over folds. No
 * fold with both training and held-out prompts (every prompt in one split, `holdoutTask` or `tasks`
 * matching nothing) is an `invalid_request` error naming the split or the option, and so are held-out prompts none
 * of which has every model's outcome (`checkScorable`), found before any training.
 */
export function evaluateDataset(dataset: RoutingDataset, options: EvaluateOptions = {}): EvaluationReport {
  const t0 = Date.now();
  const { folds, protocol } = evaluationFolds(dataset, options);
  const M = dataset.models.length;
  const pooled: PooledPredictions = { examples: [], quality: new Map() };
  const validation: EvaluationReport['validation'] = [];
  const chosenCount = new Map<PredictorKind, number>();
  let overlapDropped = 0;
  for (const fold of folds) {
    if (fold.train.length === 0 || fold.test.length === 0) continue;
    overlapDropped += fold.overlapDropped ?? 0;
    options.log?.(`${fold.name}: train ${fold.train.length}, test ${fold.test.length}${fold.overlapDropped ? ` (${fold.overlapDropped} training prompts left out: the text of a test prompt)` : ''}`);
    const { train: foldTrain, ...foldOptions } = options.foldOptions?.(fold.train, fold.test, fold.name) ?? {};
    const trained = trainPredictors(foldTrain ?? fold.train, M, dataset.pair, { ...options, ...foldOptions });
    chosenCount.set(trained.chosen, (chosenCount.get(trained.chosen) ?? 0) + 1);
    for (const v of trained.validation) validation.push({ fold: fold.name, ...v });
    const x = fold.test.map((e) => featurize(trained.features, e.prompt, options.embedding?.lookup(e.prompt)));
    const rankPool = dataset.pair !== undefined && folds.length > 1;
    for (const [kind, p] of trained.predictors) {
      let rows = pooled.quality.get(kind);
      if (!rows) pooled.quality.set(kind, (rows = []));
      const pred = x.map((xi) => Array.from(p.predict(xi)));
      rows.push(...(rankPool ? rankRows(pred, dataset.pair!) : pred));
    }
    if (trained.cost) {
      pooled.cost ??= [];
      for (const e of fold.test) pooled.cost.push(predictCost(trained.cost, e.prompt));
    }
    pooled.examples.push(...fold.test);
  }
  const chosen = [...chosenCount].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'logistic';
  const base = evaluatePredictions(dataset.models, dataset.pair, pooled, chosen);
  const report: EvaluationReport = { data: dataset.name, format: dataset.format, protocol, chosen, validation, seconds: 0, ...base };
  if (folds.some((f) => f.overlapDropped !== undefined)) report.train_overlap_dropped = overlapDropped;
  const perTask = perTaskResults(dataset, pooled, chosen);
  if (perTask) report.per_task = perTask;
  report.seconds = (Date.now() - t0) / 1000;
  return report;
}

/**
 * Refuses held-out prompts none of which has every model's outcome: an `invalid_request` of the data (`param`
 * `outcomes`; the CLI's usage error naming `--data`, as other refusals of the data's content are). Every routing metric
 * (APGR and CPT, AIQ and the cost curves, the quality of the model picked) and even the single models' qualities are
 * computed on prompts with every model's outcome only, the others counted as `dropped`, so such a report would have
 * no number at all. (Held-out prompts of which some have every outcome are evaluated on those.)
 */
function checkScorable(dataset: RoutingDataset, heldOut: RoutingExample[], protocol: string): void {
  if (heldOut.some((e) => e.quality.every((q) => !Number.isNaN(q)))) return;
  const missing = missingOutcomes({ ...dataset, examples: heldOut });
  throw new LLMError({
    code: 'invalid_request',
    message:
      `Routing data ${dataset.name}: none of its ${heldOut.length} held-out prompts has the outcome of every model (held out: ${protocol}${missing ? `; missing: ${missingModels(missing)}` : ''}), ` +
      `and routing is scored only on prompts with every model's outcome: there is nothing to evaluate. ` +
      `Give the held-out prompts every model's outcome, or leave out of the data the models they lack`,
    param: 'outcomes',
  });
}

/** Why there is no fold with both training and held-out prompts. */
function noHeldOut(dataset: RoutingDataset, examples: readonly RoutingExample[], holdoutTask: string | undefined): LLMError {
  if (holdoutTask) return noPrompts(`--holdout-task ${holdoutTask}: every prompt of ${dataset.name}${examples.length < dataset.examples.length ? ' (of the --tasks selected)' : ''} is of that task, none is left to train on`, 'holdoutTask');
  const inSplit = (s: string) => examples.every((e) => e.split === s);
  if (inSplit('train')) return noPrompts(`${dataset.name} has no held-out prompts: every prompt's split is "train" (give some prompts split "test", or none a split for cross-validation)`, 'data');
  if (inSplit('test')) return noPrompts(`${dataset.name} has no training prompts: every prompt's split is "test" (evaluate a trained model on it with --model)`, 'data');
  return noPrompts(`${dataset.name} has no fold with both training and held-out prompts (${examples.length} prompts)`, 'data');
}

/** The chosen predictor's headline numbers per task, when the held-out prompts span 2 to 12 tasks. */
export function perTaskResults(dataset: RoutingDataset, pooled: PooledPredictions, chosen: PredictorKind): EvaluationReport['per_task'] {
  const tasks = [...new Set(pooled.examples.map((e) => e.task))].sort();
  if (tasks.length < 2 || tasks.length > 12) return undefined;
  const rows = pooled.quality.get(chosen);
  if (!rows) return undefined;
  // Every task scored as the whole report is (cost curves or the quality of the model picked).
  const costCurves = costCurvesPossible(dataset.pair, pooled);
  return tasks.map((task) => {
    const idx = pooled.examples.flatMap((e, i) => (e.task === task ? [i] : []));
    const sub: PooledPredictions = { examples: idx.map((i) => pooled.examples[i]!), quality: new Map([[chosen, idx.map((i) => rows[i]!)]]) };
    if (pooled.cost) sub.cost = idx.map((i) => pooled.cost![i]!);
    const r = evaluatePredictions(dataset.models, dataset.pair, sub, chosen, costCurves);
    const head = r.predictors[0];
    return {
      task,
      n: r.n_test,
      ...(r.apgr !== undefined ? { apgr: r.apgr, cpt50: r.cpt50, cpt80: r.cpt80 } : {}),
      ...(r.aiq !== undefined
        ? {
            aiq: r.aiq,
            zero_router_aiq: r.zero_router?.aiq,
            cost_fraction_at_95: r.cost_fraction_at_95 ?? null,
            cost_fraction_at_95_of_reference: r.cost_fraction_at_95_of_reference ?? null,
            best_single: r.best_single,
            ...(r.reference ? { reference: r.reference } : {}),
            vs_zero_router: head?.many_model?.vs_zero_router,
          }
        : {}),
      ...(r.quality !== undefined ? { quality: r.quality, best_single: r.best_single } : {}),
    };
  });
}

/**
 * Evaluates a trained router model on the data's held-out prompts: its test split; all prompts when it has
 * none, refused (`invalid_request`) when the model was trained on the tasks of data of the same name (they
 * would be its training prompts). With `holdoutTask`: that task's test split when it has one; its every
 * prompt when the model was not trained on the task; refused when the model was trained on it and there is
 * no split. The weak and strong model of two-model data are the model's own pair (a test-only file cannot
 * tell them apart). Prompts none of which has every model's outcome are refused (`checkScorable`).
 */
export function evaluateModel(dataset: RoutingDataset, model: RouterModel, options: Pick<EvaluateOptions, 'tasks' | 'holdoutTask' | 'embedding'> = {}): EvaluationReport {
  const t0 = Date.now();
  const { examples, protocol, trainedOn, idx } = modelHeldOut(dataset, model, options);
  const { training } = model.artifact;
  const kind = model.predictor.kind;
  const rows = examples.map((e) => {
    const p = model.predict(e.prompt, options.embedding?.lookup(e.prompt));
    return idx.map((i) => p[i!]!);
  });
  const pooled: PooledPredictions = { examples, quality: new Map([[kind, rows]]) };
  const cost = model.artifact.cost;
  if (cost) pooled.cost = examples.map((e) => idx.map((i) => predictCost(cost, e.prompt)[i!]!));
  const base = evaluatePredictions(dataset.models, modelPair(dataset, model) ?? dataset.pair, pooled, kind);
  const report: EvaluationReport = { data: dataset.name, format: dataset.format, protocol, chosen: kind, validation: [], seconds: (Date.now() - t0) / 1000, ...base };
  // What the model was trained with, as a report of `router eval` without `--model` records it.
  const { features } = model.artifact;
  if (features.structure) report.features = ['+structure'];
  if (training.bag !== undefined && training.bag > 1) report.bag = training.bag;
  if (training.augment) report.augment = training.augment;
  if (training.promptDigest !== undefined) report.model_trained_dropped = trainedOn;
  return report;
}

/**
 * The prompts `evaluateModel` scores, its protocol, how many prompts were left out as the model's training prompts, and
 * the model's output for each of the data's models; refused as `evaluateModel` documents.
 */
function modelHeldOut(
  dataset: RoutingDataset,
  model: RouterModel,
  options: Pick<EvaluateOptions, 'tasks' | 'holdoutTask'>,
): { examples: RoutingExample[]; protocol: string; trainedOn: number; idx: number[] } {
  let examples = selectTasks(dataset, options.tasks);
  let protocol: string;
  const { training } = model.artifact;
  if (options.holdoutTask) {
    const task = options.holdoutTask;
    examples = holdoutFold(dataset, examples, task).test;
    const trained = training.tasks.some((t) => t === task || t.startsWith(`${task}/`));
    if (examples.some((e) => e.split === 'test')) {
      examples = examples.filter((e) => e.split === 'test');
      protocol = `given model on task ${task}, its test split${trained ? ' (the model trained on this task)' : ''}`;
    } else if (trained) {
      throw new LLMError({
        code: 'invalid_request',
        message: `The router model was trained on task ${task} and the data has no test split for it: every prompt of ${task} may be one it trained on. Evaluate a model trained without it (router eval --holdout-task ${task} with no --model trains one)`,
        param: 'holdoutTask',
      });
    } else protocol = `given model on task ${task}`;
  } else if (examples.some((e) => e.split === 'test')) {
    examples = examples.filter((e) => e.split === 'test');
    protocol = 'given model on the test split';
  } else if (training.promptDigest !== undefined) {
    protocol = 'given model on every prompt it did not train on (no test split)';
  } else {
    protocol = `given model on every prompt (no test split; the model records no training prompts${training.data === dataset.name ? `, and it was trained on data named ${training.data} too: the scores may be on its training prompts` : ': they must not overlap its training data'})`;
  }
  // Prompts the model trained on (by its fingerprint) are never scored, whatever the data is called.
  let trainedOn = 0;
  if (training.promptDigest !== undefined) {
    const seen = digestSet(training.promptDigest);
    const kept = examples.filter((e) => !seen.has(e.prompt));
    trainedOn = examples.length - kept.length;
    if (kept.length === 0) {
      throw new LLMError({
        code: 'invalid_request',
        message: `Every one of the ${examples.length} prompts to evaluate is one the router model trained on (${training.data}, ${training.examples} prompts): scores on training prompts say nothing about new ones. Evaluate it on other data (or data with a split column, test rows held out of training), or evaluate by cross-validation (router eval without --model)`,
        param: 'model',
      });
    }
    examples = kept;
  }
  // Map the data's models onto the artifact's outputs.
  const idx = dataset.models.map((m) => model.indexOf(m));
  const missing = dataset.models.filter((_, i) => idx[i] === undefined);
  if (missing.length) {
    throw new LLMError({
      code: 'invalid_request',
      message: `The router model has no outputs for the data's model${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(', ')} (it was trained on ${model.models.map((m) => JSON.stringify(m)).join(', ')}): evaluate it on data of its own models, or train one on this data`,
      param: 'model',
    });
  }
  checkScorable(dataset, examples, protocol);
  return { examples, protocol, trainedOn, idx: idx as number[] };
}

/** The model's weak/strong pair as indices into the data's two models (undefined when it has none or other models). */
function modelPair(dataset: RoutingDataset, model: RouterModel): { weak: number; strong: number } | undefined {
  const pair = model.artifact.pair;
  if (!pair || dataset.models.length !== 2) return undefined;
  const weak = dataset.models.indexOf(model.models[pair.weak]!), strong = dataset.models.indexOf(model.models[pair.strong]!);
  return weak >= 0 && strong >= 0 && weak !== strong ? { weak, strong } : undefined;
}

/**
 * Two-model cross-validation pools folds whose predictors are calibrated differently, so each fold's
 * score (strong - weak) becomes its rank quantile within the fold (ties share their mean rank): routing
 * "the top x% of each fold" is what a threshold calibrated per deployment does. Rows become
 * [weak: 0, strong: quantile].
 */
export function rankRows(pred: number[][], pair: { weak: number; strong: number }): number[][] {
  const score = pred.map((r) => r[pair.strong]! - r[pair.weak]!);
  const order = score.map((_, i) => i).sort((a, b) => score[a]! - score[b]!);
  const q = new Array<number>(score.length);
  for (let s = 0; s < order.length; ) {
    let e = s;
    while (e < order.length && score[order[e]!] === score[order[s]!]) e++;
    const mean = (s + e - 1) / 2 / Math.max(1, order.length - 1);
    for (let k = s; k < e; k++) q[order[k]!] = mean;
    s = e;
  }
  return pred.map((r, i) => {
    const row = new Array<number>(r.length).fill(0);
    row[pair.strong] = q[i]!;
    return row;
  });
}
