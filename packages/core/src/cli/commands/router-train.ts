import { resolve } from 'node:path';
import { choiceOfModels, loadDataset } from '../../learning/datasets/load-dataset.js';
import { missingOutcomesWarning } from '../../learning/datasets/missing-outcomes.js';
import { resolveDataPath } from '../../learning/datasets/shared-data-dir.js';
import { MAX_BAG } from '../../learning/predictors/bagged-predictor.js';
import type { PredictorKind } from '../../learning/predictors/types.js';
import { filterTasks } from '../../learning/evaluation/evaluate-dataset.js';
import { trainingExamples, trainRouterModel } from '../../learning/training/train-router-model.js';
import type { CliCommand } from '../cli-command.js';
import { EXIT, type CliContext, type ExitCode } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';
import { readFlagInput } from '../flag-input.js';
import { checkOutPath, outIsStdout, writeOutFile } from '../out-file.js';
import { GLOBAL_FLAGS, intFlag, parseFlags } from '../parse-flags.js';
import type { MultitaskOptions } from '../../learning/augment/multitask.js';
import { AUGMENT_FLAGS, AUGMENT_HELP, augmentOptionsFor } from './router-augment.js';
import { embeddingLookupFor } from './router-embeddings.js';
import { FEATURES_FLAGS, FEATURES_HELP, parseFeatureGroups } from './router-features.js';
import { flagRefusal } from './router-flag-refusal.js';
import { routerTrainCascade } from './router-train-cascade.js';

const FLAGS = {
  ...GLOBAL_FLAGS,
  data: { type: 'string', short: 'd' },
  out: { type: 'string', short: 'o', dash: true },
  predictor: { type: 'string' },
  tasks: { type: 'string' },
  'hash-dim': { type: 'string' },
  embeddings: { type: 'boolean' },
  'ood-guard': { type: 'boolean' },
  seed: { type: 'string' },
  bag: { type: 'string' },
  json: { type: 'boolean' },
  cascade: { type: 'boolean' },
  ...AUGMENT_FLAGS,
  ...FEATURES_FLAGS,
} as const;

export const ROUTER_TRAIN_HELP = `Usage: llmrr router train --data <file|dir> --out <model.json> [options]

Trains the learned router's quality predictor on per-prompt outcomes and writes the model artifact the
"intelligent" strategy loads (routing.options.intelligent.model). Trains on the data's train split (never
its test split; every prompt when the data has no split; no training prompt at all is an error). Tries
logistic regression, matrix factorization
(RouteLLM-style), a small MLP, k-nearest neighbours, the mean of the first three (ensemble), a task prior
guessed from the prompt (task; with two tasks or more) and a stack of logistic, MLP and task prior fitted
on inner cross-validation (stack), and keeps the best on a validation share of the training prompts
(kNN only when forced: its decision time grows with the training data). Prompts lacking some model's
outcome train on the outcomes they have (a warning names those models); validation scores routing only
on prompts with every outcome, and with none it compares predictors by Brier score on known outcomes.

--data accepts: the shared data (routellm/mmlu, routellm/gsm8k, routellm/mt_bench, routerbench, open7b;
found under $LLMRR_SHARED_DIR/data/routing or ../shared/data/routing), a RouterBench wide CSV, a RouteLLM
CSV, RouterDC JSON, or the generic long format: CSV or JSONL with prompt_id, prompt, model, quality (0..1),
optional cost_usd, split (train|test) and task (JSONL numbers as JSON numbers, not text); a folder of
long-format files is read as one file (rows concatenated; a prompt_id is one prompt across the files).

Options:
  -d, --data <path>        routing data (file or folder)
  -o, --out <file>         where to write the model JSON ("-": on stdout, the summary on stderr)
      --predictor <kind>   auto (default), logistic, mf, mlp, knn, ensemble, task or stack
      --ood-guard          wrap the predictor in the out-of-distribution guard: prompts unlike every
                           training task fall back toward each model's mean training quality
      --tasks <a,b>        only these tasks (prefix match: mmlu matches mmlu/anatomy)
      --hash-dim <n>       hashed TF-IDF buckets (default 65536; 0 = off)
      --embeddings         add a Universal Sentence Encoder embedding of each prompt (cached on disk
                           under .llmrr/cache/embeddings; slow the first time: ~26 ms per prompt)
${AUGMENT_HELP}${FEATURES_HELP}      --seed <n>           training seed (default 1)
      --bag <k>            bagging across seeds: train each predictor kind k times (seeds derived from
                           --seed) and average the predicted probabilities; the artifact stores the k
                           members of the chosen kind (prior, knn and task have no training randomness:
                           trained and stored once); 1-10, default 1, ~k x slower to train and predict
      --cascade            train the learned CASCADE scorer instead (the built-in verifier "learned":
                           routing.cascades[].verifier: learned, verifierModel: <out>). --data: RouteLLM's
                           gsm8k_responses.csv (routellm/gsm8k) or a CSV/JSONL cascade log with prompt,
                           weak_answer, weak_correct, strong_correct (optional prompt_id). Trains on every
                           prompt; the suggested threshold reaches 95% of the strong model's accuracy on
                           the training data. Takes --data, --out, --seed and --json only
      --json               print the training summary as JSON
  -h, --help               show this help
`;

export function parsePredictor(v: string | undefined): 'auto' | PredictorKind {
  if (v === undefined || v === 'auto') return 'auto';
  if (v === 'logistic' || v === 'mf' || v === 'mlp' || v === 'knn' || v === 'ensemble' || v === 'task' || v === 'stack' || v === 'prior') return v;
  throw new CliUsageError(`option --predictor expects auto, logistic, mf, mlp, knn, ensemble, task or stack, got "${v}"`, '--predictor');
}

export function parseTasks(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((t) => t.trim()).filter(Boolean);
}

/** `llmrr router train`: `(args, ctx) -> exit code`. */
export async function routerTrain(args: readonly string[], ctx: CliContext): Promise<ExitCode> {
  const { values, positionals } = parseFlags(args, FLAGS);
  if (values.help) {
    ctx.stdout.write(ROUTER_TRAIN_HELP);
    return EXIT.ok;
  }
  if (positionals[0] !== undefined) throw new CliUsageError(`unexpected argument "${positionals[0]}"`, positionals[0]);
  if (!values.data) throw new CliUsageError('missing --data <file|dir>', '--data');
  if (!values.out) throw new CliUsageError('missing --out <model.json>', '--out');
  if (values.cascade) {
    const other = Object.keys(values).find((k) => !['data', 'out', 'seed', 'json', 'cascade', 'config'].includes(k));
    if (other) throw new CliUsageError(`--cascade takes --data, --out, --seed and --json only, not --${other}`, `--${other}`);
    const cascadeSeed = intFlag(values.seed, '--seed', 0);
    return routerTrainCascade({ dataPath: resolveDataPath(values.data, ctx.env, ctx.cwd), dataName: values.data, out: values.out, json: values.json === true, ...(cascadeSeed !== undefined ? { seed: cascadeSeed } : {}) }, ctx);
  }
  const select = parsePredictor(values.predictor);
  const hashDim = intFlag(values['hash-dim'], '--hash-dim', 0, 1 << 20);
  const seed = intFlag(values.seed, '--seed', 0);
  const bag = intFlag(values.bag, '--bag', 1, MAX_BAG);
  const featureGroups = parseFeatureGroups(values.features);
  // `--out -`: the model on stdout (the summary on stderr then), no file.
  const out = values.out === '-' ? undefined : resolve(ctx.cwd, values.out);
  if (out) checkOutPath('--out', out);
  // An --out that is this process's stdout (/dev/stdout, /dev/fd/1) is `-` written through the descriptor: the summary on stderr.
  const onStdout = out === undefined || outIsStdout(out);
  const dataPath = resolveDataPath(values.data, ctx.env, ctx.cwd);
  const dataset = await readFlagInput('--data', async () => choiceOfModels(await loadDataset(dataPath)));
  // (About the prompts trained on: a `--tasks` selection's, not the whole data's.)
  const tasks = parseTasks(values.tasks);
  const missing = missingOutcomesWarning(tasks ? { ...dataset, examples: filterTasks(dataset.examples, tasks) } : dataset);
  if (missing) ctx.stderr.write(`llmrr router train: warning: ${missing}\n`);
  const log = (line: string) => ctx.stderr.write(`${line}\n`);
  const embedding = values.embeddings ? await embeddingLookupFor(filterTasks(dataset.examples, parseTasks(values.tasks)).map((e) => e.prompt), ctx, log) : undefined;
  const augment = await augmentOptionsFor(values, dataset.examples.map((e) => e.prompt), ctx, log, seed, embedding ? (prompts) => embeddingLookupFor(prompts, ctx, log) : undefined);
  // The prompts trained on (of --tasks, without the test split), not the whole data's.
  const trainedOn = trainingExamples(dataset, tasks).examples.length;
  if (trainedOn > 0) log(`training on ${dataset.name}: ${dataset.models.length} models, ${trainedOn} prompts${tasks ? ` (--tasks ${tasks.join(',')})` : ''}`);
  let infoldMultitask: MultitaskOptions | undefined;
  let trainData = dataset;
  if (augment?.infold) {
    // The artifact trains on every non-test prompt: open7b outcomes of those are training data; any
    // open7b prompt sharing a question with --data's test split (every task) is left out.
    const all = filterTasks(dataset.examples, parseTasks(values.tasks));
    const test = dataset.examples.filter((e) => e.split === 'test');
    const fold = augment.infold.forFold(test.length ? all.filter((e) => e.split !== 'test') : all, test, 'all training prompts');
    augment.options = fold.augment ?? {};
    if (fold.multitask) infoldMultitask = fold.multitask;
    if (fold.train) trainData = { ...dataset, examples: [...fold.train, ...test] };
  }
  let artifact: ReturnType<typeof trainRouterModel>;
  try {
    artifact = trainRouterModel(trainData, {
      select,
      log,
      ...(values['ood-guard'] ? { guard: true } : {}),
      ...(values.tasks ? { tasks: parseTasks(values.tasks)! } : {}),
      ...(hashDim !== undefined ? { hashDim } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(bag !== undefined ? { bag } : {}),
      ...(embedding ? { embedding } : {}),
      ...(featureGroups?.includes('structure') ? { structure: true } : {}),
      ...(augment ? { augment: augment.options } : {}),
      ...(augment?.multitask ? { multitask: augment.multitask } : {}),
      ...(infoldMultitask ? { multitask: infoldMultitask } : {}),
    });
  } catch (e) {
    // --tasks matching no prompt: a usage error naming the flag.
    throw flagRefusal(e);
  }
  if (augment) artifact.training.augment = { kinds: augment.kinds, ...(augment.difficulty ? { difficulty: augment.difficulty } : {}), ...(augment.multitask ? { multitask: augment.multitask.report } : {}), ...(augment.infold ? { infold: augment.infold.reports } : {}) };
  let text: string;
  try {
    text = JSON.stringify(artifact);
  } catch (e) {
    // A JS string holds at most 2^29 - 24 characters on Node 20: a large bag of large members can exceed it.
    if (!(e instanceof RangeError)) throw e;
    throw new CliUsageError(`the trained model is too large to write as one JSON file${bag !== undefined && bag > 1 ? ' (lower --bag)' : ''}: ${e.message}`, bag !== undefined && bag > 1 ? '--bag' : '--data');
  }
  if (out) await writeOutFile('--out', out, `${text}\n`, ctx.stdout);
  else ctx.stdout.write(`${text}\n`);
  const summary = { out: out ?? '-', models: artifact.models, chosen: artifact.training.chosen, examples: artifact.training.examples, validation: artifact.training.validation };
  (onStdout ? ctx.stderr : ctx.stdout).write(
    values.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `wrote ${out ?? 'the model to stdout'}: ${artifact.training.chosen} predictor over ${artifact.models.length} models, trained on ${artifact.training.examples} prompts\n` +
          artifact.training.validation.map((v) => `  ${v.kind.padEnd(8)} validation ${v.metric} ${v.value.toFixed(4)}${v.kind === artifact.training.chosen ? '  (chosen)' : ''}`).join('\n') +
          '\n',
  );
  return EXIT.ok;
}

export const routerTrainCommand: CliCommand = {
  name: 'router train',
  summary: 'train the learned router on per-prompt outcomes',
  help: ROUTER_TRAIN_HELP,
  run: routerTrain,
};
