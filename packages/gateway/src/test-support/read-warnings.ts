import type OpenAI from 'openai';
import { parseList, Token } from 'structured-headers';
import { expect } from 'vitest';

/**
 * `x-llmrr-warnings` as an RFC 8941 client reads it (structured-headers' parser): [code, field] of each member,
 * after asserting the header is there and printable ASCII.
 */
export function readWarnings(value: string | null): Array<[string, unknown]> {
  expect(value).not.toBeNull();
  expect(value).toMatch(/^[\x20-\x7e]+$/);
  return parseList(value!).map(([item, params]) => [item instanceof Token ? item.toString() : String(item), params.get('field')]);
}

/**
 * The warnings tests' chat: a system prompt, then a system message mid-conversation (messages.3, which an engine
 * that does not take it in place joins into the system prompt), then the last user message (messages.4).
 * `.slice(1)` is the same conversation after a top-level system prompt (/v1/messages `system`).
 */
export const MID_SYSTEM_CHAT: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hello' },
  { role: 'assistant', content: 'Hi.' },
  { role: 'system', content: 'Now answer in French.' },
  { role: 'user', content: 'How are you?' },
];
