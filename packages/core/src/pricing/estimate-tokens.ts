import type { ChatMessage, GenerateRequest } from '../spec/index.js';

/**
 * Token ESTIMATES, for routing (context-window checks, cost forecasts) and for usage when a provider
 * reports none (then marked `estimated`). Not a tokenizer: real counts differ by model and by kind of text
 * (code, numbers and rare scripts tokenize worse than English prose).
 *
 * Rule: Han, Hiragana, Katakana and Hangul characters count ~1 token each; everything else ~4 characters
 * per token (OpenAI's rule of thumb for English).
 */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;

export const CHARS_PER_TOKEN = 4;
/** Framing per chat message (OpenAI documents 3 per message; the role name adds about one). */
export const TOKENS_PER_MESSAGE = 4;
/** Priming of the assistant's reply. */
export const TOKENS_PER_REPLY = 3;
/** Per tool definition, beyond its JSON text. */
export const TOKENS_PER_TOOL = 8;
/** An image part: OpenAI's published base cost of a low-detail image; high-detail images cost more. */
export const TOKENS_PER_IMAGE = 85;

/** Estimated tokens of a text (see the rule above). `''` is 0. */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  const cjk = text.match(CJK)?.length ?? 0;
  // `length` counts UTF-16 units; astral CJK (2 units, matched once) leave one unit in `rest`: negligible.
  const rest = Math.max(0, text.length - cjk);
  return cjk + Math.ceil(rest / CHARS_PER_TOKEN);
}

function messageTokens(message: ChatMessage): number {
  let n = TOKENS_PER_MESSAGE;
  const content = message.content;
  if (typeof content === 'string') n += estimateTokens(content);
  else if (Array.isArray(content)) {
    for (const part of content) n += part.type === 'text' ? estimateTokens(part.text) : TOKENS_PER_IMAGE;
  }
  if ('name' in message && message.name) n += estimateTokens(message.name);
  if (message.role === 'assistant' && message.toolCalls) {
    for (const call of message.toolCalls) n += TOKENS_PER_MESSAGE + estimateTokens(call.name) + estimateTokens(call.arguments);
  }
  return n;
}

/** Estimated prompt tokens of a request: messages (with per-message framing), tool definitions, reply priming. */
export function estimateRequestTokens(request: GenerateRequest): number {
  let n = TOKENS_PER_REPLY;
  for (const message of request.messages) n += messageTokens(message);
  for (const tool of request.tools ?? []) {
    n += TOKENS_PER_TOOL + estimateTokens(JSON.stringify({ name: tool.name, description: tool.description, parameters: tool.parameters }));
  }
  if (request.responseFormat?.type === 'json_schema') n += estimateTokens(JSON.stringify(request.responseFormat.schema));
  return n;
}
