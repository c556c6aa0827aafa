import { LLMError } from '../../errors/llm-error.js';
import type { ChatMessage, ContentPart, ReasoningPart } from '../../spec/messages.js';

export type OpenAIContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export type OpenAIMessage =
  | { role: 'system'; content: string; name?: string }
  | { role: 'user'; content: string | OpenAIContentPart[]; name?: string }
  | {
      role: 'assistant';
      content: string | null;
      name?: string;
      tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
      reasoning_content?: string;
      /** DeepSeek's chat prefix completion: the last message is a prefix to continue (`options.prefill: "prefix"`). */
      prefix?: true;
    }
  | { role: 'tool'; tool_call_id: string; content: string };

function invalid(message: string, param: string): LLMError {
  return new LLMError({ code: 'invalid_request', message, param, provider: 'openai-compatible' });
}

function convertPart(part: ContentPart, param: string): OpenAIContentPart {
  if (part.type === 'text') return { type: 'text', text: part.text };
  if (part.url) return { type: 'image_url', image_url: { url: part.url } };
  if (part.data) {
    if (!part.mediaType) throw invalid(`${param}.mediaType is required for base64 image data (e.g. "image/png")`, `${param}.mediaType`);
    return { type: 'image_url', image_url: { url: `data:${part.mediaType};base64,${part.data}` } };
  }
  throw invalid(`${param}: an image needs a url or base64 data`, param);
}

/** The text of a turn's reasoning parts (encrypted blocks have none), or undefined when there is none. */
function reasoningText(parts: readonly ReasoningPart[] | undefined): string | undefined {
  if (parts === undefined) return undefined;
  let text = '';
  for (const part of parts) text += part.text;
  return text === '' ? undefined : text;
}

/**
 * Which messages sit in a tool span: the messages between two user messages (or before the first, or after the last)
 * when an assistant turn among them has tool calls. Undefined when there is none (no allocation then).
 */
function toolSpans(messages: readonly ChatMessage[]): boolean[] | undefined {
  let spans: boolean[] | undefined;
  let start = 0;
  let tools = false;
  for (let i = 0; i <= messages.length; i++) {
    const message = messages[i];
    if (message === undefined || message.role === 'user') {
      if (tools) {
        spans ??= new Array<boolean>(messages.length).fill(false);
        spans.fill(true, start, i);
      }
      start = i + 1;
      tools = false;
    } else if (message.role === 'assistant' && (message.toolCalls?.length ?? 0) > 0) tools = true;
  }
  return spans;
}

/**
 * Our chat messages -> OpenAI `messages` (images as `image_url` parts, tool calls and results). `reasoningContent`:
 * DeepSeek's thinking mode wants back the reasoning of every assistant turn between two user messages when tool
 * calls happened between them (the tool turns and the text answer after the results), and refuses the request
 * without the field on each: every assistant turn of such a span carries its reasoning parts' text as
 * `reasoning_content`, `""` when it has none (a turn another provider answered, a redacted or signature-only block:
 * DeepSeek sends and takes `""` for a turn it did not reason on). Other turns, and without `reasoningContent` every
 * turn, go without it (reasoning parts are not sent). `names`: send the messages' author `name` (false where the
 * provider refuses the field: `ResolvedEndpoint.messageNames`, whose warnings say so).
 */
export function convertToOpenAIMessages(messages: readonly ChatMessage[], reasoningContent = false, names = true): OpenAIMessage[] {
  const spans = reasoningContent ? toolSpans(messages) : undefined;
  return messages.map((message, i): OpenAIMessage => {
    const param = `messages.${i}`;
    switch (message.role) {
      case 'system':
        return message.name && names ? { role: 'system', content: message.content, name: message.name } : { role: 'system', content: message.content };
      case 'user': {
        const content =
          typeof message.content === 'string'
            ? message.content
            : message.content.map((part, j) => convertPart(part, `${param}.content.${j}`));
        return message.name && names ? { role: 'user', content, name: message.name } : { role: 'user', content };
      }
      case 'assistant': {
        const calls = message.toolCalls ?? [];
        const reasoning = spans?.[i] ? (reasoningText(message.reasoning) ?? '') : undefined;
        const name = message.name && names ? { name: message.name } : undefined;
        if (calls.length === 0) {
          const content = message.content ?? '';
          if (name) return reasoning !== undefined ? { role: 'assistant', content, ...name, reasoning_content: reasoning } : { role: 'assistant', content, ...name };
          return reasoning !== undefined ? { role: 'assistant', content, reasoning_content: reasoning } : { role: 'assistant', content };
        }
        return {
          role: 'assistant',
          content: message.content,
          ...name,
          tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
          ...(reasoning !== undefined ? { reasoning_content: reasoning } : {}),
        };
      }
      case 'tool':
        return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
      default: {
        const role = (message as { role?: unknown }).role;
        throw invalid(`${param}.role: unsupported role ${JSON.stringify(role)}`, `${param}.role`);
      }
    }
  });
}
