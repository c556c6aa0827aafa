import { LLMError, type CallWarning } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { clientFieldPath, withClientMessagePath, withClientWarningPaths } from './client-message-paths.js';

// The mapping errors and warnings share: a core `messages.N` path as the client's, where the client's messages are
// `messages` (numbers), or another field (strings: `system`, `instructions`, `input.N` on /v1/responses).

const RESPONSES = ['instructions', 'input.0', 'input.2', 'input.3'];

describe('clientFieldPath', () => {
  it('core messages.N as the client\u2019s messages.N, system, instructions or input.N, keeping the rest of the path', () => {
    expect(clientFieldPath('messages.3', ['system', 0, 1, 2])).toBe('messages.2');
    expect(clientFieldPath('messages.1.content.0.cacheControl', ['system', 0, 1, 2])).toBe('messages.0.content.0.cacheControl');
    expect(clientFieldPath('messages.0', ['system', 0])).toBe('system');
    expect(clientFieldPath('messages.0.content', RESPONSES)).toBe('instructions.content');
    expect(clientFieldPath('messages.2.toolCalls.0.arguments', RESPONSES)).toBe('input.2.toolCalls.0.arguments');
    expect(clientFieldPath('messages.1', ['input'])).toBe('messages.1'); // out of range: as it is
  });

  it('as it is: no paths, not a message path, messages.12 is not messages.1, the same index', () => {
    expect(clientFieldPath('messages.3', undefined)).toBe('messages.3');
    expect(clientFieldPath('seed', ['system', 0])).toBe('seed');
    expect(clientFieldPath('tools.2.cacheControl', RESPONSES)).toBe('tools.2.cacheControl');
    expect(clientFieldPath('messages.12', ['system', 0])).toBe('messages.12');
    expect(clientFieldPath('messages.1', [0, 1])).toBe('messages.1');
    expect(clientFieldPath('messagesX.1', ['system', 0])).toBe('messagesX.1');
  });
});

describe('withClientMessagePath with the client\u2019s own paths (/v1/responses)', () => {
  const error = (param: string, message: string) => new LLMError({ code: 'invalid_request', message, param, provider: 'openai' });

  it('names input.N in param and message, in core\u2019s dotted form and in OpenAI\u2019s bracketed forms', () => {
    expect(withClientMessagePath(error('messages.2.content', 'messages.2.content: bad'), RESPONSES)).toMatchObject({ param: 'input.2.content', message: 'input.2.content: bad' });
    expect(withClientMessagePath(error('messages[3].content', "Invalid 'messages[3].content'"), RESPONSES)).toMatchObject({ param: 'input[3].content', message: "Invalid 'input[3].content'" });
    expect(withClientMessagePath(error('messages.[1].role', 'messages.[1]: bad'), RESPONSES)).toMatchObject({ param: 'input.[0].role', message: 'input.[0]: bad' });
    expect(withClientMessagePath(error('messages[0].content', "Invalid 'messages[0].content'"), RESPONSES)).toMatchObject({ param: 'instructions.content', message: "Invalid 'instructions.content'" });
    // A string input is one item: its message is `input` itself.
    expect(withClientMessagePath(error('messages.0', 'messages.0 is empty'), ['input'])).toMatchObject({ param: 'input', message: 'input is empty' });
  });
});

describe('withClientWarningPaths', () => {
  const warnings: CallWarning[] = [
    { code: 'system_message_hoisted', field: 'messages.3', message: 'messages.3 was joined into the system prompt' },
    { code: 'setting_not_sent', field: 'seed', message: 'no seed' },
    { code: 'cache_control_dropped', field: 'messages.1.content.0.cacheControl', message: 'over the limit' },
    { code: 'custom', message: 'no field' },
  ];

  it('renames the field (and that path in the message) of each warning naming a core message; others stay as they are', () => {
    const out = withClientWarningPaths(warnings, ['system', 0, 1, 2]);
    expect(out).toEqual([
      { code: 'system_message_hoisted', field: 'messages.2', message: 'messages.2 was joined into the system prompt' },
      warnings[1],
      { code: 'cache_control_dropped', field: 'messages.0.content.0.cacheControl', message: 'over the limit' },
      warnings[3],
    ]);
    expect(out[1]).toBe(warnings[1]);
    expect(warnings[0]!.field).toBe('messages.3'); // the engine's own list is not changed
    expect(withClientWarningPaths(warnings, RESPONSES).map((w) => w.field)).toEqual(['input.3', 'seed', 'input.0.content.0.cacheControl', undefined]);
  });

  it('the same array when nothing changes', () => {
    expect(withClientWarningPaths(warnings, undefined)).toBe(warnings);
    expect(withClientWarningPaths(warnings, [0, 1, 2, 3])).toBe(warnings);
    expect(withClientWarningPaths([], ['system'])).toEqual([]);
  });
});
