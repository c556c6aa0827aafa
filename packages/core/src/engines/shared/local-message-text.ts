import type { ChatMessage } from '../../spec/index.js';

/**
 * A message's text as a local engine puts it in its prompt: a user message's text parts joined by newlines, as
 * vLLM's chat handling joins them for a template that takes text (`"\n".join(texts)` in its chat_utils), so that
 * parts ["Once upon", "a time"] do not run together ("Once upona time"). Non-text parts have no text (the engines
 * refuse them first).
 */
export function localMessageText(message: ChatMessage): string {
  const content = message.content;
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
}
