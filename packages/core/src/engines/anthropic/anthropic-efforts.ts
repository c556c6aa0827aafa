import { normalizeModelId } from '../../pricing/model-id.js';
import type { ReasoningEffort } from '../../spec/reasoning.js';

/** `output_config.effort` values (@anthropic-ai/sdk 1.14 OutputConfig: low, medium, high, xhigh, max), lowest first. */
export const ANTHROPIC_EFFORT_LEVELS = ['low', 'medium', 'high', 'xhigh', 'max'] as const;
export type AnthropicEffort = (typeof ANTHROPIC_EFFORT_LEVELS)[number];

/** Our effort -> `output_config.effort`: `minimal` has no Anthropic level and becomes `low`; `none` sends no thinking at all. */
export const ANTHROPIC_EFFORTS: Readonly<Record<Exclude<ReasoningEffort, 'none'>, AnthropicEffort>> = {
  minimal: 'low',
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'xhigh',
  max: 'max',
};

/**
 * The `output_config.effort` levels each model takes, first match wins (ids normalized: prefixes, dates and
 * Bedrock versions ignored). Anthropic's effort guide (https://platform.claude.com/docs/en/build-with-claude/effort,
 * "Effort levels", per level "Available on"): `xhigh` only on Claude Fable 5, Mythos 5, Opus 5, Opus 4.8, Opus 4.7
 * and Sonnet 5; `max` on those and on Mythos Preview, Opus 4.6 and Sonnet 4.6 ("xhigh is a newer level; some
 * models that take max do not take xhigh yet"); Opus 4.5 takes low, medium, high. A model outside the table (a
 * newer Claude, a proxy's own name) is sent the level as asked.
 */
const LEVELS: ReadonlyArray<readonly [RegExp, readonly AnthropicEffort[]]> = [
  [/^claude-(?:opus-4-6|sonnet-4-6|mythos-preview)(?:-|$)/, ['low', 'medium', 'high', 'max']],
  [/^claude-opus-4-5(?:-|$)/, ['low', 'medium', 'high']],
  [/^claude-(?:opus-4-[78]|(?:fable|mythos|opus|sonnet)-5)(?:-|$)/, ['low', 'medium', 'high', 'xhigh', 'max']],
];

/** The levels a model takes (lowest first), or undefined when it is not in the table (send as asked). */
export function anthropicEffortLevels(modelId: string): readonly AnthropicEffort[] | undefined {
  const id = normalizeModelId(modelId);
  return LEVELS.find(([re]) => re.test(id))?.[1];
}

/**
 * The `output_config.effort` to send for our effort: its Anthropic level (`ANTHROPIC_EFFORTS`) when the model takes
 * it, else the nearest level the model has that is not above it (`xhigh` -> `high` on Opus 4.6, Sonnet 4.6 and
 * Mythos Preview, although they have `max`: asking for more than `xhigh` would spend more than the caller asked;
 * `xhigh` and `max` -> `high` on Opus 4.5), else the model's lowest.
 */
export function anthropicEffort(modelId: string, effort: Exclude<ReasoningEffort, 'none'>): AnthropicEffort {
  const level = ANTHROPIC_EFFORTS[effort];
  const takes = anthropicEffortLevels(modelId);
  if (!takes || takes.length === 0 || takes.includes(level)) return level;
  const at = ANTHROPIC_EFFORT_LEVELS.indexOf(level);
  const below = ANTHROPIC_EFFORT_LEVELS.slice(0, at).reverse().find((l) => takes.includes(l));
  return below ?? takes[0]!;
}
