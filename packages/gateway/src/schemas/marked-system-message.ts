import type { CacheControl, ChatMessage, TextPart } from '@llmrr/core';

type SystemMessage = Extract<ChatMessage, { role: 'system' }>;

/** One text block of a system prompt as the client sent it (an `/v1/messages` system block, a chat system part). */
export interface SystemBlock {
  text: string;
  mark: CacheControl | undefined;
}

/**
 * A marked system prompt as ONE core system message: `content` is the blocks joined with `separator` (the
 * endpoint's join without marks, empty blocks and their separators included), so every engine but Anthropic's
 * sends, and the caches key on, exactly the text of the same prompt unmarked: a mark changes the bill, never the
 * text. `parts` keeps the client's non-empty blocks with their marks, for the Anthropic engine (one system block
 * each, each breakpoint where the client put it).
 *
 * A mark on an empty block (Anthropic refuses those) moves to the nearest non-empty block before it (a later mark
 * there wins: it is nearer to where the breakpoint sat); one with no text before it is dropped. Undefined when no
 * mark is left: the caller converts the prompt exactly as it does without marks.
 */
export function markedSystemMessage(blocks: readonly SystemBlock[], separator: string): SystemMessage | undefined {
  const parts: TextPart[] = [];
  let marked = false;
  for (const b of blocks) {
    const last = parts.at(-1);
    if (b.text !== '') parts.push(b.mark ? { type: 'text', text: b.text, cacheControl: b.mark } : { type: 'text', text: b.text });
    else if (b.mark && last) last.cacheControl = b.mark;
    marked ||= b.mark !== undefined && parts.length > 0;
  }
  if (!marked) return undefined;
  return { role: 'system', content: blocks.map((b) => b.text).join(separator), parts };
}
