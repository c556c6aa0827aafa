import type { TokenLogprob } from '../../spec/logprobs.js';
import { convertOpenAILogprobs } from './convert-openai-logprobs.js';
import { isOpenAIChoiceLogprobs } from './is-openai-choice-logprobs.js';
import type { OpenAITokenLogprob } from './openai-wire-schemas.js';

/**
 * The trailing tokens of `content` whose texts joined are `text`, or undefined when no run of trailing tokens
 * makes it exactly. Linear: lengths are summed first, the one candidate joined once.
 */
function trailingTokens(content: readonly OpenAITokenLogprob[], text: string): readonly OpenAITokenLogprob[] | undefined {
  let length = 0;
  let start = content.length;
  while (start > 0 && length < text.length) length += content[--start]!.token.length;
  if (length !== text.length) return undefined;
  let joined = '';
  for (let i = start; i < content.length; i++) joined += content[i]!.token;
  return joined === text ? content.slice(start) : undefined;
}

/**
 * The answer's log probabilities from a choice's `logprobs` (a JSON answer's, or one stream chunk's), or undefined
 * for none:
 * - a `logprobs` that is not `OpenAIChoiceLogprobsSchema`'s shape gives none (`malformed` is called, if given):
 *   an answer never fails over it;
 * - an absent, null or empty `content` gives none (`logprobs.refusal`, the tokens of a refusal, is never read);
 * - `reasoning` (the answer, or the chunk, carries reasoning text): servers with a reasoning parser (vLLM's
 *   `--reasoning-parser`) list the reasoning's tokens in the same `content`, before the answer's. Only the trailing
 *   tokens whose texts joined are exactly `text` are the answer's; when no such run exists (or `text` is empty),
 *   none, rather than reasoning tokens counted as the answer's.
 * Without `reasoning` every token is returned, in order (a token may hold part of a character, so its text need not
 * be the answer's text exactly).
 */
export function openAIAnswerLogprobs(value: unknown, text: string, reasoning: boolean, malformed?: () => void): TokenLogprob[] | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isOpenAIChoiceLogprobs(value)) {
    malformed?.();
    return undefined;
  }
  const content = value?.content;
  if (!content || content.length === 0) return undefined;
  const tokens = reasoning ? trailingTokens(content, text) : content;
  return tokens && tokens.length > 0 ? convertOpenAILogprobs(tokens) : undefined;
}
