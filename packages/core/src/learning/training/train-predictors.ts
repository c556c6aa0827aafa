import { fitAugment, trainingSpecOf, type AugmentOptions } from '../augment/fit-augment.js';
import { trainMultitask, type MultitaskOptions } from '../augment/multitask.js';
import { fnv1a } from '../datasets/split-examples.js';
import type { RoutingExample } from '../datasets/types.js';
import { DEFAULT_HASH_DIM, featureBlocks, featureDim, featurize, fitFeatures, type FeatureSpec } from '../features/feature-pipeline.js';
import { BaggedPredictor, MAX_BAG, bagMemberSeed } from '../predictors/bagged-predictor.js';
import { EnsemblePredictor } from '../predictors/ensemble-predictor.js';
import { trainGainMlp } from '../predictors/gain-mlp-predictor.js';
import { trainGain } from '../predictors/gain-predictor.js';
import { GuardedPredictor, fitGuard } from '../predictors/guarded-predictor.js';
import { trainKnn } from '../predictors/knn-predictor.js';
import { trainLogistic } from '../predictors/logistic-predictor.js';
import { trainTaskPrior } from '../predictors/task-prior-predictor.js';
import { PriorPredictor } from '../predictors/prior-predictor.js';
import { trainTwoLayer } from '../predictors/two-layer-predictor.js';
import { meanQuality, type PredictorKind, type QualityPredictor, type TrainingSet } from '../predictors/types.js';
import { fitCostModel, predictCost, type CostModel } from './cost-model.js';
import { betterScore, knownOutcomes, routingIndecisive, routingScore } from './routing-score.js';
import { stackMembers } from './stack-members.js';
import { trainStack } from './train-stack.js';

export const PREDICTOR_KINDS: readonly PredictorKind[] = ['logistic', 'mf', 'mlp', 'knn', 'ensemble', 'task', 'stack'];
// Not default kinds (trained only when `kinds` names them): `gain` and `gain-mlp`, the strong model's
// gain learned directly, two-model data only (their trainers refuse other data); not members of the
// ensemble or the stack.

/** Prompt embeddings, by prompt text (from the embedding cache). */
export type EmbeddingLookup = (prompt: string) => ArrayLike<number> | undefined;

export interface TrainPredictorsOptions {
  kinds?: readonly PredictorKind[];
  /** Hash buckets of the TF-IDF block (0 = off). Default 2^16. */
  hashDim?: number;
  /** Use the cheap analysis block. Default true. */
  analysis?: boolean;
  /**
   * Add the quantitative-structure block (`STRUCTURE_FEATURES`: quantities, steps, clauses and the
   * shape of a multiple-choice question; no labels used). Default false (`--features +structure`).
   */
  structure?: boolean;
  /** Add an embedding block (every prompt must have one). */
  embedding?: { dim: number; model: string; lookup: EmbeddingLookup };
  /** Share of the training examples kept aside for validation (early stopping, selection). Default 0.1. */
  valShare?: number;
  /** `auto` picks the best validation score; a kind forces it. Default auto. */
  select?: 'auto' | PredictorKind;
  seed?: number;
  /** Optimizer settings of the parametric predictors (defaults: see each trainer). */
  hyper?: { l2?: number; learningRate?: number; hidden?: number; epochs?: number };
  /**
   * Wrap every learned predictor in the out-of-distribution guard (`GuardedPredictor`): prompts unlike
   * every training task fall back toward each model's mean training quality. Default false.
   */
  guard?: boolean;
  /**
   * Append an augmentation block to the features: an auxiliary difficulty model's predictions
   * (learned on other prompts, see `trainDifficultyModel`) and/or word-problem structure features.
   * The block is standardized on the training prompts and stored in the feature spec.
   */
  augment?: AugmentOptions;
  /**
   * Multi-task training of `mlp` and `mf` (and so `ensemble`): their hidden layer is also trained to
   * predict these auxiliary outcomes (see `trainMultitask`). The stack's inner-fold members are not.
   */
  multitask?: MultitaskOptions;
  /**
   * Bagging across seeds: train each kind with randomness (logistic, mf, mlp, ensemble, stack, gain,
   * gain-mlp) this many times on the same prompts and features, member b with seed
   * `bagMemberSeed(seed, b)` (member 0 with `seed` itself), and average the members' predicted
   * probabilities (`BaggedPredictor`). Validation and selection score the bags. Default 1 (no bag).
   */
  bag?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface TrainedPredictors {
  features: FeatureSpec;
  predictors: Map<PredictorKind, QualityPredictor>;
  validation: Array<{ kind: PredictorKind; metric: string; value: number }>;
  chosen: PredictorKind;
  cost: CostModel | undefined;
  /** Predicted quality of up to 400 training prompts by the chosen predictor. */
  calibration: number[][];
}

/**
 * Featurized rows and outcomes. `specOf` gives a row its own spec (cross-fitted in-fold augmentation:
 * same layout, another difficulty model); default `spec` for every row.
 */
export function toTrainingSet(spec: FeatureSpec, examples: readonly RoutingExample[], outputs: number, lookup?: EmbeddingLookup, specOf?: (prompt: string) => FeatureSpec): TrainingSet {
  return {
    x: examples.map((e) => featurize(specOf ? specOf(e.prompt) : spec, e.prompt, lookup?.(e.prompt))),
    y: examples.map((e) => e.quality),
    dim: featureDim(spec),
    outputs,
  };
}

/**
 * Fits the feature pipeline and every predictor kind on `examples` (minus a validation share), scores
 * each on the validation share with the routing metric of the data (APGR for two models, AIQ with
 * costs, mean chosen quality otherwise; the Brier score on the known outcomes when no validation prompt
 * has every model's outcome, see `routingScore`), and picks the best (or the forced one).
 */
export function trainPredictors(
  examples: readonly RoutingExample[],
  outputs: number,
  pair: { weak: number; strong: number } | undefined,
  options: TrainPredictorsOptions = {},
): TrainedPredictors {
  const valShare = options.valShare ?? 0.1;
  const buckets = Math.max(2, Math.round(1 / valShare));
  const isVal = (e: RoutingExample) => valShare > 0 && fnv1a(`val:${e.id}`) % buckets === 0;
  const fitSet = examples.filter((e) => !isVal(e));
  const valSet = examples.filter(isVal);
  const emb = options.embedding;
  const spec = fitFeatures(
    fitSet.map((e) => e.prompt),
    { hashDim: options.hashDim ?? DEFAULT_HASH_DIM, analysis: options.analysis ?? true, ...(emb ? { embedding: { dim: emb.dim, model: emb.model } } : {}), ...(options.structure ? { structure: true } : {}) },
  );
  if (options.augment && (options.augment.difficulty || options.augment.quantities || options.augment.responses)) spec.augment = fitAugment(options.augment, fitSet.map((e) => e.prompt), emb?.lookup);
  // With cross-fitted in-fold augmentation, training and validation rows get their difficulty values
  // from a model that never saw their own auxiliary outcomes (new prompts use `spec` itself).
  const specOf = trainingSpecOf(spec, options.augment);
  const train = toTrainingSet(spec, fitSet, outputs, emb?.lookup, specOf);
  const val = toTrainingSet(spec, valSet, outputs, emb?.lookup, specOf);
  const cost = fitCostModel(fitSet, outputs);
  const valCost = cost ? valSet.map((e) => predictCost(cost, e.prompt)) : undefined;
  const predictors = new Map<PredictorKind, QualityPredictor>();
  const validation: TrainedPredictors['validation'] = [];
  const kinds = options.kinds ?? PREDICTOR_KINDS;
  const blocks = featureBlocks(spec);
  const seed = options.seed ?? 1;
  const priorMean = meanQuality(train.y, outputs);
  const prior = new PriorPredictor(priorMean);
  predictors.set('prior', prior);
  let guardTemplate: GuardedPredictor | undefined;
  const guarded = (p: QualityPredictor): QualityPredictor => {
    if (!options.guard || p === prior) return p;
    guardTemplate ??= fitGuard(p, train, fitSet.map((e) => e.task), emb ? blocks.embedding : blocks.hashed, priorMean);
    const g = guardTemplate;
    return p === g.inner ? g : new GuardedPredictor(p, g.index, g.prior, g.low, g.high);
  };
  const bag = options.bag ?? 1;
  if (!Number.isInteger(bag) || bag < 1 || bag > MAX_BAG) throw new RangeError(`bag must be an integer from 1 to ${MAX_BAG}, got ${bag}`);
  // Unguarded predictors (members of the ensemble and the stack), one map per bag member; `predictors`
  // holds what is reported. Member b trains with `bagMemberSeed(seed, b)`.
  // Kinds without randomness (prior, knn, task) are trained once and shared by every member.
  const memberRaw: Array<Map<PredictorKind, QualityPredictor>> = [];
  const trainKind = (kind: PredictorKind, b: number): QualityPredictor | undefined => {
    const own = memberRaw[b]!;
    const memberSeed = bagMemberSeed(seed, b);
    const hyper = { seed: memberSeed, ...options.hyper };
    if (b > 0 && (kind === 'prior' || kind === 'knn' || kind === 'task')) return memberRaw[0]!.get(kind);
    if (kind === 'prior') return prior;
    if (kind === 'logistic') return trainLogistic(train, val, hyper);
    if ((kind === 'mf' || kind === 'mlp') && options.multitask) return trainMultitask(kind, train, val, spec, options.multitask, emb?.lookup, hyper, options.log);
    if (kind === 'mf' || kind === 'mlp') return trainTwoLayer(kind, train, val, hyper);
    if (kind === 'gain') return trainGain(train, val, pair, hyper);
    if (kind === 'gain-mlp') return trainGainMlp(train, val, pair, hyper);
    if (kind === 'knn') return trainKnn(train, emb ? blocks.embedding : blocks.hashed, 20);
    if (kind === 'task') {
      // Needs two tasks or more in the training prompts (one task: it would be the prior).
      if (new Set(fitSet.map((e) => e.task)).size < 2) return undefined;
      return trainTaskPrior(train, fitSet.map((e) => e.task), [blocks.hashed, blocks.embedding]);
    }
    if (kind === 'ensemble') {
      // Mean of the parametric predictors trained above (kNN left out: it is slow at decision time).
      const members = (['logistic', 'mf', 'mlp'] as const).map((k) => own.get(k)).filter((m): m is QualityPredictor => m !== undefined);
      return members.length < 2 ? undefined : new EnsemblePredictor(members);
    }
    const members = stackMembers({ train, val, examples: fitSet, predictors: own, taskBlocks: [blocks.hashed, blocks.embedding], hyper });
    return trainStack(train, fitSet.map((e) => e.id), members, { ...(options.log ? { log: options.log } : {}) });
  };
  for (let b = 0; b < bag; b++) memberRaw.push(new Map());
  const indecisive = valSet.length > 0 ? routingIndecisive(valSet, pair, valCost) : undefined;
  if (indecisive) {
    // One prompt: APGR ties (any ranking of one prompt is the same); AIQ and the routed quality are one draw, no basis for a choice.
    const metric = pair ? 'APGR' : valCost ? 'AIQ' : 'routed quality';
    const why = indecisive.startsWith('no ') ? '' : indecisive.startsWith('only 1 ') && !pair ? ': one prompt is no basis for a choice' : `: the ${metric} of every predictor would tie`;
    options.log?.(`  ${indecisive} (${valSet.length} validation prompts)${why}: predictors compared by Brier score on their ${knownOutcomes(valSet)} known outcomes (lower is better)`);
  }
  for (const kind of ['prior' as const, ...kinds]) {
    const t0 = Date.now();
    const members: QualityPredictor[] = [];
    for (let b = 0; b < bag; b++) {
      const m = trainKind(kind, b);
      if (!m) break;
      memberRaw[b]!.set(kind, m);
      members.push(m);
    }
    if (members.length === 0) continue;
    // Deterministic kinds are one predictor whatever the bag; the others average their members.
    const bagged = members.length > 1 && members.some((m) => m !== members[0]);
    let p: QualityPredictor = bagged ? new BaggedPredictor(members) : members[0]!;
    p = guarded(p);
    predictors.set(kind, p);
    if (valSet.length > 0) {
      const pred = val.x.map((x) => Array.from(p.predict(x)));
      const s = routingScore(valSet, pred, pair, valCost);
      validation.push({ kind, metric: s.metric, value: s.value });
      options.log?.(`  ${kind.padEnd(8)} validation ${s.metric} ${s.value.toFixed(4)}${bagged ? ` (bag of ${members.length})` : ''} (${Date.now() - t0} ms)`);
    }
  }
  let chosen: PredictorKind = options.select && options.select !== 'auto' ? options.select : 'logistic';
  if (!options.select || options.select === 'auto') {
    // kNN is reported but not picked automatically: its decision time grows with the training set
    // (about 1.3 ms per prompt over MMLU's 12 600 training prompts on this machine). `select: 'knn'` forces it.
    // Never on an `n/a` score (no known outcome to score): the first kind then, as without validation prompts.
    const scored = validation.filter((v) => v.metric !== 'n/a');
    const learned = scored.filter((v) => v.kind !== 'prior' && v.kind !== 'knn');
    const pool = learned.length ? learned : scored.filter((v) => v.kind !== 'prior');
    // Ties go to the first kind in training order (logistic, mf, mlp, ensemble, task, stack).
    if (pool.length) chosen = pool.reduce((a, b) => (betterScore(a, b) ? b : a)).kind;
    else chosen = kinds[0] ?? 'logistic';
  }
  const best = predictors.get(chosen) ?? prior;
  const sample = fitSet.filter((e) => fnv1a(`cal:${e.id}`) % Math.max(1, Math.ceil(fitSet.length / 400)) === 0).slice(0, 400);
  const calibration = sample.map((e) => Array.from(best.predict(featurize(specOf(e.prompt), e.prompt, emb?.lookup(e.prompt))), (v) => Number(v.toFixed(4))));
  return { features: spec, predictors, validation, chosen, cost, calibration };
}
