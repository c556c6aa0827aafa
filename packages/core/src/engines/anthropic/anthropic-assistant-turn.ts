import type { ChatMessage, ReasoningPart } from '../../spec/messages.js';

type AssistantMessage = Extract<ChatMessage, { role: 'assistant' }>;

/**
 * Whether a reasoning part is sent back to Anthropic: a signed one (`thinking` with its `signature`) or a redacted
 * one (`redacted_thinking`). A part with neither (another provider's reasoning, the gateway's `thinking` block with
 * `signature: ""`) cannot be verified by Anthropic and is left out.
 */
export function isSentReasoning(part: ReasoningPart): boolean {
  return part.redactedData !== undefined || Boolean(part.signature);
}

/**
 * Whether an assistant message's text is sent as a text block: not when empty or only white space (a model's "\n\n"
 * before its tool calls, given back), which Anthropic refuses ("text content blocks must contain non-whitespace text").
 */
export function isSentAssistantText(content: string | null | undefined): content is string {
  return typeof content === 'string' && content.trim() !== '';
}

/**
 * Whether the converter sends an assistant message as a turn: it has a reasoning part that is sent
 * (`isSentReasoning`), text that is sent (`isSentAssistantText`) or a tool call. One with none of them carries
 * nothing, and Anthropic refuses empty content: it is left out, so it is neither the conversation's last turn nor a
 * prefill. The one rule the converter (`convertToAnthropicRequest`) and the prefill refusal
 * (`trailingAssistantIndex`) both go by; tolerant of malformed input (the converter refuses that with its own errors).
 */
export function isSentAssistantTurn(message: AssistantMessage): boolean {
  if (Array.isArray(message.reasoning) && message.reasoning.some((p) => p?.type === 'reasoning' && isSentReasoning(p))) return true;
  return isSentAssistantText(message.content) || (Array.isArray(message.toolCalls) && message.toolCalls.length > 0);
}
