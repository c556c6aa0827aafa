import { featurize, type FeatureSpec } from '../features/feature-pipeline.js';
import type { EmbeddingLookup } from '../training/train-predictors.js';
import type { AugmentSpec, DifficultySpec, ResponseModelSpec } from './augment-spec.js';
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
  /** A response model (`infoldResponses`): the one the artifact carries and new prompts see. */
  responses?: ResponseModelSpec;
  /**
   * Cross-fitted response-model values for the router's own training prompts: a training prompt in
   * inner part `innerPart(prompt, parts)` gets its values from `models[part]`, a response model that
   * never saw that part's responses. Not stored in the artifact.
   */
  responsesCrossFit?: { parts: number; models: ResponseModelSpec[] };
}

function pick<T>(cf: { parts: number; models: T[] }, prompt: string, what: string): T {
  const m = cf.models[innerPart(prompt, cf.parts)];
  if (!m) throw new Error(`${what} has ${cf.models.length} models for ${cf.parts} parts`);
  return m;
}

/** The difficulty model whose values a router TRAINING prompt gets (the cross-fitted one when there is one). */
export function trainingDifficulty(options: AugmentOptions, prompt: string): DifficultySpec | undefined {
  const cf = options.crossFit;
  if (!cf || !options.difficulty) return options.difficulty;
  return pick(cf, prompt, 'crossFit');
}

/** The response model whose values a router TRAINING prompt gets (the cross-fitted one when there is one). */
export function trainingResponses(options: AugmentOptions, prompt: string): ResponseModelSpec | undefined {
  const cf = options.responsesCrossFit;
  if (!cf || !options.responses) return options.responses;
  return pick(cf, prompt, 'responsesCrossFit');
}

/**
 * The feature spec a router TRAINING prompt is featurized with: `spec` itself, or with cross-fitting a
 * copy whose difficulty model and/or response model are the prompt's inner-part models (same
 * standardization and layout).
 */
export function trainingSpecOf(spec: FeatureSpec, options: AugmentOptions | undefined): (prompt: string) => FeatureSpec {
  const a = spec.augment;
  const cf = a?.difficulty ? options?.crossFit : undefined;
  const rf = a?.responses ? options?.responsesCrossFit : undefined;
  if (!a || (!cf && !rf)) return () => spec;
  // One spec object per combination of inner parts (feature specs cache their IDF tables per object).
  const variants = new Map<string, FeatureSpec>();
  return (prompt) => {
    const d = cf ? innerPart(prompt, cf.parts) : -1;
    const r = rf ? innerPart(prompt, rf.parts) : -1;
    const key = `${d}:${r}`;
    let s = variants.get(key);
    if (!s) {
      const augment: AugmentSpec = { ...a };
      if (cf) augment.difficulty = pick(cf, prompt, 'crossFit');
      if (rf) augment.responses = pick(rf, prompt, 'responsesCrossFit');
      variants.set(key, (s = { ...spec, augment }));
    }
    return s;
  };
}

/** The augmentation block for a router trained on `prompts`: its values' mean and spread on them. */
export function fitAugment(options: AugmentOptions, prompts: readonly string[], lookup?: EmbeddingLookup): AugmentSpec {
  const base = {
    ...(options.difficulty ? { difficulty: options.difficulty } : {}),
    ...(options.quantities ? { quantities: true } : {}),
    ...(options.responses ? { responses: options.responses } : {}),
  };
  const rows = prompts.map((p) => {
    const d = trainingDifficulty(options, p);
    const r = trainingResponses(options, p);
    const emb = d || r ? lookup?.(p) : undefined;
    return augmentRaw(
      { ...base, ...(d ? { difficulty: d } : {}), ...(r ? { responses: r } : {}) },
      p,
      d ? featurize(d.features, p, emb) : undefined,
      r ? featurize(r.features, p, emb) : undefined,
    );
  });
  const k = rows[0]?.length ?? 0;
  const mean = new Array<number>(k).fill(0), std = new Array<number>(k).fill(0);
  for (const r of rows) for (let i = 0; i < k; i++) mean[i]! += r[i]! / rows.length;
  for (const r of rows) for (let i = 0; i < k; i++) std[i]! += (r[i]! - mean[i]!) ** 2 / rows.length;
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return { ...base, mean: mean.map(r4), std: std.map((s) => r4(Math.sqrt(s)) || 1) };
}
