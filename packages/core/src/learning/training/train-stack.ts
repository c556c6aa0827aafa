import { fnv1a } from '../datasets/split-examples.js';
import { denseLogLoss, fitDenseLogistic, type DenseLogistic } from '../predictors/meta-logistic.js';
import { StackPredictor, logit } from '../predictors/stack-predictor.js';
import type { QualityPredictor, TrainingSet } from '../predictors/types.js';

/** One member of a stack: its predictor trained on all rows, and how to train it on a subset of rows. */
export interface StackMember {
  name: string;
  full: QualityPredictor;
  train(rows: readonly number[]): QualityPredictor;
}

export interface TrainStackOptions {
  /** Inner cross-validation folds for the out-of-fold member predictions. Default 5 (3 above 4 000 rows). */
  folds?: number;
  /** L2 penalties tried for the stacker; the one with the best inner-CV log-loss is kept. */
  l2Grid?: readonly number[];
  log?: (line: string) => void;
}

export const STACK_L2_GRID: readonly number[] = [0.3, 3, 30, 300];

/**
 * Trains a stack: every member is retrained on k-1 inner folds of the training rows and predicts the
 * k-th, giving out-of-fold predictions for every row; the stacker (one logistic regression per model on
 * all members' log-odds) is fitted on them, its L2 penalty chosen by cross-validation on those rows.
 * At decision time the stack uses the members trained on all rows (`full`). Nothing outside `set` is seen.
 */
export function trainStack(set: TrainingSet, ids: readonly string[], members: readonly StackMember[], options: TrainStackOptions = {}): StackPredictor {
  const n = set.x.length;
  const M = set.outputs;
  const K = options.folds ?? (n > 4000 ? 3 : 5);
  const fold = ids.map((id) => fnv1a(`stack:${id}`) % K);
  const F = Array.from({ length: n }, () => new Float64Array(members.length * M));
  const tmp = new Float64Array(M);
  for (let k = 0; k < K; k++) {
    const trainRows = fold.flatMap((f, i) => (f === k ? [] : [i]));
    const testRows = fold.flatMap((f, i) => (f === k ? [i] : []));
    if (trainRows.length === 0 || testRows.length === 0) continue;
    const t0 = Date.now();
    members.forEach((member, j) => {
      const p = member.train(trainRows);
      for (const i of testRows) {
        p.predict(set.x[i]!, tmp);
        for (let m = 0; m < M; m++) F[i]![j * M + m] = logit(tmp[m]!);
      }
    });
    options.log?.(`    stack inner fold ${k + 1}/${K}: ${members.map((m) => m.name).join(', ')} (${Date.now() - t0} ms)`);
  }
  const grid = options.l2Grid ?? STACK_L2_GRID;
  const l2 = grid.length === 1 ? grid[0]! : chooseL2(F, set.y, fold, K, M, grid);
  options.log?.(`    stack L2 ${l2} (chosen by ${K}-fold log-loss on out-of-fold rows from ${grid.join(', ')})`);
  const meta: DenseLogistic[] = [];
  for (let m = 0; m < M; m++) meta.push(fitDenseLogistic(F, set.y.map((r) => r[m]!), l2));
  return new StackPredictor(members.map((m) => m.full), meta);
}

/** The L2 penalty with the least summed log-loss over the inner folds (fitted on the other folds). */
function chooseL2(F: Float64Array[], y: readonly number[][], fold: readonly number[], K: number, M: number, grid: readonly number[]): number {
  let best = grid[0]!, bestLoss = Infinity;
  for (const l2 of grid) {
    let loss = 0;
    for (let k = 0; k < K; k++) {
      const tr = fold.flatMap((f, i) => (f === k ? [] : [i]));
      const te = fold.flatMap((f, i) => (f === k ? [i] : []));
      if (tr.length === 0 || te.length === 0) continue;
      for (let m = 0; m < M; m++) {
        const fit = fitDenseLogistic(tr.map((i) => F[i]!), tr.map((i) => y[i]![m]!), l2);
        loss += denseLogLoss(fit, te.map((i) => F[i]!), te.map((i) => y[i]![m]!)) * te.length;
      }
    }
    if (loss < bestLoss - 1e-9) {
      bestLoss = loss;
      best = l2;
    }
  }
  return best;
}
