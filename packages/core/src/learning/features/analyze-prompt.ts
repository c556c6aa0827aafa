import { estimateTokens } from '../../pricing/estimate-tokens.js';

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
  /** Keyword scores per intent and domain (hits per 100 words, capped at 1). */
  intentScores: Record<Intent, number>;
  domainScores: Record<Domain, number>;
  /** Multiple-choice question (`A.`/`B)` options). */
  multipleChoice: boolean;
  /** 0..1 from length, digits, math symbols, code and nesting. */
  complexity: number;
  digitRatio: number;
  symbolRatio: number;
}

const INTENT_WORDS: Record<Intent, RegExp> = {
  code: /\b(function|def|class|return|python|javascript|typescript|java|code|program|implement|algorithm|compile|bug|regex|sql|array|string|list|loop|recursion|api)\b|```|=>|;\s*$|\{\s*$/gim,
  math: /\b(calculate|compute|solve|equation|integer|sum|product|how many|how much|percent|probability|total|average|ratio|derivative|integral|prime|divisible|remainder|fraction)\b|[=+\-*/^]\s*\d|\d\s*[+\-*/^=]/gi,
  reasoning: /\b(why|because|therefore|explain|reason|which of the following|infer|implies|assume|argument|conclusion|logic|best explains|most likely)\b/gi,
  knowledge: /\b(what is|who|when|where|which|define|definition|known as|refers to|capital|discovered|according to)\b/gi,
  creative: /\b(write|story|poem|essay|blog|compose|creative|imagine|fiction|song|lyrics|character|narrative|rewrite)\b/gi,
  extraction: /\b(extract|summarize|summary|list all|classify|parse|identify|find all|table|json|format|translate)\b/gi,
  chat: /\b(hi|hello|thanks|thank you|please|can you|could you|help me|i want|i need|opinion|advice|recommend)\b/gi,
};

const DOMAIN_WORDS: Record<Domain, RegExp> = {
  stem: /\b(physics|chemistry|biology|atom|molecule|energy|force|velocity|acceleration|electron|cell|gene|dna|protein|reaction|equation|mass|temperature|astronomy|planet|algebra|geometry|matrix|vector|theorem|statistics)\b/gi,
  medicine: /\b(patient|disease|symptom|clinical|diagnosis|treatment|drug|dose|medical|medicine|nurse|hospital|syndrome|infection|anatomy|nerve|muscle|blood|virus|therapy)\b/gi,
  law: /\b(law|legal|court|plaintiff|defendant|contract|statute|constitution|judge|jury|liability|tort|crime|criminal|rights|amendment|attorney|evidence|negligence)\b/gi,
  business: /\b(market|price|cost|profit|revenue|firm|company|accounting|tax|investment|economy|economic|demand|supply|inflation|interest rate|gdp|management|marketing|stock)\b/gi,
  humanities: /\b(philosophy|moral|ethic|religion|history|century|war|empire|king|art|literature|poet|novel|culture|ancient|kant|plato|aristotle)\b/gi,
  social: /\b(psychology|sociology|society|social|behavior|behaviour|political|government|policy|election|population|geography|relationship|child|development)\b/gi,
  programming: /\b(python|javascript|function|code|program|algorithm|compiler|variable|array|database|software|computer|binary|bit|byte|network|security)\b/gi,
  general: /\b(the)\b/gi,
};

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
const CYRILLIC = /\p{Script=Cyrillic}/gu;
const ARABIC = /\p{Script=Arabic}/gu;
const LATIN = /\p{Script=Latin}/gu;
const CHOICES = /(^|\n)\s*\(?[A-D][.)]\s/g;

function count(text: string, re: RegExp): number {
  re.lastIndex = 0;
  return text.match(re)?.length ?? 0;
}

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
 * complexity score. Runs in microseconds; a learned predictor uses these next to hashed words and,
 * optionally, an embedding.
 */
export function analyzePrompt(text: string): PromptAnalysis {
  const chars = text.length;
  const words = Math.max(1, text.split(/\s+/).filter(Boolean).length);
  const per100 = (n: number) => Math.min(1, (n * 100) / words / 10);
  const intentScores = {} as Record<Intent, number>;
  for (const k of INTENTS) intentScores[k] = per100(count(text, INTENT_WORDS[k]));
  const domainScores = {} as Record<Domain, number>;
  for (const k of DOMAINS) domainScores[k] = k === 'general' ? 0 : per100(count(text, DOMAIN_WORDS[k]));
  const cjk = count(text, CJK);
  const cyr = count(text, CYRILLIC);
  const ara = count(text, ARABIC);
  const lat = count(text, LATIN);
  const top = Math.max(cjk, cyr, ara, lat);
  const script = top === 0 ? 'other' : top === lat ? 'latin' : top === cjk ? 'cjk' : top === cyr ? 'cyrillic' : 'arabic';
  let digits = 0;
  let symbols = 0;
  for (let i = 0; i < chars; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if ('+-*/=^<>(){}[]%$\\|&;_'.includes(text[i]!)) symbols++;
  }
  const digitRatio = chars ? digits / chars : 0;
  const symbolRatio = chars ? symbols / chars : 0;
  const estimatedTokens = estimateTokens(text);
  const lines = text.split('\n').length;
  const multipleChoice = count(text, CHOICES) >= 3;
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
  out[i++] = 1; // bias-like constant, lets linear models shift per model
  for (const k of INTENTS) out[i++] = a.intentScores[k];
  for (const k of DOMAINS) out[i++] = a.domainScores[k];
  return out;
}
