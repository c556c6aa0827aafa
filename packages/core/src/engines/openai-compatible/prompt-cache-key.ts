import { LLMError } from '../../errors/llm-error.js';
import { fnv1a64 } from '../../util/fnv1a64.js';

/**
 * OpenAI's limit on `prompt_cache_key`: a longer key is a 400 (`Invalid 'prompt_cache_key': string too long.
 * Expected a string with maximum length 64`, code `string_above_max_length`). A longer key is sent shortened to
 * this length (`openAIPromptCacheKey`), never refused.
 */
export const PROMPT_CACHE_KEY_MAX_LENGTH = 64;

/** Code points of a long key kept as they are; then ':' and 16 hex digits of its hash (47 + 1 + 16 = 64). */
const KEPT = PROMPT_CACHE_KEY_MAX_LENGTH - 17;

/**
 * A key of at most 64 code points as it is; a longer one as its first 47 code points (a surrogate pair is one:
 * never cut), ':' and the FNV-1a 64 hash of the whole key in hex: 64 code points, the same for the same key,
 * different for long keys that differ anywhere (up to the hash), readable where they share a prefix.
 */
export function shortPromptCacheKey(key: string): string {
  if (key.length <= PROMPT_CACHE_KEY_MAX_LENGTH) return key;
  // Code points (what for...of yields): only for keys over 64 UTF-16 units, bounded by the request's size.
  const points = [...key];
  if (points.length <= PROMPT_CACHE_KEY_MAX_LENGTH) return key;
  return `${points.slice(0, KEPT).join('')}:${fnv1a64(key)}`;
}

function invalid(message: string): LLMError {
  return new LLMError({ code: 'invalid_request', message: `promptCacheKey: ${message}`, param: 'promptCacheKey', provider: 'openai-compatible' });
}

/**
 * The request's `promptCacheKey` as the body's `prompt_cache_key`, or undefined: sent only where `send` (the
 * endpoint's `promptCacheKey`: OpenAI documents the field; other OpenAI-compatible servers may refuse an
 * unknown field). A key that is not a string is refused everywhere. A key over 64 code points is a hint too
 * long for OpenAI, not an error: where it is sent, it goes out shortened (`shortPromptCacheKey`). An empty key
 * is no key.
 */
export function openAIPromptCacheKey(key: unknown, send: boolean): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== 'string') throw invalid(`expected a string, got ${key === null ? 'null' : typeof key}`);
  if (!send || key === '') return undefined;
  return shortPromptCacheKey(key);
}
