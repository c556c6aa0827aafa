import type { ModelPrice } from '../spec/index.js';

/** Left-aligned columns separated by two spaces; trailing spaces trimmed. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `$0`, `$0.000042`, `$1.2345`: enough digits to see sub-cent costs. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (Math.abs(usd) < 0.01) return `$${trimZeros(usd.toFixed(6))}`;
  return `$${trimZeros(usd.toFixed(4))}`;
}

/** `42 ms`, `1.25 s`. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${trimZeros((ms / 1000).toFixed(2))} s`;
}

/** USD per 1M tokens, input/output: `$0.15/$0.6`, or `-` when unknown. */
export function formatPrice(price: ModelPrice | undefined): string {
  if (!price) return '-';
  return `${formatUsd(price.input)}/${formatUsd(price.output)}`;
}

/** A number for tables: integers as is, others with 4 significant digits. */
export function formatNumber(n: number | undefined): string {
  if (n === undefined) return '-';
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(4)));
}

/** `quality=0.9, cost=0.12`. */
export function formatFactors(factors: Readonly<Record<string, number>> | undefined): string {
  if (!factors) return '';
  return Object.entries(factors)
    .map(([k, v]) => `${k}=${formatNumber(v)}`)
    .join(', ');
}

/** A possibly multi-line message on one line: the lines after a heading ending in `:` joined with `; `. */
export function oneLine(message: string): string {
  const lines = message
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length <= 1) return lines[0] ?? '';
  const [head, ...rest] = lines;
  return `${head} ${rest.join('; ')}`;
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}
