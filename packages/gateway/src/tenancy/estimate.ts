import { messageText, type DeploymentInfo, type GenerateRequest } from '@llmrr/core';

/**
 * Bytes of `text` in UTF-8 (as `new TextEncoder().encode(text).byteLength`, lone surrogates as the 3 bytes
 * of U+FFFD), counted without encoding it.
 */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for its 2 code units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * An upper-bound guess of a request's prompt tokens without a tokenizer: half the UTF-8 bytes of all
 * text (real tokenizers average about 4 bytes a token for English) plus 8 per message and the tool schemas.
 */
export function estimateInputTokens(request: GenerateRequest): number {
  let bytes = 0;
  for (const m of request.messages) bytes += utf8ByteLength(messageText(m)) + 16;
  if (request.tools) bytes += utf8ByteLength(JSON.stringify(request.tools));
  return Math.ceil(bytes / 2);
}

/**
 * The most a request can cost on any of the given deployments (USD): prompt estimate (`inputTokens`, else
 * `estimateInputTokens`) at the input price plus max output tokens at the output price. Deployments
 * without a price count as 0.
 */
export function estimateMaxCostUsd(request: GenerateRequest, deployments: readonly DeploymentInfo[], defaultMaxOutputTokens: number, inputTokens = estimateInputTokens(request)): number {
  let max = 0;
  for (const d of deployments) {
    if (!d.price) continue;
    const out = request.maxTokens ?? d.config.maxOutputTokens ?? defaultMaxOutputTokens;
    const cost = (inputTokens * d.price.input + out * d.price.output) / 1_000_000;
    if (cost > max) max = cost;
  }
  return max;
}
