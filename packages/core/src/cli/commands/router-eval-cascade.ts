import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { cascadeCostSvg, cascadePgrSvg } from '../../learning/cascade/cascade-plot.js';
import { evaluateCascade, type EvaluateCascadeOptions } from '../../learning/cascade/evaluate-cascade.js';
import { formatCascadeReport } from '../../learning/cascade/format-cascade-report.js';
import { loadGsm8kResponses } from '../../learning/cascade/load-gsm8k-responses.js';
import { pairPrices, type PairPrices } from '../../learning/cascade/price-pair.js';
import { sharedRoutingDir } from '../../learning/datasets/shared-data-dir.js';
import { loadPriceTable } from '../../pricing/load-price-table.js';
import type { PriceTable } from '../../pricing/types.js';
import { EXIT, type CliContext, type ExitCode } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';
import { readFlagInput } from '../flag-input.js';
import { checkOutPath, outIsFile, outIsStdout, writeOutFile } from '../out-file.js';

/** Price entries of the cascade's cost view: the weak model's own maker first, then other sellers. */
export const CASCADE_STRONG_PRICE = 'gpt-4-1106-preview';
export const CASCADE_WEAK_PRICES = ['mistral/open-mixtral-8x7b', 'together_ai/mistralai/Mixtral-8x7B-Instruct-v0.1', 'anyscale/mistralai/Mixtral-8x7B-Instruct-v0.1'];

export interface CascadeEvalInput {
  /** Resolved `--data`: the RouteLLM gsm8k folder or its `gsm8k_responses.csv`. */
  dataPath: string;
  out: string | undefined;
  json: boolean;
  /** The prompt-only router to compare with (same folds and seed). */
  router: EvaluateCascadeOptions['router'];
  seed?: number;
  folds?: number;
  /** `--hybrid`: cascade routing (router-direct share + cascade), fixed shares and the per-fold choice. */
  hybrid?: boolean;
}

/** The shared price table (`<shared>/data/pricing/model_prices.json`), or undefined when it is not there. */
async function sharedPrices(ctx: CliContext): Promise<{ file: string; table: PriceTable } | undefined> {
  const routing = sharedRoutingDir(ctx.env, ctx.cwd);
  const file = routing ? join(routing, '..', 'pricing', 'model_prices.json') : undefined;
  if (!file || !existsSync(file)) return undefined;
  return { file, table: await loadPriceTable(file, { base: new Map() }) };
}

const cascadeJson = (r: unknown, indent?: number) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(5)) : v), indent);

/** The responses file of `--data` for `--cascade` (checked before anything is loaded or embedded). */
export function cascadeDataFile(dataPath: string): string {
  const file = existsSync(dataPath) && statSync(dataPath).isDirectory() ? join(dataPath, 'gsm8k_responses.csv') : dataPath;
  if (!existsSync(file) || !file.endsWith('.csv')) {
    throw new CliUsageError(`--cascade needs RouteLLM's gsm8k_responses.csv (both models' answers), not found at ${file}; MMLU and MT-Bench have no answers to read`, '--data');
  }
  return file;
}

/** `llmrr router eval --cascade`: the weak-answer cascade on RouteLLM GSM8K, next to the prompt-only router. */
export async function routerEvalCascade(input: CascadeEvalInput, ctx: CliContext): Promise<ExitCode> {
  const file = cascadeDataFile(input.dataPath);
  const log = (line: string) => ctx.stderr.write(`${line}\n`);
  // `--out -`: the report on stdout (the tables on stderr); an --out written in place (/dev/null, /dev/stdout, a named
  // pipe) has no beside for the plots: the report alone (a new /dev/null.svg would be a file in /dev).
  const out = input.out === '-' ? undefined : resolve(ctx.cwd, input.out ?? join('.llmrr', 'reports', 'routellm-gsm8k-cascade.json'));
  const stem = out !== undefined && outIsFile(out) ? out.replace(/\.json$/, '') : undefined;
  if (out) checkOutPath('--out', out);
  // An --out that is this process's stdout (/dev/stdout, /dev/fd/1) is `-` written through the descriptor: the report
  // alone there, the tables on stderr.
  const onStdout = out === undefined || outIsStdout(out);
  if (stem) for (const f of [`${stem}.svg`, `${stem}-cost.svg`]) checkOutPath('--out', f);
  const examples = await readFlagInput('--data', () => loadGsm8kResponses(file));
  const priced = await sharedPrices(ctx);
  let prices: PairPrices | undefined;
  const alternatives: PairPrices[] = [];
  if (priced) {
    const has = (k: string) => priced.table.has(k.toLowerCase());
    const weakKeys = CASCADE_WEAK_PRICES.filter(has);
    if (has(CASCADE_STRONG_PRICE) && weakKeys.length) {
      prices = pairPrices(priced.table, weakKeys[0]!, CASCADE_STRONG_PRICE);
      for (const k of weakKeys.slice(1)) alternatives.push(pairPrices(priced.table, k, CASCADE_STRONG_PRICE));
    } else log(`cascade: ${priced.file} has no ${CASCADE_STRONG_PRICE} or Mixtral entry: cost views left out`);
  } else log('cascade: no shared price table (data/pricing/model_prices.json): cost views left out');
  if (input.hybrid && !prices) throw new CliUsageError(`--hybrid compares costs: it needs the shared price table with ${CASCADE_STRONG_PRICE} and a Mixtral entry`, '--hybrid');
  const report = evaluateCascade(examples, {
    log,
    ...(input.seed !== undefined ? { seed: input.seed } : {}),
    ...(input.folds !== undefined ? { folds: input.folds } : {}),
    ...(prices ? { prices, alternativePrices: alternatives } : {}),
    ...(input.router ? { router: input.router } : {}),
    ...(input.hybrid ? { hybrid: {} } : {}),
  });
  if (onStdout) {
    // `--out -` (or stdout's own path): stdout holds the report alone (one JSON document), the tables go to stderr.
    if (out) await writeOutFile('--out', out, `${cascadeJson(report, 1)}\n`, ctx.stdout);
    else ctx.stdout.write(`${cascadeJson(report, input.json ? undefined : 1)}\n`);
    if (!input.json) log(formatCascadeReport(report));
    return EXIT.ok;
  }
  await writeOutFile('--out', out, `${cascadeJson(report, 1)}\n`, ctx.stdout);
  const costSvg = stem ? cascadeCostSvg(report) : undefined;
  if (stem) {
    await writeOutFile('--out', `${stem}.svg`, cascadePgrSvg(report));
    if (costSvg) await writeOutFile('--out', `${stem}-cost.svg`, costSvg);
  }
  const plots = stem ? `plots:  ${stem}.svg${costSvg ? `, ${stem}-cost.svg` : ''}\n` : '';
  ctx.stdout.write(input.json ? `${cascadeJson(report)}\n` : `${formatCascadeReport(report)}\nreport: ${out}\n${plots}`);
  // Written in place (/dev/null, a named pipe): its path, not its base name ("wrote null").
  if (!input.json) log(stem ? `wrote ${basename(out)}` : `wrote the report to ${out}`);
  return EXIT.ok;
}
