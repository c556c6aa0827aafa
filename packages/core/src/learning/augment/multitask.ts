import type { RoutingExample } from '../datasets/types.js';
import { featurize, type FeatureSpec } from '../features/feature-pipeline.js';
import { TwoLayerPredictor, trainTwoLayer, type TwoLayerOptions } from '../predictors/two-layer-predictor.js';
import type { TrainingSet } from '../predictors/types.js';
import type { EmbeddingLookup } from '../training/train-predictors.js';

/** Auxiliary outcomes to train a shared hidden layer on (`TrainPredictorsOptions.multitask`). */
export interface MultitaskOptions {
  /** Auxiliary prompts (already checked for overlap with the evaluated data) and their `outputs` scores. */
  examples: readonly RoutingExample[];
  outputs: number;
  /** Embeddings of the auxiliary prompts (default: the router's lookup). */
  lookup?: EmbeddingLookup | undefined;
}

/** The first `keep` outputs of a two-layer predictor (the hidden layer is shared, output columns are per model). */
export function keepOutputs(p: TwoLayerPredictor, keep: number): TwoLayerPredictor {
  const M = p.outputs, H = p.hidden;
  const w2 = new Float32Array(H * keep);
  for (let j = 0; j < H; j++) for (let m = 0; m < keep; m++) w2[j * keep + m] = p.w2[j * M + m]!;
  return new TwoLayerPredictor(p.dim, H, keep, p.activation, p.w1, p.b1, w2, p.b2.slice(0, keep));
}

/**
 * Multi-task training of the MLP / matrix factorization: one network with M + K outputs, trained on
 * the router's rows (its M models' outcomes; the K auxiliary outputs unknown) and the auxiliary rows
 * (K scores; the M outputs unknown), early-stopped on the router's validation rows only; the router
 * keeps the first M outputs. Auxiliary prompts without an embedding (when the spec needs one) are left out.
 */
export function trainMultitask(
  kind: 'mlp' | 'mf',
  train: TrainingSet,
  val: TrainingSet,
  spec: FeatureSpec,
  aux: MultitaskOptions,
  lookup: EmbeddingLookup | undefined,
  options: TwoLayerOptions,
  log?: (line: string) => void,
): TwoLayerPredictor {
  const M = train.outputs, K = aux.outputs;
  const auxLookup = aux.lookup ?? lookup;
  const usable = spec.embedding ? aux.examples.filter((e) => auxLookup?.(e.prompt) !== undefined) : aux.examples;
  if (usable.length < aux.examples.length) log?.(`    multitask: ${aux.examples.length - usable.length} auxiliary prompts without an embedding left out`);
  const pad = (row: readonly number[], before: number, after: number) => [...new Array<number>(before).fill(NaN), ...row, ...new Array<number>(after).fill(NaN)];
  const joint: TrainingSet = {
    x: [...train.x, ...usable.map((e) => featurize(spec, e.prompt, auxLookup?.(e.prompt)))],
    y: [...train.y.map((r) => pad(r, 0, K)), ...usable.map((e) => pad(e.quality, M, 0))],
    dim: train.dim,
    outputs: M + K,
  };
  const jointVal: TrainingSet = { x: val.x, y: val.y.map((r) => pad(r, 0, K)), dim: val.dim, outputs: M + K };
  return keepOutputs(trainTwoLayer(kind, joint, jointVal.x.length ? jointVal : undefined, options), M);
}
