import type { GenerateRequest } from '../../spec/messages.js';
import type { AnthropicMessagesRequest } from './anthropic-api-types.js';
import type { AnthropicCallWarnings } from './anthropic-call-warnings.js';

/** True when the body turns extended thinking on (`thinking` of any form but `disabled`). */
function thinks(body: AnthropicMessagesRequest): boolean {
  const thinking = body.thinking as { type?: unknown } | undefined;
  return typeof thinking === 'object' && thinking !== null && thinking.type !== 'disabled';
}

/**
 * `request.topK` -> `top_k`, unless the body thinks: Anthropic refuses `top_k` with extended thinking (manual or
 * adaptive: "Thinking isn't compatible with temperature or top_k modifications", extended-thinking guide, "Feature
 * compatibility"), and thinking the request asked for (`reasoning`) wins over the sampling cut, so `topK` is not sent
 * and a `setting_not_sent` warning says so. A `top_k` given in `providerOptions.anthropic` (`givenTopK`) is sent as
 * given (it then decides the thinking: `applyThinking` drops thinking for it) and `request.topK` is not looked at.
 * Call it after thinking is applied and the providerOptions are merged.
 */
export function applyTopK(body: AnthropicMessagesRequest, request: GenerateRequest, givenTopK: boolean, notes: AnthropicCallWarnings): void {
  const topK = request.topK;
  if (topK === undefined || givenTopK) return;
  if (thinks(body)) {
    notes.add('setting_not_sent', 'topK', 'topK was not sent: Anthropic refuses top_k with extended thinking, which this request turns on (reasoning wins over the sampling cut).');
    return;
  }
  body.top_k = topK;
}
