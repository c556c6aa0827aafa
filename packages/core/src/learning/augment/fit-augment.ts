import { featurize, type FeatureSpec } from '../features/feature-pipeline.js';
import type { EmbeddingLookup } from '../training/train-predictors.js';
import type { AugmentSpec, DifficultySpec } from './augment-spec.js';
import { augmentRaw } from './augment-values.js';
import { innerPart } from './inner-part.js';

/** What to append to the router's features (`TrainPredictorsOptions.augment`). */
export interface AugmentOptions {
  /** A trained auxiliary difficulty model (`trainDifficultyModel`): the one the artifact carries and new prompts see. */
  difficulty?: DifficultySpec;
  /** Word-problem structure features. */
  quantities?: boolean;
  /**
   * Cross-fitted difficulty values for the router's own training prompts (`infoldAugment`): a training
   * prompt in inner part `innerPart(prompt, parts)` gets its values from `models[part]`, a difficulty
   * model that never saw that part's auxiliary outcomes. Not stored in the artifact.
   */
  crossFit?: { parts: number; models: DifficultySpec[] };
}

/** The difficulty model whose values a router TRAINING prompt gets (the cross-fitted one when there is one). */
export function trainingDifficulty(options: AugmentOptions, prompt: string): DifficultySpec | undefined {
  const cf = options.crossFit;
  if (!cf || !options.difficulty) return options.difficulty;
  const m = cf.models[innerPart(prompt, cf.parts)];
  if (!m) throw new Error(`crossFit has ${cf.models.length} models for ${cf.parts} parts`);
  return m;
}

/**
 * The feature spec a router TRAINING prompt is featurized with: `spec` itself, or with cross-fitting a
 * copy whose difficulty model is the prompt's inner-part model (same standardization and layout).
 */
export function trainingSpecOf(spec: FeatureSpec, options: AugmentOptions | undefined): (prompt: string) => FeatureSpec {
  const cf = options?.crossFit;
  const a = spec.augment;
  if (!cf || !a?.difficulty || !options) return () => spec;
  const variants = cf.models.map((d): FeatureSpec => ({ ...spec, augment: { ...a, difficulty: d } }));
  return (prompt) => variants[innerPart(prompt, cf.parts)]!;
}

/** The augmentation block for a router trained on `prompts`: its values' mean and spread on them. */
export function fitAugment(options: AugmentOptions, prompts: readonly string[], lookup?: EmbeddingLookup): AugmentSpec {
  const base = { ...(options.difficulty ? { difficulty: options.difficulty } : {}), ...(options.quantities ? { quantities: true } : {}) };
  const rows = prompts.map((p) => {
    const d = trainingDifficulty(options, p);
    return augmentRaw({ ...base, ...(d ? { difficulty: d } : {}) }, p, d ? featurize(d.features, p, lookup?.(p)) : undefined);
  });
  const k = rows[0]?.length ?? 0;
  const mean = new Array<number>(k).fill(0), std = new Array<number>(k).fill(0);
  for (const r of rows) for (let i = 0; i < k; i++) mean[i]! += r[i]! / rows.length;
  for (const r of rows) for (let i = 0; i < k; i++) std[i]! += (r[i]! - mean[i]!) ** 2 / rows.length;
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return { ...base, mean: mean.map(r4), std: std.map((s) => r4(Math.sqrt(s)) || 1) };
}
