/**
 * Word-problem structure features (GSM8K-style): how many quantities and steps a prompt asks for.
 * Cheap regular expressions, no model; part of the `quantities` augmentation block.
 */

import { SENTENCE_END } from '../features/structure-features.js';

export const QUANTITY_FEATURES = ['numbers', 'distinct_numbers', 'max_digits', 'decimals_fractions', 'percents_money', 'sentences', 'operation_words', 'comparison_words', 'time_units', 'words'] as const;

const OPERATION = /\b(?:each|per|times|twice|double|triple|half|third|quarter|percent|total|sum|altogether|remaining|remainder|left|more|less|fewer|every|average|split|share|divided|multiply|product|difference|combined|rate|ratio)\b/g;
const COMPARISON = /\b(?:more than|less than|fewer than|as many|as much|times as|older|younger|taller|shorter|faster|slower|longer|cheaper|larger|smaller)\b/g;
const TIME = /\b(?:second|minute|hour|day|week|month|year)s?\b/g;
/** Characters looked at: the prompt's last ones (far more than a benchmark word problem; bounds the work). */
const SCAN_CHARS = 8000;

/** log1p-scaled counts, in the order of `QUANTITY_FEATURES`, over the last `SCAN_CHARS` characters. */
export function quantityFeatures(text: string): number[] {
  const lower = (text.length > SCAN_CHARS ? text.slice(-SCAN_CHARS) : text).toLowerCase();
  const numbers = lower.match(/\d[\d,]*(?:\.\d+)?/g) ?? [];
  const cleaned = numbers.map((n) => n.replace(/,/g, ''));
  const maxDigits = cleaned.reduce((m, n) => Math.max(m, n.replace('.', '').length), 0);
  const decimals = (lower.match(/\d\.\d|\d\/\d/g) ?? []).length;
  const money = (lower.match(/[$%\u20ac£]|\bpercent\b|\bdollars?\b|\bcents?\b/g) ?? []).length;
  const sentences = lower.split(SENTENCE_END).filter((s) => s.trim().length > 0).length;
  const words = lower.split(/\s+/).filter(Boolean).length;
  const raw = [numbers.length, new Set(cleaned).size, maxDigits, decimals, money, sentences, (lower.match(OPERATION) ?? []).length, (lower.match(COMPARISON) ?? []).length, (lower.match(TIME) ?? []).length, words];
  return raw.map((v) => Math.log1p(v));
}
