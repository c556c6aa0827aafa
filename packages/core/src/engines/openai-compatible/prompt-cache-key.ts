import { LLMError } from '../../errors/llm-error.js';

/**
 * OpenAI's limit on `prompt_cache_key`: a longer key is a 400 (`Invalid 'prompt_cache_key': string too long.
 * Expected a string with maximum length 64`, code `string_above_max_length`). The gateway bounds the field by it.
 */
export const PROMPT_CACHE_KEY_MAX_LENGTH = 64;

/** Characters counted as the gateway's schema (zod) counts them: code points, a surrogate pair is one. */
function characters(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function invalid(message: string): LLMError {
  return new LLMError({ code: 'invalid_request', message: `promptCacheKey: ${message}`, param: 'promptCacheKey', provider: 'openai-compatible' });
}

/**
 * The request's `promptCacheKey` as the body's `prompt_cache_key`, or undefined: sent only where `send` (the
 * endpoint's `promptCacheKey`: OpenAI documents the field; other OpenAI-compatible servers may refuse an
 * unknown field). A key that is not a string is refused everywhere; one over 64 characters where it would be
 * sent (in code points, as the gateway counts; before the call, naming the field, instead of OpenAI's 400).
 * An empty key is no key.
 */
export function openAIPromptCacheKey(key: unknown, send: boolean): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== 'string') throw invalid(`expected a string, got ${key === null ? 'null' : typeof key}`);
  if (!send || key === '') return undefined;
  if (key.length <= PROMPT_CACHE_KEY_MAX_LENGTH) return key;
  const length = characters(key);
  if (length > PROMPT_CACHE_KEY_MAX_LENGTH) throw invalid(`${length} characters; OpenAI takes at most ${PROMPT_CACHE_KEY_MAX_LENGTH}`);
  return key;
}
