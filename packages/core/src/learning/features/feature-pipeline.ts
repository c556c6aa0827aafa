import { LLMError } from '../../errors/llm-error.js';
import { fnv1a } from '../datasets/split-examples.js';
import { ANALYSIS_DIM, analysisVector, analyzePrompt } from './analyze-prompt.js';
import type { SparseVector } from './sparse-vector.js';
import { tokenize } from './tokenize.js';

/** The persisted description of how prompts become feature vectors (part of the model artifact). */
export interface FeatureSpec {
  /** Which blocks are used. */
  analysis: boolean;
  /** Hashed word unigrams + bigrams, TF-IDF weighted, L2-normalized; 0 = off. */
  hashDim: number;
  /** IDF per hash bucket (length `hashDim`), learned on the training prompts. */
  idf?: number[];
  /** Embedding block: dimension and the embedder's name; absent = no embedding. */
  embedding?: { dim: number; model: string };
  /** Standardization of the analysis block (learned on the training prompts). */
  analysisMean?: number[];
  analysisStd?: number[];
}

export interface FeatureBlocks {
  analysis: [number, number];
  embedding: [number, number];
  hashed: [number, number];
}

/** Start/end offsets of each block in the full vector. */
export function featureBlocks(spec: FeatureSpec): FeatureBlocks {
  const a = spec.analysis ? ANALYSIS_DIM : 0;
  const e = spec.embedding?.dim ?? 0;
  return { analysis: [0, a], embedding: [a, a + e], hashed: [a + e, a + e + spec.hashDim] };
}

export function featureDim(spec: FeatureSpec): number {
  return featureBlocks(spec).hashed[1];
}

function hashedCounts(text: string, dim: number): Map<number, number> {
  const tokens = tokenize(text);
  const counts = new Map<number, number>();
  const add = (s: string) => {
    const h = fnv1a(s) % dim;
    counts.set(h, (counts.get(h) ?? 0) + 1);
  };
  for (let i = 0; i < tokens.length; i++) {
    add(tokens[i]!);
    if (i > 0) add(`${tokens[i - 1]!} ${tokens[i]!}`);
  }
  return counts;
}

export interface FitFeaturesOptions {
  analysis?: boolean;
  hashDim?: number;
  embedding?: { dim: number; model: string };
}

/** Learns IDF and the analysis standardization from the training prompts. */
export function fitFeatures(prompts: readonly string[], options: FitFeaturesOptions = {}): FeatureSpec {
  const spec: FeatureSpec = { analysis: options.analysis ?? true, hashDim: options.hashDim ?? 1 << 14 };
  if (options.embedding) spec.embedding = options.embedding;
  if (spec.hashDim > 0) {
    const df = new Float64Array(spec.hashDim);
    for (const p of prompts) for (const h of hashedCounts(p, spec.hashDim).keys()) df[h]!++;
    const n = prompts.length;
    spec.idf = Array.from(df, (d) => round4(Math.log((1 + n) / (1 + d)) + 1));
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
  return spec;
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/**
 * Turns a prompt (and its embedding, when the spec has an embedding block) into a sparse vector:
 * [standardized analysis | embedding | hashed TF-IDF]. Embedding and hashed blocks are L2-normalized.
 */
export function featurize(spec: FeatureSpec, text: string, embedding?: ArrayLike<number>): SparseVector {
  const blocks = featureBlocks(spec);
  const idx: number[] = [];
  const val: number[] = [];
  if (spec.analysis) {
    const v = analysisVector(analyzePrompt(text));
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
    const counts = [...hashedCounts(text, spec.hashDim)].sort((a, b) => a[0] - b[0]);
    let n = 0;
    const w = counts.map(([h, c]) => {
      const x = (1 + Math.log(c)) * (spec.idf?.[h] ?? 1);
      n += x * x;
      return x;
    });
    n = Math.sqrt(n) || 1;
    counts.forEach(([h], k) => {
      idx.push(blocks.hashed[0] + h);
      val.push(w[k]! / n);
    });
  }
  return { index: Int32Array.from(idx), value: Float32Array.from(val) };
}
