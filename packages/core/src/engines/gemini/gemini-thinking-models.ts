import { normalizeModelId } from '../../pricing/model-id.js';
import type { ReasoningEffort } from '../../spec/reasoning.js';
import type { GeminiThinkingConfig } from './gemini-api-types.js';

export type GeminiThinkingLevel = NonNullable<GeminiThinkingConfig['thinkingLevel']>;

/** What one Gemini model takes in `thinkingConfig`. */
export interface GeminiThinkingRange {
  /** Gemini 3 and later: the `thinkingLevel` values it takes, lowest first. */
  levels?: readonly GeminiThinkingLevel[];
  /** Gemini 2.5: the `thinkingBudget` range; `off`: 0 turns thinking off (else 0 is a 400). */
  budget?: { min: number; max: number; off: boolean };
}

/**
 * Per model family, first match wins (ids compared without `models/`, dates and `-001` suffixes). Source:
 * Google's thinking guide, https://ai.google.dev/gemini-api/docs/thinking ("Thinking budgets": 2.5 Pro 128 to
 * 32768, cannot turn thinking off; 2.5 Flash 0 to 24576; 2.5 Flash-Lite 512 to 24576, or 0; -1 dynamic on all;
 * "Thinking levels": Gemini 3 Pro low and high, Gemini 3 Flash minimal, low, medium, high), and Google's Gemini
 * 3.1 Pro notes (low, medium, high: no minimal). Gemini 3 and later cannot turn thinking off.
 */
const MODELS: ReadonlyArray<readonly [RegExp, GeminiThinkingRange]> = [
  [/^gemini-2\.5-pro/, { budget: { min: 128, max: 32_768, off: false } }],
  [/^gemini-2\.5-flash-lite/, { budget: { min: 512, max: 24_576, off: true } }],
  [/^gemini-2\.5-flash/, { budget: { min: 1, max: 24_576, off: true } }],
  [/^gemini-3-pro/, { levels: ['low', 'high'] }],
  [/^gemini-(?:[3-9]|\d{2,})(?:\.\d+)?-pro/, { levels: ['low', 'medium', 'high'] }],
  [/^gemini-(?:[3-9]|\d{2,})(?:\.\d+)?-flash/, { levels: ['minimal', 'low', 'medium', 'high'] }],
  // Any other Gemini 3+ model: the two levels every Gemini 3 model takes.
  [/^gemini-(?:[3-9]|\d{2,})/, { levels: ['low', 'high'] }],
];

/** Models without a thinking control: Gemini 1.x and 2.0, 2.5 image/speech models, Gemma, embedding models. */
const NO_THINKING = /^(?:gemini-(?:1|2\.0)[.-]|gemini-2\.5-[a-z-]*(?:image|tts|audio)|gemma|gemini-embedding|text-embedding|embedding)/;

/**
 * Google's moving aliases (`gemini-pro-latest`, `gemini-flash-latest`, `gemini-flash-lite-latest`: the newest
 * model of the tier, Gemini 2.5 or later). They get the 2.5 budget range of their tier: Gemini 3 models still
 * take `thinkingBudget`, and a budget within the 2.5 range is one every model of the tier takes (Pro cannot turn
 * thinking off, so 0 becomes its minimum). Matched on the id as written (without `models/`); normalizing keeps
 * their `-latest` (bare `gemini-pro` is Gemini 1.0 Pro).
 */
const ALIASES: ReadonlyArray<readonly [RegExp, GeminiThinkingRange]> = [
  [/^gemini-pro-latest$/, { budget: { min: 128, max: 32_768, off: false } }],
  [/^gemini-flash-lite-latest$/, { budget: { min: 512, max: 24_576, off: true } }],
  [/^gemini-flash-latest$/, { budget: { min: 1, max: 24_576, off: true } }],
];

/** The thinking settings a model takes; `{}` for an unknown model (values are sent as asked). */
export function geminiThinkingRange(modelId: string | undefined): GeminiThinkingRange {
  if (!modelId) return {};
  const written = modelId.trim().toLowerCase().split('/').pop() ?? '';
  const alias = ALIASES.find(([re]) => re.test(written));
  if (alias) return alias[1];
  const id = normalizeModelId(modelId);
  return MODELS.find(([re]) => re.test(id))?.[1] ?? {};
}

/** True unless the model id names a Gemini model without thinking (`NO_THINKING`); unknown ids are assumed to think. */
export function geminiModelThinks(modelId: string): boolean {
  return !NO_THINKING.test(normalizeModelId(modelId));
}

/**
 * Gemini 3 and later (the models that take `thinkingLevel`) refuse a function call of the current turn without its
 * thought signature (Google's "Thought signatures" guide). Google's moving aliases are not counted (`ALIASES`).
 */
export function geminiRequiresThoughtSignatures(modelId: string | undefined): boolean {
  return geminiThinkingRange(modelId).levels !== undefined;
}

const LEVEL_ORDER: readonly GeminiThinkingLevel[] = ['minimal', 'low', 'medium', 'high'];

/** An effort's level: `none` is the model's lowest; otherwise the level itself, else the nearest it takes at or above it (xhigh, max: high). */
export function geminiThinkingLevel(effort: ReasoningEffort, levels: readonly GeminiThinkingLevel[] = LEVEL_ORDER): GeminiThinkingLevel {
  if (effort === 'none') return levels[0] ?? 'minimal';
  const wanted = effort === 'xhigh' || effort === 'max' ? 'high' : effort;
  const from = LEVEL_ORDER.indexOf(wanted);
  return LEVEL_ORDER.slice(from).find((l) => levels.includes(l)) ?? levels[levels.length - 1] ?? wanted;
}

/** A budget within the model's range: 0 stays 0 where thinking can be turned off, else becomes the minimum; others are clamped. */
export function geminiThinkingBudget(budget: number, range: GeminiThinkingRange['budget']): number {
  if (!range) return budget;
  if (budget === 0 && range.off) return 0;
  return Math.min(Math.max(budget, range.min), range.max);
}
