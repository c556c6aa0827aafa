import { LLMError } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { withClientMessagePath } from './client-message-paths.js';

const error = (param: string | undefined, message: string) => new LLMError({ code: 'invalid_request', message, param, provider: 'anthropic' });

describe('withClientMessagePath', () => {
  it('renames core message N to the client\u2019s in param and message, keeping the rest of the error', () => {
    const e = withClientMessagePath(error('messages.3.toolCalls.0.arguments', 'anthropic: messages.3.toolCalls.0.arguments is not valid JSON'), [0, 0, 1, 2, 3]);
    expect(e).toMatchObject({ code: 'invalid_request', statusCode: 400, provider: 'anthropic', param: 'messages.2.toolCalls.0.arguments', message: 'anthropic: messages.2.toolCalls.0.arguments is not valid JSON' });
  });

  it('a system prompt message is `system`; messages.1 is not messages.12', () => {
    expect(withClientMessagePath(error('messages.0.cacheControl', 'messages.0.cacheControl: bad'), ['system', 0])).toMatchObject({ param: 'system.cacheControl', message: 'system.cacheControl: bad' });
    const twelve = withClientMessagePath(error('messages.1', 'messages.1 and messages.12'), ['system', 0]);
    expect(twelve).toMatchObject({ param: 'messages.0', message: 'messages.0 and messages.12' });
  });

  it('OpenAI\u2019s form `messages.[N]` (param and text), kept in that form; [1] is not [12]', () => {
    const e = withClientMessagePath(error('messages.[2].role', "messages.[2]: role 'tool' must follow tool_calls (not messages.[12])"), ['system', 0, 1]);
    expect(e).toMatchObject({ param: 'messages.[1].role', message: "messages.[1]: role 'tool' must follow tool_calls (not messages.[12])" });
    expect(withClientMessagePath(error('messages.[0].content', 'x'), ['system', 0])).toMatchObject({ param: 'system.content' });
    const same = error('messages.[1].role', 'x');
    expect(withClientMessagePath(same, [0, 1])).toBe(same);
    const malformed = error('messages.[1.role', 'x');
    expect(withClientMessagePath(malformed, ['system', 0])).toBe(malformed);
  });

  it('the error itself where nothing changes: no paths, no param, another param, the same index, an index out of range', () => {
    const same = error('messages.1.content', 'x');
    expect(withClientMessagePath(same, undefined)).toBe(same);
    expect(withClientMessagePath(same, [0, 1])).toBe(same);
    expect(withClientMessagePath(same, [0])).toBe(same);
    const other = error('tools.0', 'x');
    expect(withClientMessagePath(other, [1, 2])).toBe(other);
    const none = error(undefined, 'x');
    expect(withClientMessagePath(none, [1, 2])).toBe(none);
  });
});
