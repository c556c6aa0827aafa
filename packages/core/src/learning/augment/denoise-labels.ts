import type { RoutingExample } from '../datasets/types.js';
import type { SparseVector } from '../features/sparse-vector.js';
import { trainLogistic } from '../predictors/logistic-predictor.js';
import type { AuxiliaryData } from './difficulty-model.js';
import { excludeOverlap, questionKeys } from './prompt-overlap.js';

/** What the in-fold label denoising did (per fold). */
export interface DenoiseFoldReport {
  /** Auxiliary prompts left after dropping every one that shares a question with the fold's test prompts. */
  kept: number;
  dropped_test_overlap: number;
  /** Training prompts with auxiliary outcomes (their targets were blended). */
  matched: number;
  training: number;
  /** Weight of the prediction in the blended target. */
  weight: number;
}

function unprefixed(key: string): string {
  return key.slice(key.indexOf(':') + 1);
}

/**
 * In-fold label denoising (`--augment denoise-infold`): a router training prompt that is also an
 * auxiliary prompt (same normalized text or question stem) gets, per router model, the target
 * `(1 - weight) * observed + weight * predicted`, where `predicted` comes from one logistic regression
 * per router model over the auxiliary models' scores on that prompt (and their mean), fitted on the
 * matched training prompts. A single greedy outcome says little about how hard a question is; 7 other
 * models' outcomes on it say more. Only training prompts change; the auxiliary outcomes of every prompt
 * sharing a question with `test` are dropped before anything is read.
 */
export function denoiseLabels(
  train: readonly RoutingExample[],
  test: readonly RoutingExample[],
  aux: AuxiliaryData,
  options: { weight?: number; tasks?: readonly string[]; seed?: number } = {},
): { train: RoutingExample[]; report: DenoiseFoldReport } {
  const weight = options.weight ?? 0.5;
  const tasks = options.tasks;
  const pool = tasks && tasks.length ? aux.examples.filter((e) => tasks.some((t) => e.task === t || e.task.startsWith(`${t}/`))) : aux.examples;
  const overlap = excludeOverlap(pool, (e) => e.prompt, test.map((e) => e.prompt));
  const K = aux.models.length;
  // Auxiliary rows by every key (normalized full text and stem); a training prompt takes the mean of its matches.
  const byKey = new Map<string, number[]>();
  overlap.kept.forEach((e, i) => {
    for (const k of questionKeys(e.prompt).map(unprefixed)) {
      const list = byKey.get(k);
      if (list) list.push(i);
      else byKey.set(k, [i]);
    }
  });
  const scoresOf = (e: RoutingExample): number[] | undefined => {
    const rows = new Set<number>();
    for (const k of questionKeys(e.prompt).map(unprefixed)) for (const i of byKey.get(k) ?? []) rows.add(i);
    if (rows.size === 0) return undefined;
    const s = new Array<number>(K).fill(0), n = new Array<number>(K).fill(0);
    for (const i of rows) {
      const q = overlap.kept[i]!.quality;
      for (let m = 0; m < K; m++) if (!Number.isNaN(q[m]!)) (s[m]! += q[m]!), n[m]!++;
    }
    return s.map((v, m) => (n[m]! ? v / n[m]! : NaN));
  };
  const matched = train.map((e) => scoresOf(e));
  const idx = matched.flatMap((s, i) => (s ? [i] : []));
  const report: DenoiseFoldReport = { kept: overlap.kept.length, dropped_test_overlap: overlap.dropped, matched: idx.length, training: train.length, weight };
  if (idx.length < 20) return { train: [...train], report };
  // Column means fill unknown scores; features: the K scores centred, and their mean.
  const colMean = new Array<number>(K).fill(0), colN = new Array<number>(K).fill(0);
  for (const i of idx) matched[i]!.forEach((v, m) => { if (!Number.isNaN(v)) (colMean[m]! += v), colN[m]!++; });
  for (let m = 0; m < K; m++) colMean[m] = colN[m]! ? colMean[m]! / colN[m]! : 0.5;
  const featuresOf = (s: number[]): SparseVector => {
    const f = s.map((v, m) => (Number.isNaN(v) ? colMean[m]! : v));
    const mean = f.reduce((a, b) => a + b, 0) / Math.max(1, K);
    const value = Float32Array.from([...f.map((v, m) => v - colMean[m]!), mean]);
    return { index: Int32Array.from(value.keys()), value };
  };
  const outputs = train[0]?.quality.length ?? 0;
  const x = idx.map((i) => featuresOf(matched[i]!));
  const model = trainLogistic({ x, y: idx.map((i) => train[i]!.quality), dim: K + 1, outputs }, undefined, { seed: options.seed ?? 1, epochs: 40 });
  const out = [...train];
  idx.forEach((i, j) => {
    const p = model.predict(x[j]!);
    const e = train[i]!;
    out[i] = { ...e, quality: e.quality.map((q, m) => (Number.isNaN(q) ? q : (1 - weight) * q + weight * p[m]!)) };
  });
  return { train: out, report };
}
