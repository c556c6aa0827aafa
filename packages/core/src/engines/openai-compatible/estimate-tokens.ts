import { messageText, type GenerateRequest } from '../../spec/messages.js';

/** Characters per token assumed by the estimate (English text, OpenAI-style BPE tokenizers). */
const CHARS_PER_TOKEN = 4;

/** Rough token count of `chars` characters. Only used when a provider reports no usage; results are marked `estimated`. */
export function estimateTokensFromLength(chars: number): number {
  return chars <= 0 ? 0 : Math.ceil(chars / CHARS_PER_TOKEN);
}

/** Rough token count of a text (about 4 characters per token). */
export function estimateTokens(text: string): number {
  return estimateTokensFromLength(text.length);
}

/** Rough prompt token count of a request: message texts, tool-call arguments and tool definitions, ~4 chars/token. */
export function estimatePromptTokens(request: GenerateRequest): number {
  let chars = 0;
  for (const m of request.messages) {
    chars += messageText(m).length;
    if (m.role === 'assistant') for (const c of m.toolCalls ?? []) chars += c.name.length + c.arguments.length;
  }
  if (request.tools?.length) chars += JSON.stringify(request.tools).length;
  return estimateTokensFromLength(chars);
}
