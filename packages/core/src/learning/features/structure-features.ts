/**
 * Quantitative structure of a prompt (`--features +structure`): how many quantities, steps and
 * clauses a word problem has, and the shape of a multiple-choice question (stem, options, "NOT" /
 * "EXCEPT"). Regular expressions only: deterministic, no model, no labels. Each value is in 0..1
 * (counts saturate on a log scale at a fixed cap). The list was fixed before any evaluation run.
 */

/** Names of the values, in order. */
export const STRUCTURE_FEATURES = [
  // quantities (in the question stem: the whole prompt when there are no options)
  'numerals', 'distinct_numbers', 'number_words', 'multiplier_words', 'decimals', 'fractions',
  'percents', 'money', 'time_units', 'measure_units', 'unit_kinds', 'max_magnitude', 'big_numbers',
  'small_integer_share', 'quantities_total', 'numerals_per_sentence',
  // steps and clauses
  'sentences', 'question_marks', 'how_questions', 'comparatives', 'distributive_words',
  'remainder_words', 'aggregate_words', 'transaction_words', 'conditional_words', 'negations',
  'named_agents', 'stem_words', 'formula_symbols',
  // multiple-choice shape
  'option_count', 'option_mean_words', 'option_length_spread', 'longest_option_margin',
  'numeric_options', 'not_except', 'all_none_option', 'roman_statements', 'passage',
  'which_of_following', 'blank',
] as const;

export const STRUCTURE_DIM = STRUCTURE_FEATURES.length;

/** log1p(count) / log1p(cap), at most 1. */
function sat(count: number, cap: number): number {
  return Math.min(1, Math.log1p(Math.max(0, count)) / Math.log1p(cap));
}

function count(text: string, re: RegExp): number {
  return text.match(re)?.length ?? 0;
}

/**
 * `A. text` / `(B) text`. The text starts at a non-space, so the spaces before it are read one way only (as `\s*`
 * then `.*` they could split any way, tried one by one when a U+2028 that `.` does not cross ends the line).
 */
const OPTION_LINE = /^\s*\(?([A-J])[.)]\s*(\S[^\u2028\u2029]*)?$/;
/** A line of whitespace, or `Answer` / `Answer:` alone (after `trim()`, so no run of spaces is scanned twice). */
const ANSWER_CUE = /^(?:answer\s*:?)?$/i;
/**
 * Sentence ends: a run of `.?!` followed by whitespace or the end. The lookbehind starts a match only where a
 * run starts (what the scan finds anyway), so a long run that is not followed by a space is tried once, not once
 * per character (quadratic).
 */
export const SENTENCE_END = /(?<![.?!])[.?!]+(?:\s|$)/;
/**
 * Characters of a prompt the structure features look at: its last ones (the question and its options come
 * last). Far more than any benchmark prompt (GSM8K and MMLU prompts are under 5 000), and it bounds the work
 * at decision time on a pasted document.
 */
export const STRUCTURE_SCAN_CHARS = 8000;

/** A multiple-choice prompt cut into its stem and its options (the last run of `A.`/`B)` lines). */
export interface SplitQuestion {
  stem: string;
  options: string[];
}

/**
 * Splits off the options: the prompt's last lines `A. ...`, `B. ...` (letters in order from A, at least
 * 2), before a trailing `Answer:` line. Without such lines the whole text is the stem.
 */
export function splitQuestion(text: string): SplitQuestion {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length && ANSWER_CUE.test(lines[lines.length - 1]!.trim())) lines.pop();
  let start = lines.length;
  while (start > 0 && OPTION_LINE.test(lines[start - 1]!)) start--;
  const options = lines.slice(start).map((l) => OPTION_LINE.exec(l)!);
  const ordered = options.length >= 2 && options.every((m, k) => m[1] === String.fromCharCode(65 + k));
  if (!ordered) return { stem: lines.join('\n').trim(), options: [] };
  return { stem: lines.slice(0, start).join('\n').trim(), options: options.map((m) => (m[2] ?? '').trim()) };
}

const NUMERAL = /\d+(?:,\d{3})*(?:\.\d+)?/g;
const NUMBER_WORD = /\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozens?)\b/g;
const MULTIPLIER = /\b(?:twice|double[sd]?|triple[sd]?|thrice|quadruple[sd]?|half|halves|thirds?|quarters?|fourths?|fifths?|tenths?)\b|\b(?:\d+(?:\.\d+)?|two|three|four|five|six|seven|eight|nine|ten)\s+times\b/g;
const DECIMAL = /\d\.\d/g;
const FRACTION = /\b\d+\s*\/\s*\d+\b/g;
const PERCENT = /%|\bpercent(?:age)?s?\b/g;
const MONEY = /[$\u20ac£¥]\s*\d|\b(?:dollars?|cents?|euros?|pounds sterling)\b/g;
const TIME_UNIT = /\b(second|minute|hour|day|week|month|year|decade|century)s?\b/g;
const MEASURE_UNIT = /\b(mile|kilometer|km|meter|metre|cm|mm|feet|foot|ft|inch|inches|yard|pound|lb|lbs|kg|kilogram|gram|ounce|oz|ton|liter|litre|ml|gallon|quart|pint|cup|mph|acre|square|cubic|degree|calorie|watt|volt|joule|newton)s?\b/g;
const HOW = /\bhow (?:many|much|long|far|old|fast|often)\b/g;
const COMPARATIVE = /\b(?:more|less|fewer|greater|smaller|larger|longer|shorter|older|younger|taller|faster|slower|cheaper|higher|lower)\s+than\b|\bas (?:many|much|long|old|tall|fast)(?:\s+[a-z]+){0,3}\s+as\b|\btimes (?:as|more|less)\b/g;
const DISTRIBUTIVE = /\b(?:each|per|every|apiece|a piece)\b/g;
const REMAINDER = /\b(?:remain(?:s|ing|der|ed)?|rest|left(?:over)?)\b/g;
const AGGREGATE = /\b(?:total|altogether|in all|combined|sum|together|overall|average|mean)\b/g;
const TRANSACTION = /\b(?:buy|buys|bought|sell|sells|sold|pay|pays|paid|spend|spends|spent|earn|earns|earned|save|saves|saved|cost|costs|charge[sd]?|give|gives|gave|lose|loses|lost|discount|profit|tip|tax|interest|rent|salary|wage)\b/g;
const CONDITIONAL = /\b(?:if|when|after|before|until|then|instead|otherwise|unless)\b/g;
const NEGATION = /\b(?:not|no|never|none|without|except)\b|n't\b/g;
const FORMULA = /[=^+*<>\u221a\u2211\u222b\u03c0×÷\u2264\u2265]|\\[a-z]+/g;
const NOT_EXCEPT = /\b(?:NOT|EXCEPT|LEAST|FALSE|INCORRECT)\b|\b(?:except|least likely|is not|are not|does not|would not|not true|not a|not an|incorrect|false)\b/;
const ALL_NONE = /^(?:all|none|both|neither) of the (?:above|following)\b|^(?:both|neither)\b|^all of these\b/i;
const ROMAN = /(?:^|\n)\s*(?:I|II|III|IV)[.)]\s|\bstatement 1\b/i;
const PASSAGE = /\b(?:refers? to the following|the following (?:passage|information|excerpt|quotation|text)|read the following)\b/i;
const WHICH_FOLLOWING = /\bwhich (?:one )?of the following\b/i;
const BLANK = /_{2,}/;
const CAPITALIZED = /\b[A-Z][a-z]+\b/g;
/** Capitalized words that start sentences rather than name someone (excluded from `named_agents`). */
const NOT_NAMES = new Set(
  'The A An If How What Which When Where Who Whom Whose Why She He They It In On At For After Before Each Every There This That These Those Then Her His Their Its We You One Two Three Four Five Six Seven Eight Nine Ten To Of And But Or So As By With From Answer Find Calculate Compute Let Is Are Was Were Do Does Did Can Could Would Should Suppose Consider Statement Given Assume Use Some All Most Many Also Since While During Over Under Today Yesterday Tomorrow Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August September October November December'.split(' '),
);

function numericValue(s: string): number {
  return Number(s.replace(/,/g, ''));
}

function isNumericOption(o: string): boolean {
  const t = o.replace(/\s+/g, '');
  if (!t) return false;
  const digits = count(t, /[\d.,\/%$-]/g);
  return /\d/.test(t) && digits / t.length >= 0.5;
}

/** The group's values (0..1 each, order of `STRUCTURE_FEATURES`), over the last `STRUCTURE_SCAN_CHARS` characters. */
export function structureFeatures(text: string, out: number[] = new Array<number>(STRUCTURE_DIM)): number[] {
  const { stem, options } = splitQuestion(text.length > STRUCTURE_SCAN_CHARS ? text.slice(-STRUCTURE_SCAN_CHARS) : text);
  const lower = stem.toLowerCase();
  const numerals = stem.match(NUMERAL) ?? [];
  const values = numerals.map(numericValue).filter(Number.isFinite);
  const distinct = new Set(values).size;
  const maxValue = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const numberWords = count(lower, NUMBER_WORD);
  const multipliers = count(lower, MULTIPLIER);
  const sentences = Math.max(1, stem.split(SENTENCE_END).filter((s) => s.trim().length > 0).length);
  const words = stem.split(/\s+/).filter(Boolean).length;
  const timeUnits = [...lower.matchAll(TIME_UNIT)].map((m) => m[1]!);
  const measureUnits = [...lower.matchAll(MEASURE_UNIT)].map((m) => m[1]!);
  const agents = new Set((stem.match(CAPITALIZED) ?? []).filter((w) => !NOT_NAMES.has(w)));
  const optionWords = options.map((o) => o.split(/\s+/).filter(Boolean).length);
  const optionChars = options.map((o) => o.length).sort((a, b) => b - a);
  const longest = optionChars[0] ?? 0;
  let i = 0;
  // quantities
  out[i++] = sat(numerals.length, 20);
  out[i++] = sat(distinct, 15);
  out[i++] = sat(numberWords, 10);
  out[i++] = sat(multipliers, 6);
  out[i++] = sat(count(stem, DECIMAL), 5);
  out[i++] = sat(count(stem, FRACTION), 4);
  out[i++] = sat(count(lower, PERCENT), 4);
  out[i++] = sat(count(lower, MONEY), 6);
  out[i++] = sat(timeUnits.length, 8);
  out[i++] = sat(measureUnits.length, 6);
  out[i++] = sat(new Set([...timeUnits, ...measureUnits]).size, 5);
  out[i++] = Math.min(1, Math.log10(1 + maxValue) / 7);
  out[i++] = sat(values.filter((v) => Math.abs(v) >= 1000).length, 4);
  out[i++] = values.length ? values.filter((v) => Number.isInteger(v) && v >= 0 && v <= 12).length / values.length : 0;
  out[i++] = sat(numerals.length + numberWords + multipliers, 25);
  out[i++] = Math.min(1, numerals.length / sentences / 5);
  // steps and clauses
  out[i++] = sat(sentences, 12);
  out[i++] = sat(count(stem, /\?/g), 3);
  out[i++] = sat(count(lower, HOW), 3);
  out[i++] = sat(count(lower, COMPARATIVE), 5);
  out[i++] = sat(count(lower, DISTRIBUTIVE), 6);
  out[i++] = sat(count(lower, REMAINDER), 4);
  out[i++] = sat(count(lower, AGGREGATE), 4);
  out[i++] = sat(count(lower, TRANSACTION), 8);
  out[i++] = sat(count(lower, CONDITIONAL), 6);
  out[i++] = sat(count(lower, NEGATION), 4);
  out[i++] = sat(agents.size, 8);
  out[i++] = sat(words, 400);
  out[i++] = sat(count(stem, FORMULA), 10);
  // multiple-choice shape
  out[i++] = Math.min(1, options.length / 4);
  out[i++] = options.length ? sat(optionWords.reduce((a, b) => a + b, 0) / options.length, 40) : 0;
  out[i++] = options.length ? (longest - (optionChars[optionChars.length - 1] ?? 0)) / (longest + 1) : 0;
  out[i++] = options.length > 1 ? (longest - (optionChars[1] ?? 0)) / (longest + 1) : 0;
  out[i++] = options.length ? options.filter(isNumericOption).length / options.length : 0;
  out[i++] = NOT_EXCEPT.test(stem) ? 1 : 0;
  out[i++] = options.some((o) => ALL_NONE.test(o)) ? 1 : 0;
  out[i++] = ROMAN.test(stem) ? 1 : 0;
  out[i++] = PASSAGE.test(stem) || stem.split('\n').filter((l) => l.trim()).length >= 4 ? 1 : 0;
  out[i++] = WHICH_FOLLOWING.test(stem) ? 1 : 0;
  out[i++] = BLANK.test(stem) ? 1 : 0;
  return out;
}
