import { z } from 'zod';
import { LLMError } from '../../errors/llm-error.js';
import { LogisticPredictor } from '../predictors/logistic-predictor.js';
import { CASCADE_SCORER_TRAINING, standardizeRows, trainCascadeScorer } from './train-cascade-scorer.js';
import { WEAK_ANSWER_FEATURES, weakAnswerFeatures, type WeakAnswerFeatures } from './weak-answer-features.js';

export const CASCADE_SCORER_FORMAT = 'llmrr-cascade-scorer';
export const CASCADE_SCORER_VERSION = 1;
/** The escalation-rate target the artifact's suggested threshold is chosen for: 95% of the strong model's accuracy. */
export const CASCADE_SCORER_TARGET = 0.95;

/** One training prompt of the learned cascade scorer: the question, the weak answer, both models' outcomes. */
export interface CascadeScorerExample {
  id: string;
  prompt: string;
  weakResponse: string;
  /** [weak, strong] correctness, 0..1. */
  quality: readonly number[];
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
/** The model keeps weights, bias and standardization in 32-bit floats: values must stay finite there. */
const FLOAT32_MAX = 3.4028234663852886e38;
const float32 = finite.refine((v) => Math.abs(v) <= FLOAT32_MAX, 'must fit a 32-bit float (|v| <= 3.4e38)');

const ArtifactSchema = z
  .object({
    format: z.literal(CASCADE_SCORER_FORMAT),
    version: z.literal(CASCADE_SCORER_VERSION),
    score: z.literal('p_strong - p_weak'),
    features: z.array(z.string()),
    standardization: z.object({ mean: z.array(float32), sd: z.array(float32.refine((v) => v >= 1e-9, 'must be >= 1e-9')) }),
    outputs: z.tuple([z.literal('weak'), z.literal('strong')]),
    weights: z.array(z.tuple([float32, float32])),
    bias: z.tuple([float32, float32]),
    threshold: finite,
    threshold_rule: z.string(),
    training: z.object({
      data: z.string(),
      examples: z.number().int(),
      fit: z.number().int(),
      validation: z.number().int(),
      seed: z.number().int(),
      options: z.record(z.string(), z.number()),
      weak_accuracy: finite,
      strong_accuracy: finite,
      escalation_rate_at_threshold: finite,
      accuracy_at_threshold: finite,
      note: z.string(),
    }),
  })
  .strict();

/**
 * The learned cascade scorer as a file (`llmrr router train --cascade`): feature names, standardization,
 * the two logistic regressions (weights per feature as [weak, strong]), the suggested threshold and a
 * summary of the training data. Score = predicted probability that the strong model is right minus that
 * the weak model is right (the evaluation's `cascade-learned`), in [-1, 1].
 */
export type CascadeScorerArtifact = z.output<typeof ArtifactSchema>;

/** A loaded learned cascade scorer. */
export class CascadeScorer {
  private readonly model: LogisticPredictor;

  constructor(readonly artifact: CascadeScorerArtifact) {
    const D = artifact.features.length;
    this.model = new LogisticPredictor(D, 2, Float32Array.from(artifact.weights.flat()), Float32Array.from(artifact.bias));
  }

  /** The suggested threshold (chosen on the training data: see `threshold_rule`). */
  get threshold(): number {
    return this.artifact.threshold;
  }

  /** Score of computed weak-answer features: p(strong right) - p(weak right). */
  scoreFeatures(f: WeakAnswerFeatures): number {
    const { mean, sd } = this.artifact.standardization;
    const [x] = standardizeRows([WEAK_ANSWER_FEATURES.map((k) => f[k])], mean, sd);
    const p = this.model.predict(x!);
    return p[1]! - p[0]!;
  }

  /** Score of a weak answer to a question (higher: more likely wrong, escalate). */
  score(question: string, answer: string): number {
    return this.scoreFeatures(weakAnswerFeatures(question, answer));
  }
}

function vectorOf(f: WeakAnswerFeatures): number[] {
  return WEAK_ANSWER_FEATURES.map((k) => f[k]);
}

/**
 * Trains the learned cascade scorer on every example (`trainCascadeScorer`, the evaluation's code) and
 * packs it as an artifact. The suggested threshold is the score of the last of the fewest top-scored training
 * prompts whose escalation reaches 95% of the strong model's training accuracy (the highest threshold that
 * does; ties at it escalate too): chosen on the training
 * data, so optimistic for new prompts. When the weak model alone reaches that, the threshold is set above
 * every training score (no training prompt escalates).
 */
export function trainCascadeScorerArtifact(examples: readonly CascadeScorerExample[], options: { data: string; seed?: number }): CascadeScorerArtifact {
  if (examples.length < 2) {
    throw new LLMError({ code: 'invalid_request', message: `${options.data}: data: the learned cascade scorer needs at least 2 prompts, got ${examples.length}`, param: 'data' });
  }
  for (const e of examples) {
    if (e.quality.length < 2 || !e.quality.slice(0, 2).every((q) => Number.isFinite(q) && q >= 0 && q <= 1)) {
      throw new LLMError({ code: 'invalid_request', message: `${options.data}: data: prompt "${e.id}": weak and strong outcomes must both be numbers in [0,1], got ${JSON.stringify(e.quality)}`, param: 'data' });
    }
  }
  const seed = options.seed ?? 1;
  const rows = examples.map((e) => ({ id: e.id, features: vectorOf(weakAnswerFeatures(e.prompt, e.weakResponse)), quality: e.quality }));
  const trained = trainCascadeScorer(rows, seed);
  if (trained.fitRows === 0) {
    throw new LLMError({
      code: 'invalid_request',
      message: `${options.data}: data: no prompt left to fit on: every prompt id hashes to the validation share (${trained.validationRows} rows); are the prompt ids all the same? Give each prompt its own id`,
      param: 'data',
    });
  }
  const D = WEAK_ANSWER_FEATURES.length;
  const draft: CascadeScorerArtifact = {
    format: CASCADE_SCORER_FORMAT,
    version: CASCADE_SCORER_VERSION,
    score: 'p_strong - p_weak',
    features: [...WEAK_ANSWER_FEATURES],
    standardization: { mean: trained.mean, sd: trained.sd },
    outputs: ['weak', 'strong'],
    weights: Array.from({ length: D }, (_, j): [number, number] => [trained.model.w[j * 2]!, trained.model.w[j * 2 + 1]!]),
    bias: [trained.model.b[0]!, trained.model.b[1]!],
    threshold: 0,
    threshold_rule: '',
    training: {
      data: options.data,
      examples: examples.length,
      fit: trained.fitRows,
      validation: trained.validationRows,
      seed,
      options: { ...CASCADE_SCORER_TRAINING },
      weak_accuracy: 0,
      strong_accuracy: 0,
      escalation_rate_at_threshold: 0,
      accuracy_at_threshold: 0,
      note: 'threshold, escalation rate and accuracy are measured on the training data itself (optimistic for new prompts)',
    },
  };
  const scorer = new CascadeScorer(draft);
  const n = examples.length;
  const scores = rows.map((r) => scorer.scoreFeatures(Object.fromEntries(WEAK_ANSWER_FEATURES.map((k, j) => [k, r.features[j]!])) as WeakAnswerFeatures));
  const weak = examples.map((e) => e.quality[0]!), strong = examples.map((e) => e.quality[1]!);
  const sumWeak = weak.reduce((a, b) => a + b, 0), sumStrong = strong.reduce((a, b) => a + b, 0);
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let q = sumWeak, k = 0;
  while (q < CASCADE_SCORER_TARGET * sumStrong && k < n) {
    const i = order[k++]!;
    q += strong[i]! - weak[i]!;
  }
  const threshold = k === 0 ? Math.max(...scores) + 1e-6 : scores[order[k - 1]!]!;
  const escalated = scores.map((s) => s >= threshold);
  const accuracy = examples.reduce((a, _, i) => a + (escalated[i] ? strong[i]! : weak[i]!), 0) / n;
  draft.threshold = threshold;
  draft.threshold_rule = `the highest threshold (fewest escalations) at which escalating the top-scored training prompts reaches ${CASCADE_SCORER_TARGET * 100}% of the strong model's accuracy on the training data; escalate when score >= threshold (tied scores escalate together, so the rate can exceed what the target needed)`;
  draft.training.weak_accuracy = sumWeak / n;
  draft.training.strong_accuracy = sumStrong / n;
  draft.training.escalation_rate_at_threshold = escalated.filter(Boolean).length / n;
  draft.training.accuracy_at_threshold = accuracy;
  return draft;
}

/**
 * Checks a parsed cascade scorer file and loads it. Errors are `config_invalid` naming `param` (the config
 * field that gave the file) and the artifact's own field: not a scorer file, another version, features
 * this build does not compute (retrain), mismatched lengths.
 */
export function parseCascadeScorer(value: unknown, source: string, param: string): CascadeScorer {
  const fail = (field: string, message: string) =>
    new LLMError({ code: 'config_invalid', message: `Invalid router config:\n  ${param}: ${source}: ${field ? `${field}: ` : ''}${message}`, param, details: [{ path: param, message: `${field ? `${field}: ` : ''}${message}` }] });
  const head = (typeof value === 'object' && value !== null ? value : {}) as { format?: unknown; version?: unknown };
  if (head.format !== CASCADE_SCORER_FORMAT) throw fail('format', `not a cascade scorer (expected format "${CASCADE_SCORER_FORMAT}", got ${JSON.stringify(head.format)}; train one with: llmrr router train --cascade --data <file> --out <file>)`);
  if (head.version !== CASCADE_SCORER_VERSION) throw fail('version', `unsupported version ${JSON.stringify(head.version)} (this build reads version ${CASCADE_SCORER_VERSION}; retrain with this build)`);
  const parsed = ArtifactSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw fail(issue.path.map(String).join('.'), issue.message);
  }
  const a = parsed.data;
  if (a.features.length !== WEAK_ANSWER_FEATURES.length || a.features.some((f, j) => f !== WEAK_ANSWER_FEATURES[j])) {
    throw fail('features', `trained on other weak-answer features than this build computes (${WEAK_ANSWER_FEATURES.length}: ${WEAK_ANSWER_FEATURES.join(', ')}); retrain with this build`);
  }
  for (const [field, len] of [['standardization.mean', a.standardization.mean.length], ['standardization.sd', a.standardization.sd.length], ['weights', a.weights.length]] as const) {
    if (len !== a.features.length) throw fail(field, `has ${len} values, expected ${a.features.length} (one per feature)`);
  }
  return new CascadeScorer(a);
}
