import { computeCost, estimateRequestTokens, estimateTokens, type GenerateRequest, type ModelPrice, type Usage } from '@llmrr/core';

export interface PartialCallInput {
  /** What the provider reported before the call broke off, if anything. */
  usage: Usage | undefined;
  /** Text the client was sent (text, reasoning and tool-call deltas), for an estimate when usage is unknown. */
  outputText: string | undefined;
  request: GenerateRequest | undefined;
  price: ModelPrice | undefined;
}

/**
 * What a call that did not succeed but produced tokens (an abandoned or broken stream) costs: the
 * reported usage at the deployment's price; without usage, output tokens estimated from the streamed text
 * (`estimateTokens`, capped at the request's max tokens) and input from the request (`estimateRequestTokens`),
 * marked `estimated`. Reported input usage (with its prompt-cache reads and writes) is kept when only the
 * output is estimated (an output of 0 counts as not reported: Anthropic reports the prompt when the stream
 * starts and the output only at its end). Undefined when nothing was produced and no input was reported.
 */
export function partialCallCost(input: PartialCallInput): { usage: Usage; costUsd: number } | undefined {
  let usage = input.usage;
  if (!usage || usage.outputTokens <= 0) {
    const text = input.outputText ?? '';
    // Nothing sent and no prompt reported: nothing to charge. (A reported prompt with no text sent, such as a
    // tool call cut off after its name, is charged for the prompt.)
    if (text === '' && !usage?.inputTokens) return undefined;
    let outputTokens = text === '' ? 0 : estimateTokens(text);
    if (input.request?.maxTokens !== undefined) outputTokens = Math.min(outputTokens, input.request.maxTokens);
    const inputTokens = usage?.inputTokens || (input.request ? estimateRequestTokens(input.request) : 0);
    const estimated: Usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, estimated: true };
    // The provider's prompt-cache counts stand when only the output is estimated: they decide the input's price.
    if (usage?.inputTokens) {
      if (usage.cachedInputTokens !== undefined) estimated.cachedInputTokens = usage.cachedInputTokens;
      if (usage.cacheWriteInputTokens !== undefined) estimated.cacheWriteInputTokens = usage.cacheWriteInputTokens;
      if (usage.cacheWrite1hInputTokens !== undefined) estimated.cacheWrite1hInputTokens = usage.cacheWrite1hInputTokens;
    }
    usage = estimated;
  }
  return { usage, costUsd: computeCost(usage, input.price).totalUsd };
}
