import type { TokenLogprob, TopLogprob } from '../../spec/logprobs.js';

/**
 * The log probability of `token` and, with `top` > 0, of the `top` most likely tokens (most likely first, the
 * lower id first on ties), from one row of the model's logits: log-softmax at temperature 1, the model's own
 * distribution before temperature, top-k and top-p shape the sampling (as OpenAI reports them). `text` gives a
 * token's text (the tokenizer's decoding of that one id).
 */
export function tokenLogprob(logits: ArrayLike<number>, token: number, top: number, text: (id: number) => string): TokenLogprob {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  const result: TokenLogprob = { token: text(token), logprob: logits[token]! - logZ };
  if (top > 0) {
    const best = topIds(logits, Math.min(top, n));
    result.topLogprobs = best.map((id): TopLogprob => ({ token: text(id), logprob: logits[id]! - logZ }));
  }
  return result;
}

/** The ids of the `k` largest logits, largest first (lower id first on ties), in one pass keeping a sorted list of k. */
function topIds(logits: ArrayLike<number>, k: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (ids.length === k && v <= logits[ids[k - 1]!]!) continue;
    let at = ids.length;
    while (at > 0 && logits[ids[at - 1]!]! < v) at--;
    ids.splice(at, 0, i);
    if (ids.length > k) ids.pop();
  }
  return ids;
}
