import { LLMError } from '../../errors/llm-error.js';
import type { RoutingDataset, RoutingExample } from '../datasets/types.js';
import { filterTasks } from '../evaluation/evaluate-dataset.js';
import type { PredictorKind } from '../predictors/types.js';
import { promptDigest } from './prompt-digest.js';
import { ROUTER_MODEL_FORMAT, type RouterModelArtifact } from './router-model.js';
import { trainPredictors, type TrainPredictorsOptions } from './train-predictors.js';

export interface TrainRouterModelOptions extends TrainPredictorsOptions {
  tasks?: readonly string[];
  /** Clock for `createdAt` (tests). */
  now?: () => Date;
}

/** The prompts `trainRouterModel` trains on: of `tasks` (all without), its train split when it has a test split. */
export function trainingExamples(dataset: RoutingDataset, tasks: readonly string[] | undefined): { all: RoutingExample[]; examples: RoutingExample[] } {
  const all = filterTasks(dataset.examples, tasks);
  return { all, examples: all.some((e) => e.split === 'test') ? all.filter((e) => e.split !== 'test') : all };
}

/**
 * Trains the router model on the dataset's training prompts (its train split when it has one, never
 * the test split; every prompt otherwise) and returns the artifact `intelligent` loads. No training
 * prompt (every one in the test split, or `tasks` matching none) is an `invalid_request` error.
 */
export function trainRouterModel(dataset: RoutingDataset, options: TrainRouterModelOptions = {}): RouterModelArtifact {
  const { all, examples } = trainingExamples(dataset, options.tasks);
  if (examples.length === 0) {
    const why = all.length === 0 ? `--tasks ${options.tasks?.join(',')} matches no prompt of ${dataset.name}` : `every prompt of ${dataset.name} is in the test split`;
    throw new LLMError({ code: 'invalid_request', message: `No training prompts: ${why} (a router model needs prompts to learn from)`, param: all.length === 0 ? 'tasks' : 'data' });
  }
  const trained = trainPredictors(examples, dataset.models.length, dataset.pair, options);
  const chosen: PredictorKind = trained.chosen;
  const predictor = trained.predictors.get(chosen)!.toJSON();
  const artifact: RouterModelArtifact = {
    format: ROUTER_MODEL_FORMAT,
    version: 1,
    createdAt: (options.now?.() ?? new Date()).toISOString(),
    models: [...dataset.models],
    features: trained.features,
    predictor,
    calibration: trained.calibration,
    training: {
      data: dataset.name,
      examples: examples.length,
      tasks: [...new Set(examples.map((e) => e.task))].sort(),
      promptDigest: promptDigest(examples.map((e) => e.prompt)),
      validation: trained.validation,
      chosen,
      // Only when the stored predictor is a bag (kinds without training randomness are trained once).
      ...(options.bag !== undefined && options.bag > 1 && predictor.kind === 'bag' ? { bag: options.bag } : {}),
    },
  };
  if (dataset.pair) artifact.pair = dataset.pair;
  if (trained.cost) artifact.cost = trained.cost;
  return artifact;
}
