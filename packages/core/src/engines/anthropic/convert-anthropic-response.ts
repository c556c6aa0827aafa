import { LLMError } from '../../errors/llm-error.js';
import type { GenerateResult } from '../../spec/engine-v1.js';
import type { ReasoningPart, ToolCall } from '../../spec/messages.js';
import type { AnthropicMessageResponse } from './anthropic-api-types.js';
import { anthropicAnswerToolUseId } from './anthropic-tool-use-id.js';
import { convertAnthropicUsage } from './anthropic-usage.js';
import { mapAnthropicFinishReason } from './map-anthropic-finish-reason.js';

/**
 * A non-streamed Messages response -> our result. In JSON mode the JSON tool's input is the answer
 * (serialized as `text`) and free text around it is dropped, so `text` is always the JSON document.
 */
export function convertAnthropicResponse(
  response: unknown,
  ctx: { provider: string; deployment?: string; jsonToolName?: string },
): GenerateResult {
  if (typeof response !== 'object' || response === null || !Array.isArray((response as AnthropicMessageResponse).content)) {
    throw new LLMError({
      code: 'invalid_response',
      message: `${ctx.provider}: response has no content array`,
      provider: ctx.provider,
      deployment: ctx.deployment,
      details: response,
    });
  }
  const message = response as AnthropicMessageResponse;
  let text = '';
  let reasoning = '';
  let json: string | undefined;
  const toolCalls: ToolCall[] = [];
  const reasoningParts: ReasoningPart[] = [];
  for (const block of message.content ?? []) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'thinking') {
      reasoning += block.thinking;
      reasoningParts.push(block.signature ? { type: 'reasoning', text: block.thinking, signature: block.signature } : { type: 'reasoning', text: block.thinking });
    } else if (block.type === 'redacted_thinking') reasoningParts.push({ type: 'reasoning', text: '', redactedData: block.data ?? '' });
    else if (block.type === 'tool_use' && block.name === ctx.jsonToolName) json = JSON.stringify(block.input ?? {});
    else if (block.type === 'tool_use') toolCalls.push({ id: anthropicAnswerToolUseId(block.id, message.id, toolCalls.length), name: block.name, arguments: JSON.stringify(block.input ?? {}) });
  }
  if (ctx.jsonToolName !== undefined) text = json ?? '';
  const result: GenerateResult = {
    text,
    toolCalls,
    finishReason: mapAnthropicFinishReason(message.stop_reason, toolCalls.length > 0),
    usage: convertAnthropicUsage(message.usage),
  };
  if (message.stop_reason === 'stop_sequence' && typeof message.stop_sequence === 'string') result.stopSequence = message.stop_sequence;
  if (message.id !== undefined) result.id = message.id;
  if (message.model !== undefined) result.providerModel = message.model;
  if (reasoning !== '') result.reasoning = reasoning;
  // Signed and redacted blocks are what a next turn must give back (see ReasoningPart).
  if (reasoningParts.some((p) => p.signature !== undefined || p.redactedData !== undefined)) result.reasoningParts = reasoningParts;
  return result;
}
