import type { OpenAIChoiceLogprobs } from './openai-wire-schemas.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNullish = (v: unknown): v is null | undefined => v === null || v === undefined;
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

function isNumbers(v: unknown): boolean {
  if (isNullish(v)) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!isNumber(v[i])) return false;
  return true;
}

function isTopLogprob(v: unknown): v is Record<string, unknown> {
  return isObject(v) && typeof v.token === 'string' && isNumber(v.logprob) && isNumbers(v.bytes);
}

/**
 * True when `value` is a `choices[].logprobs` that `OpenAIChoiceLogprobsSchema` accepts (null and absent
 * included), checked by hand (a fraction of `safeParse`'s cost): never accepts what the schema refuses. The
 * response and chunk readers do not check the field (a malformed one never fails an answer); the engine reads it
 * with this, only when the request asked for logprobs, and a value this refuses gives no logprobs.
 */
export function isOpenAIChoiceLogprobs(value: unknown): value is OpenAIChoiceLogprobs | null | undefined {
  if (isNullish(value)) return true;
  if (!isObject(value)) return false;
  const content = value.content;
  if (isNullish(content)) return true;
  if (!Array.isArray(content)) return false;
  for (let i = 0; i < content.length; i++) {
    const t: unknown = content[i];
    if (!isTopLogprob(t)) return false;
    const top = t.top_logprobs;
    if (isNullish(top)) continue;
    if (!Array.isArray(top)) return false;
    for (let j = 0; j < top.length; j++) if (!isTopLogprob(top[j])) return false;
  }
  return true;
}
