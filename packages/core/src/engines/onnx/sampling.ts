import { topIndices } from './top-indices.js';

export { seededRandom } from '../../util/seeded-random.js';

/** Index of the largest logit (the first one on ties). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

export interface SamplingParams {
  /** 0 = greedy. */
  temperature: number;
  /** Nucleus: keep the most likely tokens whose probabilities add up to at least `topP`. */
  topP?: number | undefined;
  /** Keep only the `topK` most likely tokens (before the nucleus, as llama.cpp orders them). */
  topK?: number | undefined;
}

/**
 * Picks the next token from one row of logits: greedy at temperature 0, else softmax(logits / T)
 * restricted to the `topK` most likely tokens, then to the top-p nucleus of those (its mass counted over
 * them), sampled with `random`.
 */
export function sampleToken(logits: ArrayLike<number>, params: SamplingParams, random: () => number): number {
  if (params.temperature <= 0) return argmax(logits);
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i]! > max) max = logits[i]!;
  const probs = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.exp((logits[i]! - max) / params.temperature);
    probs[i] = p;
    sum += p;
  }
  let candidates: number[];
  const topP = params.topP ?? 1;
  const topK = params.topK !== undefined && params.topK < n ? params.topK : undefined;
  if (topP < 1 || topK !== undefined) {
    // With topK, only its k most likely are ranked (a partial selection); a nucleus alone ranks the vocabulary.
    const order = topK !== undefined ? topIndices(probs, topK) : Array.from({ length: n }, (_, i) => i).sort((x, y) => probs[y]! - probs[x]! || x - y);
    if (topK !== undefined) sum = order.reduce((acc, i) => acc + probs[i]!, 0);
    candidates = [];
    let mass = 0;
    for (const i of order) {
      candidates.push(i);
      mass += probs[i]! / sum;
      if (mass >= topP) break;
    }
  } else {
    candidates = Array.from({ length: n }, (_, i) => i);
  }
  const total = candidates.reduce((acc, i) => acc + probs[i]!, 0);
  let r = random() * total;
  for (const i of candidates) {
    r -= probs[i]!;
    if (r < 0) return i;
  }
  return candidates[candidates.length - 1]!;
}
