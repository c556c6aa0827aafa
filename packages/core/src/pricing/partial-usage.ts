import type { Usage } from '../spec/index.js';
import { estimateTokens } from './estimate-tokens.js';

/**
 * What an answer cut off before its end (an abandoned or broken stream) consumed, as the gateway's ledger bills it and
 * the router's `request:end` says it (`spent`): the usage the provider reported; without it (or with an output of 0,
 * which counts as not reported: Anthropic reports the prompt when the stream starts and the output only at its end),
 * the output estimated from `produced` (`estimateTokens` of everything that came: answer, refusal, reasoning, tool names
 * and arguments, as one text), capped at `maxTokens`, on the reported input (with its prompt-cache counts) or else
 * `estimatedInputTokens()`, marked `estimated`. Undefined when nothing came and no input was reported.
 */
export function partialUsage(reported: Usage | undefined, produced: string, maxTokens: number | undefined, estimatedInputTokens: () => number): Usage | undefined {
  if (reported && reported.outputTokens > 0) return reported;
  // Nothing sent and no prompt reported: nothing to charge. (A reported prompt with no text, such as a tool call cut
  // off after its name, is charged for the prompt.)
  if (produced === '' && !reported?.inputTokens) return undefined;
  let outputTokens = produced === '' ? 0 : estimateTokens(produced);
  if (maxTokens !== undefined) outputTokens = Math.min(outputTokens, maxTokens);
  const inputTokens = reported?.inputTokens || estimatedInputTokens();
  const usage: Usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, estimated: true };
  // The provider's prompt-cache counts stand when only the output is estimated: they decide the input's price.
  if (reported?.inputTokens) {
    if (reported.cachedInputTokens !== undefined) usage.cachedInputTokens = reported.cachedInputTokens;
    if (reported.cacheWriteInputTokens !== undefined) usage.cacheWriteInputTokens = reported.cacheWriteInputTokens;
    if (reported.cacheWrite1hInputTokens !== undefined) usage.cacheWrite1hInputTokens = reported.cacheWrite1hInputTokens;
  }
  return usage;
}
