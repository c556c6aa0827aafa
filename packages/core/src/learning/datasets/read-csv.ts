import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { datasetError } from './dataset-error.js';
import { setRecordLine } from './record-line.js';

/**
 * Reads a CSV file with a header row into records keyed by column name. csv-parse handles quoted
 * fields with newlines, doubled quotes and a BOM (prompts contain all three). A row with fewer fields
 * than the header leaves the last columns out; one with more is an error naming its line (an unquoted
 * comma in a prompt would otherwise cut the prompt short without a word). Each record remembers the file
 * line it ends on (`recordPlace`), for errors found after parsing.
 */
export async function readCsv(file: string): Promise<{ columns: string[]; rows: Record<string, string>[] }> {
  const text = await readFile(file, 'utf8');
  return parseCsv(text, file);
}

export function parseCsv(text: string, file = '<csv>'): { columns: string[]; rows: Record<string, string>[] } {
  let columns: string[] = [];
  let rows: Record<string, string>[];
  try {
    const records = parse(text, {
      bom: true,
      columns: (header: string[]) => {
        // An unnamed first column (a pandas index) is named "" in the header.
        columns = header.map((h, i) => (h === '' ? `_col${i}` : h));
        return columns;
      },
      relax_column_count_less: true,
      skip_empty_lines: true,
      info: true,
    }) as Array<{ record: Record<string, string>; info: { lines: number } }>;
    rows = records.map(({ record, info }) => {
      setRecordLine(record, info.lines);
      return record;
    });
  } catch (e) {
    throw datasetError(file, `not valid CSV (${e instanceof Error ? e.message : String(e)})`);
  }
  return { columns, rows };
}

/** `True`/`False`/`1`/`0`/`1.0`/a number in [0,1] -> number; empty -> NaN; anything else throws. */
export function parseOutcome(value: string | undefined, file: string, field: string): number {
  if (value === undefined) return NaN;
  const v = value.trim();
  if (v === '') return NaN;
  if (/^true$/i.test(v)) return 1;
  if (/^false$/i.test(v)) return 0;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw datasetError(file, `expected a quality in [0,1] or True/False, got "${v.slice(0, 40)}"`, field);
  return n;
}
