import type { ChatMessage, ContentPart, FinishReason, ToolCall } from '../spec/index.js';
import { genAiFinishReason } from './gen-ai-semconv.js';

/** A message part of the GenAI conventions' input/output messages JSON schemas. */
export type GenAiMessagePart =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id: string; name: string; arguments: unknown }
  | { type: 'tool_call_response'; id: string; response: unknown }
  | { type: 'blob'; modality: 'image'; mime_type: string | null; content: string }
  | { type: 'file_data'; modality: 'image'; mime_type: string | null; uri: string };

export interface GenAiInputMessage {
  role: string;
  parts: GenAiMessagePart[];
  name?: string;
}

export interface GenAiOutputMessage {
  role: 'assistant';
  parts: GenAiMessagePart[];
  finish_reason: string;
}

/** Tool arguments are JSON text; the conventions want the object when it parses (best effort). */
function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function toolCallPart(call: ToolCall): GenAiMessagePart {
  return { type: 'tool_call', id: call.id, name: call.name, arguments: parsedJson(call.arguments) };
}

function contentParts(content: string | ContentPart[] | null): GenAiMessagePart[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', content }];
  const parts: GenAiMessagePart[] = [];
  for (const p of content) {
    if (p.type === 'text') parts.push({ type: 'text', content: p.text });
    else if (p.url !== undefined) parts.push({ type: 'file_data', modality: 'image', mime_type: p.mediaType ?? null, uri: p.url });
    else if (p.data !== undefined) parts.push({ type: 'blob', modality: 'image', mime_type: p.mediaType ?? null, content: p.data });
  }
  return parts;
}

/** Our chat messages in the order sent, as `gen_ai.input.messages` (system messages included: they are part of the history). */
export function toGenAiInputMessages(messages: readonly ChatMessage[]): GenAiInputMessage[] {
  return messages.map((m): GenAiInputMessage => {
    switch (m.role) {
      case 'tool':
        return { role: 'tool', parts: [{ type: 'tool_call_response', id: m.toolCallId, response: m.content }] };
      case 'assistant':
        return { role: 'assistant', parts: [...contentParts(m.content), ...(m.toolCalls ?? []).map(toolCallPart)] };
      case 'user':
        return m.name !== undefined ? { role: 'user', parts: contentParts(m.content), name: m.name } : { role: 'user', parts: contentParts(m.content) };
      default:
        return { role: m.role, parts: contentParts(m.content) };
    }
  });
}

/**
 * One answer (text, refusal, tool calls, finish reason) as `gen_ai.output.messages`. The conventions have no refusal
 * part: a refusal is a text part after the content's (the words the model produced).
 */
export function toGenAiOutputMessages(answer: { text: string; refusal?: string; toolCalls: readonly ToolCall[]; finishReason: FinishReason }): GenAiOutputMessage[] {
  const parts: GenAiMessagePart[] = answer.text === '' ? [] : [{ type: 'text', content: answer.text }];
  if (answer.refusal) parts.push({ type: 'text', content: answer.refusal });
  for (const call of answer.toolCalls) parts.push(toolCallPart(call));
  return [{ role: 'assistant', parts, finish_reason: genAiFinishReason(answer.finishReason) }];
}
