import { loadDataset } from '../../learning/datasets/load-dataset.js';
import { resolveDataPath } from '../../learning/datasets/shared-data-dir.js';
import { trainDifficultyModel, type AugmentReport } from '../../learning/augment/difficulty-model.js';
import type { AugmentOptions } from '../../learning/augment/fit-augment.js';
import type { MultitaskOptions } from '../../learning/augment/multitask.js';
import { excludeOverlap, type OverlapResult } from '../../learning/augment/prompt-overlap.js';
import { filterTasks } from '../../learning/evaluation/evaluate-dataset.js';
import type { EmbeddingLookup } from '../../learning/training/train-predictors.js';
import type { CliContext } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';

function parseList(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((t) => t.trim()).filter(Boolean);
}

export const AUGMENT_KINDS = ['open7b', 'open7b-mean', 'quantities', 'multitask'] as const;
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
                             quantities (word-problem structure: numbers, sentences, operation words),
                             multitask (mlp/mf also learn the open models' scores on those prompts)
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
  return list as AugmentKind[];
}

/**
 * The augmentation asked for on the command line: trains the difficulty model (words only, no
 * embedding) on the auxiliary data minus every prompt sharing a question with `evaluated`.
 */
export async function augmentOptionsFor(
  values: { augment?: string | undefined; 'augment-data'?: string | undefined; 'augment-tasks'?: string | undefined; 'augment-embeddings'?: boolean | undefined; 'augment-model'?: string | undefined },
  evaluated: readonly string[],
  ctx: CliContext,
  log: (line: string) => void,
  seed?: number,
  embeddings?: (prompts: readonly string[]) => Promise<{ dim: number; model: string; lookup: EmbeddingLookup }>,
): Promise<{ options: AugmentOptions; kinds: AugmentKind[]; difficulty?: AugmentReport; multitask?: MultitaskOptions & { report: Omit<OverlapResult<unknown>, 'kept'> & { kept: number } } } | undefined> {
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
  if (!difficulty && !kinds.includes('multitask')) return { options, kinds };
  const aux = await loadDataset(resolveDataPath(values['augment-data'] ?? 'open7b', ctx.env, ctx.cwd));
  const tasks = parseList(values['augment-tasks']);
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
