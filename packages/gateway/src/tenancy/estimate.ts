import { messageText, type DeploymentInfo, type GenerateRequest } from '@llmrr/core';

const encoder = new TextEncoder();

/**
 * An upper-bound guess of a request's prompt tokens without a tokenizer: half the UTF-8 bytes of all
 * text (real tokenizers average about 4 bytes a token for English) plus 8 per message and the tool schemas.
 */
export function estimateInputTokens(request: GenerateRequest): number {
  let bytes = 0;
  for (const m of request.messages) bytes += encoder.encode(messageText(m)).byteLength + 16;
  if (request.tools) bytes += encoder.encode(JSON.stringify(request.tools)).byteLength;
  return Math.ceil(bytes / 2);
}

/**
 * The most a request can cost on any of the given deployments (USD): prompt estimate at the input price
 * plus max output tokens at the output price. Deployments without a price count as 0.
 */
export function estimateMaxCostUsd(request: GenerateRequest, deployments: readonly DeploymentInfo[], defaultMaxOutputTokens: number): number {
  const input = estimateInputTokens(request);
  let max = 0;
  for (const d of deployments) {
    if (!d.price) continue;
    const out = request.maxTokens ?? d.config.maxOutputTokens ?? defaultMaxOutputTokens;
    const cost = (input * d.price.input + out * d.price.output) / 1_000_000;
    if (cost > max) max = cost;
  }
  return max;
}
