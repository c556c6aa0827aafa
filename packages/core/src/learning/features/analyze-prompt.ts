import { estimateTokens } from '../../pricing/estimate-tokens.js';
import { isCjk, tokenize } from './tokenize.js';

/** Intents the keyword classifier knows. */
export const INTENTS = ['code', 'math', 'reasoning', 'knowledge', 'creative', 'extraction', 'chat'] as const;
export type Intent = (typeof INTENTS)[number];

/** Knowledge domains the keyword classifier knows. */
export const DOMAINS = ['stem', 'medicine', 'law', 'business', 'humanities', 'social', 'programming', 'general'] as const;
export type Domain = (typeof DOMAINS)[number];

/** What the cheap prompt analysis finds (no model involved). */
export interface PromptAnalysis {
  chars: number;
  estimatedTokens: number;
  lines: number;
  /** Dominant script: `latin`, `cjk`, `cyrillic`, `arabic`, `other`. */
  script: 'latin' | 'cjk' | 'cyrillic' | 'arabic' | 'other';
  intent: Intent;
  domain: Domain;
  /** Keyword scores per intent and domain (hits per 10 words, capped at 1). */
  intentScores: Record<Intent, number>;
  domainScores: Record<Domain, number>;
  /** Multiple-choice question (`A.`/`B)` options). */
  multipleChoice: boolean;
  /** 0..1 from length, digits, math symbols, code and nesting. */
  complexity: number;
  digitRatio: number;
  symbolRatio: number;
}

const INTENT_WORDS: Record<Intent, string> = {
  code: 'function def class return python javascript typescript java code program implement algorithm compile bug regex sql array string list loop recursion api',
  math: 'calculate compute solve equation integer sum product how_many how_much percent probability total average ratio derivative integral prime divisible remainder fraction',
  reasoning: 'why because therefore explain reason which_of infer implies assume argument conclusion logic best_explains most_likely',
  knowledge: 'what_is who when where which define definition known_as refers_to capital discovered according_to',
  creative: 'write story poem essay blog compose creative imagine fiction song lyrics character narrative rewrite',
  extraction: 'extract summarize summary list_all classify parse identify find_all table json format translate',
  chat: 'hi hello thanks thank_you please can_you could_you help_me i_want i_need opinion advice recommend',
};

const DOMAIN_WORDS: Record<Exclude<Domain, 'general'>, string> = {
  stem: 'physics chemistry biology atom molecule energy force velocity acceleration electron cell gene dna protein reaction equation mass temperature astronomy planet algebra geometry matrix vector theorem statistics',
  medicine: 'patient disease symptom clinical diagnosis treatment drug dose medical medicine nurse hospital syndrome infection anatomy nerve muscle blood virus therapy',
  law: 'law legal court plaintiff defendant contract statute constitution judge jury liability tort crime criminal rights amendment attorney evidence negligence',
  business: 'market price cost profit revenue firm company accounting tax investment economy economic demand supply inflation interest_rate gdp management marketing stock',
  humanities: 'philosophy moral ethics ethical religion history century war empire king art literature poet novel culture ancient kant plato aristotle',
  social: 'psychology sociology society social behavior behaviour political government policy election population geography relationship child development',
  programming: 'python javascript function code program algorithm compiler variable array database software computer binary bit byte network security',
};

/** word or "first_second" phrase -> categories (intent index, or 100 + domain index). */
const LEXICON = new Map<string, number[]>();
const PHRASE_STARTS = new Set<string>();
function addWords(text: string, category: number): void {
  for (const w of text.split(' ')) {
    const key = w.replace('_', ' ');
    if (w.includes('_')) PHRASE_STARTS.add(w.split('_')[0]!);
    const list = LEXICON.get(key) ?? [];
    list.push(category);
    LEXICON.set(key, list);
  }
}
INTENTS.forEach((k, i) => addWords(INTENT_WORDS[k], i));
DOMAINS.forEach((k, i) => {
  if (k !== 'general') addWords(DOMAIN_WORDS[k], 100 + i);
});

/** An option line `A. ` / `(B) `. Spaces after the line start stay on that line: a run of blank lines is not rescanned from each of them. */
const CHOICES = /(^|\n)[^\S\n]*\(?[A-D][.)]\s/g;
/** Characters scanned for script, digits and symbols (enough to characterize a prompt). */
const SCAN_CHARS = 8000;
const SYMBOLS = new Set('+-*/=^<>(){}[]%$\\|&;_'.split('').map((c) => c.charCodeAt(0)));

function argmax<K extends string>(scores: Record<K, number>, keys: readonly K[], fallback: K): K {
  let best = fallback;
  let v = 0;
  for (const k of keys) {
    if (scores[k] > v) {
      v = scores[k];
      best = k;
    }
  }
  return best;
}

/**
 * Cheap prompt analysis for routing: length, script, a keyword intent and domain classifier, and a
 * complexity score. One scan of the text plus a lexicon lookup per word (tens of microseconds); a
 * learned predictor uses these next to hashed words and, optionally, an embedding.
 */
export function analyzePrompt(text: string, tokens: readonly string[] = tokenize(text, 1024)): PromptAnalysis {
  const chars = text.length;
  const counts = new Float64Array(200);
  let words = 0;
  let prev = '';
  for (const t of tokens) {
    const c0 = t.charCodeAt(0);
    if (c0 > 127 || (c0 >= 97 && c0 <= 122)) words++;
    const hit = LEXICON.get(t);
    if (hit) for (const c of hit) counts[c]!++;
    if (prev && PHRASE_STARTS.has(prev)) {
      const ph = LEXICON.get(`${prev} ${t}`);
      if (ph) for (const c of ph) counts[c]!++;
    }
    prev = t;
  }
  words = Math.max(1, words);
  const per10 = (n: number) => Math.min(1, (n * 10) / words);
  let digits = 0, symbols = 0, cjk = 0, cyr = 0, ara = 0, lat = 0, lines = 1, codeLines = 0, backticks = 0;
  const end = Math.min(chars, SCAN_CHARS);
  let last = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 0xc0 && c <= 0x24f)) lat++;
    else if (c === 10) {
      lines++;
      if (last === 59 || last === 123) codeLines++;
    } else if (c === 96) backticks++;
    else if (SYMBOLS.has(c)) symbols++;
    else if (c >= 0x400 && c <= 0x4ff) cyr++;
    else if (c >= 0x600 && c <= 0x6ff) ara++;
    else if (c > 0x2e80 && isCjk(c)) cjk++;
    if (c > 32) last = c;
  }
  if (chars > end) for (let i = end; i < chars; i++) if (text.charCodeAt(i) === 10) lines++;
  const intentScores = {} as Record<Intent, number>;
  INTENTS.forEach((k, i) => (intentScores[k] = per10(counts[i]!)));
  intentScores.code = Math.min(1, intentScores.code + Math.min(0.5, backticks / 6) + Math.min(0.5, codeLines / 10));
  const domainScores = {} as Record<Domain, number>;
  DOMAINS.forEach((k, i) => (domainScores[k] = k === 'general' ? 0 : per10(counts[100 + i]!)));
  const top = Math.max(cjk, cyr, ara, lat);
  const script = top === 0 ? 'other' : top === lat ? 'latin' : top === cjk ? 'cjk' : top === cyr ? 'cyrillic' : 'arabic';
  const digitRatio = end ? digits / end : 0;
  const symbolRatio = end ? symbols / end : 0;
  const estimatedTokens = estimateTokens(text);
  CHOICES.lastIndex = 0;
  const multipleChoice = ((text.length > SCAN_CHARS ? text.slice(0, SCAN_CHARS) : text).match(CHOICES)?.length ?? 0) >= 3;
  const complexity = Math.min(
    1,
    0.35 * Math.min(1, Math.log1p(estimatedTokens) / Math.log(2000)) +
      0.2 * Math.min(1, digitRatio * 10) +
      0.2 * Math.min(1, symbolRatio * 10) +
      0.15 * Math.max(intentScores.code, intentScores.math) +
      0.1 * intentScores.reasoning,
  );
  return {
    chars,
    estimatedTokens,
    lines,
    script,
    intent: argmax(intentScores, INTENTS, 'chat'),
    domain: argmax(domainScores, DOMAINS, 'general'),
    intentScores,
    domainScores,
    multipleChoice,
    complexity,
    digitRatio,
    symbolRatio,
  };
}

/** Number of dense values `analysisVector` returns. */
export const ANALYSIS_DIM = 10 + INTENTS.length + DOMAINS.length;

/** The analysis as numbers (roughly 0..1 each), for the learned predictors. */
export function analysisVector(a: PromptAnalysis, out = new Float32Array(ANALYSIS_DIM)): Float32Array {
  let i = 0;
  out[i++] = Math.log1p(a.chars) / 10;
  out[i++] = Math.log1p(a.estimatedTokens) / 8;
  out[i++] = Math.log1p(a.lines) / 5;
  out[i++] = a.script === 'latin' ? 1 : 0;
  out[i++] = a.script === 'cjk' ? 1 : 0;
  out[i++] = a.multipleChoice ? 1 : 0;
  out[i++] = a.complexity;
  out[i++] = Math.min(1, a.digitRatio * 10);
  out[i++] = Math.min(1, a.symbolRatio * 10);
  out[i++] = 1; // constant slot: a bias for linear models
  for (const k of INTENTS) out[i++] = a.intentScores[k];
  for (const k of DOMAINS) out[i++] = a.domainScores[k];
  return out;
}
