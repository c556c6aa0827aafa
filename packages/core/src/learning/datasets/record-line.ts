/**
 * The file line each parsed record came from (JSONL: its line; CSV: the line its record ends on, as
 * csv-parse counts them), so a later check can name the line a user's editor shows, not the record's
 * index (blank lines and multi-line quoted prompts make the two differ).
 */
const lines = new WeakMap<object, number>();

export function setRecordLine(record: object, line: number): void {
  lines.set(record, line);
}

/** `line N` when the parser recorded the record's line, else `row N` (1-based index `i + 1`). */
export function recordPlace(record: object, i: number): string {
  const line = lines.get(record);
  return line === undefined ? `row ${i + 1}` : `line ${line}`;
}
