import type { FinishReason, RouterResult, ToolCall } from '@llmrr/core';
import { llmrrInfo } from '../http/llmrr-info.js';
import { answerUsage } from '../schemas/answer-usage.js';
import type { AnthropicMessage } from '../schemas/anthropic-messages.js';
import { toAnthropicUsage } from './usage.js';

export type AnthropicStopReason = NonNullable<AnthropicMessage['stop_reason']>;

/**
 * The answer's `stop_reason` and `stop_sequence`: `stop_sequence` with the sequence where the engine said which one
 * the answer stopped on (an Anthropic deployment; OpenAI-compatible and Gemini deployments do not say, so their
 * stop on a sequence is `end_turn`); `refusal` for an answer that ended on the model's refusal (`refusal`, an OpenAI
 * model's `message.refusal`, which finishes `stop` on its wire), as Anthropic's own refusals end; else the finish
 * reason's.
 */
export function toAnthropicStop(answer: { finishReason: FinishReason; stopSequence?: string | undefined }, refusal?: string | undefined): { stop_reason: AnthropicStopReason; stop_sequence: string | null } {
  if (answer.finishReason === 'stop') {
    if (typeof answer.stopSequence === 'string') return { stop_reason: 'stop_sequence', stop_sequence: answer.stopSequence };
    if (refusal) return { stop_reason: 'refusal', stop_sequence: null };
  }
  return { stop_reason: toAnthropicStopReason(answer.finishReason), stop_sequence: null };
}

export function toAnthropicStopReason(reason: FinishReason): AnthropicStopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool-calls':
      return 'tool_use';
    case 'content-filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export function messageId(requestId: string): string {
  return `msg_${requestId}`;
}

/** Tool arguments as an object (Anthropic sends `input` as JSON, not text). Unparseable text is kept under `_raw`. */
export function toolInput(call: ToolCall): unknown {
  if (call.arguments.trim() === '') return {};
  try {
    return JSON.parse(call.arguments);
  } catch {
    return { _raw: call.arguments };
  }
}

/**
 * The answer's reasoning as thinking blocks: its reasoning parts (signed `thinking`, `redacted_thinking`) as the
 * provider gave them, else its reasoning text as one unsigned `thinking` block (`signature: ""`: a model that
 * does not sign its reasoning; no deployment is sent such a block back).
 */
export function thinkingBlocks(result: Pick<RouterResult, 'reasoning' | 'reasoningParts'>): AnthropicMessage['content'] {
  if (result.reasoningParts) {
    return result.reasoningParts.map((p) =>
      p.redactedData !== undefined ? { type: 'redacted_thinking', data: p.redactedData } : { type: 'thinking', thinking: p.text, signature: p.signature ?? '' },
    );
  }
  return result.reasoning ? [{ type: 'thinking', thinking: result.reasoning, signature: '' }] : [];
}

/**
 * A router result as an Anthropic `message`: thinking blocks first, then the text (a refusal, which the wire has no
 * field for, as text after it, as the streamed answer sends it), then the tool calls. An answer with none of them
 * is `content: []`, as Anthropic answers it and as the streamed answer has it (no block opened): not an empty text
 * block, which Anthropic refuses when a client sends the turn back ("text content blocks must be non-empty").
 */
export function toAnthropicMessage(result: RouterResult, options: { explain: boolean }): AnthropicMessage {
  const content = thinkingBlocks(result);
  const text = result.text + (result.refusal ?? '');
  if (text !== '') content.push({ type: 'text', text });
  for (const c of result.toolCalls) content.push({ type: 'tool_use', id: c.id, name: c.name, input: toolInput(c) });
  return {
    id: messageId(result.requestId),
    type: 'message',
    role: 'assistant',
    model: result.deployment,
    content,
    ...toAnthropicStop(result, result.refusal),
    usage: toAnthropicUsage(answerUsage(result)),
    llmrr: llmrrInfo(result, options.explain),
  };
}
