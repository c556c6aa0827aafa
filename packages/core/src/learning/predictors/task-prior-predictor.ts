import { CentroidIndex } from '../features/centroid-index.js';
import type { SparseVector } from '../features/sparse-vector.js';
import type { PredictorState, QualityPredictor, TrainingSet } from './types.js';

/** Softmax temperatures tried; the one giving the training prompts' own tasks the highest likelihood wins. */
export const TASK_TEMPERATURES: readonly number[] = [0.01, 0.02, 0.05, 0.1, 0.2];

/**
 * A prompt-derived task prior: a nearest-centroid task classifier (cosine similarity to each training
 * task's mean prompt vector on one feature block, softmax with a learned temperature) times each task's
 * observed mean quality per model. It knows "this looks like a college-physics question, where the weak
 * model is right 43% of the time" without being told the subject.
 */
export class TaskPriorPredictor implements QualityPredictor {
  readonly kind = 'task' as const;
  readonly outputs: number;
  private readonly sims: Float64Array<ArrayBufferLike>;

  constructor(
    readonly index: CentroidIndex,
    readonly tasks: string[],
    readonly temperature: number,
    /** Mean quality per task (rows) and model (columns). */
    readonly quality: number[][],
  ) {
    this.outputs = quality[0]?.length ?? 0;
    this.sims = new Float64Array(tasks.length);
  }

  /** Probability of each task for a prompt's features (order of `tasks`). */
  taskProbabilities(x: SparseVector, out = new Float64Array(this.tasks.length)): Float64Array {
    const s = this.index.similarities(x, this.sims);
    let max = -Infinity;
    for (let t = 0; t < s.length; t++) max = Math.max(max, s[t]!);
    let z = 0;
    for (let t = 0; t < s.length; t++) z += out[t] = Math.exp((s[t]! - max) / this.temperature);
    for (let t = 0; t < s.length; t++) out[t]! /= z;
    return out;
  }

  predict(x: SparseVector, out = new Float64Array(this.outputs)): Float64Array {
    const p = this.taskProbabilities(x);
    out.fill(0);
    for (let t = 0; t < p.length; t++) {
      const row = this.quality[t]!;
      for (let m = 0; m < this.outputs; m++) out[m]! += p[t]! * row[m]!;
    }
    return out;
  }

  toJSON(): PredictorState {
    return {
      kind: 'task',
      block: this.index.block,
      tasks: this.tasks,
      temperature: this.temperature,
      quality: this.quality.map((r) => r.map((v) => Number(v.toFixed(5)))),
      centroids: this.index.centroids.map(([i, v]) => [i, v.map((x) => Number(x.toPrecision(4)))]),
    };
  }

  static fromJSON(s: Extract<PredictorState, { kind: 'task' }>): TaskPriorPredictor {
    return new TaskPriorPredictor(new CentroidIndex(s.block, s.centroids), s.tasks, s.temperature, s.quality);
  }
}

/**
 * Fits the task prior on labelled training rows: one centroid per task, per-task mean quality smoothed
 * toward the overall mean by 5 pseudo-prompts, and the temperature that maximizes the likelihood of the
 * rows' own tasks. Given several feature blocks (hashed words, embedding), keeps the one whose
 * classifier gives the rows' own tasks the highest likelihood (training data only).
 */
export function trainTaskPrior(train: TrainingSet, taskOf: readonly string[], block: [number, number] | ReadonlyArray<[number, number]>): TaskPriorPredictor {
  const blocks = typeof block[0] === 'number' ? [block as [number, number]] : (block as ReadonlyArray<[number, number]>);
  let best: { p: TaskPriorPredictor; ll: number } | undefined;
  for (const b of blocks) {
    if (b[1] <= b[0]) continue;
    const fit = fitTaskPrior(train, taskOf, b);
    if (!best || fit.ll > best.ll) best = fit;
  }
  return (best ?? fitTaskPrior(train, taskOf, blocks[0]!)).p;
}

function fitTaskPrior(train: TrainingSet, taskOf: readonly string[], block: [number, number]): { p: TaskPriorPredictor; ll: number } {
  const M = train.outputs;
  const tasks = [...new Set(taskOf)].sort();
  const tIndex = new Map(tasks.map((t, i) => [t, i]));
  const group = taskOf.map((t) => tIndex.get(t)!);
  const index = CentroidIndex.fit(train.x, group, tasks.length, block);
  const qs = tasks.map(() => ({ s: new Float64Array(M), n: new Float64Array(M) }));
  const all = { s: new Float64Array(M), n: new Float64Array(M) };
  train.y.forEach((row, i) => {
    for (let m = 0; m < M; m++) {
      const y = row[m]!;
      if (Number.isNaN(y)) continue;
      qs[group[i]!]!.s[m]! += y;
      qs[group[i]!]!.n[m]!++;
      all.s[m]! += y;
      all.n[m]!++;
    }
  });
  const overall = Array.from(all.s, (s, m) => (all.n[m]! > 0 ? s / all.n[m]! : 0.5));
  const quality = qs.map((q) => overall.map((o, m) => (q.s[m]! + 5 * o) / (q.n[m]! + 5)));
  const sims = train.x.map((x) => index.similarities(x));
  let best = TASK_TEMPERATURES[0]!, bestLl = -Infinity;
  for (const temperature of TASK_TEMPERATURES) {
    let ll = 0;
    sims.forEach((s, i) => {
      let max = -Infinity;
      for (const v of s) max = Math.max(max, v);
      let z = 0;
      for (const v of s) z += Math.exp((v - max) / temperature);
      ll += (s[group[i]!]! - max) / temperature - Math.log(z);
    });
    if (ll > bestLl) {
      bestLl = ll;
      best = temperature;
    }
  }
  return { p: new TaskPriorPredictor(index, tasks, best, quality), ll: bestLl / Math.max(1, sims.length) };
}
