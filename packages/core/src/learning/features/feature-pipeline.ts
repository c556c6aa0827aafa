import { LLMError } from '../../errors/llm-error.js';
import type { AugmentSpec } from '../augment/augment-spec.js';
import { augmentDim, augmentValues, difficultyPredictor, responsePredictor } from '../augment/augment-values.js';
import { fnv1a } from '../datasets/split-examples.js';
import { checkPredictorState, finite, numbers } from '../predictors/check-predictor-state.js';
import { ANALYSIS_DIM, analysisVector, analyzePrompt } from './analyze-prompt.js';
import type { SparseVector } from './sparse-vector.js';
import { STRUCTURE_DIM, structureFeatures } from './structure-features.js';
import { tokenize } from './tokenize.js';

/** The persisted description of how prompts become feature vectors (part of the model artifact). */
export interface FeatureSpec {
  /** Which blocks are used. */
  analysis: boolean;
  /** Hashed word unigrams + bigrams, TF-IDF weighted, L2-normalized; 0 = off. */
  hashDim: number;
  /** IDF per hash bucket, learned on the training prompts: buckets seen in training, the rest get `fallback`. */
  idf?: { fallback: number; index: number[]; value: number[] };
  /** Embedding block: dimension and the embedder's name; absent = no embedding. */
  embedding?: { dim: number; model: string };
  /** Standardization of the analysis block (learned on the training prompts). */
  analysisMean?: number[];
  analysisStd?: number[];
  /**
   * Appended block (optional): an auxiliary difficulty model's predictions and/or word-problem
   * structure features, standardized. Absent in artifacts trained without `--augment`.
   */
  augment?: AugmentSpec;
  /**
   * Quantitative-structure block (`STRUCTURE_FEATURES`, opt-in: `--features +structure`), centred on
   * the training prompts' mean and divided by max(their spread, `STRUCTURE_MIN_STD`). Placed last, so
   * the other blocks keep their offsets. Absent in artifacts trained without it.
   */
  structure?: { mean: number[]; std: number[] };
}

/** Floor of the structure block's spread: a value rare in training cannot blow up to hundreds. */
export const STRUCTURE_MIN_STD = 0.1;

export interface FeatureBlocks {
  analysis: [number, number];
  embedding: [number, number];
  hashed: [number, number];
  /** The augmentation block (empty when there is none). */
  augment: [number, number];
  /** The structure block (empty when there is none). */
  structure: [number, number];
}

/** Start/end offsets of each block in the full vector. */
export function featureBlocks(spec: FeatureSpec): FeatureBlocks {
  const a = spec.analysis ? ANALYSIS_DIM : 0;
  const e = spec.embedding?.dim ?? 0;
  const h = a + e + spec.hashDim;
  const g = h + (spec.augment ? augmentDim(spec.augment) : 0);
  return { analysis: [0, a], embedding: [a, a + e], hashed: [a + e, h], augment: [h, g], structure: [g, g + (spec.structure ? STRUCTURE_DIM : 0)] };
}

const denseIdf = new WeakMap<FeatureSpec, Float32Array>();

/** The IDF table as a dense array (built once per spec). */
function idfTable(spec: FeatureSpec): Float32Array | undefined {
  const s = spec.idf;
  if (!s) return undefined;
  let t = denseIdf.get(spec);
  if (!t) {
    t = new Float32Array(spec.hashDim).fill(s.fallback);
    for (let k = 0; k < s.index.length; k++) t[s.index[k]!] = s.value[k]!;
    denseIdf.set(spec, t);
  }
  return t;
}

export function featureDim(spec: FeatureSpec): number {
  return featureBlocks(spec).structure[1];
}

/**
 * Checks a loaded spec's sizes (the analysis and structure standardizations, the hash and embedding
 * sizes, the IDF table, the augmentation block: its standardization and its auxiliary models, their own
 * specs and predictors) and returns its feature dimension. Throws an `invalid_request` LLMError naming
 * the field (`features.analysisMean`, `features.augment.mean`, ...).
 */
export function checkFeatureSpec(spec: FeatureSpec, path = 'features'): number {
  const bad = (field: string, message: string) => new LLMError({ code: 'invalid_request', message: `Router model ${path}.${field}: ${message}`, param: `${path}.${field}` });
  const sized = (field: string, a: unknown, n: number) => {
    if (a !== undefined && (!Array.isArray(a) || a.length !== n)) throw bad(field, `expected ${n} values, got ${Array.isArray(a) ? a.length : JSON.stringify(a)}`);
    // Text would be coerced by some arithmetic and concatenated by the rest: only finite numbers.
    const at = Array.isArray(a) ? a.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v)) : -1;
    if (at >= 0) throw bad(`${field}.${at}`, `${JSON.stringify((a as unknown[])[at])?.slice(0, 40)} is not a finite number`);
  };
  if (!Number.isInteger(spec?.hashDim) || spec.hashDim < 0) throw bad('hashDim', `expected a whole number >= 0, got ${JSON.stringify(spec?.hashDim)}`);
  if (spec.embedding && (!Number.isInteger(spec.embedding.dim) || spec.embedding.dim < 1)) throw bad('embedding.dim', `expected a whole number >= 1, got ${JSON.stringify(spec.embedding.dim)}`);
  sized('analysisMean', spec.analysisMean, spec.analysis ? ANALYSIS_DIM : 0);
  sized('analysisStd', spec.analysisStd, spec.analysis ? ANALYSIS_DIM : 0);
  if (spec.structure) {
    sized('structure.mean', spec.structure.mean ?? null, STRUCTURE_DIM);
    sized('structure.std', spec.structure.std ?? null, STRUCTURE_DIM);
  }
  if (spec.idf) {
    sized('idf.value', spec.idf.value ?? null, Array.isArray(spec.idf.index) ? spec.idf.index.length : -1);
    finite(`${path}.idf.fallback`, spec.idf.fallback);
    const out = spec.idf.index.findIndex((i) => !Number.isInteger(i) || i < 0 || i >= spec.hashDim);
    if (out >= 0) throw bad(`idf.index.${out}`, `bucket ${JSON.stringify(spec.idf.index[out])} is outside the ${spec.hashDim} hash buckets`);
  }
  if (spec.augment) checkAugment(spec.augment, `${path}.augment`, bad);
  return featureDim(spec);
}

/** The augmentation block: each auxiliary model fits its own spec and names as many outputs as it predicts; the standardization fits the block. */
function checkAugment(a: AugmentSpec, path: string, bad: (field: string, message: string) => LLMError): void {
  const names = (field: string, list: unknown) => {
    if (!Array.isArray(list) || list.length === 0) throw bad(field, `expected a list of names, got ${JSON.stringify(list)}`);
  };
  if (a.difficulty) {
    names('augment.difficulty.models', a.difficulty.models);
    checkPredictorState(a.difficulty.predictor, checkFeatureSpec(a.difficulty.features, `${path}.difficulty.features`), `${path}.difficulty.predictor`);
    difficultyPredictor(a.difficulty);
  }
  if (a.responses) {
    names('augment.responses.targets', a.responses.targets);
    checkPredictorState(a.responses.predictor, checkFeatureSpec(a.responses.features, `${path}.responses.features`), `${path}.responses.predictor`);
    responsePredictor(a.responses);
  }
  const n = augmentDim(a);
  for (const field of ['mean', 'std'] as const) {
    const v = a[field];
    if (!Array.isArray(v) || v.length !== n) throw bad(`augment.${field}`, `expected ${n} values (one per value of the block), got ${Array.isArray(v) ? v.length : JSON.stringify(v)}`);
    numbers(`${path}.${field}`, v, n, field);
  }
}

/**
 * Hash buckets of the unigrams and bigrams (a bigram hashes its two word hashes together), sorted, as
 * parallel arrays of unique bucket ids and their counts. Typed arrays only: this is on the decision path.
 */
function hashedCounts(tokens: readonly string[], dim: number): { ids: Int32Array; counts: Int32Array } {
  const n = tokens.length;
  const all = new Int32Array(Math.max(0, 2 * n - 1));
  let prev = 0, k = 0;
  for (let i = 0; i < n; i++) {
    const h = fnv1a(tokens[i]!);
    all[k++] = h % dim;
    if (i > 0) {
      const b = (Math.imul(prev ^ 0x9e3779b9, 0x85ebca6b) ^ h) >>> 0;
      all[k++] = (Math.imul(b ^ (b >>> 16), 0x7feb352d) >>> 0) % dim;
    }
    prev = h;
  }
  all.sort();
  const ids = new Int32Array(k);
  const counts = new Int32Array(k);
  let u = -1;
  for (let i = 0; i < k; i++) {
    if (u >= 0 && ids[u] === all[i]) counts[u]!++;
    else {
      ids[++u] = all[i]!;
      counts[u] = 1;
    }
  }
  return { ids: ids.subarray(0, u + 1), counts: counts.subarray(0, u + 1) };
}

/** Hash buckets of the TF-IDF block: 2^16 (fewer collisions than 2^14 measured better on MMLU validation data). */
export const DEFAULT_HASH_DIM = 1 << 16;

export interface FitFeaturesOptions {
  analysis?: boolean;
  hashDim?: number;
  embedding?: { dim: number; model: string };
  /** Add the quantitative-structure block (`STRUCTURE_FEATURES`). Default false. */
  structure?: boolean;
}

/** Learns IDF and the analysis standardization from the training prompts. */
export function fitFeatures(prompts: readonly string[], options: FitFeaturesOptions = {}): FeatureSpec {
  const spec: FeatureSpec = { analysis: options.analysis ?? true, hashDim: options.hashDim ?? DEFAULT_HASH_DIM };
  if (options.embedding) spec.embedding = options.embedding;
  if (spec.hashDim > 0) {
    const df = new Float64Array(spec.hashDim);
    for (const p of prompts) for (const h of hashedCounts(tokenize(p), spec.hashDim).ids) df[h]!++;
    const n = prompts.length;
    const idf = { fallback: round4(Math.log(1 + n) + 1), index: [] as number[], value: [] as number[] };
    df.forEach((d, i) => {
      if (d === 0) return;
      idf.index.push(i);
      idf.value.push(round4(Math.log((1 + n) / (1 + d)) + 1));
    });
    spec.idf = idf;
  }
  if (spec.analysis) {
    const sum = new Float64Array(ANALYSIS_DIM);
    const sq = new Float64Array(ANALYSIS_DIM);
    const v = new Float32Array(ANALYSIS_DIM);
    for (const p of prompts) {
      analysisVector(analyzePrompt(p), v);
      for (let i = 0; i < ANALYSIS_DIM; i++) {
        sum[i]! += v[i]!;
        sq[i]! += v[i]! * v[i]!;
      }
    }
    const n = Math.max(1, prompts.length);
    spec.analysisMean = Array.from(sum, (s) => round4(s / n));
    spec.analysisStd = Array.from(sq, (s, i) => round4(Math.sqrt(Math.max(1e-8, s / n - (sum[i]! / n) ** 2)) || 1));
  }
  if (options.structure) spec.structure = fitStructure(prompts);
  return spec;
}

/** Mean and floored spread of the structure values over the training prompts (no labels involved). */
function fitStructure(prompts: readonly string[]): { mean: number[]; std: number[] } {
  const sum = new Float64Array(STRUCTURE_DIM);
  const sq = new Float64Array(STRUCTURE_DIM);
  const v = new Array<number>(STRUCTURE_DIM);
  for (const p of prompts) {
    structureFeatures(p, v);
    for (let i = 0; i < STRUCTURE_DIM; i++) {
      sum[i]! += v[i]!;
      sq[i]! += v[i]! * v[i]!;
    }
  }
  const n = Math.max(1, prompts.length);
  return {
    mean: Array.from(sum, (s) => round4(s / n)),
    std: Array.from(sq, (s, i) => round4(Math.max(STRUCTURE_MIN_STD, Math.sqrt(Math.max(0, s / n - (sum[i]! / n) ** 2))))),
  };
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/**
 * Turns a prompt (and its embedding, when the spec has an embedding block) into a sparse vector:
 * [standardized analysis | embedding | hashed TF-IDF | augmentation | structure]. Embedding and hashed
 * blocks are L2-normalized.
 */
export function featurize(spec: FeatureSpec, text: string, embedding?: ArrayLike<number>): SparseVector {
  const blocks = featureBlocks(spec);
  const idx: number[] = [];
  const val: number[] = [];
  const tokens = tokenize(text, 1024);
  if (spec.analysis) {
    const v = analysisVector(analyzePrompt(text, tokens));
    const mean = spec.analysisMean, std = spec.analysisStd;
    // The constant slot (index 9) stays 1 so it acts as a bias.
    for (let i = 0; i < ANALYSIS_DIM; i++) {
      idx.push(i);
      val.push(i === 9 ? 1 : (v[i]! - (mean?.[i] ?? 0)) / (std?.[i] ?? 1));
    }
  }
  if (spec.embedding) {
    if (!embedding || embedding.length !== spec.embedding.dim) {
      throw new LLMError({
        code: 'invalid_request',
        message: `This router model needs a ${spec.embedding.dim}-d embedding of the prompt (${spec.embedding.model}); got ${embedding ? `${embedding.length}-d` : 'none'}`,
        param: 'embedding',
      });
    }
    let n = 0;
    for (let i = 0; i < embedding.length; i++) n += embedding[i]! * embedding[i]!;
    n = Math.sqrt(n) || 1;
    for (let i = 0; i < embedding.length; i++) {
      idx.push(blocks.embedding[0] + i);
      val.push(embedding[i]! / n);
    }
  }
  if (spec.hashDim > 0) {
    const { ids, counts } = hashedCounts(tokens.length > 512 ? tokens.slice(0, 512) : tokens, spec.hashDim);
    const w = new Float64Array(ids.length);
    const idf = idfTable(spec);
    let n = 0;
    for (let k = 0; k < ids.length; k++) {
      const x = (1 + Math.log(counts[k]!)) * (idf ? idf[ids[k]!]! : 1);
      w[k] = x;
      n += x * x;
    }
    n = Math.sqrt(n) || 1;
    const base = blocks.hashed[0];
    for (let k = 0; k < ids.length; k++) {
      idx.push(base + ids[k]!);
      val.push(w[k]! / n);
    }
  }
  if (spec.augment) {
    const a = spec.augment;
    const auxX = a.difficulty ? featurize(a.difficulty.features, text, embedding) : undefined;
    const respX = a.responses ? featurize(a.responses.features, text, embedding) : undefined;
    const values = augmentValues(a, text, auxX, respX);
    for (let i = 0; i < values.length; i++) {
      idx.push(blocks.augment[0] + i);
      val.push(values[i]!);
    }
  }
  if (spec.structure) {
    const { mean, std } = spec.structure;
    if (mean.length !== STRUCTURE_DIM || std.length !== STRUCTURE_DIM) {
      throw new LLMError({ code: 'invalid_request', message: `The structure block has ${STRUCTURE_DIM} values but its standardization has ${mean.length}/${std.length}`, param: 'features.structure.mean' });
    }
    const v = structureFeatures(text);
    for (let i = 0; i < STRUCTURE_DIM; i++) {
      idx.push(blocks.structure[0] + i);
      val.push((v[i]! - mean[i]!) / (std[i]! || 1));
    }
  }
  return { index: Int32Array.from(idx), value: Float32Array.from(val) };
}
