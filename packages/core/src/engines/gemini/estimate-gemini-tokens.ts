import type { GenerateRequest } from '../../spec/messages.js';

/** Gemini counts an image up to 384 px on both sides as 258 tokens (larger ones as 258 per 768 px tile). */
const IMAGE_TOKENS = 258;
const MESSAGE_OVERHEAD = 4;

/**
 * A local estimate of a request's prompt tokens (about 4 characters per token, one tile per image,
 * tool schemas as their JSON). Set `options.exactTokenCount` to ask :countTokens instead.
 */
export function estimateGeminiTokens(request: GenerateRequest): number {
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

/** Estimate for embedding inputs (Gemini's batchEmbedContents reports no usage). */
export function estimateTextTokens(texts: string[]): number {
  return texts.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
}
