import { LLMError } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { withClientMessagePath } from './client-message-paths.js';

// Review of 2a58373: the remap accepts core's `messages.N` and `messages.[N]` (Dashscope and older OpenAI
// answers), but api.openai.com today writes `messages[N]` (no dot) in both `param` and message, e.g. (pydantic-ai
// issue #2653, 2025-08): {"message": "Invalid type for 'messages[1].content': expected one of a string or array of
// objects, but got an object instead.", "param": "messages[1].content", "code": "invalid_type"}. The OpenAI-compatible
// engine passes `param` through (map-openai-error.ts), so on /v1/messages (system prompt first, so core's index is
// the client's plus one) such an error still names core's message, not the client's.

const openaiError = (param: string, message: string) => new LLMError({ code: 'invalid_request', message, param, provider: 'openai' });

describe('withClientMessagePath and OpenAI\u2019s `messages[N]` form', () => {
  it('an OpenAI 400 with param messages[1].content after a /v1/messages system prompt names the client\u2019s messages[0]', () => {
    const e = withClientMessagePath(
      openaiError('messages[1].content', "openai: Invalid type for 'messages[1].content': expected one of a string or array of objects, but got an object instead."),
      ['system', 0],
    );
    expect(e.param).toBe('messages[0].content');
    expect(e.message).toBe("openai: Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an object instead.");
  });

  it('messages[0] (the system prompt on /v1/messages) is `system`', () => {
    const e = withClientMessagePath(openaiError('messages[0].content', "Invalid type for 'messages[0].content'"), ['system', 0]);
    expect(e.param).toBe('system.content');
  });
});
