import type { TokenLogprob, TopLogprob } from '../../spec/logprobs.js';
import { topIndices } from './top-indices.js';

/** The lowest log probability reported (OpenAI's "very unlikely"): a logit of -Infinity has no finite log. */
const FLOOR = -9999;

/** `x`, or `FLOOR` when below it or not a number (so JSON never carries -Infinity as null). */
const floored = (x: number): number => (x > FLOOR ? x : FLOOR);

/**
 * The log probability of `token` and, with `top` > 0, of the `top` most likely tokens (most likely first, the
 * lower id first on ties), from one row of the model's logits: log-softmax at temperature 1, the model's own
 * distribution before temperature, top-k and top-p shape the sampling (as OpenAI reports them), floored at -9999.
 * `text` gives a token's text.
 */
export function tokenLogprob(logits: ArrayLike<number>, token: number, top: number, text: (id: number) => string): TokenLogprob {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  const result: TokenLogprob = { token: text(token), logprob: floored(logits[token]! - logZ) };
  if (top > 0) {
    result.topLogprobs = topIndices(logits, top).map((id): TopLogprob => ({ token: text(id), logprob: floored(logits[id]! - logZ) }));
  }
  return result;
}

