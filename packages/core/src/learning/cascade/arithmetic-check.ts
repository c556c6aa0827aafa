/**
 * Checks the arithmetic a model wrote in its answer: every statement `a op b [op c ...] = c` whose sides
 * are pure numeric expressions (numbers, + - * / and their look-alikes x × · ÷ and the minus sign and
 * en dash, parentheses, `$`, `%`, thousands commas) is evaluated and compared. Statements with words between
 * the numbers (`3 sprints * 60 meters = 180`) or algebra (`2x + 3 = 11`) are skipped, never guessed. GSM8K-style
 * calculator annotations `<<48/2=24>>` are checked on their own and removed from the visible text.
 */

/** One checked statement. */
export interface ArithmeticStatement {
  /** The two sides as written (normalized spacing). */
  text: string;
  /** Value of the left and the right side. */
  left: number;
  right: number;
  ok: boolean;
  /** `annotation`: inside `<<...>>`; `text`: the visible answer. */
  source: 'text' | 'annotation';
}

export interface ArithmeticCheck {
  statements: ArithmeticStatement[];
  checked: number;
  wrong: number;
  /** An annotation `<<` that never closes (the answer was cut off). */
  unclosedAnnotation: boolean;
  /** The text with complete annotations removed. */
  visible: string;
}

type Token =
  | { t: 'num'; v: number; pct: boolean; dec: number; raw: string; start: number; end: number }
  | { t: 'op'; v: '+' | '-' | '*' | '/'; start: number; end: number }
  | { t: '('; start: number; end: number }
  | { t: ')'; start: number; end: number }
  | { t: 'break'; attached: boolean; start: number; end: number };

const NUMBER = /^(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)/;
const MUL = new Set(['*', '×', '·', '\u22c5', '\u2217']);
const DIV = new Set(['/', '÷', '\u2215']);
const MINUS = new Set(['-', '\u2212', '\u2013']);

/** Tokens of a text segment (no `=` inside); anything that is not arithmetic is a `break`. */
export function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const prevSignificant = () => {
    const last = out[out.length - 1];
    return last && last.end === i ? last : undefined;
  };
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c) || c === '$') {
      i++;
      continue;
    }
    const m = NUMBER.exec(s.slice(i));
    if (m) {
      const raw = m[0];
      let end = i + raw.length;
      const pct = s[end] === '%';
      if (pct) end++;
      const dot = raw.indexOf('.');
      out.push({ t: 'num', v: Number(raw.replace(/,/g, '')), pct, dec: dot < 0 ? 0 : raw.length - dot - 1, raw, start: i, end });
      i = end;
      continue;
    }
    if (c === '+') out.push({ t: 'op', v: '+', start: i, end: i + 1 });
    else if (MINUS.has(c)) out.push({ t: 'op', v: '-', start: i, end: i + 1 });
    else if (MUL.has(c)) out.push({ t: 'op', v: '*', start: i, end: i + 1 });
    else if (DIV.has(c)) out.push({ t: 'op', v: '/', start: i, end: i + 1 });
    else if (c === '(') out.push({ t: '(', start: i, end: i + 1 });
    else if (c === ')') out.push({ t: ')', start: i, end: i + 1 });
    else if ((c === 'x' || c === 'X') && isTimesX(s, i)) out.push({ t: 'op', v: '*', start: i, end: i + 1 });
    else if (/[A-Za-z]/.test(c)) {
      // A word: `N% of M` reads as a product; any other word breaks the expression.
      let j = i;
      while (j < s.length && /[A-Za-z]/.test(s[j]!)) j++;
      const word = s.slice(i, j);
      const last = out[out.length - 1];
      if (word.toLowerCase() === 'of' && last?.t === 'num' && last.pct) out.push({ t: 'op', v: '*', start: i, end: j });
      else out.push({ t: 'break', attached: prevSignificant()?.t === 'num', start: i, end: j });
      i = j;
      continue;
    } else out.push({ t: 'break', attached: false, start: i, end: i + 1 });
    i++;
  }
  return out;
}

/** `x` is a times sign when it stands alone between numbers or brackets (`3 x 60`, `3x60`, `(2) x 4`). */
function isTimesX(s: string, i: number): boolean {
  if (/[A-Za-z]/.test(s[i - 1] ?? '') || /[A-Za-z]/.test(s[i + 1] ?? '')) return false;
  let a = i - 1;
  while (a >= 0 && s[a] === ' ') a--;
  let b = i + 1;
  while (b < s.length && (s[b] === ' ' || s[b] === '$')) b++;
  return /[\d)%]/.test(s[a] ?? '') && /[\d(.]/.test(s[b] ?? '');
}

/** Value of a token list under one reading of `%` (as written, or divided by 100); undefined if not an expression. */
export function evaluateTokens(tokens: readonly Token[], percentAsFraction: boolean): number | undefined {
  let k = 0;
  const peek = () => tokens[k];
  const expr = (): number | undefined => {
    let v = term();
    while (v !== undefined) {
      const p = peek();
      if (p?.t !== 'op' || (p.v !== '+' && p.v !== '-')) break;
      k++;
      const r = term();
      if (r === undefined) return undefined;
      v = p.v === '+' ? v + r : v - r;
    }
    return v;
  };
  const term = (): number | undefined => {
    let v = factor();
    while (v !== undefined) {
      const p = peek();
      if (p?.t !== 'op' || (p.v !== '*' && p.v !== '/')) break;
      k++;
      const r = factor();
      if (r === undefined) return undefined;
      if (p.v === '/' && r === 0) return undefined;
      v = p.v === '*' ? v * r : v / r;
    }
    return v;
  };
  const factor = (): number | undefined => {
    const p = peek();
    if (!p) return undefined;
    if (p.t === 'op' && p.v === '-') {
      k++;
      const v = factor();
      return v === undefined ? undefined : -v;
    }
    if (p.t === 'num') {
      k++;
      return p.pct && percentAsFraction ? p.v / 100 : p.v;
    }
    if (p.t === '(') {
      k++;
      const v = expr();
      if (peek()?.t !== ')') return undefined;
      k++;
      return v;
    }
    return undefined;
  };
  const v = expr();
  return v !== undefined && k === tokens.length && Number.isFinite(v) ? v : undefined;
}

/** Relative slack when an input is a rounded decimal. */
export const ROUNDED_INPUT_SLACK = 0.005;

const hasOp = (ts: readonly Token[]) => ts.some((t) => t.t === 'op');
const depth = (ts: readonly Token[]) => ts.reduce((d, t) => d + (t.t === '(' ? 1 : t.t === ')' ? -1 : 0), 0);

/** The arithmetic at the end of a left-hand segment, or undefined when words are mixed into it. */
function leftExpression(tokens: readonly Token[]): Token[] | undefined {
  let s = tokens.length;
  while (s > 0 && tokens[s - 1]!.t !== 'break') s--;
  let ts = tokens.slice(s);
  if (ts.length === 0) return undefined;
  // `3 sprints * 60 = 180`: an operator right after a word means the expression has words in it.
  const first = ts[0]!;
  // A line starting `- 5 + 3` is a bullet, `-5 + 3` a negative number.
  if (first.t === 'op' && first.v === '-' && s === 0) {
    if (ts[1] && ts[1].start > first.end) ts = ts.slice(1);
  } else if (first.t === 'op') return undefined;
  if (ts.length === 0) return undefined;
  while (ts.length && ts[0]!.t === '(' && depth(ts) > 0) ts = ts.slice(1);
  if (depth(ts) !== 0) return undefined;
  return ts;
}

/** The arithmetic at the start of a right-hand segment, or undefined when it runs into words or algebra. */
function rightExpression(tokens: readonly Token[]): Token[] | undefined {
  let e = 0;
  while (e < tokens.length && tokens[e]!.t !== 'break') e++;
  let ts = tokens.slice(0, e);
  const next = tokens[e];
  if (next?.t === 'break' && next.attached) return undefined; // `= 5x`, `= 12kg`
  while (ts.length && ts[ts.length - 1]!.t === ')' && depth(ts) < 0) ts = ts.slice(0, -1);
  if (ts.length === 0) return undefined;
  const last = ts[ts.length - 1]!;
  if (last.t === 'op' || last.t === '(') return undefined; // `= 2 * x`
  if (depth(ts) !== 0) return undefined;
  return ts;
}

/** Digits after the decimal point of a side that is one written number (how precisely it was rounded). */
function writtenDecimals(ts: readonly Token[]): number | undefined {
  const only = ts.length === 1 ? ts[0] : undefined;
  return only?.t === 'num' ? only.dec : undefined;
}

/**
 * Whether `left` and `right` agree, allowing a right side rounded to the decimals it shows, and a
 * relative slack `relative` (used when an input was itself a rounded decimal: `20 * 13.33 = 266.66`).
 */
export function valuesAgree(left: number, right: number, rightDecimals: number | undefined, relative = 0): boolean {
  const exact = 1e-6 * Math.max(1, Math.abs(left), Math.abs(right));
  const rounding = rightDecimals !== undefined && rightDecimals > 0 ? 0.5 * 10 ** -rightDecimals : 0;
  const slack = relative * Math.max(Math.abs(left), Math.abs(right));
  return Math.abs(left - right) <= Math.max(rounding, slack) + exact;
}

function checkSides(l: Token[], r: Token[]): { left: number; right: number; ok: boolean } | undefined {
  const dec = writtenDecimals(r);
  const decL = writtenDecimals(l);
  // Rounded decimal inputs carry their rounding into the result: allow 0.5% then.
  const rel = [...l, ...r].some((t) => t.t === 'num' && t.dec > 0 && !Number.isInteger(t.v)) ? ROUNDED_INPUT_SLACK : 0;
  let first: { left: number; right: number } | undefined;
  for (const pl of [false, true]) {
    for (const pr of [false, true]) {
      const a = evaluateTokens(l, pl), b = evaluateTokens(r, pr);
      if (a === undefined || b === undefined) continue;
      first ??= { left: a, right: b };
      if (valuesAgree(a, b, dec, rel) || valuesAgree(b, a, decL, rel)) return { left: a, right: b, ok: true };
      // A running chain `3 * 4 = 12 + 5 = 17`: the right side starts with the left side's value.
      const head = r[0];
      if (head?.t === 'num' && hasOp(r) && valuesAgree(a, head.pct && pr ? head.v / 100 : head.v, head.dec, rel)) return { left: a, right: b, ok: true };
    }
  }
  return first && { ...first, ok: false };
}

/** Checks every `... = ...` statement of one line or annotation. */
function checkSegmented(text: string, source: ArithmeticStatement['source'], out: ArithmeticStatement[]): void {
  const parts = text.split('=');
  for (let i = 0; i + 1 < parts.length; i++) {
    // `==`, `<=`, `>=`, `!=` are not statements of equality.
    if (parts[i + 1] === '' || /[<>!]$/.test(parts[i]!)) continue;
    const l = leftExpression(tokenize(parts[i]!));
    const r = rightExpression(tokenize(parts[i + 1]!));
    if (!l || !r || (!hasOp(l) && !hasOp(r))) continue;
    const c = checkSides(l, r);
    if (!c) continue;
    const show = (ts: Token[]) => ts.map((t) => (t.t === 'num' ? `${t.raw}${t.pct ? '%' : ''}` : t.t === 'op' ? t.v : t.t)).join(' ');
    out.push({ text: `${show(l)} = ${show(r)}`, left: c.left, right: c.right, ok: c.ok, source });
  }
}

/** Checks the arithmetic of a whole answer (annotations first, then each visible line). */
export function checkArithmetic(answer: string): ArithmeticCheck {
  const statements: ArithmeticStatement[] = [];
  for (const m of answer.matchAll(/<<([^<>]*)>>/g)) checkSegmented(m[1]!, 'annotation', statements);
  const visible = answer.replace(/<<[^<>]*>>/g, '');
  const unclosedAnnotation = visible.includes('<<');
  for (const line of visible.split(/\n/)) checkSegmented(line.replace(/<<.*$/, ''), 'text', statements);
  const wrong = statements.filter((s) => !s.ok).length;
  return { statements, checked: statements.length, wrong, unclosedAnnotation, visible };
}
