import type { GenerateRequest } from '../../spec/messages.js';

/** Anthropic bills an image at about width*height/750 tokens, capped near 1,600: count the cap. */
const IMAGE_TOKENS = 1_600;
/** Role markers and block framing per message. */
const MESSAGE_OVERHEAD = 4;

/**
 * A local estimate of a request's prompt tokens (about 4 characters per token, images at their cap,
 * tool schemas as their JSON). Good for routing and budgets, not for billing; set
 * `options.exactTokenCount` to ask `/v1/messages/count_tokens` instead.
 */
export function estimateAnthropicTokens(request: GenerateRequest): number {
  let chars = 0;
  let tokens = 0;
  for (const m of request.messages) {
    tokens += MESSAGE_OVERHEAD;
    if (typeof m.content === 'string') chars += m.content.length;
    else if (Array.isArray(m.content)) {
      for (const part of m.content) {
        if (part.type === 'text') chars += part.text.length;
        else tokens += IMAGE_TOKENS;
      }
    }
    if (m.role === 'assistant') for (const call of m.toolCalls ?? []) chars += call.name.length + call.arguments.length;
  }
  for (const tool of request.tools ?? []) chars += tool.name.length + (tool.description?.length ?? 0) + JSON.stringify(tool.parameters ?? {}).length;
  return tokens + Math.ceil(chars / 4);
}
