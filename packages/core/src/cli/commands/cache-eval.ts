import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Embedder } from '../../embeddings/embedder.js';
import { defaultLocalEmbedder } from '../../semantic-cache/semantic-cache.js';
import { DEFAULT_EVAL_THRESHOLDS, evaluateParaphrases, type ParaphrasePair, type ParaphraseEvalReport } from '../../semantic-cache/paraphrase-eval.js';
import type { CliCommand } from '../cli-command.js';
import { EXIT, type CliContext, type ExitCode } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';
import { formatTable } from '../format.js';
import { GLOBAL_FLAGS, intFlag, parseFlags } from '../parse-flags.js';

const FLAGS = {
  ...GLOBAL_FLAGS,
  data: { type: 'string' },
  unrelated: { type: 'string' },
  'unrelated-limit': { type: 'string' },
  limit: { type: 'string' },
  thresholds: { type: 'string' },
  examples: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Default unrelated prompts, relative to the data root (the parent of the pairs file's folder). */
const DEFAULT_UNRELATED = ['routing/routellm/mt_bench/question.jsonl', 'routing/routellm/gsm8k/gsm8k_responses.csv'];

const HELP = `Usage: llmrr cache eval --data <pairs.json> [options]

Measures the semantic cache on paraphrase pairs (GPTCache's benchmark format: [{"origin","similar"}]):
stores every origin with a distinct answer, queries every paraphrase (a hit on its own origin is correct,
on another origin wrong) and unrelated prompts (any hit is wrong), and prints the counts per threshold,
the lookup latency (without the embedding) and the embedding time. Embeddings: Universal Sentence
Encoder lite, in process (no network).

Options:
      --data <file>             the pairs file (required)
      --unrelated <files>       comma-separated prompt files (.jsonl with "turns"/"prompt", .csv with a
                                "prompt" column, .json array); default: ${DEFAULT_UNRELATED.join(', ')}
                                under the data root (the folder above the pairs file's folder)
      --unrelated-limit <n>     most unrelated prompts (default 500)
      --limit <n>               only the first n pairs (quick runs)
      --thresholds <list>       comma-separated, default ${DEFAULT_EVAL_THRESHOLDS.join(',')}
      --examples <n>            also list the n best-scoring wrong hits (query, expected, matched, score)
      --json                    one JSON object instead of the table
  -h, --help                    show this help
`;

function promptsFrom(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(promptsFrom);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o['turns'])) return o['turns'].filter((t): t is string => typeof t === 'string');
    if (typeof o['prompt'] === 'string') return [o['prompt']];
  }
  return [];
}

async function readPrompts(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  if (file.endsWith('.csv')) {
    const rows = parse(text, { bom: true, columns: true, relax_column_count: true, skip_empty_lines: true }) as Array<Record<string, string>>;
    if (rows.length > 0 && !('prompt' in rows[0]!)) throw new CliUsageError(`${file}: no "prompt" column`, '--unrelated');
    return rows.map((r) => r['prompt'] ?? '');
  }
  if (file.endsWith('.jsonl')) return text.split('\n').filter((l) => l.trim()).flatMap((l) => promptsFrom(JSON.parse(l)));
  return promptsFrom(JSON.parse(text));
}

async function readPairs(file: string): Promise<ParaphrasePair[]> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new CliUsageError(`--data ${file}: ${(e as Error).message}`, '--data');
  }
  if (!Array.isArray(data)) throw new CliUsageError(`--data ${file}: expected a JSON array of {"origin","similar"}`, '--data');
  return data.map((p: unknown, i) => {
    const o = p as Partial<ParaphrasePair> | null;
    if (!o || typeof o.origin !== 'string' || typeof o.similar !== 'string') {
      throw new CliUsageError(`--data ${file}: item ${i} needs string "origin" and "similar"`, '--data');
    }
    return { origin: o.origin, similar: o.similar };
  });
}

function parseThresholds(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n < 0 || n > 1)) {
    throw new CliUsageError(`option --thresholds expects comma-separated numbers from 0 to 1, got "${value}"`, '--thresholds');
  }
  return list;
}

export function formatEvalReport(r: ParaphraseEvalReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const table = formatTable(
    ['threshold', 'correct', 'wrong', 'miss', 'unrelated hit', 'unrelated miss', 'correct %', 'wrong %'],
    r.thresholds.map((t) => [
      t.threshold.toFixed(2),
      String(t.correct),
      String(t.wrong),
      String(t.misses),
      String(t.unrelatedWrong),
      String(t.unrelatedMisses),
      pct(t.correctRate),
      pct(t.wrongRate),
    ]),
  );
  return `Semantic cache eval: ${r.pairs} paraphrase pairs (${r.stored} distinct origins stored), ${r.unrelated} unrelated prompts, embedder ${r.embedder}
${table}
correct % = correct / paraphrase queries; wrong % = (wrong + unrelated hits) / all queries
lookup (without embedding): p50 ${r.p50_ms.toFixed(3)} ms, p99 ${r.p99_ms.toFixed(3)} ms
embedding: ${r.texts_embedded} texts in ${(r.embed_ms_total / 1000).toFixed(1)} s (${r.embed_ms_per_text.toFixed(1)} ms per text, batched)
${(r.wrong_examples ?? [])
  .map((w) => `wrong hit ${w.score.toFixed(3)}: "${w.query}"\n  matched:  "${w.matched}"${w.expected !== undefined ? `\n  expected: "${w.expected}"` : ' (unrelated prompt)'}\n`)
  .join('')}`;
}

export interface CacheEvalDeps {
  /** Seam for tests: the embedder (default: USE lite in process). */
  embedder?: () => Embedder;
}

/** `llmrr cache eval`, with the embedder injectable (tests use a deterministic one). */
export async function runCacheEval(args: readonly string[], ctx: CliContext, deps: CacheEvalDeps = {}): Promise<ExitCode> {
  const { values, positionals } = parseFlags(args, FLAGS);
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.ok;
  }
  const [sub, extra] = positionals;
  if (sub === undefined) throw new CliUsageError('missing subcommand: eval');
  if (sub !== 'eval') throw new CliUsageError(`unknown subcommand "${sub}" (expected eval)`, sub);
  if (extra !== undefined) throw new CliUsageError(`unexpected argument "${extra}"`, extra);
  if (values.config !== undefined) throw new CliUsageError('cache eval reads no router config (it measures the cache alone)', '--config');
  if (values.data === undefined) throw new CliUsageError('missing --data <pairs.json> (e.g. ../shared/data/cache/gptcache_paraphrase_pairs.json)', '--data');
  const dataFile = resolve(ctx.cwd, values.data);
  if (!existsSync(dataFile)) throw new CliUsageError(`--data: no such file ${dataFile}`, '--data');

  let pairs = await readPairs(dataFile);
  const limit = intFlag(values.limit, '--limit', 1);
  if (limit !== undefined) pairs = pairs.slice(0, limit);
  const thresholds = parseThresholds(values.thresholds);
  const examples = intFlag(values.examples, '--examples', 0);
  const unrelatedLimit = intFlag(values['unrelated-limit'], '--unrelated-limit', 0) ?? 500;

  const root = resolve(dirname(dataFile), '..');
  const unrelatedFiles = values.unrelated !== undefined ? values.unrelated.split(',').map((f) => resolve(ctx.cwd, f.trim())) : DEFAULT_UNRELATED.map((f) => resolve(root, f));
  const missing = unrelatedFiles.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new CliUsageError(`unrelated prompts not found: ${missing.join(', ')} (give files with --unrelated)`, '--unrelated');
  // Unrelated = not one of the pair texts, deduplicated, in file order.
  const inPairs = new Set(pairs.flatMap((p) => [p.origin, p.similar]));
  const seen = new Set<string>();
  const unrelated: string[] = [];
  for (const f of unrelatedFiles) {
    for (const raw of await readPrompts(f)) {
      const p = raw.trim();
      if (p && !inPairs.has(p) && !seen.has(p)) {
        seen.add(p);
        unrelated.push(p);
      }
    }
  }
  unrelated.splice(unrelatedLimit);

  const embedder = deps.embedder?.() ?? defaultLocalEmbedder();
  const report = await evaluateParaphrases({
    pairs,
    unrelated,
    embedder,
    ...(thresholds ? { thresholds } : {}),
    ...(examples ? { examples } : {}),
    ...(values.json ? {} : { onProgress: (m: string) => ctx.stderr.isTTY && ctx.stderr.write(`\r${m}   `) }),
  });
  await embedder.close?.();
  if (ctx.stderr.isTTY && !values.json) ctx.stderr.write('\n');
  ctx.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatEvalReport(report));
  return EXIT.ok;
}

/** `llmrr cache eval`: the semantic cache's precision and latency on paraphrase pairs. */
export const cacheCommand: CliCommand = {
  name: 'cache',
  summary: 'measure the semantic cache on paraphrase pairs (cache eval)',
  help: HELP,
  run: (args, ctx) => runCacheEval(args, ctx),
};
