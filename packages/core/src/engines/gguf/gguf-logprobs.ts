import type * as NodeLlamaCpp from 'node-llama-cpp';
import type { TokenLogprob, TopLogprob } from '../../spec/logprobs.js';
import { DECODE_CONTEXT } from './gguf-answer-decoder.js';
import { answerTokenTexts } from './gguf-token-texts.js';

type Token = NodeLlamaCpp.Token;

/** The lowest log probability reported (OpenAI's "very unlikely"): a probability of 0 has no finite log. */
const FLOOR = -9999;

/** How many earlier answer tokens decode with each one (keeps the decoding linear in the answer's length). */
const WINDOW = 32;

/**
 * Answer positions evaluated per `controlledEvaluate` call: each position returns the whole vocabulary's
 * probabilities (a Map of about 5.7 MB for a 128k vocabulary), so only one chunk's maps live at a time, and the
 * abort signal is looked at between chunks.
 */
const CHUNK = 32;

function log(p: number | undefined): number {
  return p !== undefined && p > 0 ? Math.max(Math.log(p), FLOOR) : FLOOR;
}

/**
 * The log probabilities of the answer's tokens (and, with `top` > 0, of the `top` most likely tokens at each
 * position), from the model itself, once the answer is done. `sampled` are the tokens the sampler chose
 * (`watchSampledTokens`); only those whose text makes up `text` (the answer as sent) are listed: not the
 * end-of-generation token, not the tokens of a stop string (`answerTokenTexts`). Their `token`s joined are `text`.
 *
 * The answer is evaluated again, teacher-forced (node-llama-cpp `controlledEvaluate`), asking at each position for
 * the next-token probabilities with `temperature: 0`, which leaves the model's full softmax untouched (with a
 * temperature, node-llama-cpp returns the distribution after its default top-k/top-p/min-p cuts): the model's
 * probabilities, not the sampler's, as OpenAI reports them. The prompt is not evaluated again: only the answer's
 * tokens (and the prompt's last one, whose output predicts the first answer token) are erased from the sequence and
 * re-evaluated, `CHUNK` positions per call, keeping only the chosen token's and the top candidates' numbers.
 * Resolves `undefined` when `signal` aborts (looked at between chunks).
 */
export async function ggufLogprobs(
  model: NodeLlamaCpp.LlamaModel,
  sequence: NodeLlamaCpp.LlamaContextSequence,
  promptTokens: readonly Token[],
  sampled: readonly Token[],
  text: string,
  top: number,
  signal: AbortSignal,
): Promise<TokenLogprob[] | undefined> {
  // Decoded after the prompt's end, as the answer is (`AnswerDecoder`): the first token keeps its leading space.
  const lead = promptTokens.slice(-DECODE_CONTEXT);
  const detokenize = (tokens: readonly Token[]) => model.detokenize([...tokens], false, lead);
  const texts = answerTokenTexts(detokenize, sampled, text, WINDOW);
  const tokens = sampled.slice(0, texts.length);
  if (tokens.length === 0 || promptTokens.length === 0) return [];
  await rewindToPromptEnd(sequence, promptTokens);
  const ask = { generateNext: { probabilities: true, options: { temperature: 0 } } } as const;
  // Position i of the input predicts tokens[i]: the prompt's last token, then the answer's tokens but the last.
  const inputs = [promptTokens[promptTokens.length - 1]!, ...tokens.slice(0, -1)];
  const result: TokenLogprob[] = [];
  for (let start = 0; start < inputs.length; start += CHUNK) {
    if (signal.aborted) return undefined;
    const chunk = inputs.slice(start, start + CHUNK);
    const out = await sequence.controlledEvaluate(chunk.map((token): NodeLlamaCpp.ControlledEvaluateInputItem => [token, ask]));
    for (let i = 0; i < chunk.length; i++) {
      const j = start + i;
      const probabilities = out[i]?.next.probabilities;
      const entry: TokenLogprob = { token: texts[j]!, logprob: log(probabilities?.get(tokens[j]!)) };
      if (top > 0 && probabilities) entry.topLogprobs = topCandidates(detokenize, tokens, j, probabilities, top);
      result.push(entry);
    }
  }
  return signal.aborted ? undefined : result;
}

/**
 * Leaves `sequence` holding the prompt but its last token: erases the answer (and that token) when the prompt's
 * evaluation state can be kept, else clears it and evaluates the prompt again.
 */
async function rewindToPromptEnd(sequence: NodeLlamaCpp.LlamaContextSequence, promptTokens: readonly Token[]): Promise<void> {
  const keep = promptTokens.length - 1;
  const held = sequence.contextTokens;
  const promptHeld = held.length >= keep && promptTokens.slice(0, keep).every((t, i) => held[i] === t);
  // With sliding-window attention, erasing at or before stateCellsStartIndex drops the state of the whole prefix.
  if (promptHeld && keep > sequence.stateCellsStartIndex) {
    if (sequence.nextTokenIndex > keep) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    return;
  }
  await sequence.clearHistory();
  if (keep > 0) await sequence.evaluateWithoutGeneratingNewTokens(promptTokens.slice(0, keep));
}

/** The `top` most likely tokens at answer position `j` (the map is sorted, most likely first), each decoded in place. */
function topCandidates(
  detokenize: (tokens: readonly Token[]) => string,
  tokens: readonly Token[],
  j: number,
  probabilities: Map<Token, number>,
  top: number,
): TopLogprob[] {
  const context = tokens.slice(Math.max(0, j - WINDOW), j);
  const before = detokenize(context);
  const best: TopLogprob[] = [];
  for (const [id, p] of probabilities) {
    if (best.length === top) break;
    // Decoded after the tokens before it, as the chosen token is: a SentencePiece token's leading space shows only there.
    const withIt = detokenize([...context, id]);
    best.push({ token: withIt.startsWith(before) ? withIt.slice(before.length) : detokenize([id]), logprob: log(p) });
  }
  return best;
}
