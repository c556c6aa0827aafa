import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../learning/datasets/load-dataset.js';
import { resolveDataPath } from '../../learning/datasets/shared-data-dir.js';
import { trainDifficultyModel, type AugmentReport } from '../../learning/augment/difficulty-model.js';
import type { AugmentOptions } from '../../learning/augment/fit-augment.js';
import type { MultitaskOptions } from '../../learning/augment/multitask.js';
import { excludeOverlap, type OverlapResult } from '../../learning/augment/prompt-overlap.js';
import { infoldAugment, type InfoldFoldReport, type InfoldSource } from '../../learning/augment/infold-augment.js';
import type { RoutingExample } from '../../learning/datasets/types.js';
import { denoiseLabels } from '../../learning/augment/denoise-labels.js';
import { infoldResponses, type ResponseSource } from '../../learning/augment/infold-responses.js';
import { responseTargetsLookup } from '../../learning/augment/response-targets.js';
import { responsesMultitask } from '../../learning/augment/responses-multitask.js';
import { loadGsm8kResponses } from '../../learning/cascade/load-gsm8k-responses.js';
import { filterTasks, type FoldOptions } from '../../learning/evaluation/evaluate-dataset.js';
import type { EmbeddingLookup } from '../../learning/training/train-predictors.js';
import type { CliContext } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';
import { readFlagInput } from '../flag-input.js';

function parseList(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((t) => t.trim()).filter(Boolean);
}

export const AUGMENT_KINDS = ['open7b', 'open7b-mean', 'open7b-infold', 'quantities', 'multitask', 'multitask-infold', 'denoise-infold', 'responses-infold', 'responses-multitask'] as const;
export type AugmentKind = (typeof AUGMENT_KINDS)[number];

export const AUGMENT_FLAGS = {
  augment: { type: 'string' },
  'augment-data': { type: 'string' },
  'augment-tasks': { type: 'string' },
  'augment-embeddings': { type: 'boolean' },
  'augment-model': { type: 'string' },
} as const;

export const AUGMENT_HELP = `      --augment <a,b>        append features: open7b (an auxiliary difficulty model: each open 7B
                             model's predicted score on the prompt, plus their mean, learned on open7b
                             prompts that share no question with --data), open7b-mean (the mean only),
                             open7b-infold (the same, learned per fold on every open7b prompt that
                             shares no question with that fold's TEST prompts, training rows
                             cross-fitted; router train: none with --data's test split),
                             quantities (word-problem structure: numbers, sentences, operation words),
                             multitask (mlp/mf also learn the open models' scores on those prompts),
                             multitask-infold (the same, per fold, on every open7b prompt that shares
                             no question with that fold's test prompts), denoise-infold (per fold,
                             training prompts that are open7b prompts get targets blended 50/50
                             with a prediction from the open models' scores on them),
                             responses-infold (RouteLLM GSM8K: per fold, a model learns from the
                             training prompts' RESPONSES how wrong the weak answer looks, how long the
                             answers are, how many steps the strong one takes, and its predictions from
                             the prompt alone are appended; training rows cross-fitted; combines with
                             open7b, open7b-mean, open7b-infold and quantities), responses-multitask
                             (the same targets as extra outputs of mlp/mf, on the fold's training
                             prompts outside the validation share; same combinations)
      --augment-data <path>  the auxiliary data for open7b (default: the shared open7b folder)
      --augment-tasks <a,b>  only these auxiliary tasks (e.g. gsm8k,math_prealgebra; default: all)
      --augment-embeddings   the difficulty model also uses the prompt embedding (embeds the
                             auxiliary prompts into the cache first: slow for large pools)
      --augment-model <m>    the difficulty model: logistic (default; one per open model) or mlp
                             (one hidden layer shared by the open models)
`;

export function parseAugment(v: string | undefined): AugmentKind[] | undefined {
  const list = parseList(v);
  if (!list) return undefined;
  for (const k of list) {
    if (!(AUGMENT_KINDS as readonly string[]).includes(k)) throw new CliUsageError(`option --augment expects ${AUGMENT_KINDS.join(', ')} (comma-separated), got "${k}"`, '--augment');
  }
  if (list.includes('open7b') && list.includes('open7b-mean')) throw new CliUsageError('option --augment takes open7b or open7b-mean, not both', '--augment');
  // The difficulty features of an auxiliary prompt come from a model trained on that very prompt: a
  // network trained on both would learn to trust them more than they deserve on new prompts.
  if (list.includes('multitask') && (list.includes('open7b') || list.includes('open7b-mean'))) throw new CliUsageError('option --augment takes multitask or open7b, not both', '--augment');
  const responses = list.filter((k) => k.startsWith('responses-'));
  if (responses.length > 1 || (responses.length && list.some((k) => k.startsWith('multitask') || k === 'denoise-infold'))) throw new CliUsageError('option --augment takes one of responses-infold and responses-multitask, with open7b, open7b-mean, open7b-infold and quantities only', '--augment');
  const exclusive = list.filter((k) => k !== 'quantities' && k !== 'denoise-infold' && !k.startsWith('responses-'));
  if (exclusive.length > 1 && exclusive.some((k) => k.endsWith('-infold'))) throw new CliUsageError('option --augment takes open7b-infold or multitask-infold alone or with quantities and denoise-infold', '--augment');
  if (list.includes('denoise-infold') && exclusive.some((k) => !k.endsWith('-infold'))) throw new CliUsageError('option --augment takes denoise-infold with the in-fold kinds and quantities only', '--augment');
  return list as AugmentKind[];
}

/**
 * In-fold augmentation: per fold, a difficulty model (`infoldAugment`) or multi-task data from every
 * auxiliary prompt sharing no question with the fold's test prompts, and/or denoised training targets
 * (`denoiseLabels`), with the per-fold overlap counts.
 */
export interface InfoldPlan {
  /** The in-fold difficulty model's source (absent with `responses-infold` alone). */
  source?: InfoldSource;
  reports: Array<InfoldFoldReport & { fold: string }>;
  /** The options of one fold (or of `router train`'s training prompts against the test split). */
  forFold(train: readonly RoutingExample[], test: readonly RoutingExample[], fold: string): FoldOptions;
}

type AugmentValues = { augment?: string | undefined; data?: string | undefined; 'augment-data'?: string | undefined; 'augment-tasks'?: string | undefined; 'augment-embeddings'?: boolean | undefined; 'augment-model'?: string | undefined };
type Embeddings = (prompts: readonly string[]) => Promise<{ dim: number; model: string; lookup: EmbeddingLookup }>;
export type AugmentPlan = { options: AugmentOptions; kinds: AugmentKind[]; difficulty?: AugmentReport; infold?: InfoldPlan; multitask?: MultitaskOptions & { report: Omit<OverlapResult<unknown>, 'kept'> & { kept: number } } };

/**
 * The augmentation asked for on the command line: trains the difficulty model (words only, no
 * embedding) on the auxiliary data minus every prompt sharing a question with `evaluated`; with
 * `responses-infold`, adds per-fold response models (`infoldResponses`) to the in-fold plan.
 */
export async function augmentOptionsFor(
  values: AugmentValues,
  evaluated: readonly string[],
  ctx: CliContext,
  log: (line: string) => void,
  seed?: number,
  embeddings?: Embeddings,
): Promise<AugmentPlan | undefined> {
  const kinds = parseAugment(values.augment);
  const asked = kinds?.find((k) => k === 'responses-infold' || k === 'responses-multitask');
  if (!kinds || !asked) return baseAugmentOptionsFor(values, evaluated, ctx, log, seed, embeddings);
  const others = kinds.filter((k) => k !== asked);
  const base: AugmentPlan = (others.length ? await baseAugmentOptionsFor({ ...values, augment: others.join(',') }, evaluated, ctx, log, seed, embeddings) : undefined) ?? { options: {}, kinds: [] };
  if (!others.length && (values['augment-data'] || values['augment-tasks'] || values['augment-embeddings'] || values['augment-model'])) throw new CliUsageError('--augment-data, --augment-tasks, --augment-embeddings and --augment-model need --augment open7b', '--augment');
  const file = responsesFile(values.data, ctx);
  const answered = await readFlagInput('--data', () => loadGsm8kResponses(file));
  log(`${asked}: ${answered.length} prompts with both models' responses (${file})`);
  const embedding = embeddings ? await embeddings(evaluated) : undefined;
  const source: ResponseSource = { targetsOf: responseTargetsLookup(answered), log, ...(embedding ? { embedding } : {}), ...(seed !== undefined ? { seed } : {}) };
  const inner = base.infold;
  const reports: InfoldPlan['reports'] = inner?.reports ?? [];
  const plan: InfoldPlan = {
    ...(inner?.source ? { source: inner.source } : {}),
    reports,
    forFold(train, test, fold) {
      const n = reports.length;
      const out = inner ? inner.forFold(train, test, fold) : {};
      const entry = reports.length > n ? reports[reports.length - 1]! : (reports.push({ fold }), reports[reports.length - 1]!);
      if (asked === 'responses-multitask') {
        const m = responsesMultitask(source, train, test);
        entry.responses_multitask = m.report;
        log(`  responses-multitask: ${m.report.rows} of ${train.length} training prompts as auxiliary rows (${m.report.dropped_validation} in the validation share, ${m.report.dropped_test_overlap} share a question with a test prompt)`);
        return { ...out, augment: { ...base.options, ...out.augment }, multitask: m.multitask };
      }
      const r = infoldResponses(source, train, test);
      entry.responses = r.report;
      return { ...out, augment: { ...base.options, ...out.augment, ...r.options } };
    },
  };
  return { ...base, kinds, infold: plan };
}

/** RouteLLM's gsm8k_responses.csv for --data (the file, its folder, or the routellm root). */
function responsesFile(data: string | undefined, ctx: CliContext): string {
  if (!data) throw new CliUsageError('--augment responses-* needs --data', '--data');
  const path = resolveDataPath(data, ctx.env, ctx.cwd);
  const candidates = path.endsWith('.csv') ? [path] : [join(path, 'gsm8k_responses.csv'), join(path, 'gsm8k', 'gsm8k_responses.csv')];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new CliUsageError(`--augment responses-infold/responses-multitask need RouteLLM's gsm8k_responses.csv (both models' answers); not found at ${candidates.join(' or ')}`, '--augment');
  return file;
}

async function baseAugmentOptionsFor(
  values: AugmentValues,
  evaluated: readonly string[],
  ctx: CliContext,
  log: (line: string) => void,
  seed?: number,
  embeddings?: Embeddings,
): Promise<AugmentPlan | undefined> {
  const kinds = parseAugment(values.augment);
  if (!kinds || kinds.length === 0) {
    if (values['augment-data'] || values['augment-tasks'] || values['augment-embeddings'] || values['augment-model']) throw new CliUsageError('--augment-data, --augment-tasks, --augment-embeddings and --augment-model need --augment open7b', '--augment');
    return undefined;
  }
  const learner = values['augment-model'];
  if (learner !== undefined && learner !== 'logistic' && learner !== 'mlp') throw new CliUsageError(`option --augment-model expects logistic or mlp, got "${learner}"`, '--augment-model');
  const options: AugmentOptions = {};
  if (kinds.includes('quantities')) options.quantities = true;
  const difficulty = kinds.find((k) => k === 'open7b' || k === 'open7b-mean');
  const infold = kinds.find((k) => k === 'open7b-infold' || k === 'multitask-infold');
  const denoise = kinds.includes('denoise-infold');
  if (!difficulty && !infold && !denoise && !kinds.includes('multitask')) return { options, kinds };
  const auxPath = resolveDataPath(values['augment-data'] ?? 'open7b', ctx.env, ctx.cwd);
  const aux = await readFlagInput('--augment-data', () => loadDataset(auxPath));
  const tasks = parseList(values['augment-tasks']);
  if (infold || denoise) {
    if (values['augment-embeddings']) throw new CliUsageError(`--augment-embeddings is not supported with --augment ${infold ?? 'denoise-infold'}`, '--augment-embeddings');
    const source: InfoldSource = { aux: { name: aux.name, models: aux.models, examples: aux.examples }, log, ...(learner ? { learner } : {}), ...(tasks ? { tasks } : {}), ...(seed !== undefined ? { seed } : {}) };
    const reports: InfoldPlan['reports'] = [];
    const plan: InfoldPlan = {
      source,
      reports,
      forFold(train, test, fold) {
        const out: FoldOptions = options.quantities ? { augment: options } : {};
        let entry: InfoldPlan['reports'][number];
        if (infold === 'open7b-infold') {
          const r = infoldAugment(source, train, test);
          entry = { fold, ...r.report };
          out.augment = { ...options, ...r.options };
        } else {
          // Multi-task rows need no cross-fitting: an auxiliary row is a training target, never a feature.
          const pool = filterTasks(aux.examples, tasks);
          const kept = excludeOverlap(pool, (e) => e.prompt, test.map((e) => e.prompt));
          const inTrain = excludeOverlap(kept.kept, (e) => e.prompt, train.map((e) => e.prompt)).dropped;
          entry = { fold, auxiliary_prompts: pool.length, dropped_test_overlap: kept.dropped, kept_training_overlap: inTrain, kept: kept.kept.length };
          log(`  ${infold ?? 'denoise-infold'}: ${kept.kept.length} of ${pool.length} auxiliary prompts (${kept.dropped} share a question with this fold's test prompts; ${inTrain} kept ones with its training prompts)`);
          if (infold === 'multitask-infold') out.multitask = { examples: kept.kept, outputs: aux.models.length };
        }
        if (denoise) {
          const d = denoiseLabels(train, test, source.aux, { ...(tasks ? { tasks } : {}), ...(seed !== undefined ? { seed } : {}) });
          entry.denoise = d.report;
          out.train = d.train;
          log(`  denoise-infold: ${d.report.matched} of ${d.report.training} training prompts get blended targets`);
        }
        reports.push(entry);
        return out;
      },
    };
    return { options, kinds, infold: plan };
  }
  const overlap = excludeOverlap(filterTasks(aux.examples, tasks), (e) => e.prompt, evaluated);
  let embedding: { dim: number; model: string; lookup: EmbeddingLookup } | undefined;
  if (values['augment-embeddings']) {
    if (!embeddings) throw new CliUsageError('--augment-embeddings needs --embeddings', '--augment-embeddings');
    embedding = await embeddings(overlap.kept.map((e) => e.prompt));
  }
  if (!difficulty) {
    const { kept, ...counts } = overlap;
    log(`multitask: ${kept.length} auxiliary prompts of ${aux.name} (${overlap.dropped} dropped: same question as an evaluated prompt)`);
    // Only prompts with a cached embedding are used when the router's features include one.
    const lookup = embedding?.lookup;
    return { options, kinds, multitask: { examples: kept, outputs: aux.models.length, lookup, report: { ...counts, kept: kept.length } } };
  }
  const trained = trainDifficultyModel(
    { name: aux.name, models: aux.models, examples: aux.examples },
    { evaluated, mode: difficulty === 'open7b-mean' ? 'mean' : 'per-model', log, ...(learner ? { learner } : {}), ...(tasks ? { tasks } : {}), ...(seed !== undefined ? { seed } : {}), ...(embedding ? { embedding } : {}) },
  );
  options.difficulty = trained.spec;
  return { options, kinds, difficulty: trained.report };
}
