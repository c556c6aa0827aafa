import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseCascadeScorer, trainCascadeScorerArtifact, type CascadeScorerExample } from '../../learning/cascade/cascade-scorer-artifact.js';
import { loadCascadeLog } from '../../learning/cascade/load-cascade-log.js';
import { loadGsm8kResponses } from '../../learning/cascade/load-gsm8k-responses.js';
import { EXIT, type CliContext, type ExitCode } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';
import { readFlagInput } from '../flag-input.js';
import { checkOutPath, outIsStdout, writeOutFile } from '../out-file.js';

export interface CascadeTrainInput {
  /** Resolved `--data`: the RouteLLM gsm8k folder, its `gsm8k_responses.csv`, or a cascade log (CSV/JSONL). */
  dataPath: string;
  /** `--data` as given (recorded in the artifact). */
  dataName: string;
  out: string;
  json: boolean;
  seed?: number;
}

/** The cascade training data of `--data`: RouteLLM's responses CSV (a folder holding it, or the file) or a generic cascade log. */
async function cascadeTrainingData(path: string): Promise<CascadeScorerExample[]> {
  if (existsSync(path) && statSync(path).isDirectory()) {
    const file = join(path, 'gsm8k_responses.csv');
    if (!existsSync(file)) throw new CliUsageError(`--cascade needs a file with the weak model's answers: ${path} is a folder without gsm8k_responses.csv`, '--data');
    return loadGsm8kResponses(file);
  }
  if (!existsSync(path)) throw new CliUsageError(`--data: ${path} not found`, '--data');
  if (path.endsWith('.jsonl')) return loadCascadeLog(path);
  if (!path.endsWith('.csv')) throw new CliUsageError(`--cascade reads a CSV or JSONL file (prompt, weak_answer, weak_correct, strong_correct) or RouteLLM's gsm8k_responses.csv, got ${basename(path)}`, '--data');
  const header = (await readFile(path, 'utf8')).split('\n', 1)[0] ?? '';
  // A space after a comma (" weak_answer") still makes it a cascade log: its loader then names the header's mistake.
  return /(^|,)\s*"?\s*weak_answer\s*"?\s*(,|$)/.test(header.trim()) ? loadCascadeLog(path) : loadGsm8kResponses(path);
}

/** `llmrr router train --cascade`: trains the learned cascade scorer on every prompt and writes its artifact. */
export async function routerTrainCascade(input: CascadeTrainInput, ctx: CliContext): Promise<ExitCode> {
  // `--out -`: the scorer on stdout (the summary on stderr then), no file.
  const out = input.out === '-' ? undefined : resolve(ctx.cwd, input.out);
  if (out) checkOutPath('--out', out);
  // An --out that is this process's stdout (/dev/stdout, /dev/fd/1) is `-` written through the descriptor: the summary on stderr.
  const onStdout = out === undefined || outIsStdout(out);
  const examples = await readFlagInput('--data', () => cascadeTrainingData(input.dataPath));
  ctx.stderr.write(`training the cascade scorer on ${input.dataName}: ${examples.length} prompts\n`);
  const artifact = trainCascadeScorerArtifact(examples, { data: input.dataName, ...(input.seed !== undefined ? { seed: input.seed } : {}) });
  const text = `${JSON.stringify(artifact, null, 1)}\n`;
  // Never write a file the router would refuse to load.
  parseCascadeScorer(JSON.parse(text), out ?? 'stdout', '--out');
  if (out) await writeOutFile('--out', out, text, ctx.stdout);
  else ctx.stdout.write(text);
  const t = artifact.training;
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  (onStdout ? ctx.stderr : ctx.stdout).write(
    input.json
      ? `${JSON.stringify({ out: out ?? '-', threshold: artifact.threshold, training: t }, null, 2)}\n`
      : `wrote ${onStdout ? 'the scorer to stdout' : out}: learned cascade scorer trained on ${t.examples} prompts (weak ${t.weak_accuracy.toFixed(3)}, strong ${t.strong_accuracy.toFixed(3)} accurate)\n` +
          `  suggested threshold ${artifact.threshold.toFixed(4)}: escalates ${pct(t.escalation_rate_at_threshold)} of the training prompts, accuracy ${t.accuracy_at_threshold.toFixed(3)} (measured on the training data: optimistic)\n` +
          `  use it: routing.cascades[].verifier: learned, verifierModel: ${onStdout ? '<the file you saved it to>' : out}\n` +
          `  (a relative verifierModel is read from the config file's folder, or modelsDir: the router's base for model files)\n`,
  );
  return EXIT.ok;
}
