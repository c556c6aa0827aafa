import type { OpenAIContentPart } from './openai-wire-schemas.js';

/**
 * The answer's text and reasoning of a `content` sent as a list (Mistral's reasoning models): the `text` of
 * `{type:"text"}` items is the answer, the `text` items inside a `{type:"thinking", thinking:[...]}` item the
 * reasoning, each joined in order. Items of other types (`reference`, ...) carry neither and are skipped.
 */
export function readOpenAIContentParts(parts: readonly OpenAIContentPart[]): { text: string; reasoning: string } {
  let text = '';
  let reasoning = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const type = part.type ?? (part.thinking ? 'thinking' : 'text');
    if (type === 'text') {
      text += part.text ?? '';
    } else if (type === 'thinking' && part.thinking) {
      for (let j = 0; j < part.thinking.length; j++) {
        const inner = part.thinking[j]!;
        if ((inner.type ?? 'text') === 'text') reasoning += inner.text ?? '';
      }
    }
  }
  return { text, reasoning };
}
