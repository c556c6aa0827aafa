import { featurize } from '../features/feature-pipeline.js';
import type { EmbeddingLookup } from '../training/train-predictors.js';
import type { AugmentSpec, DifficultySpec } from './augment-spec.js';
import { augmentRaw } from './augment-values.js';

/** What to append to the router's features (`TrainPredictorsOptions.augment`). */
export interface AugmentOptions {
  /** A trained auxiliary difficulty model (`trainDifficultyModel`). */
  difficulty?: DifficultySpec;
  /** Word-problem structure features. */
  quantities?: boolean;
}

/** The augmentation block for a router trained on `prompts`: its values' mean and spread on them. */
export function fitAugment(options: AugmentOptions, prompts: readonly string[], lookup?: EmbeddingLookup): AugmentSpec {
  const base = { ...(options.difficulty ? { difficulty: options.difficulty } : {}), ...(options.quantities ? { quantities: true } : {}) };
  const rows = prompts.map((p) => augmentRaw(base, p, options.difficulty ? featurize(options.difficulty.features, p, lookup?.(p)) : undefined));
  const k = rows[0]?.length ?? 0;
  const mean = new Array<number>(k).fill(0), std = new Array<number>(k).fill(0);
  for (const r of rows) for (let i = 0; i < k; i++) mean[i]! += r[i]! / rows.length;
  for (const r of rows) for (let i = 0; i < k; i++) std[i]! += (r[i]! - mean[i]!) ** 2 / rows.length;
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return { ...base, mean: mean.map(r4), std: std.map((s) => r4(Math.sqrt(s)) || 1) };
}
