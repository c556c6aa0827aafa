import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { datasetError } from './dataset-error.js';
import { decimal, parseCsv } from './read-csv.js';
import { recordPlace, setRecordLine } from './record-line.js';
import { CompensatedSum, sameQuality } from './same-quality.js';
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
 * `prompt_id, prompt, model, quality` (in [0,1], or true/false: JSON booleans, `True`/`False` in any case); optional `cost_usd` (>= 0), `split` (`train`/`test`)
 * and `task`. In JSONL `quality` and `cost_usd` are JSON numbers (`quality` also a boolean): text (`"0.5"`) is an error. Rows are grouped by `prompt_id`; a model without a row for a prompt has no outcome there
 * (a missing outcome is a missing row: an empty, blank or `null` quality is an error, as are two rows for
 * one prompt and model, one `prompt_id` with two different prompts, two different splits or two different tasks,
 * and a model with no cost in any row when other models have costs). An empty or `null` cost is a missing cost. A
 * prompt's task is the one its rows give (a row without a task does not erase it; none: `default`).
 * Errors name the file line. A leading byte order mark is skipped. With exactly two models the data is
 * two-model data (PGR metrics); the weak model is the one with the lower mean quality outside the test
 * split (over every prompt when all are in the test split).
 */
export async function loadLongFormat(file: string): Promise<RoutingDataset> {
  const { rows, json } = await readLongFormatRows(file);
  return longFormatDataset(rows, file, { json });
}

/**
 * A folder of long-format files (`files`: its `.csv` and `.jsonl` file names, every one in the long format) read as
 * one file: their rows concatenated, in file name order. A `prompt_id` names one prompt across the folder (one file
 * per model, or per task, both work): the same id with another prompt, or a second outcome of one model on one
 * prompt, in any two files, is an error naming both files and lines, as within one file.
 */
export async function loadLongFormatDir(dir: string, files: readonly string[]): Promise<RoutingDataset> {
  const rows: LongFormatRow[] = [];
  const place: string[] = [];
  for (const f of files) {
    const { rows: raw, json } = await readLongFormatRows(join(dir, f));
    raw.forEach((r, i) => {
      const where = `${f} ${recordPlace(r, i)}`;
      place.push(where);
      rows.push(validateRow(r, where, dir, json));
    });
  }
  return groupRows(rows, place, dir, basename(dir));
}

/** The records of one long-format file (JSONL: `json`, values typed; CSV: text), its CSV header checked. */
async function readLongFormatRows(file: string): Promise<{ rows: Array<Record<string, unknown>>; json: boolean }> {
  const text = await readFile(file, 'utf8');
  if (/\.jsonl$/i.test(file)) return { rows: parseJsonl(text, file), json: true };
  const { columns, rows } = parseCsv(text, file);
  // A header without a required column (" prompt" after a comma and a space, a typo) is the header's mistake, not every row's.
  const absent = rows.length > 0 ? LONG_FORMAT_COLUMNS.find((c) => !columns.includes(c)) : undefined;
  if (absent !== undefined) {
    throw datasetError(file, `the header has no column ${JSON.stringify(absent)} (required: ${LONG_FORMAT_COLUMNS.join(', ')}; the header names ${columns.map((c) => JSON.stringify(c)).join(', ')})`, 'line 1');
  }
  return { rows, json: false };
}

/** JSONL text -> one object per non-empty line (a line that is not a JSON object throws, naming it). */
export function parseJsonl(text: string, file: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  // A byte order mark (some Windows tools write one) is not part of the first line's JSON.
  (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    } catch (e) {
      throw datasetError(file, `not a JSON object (${e instanceof Error ? e.message : String(e)})`, `line ${i + 1}`);
    }
    setRecordLine(v, i + 1);
    out.push(v as Record<string, unknown>);
  });
  return out;
}

export interface LongFormatOptions {
  /**
   * The rows are JSON objects (JSONL): `quality` and `cost_usd` must be JSON numbers (or booleans for
   * `quality`); text such as `"0.5"` is refused, naming the line and field. Default false: values may be
   * text, as every CSV cell is.
   */
  json?: boolean;
}

/** Validates and groups long-format rows (already parsed) into a dataset. */
export function longFormatDataset(raw: ReadonlyArray<Record<string, unknown>>, file: string, options: LongFormatOptions = {}): RoutingDataset {
  const place = raw.map((r, i) => recordPlace(r, i));
  const rows = raw.map((r, i) => validateRow(r, place[i]!, file, options.json === true));
  return groupRows(rows, place, file, basename(file));
}

/** Groups validated rows by `prompt_id` into the dataset `name`; `place[i]` names row i's line in errors about `file`. */
function groupRows(rows: readonly LongFormatRow[], place: readonly string[], file: string, name: string): RoutingDataset {
  const models = [...new Set(rows.map((r) => r.model))].sort();
  if (models.length < 1) throw datasetError(file, 'no rows');
  const index = new Map(models.map((m, i) => [m, i]));
  const byId = new Map<string, RoutingExample>();
  // The row (0-based) that gave each prompt_id its prompt, and each (prompt_id, model) its outcome.
  const firstRow = new Map<string, number>();
  const outcomeRow = new Map<string, number>();
  // The row that gave each prompt_id its task: a row without one leaves it as it is (so the order of the rows, or of a
  // folder's files, never decides it), and another non-blank task on a later row is a clash.
  const taskRow = new Map<string, number>();
  const hasCost = rows.some((r) => r.cost_usd !== undefined);
  rows.forEach((r, i) => {
    let e = byId.get(r.prompt_id);
    if (!e) {
      e = { id: r.prompt_id, prompt: r.prompt, task: r.task ?? 'default', quality: models.map(() => NaN) };
      if (hasCost) e.cost = models.map(() => NaN);
      if (r.split) e.split = r.split;
      byId.set(r.prompt_id, e);
      firstRow.set(r.prompt_id, i);
      if (r.task !== undefined) taskRow.set(r.prompt_id, i);
    } else if (e.prompt !== r.prompt) {
      throw datasetError(file, `prompt_id ${JSON.stringify(r.prompt_id)} has another prompt than at ${place[firstRow.get(r.prompt_id)!]} (one id per prompt)`, `${place[i]} prompt`);
    } else if (e.split !== r.split) {
      const was = e.split === undefined ? 'no split' : `split ${JSON.stringify(e.split)}`;
      throw datasetError(file, `prompt_id ${JSON.stringify(r.prompt_id)} is ${r.split === undefined ? 'without a split' : JSON.stringify(r.split)} here but has ${was} at ${place[firstRow.get(r.prompt_id)!]} (one split per prompt)`, `${place[i]} split`);
    } else if (r.task !== undefined) {
      const tagged = taskRow.get(r.prompt_id);
      if (tagged === undefined) {
        e.task = r.task;
        taskRow.set(r.prompt_id, i);
      } else if (e.task !== r.task) {
        throw datasetError(file, `prompt_id ${JSON.stringify(r.prompt_id)} has task ${JSON.stringify(r.task)} here but task ${JSON.stringify(e.task)} at ${place[tagged]} (one task per prompt; a row without a task takes the prompt's)`, `${place[i]} task`);
      }
    }
    const key = JSON.stringify([r.prompt_id, r.model]);
    const before = outcomeRow.get(key);
    if (before !== undefined) {
      throw datasetError(file, `a second outcome of model ${JSON.stringify(r.model)} on prompt_id ${JSON.stringify(r.prompt_id)} (the first is at ${place[before]}; one row per prompt and model)`, `${place[i]} model`);
    }
    outcomeRow.set(key, i);
    const m = index.get(r.model)!;
    e.quality[m] = r.quality;
    if (e.cost && r.cost_usd !== undefined) e.cost[m] = r.cost_usd;
  });
  if (hasCost) {
    // A model with no cost at all would drop every prompt from the cost curves (a missing cost is not a free model).
    for (const model of models) {
      const first = rows.findIndex((r) => r.model === model);
      if (!rows.some((r) => r.model === model && r.cost_usd !== undefined)) {
        throw datasetError(file, `model ${JSON.stringify(model)} has no cost_usd in any row (missing cost) while other models have one: give every model its cost (0 for a free one), or leave cost_usd out for all`, `${place[first]} cost_usd`);
      }
    }
  }
  const dataset: RoutingDataset = { name, format: 'long', models, examples: [...byId.values()] };
  if (models.length === 2) dataset.pair = weakStrong(dataset.examples);
  return dataset;
}

/**
 * Two models: the weak one has the lower mean quality on the non-test prompts (on every prompt when all are test
 * prompts). Of two models of equal quality (to float rounding: `sameQuality`) the cheaper one (mean cost_usd on those
 * prompts) is the weak one, the one a router sends prompts to unless it expects a gain; of equal cost too (or without
 * costs), the first by name.
 */
function weakStrong(examples: readonly RoutingExample[]): { weak: number; strong: number } {
  const training = examples.some((e) => e.split !== 'test') ? examples.filter((e) => e.split !== 'test') : examples;
  /** The mean of `of` over the training prompts that have it (0 when none has), by a compensated sum (`sameQuality`). */
  const mean = (of: (e: RoutingExample) => number | undefined) => {
    const s = new CompensatedSum();
    for (const e of training) {
      const v = of(e);
      if (v !== undefined && !Number.isNaN(v)) s.add(v);
    }
    return s.count ? s.mean : 0;
  };
  const q0 = mean((e) => e.quality[0]), q1 = mean((e) => e.quality[1]);
  if (!sameQuality(q0, q1)) return q0 < q1 ? { weak: 0, strong: 1 } : { weak: 1, strong: 0 };
  return mean((e) => e.cost?.[1]) < mean((e) => e.cost?.[0]) ? { weak: 1, strong: 0 } : { weak: 0, strong: 1 };
}

/** An absent, `null`, empty or blank cell. */
const isBlank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

function validateRow(r: Record<string, unknown>, place: string, file: string, json: boolean): LongFormatRow {
  const where = (f: string) => `${place} ${f}`;
  for (const c of LONG_FORMAT_COLUMNS) {
    if (isBlank(r[c])) throw datasetError(file, `missing (required: ${LONG_FORMAT_COLUMNS.join(', ')})`, where(c));
  }
  if (json) {
    // JSON has numbers and booleans: a quality or cost written as text ("0.5") is a mistake of the writer (a
    // column of strings), refused rather than guessed (CSV cells are text by nature and are read as numbers).
    if (typeof r['quality'] === 'string') throw datasetError(file, `expected a JSON number in [0,1] or true/false, got the string ${shown(r['quality'])} (write numbers without quotes)`, where('quality'));
    if (typeof r['cost_usd'] === 'string' && r['cost_usd'].trim() !== '') throw datasetError(file, `expected a cost in USD >= 0 as a JSON number, got the string ${shown(r['cost_usd'])} (write numbers without quotes)`, where('cost_usd'));
  }
  const quality = outcome(r['quality']);
  if (!(quality >= 0 && quality <= 1)) throw datasetError(file, `expected a number in [0,1] or true/false, got ${shown(r['quality'])}`, where('quality'));
  // JSONL values of another type (an object, an array, a boolean) are refused, not read as "[object Object]" or 0.
  const id = r['prompt_id'];
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) throw datasetError(file, `expected a string or a number, got ${shown(id)}`, where('prompt_id'));
  for (const f of ['prompt', 'model'] as const) {
    if (typeof r[f] !== 'string') throw datasetError(file, `expected a string, got ${shown(r[f])}`, where(f));
  }
  const row: LongFormatRow = { prompt_id: String(id), prompt: r['prompt'] as string, model: r['model'] as string, quality };
  const cost = r['cost_usd'];
  if (!isBlank(cost)) {
    const c = typeof cost === 'number' ? cost : typeof cost === 'string' ? decimal(cost) : NaN;
    if (!Number.isFinite(c) || c < 0) throw datasetError(file, `expected a cost in USD >= 0, got ${shown(cost)}`, where('cost_usd'));
    row.cost_usd = c;
  }
  const split = r['split'];
  if (!isBlank(split)) {
    if (split !== 'train' && split !== 'test') throw datasetError(file, `expected "train" or "test", got ${JSON.stringify(split)}`, where('split'));
    row.split = split;
  }
  const task = r['task'];
  if (!isBlank(task)) {
    if (typeof task !== 'string') throw datasetError(file, `expected a string, got ${shown(task)}`, where('task'));
    row.task = task;
  }
  return row;
}

/** A quality value: a number, a JSON boolean, or text (a CSV cell) of a number or True/False (any case, as pandas writes). */
function outcome(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return NaN;
  const t = v.trim();
  if (/^true$/i.test(t)) return 1;
  if (/^false$/i.test(t)) return 0;
  return decimal(t);
}

/** A value for an error message: its JSON, cut short. */
function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
