import type * as NodeLlamaCpp from 'node-llama-cpp';
import type { TokenLogprob, TopLogprob } from '../../spec/logprobs.js';
import type { LoadedGguf } from './gguf-loader.js';
import type { GgufPrompt } from './gguf-prompt.js';

/** The lowest log probability reported (OpenAI's "very unlikely"): a probability of 0 has no finite log. */
const FLOOR = -9999;

/** How many earlier answer tokens decode with each one (keeps the decoding linear in the answer's length). */
const WINDOW = 32;

function log(p: number | undefined): number {
  return p !== undefined && p > 0 ? Math.max(Math.log(p), FLOOR) : FLOOR;
}

/**
 * The log probabilities of a finished answer's `tokens` (and, with `top` > 0, of the `top` most likely tokens at each
 * position), from the model itself: `sequence` (the answer's, done generating) is cleared and the prompt and answer
 * are evaluated again in one teacher-forced pass (node-llama-cpp `controlledEvaluate`), asking at each answer position
 * for the next-token probabilities with `temperature: 0`, which leaves the model's full softmax untouched (with a
 * temperature, node-llama-cpp returns the distribution after its default top-k/top-p/min-p cuts). So they are the
 * model's probabilities, not the sampler's, as OpenAI reports them. A token's text is what it adds to the decoded
 * answer (joined, the tokens are the answer's detokenized text). The pass costs about one prompt evaluation more.
 */
export async function ggufLogprobs(
  loaded: LoadedGguf,
  sequence: NodeLlamaCpp.LlamaContextSequence,
  prompt: GgufPrompt,
  tokens: readonly NodeLlamaCpp.Token[],
  top: number,
): Promise<TokenLogprob[]> {
  if (tokens.length === 0) return [];
  const { model } = loaded;
  const promptTokens = prompt.beginning !== null ? [prompt.beginning, ...prompt.body] : [...prompt.body];
  const ask = { generateNext: { probabilities: true, options: { temperature: 0 } } } as const;
  // Position i of the input predicts input[i + 1]: ask from the prompt's last token to the answer's last but one.
  const input: NodeLlamaCpp.ControlledEvaluateInputItem[] = [...promptTokens, ...tokens.slice(0, -1)].map((token, i) =>
    i >= promptTokens.length - 1 ? [token, ask] : token,
  );
  await sequence.clearHistory();
  const out = await sequence.controlledEvaluate(input);
  const result: TokenLogprob[] = [];
  for (let j = 0; j < tokens.length; j++) {
    const token = tokens[j]!;
    const probabilities = out[promptTokens.length - 1 + j]?.next.probabilities;
    // What the token adds to the decoded text, decoded with up to WINDOW tokens before it (spaces and split
    // characters depend on what precedes a token).
    const from = Math.max(0, j - WINDOW);
    const before = model.detokenize(tokens.slice(from, j));
    const upTo = model.detokenize(tokens.slice(from, j + 1));
    const piece = upTo.startsWith(before) ? upTo.slice(before.length) : model.detokenize([token]);
    const entry: TokenLogprob = { token: piece, logprob: log(probabilities?.get(token)) };
    if (top > 0 && probabilities) {
      const best: TopLogprob[] = [];
      for (const [id, p] of probabilities) {
        if (best.length === top) break;
        best.push({ token: model.detokenize([id]), logprob: log(p) });
      }
      entry.topLogprobs = best;
    }
    result.push(entry);
  }
  return result;
}
