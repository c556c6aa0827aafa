import { fnv1a } from '../datasets/split-examples.js';
import type { RoutingExample } from '../datasets/types.js';
import { DEFAULT_HASH_DIM, featureDim, featurize, fitFeatures } from '../features/feature-pipeline.js';
import { trainLogistic } from '../predictors/logistic-predictor.js';
import { PriorPredictor } from '../predictors/prior-predictor.js';
import { logLoss } from '../predictors/train-loop.js';
import { meanQuality, type TrainingSet } from '../predictors/types.js';
import type { EmbeddingLookup } from '../training/train-predictors.js';
import type { ResponseModelSpec } from './augment-spec.js';
import { RESPONSE_TARGETS, responseTargetLabels } from './response-targets.js';

/** A training prompt with the raw response targets of its responses (`responseTargetValues`). */
export interface ResponseRow {
  id: string;
  prompt: string;
  targets: readonly number[];
}

export interface TrainResponseModelOptions {
  /** The router's embedding block, when it has one (every prompt must have an embedding). */
  embedding?: { dim: number; model: string; lookup: EmbeddingLookup };
  hashDim?: number;
  seed?: number;
  /** What the rows are (for `source`). */
  label?: string;
}

/** How well a response model predicts its targets on 10% of its own prompts (not used for fitting). */
export interface ResponseModelReport {
  prompts: number;
  validation: { prompts: number; log_loss: number; prior_log_loss: number };
}

function toSet(spec: ResponseModelSpec['features'], prompts: readonly string[], labels: number[][], lookup: EmbeddingLookup | undefined): TrainingSet {
  return { x: prompts.map((p) => featurize(spec, p, lookup?.(p))), y: labels, dim: 0, outputs: RESPONSE_TARGETS.length };
}

/**
 * Learns a response model on `rows` only: the router's base prompt features (analysis, hashed TF-IDF
 * words, the embedding when given), one logistic regression per response target (soft labels from
 * `responseTargetLabels` of these rows), early-stopped on 10% of the rows.
 */
export function trainResponseModel(rows: readonly ResponseRow[], options: TrainResponseModelOptions = {}): { spec: ResponseModelSpec; report: ResponseModelReport } {
  if (rows.length < 20) throw new Error(`A response model needs at least 20 prompts with responses, got ${rows.length}`);
  for (const r of rows) if (r.targets.length !== RESPONSE_TARGETS.length) throw new Error(`Prompt ${r.id} has ${r.targets.length} response targets, expected ${RESPONSE_TARGETS.length}`);
  const labels = responseTargetLabels(rows.map((r) => r.targets));
  const isVal = (r: ResponseRow) => fnv1a(`resp-val:${r.id}`) % 10 === 0;
  const fitIdx = rows.flatMap((r, i) => (isVal(r) ? [] : [i]));
  const valIdx = rows.flatMap((r, i) => (isVal(r) ? [i] : []));
  const emb = options.embedding;
  const features = fitFeatures(
    fitIdx.map((i) => rows[i]!.prompt),
    { hashDim: options.hashDim ?? DEFAULT_HASH_DIM, ...(emb ? { embedding: { dim: emb.dim, model: emb.model } } : {}) },
  );
  const dim = featureDim(features);
  const train = { ...toSet(features, fitIdx.map((i) => rows[i]!.prompt), fitIdx.map((i) => labels[i]!), emb?.lookup), dim };
  const val = { ...toSet(features, valIdx.map((i) => rows[i]!.prompt), valIdx.map((i) => labels[i]!), emb?.lookup), dim };
  const predictor = trainLogistic(train, val.x.length ? val : undefined, { seed: options.seed ?? 1 });
  const prior = new PriorPredictor(meanQuality(train.y, RESPONSE_TARGETS.length));
  const source = `${options.label ?? 'responses'}: ${rows.length} prompts`;
  return {
    spec: { source, targets: RESPONSE_TARGETS.map((t) => t.name), features, predictor: predictor.toJSON() },
    report: { prompts: rows.length, validation: { prompts: val.x.length, log_loss: round4(logLoss(predictor, val)), prior_log_loss: round4(logLoss(prior, val)) } },
  };
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** Keeps `RoutingExample` ids and prompts of rows together (a helper for callers holding examples). */
export function responseRowsOf(examples: readonly RoutingExample[], targetsOf: (e: RoutingExample) => readonly number[] | undefined): ResponseRow[] {
  const out: ResponseRow[] = [];
  for (const e of examples) {
    const t = targetsOf(e);
    if (t) out.push({ id: e.id, prompt: e.prompt, targets: t });
  }
  return out;
}
