import { computeCost, estimateRequestTokens, partialUsage, type GenerateRequest, type ModelPrice, type Usage } from '@llmrr/core';

export interface PartialCallInput {
  /** What the provider reported before the call broke off, if anything. */
  usage: Usage | undefined;
  /** Text the client was sent (text, reasoning and tool-call deltas), for an estimate when usage is unknown. */
  outputText: string | undefined;
  request: GenerateRequest | undefined;
  price: ModelPrice | undefined;
}

/**
 * What a call that did not succeed but produced tokens (an abandoned or broken stream) costs: core's `partialUsage`
 * (the router's `request:end` `spent` says the same for its streams) at the deployment's price: the reported usage;
 * without usage, output tokens estimated from the streamed text (capped at the request's max tokens) and input from the
 * request (`estimateRequestTokens`), marked `estimated`, a reported input (with its prompt-cache reads and writes) kept
 * when only the output is estimated. Undefined when nothing was produced and no input was reported.
 */
export function partialCallCost(input: PartialCallInput): { usage: Usage; costUsd: number } | undefined {
  const request = input.request;
  const usage = partialUsage(input.usage, input.outputText ?? '', request?.maxTokens, () => (request ? estimateRequestTokens(request) : 0));
  return usage && { usage, costUsd: computeCost(usage, input.price).totalUsd };
}
