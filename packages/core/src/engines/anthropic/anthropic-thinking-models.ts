import { normalizeModelId } from '../../pricing/model-id.js';

/**
 * Claude models without extended thinking: Claude 3.5 and earlier (`claude-3-5-sonnet`, `claude-3-5-haiku`,
 * `claude-3-opus`, `claude-3-haiku`, `claude-2.1`, `claude-instant-1.2`). Extended thinking came with Claude
 * 3.7 Sonnet and every Claude 4 model has it (https://platform.claude.com/docs/en/build-with-claude/extended-thinking,
 * "Supported models"). An id not listed here (a newer model, a proxy's own name) is assumed to think.
 */
const NO_THINKING = /^claude-(?:instant|2|3-(?:5-)?(?:haiku|sonnet|opus))(?:[.-]|$)/;

/**
 * Models that take only adaptive thinking (`thinking: { type: "adaptive" }` with `output_config.effort`) and
 * answer 400 to `{ type: "enabled", budget_tokens }` and to `{ type: "disabled" }`: Claude Opus 4.7 and later
 * Opus 4.x, Claude Mythos and Fable (all versions, Mythos Preview included), and every Claude 5 model
 * (`claude-opus-5`, `claude-sonnet-5`, `claude-haiku-5-5`...; the newer ids of @anthropic-ai/sdk 1.14's `Model`
 * union). Source: AWS Bedrock's Claude guide, "Adaptive thinking"
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html): "Claude Mythos
 * 5, Claude Fable 5, Claude Opus 4.7, and Claude Mythos Preview only support adaptive thinking. Manual extended
 * thinking [...] and disabled thinking [...] are not supported on these models and will return a 400 error."
 * Claude 5 models the guide lists as adaptive without saying "only" are treated as adaptive-only too: adaptive is
 * what they document, so it is the form that cannot fail.
 */
const ADAPTIVE_ONLY = /^claude-(?:opus-4-(?:[7-9]|\d{2,})|mythos|fable|(?:opus|sonnet|haiku)-(?:[5-9]|\d{2,}))(?:[.-]|$)/;

/**
 * Thinking models without adaptive thinking ("Older models (Claude Sonnet 4.5, Claude Opus 4.5, etc.) do not
 * support adaptive thinking and require thinking.type: "enabled" with budget_tokens", same guide): Claude 3.7
 * Sonnet and Claude 4 up to 4.5. Claude Opus 4.6 and Sonnet 4.6 take both forms (manual is deprecated there), as
 * is assumed of an unknown id.
 */
const MANUAL_ONLY = /^claude-(?:3-7-sonnet|(?:opus|sonnet|haiku)-4(?:-[0-5])?)(?![.-]?\d)/;

/**
 * How a Claude model takes thinking: `none` (no extended thinking), `manual` (`enabled` with a budget only),
 * `both` (manual and adaptive: Opus/Sonnet 4.6, unknown ids), `adaptive` (adaptive only).
 */
export type AnthropicThinkingMode = 'none' | 'manual' | 'both' | 'adaptive';

/** The thinking forms the model id takes (prefixes, dates and Bedrock versions ignored). */
export function anthropicThinkingMode(modelId: string): AnthropicThinkingMode {
  const id = normalizeModelId(modelId);
  if (NO_THINKING.test(id)) return 'none';
  if (ADAPTIVE_ONLY.test(id)) return 'adaptive';
  if (MANUAL_ONLY.test(id)) return 'manual';
  return 'both';
}

/** True unless the model id (prefixes, dates and Bedrock versions ignored) names a Claude model without extended thinking. */
export function anthropicModelThinks(modelId: string): boolean {
  return anthropicThinkingMode(modelId) !== 'none';
}
