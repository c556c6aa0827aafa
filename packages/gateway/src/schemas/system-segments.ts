import type { CacheControl, ChatMessage } from '@llmrr/core';

type SystemMessage = Extract<ChatMessage, { role: 'system' }>;

/** One text block of a system prompt as the client sent it (an `/v1/messages` system block, a chat system part). */
export interface SystemBlock {
  text: string;
  mark: CacheControl | undefined;
}

/**
 * A marked system prompt as core system messages, in segments: each marked block ends a segment, the blocks since
 * the previous marked block joined with `separator` (the endpoint's join without marks) into one system message
 * carrying that mark; the unmarked blocks after the last mark form a last, unmarked message (left out when all of
 * them are empty). So the common shapes (no mark before the last block) give the one message the unmarked prompt
 * gives, with its mark: a mark changes the bill, not the text. Only a mark on an earlier block makes several
 * system messages (the Anthropic engine sends them as separate system blocks; the OpenAI-compatible engine sends
 * several system messages, the Gemini engine joins them with "\n\n").
 *
 * A mark on an empty block (Anthropic refuses those) moves to the nearest non-empty block before it (a later mark
 * there wins: it is nearer to where the breakpoint sat). Undefined when no mark is left: the caller converts the
 * prompt exactly as it does without marks.
 */
export function systemSegments(blocks: readonly SystemBlock[], separator: string): SystemMessage[] | undefined {
  const marks: Array<CacheControl | undefined> = blocks.map(() => undefined);
  let lastText = -1;
  let marked = false;
  blocks.forEach((b, i) => {
    if (b.text !== '') lastText = i;
    if (b.mark && lastText >= 0) {
      marks[lastText] = b.mark;
      marked = true;
    }
  });
  if (!marked) return undefined;
  const out: SystemMessage[] = [];
  let start = 0;
  marks.forEach((mark, i) => {
    if (!mark) return;
    out.push({ role: 'system', content: joined(blocks, start, i + 1, separator), cacheControl: mark });
    start = i + 1;
  });
  if (blocks.slice(start).some((b) => b.text !== '')) out.push({ role: 'system', content: joined(blocks, start, blocks.length, separator) });
  return out;
}

function joined(blocks: readonly SystemBlock[], from: number, to: number, separator: string): string {
  return blocks
    .slice(from, to)
    .map((b) => b.text)
    .join(separator);
}
