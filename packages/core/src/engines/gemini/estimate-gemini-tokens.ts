import { estimateRequestTokens, estimateTokens, TOKENS_PER_IMAGE } from '../../pricing/estimate-tokens.js';
import type { GenerateRequest } from '../../spec/messages.js';

/**
 * Gemini counts an image up to 384 px on both sides as 258 tokens (larger ones as 258 per 768 px tile):
 * one tile per image (the shared estimate counts OpenAI's 85).
 */
const IMAGE_TOKENS = 258;

/**
 * A local estimate of a request's prompt tokens: the shared `estimateRequestTokens` (about 4 characters
 * per token, per-message framing, tool schemas as their JSON), with one Gemini tile per image.
 * Set `options.exactTokenCount` to ask :countTokens instead.
 */
export function estimateGeminiTokens(request: GenerateRequest): number {
  const images = request.messages.reduce((n, m) => n + (Array.isArray(m.content) ? m.content.filter((p) => p.type === 'image').length : 0), 0);
  return estimateRequestTokens(request) + images * (IMAGE_TOKENS - TOKENS_PER_IMAGE);
}

/** Estimate for embedding inputs (Gemini's batchEmbedContents reports no usage). */
export function estimateTextTokens(texts: string[]): number {
  return texts.reduce((n, t) => n + estimateTokens(t), 0);
}
