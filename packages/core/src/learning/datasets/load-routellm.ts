import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { checkDataFile, listDataFiles } from './data-files.js';
import { datasetError } from './dataset-error.js';
import { parseJsonl } from './load-long-format.js';
import { parseOutcome, readCsv } from './read-csv.js';
import { recordPlace } from './record-line.js';
import type { RoutingDataset, RoutingExample } from './types.js';

/** RouteLLM's weak and strong model (its evaluation data compares these two). */
export const ROUTELLM_WEAK = 'mistralai/Mixtral-8x7B-Instruct-v0.1';
export const ROUTELLM_STRONG = 'gpt-4-1106-preview';

/**
 * One RouteLLM correctness CSV (`prompt, <weak>, <strong>[, responses...]`, True/False): the MMLU subject
 * files and `gsm8k_responses.csv`. The task is `mmlu/<subject>` or the file name.
 */
export async function loadRouteLlmCsv(file: string, task?: string): Promise<RoutingExample[]> {
  // Checked first: a named pipe (in a RouteLLM folder's gsm8k/, say) would be waited on for ever.
  const { columns, rows } = await readCsv(await checkDataFile(file));
  for (const c of ['prompt', ROUTELLM_WEAK, ROUTELLM_STRONG]) {
    if (!columns.includes(c)) throw datasetError(file, `missing column "${c}" (RouteLLM format: prompt, ${ROUTELLM_WEAK}, ${ROUTELLM_STRONG})`, c);
  }
  const name = task ?? routeLlmTask(file);
  return rows.map((r, i) => ({
    id: `${name}/${i}`,
    prompt: r['prompt'] ?? '',
    task: name,
    quality: [parseOutcome(r[ROUTELLM_WEAK], file, `${recordPlace(r, i)} ${ROUTELLM_WEAK}`), parseOutcome(r[ROUTELLM_STRONG], file, `${recordPlace(r, i)} ${ROUTELLM_STRONG}`)],
  }));
}

function routeLlmTask(file: string): string {
  const b = basename(file).replace(/\.csv$/i, '');
  if (b.startsWith('mmlu_')) return `mmlu/${b.slice(5)}`;
  if (b.startsWith('gsm8k')) return 'gsm8k';
  return b;
}

/** The 57 MMLU subject files of RouteLLM (`mmlu/*.csv`). */
export async function loadRouteLlmMmlu(dir: string): Promise<RoutingExample[]> {
  const files = await listDataFiles(dir, ['.csv']);
  if (files.length === 0) throw datasetError(dir, 'no .csv files (expected RouteLLM mmlu_<subject>.csv)');
  const out: RoutingExample[] = [];
  for (const f of files) out.push(...(await loadRouteLlmCsv(join(dir, f))));
  return out;
}

interface MtJudgement {
  question_id: number;
  model: string;
  score: number;
  turn: number;
}

/**
 * RouteLLM's MT-Bench judgements (GPT-4 judge, 1-10) for both models: one example per question and turn,
 * quality = score / 10. A turn-2 prompt is both user turns joined.
 */
export async function loadRouteLlmMtBench(dir: string): Promise<RoutingExample[]> {
  const questions = new Map<number, string[]>();
  const questionFile = await checkDataFile(join(dir, 'question.jsonl'));
  for (const [i, q] of parseJsonl(await readFile(questionFile, 'utf8'), questionFile).entries()) {
    const turns = q['turns'];
    if (!Array.isArray(turns) || !turns.every((t) => typeof t === 'string')) throw datasetError(questionFile, 'expected a list of strings', `${recordPlace(q, i)} turns`);
    questions.set(q['question_id'] as number, turns as string[]);
  }
  const scores = new Map<string, number[]>();
  const models = [ROUTELLM_WEAK, ROUTELLM_STRONG];
  const judgementFile = await checkDataFile(join(dir, 'judgements.jsonl'));
  for (const row of parseJsonl(await readFile(judgementFile, 'utf8'), judgementFile)) {
    const j = row as unknown as MtJudgement;
    const m = models.indexOf(j.model);
    if (m < 0 || typeof j.score !== 'number' || j.score < 0) continue;
    const key = `${j.question_id}/${j.turn}`;
    const q = scores.get(key) ?? [NaN, NaN];
    q[m] = Math.min(1, j.score / 10);
    scores.set(key, q);
  }
  const out: RoutingExample[] = [];
  for (const [key, quality] of [...scores].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))) {
    const [qid, turn] = key.split('/').map(Number) as [number, number];
    const turns = questions.get(qid);
    if (!turns) continue;
    out.push({ id: `mt_bench/${key}`, prompt: turns.slice(0, turn).join('\n\n'), task: 'mt_bench', group: `mt_bench/${qid}`, quality });
  }
  if (out.length === 0) throw datasetError(dir, 'no judgements for the RouteLLM models');
  return out;
}

/** A RouteLLM dataset from a folder (`mmlu/`, `gsm8k/`, `mt_bench/` or the `routellm/` root) or one CSV. */
export async function loadRouteLlm(path: string, kind: 'mmlu' | 'gsm8k' | 'mt_bench' | 'csv' | 'root'): Promise<RoutingDataset> {
  let examples: RoutingExample[];
  if (kind === 'mmlu') examples = await loadRouteLlmMmlu(path);
  else if (kind === 'gsm8k') examples = await loadRouteLlmCsv(join(path, 'gsm8k_responses.csv'), 'gsm8k');
  else if (kind === 'mt_bench') examples = await loadRouteLlmMtBench(path);
  else if (kind === 'csv') examples = await loadRouteLlmCsv(path);
  else {
    examples = [
      ...(await loadRouteLlmMmlu(join(path, 'mmlu'))),
      ...(await loadRouteLlmCsv(join(path, 'gsm8k', 'gsm8k_responses.csv'), 'gsm8k')),
      ...(await loadRouteLlmMtBench(join(path, 'mt_bench'))),
    ];
  }
  return { name: `routellm/${kind === 'root' ? 'all' : kind === 'csv' ? basename(path) : kind}`, format: 'routellm', models: [ROUTELLM_WEAK, ROUTELLM_STRONG], examples, pair: { weak: 0, strong: 1 } };
}
