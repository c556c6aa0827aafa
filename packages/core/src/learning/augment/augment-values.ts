import { LLMError } from '../../errors/llm-error.js';
import type { SparseVector } from '../features/sparse-vector.js';
import { loadPredictor } from '../predictors/load-predictor.js';
import type { QualityPredictor } from '../predictors/types.js';
import type { AugmentSpec, DifficultySpec, ResponseModelSpec } from './augment-spec.js';
import { QUANTITY_FEATURES, quantityFeatures } from './quantity-features.js';

const loaded = new WeakMap<DifficultySpec, QualityPredictor>();

/** The difficulty model's predictor (rebuilt from its state once per spec object). */
export function difficultyPredictor(d: DifficultySpec): QualityPredictor {
  let p = loaded.get(d);
  if (!p) {
    p = loadPredictor(d.predictor);
    if (p.outputs !== d.models.length) {
      throw new LLMError({ code: 'invalid_request', message: `Difficulty model predicts ${p.outputs} scores but names ${d.models.length} models`, param: 'features.augment.difficulty.predictor' });
    }
    loaded.set(d, p);
  }
  return p;
}

const loadedResponses = new WeakMap<ResponseModelSpec, QualityPredictor>();

/** The response model's predictor (rebuilt from its state once per spec object). */
export function responsePredictor(r: ResponseModelSpec): QualityPredictor {
  let p = loadedResponses.get(r);
  if (!p) {
    p = loadPredictor(r.predictor);
    if (p.outputs !== r.targets.length) {
      throw new LLMError({ code: 'invalid_request', message: `Response model predicts ${p.outputs} values but names ${r.targets.length} targets`, param: 'features.augment.responses.predictor' });
    }
    loadedResponses.set(r, p);
  }
  return p;
}

/** Number of values the block adds. */
export function augmentDim(a: Omit<AugmentSpec, 'mean' | 'std'>): number {
  const d = a.difficulty ? (a.difficulty.mode === 'mean' ? 1 : a.difficulty.models.length + 1) : 0;
  return d + (a.quantities ? QUANTITY_FEATURES.length : 0) + (a.responses ? a.responses.targets.length : 0);
}

function logit(p: number): number {
  const q = Math.min(1 - 1e-4, Math.max(1e-4, p));
  return Math.log(q / (1 - q));
}

/**
 * The block's raw (unstandardized) values for a prompt: the difficulty model's logits (its input is
 * `auxX`, the prompt featurized with the difficulty model's own spec), then the quantity features,
 * then the response model's logits (its input is `respX`, the prompt featurized with its own spec).
 */
export function augmentRaw(a: Omit<AugmentSpec, 'mean' | 'std'>, text: string, auxX: SparseVector | undefined, respX?: SparseVector): number[] {
  const out: number[] = [];
  if (a.difficulty) {
    if (!auxX) throw new LLMError({ code: 'invalid_request', message: 'The difficulty model needs the prompt featurized with its own spec', param: 'features.augment' });
    const p = difficultyPredictor(a.difficulty).predict(auxX);
    let mean = 0;
    for (let m = 0; m < p.length; m++) mean += p[m]!;
    mean /= Math.max(1, p.length);
    if (a.difficulty.mode === 'per-model') for (let m = 0; m < p.length; m++) out.push(logit(p[m]!));
    out.push(logit(mean));
  }
  if (a.quantities) out.push(...quantityFeatures(text));
  if (a.responses) {
    if (!respX) throw new LLMError({ code: 'invalid_request', message: 'The response model needs the prompt featurized with its own spec', param: 'features.augment.responses' });
    const p = responsePredictor(a.responses).predict(respX);
    for (let t = 0; t < p.length; t++) out.push(logit(p[t]!));
  }
  return out;
}

/** Standardized block values (what the predictors see). */
export function augmentValues(a: AugmentSpec, text: string, auxX: SparseVector | undefined, respX?: SparseVector): number[] {
  const raw = augmentRaw(a, text, auxX, respX);
  if (a.mean.length !== raw.length || a.std.length !== raw.length) {
    throw new LLMError({ code: 'invalid_request', message: `Augmentation block has ${raw.length} values but its standardization has ${a.mean.length}`, param: 'features.augment.mean' });
  }
  return raw.map((v, i) => (v - a.mean[i]!) / (a.std[i]! || 1));
}
