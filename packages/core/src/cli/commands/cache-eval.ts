import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Embedder } from '../../embeddings/embedder.js';
import { decimal } from '../../learning/datasets/read-csv.js';
import { defaultLocalEmbedder } from '../../semantic-cache/semantic-cache.js';
import {
  DEFAULT_EVAL_THRESHOLDS,
  evaluateParaphrases,
  type ParaphraseEvalReport,
  type ParaphrasePair,
  type ThresholdCounts,
} from '../../semantic-cache/paraphrase-eval.js';
import { expectSubcommand, type CliCommand } from '../cli-command.js';
import { EXIT, type CliContext, type ExitCode } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';
import { formatTable } from '../format.js';
import { GLOBAL_FLAGS, intFlag, numberFlag, parseFlags } from '../parse-flags.js';

const FLAGS = {
  ...GLOBAL_FLAGS,
  data: { type: 'string' },
  unrelated: { type: 'string' },
  'unrelated-limit': { type: 'string' },
  limit: { type: 'string' },
  thresholds: { type: 'string' },
  examples: { type: 'string' },
  scoring: { type: 'string' },
  'lexical-weight': { type: 'string' },
  'min-margin': { type: 'string' },
  candidates: { type: 'string' },
  folds: { type: 'string' },
  'wrong-budget': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Default unrelated prompts, relative to the data root (the parent of the pairs file's folder). */
const DEFAULT_UNRELATED = ['routing/routellm/mt_bench/question.jsonl', 'routing/routellm/gsm8k/gsm8k_responses.csv'];

const HELP = `Usage: llmrr cache eval --data <pairs.json> [options]

Measures the semantic cache on paraphrase pairs (GPTCache's benchmark format: [{"origin","similar"}]):
stores every origin with a distinct answer, queries every paraphrase (a hit on its own origin is correct,
on another origin wrong) and unrelated prompts (any hit is wrong), and prints the counts per threshold
for plain cosine (baseline) and for the cache's selection (hybrid re-ranking + ambiguity rule, as
configured by the flags below, defaults as in cache.semantic), k-fold cross-validated choices of
lexical weight and margin (held-out counts only), an analysis of the wrong hits, the lookup latency
(without the embedding) and the embedding time. Embeddings: Universal Sentence Encoder lite, in
process (no network).

Options:
      --data <file>             the pairs file (required)
      --unrelated <files>       comma-separated prompt files (.jsonl with "turns"/"prompt", .csv with a
                                "prompt" column, .json array); default: ${DEFAULT_UNRELATED.join(', ')}
                                under the data root (the folder above the pairs file's folder)
      --unrelated-limit <n>     most unrelated prompts (default 500)
      --limit <n>               only the first n pairs (quick runs)
      --thresholds <list>       comma-separated, default ${DEFAULT_EVAL_THRESHOLDS.join(',')}
      --examples <n>            also list the n best-scoring wrong hits (query, expected, matched, score)
      --scoring <hybrid|cosine> how the cache picks among the nearest stored questions (default hybrid)
      --lexical-weight <w>      weight of character-trigram similarity in the hybrid score (default 0.4)
      --min-margin <m>          ambiguity rule: lead over the runner-up needed to serve (default 0.015)
      --candidates <k>          nearest stored questions compared (default 8)
      --folds <n>               cross-validation folds, grouped by origin (default 10; 0 or 1: none)
      --wrong-budget <r>        most (wrong + unrelated hits) per training paraphrase a cross-validated
                                choice may make (default 0.015)
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

/** Reads an `--unrelated` file; a file that does not parse is a usage error naming it (and the line, for .jsonl). */
async function readPrompts(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const bad = (where: string, e: unknown) => new CliUsageError(`--unrelated ${file}${where}: ${(e as Error).message}`, '--unrelated');
  if (file.endsWith('.csv')) {
    let rows: Array<Record<string, string>>;
    try {
      rows = parse(text, { bom: true, columns: true, relax_column_count: true, skip_empty_lines: true }) as Array<Record<string, string>>;
    } catch (e) {
      throw bad('', e);
    }
    if (rows.length > 0 && !('prompt' in rows[0]!)) throw new CliUsageError(`--unrelated ${file}: no "prompt" column`, '--unrelated');
    return rows.map((r) => r['prompt'] ?? '');
  }
  if (file.endsWith('.jsonl')) {
    return text.split('\n').flatMap((l, i) => {
      if (!l.trim()) return [];
      try {
        return promptsFrom(JSON.parse(l));
      } catch (e) {
        throw bad(` line ${i + 1}`, e);
      }
    });
  }
  try {
    return promptsFrom(JSON.parse(text));
  } catch (e) {
    throw bad('', e);
  }
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
  // Decimal text only, as routing data reads numbers (`+0.5`, `-0`, `1e-1`): an empty entry ("0.7,,0.9") is not 0, and "0x1" is not 1.
  const list = value.split(',').map((s) => decimal(s) + 0);
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n < 0 || n > 1)) {
    throw new CliUsageError(`option --thresholds expects comma-separated numbers from 0 to 1, got "${value}"`, '--thresholds');
  }
  return list;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function countsTable(rows: readonly ThresholdCounts[]): string {
  return formatTable(
    ['threshold', 'correct', 'wrong', 'miss', 'unrelated hit', 'unrelated miss', 'correct %', 'wrong % pairs', 'wrong % all'],
    rows.map((t) => [
      t.threshold.toFixed(2),
      String(t.correct),
      String(t.wrong),
      String(t.misses),
      String(t.unrelatedWrong),
      String(t.unrelatedMisses),
      pct(t.correctRate),
      pct(t.wrongPairRate),
      pct(t.wrongRate),
    ]),
  );
}

function cvSection(r: ParaphraseEvalReport): string {
  const cv = r.cross_validation;
  if (!cv) return '';
  const chosen = (row: (typeof cv.rows)[number]) => {
    const n = new Map<string, number>();
    for (const c of row.chosen) n.set(`w${c.lexicalWeight}/m${c.minMargin}`, (n.get(`w${c.lexicalWeight}/m${c.minMargin}`) ?? 0) + 1);
    return [...n].map(([k, v]) => `${k}${v > 1 ? ` x${v}` : ''}`).join(' ');
  };
  const table = formatTable(
    ['threshold', 'correct', 'wrong', 'miss', 'unrelated hit', 'correct %', 'wrong % pairs', 'chosen per fold (lexical weight / margin)'],
    cv.rows.map((row) => [
      row.threshold.toFixed(2),
      String(row.correct),
      String(row.wrong),
      String(row.misses),
      String(row.unrelatedWrong),
      pct(row.correct / r.pairs),
      pct(row.wrong / r.pairs),
      chosen(row),
    ]),
  );
  return `
${cv.folds}-fold cross-validation (folds by origin): lexical weight in {${cv.lexical_weights.join(', ')}} and margin in {${cv.min_margins.join(', ')}}
chosen on the other folds (most correct with wrong + unrelated hits <= ${pct(cv.wrong_budget)} of their paraphrases), counted on the held-out fold:
${table}`;
}

export function formatEvalReport(r: ParaphraseEvalReport): string {
  const s = r.selection;
  const rule = s.scoring === 'hybrid' ? `hybrid (${+(1 - s.lexicalWeight).toFixed(3)} x cosine + ${s.lexicalWeight} x trigram Dice)` : 'cosine';
  const analysis = r.wrong_hit_analysis
    .map(
      (a) =>
        `  ${a.rule === 'cosine' ? 'plain cosine' : 'cache selection'} at ${a.threshold.toFixed(2)}: ${a.wrong} wrong hits; matched origin is a near-duplicate of the expected one (trigram Dice >= 0.8): ${a.nearDuplicateOrigin}, the same text: ${a.exactDuplicateOrigin}`,
    )
    .join('\n');
  return `Semantic cache eval: ${r.pairs} paraphrase pairs (${r.stored} distinct origins stored, ${r.origins_with_near_duplicate} of them with a near-duplicate origin), ${r.unrelated} unrelated prompts, embedder ${r.embedder}

Plain cosine (nearest stored question, no ambiguity rule): baseline
${countsTable(r.baseline)}

Cache selection (what lookup serves): ${rule} over the ${s.candidates} nearest, ambiguity margin ${s.minMargin}
${countsTable(r.thresholds)}
correct % = correct / paraphrase queries; wrong % pairs = wrong / paraphrase queries; wrong % all = (wrong + unrelated hits) / all queries
${cvSection(r)}
Wrong hits (strict: a hit on any other origin is wrong):
${analysis}
${r.consistency_mismatches ? `WARNING: ${r.consistency_mismatches} lookups disagreed with selectMatch on their own candidates\n` : ''}lookup (without embedding): p50 ${r.p50_ms.toFixed(3)} ms, p99 ${r.p99_ms.toFixed(3)} ms
embedding: ${r.texts_embedded} texts in ${(r.embed_ms_total / 1000).toFixed(1)} s (${r.embed_ms_per_text.toFixed(1)} ms per text, batched)
${(r.wrong_examples ?? [])
  .map(
    (w) =>
      `wrong hit ${w.score.toFixed(3)}: "${w.query}"\n  matched:  "${w.matched}"${w.expected !== undefined ? `\n  expected: "${w.expected}" (origins' trigram Dice ${w.origins_dice?.toFixed(3)})` : ' (unrelated prompt)'}\n`,
  )
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
  expectSubcommand(positionals, 'eval');
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
  const scoring = values.scoring;
  if (scoring !== undefined && scoring !== 'hybrid' && scoring !== 'cosine') throw new CliUsageError(`option --scoring expects hybrid or cosine, got "${scoring}"`, '--scoring');
  const lexicalWeight = numberFlag(values['lexical-weight'], '--lexical-weight', 0, 1);
  const minMargin = numberFlag(values['min-margin'], '--min-margin', 0, 1);
  const candidates = intFlag(values.candidates, '--candidates', 1, 64);
  const folds = intFlag(values.folds, '--folds', 0, 100);
  const wrongBudget = numberFlag(values['wrong-budget'], '--wrong-budget', 0, 1);

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
    selection: {
      ...(scoring !== undefined ? { scoring } : {}),
      ...(lexicalWeight !== undefined ? { lexicalWeight } : {}),
      ...(minMargin !== undefined ? { minMargin } : {}),
      ...(candidates !== undefined ? { candidates } : {}),
    },
    ...(folds !== undefined ? { folds } : {}),
    ...(wrongBudget !== undefined ? { wrongBudget } : {}),
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
