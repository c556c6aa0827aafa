import type { RoutingExample } from '../datasets/types.js';
import { trainLogistic } from '../predictors/logistic-predictor.js';
import { trainTaskPrior } from '../predictors/task-prior-predictor.js';
import { trainTwoLayer } from '../predictors/two-layer-predictor.js';
import type { PredictorKind, QualityPredictor, TrainingSet } from '../predictors/types.js';
import type { StackMember } from './train-stack.js';

export interface StackMembersInput {
  train: TrainingSet;
  /** Early-stopping set of the parametric members (the validation share, never an inner fold). */
  val: TrainingSet;
  /** The examples behind `train`'s rows (their task labels feed the task member). */
  examples: readonly RoutingExample[];
  /** Predictors already trained on all of `train`, reused as the stack's full members. */
  predictors: ReadonlyMap<PredictorKind, QualityPredictor>;
  /** Feature blocks the task prior may compare prompts on (it keeps the one that best explains the tasks). */
  taskBlocks: ReadonlyArray<[number, number]>;
  hyper: { seed: number; l2?: number; learningRate?: number; hidden?: number; epochs?: number };
}

function subset(set: TrainingSet, rows: readonly number[]): TrainingSet {
  return { x: rows.map((i) => set.x[i]!), y: rows.map((i) => set.y[i]!), dim: set.dim, outputs: set.outputs };
}

/** Members of the stack: kinds trained per inner fold (kNN is left out: too slow at decision time). */
export const STACK_MEMBER_KINDS: readonly PredictorKind[] = ['logistic', 'mlp', 'task'];

/**
 * The stack's members: logistic regression, the MLP and, when the training prompts span two tasks or
 * more, the task prior (which benchmark or subject the prompt looks like, and how each model does there).
 */
export function stackMembers(input: StackMembersInput, kinds: readonly PredictorKind[] = STACK_MEMBER_KINDS): StackMember[] {
  const { train, val, examples, predictors, taskBlocks, hyper } = input;
  const allRows = train.x.map((_, i) => i);
  const members: StackMember[] = [];
  const add = (name: PredictorKind, fit: (rows: readonly number[]) => QualityPredictor) => members.push({ name, full: predictors.get(name) ?? fit(allRows), train: fit });
  const tasks = examples.map((e) => e.task);
  for (const kind of kinds) {
    if (kind === 'logistic') add(kind, (rows) => trainLogistic(subset(train, rows), val, hyper));
    else if (kind === 'mf' || kind === 'mlp') add(kind, (rows) => trainTwoLayer(kind, subset(train, rows), val, hyper));
    else if (kind === 'task' && new Set(tasks).size >= 2) add(kind, (rows) => trainTaskPrior(subset(train, rows), rows.map((i) => tasks[i]!), taskBlocks));
  }
  return members;
}
