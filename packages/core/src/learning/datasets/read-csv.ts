import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { datasetError } from './dataset-error.js';
import { setRecordLine } from './record-line.js';

/**
 * Reads a CSV file with a header row into records keyed by column name. csv-parse handles quoted
 * fields with newlines, doubled quotes and a BOM (prompts contain all three). A row with fewer fields
 * than the header leaves the last columns out; one with more is an error naming its line (an unquoted
 * comma in a prompt would otherwise cut the prompt short without a word), and so is a header naming a
 * column twice (which one holds the data?). Each record remembers the file line it ends on (`recordPlace`; a
 * CRLF, LF or lone CR is one line break, inside quoted fields too), for errors found after parsing; csv-parse's own
 * syntax errors name that line too.
 */
export async function readCsv(file: string): Promise<{ columns: string[]; rows: Record<string, string>[] }> {
  const text = await readFile(file, 'utf8');
  return parseCsv(text, file);
}

export function parseCsv(text: string, file = '<csv>'): { columns: string[]; rows: Record<string, string>[] } {
  let columns: string[] = [];
  let rows: Record<string, string>[];
  let twice: string | undefined;
  try {
    const records = parse(
      text,
      csvOptions((header: string[]) => {
        columns = columnNames(header);
        twice = columns.find((c, i) => columns.indexOf(c) !== i);
        return columns;
      }),
    ) as Array<{ record: Record<string, string>; info: { bytes: number } }>;
    // csv-parse's own line count takes a CRLF inside a quoted field for two lines: count from the byte offset.
    const lineAt = lineCounter(Buffer.from(text, 'utf8'));
    rows = records.map(({ record, info }) => {
      setRecordLine(record, lineAt(info.bytes));
      return record;
    });
  } catch (e) {
    throw datasetError(file, `not valid CSV (${syntaxErrorMessage(e, text)})`);
  }
  if (twice !== undefined) throw datasetError(file, `the header names column ${JSON.stringify(twice)} twice (one column per name)`, 'line 1');
  return { columns, rows };
}

/** The header's column names: an unnamed first column (a pandas index) is named "" in the header, here `_col0`. */
function columnNames(header: string[]): string[] {
  return header.map((h, i) => (h === '' ? `_col${i}` : h));
}

/** The parse options (`columns`: what names the header's columns). */
function csvOptions(columns: (header: string[]) => string[]) {
  return { bom: true, columns, relax_column_count_less: true, skip_empty_lines: true, info: true } as const;
}

/**
 * The message of csv-parse's syntax error `e`, naming the line a user's editor shows (csv-parse counts a CRLF inside a
 * quoted field as two lines): the line of the error's byte offset, by the counter records use. csv-parse's `bytes` is
 * the end of the record for a record error and the start of the field for a quote error; the bad quote is found from
 * there (the first quote of the field; for a closing quote, the first one after it that is not a doubled quote).
 */
function syntaxErrorMessage(e: unknown, text: string): string {
  const message = e instanceof Error ? e.message : String(e);
  const { code, bytes, lines } = (e ?? {}) as { code?: unknown; bytes?: unknown; lines?: unknown };
  if (typeof bytes !== 'number' || typeof lines !== 'number') return message;
  const buf = Buffer.from(text, 'utf8');
  let end: number | undefined;
  if (code === 'CSV_RECORD_INCONSISTENT_COLUMNS') end = bytes;
  else if (code === 'INVALID_OPENING_QUOTE' || code === 'CSV_QUOTE_NOT_CLOSED' || code === 'CSV_INVALID_CLOSING_QUOTE') {
    let at = buf.indexOf(0x22, bytes);
    if (code === 'CSV_INVALID_CLOSING_QUOTE' && at >= 0) {
      for (at = buf.indexOf(0x22, at + 1); at >= 0 && buf[at + 1] === 0x22; at = buf.indexOf(0x22, at + 2));
    }
    if (at >= 0) end = at + 1;
  }
  if (end === undefined) return message;
  const line = lineCounter(buf)(end);
  return message.replace(new RegExp(`\\b(at|on) line ${lines}\\b`), `$1 line ${line}`);
}

/**
 * The line a record ends on, from the byte offset just past it (its record delimiter included, when it has one):
 * 1 + the line breaks (CRLF, LF, lone CR) ending before its last byte. Offsets must come in increasing order.
 */
function lineCounter(buf: Buffer): (end: number) => number {
  let pos = 0;
  let breaks = 0;
  return (end) => {
    for (; pos < end - 1; pos++) {
      const c = buf[pos];
      if (c === 0x0a || (c === 0x0d && buf[pos + 1] !== 0x0a)) breaks++;
    }
    return breaks + 1;
  };
}

/** `True`/`False`/`1`/`0`/`1.0`/a number in [0,1] -> number; empty -> NaN; anything else throws. */
export function parseOutcome(value: string | undefined, file: string, field: string): number {
  if (value === undefined) return NaN;
  const v = value.trim();
  if (v === '') return NaN;
  if (/^true$/i.test(v)) return 1;
  if (/^false$/i.test(v)) return 0;
  const n = decimal(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw datasetError(file, `expected a quality in [0,1] or True/False, got "${v.slice(0, 40)}"`, field);
  return n;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Decimal text (`1`, `0.5`, `.5`, `+1.0`, `1e-3`; blanks around it ignored) -> its number; anything else -> NaN.
 * Unlike `Number()`, never reads hex, binary or octal (`0x1`, `0b1`, `0o1`) or `Infinity`.
 */
export function decimal(text: string): number {
  const t = text.trim();
  return DECIMAL.test(t) ? Number(t) : NaN;
}
