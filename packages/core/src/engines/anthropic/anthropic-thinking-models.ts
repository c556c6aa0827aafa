import { normalizeModelId } from '../../pricing/model-id.js';

/**
 * Claude models without extended thinking: Claude 3.5 and earlier (`claude-3-5-sonnet`, `claude-3-5-haiku`,
 * `claude-3-opus`, `claude-3-haiku`, `claude-2.1`, `claude-instant-1.2`). Extended thinking came with Claude
 * 3.7 Sonnet and every Claude 4 model has it (https://platform.claude.com/docs/en/build-with-claude/extended-thinking,
 * "Supported models"). An id not listed here (a newer model, a proxy's own name) is assumed to think.
 */
const NO_THINKING = /^claude-(?:instant|2|3-(?:5-)?(?:haiku|sonnet|opus))(?:[.-]|$)/;

/** True unless the model id (prefixes, dates and Bedrock versions ignored) names a Claude model without extended thinking. */
export function anthropicModelThinks(modelId: string): boolean {
  return !NO_THINKING.test(normalizeModelId(modelId));
}
