import { readFile } from 'node:fs/promises';
import { datasetError } from '../datasets/dataset-error.js';
import { parseJsonl } from '../datasets/load-long-format.js';
import { parseCsv, parseOutcome } from '../datasets/read-csv.js';
import { recordPlace } from '../datasets/record-line.js';
import type { CascadeScorerExample } from './cascade-scorer-artifact.js';

/** Columns of the generic cascade log; `prompt_id` is optional (default: the row number). */
export const CASCADE_LOG_COLUMNS = ['prompt', 'weak_answer', 'weak_correct', 'strong_correct'] as const;

/**
 * A generic cascade training log, CSV (header row) or JSONL (one object per line): `prompt` (the question),
 * `weak_answer` (the weak model's answer to it), `weak_correct` and `strong_correct` (was each model's
 * answer right: true/false, 1/0 or a number in [0,1]), optional `prompt_id`. Both outcomes are required:
 * the learned score is p(strong right) - p(weak right), and the suggested threshold is chosen against the
 * strong model's accuracy. Bad rows throw `invalid_request` naming the file, the line (JSONL: its line; CSV: the
 * line its record ends on) and the field.
 */
export async function loadCascadeLog(file: string): Promise<CascadeScorerExample[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw datasetError(file, 'not found');
  }
  const jsonl = file.endsWith('.jsonl');
  const csv = jsonl ? undefined : parseCsv(text, file);
  const raw: Array<Record<string, unknown>> = csv ? csv.rows : parseJsonl(text, file);
  if (raw.length === 0) throw datasetError(file, 'no rows');
  // A CSV header without a required column (" weak_answer" after a comma and a space, a typo) is the header's mistake.
  const absent = csv && CASCADE_LOG_COLUMNS.find((c) => !csv.columns.includes(c));
  if (csv && absent) {
    throw datasetError(file, `the header has no column ${JSON.stringify(absent)} (required: ${CASCADE_LOG_COLUMNS.join(', ')}; the header names ${csv.columns.map((c) => JSON.stringify(c)).join(', ')})`, 'line 1');
  }
  return raw.map((r, i) => {
    const where = recordPlace(r, i);
    for (const c of CASCADE_LOG_COLUMNS) {
      if (r[c] === undefined || r[c] === null || r[c] === '') throw datasetError(file, `missing ${c} (a cascade log needs ${CASCADE_LOG_COLUMNS.join(', ')})`, `${where} ${c}`);
    }
    if (typeof r['prompt'] !== 'string') throw datasetError(file, 'must be a string', `${where} prompt`);
    if (typeof r['weak_answer'] !== 'string') throw datasetError(file, 'must be a string', `${where} weak_answer`);
    const outcome = (c: 'weak_correct' | 'strong_correct') => {
      const value = r[c];
      // JSONL: a boolean or a number as is; anything but text (an array, an object) is not an outcome.
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw datasetError(file, `expected a quality in [0,1] or true/false, got ${JSON.stringify(value).slice(0, 40)}`, `${where} ${c}`);
      }
      const v = parseOutcome(String(value), file, `${where} ${c}`);
      // (A blank cell parses as unknown: both outcomes are needed here.)
      if (Number.isNaN(v)) throw datasetError(file, `missing ${c} (a cascade log needs ${CASCADE_LOG_COLUMNS.join(', ')})`, `${where} ${c}`);
      return v;
    };
    const id = r['prompt_id'];
    return {
      id: id === undefined || id === null || id === '' ? `log/${i}` : String(id),
      prompt: r['prompt'],
      weakResponse: r['weak_answer'],
      quality: [outcome('weak_correct'), outcome('strong_correct')],
    };
  });
}
