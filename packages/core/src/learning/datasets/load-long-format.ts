import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { datasetError } from './dataset-error.js';
import { parseCsv } from './read-csv.js';
import type { RoutingDataset, RoutingExample, Split } from './types.js';

/** One row of the generic long format: one model's outcome on one prompt. */
export interface LongFormatRow {
  prompt_id: string;
  prompt: string;
  model: string;
  /** In [0,1]. */
  quality: number;
  cost_usd?: number;
  split?: Split;
  task?: string;
}

export const LONG_FORMAT_COLUMNS = ['prompt_id', 'prompt', 'model', 'quality'] as const;

/**
 * The documented generic long format, CSV (header row) or JSONL (one object per line): required
 * `prompt_id, prompt, model, quality` (in [0,1]); optional `cost_usd` (>= 0), `split` (`train`/`test`)
 * and `task`. Rows are grouped by `prompt_id`; a model without a row for a prompt has no outcome there
 * (a missing outcome is a missing row: an empty or `null` quality is an error, as are two rows for one
 * prompt and model, and one `prompt_id` with two different prompts). A leading byte order mark is skipped.
 * With exactly two models the data is two-model data (PGR metrics); the weak model is the one with the
 * lower mean quality outside the test split.
 */
export async function loadLongFormat(file: string): Promise<RoutingDataset> {
  const text = await readFile(file, 'utf8');
  const raw: Array<Record<string, unknown>> = file.endsWith('.jsonl') ? parseJsonl(text, file) : parseCsv(text, file).rows;
  return longFormatDataset(raw, file);
}

/** JSONL text -> one object per non-empty line (a line that is not a JSON object throws, naming it). */
export function parseJsonl(text: string, file: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  // A byte order mark (some Windows tools write one) is not part of the first line's JSON.
  (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      out.push(v as Record<string, unknown>);
    } catch (e) {
      throw datasetError(file, `line ${i + 1} is not a JSON object (${e instanceof Error ? e.message : String(e)})`, `line ${i + 1}`);
    }
  });
  return out;
}

/** Validates and groups long-format rows (already parsed) into a dataset. */
export function longFormatDataset(raw: ReadonlyArray<Record<string, unknown>>, file: string): RoutingDataset {
  const rows = raw.map((r, i) => validateRow(r, i, file));
  const models = [...new Set(rows.map((r) => r.model))].sort();
  if (models.length < 1) throw datasetError(file, 'no rows');
  const index = new Map(models.map((m, i) => [m, i]));
  const byId = new Map<string, RoutingExample>();
  // The row (0-based) that gave each prompt_id its prompt, and each (prompt_id, model) its outcome.
  const firstRow = new Map<string, number>();
  const outcomeRow = new Map<string, number>();
  const hasCost = rows.some((r) => r.cost_usd !== undefined);
  rows.forEach((r, i) => {
    let e = byId.get(r.prompt_id);
    if (!e) {
      e = { id: r.prompt_id, prompt: r.prompt, task: r.task ?? 'default', quality: models.map(() => NaN) };
      if (hasCost) e.cost = models.map(() => NaN);
      if (r.split) e.split = r.split;
      byId.set(r.prompt_id, e);
      firstRow.set(r.prompt_id, i);
    } else if (e.prompt !== r.prompt) {
      throw datasetError(file, `prompt_id ${JSON.stringify(r.prompt_id)} has another prompt than in row ${firstRow.get(r.prompt_id)! + 1} (one id per prompt)`, `row ${i + 1} prompt`);
    }
    const key = JSON.stringify([r.prompt_id, r.model]);
    const before = outcomeRow.get(key);
    if (before !== undefined) {
      throw datasetError(file, `a second outcome of model ${JSON.stringify(r.model)} on prompt_id ${JSON.stringify(r.prompt_id)} (the first is row ${before + 1}; one row per prompt and model)`, `row ${i + 1} model`);
    }
    outcomeRow.set(key, i);
    const m = index.get(r.model)!;
    e.quality[m] = r.quality;
    if (e.cost && r.cost_usd !== undefined) e.cost[m] = r.cost_usd;
  });
  const dataset: RoutingDataset = { name: basename(file), format: 'long', models, examples: [...byId.values()] };
  if (models.length === 2) dataset.pair = weakStrong(dataset.examples);
  return dataset;
}

/** Two models: the weak one has the lower mean quality on the non-test prompts. */
function weakStrong(examples: readonly RoutingExample[]): { weak: number; strong: number } {
  const mean = [0, 1].map((m) => {
    let s = 0, n = 0;
    for (const e of examples) {
      const q = e.quality[m]!;
      if (e.split === 'test' || Number.isNaN(q)) continue;
      s += q;
      n++;
    }
    return n ? s / n : 0;
  });
  return mean[0]! <= mean[1]! ? { weak: 0, strong: 1 } : { weak: 1, strong: 0 };
}

function validateRow(r: Record<string, unknown>, i: number, file: string): LongFormatRow {
  const where = (f: string) => `row ${i + 1} ${f}`;
  for (const c of LONG_FORMAT_COLUMNS) {
    if (r[c] === undefined || r[c] === null || r[c] === '') throw datasetError(file, `missing (required: ${LONG_FORMAT_COLUMNS.join(', ')})`, where(c));
  }
  const quality = Number(r['quality']);
  if (!Number.isFinite(quality) || quality < 0 || quality > 1) throw datasetError(file, `expected a number in [0,1], got ${JSON.stringify(r['quality'])}`, where('quality'));
  const row: LongFormatRow = { prompt_id: String(r['prompt_id']), prompt: String(r['prompt']), model: String(r['model']), quality };
  const cost = r['cost_usd'];
  if (cost !== undefined && cost !== '') {
    const c = Number(cost);
    if (!Number.isFinite(c) || c < 0) throw datasetError(file, `expected a cost in USD >= 0, got ${JSON.stringify(cost)}`, where('cost_usd'));
    row.cost_usd = c;
  }
  const split = r['split'];
  if (split !== undefined && split !== '') {
    if (split !== 'train' && split !== 'test') throw datasetError(file, `expected "train" or "test", got ${JSON.stringify(split)}`, where('split'));
    row.split = split;
  }
  if (typeof r['task'] === 'string' && r['task'] !== '') row.task = r['task'];
  return row;
}
