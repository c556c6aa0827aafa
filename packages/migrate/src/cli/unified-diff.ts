import { createTwoFilesPatch, formatPatch } from 'diff';

/**
 * Edits beyond which the dry run's diff is not searched for (its cost grows with their number times the file's
 * length: a config of thousands of models, every line changed, took minutes): the whole file is shown replaced.
 * An edit is a line removed or added, so a changed line is two: 2 000 edits are 1 000 changed lines.
 */
const MAX_DIFF_EDITS = 2000;

/** The dry run's unified diff of one file. */
export function unifiedDiff(file: string, before: string, after: string): string {
  const diff = createTwoFilesPatch(`a/${file}`, `b/${file}`, before, after, undefined, undefined, { context: 3, maxEditLength: MAX_DIFF_EDITS });
  if (diff !== undefined) return diff;
  const side = (text: string, sign: '-' | '+'): { lines: string[]; count: number } => {
    if (text === '') return { lines: [], count: 0 };
    const lines = text.split('\n');
    const noFinalEol = lines[lines.length - 1] !== '';
    if (!noFinalEol) lines.pop();
    const count = lines.length;
    const out = lines.map((l) => sign + l);
    if (noFinalEol) out.push('\\ No newline at end of file');
    return { lines: out, count };
  };
  const a = side(before, '-');
  const b = side(after, '+');
  return formatPatch({
    oldFileName: `a/${file}`,
    newFileName: `b/${file}`,
    oldHeader: undefined,
    newHeader: undefined,
    hunks: [{ oldStart: a.count ? 1 : 0, oldLines: a.count, newStart: b.count ? 1 : 0, newLines: b.count, lines: [...a.lines, ...b.lines] }],
  });
}
