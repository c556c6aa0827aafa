import { LLMError, type Usage } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { OpenAIChatRequestSchema, OpenAIUsageSchema } from '../schemas/openai-chat.js';
import { chatToGenerateRequest, convertChatRequest } from './to-generate-request.js';
import { toOpenAIUsage } from './usage.js';

// /v1/chat/completions with LiteLLM's prompt-caching convention: `cache_control` on content parts, on a message
// (a breakpoint at its end) and on tools (`tools[i].cache_control`), mapped to the core breakpoints.

const EPH = { type: 'ephemeral' } as const;
const H1 = { type: 'ephemeral', ttl: '1h' } as const;

const convert = (body: Record<string, unknown>) => chatToGenerateRequest(validateBody(OpenAIChatRequestSchema, { model: 'm', ...body }));

describe('/v1/chat/completions cache_control -> core breakpoints', () => {
  it('user parts keep their marks; a user message\u2019s own mark is the message\u2019s', () => {
    const req = convert({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'doc', cache_control: H1 }, { type: 'image_url', image_url: { url: 'https://x/y.png' }, cache_control: EPH }, { type: 'text', text: 'q' }] },
        { role: 'assistant', content: 'a' },
        { role: 'user', content: 'again', cache_control: EPH },
      ],
    });
    expect(req.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'doc', cacheControl: H1 }, { type: 'image', url: 'https://x/y.png', cacheControl: EPH }, { type: 'text', text: 'q' }] },
      { role: 'assistant', content: 'a' },
      { role: 'user', content: 'again', cacheControl: EPH },
    ]);
  });

  it('assistant and tool messages (joined text in the core): a part\u2019s or the message\u2019s mark, at the message\u2019s end; a system message with a marked part: one message, its parts kept', () => {
    const req = convert({
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'long ', cache_control: H1 }, { type: 'text', text: 'rules' }] },
        { role: 'developer', content: 'be brief', cache_control: EPH },
        { role: 'user', content: 'q' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }], cache_control: H1 },
        { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: 'r', cache_control: EPH }] },
        // The message's own mark wins over its parts' (it is the one at the end).
        { role: 'system', content: [{ type: 'text', text: 's', cache_control: EPH }], cache_control: H1 },
      ],
    });
    expect(req.messages).toEqual([
      { role: 'system', content: 'long \nrules', parts: [{ type: 'text', text: 'long ', cacheControl: H1 }, { type: 'text', text: 'rules' }] },
      { role: 'system', content: 'be brief', cacheControl: EPH },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }], cacheControl: H1 },
      { role: 'tool', toolCallId: 'c1', content: 'r', cacheControl: EPH },
      { role: 'system', content: 's', parts: [{ type: 'text', text: 's', cacheControl: H1 }] },
    ]);
  });

  it('system parts: unmarked ones are joined with "\\n" (empty ones and their separators too); an empty marked part gives its mark to the part before', () => {
    expect(convert({ messages: [{ role: 'developer', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: null }] }] }).messages).toEqual([{ role: 'system', content: 'a\nb' }]);
    const req = convert({ messages: [{ role: 'system', content: [{ type: 'text', text: 'static' }, { type: 'text', text: '', cache_control: H1 }, { type: 'text', text: 'today' }] }] });
    expect(req.messages).toEqual([{ role: 'system', content: 'static\n\ntoday', parts: [{ type: 'text', text: 'static', cacheControl: H1 }, { type: 'text', text: 'today' }] }]);
  });

  it('system parts marked anywhere (or the message): the content the unmarked parts give, the marks on the parts', () => {
    const parts = (mark: boolean) => [{ type: 'text', text: 'You are terse. ', ...(mark ? { cache_control: EPH } : {}) }, { type: 'text', text: 'Long rules.', ...(mark ? { cache_control: EPH } : {}) }];
    expect(convert({ messages: [{ role: 'system', content: parts(false) }] }).messages).toEqual([{ role: 'system', content: 'You are terse. \nLong rules.' }]);
    expect(convert({ messages: [{ role: 'system', content: parts(true) }] }).messages).toEqual([
      { role: 'system', content: 'You are terse. \nLong rules.', parts: [{ type: 'text', text: 'You are terse. ', cacheControl: EPH }, { type: 'text', text: 'Long rules.', cacheControl: EPH }] },
    ]);
    expect(convert({ messages: [{ role: 'developer', content: parts(false), cache_control: H1 }] }).messages).toEqual([
      { role: 'system', content: 'You are terse. \nLong rules.', parts: [{ type: 'text', text: 'You are terse. ' }, { type: 'text', text: 'Long rules.', cacheControl: H1 }] },
    ]);
  });

  it('a dropped mark (on an empty first part) changes nothing: the parts joined as without it', () => {
    const req = convert({ messages: [{ role: 'system', content: [{ type: 'text', text: '', cache_control: EPH }, { type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }] });
    expect(req.messages).toEqual([{ role: 'system', content: '\na\nb' }]);
  });

  it('one core message per client message, marked system messages too: core\u2019s indexes are the client\u2019s (no message paths)', () => {
    const body = validateBody(OpenAIChatRequestSchema, {
      model: 'm',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'a', cache_control: EPH }, { type: 'text', text: 'b' }] },
        { role: 'user', content: 'q' },
      ],
    });
    const { request, messagePaths } = convertChatRequest(body);
    expect(request.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(messagePaths).toBeUndefined();
  });

  it('tools[i].cache_control; null and absent marks add nothing', () => {
    const req = convert({
      messages: [{ role: 'user', content: 'q', cache_control: null }],
      tools: [
        { type: 'function', function: { name: 'a', parameters: { type: 'object' } } },
        { type: 'function', function: { name: 'b' }, cache_control: { type: 'ephemeral', ttl: '5m' } },
      ],
    });
    expect(req.messages).toEqual([{ role: 'user', content: 'q' }]);
    expect(req.tools).toEqual([
      { name: 'a', parameters: { type: 'object' } },
      { name: 'b', parameters: { type: 'object', properties: {} }, cacheControl: { type: 'ephemeral', ttl: '5m' } },
    ]);
  });

  it('a bad mark is a 400 naming it (through the fast check and through the schema)', () => {
    const refused = (body: Record<string, unknown>) => {
      try {
        validateBody(OpenAIChatRequestSchema, { model: 'm', ...body });
      } catch (e) {
        if (LLMError.isInstance(e)) return e;
      }
      throw new Error('expected an LLMError');
    };
    expect(refused({ messages: [{ role: 'system', content: [{ type: 'text', text: 's', cache_control: { type: 'ephemeral', ttl: '2h' } }] }] })).toMatchObject({
      code: 'invalid_request',
      param: 'messages.0.content.0.cache_control.ttl',
    });
    expect(refused({ messages: [{ role: 'user', content: 'q', cache_control: { type: 'persistent' } }] }).param).toBe('messages.0.cache_control.type');
    expect(refused({ messages: [{ role: 'user', content: 'q' }], tools: [{ type: 'function', function: { name: 'f' }, cache_control: true }] }).param).toBe('tools.0.cache_control');
  });
});

describe('toOpenAIUsage: cache writes', () => {
  const usage = (u: Partial<Usage>): Usage => ({ inputTokens: 1000, outputTokens: 20, totalTokens: 1020, ...u });

  it('prompt_tokens keeps all input; reads in cached_tokens, writes in cache_write_tokens (OpenRouter)', () => {
    const out = toOpenAIUsage(usage({ cachedInputTokens: 600, cacheWriteInputTokens: 300, cacheWrite1hInputTokens: 300 }));
    expect(out).toEqual({ prompt_tokens: 1000, completion_tokens: 20, total_tokens: 1020, prompt_tokens_details: { cached_tokens: 600, cache_write_tokens: 300 } });
    expect(OpenAIUsageSchema.parse(out)).toEqual(out);
  });

  it('writes without reads: cached_tokens 0; reads only, or nothing: as before', () => {
    expect(toOpenAIUsage(usage({ cacheWriteInputTokens: 900 })).prompt_tokens_details).toEqual({ cached_tokens: 0, cache_write_tokens: 900 });
    expect(toOpenAIUsage(usage({ cachedInputTokens: 5 })).prompt_tokens_details).toEqual({ cached_tokens: 5 });
    expect(toOpenAIUsage(usage({}))).not.toHaveProperty('prompt_tokens_details');
  });
});
