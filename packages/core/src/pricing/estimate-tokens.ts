import type { ChatMessage, GenerateRequest } from '../spec/index.js';
import { countCjk, MAYBE_CJK } from './count-cjk.js';
import { addValue, isSkipped, MAX_LENGTH, type JsonSize } from './json-text-size.js';

/**
 * Token ESTIMATES, for routing (context-window checks, cost forecasts) and for usage when a provider
 * reports none (then marked `estimated`). Not a tokenizer: real counts differ by model and by kind of text
 * (code, numbers and rare scripts tokenize worse than English prose).
 *
 * Rule: Han, Hiragana, Katakana and Hangul characters count ~1 token each; everything else ~4 characters
 * per token (OpenAI's rule of thumb for English).
 *
 * How it is computed cheaply. The numbers are those of the plain definition, for every input: a
 * `/[\p{Script=Han}...]/gu` match count over the text, and over `JSON.stringify` of each tool definition and
 * JSON schema (estimate-tokens.equivalence.test.ts keeps that definition and holds this one to it on every
 * code point and on 20 000 generated texts and requests):
 * - No character of those scripts is below U+1100 (the exhaustive code-point test fails on a runtime where
 *   that no longer holds), so a text without a code unit >= U+1100 has none. A plain (non-Unicode) regex finds
 *   the first such unit; on a Latin-1 string V8 answers without a scan.
 * - From there, one pass over the code units classifies each code point by a table, built lazily per block
 *   of 256 code points from the Unicode-property regex itself (so it follows the runtime's Unicode version).
 * - Tool definitions and JSON schemas are measured by a walk that adds up the length `JSON.stringify` would
 *   produce (escapes included) and the script characters of its strings, without building the text (the
 *   stringify was most of the cost: the old regex already answered a Latin-1 text without a scan). Anything
 *   but plain JSON data (a `toJSON` anywhere on the way, a class instance, a boxed primitive, a bigint, a value
 *   nested 64 deep or a cycle, an array of over 100 000 items) goes to `JSON.stringify` as before, so it
 *   gives the same number or throws the same error.
 */
export const CHARS_PER_TOKEN = 4;
/** Framing per chat message (OpenAI documents 3 per message; the role name adds about one). */
export const TOKENS_PER_MESSAGE = 4;
/** Priming of the assistant's reply. */
export const TOKENS_PER_REPLY = 3;
/** Per tool definition, beyond its JSON text. */
export const TOKENS_PER_TOOL = 8;
/**
 * An image part (of a user message, or of a tool result's `parts`): OpenAI's published base cost of a low-detail
 * image; high-detail images cost more.
 */
export const TOKENS_PER_IMAGE = 85;

function tokensOf(length: number, cjk: number): number {
  // `length` counts UTF-16 units; astral CJK (2 units, counted once) leave one unit in `rest`: negligible.
  return cjk + Math.ceil(Math.max(0, length - cjk) / CHARS_PER_TOKEN);
}

/** Estimated tokens of a text (see the rule above). `''` is 0. */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  const first = text.search(MAYBE_CJK);
  return tokensOf(text.length, first < 0 ? 0 : countCjk(text, first));
}

/** `estimateTokens(JSON.stringify(value))`, without making the text where the value is plain JSON data. */
function estimateJsonTokens(value: unknown): number {
  if (isSkipped(value)) return 0; // JSON.stringify gives undefined
  const size: JsonSize = { length: 0, cjk: 0 };
  if (addValue(size, value, 0) && size.length <= MAX_LENGTH) return tokensOf(size.length, size.cjk);
  return estimateTokens(JSON.stringify(value));
}

function messageTokens(message: ChatMessage): number {
  let n = TOKENS_PER_MESSAGE;
  const content = message.content;
  if (typeof content === 'string') n += estimateTokens(content);
  else if (Array.isArray(content)) {
    for (const part of content) n += part.type === 'text' ? estimateTokens(part.text) : TOKENS_PER_IMAGE;
  }
  // A tool result's images (its `parts`; their text is in `content`): the Anthropic engine sends them.
  if (message.role === 'tool' && Array.isArray(message.parts)) {
    for (const part of message.parts) if (part?.type === 'image') n += TOKENS_PER_IMAGE;
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
    n += TOKENS_PER_TOOL + estimateJsonTokens({ name: tool.name, description: tool.description, parameters: tool.parameters });
  }
  if (request.responseFormat?.type === 'json_schema') n += estimateJsonTokens(request.responseFormat.schema);
  return n;
}
