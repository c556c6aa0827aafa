import type { TokenLogprob, TopLogprob } from '@llmrr/core';
import type { OpenAIChatLogprobs, OpenAIChatTokenLogprob, OpenAICompletionLogprobs } from '../schemas/openai-logprobs.js';

/** One candidate in OpenAI's chat shape (`bytes` null when the provider gave none). */
function chatTop(t: TopLogprob): OpenAIChatTokenLogprob['top_logprobs'][number] {
  return { token: t.token, logprob: t.logprob, bytes: t.bytes ?? null };
}

/** Tokens as chat completions' `logprobs.content`: `bytes` null when unknown, `top_logprobs` [] when none. */
export function toChatLogprobs(tokens: readonly TokenLogprob[]): OpenAIChatLogprobs {
  const content: OpenAIChatTokenLogprob[] = [];
  for (const t of tokens) content.push({ token: t.token, logprob: t.logprob, bytes: t.bytes ?? null, top_logprobs: t.topLogprobs ? t.topLogprobs.map(chatTop) : [] });
  return { content, refusal: null };
}

/** Characters as Python counts them (code points), which is how OpenAI's `text_offset` counts. */
export function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Candidates as one object token -> logprob (the most likely first wins a repeated token); no prototype. */
function topObject(top: readonly TopLogprob[] | undefined): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  if (top) for (const t of top) if (!(t.token in out)) out[t.token] = t.logprob;
  return out;
}

/**
 * Tokens as legacy completions' `logprobs`: parallel `tokens`, `token_logprobs`, `top_logprobs` (one object per
 * token, token -> logprob; null when no token has candidates, as when `logprobs: 0` was asked) and `text_offset`
 * (each token's start, in characters, counting on from `offset`: OpenAI counts from the start of the prompt,
 * echoed or not, so the caller passes the prompt's length for the first token). Returns the offset after the last
 * token, for the next chunk of a stream.
 */
export function toCompletionLogprobs(tokens: readonly TokenLogprob[], offset = 0): { logprobs: OpenAICompletionLogprobs; end: number } {
  const logprobs: OpenAICompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: null, text_offset: [] };
  let anyTop = false;
  for (const t of tokens) if (t.topLogprobs && t.topLogprobs.length > 0) anyTop = true;
  const top: Record<string, number>[] = [];
  for (const t of tokens) {
    logprobs.tokens.push(t.token);
    logprobs.token_logprobs.push(t.logprob);
    logprobs.text_offset.push(offset);
    if (anyTop) top.push(topObject(t.topLogprobs));
    offset += codePoints(t.token);
  }
  if (anyTop) logprobs.top_logprobs = top;
  return { logprobs, end: offset };
}
