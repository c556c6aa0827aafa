import type { TokenLogprob, TopLogprob } from '../../spec/logprobs.js';
import type { OpenAITokenLogprob } from './openai-wire-schemas.js';

type WireTop = { token: string; logprob: number; bytes?: number[] | null | undefined };

function top(t: WireTop): TopLogprob {
  return t.bytes != null ? { token: t.token, logprob: t.logprob, bytes: t.bytes } : { token: t.token, logprob: t.logprob };
}

/**
 * `logprobs.content[]` of a chat completion or stream chunk -> our `TokenLogprob[]`, in order: `bytes` and
 * `topLogprobs` only where the provider sent them (an empty `top_logprobs`, which OpenAI sends when none were
 * asked for, is left out).
 */
export function convertOpenAILogprobs(content: readonly OpenAITokenLogprob[]): TokenLogprob[] {
  const out: TokenLogprob[] = [];
  for (const t of content) {
    const token: TokenLogprob = top(t);
    if (t.top_logprobs != null && t.top_logprobs.length > 0) token.topLogprobs = t.top_logprobs.map(top);
    out.push(token);
  }
  return out;
}
