import { checkArithmetic } from './arithmetic-check.js';

/**
 * Signals that a math word problem's answer is wrong, computed from the prompt and the answer text only
 * (never from a correctness label or another model's answer), for a cascade deciding whether to escalate.
 */
export const WEAK_ANSWER_FEATURES = [
  /** Statements `a op b = c` checked (text and calculator annotations). */
  'arith_checked',
  /** Of those, wrong ones. */
  'arith_wrong',
  /** At least one wrong statement. */
  'arith_any_wrong',
  /** No statement could be checked. */
  'arith_none',
  /** A `#### <answer>` line (GSM8K's answer format) is present. */
  'has_marker',
  /** A final numeric answer was found (after the last `####`, else the last number of the answer). */
  'has_final',
  /** The final answer has a fractional part (GSM8K answers are integers). */
  'final_non_integer',
  'final_negative',
  /** The final answer is one of the prompt's own numbers. */
  'final_in_prompt',
  /** The final answer is the result of a written statement or calculation. */
  'final_derived',
  /** The answer looks cut off: an open `<<`, or no marker and no closing punctuation. */
  'truncated',
  /** log(1 + characters) of the answer. */
  'log_chars',
  'lines',
  /** Hedging, second thoughts, refusals (count of phrases, capped at 3). */
  'hedges',
  /** Share of the answer's numbers that are neither in the prompt, nor results of its statements, nor small constants. */
  'unexplained_share',
  /** Share of the prompt's numbers (other than 0 and 1) the answer never mentions. */
  'prompt_unused_share',
  /** The first line states a number without any computation (answer first, reasoning after). */
  'answer_first',
  /** More than one `####` line, or the marker's answer differs from the last stated result. */
  'conflicting_answers',
  /** log(1 + characters) of the prompt and its count of numbers (difficulty of the question). */
  'prompt_log_chars',
  'prompt_numbers',
] as const;

export type WeakAnswerFeature = (typeof WEAK_ANSWER_FEATURES)[number];
export type WeakAnswerFeatures = Record<WeakAnswerFeature, number>;

const WORD_NUMBERS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
  hundred: 100, thousand: 1000, million: 1e6, dozen: 12, half: 0.5, twice: 2, double: 2, triple: 3, quarter: 0.25, third: 3,
};
/** Constants a solution may use without taking them from the prompt (units, percentages, calendar). */
const CONSTANTS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 24, 30, 31, 52, 60, 100, 365, 1000];
const HEDGES = /\b(however|but wait|actually|approximately|assum(e|ing)|cannot|can't|can not|not possible|impossible|not enough information|unclear|round(ed)? (up|down)|i'm sorry|apologi[sz]e|mistake|let me re|re-?calculate|correction|estimate)\b/gi;
const NUM = /\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?/g;

/** Numbers written in a text (digits, thousands commas; optionally number words). */
export function numbersIn(text: string, words = false): number[] {
  const out = Array.from(text.matchAll(NUM), (m) => Number(m[0].replace(/,/g, '')));
  if (words) for (const m of text.toLowerCase().matchAll(/[a-z]+/g)) if (Object.hasOwn(WORD_NUMBERS, m[0])) out.push(WORD_NUMBERS[m[0]]!);
  return out;
}

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a));
const within = (v: number, set: readonly number[]) => set.some((s) => near(s, v) || near(s, v * 100) || near(s * 100, v));

/** The final numeric answer: after the last `####`, else the last number of the (visible) answer. */
export function finalAnswer(visible: string): { value: number; fromMarker: boolean } | undefined {
  const marker = visible.lastIndexOf('####');
  if (marker >= 0) {
    const m = /(-?)\s*\$?\s*(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)/.exec(visible.slice(marker + 4).split('\n')[0] ?? '');
    if (m) return { value: (m[1] ? -1 : 1) * Number(m[2]!.replace(/,/g, '')), fromMarker: true };
  }
  const all = numbersIn(visible);
  return all.length ? { value: all[all.length - 1]!, fromMarker: false } : undefined;
}

/** The features of one (prompt, weak answer) pair. */
export function weakAnswerFeatures(prompt: string, answer: string): WeakAnswerFeatures {
  const check = checkArithmetic(answer);
  const visible = check.visible;
  const trimmed = visible.trim();
  const markers = (visible.match(/####/g) ?? []).length;
  const final = finalAnswer(visible);
  const promptNumbers = numbersIn(prompt, true);
  const results = check.statements.map((s) => s.right).concat(check.statements.map((s) => s.left));
  const answerNumbers = numbersIn(visible.replace(/####.*$/gm, ''));
  const unexplained = answerNumbers.filter((v) => !within(v, promptNumbers) && !within(v, results) && !CONSTANTS.includes(v)).length;
  const promptUsed = promptNumbers.filter((v) => v !== 0 && v !== 1);
  const unused = promptUsed.filter((v) => !within(v, answerNumbers)).length;
  const firstLine = trimmed.split('\n')[0] ?? '';
  const lastResult = check.statements.filter((s) => s.source === 'text').at(-1)?.right ?? check.statements.at(-1)?.right;
  const truncated = check.unclosedAnnotation || (markers === 0 && trimmed.length > 0 && !/[.!?)\]"'*]$/.test(trimmed));
  const hedges = Math.min(3, (visible.match(HEDGES) ?? []).length);
  const f: WeakAnswerFeatures = {
    arith_checked: check.checked,
    arith_wrong: check.wrong,
    arith_any_wrong: check.wrong > 0 ? 1 : 0,
    arith_none: check.checked === 0 ? 1 : 0,
    has_marker: markers > 0 ? 1 : 0,
    has_final: final ? 1 : 0,
    final_non_integer: final && !Number.isInteger(final.value) ? 1 : 0,
    final_negative: final && final.value < 0 ? 1 : 0,
    final_in_prompt: final && promptNumbers.some((v) => near(v, final.value)) ? 1 : 0,
    final_derived: final && results.some((v) => near(v, final.value)) ? 1 : 0,
    truncated: truncated ? 1 : 0,
    log_chars: Math.log1p(visible.length),
    lines: trimmed ? trimmed.split('\n').filter((l) => l.trim()).length : 0,
    hedges,
    unexplained_share: answerNumbers.length ? unexplained / answerNumbers.length : 0,
    prompt_unused_share: promptUsed.length ? unused / promptUsed.length : 0,
    answer_first: numbersIn(firstLine).length > 0 && !firstLine.includes('=') && trimmed.includes('\n') ? 1 : 0,
    conflicting_answers: markers > 1 || (final?.fromMarker === true && lastResult !== undefined && !near(lastResult, final.value)) ? 1 : 0,
    prompt_log_chars: Math.log1p(prompt.length),
    prompt_numbers: promptNumbers.length,
  };
  return f;
}

/**
 * A hand-written escalation score (higher = more likely wrong), its weights fixed before any evaluation:
 * wrong arithmetic and a missing or cut-off answer dominate; a non-integer or unexplained answer, hedging
 * and conflicting answers add; the length of the answer breaks ties a little (long answers go wrong more
 * often on GSM8K-like problems, a prior, not fitted).
 */
export function ruleEscalationScore(f: WeakAnswerFeatures): number {
  return (
    3 * f.arith_any_wrong +
    0.5 * Math.min(f.arith_wrong, 3) +
    3 * (1 - f.has_final) +
    2 * f.truncated +
    1.5 * f.final_non_integer +
    1 * f.final_negative +
    1 * f.has_final * (1 - f.final_derived) +
    1 * f.conflicting_answers +
    0.5 * f.hedges +
    1 * f.unexplained_share +
    0.5 * f.prompt_unused_share +
    0.5 * f.answer_first +
    0.1 * f.log_chars
  );
}
