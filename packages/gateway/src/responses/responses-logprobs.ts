import type { TokenLogprob, TopLogprob } from '@llmrr/core';

/** A token in a Responses `output_text` part's `logprobs` (and its candidates): `bytes` always an array. */
export interface OutputTextLogprob {
  token: string;
  bytes: number[];
  logprob: number;
  top_logprobs: Array<{ token: string; bytes: number[]; logprob: number }>;
}

/** A token in a `response.output_text.delta` / `.done` event's `logprobs` (no bytes there, as OpenAI sends them). */
export interface TextEventLogprob {
  token: string;
  logprob: number;
  top_logprobs: Array<{ token: string; logprob: number }>;
}

const utf8 = new TextEncoder();

/** The provider's bytes, else the token's own UTF-8 (the Responses shape has no null for unknown bytes). */
function bytesOf(t: TopLogprob): number[] {
  return t.bytes ?? Array.from(utf8.encode(t.token));
}

/** Tokens as an `output_text` part's `logprobs` (`top_logprobs` [] when none). */
export function toOutputTextLogprobs(tokens: readonly TokenLogprob[]): OutputTextLogprob[] {
  return tokens.map((t) => ({
    token: t.token,
    bytes: bytesOf(t),
    logprob: t.logprob,
    top_logprobs: t.topLogprobs ? t.topLogprobs.map((c) => ({ token: c.token, bytes: bytesOf(c), logprob: c.logprob })) : [],
  }));
}

/** Tokens as the text events' `logprobs`. */
export function toTextEventLogprobs(tokens: readonly TokenLogprob[]): TextEventLogprob[] {
  return tokens.map((t) => ({
    token: t.token,
    logprob: t.logprob,
    top_logprobs: t.topLogprobs ? t.topLogprobs.map((c) => ({ token: c.token, logprob: c.logprob })) : [],
  }));
}
