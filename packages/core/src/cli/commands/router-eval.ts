import { basename, join, resolve } from 'node:path';
import { choiceOfModels, loadDataset } from '../../learning/datasets/load-dataset.js';
import { missingOutcomes, missingOutcomesWarning } from '../../learning/datasets/missing-outcomes.js';
import { resolveDataPath } from '../../learning/datasets/shared-data-dir.js';
import { checkEvaluation, evaluateDataset, evaluateModel, filterTasks } from '../../learning/evaluation/evaluate-dataset.js';
import type { EvaluationReport } from '../../learning/evaluation/evaluation-report.js';
import { formatReport, reportJson } from '../../learning/evaluation/format-report.js';
import { reportSvg } from '../../learning/evaluation/report-plot.js';
import { MAX_BAG } from '../../learning/predictors/bagged-predictor.js';
import type { PredictorKind } from '../../learning/predictors/types.js';
import { loadRouterModel } from '../../learning/training/router-model.js';
import type { CliCommand } from '../cli-command.js';
import { EXIT, type CliContext, type ExitCode } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';
import { readFlagInput } from '../flag-input.js';
import { checkOutPath, outIsFile, outIsStdout, writeOutFile } from '../out-file.js';
import { GLOBAL_FLAGS, intFlag, parseFlags } from '../parse-flags.js';
import { AUGMENT_FLAGS, AUGMENT_HELP, augmentOptionsFor } from './router-augment.js';
import { embeddingLookupFor } from './router-embeddings.js';
import { FEATURES_FLAGS, FEATURES_HELP, parseFeatureGroups } from './router-features.js';
import { cascadeDataFile, routerEvalCascade } from './router-eval-cascade.js';
import { flagRefusal } from './router-flag-refusal.js';
import { parsePredictor, parseTasks } from './router-train.js';

const FLAGS = {
  ...GLOBAL_FLAGS,
  data: { type: 'string', short: 'd' },
  model: { type: 'string', short: 'm' },
  out: { type: 'string', short: 'o', dash: true },
  json: { type: 'boolean' },
  folds: { type: 'string' },
  'holdout-task': { type: 'string' },
  tasks: { type: 'string' },
  predictor: { type: 'string' },
  'hash-dim': { type: 'string' },
  embeddings: { type: 'boolean' },
  'ood-guard': { type: 'boolean' },
  predictors: { type: 'string' },
  seed: { type: 'string' },
  bag: { type: 'string' },
  cascade: { type: 'boolean' },
  hybrid: { type: 'boolean' },
  ...AUGMENT_FLAGS,
  ...FEATURES_FLAGS,
} as const;

export const ROUTER_EVAL_HELP = `Usage: llmrr router eval --data <file|dir> [--model <model.json>] [options]

Evaluates the learned router on held-out prompts only: the data's test split, or k-fold cross-validation
when it has none (each fold trains every predictor on the other folds). With --model, evaluates that
trained model on the test split instead of training. No held-out or no training prompt (every row in one
split, --holdout-task or --tasks matching nothing) is an error, and so are held-out prompts none of which
has every model's outcome (the metrics score only those; others are counted as dropped), found right after
reading the data, before any embeddings, --augment model or training. A training
prompt with the text of a held-out prompt (the same question under another task, or exported again
without a split) is left out.

Prints, for two-model data (RouteLLM): APGR, CPT(50%), CPT(80%) per predictor, with the random and oracle
routers; for many-model data with costs (RouterBench): AIQ, the cost at which the router reaches 95% of
the best single model's quality, and whether its quality-cost curve is on or above the zero-router hull
(the convex hull of the single models); without costs: the quality of the model picked per prompt.
Writes the JSON report and an SVG plot of the curves next to it.

Options:
  -d, --data <path>          routing data (see llmrr router train --help for the formats)
  -m, --model <file>         evaluate this trained model instead of training per fold (on the test
                             split, or every prompt; the prompts it was trained on are left out by
                             their fingerprint, and data made only of them is refused)
  -o, --out <file>           JSON report path (default .llmrr/reports/<data>.json); the plot is <file>.svg
                             (none when --out is written in place: /dev/null, /dev/stdout, a named pipe;
                             a note says so on stderr); "-" prints the report on stdout, the tables on
                             stderr, and writes no file
      --json                 print the report as JSON (apgr, cpt50, cpt80 or aiq, quality_at_cost, baselines)
      --folds <k>            cross-validation folds when the data has no split (default 5)
      --holdout-task <task>  train on every other task and evaluate on this unseen one (with --model:
                             that task's test split; refused when the model trained on the task and
                             the data has no test split for it)
      --tasks <a,b>          only these tasks
      --predictor <kind>     headline predictor: auto (picked on validation data), logistic, mf,
                             mlp, knn, ensemble, task, stack
      --predictors <a,b>     train and report only these kinds (default: all of the above); also
                             gain, gain-mlp (two-model data only: the strong model's gain learned
                             directly, by a softmax regression / by the mlp's network)
      --ood-guard            wrap every predictor in the out-of-distribution guard (prompts unlike
                             every training task fall back toward each model's mean quality)
      --hash-dim <n>         hashed TF-IDF buckets (default 65536)
      --embeddings           add prompt embeddings (cached under .llmrr/cache/embeddings)
${AUGMENT_HELP}${FEATURES_HELP}      --seed <n>             training seed
      --bag <k>              bagging across seeds: train each predictor kind k times per fold (seeds
                             derived from --seed; the first member uses --seed itself) and average
                             the predicted probabilities; selection scores the bags (default 1, ~k x
                             slower)
      --cascade              evaluate a CASCADE instead (RouteLLM GSM8K with responses only): it calls
                             the weak model first, READS ITS ANSWER (arithmetic checks, final answer,
                             truncation, ...) and escalates to the strong model when it looks wrong,
                             so it sees more than a router and pays the weak call on every prompt (a
                             different cost model). Same folds and metrics, plus cost views with the
                             shared price table; the prompt-only router (the other flags) on the same
                             folds for comparison. Writes <out>.json, <out>.svg and <out>-cost.svg
                             (the report alone when --out is written in place or "-")
      --hybrid               with --cascade: also CASCADE ROUTING, the router's most confident
                             strong-model prompts (top 0/5/10/15/20/30% per fold) go straight to the
                             strong model, the rest through the cascade; plus the share picked per
                             fold on its training prompts (inner cross-validation; ~5x slower)
  -h, --help                 show this help
`;

/** `llmrr router eval`: `(args, ctx) -> exit code`. */
export async function routerEval(args: readonly string[], ctx: CliContext): Promise<ExitCode> {
  const { values, positionals } = parseFlags(args, FLAGS);
  if (values.help) {
    ctx.stdout.write(ROUTER_EVAL_HELP);
    return EXIT.ok;
  }
  if (positionals[0] !== undefined) throw new CliUsageError(`unexpected argument "${positionals[0]}"`, positionals[0]);
  if (!values.data) throw new CliUsageError('missing --data <file|dir>', '--data');
  const folds = intFlag(values.folds, '--folds', 2, 50);
  const hashDim = intFlag(values['hash-dim'], '--hash-dim', 0, 1 << 20);
  const seed = intFlag(values.seed, '--seed', 0);
  const bag = intFlag(values.bag, '--bag', 1, MAX_BAG);
  const select = parsePredictor(values.predictor);
  const tasks = parseTasks(values.tasks);
  const featureGroups = parseFeatureGroups(values.features);
  const structure = featureGroups?.includes('structure') === true;
  const kinds = parseTasks(values.predictors)?.map((k): PredictorKind => {
    if (k === 'gain' || k === 'gain-mlp') return k;
    const kind = parsePredictor(k);
    if (kind === 'auto' || kind === 'prior') throw new CliUsageError(`option --predictors expects predictor kinds (logistic, mf, mlp, knn, ensemble, task, stack, gain, gain-mlp), got "${k}"`, '--predictors');
    return kind;
  });
  if (values.model && featureGroups) throw new CliUsageError('--features trains with extra feature groups: use it without --model (a trained model carries its own)', '--features');
  if (values.cascade && values.model) throw new CliUsageError('--cascade trains per fold: use it without --model', '--cascade');
  if (values.cascade && (values['holdout-task'] || tasks)) throw new CliUsageError('--cascade evaluates RouteLLM GSM8K by cross-validation: --holdout-task and --tasks do not apply', '--cascade');
  if (values.model && bag !== undefined) throw new CliUsageError('--bag trains per fold: use it without --model (a trained model carries its own bag)', '--bag');
  if (values.cascade && bag !== undefined) throw new CliUsageError('--bag is not available with --cascade', '--bag');
  if (values.hybrid && !values.cascade) throw new CliUsageError('--hybrid is a cascade evaluation: use it with --cascade', '--hybrid');
  if (values.model && values.augment) throw new CliUsageError('--augment trains a difficulty model: use it without --model (a trained model carries its own)', '--augment');
  if (values.cascade) cascadeDataFile(resolveDataPath(values.data, ctx.env, ctx.cwd));
  const dataPath = resolveDataPath(values.data, ctx.env, ctx.cwd);
  const dataset = await readFlagInput('--data', async () => choiceOfModels(await loadDataset(dataPath)));
  // About the prompts evaluated (--tasks); none with every model's outcome: the evaluation refuses the data (its error
  // says why), no warning first.
  const used = tasks ? { ...dataset, examples: filterTasks(dataset.examples, tasks) } : dataset;
  const missing = missingOutcomes(used);
  if (missing && missing.prompts < missing.total) ctx.stderr.write(`llmrr router eval: warning: ${missingOutcomesWarning(used)!}\n`);
  // `--out -`: the report on stdout (the tables on stderr then), no file and no plot.
  const out = values.out === '-' ? undefined : resolve(ctx.cwd, values.out ?? join('.llmrr', 'reports', `${dataset.name.replace(/[^\w.-]+/g, '-')}${values['holdout-task'] ? `-unseen-${values['holdout-task']}` : ''}.json`));
  if (out) checkOutPath('--out', out);
  // An --out that is this process's stdout (/dev/stdout, /dev/fd/1) is `-` written through the descriptor: the report
  // alone there, the tables on stderr (else stdout would hold the report and then the tables, or two JSON documents).
  const onStdout = out === undefined || outIsStdout(out);
  // The plot goes beside a report file as <out>.svg; an --out written in place (/dev/null, /dev/stdout, a named pipe)
  // has no beside: no plot (a new /dev/null.svg would be a file in /dev). (--cascade checks its own plots' paths.)
  const svg = out && outIsFile(out) ? out.replace(/\.json$/, '') + '.svg' : undefined;
  if (svg && !values.cascade) checkOutPath('--out', svg);
  if (kinds?.some((k) => k === 'gain' || k === 'gain-mlp') && !dataset.pair) throw new CliUsageError(`--predictors gain/gain-mlp needs two-model data (a weak and a strong model); ${dataset.name} has ${dataset.models.length} models`, '--predictors');
  const log = (line: string) => ctx.stderr.write(`${line}\n`);
  const modelFile = values.model ? resolve(ctx.cwd, values.model) : undefined;
  const model = modelFile ? await readFlagInput('--model', () => loadRouterModel(modelFile)) : undefined;
  if (!values.cascade) {
    // Before any work (embeddings, a difficulty model, training): no held-out prompt, --tasks or --holdout-task matching
    // none, a model that does not fit the data, no held-out prompt with every model's outcome.
    let ties: string | undefined;
    try {
      ({ ties } = checkEvaluation(dataset, { ...(tasks ? { tasks } : {}), ...(values['holdout-task'] ? { holdoutTask: values['holdout-task'] } : {}), ...(folds !== undefined ? { folds } : {}) }, model));
    } catch (e) {
      throw flagRefusal(e);
    }
    // The metrics of every router (oracle and random too) are then the same: said, not refused (the report is still true).
    if (ties) ctx.stderr.write(`llmrr router eval: warning: ${ties}: every router scores the same on them, the metrics rank nothing; hold out more prompts (--data's test split, or no split for cross-validation) where the models differ\n`);
  }
  if (!svg) log(!onStdout ? 'llmrr router eval: no plot: --out is not a file (the plot goes beside a report file, as <out>.svg): the report alone is written there' : `llmrr router eval: no plot: --out ${values.out} prints the report on stdout (the tables go to stderr)`);
  const embedding = values.embeddings ? await embeddingLookupFor(filterTasks(dataset.examples, tasks).map((e) => e.prompt), ctx, log) : undefined;
  const augment = await augmentOptionsFor(values, dataset.examples.map((e) => e.prompt), ctx, log, seed, embedding ? (prompts) => embeddingLookupFor(prompts, ctx, log) : undefined);
  if (values.cascade) {
    return routerEvalCascade(
      {
        dataPath: resolveDataPath(values.data, ctx.env, ctx.cwd),
        out: values.out,
        json: values.json === true,
        ...(values.hybrid ? { hybrid: true } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(folds !== undefined ? { folds } : {}),
        router: {
          options: {
            log,
            select,
            ...(kinds ? { kinds } : {}),
            ...(values['ood-guard'] ? { guard: true } : {}),
            ...(hashDim !== undefined ? { hashDim } : {}),
            ...(seed !== undefined ? { seed } : {}),
            ...(embedding ? { embedding } : {}),
            ...(structure ? { structure } : {}),
            ...(augment ? { augment: augment.options } : {}),
            ...(augment?.multitask ? { multitask: augment.multitask } : {}),
          },
          ...(augment?.infold ? { foldOptions: augment.infold.forFold } : {}),
        },
      },
      ctx,
    );
  }
  let report: EvaluationReport;
  if (model) {
    try {
      report = evaluateModel(dataset, model, {
        ...(tasks ? { tasks } : {}),
        ...(values['holdout-task'] ? { holdoutTask: values['holdout-task'] } : {}),
        ...(embedding ? { embedding } : {}),
      });
    } catch (e) {
      // A model that does not fit the data (it lacks one of the data's models, it trained on every prompt), --tasks or
      // --holdout-task matching no prompt: a usage error naming the flag.
      throw flagRefusal(e);
    }
  } else {
    try {
      report = evaluateDataset(dataset, {
        log,
        select,
        ...(kinds ? { kinds } : {}),
        ...(values['ood-guard'] ? { guard: true } : {}),
        ...(folds !== undefined ? { folds } : {}),
        ...(hashDim !== undefined ? { hashDim } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(bag !== undefined ? { bag } : {}),
        ...(tasks ? { tasks } : {}),
        ...(values['holdout-task'] ? { holdoutTask: values['holdout-task'] } : {}),
        ...(embedding ? { embedding } : {}),
        ...(structure ? { structure } : {}),
        ...(augment ? { augment: augment.options } : {}),
        ...(augment?.infold ? { foldOptions: augment.infold.forFold } : {}),
        ...(augment?.multitask ? { multitask: augment.multitask } : {}),
      });
    } catch (e) {
      // --tasks or --holdout-task matching no prompt: a usage error naming the flag.
      throw flagRefusal(e);
    }
    if (featureGroups) report.features = featureGroups.map((g) => `+${g}`);
    if (bag !== undefined && bag > 1) report.bag = bag;
    if (augment) report.augment = { kinds: augment.kinds, ...(augment.difficulty ? { difficulty: augment.difficulty } : {}), ...(augment.multitask ? { multitask: augment.multitask.report } : {}), ...(augment.infold ? { infold: augment.infold.reports } : {}) };
  }
  if (onStdout) {
    // `--out -` (or stdout's own path): stdout holds the report alone (one JSON document), the tables go to stderr.
    if (out) await writeOutFile('--out', out, `${reportJson(report, 1)}\n`, ctx.stdout);
    else ctx.stdout.write(`${reportJson(report, values.json ? undefined : 1)}\n`);
    if (!values.json) ctx.stderr.write(`${formatReport(report)}\n`);
    return EXIT.ok;
  }
  await writeOutFile('--out', out, `${reportJson(report, 1)}\n`, ctx.stdout);
  if (svg) await writeOutFile('--out', svg, reportSvg(report));
  ctx.stdout.write(values.json ? `${reportJson(report)}\n` : `${formatReport(report)}\nreport: ${out}\n${svg ? `plot:   ${svg}\n` : ''}`);
  // Written in place (/dev/null, a named pipe): its path, not its base name ("wrote null").
  if (!values.json) log(svg ? `wrote ${basename(out)} and ${basename(svg)}` : `wrote the report to ${out}`);
  return EXIT.ok;
}

export const routerEvalCommand: CliCommand = {
  name: 'router eval',
  summary: 'evaluate the learned router on held-out prompts',
  help: ROUTER_EVAL_HELP,
  run: routerEval,
};
