import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { listDataFiles } from './data-files.js';
import { datasetError } from './dataset-error.js';
import type { RoutingDataset, RoutingExample, Split } from './types.js';

interface Open7bRow {
  question?: unknown;
  scores?: Record<string, unknown>;
}

/**
 * `mmlu_train.json` -> task mmlu, split train; `gsm8k-test.json` -> gsm8k, test; `ceval.json` -> ceval, no split. In any
 * case: `MMLU_TRAIN.JSON` -> mmlu, train (tasks and splits are lower case).
 */
export function open7bFileInfo(file: string): { task: string; split: Split | undefined } {
  const b = basename(file).replace(/\.json$/i, '');
  const m = /^(.*?)[-_](train|test)$/i.exec(b);
  return m ? { task: m[1]!.toLowerCase(), split: m[2]!.toLowerCase() as Split } : { task: b.toLowerCase(), split: undefined };
}

/** One RouterDC file: a JSON list of `{ question, scores: { <model>: number in [0,1] } }`. */
export async function loadOpen7bFile(file: string): Promise<{ models: string[]; examples: RoutingExample[] }> {
  let rows: unknown;
  try {
    rows = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw datasetError(file, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!Array.isArray(rows)) throw datasetError(file, 'expected a JSON list of { question, scores }');
  const { task, split } = open7bFileInfo(file);
  const first = rows[0] as Open7bRow | undefined;
  const models = Object.keys(first?.scores ?? {}).sort();
  if (models.length < 2) throw datasetError(file, 'expected "scores" with at least two models', 'scores');
  const examples = (rows as Open7bRow[]).map((r, i): RoutingExample => {
    if (typeof r.question !== 'string') throw datasetError(file, 'expected a string', `${i}.question`);
    const quality = models.map((m) => {
      const v = r.scores?.[m];
      if (v === undefined || v === null) return NaN;
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw datasetError(file, `expected a score in [0,1], got ${JSON.stringify(v)}`, `${i}.scores.${m}`);
      return v;
    });
    const e: RoutingExample = { id: `${task}/${split ?? 'all'}/${i}`, prompt: r.question, task, quality };
    if (split) e.split = split;
    return e;
  });
  return { models, examples };
}

/** The RouterDC open-7B folder (every `*.json`) or one file. */
export async function loadOpen7b(path: string, isDir: boolean): Promise<RoutingDataset> {
  const files = isDir ? (await listDataFiles(path, ['.json'])).map((f) => join(path, f)) : [path];
  if (files.length === 0) throw datasetError(path, 'no .json files');
  let models: string[] | undefined;
  const examples: RoutingExample[] = [];
  for (const f of files) {
    const part = await loadOpen7bFile(f);
    if (models && part.models.join('\n') !== models.join('\n')) throw datasetError(f, `models differ from the other files (${part.models.join(', ')})`);
    models = part.models;
    examples.push(...part.examples);
  }
  return { name: `open7b/${basename(path)}`, format: 'open7b', models: models!, examples };
}
