import { estimateRequestTokens, TOKENS_PER_IMAGE } from '../../pricing/estimate-tokens.js';
import type { GenerateRequest } from '../../spec/messages.js';

/**
 * Anthropic bills an image at about width*height/750 tokens, capped near 1,600: count the cap
 * (the shared estimate counts OpenAI's 85 of a low-detail image).
 */
const IMAGE_TOKENS = 1_600;

/**
 * A local estimate of a request's prompt tokens: the shared `estimateRequestTokens` (about 4 characters
 * per token, per-message framing, tool schemas as their JSON), with images (of user messages and of tool results'
 * `parts`) at Anthropic's cap. Good for routing and budgets, not for billing; set `options.exactTokenCount` to ask
 * `/v1/messages/count_tokens` instead.
 */
export function estimateAnthropicTokens(request: GenerateRequest): number {
  let images = 0;
  for (const m of request.messages) {
    if (Array.isArray(m.content)) images += m.content.filter((p) => p.type === 'image').length;
    if (m.role === 'tool' && Array.isArray(m.parts)) images += m.parts.filter((p) => p?.type === 'image').length;
  }
  return estimateRequestTokens(request) + images * (IMAGE_TOKENS - TOKENS_PER_IMAGE);
}
