import { LLMError } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { AnthropicMessagesRequestSchema } from '../schemas/anthropic-messages.js';
import { withClientMessagePath, withClientWarningPaths } from '../schemas/client-message-paths.js';
import { convertMessagesRequest } from './to-generate-request.js';

// An array `system` (and a marked system message of `messages`): errors and warnings about core's system message
// name the client's blocks by their own index (`system.2`), never `system.content` or core's `parts.K` (a marked
// prompt keeps only its non-empty blocks, so core's part 1 may be the client's block 2).

const EPH = { type: 'ephemeral' } as const;
const convert = (extra: Record<string, unknown>, messages: unknown[] = [{ role: 'user', content: 'hi' }]) =>
  convertMessagesRequest(validateBody(AnthropicMessagesRequestSchema, { model: 'claude', max_tokens: 100, messages, ...extra }));

/** What an engine's 400 about core's `path` says to the client of `converted`: its param and message. */
function named(converted: ReturnType<typeof convert>, path: string): { param: string | undefined; message: string } {
  const e = withClientMessagePath(new LLMError({ code: 'invalid_request', message: `${path} is bad`, param: path }), converted.messagePaths, converted.fieldNames);
  return { param: e.param, message: e.message };
}

describe('the top-level system as an array of blocks', () => {
  it('marked, with an empty block: core\u2019s parts are named by the client\u2019s block index, the joined text is `system`', () => {
    const c = convert({ system: [{ type: 'text', text: 'a' }, { type: 'text', text: '' }, { type: 'text', text: 'b', cache_control: EPH }] });
    expect(c.request.messages[0]).toMatchObject({ role: 'system', parts: [{ text: 'a' }, { text: 'b' }] });
    expect(named(c, 'messages.0.parts.1.cacheControl')).toEqual({ param: 'system.2.cache_control', message: 'system.2.cache_control is bad' });
    expect(named(c, 'messages.0.parts.0')).toEqual({ param: 'system.0', message: 'system.0 is bad' });
    expect(named(c, 'messages.0.content')).toEqual({ param: 'system', message: 'system is bad' });
    // The user turn after it keeps its own index.
    expect(named(c, 'messages.1.content')).toEqual({ param: 'messages.0.content', message: 'messages.0.content is bad' });
    const [w] = withClientWarningPaths([{ code: 'cache_control_dropped', field: 'messages.0.parts.1.cacheControl', message: 'messages.0.parts.1.cacheControl was dropped.' }], c.messagePaths, c.fieldNames);
    expect(w).toEqual({ code: 'cache_control_dropped', field: 'system.2.cache_control', message: 'system.2.cache_control was dropped.' });
  });

  it('unmarked: one core message of joined text, named `system` (`system.0` for a single block), not system.content', () => {
    const two = convert({ system: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] });
    expect(two.request.messages[0]).toEqual({ role: 'system', content: 'a\nb' });
    expect(named(two, 'messages.0.content').param).toBe('system');
    const one = convert({ system: [{ type: 'text', text: 'a' }] });
    expect(named(one, 'messages.0.content').param).toBe('system.0');
    expect(named(one, 'messages.0').param).toBe('system.0');
  });

  it('a string system is still `system`', () => {
    expect(named(convert({ system: 'be brief' }), 'messages.0.content').param).toBe('system');
  });
});

describe('a marked system message of `messages`', () => {
  it('its parts are named by the client\u2019s block index under messages.M.content', () => {
    const c = convert({}, [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
      { role: 'system', content: [{ type: 'text', text: '' }, { type: 'text', text: 'x', cache_control: EPH }] },
      { role: 'user', content: 'and?' },
    ]);
    expect(c.request.messages[2]).toMatchObject({ role: 'system', parts: [{ text: 'x', cacheControl: EPH }] });
    expect(named(c, 'messages.2.parts.0.cacheControl').param).toBe('messages.2.content.1.cache_control');
    expect(named(c, 'messages.2.content').param).toBe('messages.2.content');
    expect(named(c, 'messages.3.content').param).toBe('messages.3.content');
  });
});

describe('top_k', () => {
  it('is the core topK, and core\u2019s topK is the client\u2019s top_k in errors', () => {
    const c = convert({ top_k: 3 });
    expect(c.request.topK).toBe(3);
    expect(named(c, 'topK')).toEqual({ param: 'top_k', message: 'top_k is bad' });
  });
});
