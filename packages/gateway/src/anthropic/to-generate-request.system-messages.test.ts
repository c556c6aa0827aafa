import { LLMError, type ChatMessage } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { AnthropicMessagesRequestSchema } from '../schemas/anthropic-messages.js';
import { withClientMessagePath } from '../schemas/client-message-paths.js';
import { estimateInputTokens, promptCacheMark } from '../tenancy/estimate.js';
import { AnthropicCountTokensRequestSchema } from './count-tokens-request.js';
import { convertMessagesRequest } from './to-generate-request.js';

// System messages inside `messages` (@anthropic-ai/sdk 1.14 SystemMessageParam: `content: string |
// TextBlockParam[]`; Claude Opus 4.8's mid-conversation system messages) -> core system messages in their place,
// marks as the top-level `system` blocks get them; only text blocks; messagePaths name the client's message.

const EPH = { type: 'ephemeral' } as const;
const H1 = { type: 'ephemeral', ttl: '1h' } as const;

const body = (messages: unknown[], extra: Record<string, unknown> = {}) => ({ model: 'claude', max_tokens: 100, messages, ...extra });
const convert = (messages: unknown[], extra: Record<string, unknown> = {}) => convertMessagesRequest(validateBody(AnthropicMessagesRequestSchema, body(messages, extra)));

function refusal(messages: unknown[], schema: typeof AnthropicMessagesRequestSchema | typeof AnthropicCountTokensRequestSchema = AnthropicMessagesRequestSchema): LLMError {
  try {
    validateBody(schema, body(messages));
  } catch (e) {
    if (LLMError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected an LLMError');
}

const conversation = [
  { role: 'user', content: 'Plan the trip.' },
  { role: 'assistant', content: 'Which city?' },
  { role: 'system', content: 'From now on, answer in French.' },
  { role: 'user', content: 'Paris.' },
];

describe('/v1/messages system messages -> core system messages in place', () => {
  it('a string: one system message where the client put it; the top-level system prompt still first', () => {
    const { request, messagePaths } = convert(conversation, { system: 'You plan trips.' });
    expect(request.messages).toEqual([
      { role: 'system', content: 'You plan trips.' },
      { role: 'user', content: 'Plan the trip.' },
      { role: 'assistant', content: 'Which city?' },
      { role: 'system', content: 'From now on, answer in French.' },
      { role: 'user', content: 'Paris.' },
    ]);
    expect(messagePaths).toEqual([{ path: 'system', text: true }, 0, 1, 2, 3]);
  });

  it('without a top-level system prompt and nothing split: core indexes are the client\u2019s (no paths needed)', () => {
    const { request, messagePaths } = convert(conversation);
    expect(request.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'system', 'user']);
    expect(messagePaths).toBeUndefined();
  });

  it('text blocks: joined with "\\n" as the top-level system blocks are; marks become parts (content the unmarked join)', () => {
    const plain = convert([{ role: 'user', content: 'Hi' }, { role: 'system', content: [{ type: 'text', text: 'Rule one.' }, { type: 'text', text: 'Rule two.', cache_control: null }] }]);
    expect(plain.request.messages[1]).toEqual({ role: 'system', content: 'Rule one.\nRule two.' });
    const marked = convert([
      { role: 'user', content: 'Hi' },
      { role: 'system', content: [{ type: 'text', text: 'Long rules.', cache_control: H1 }, { type: 'text', text: 'Today is Thursday.', cache_control: EPH }, { type: 'text', text: '' }] },
      { role: 'user', content: 'Go' },
    ]);
    expect(marked.request.messages[1]).toEqual({
      role: 'system',
      content: 'Long rules.\nToday is Thursday.\n',
      parts: [
        { type: 'text', text: 'Long rules.', cacheControl: H1 },
        { type: 'text', text: 'Today is Thursday.', cacheControl: EPH },
      ],
    } satisfies ChatMessage);
    // The same text, marked or not: the caches and other engines see one request.
    expect(marked.request.messages[1]!.content).toBe(convert([{ role: 'user', content: 'Hi' }, { role: 'system', content: [{ type: 'text', text: 'Long rules.' }, { type: 'text', text: 'Today is Thursday.' }, { type: 'text', text: '' }] }]).request.messages[1]!.content);
  });

  it('a system message before any user turn is a system instruction too, after the top-level one', () => {
    const { request, messagePaths } = convert([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], { system: 'You are helpful.' });
    expect(request.messages).toEqual([
      { role: 'system', content: 'You are helpful.' },
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    expect(messagePaths).toEqual([{ path: 'system', text: true }, 0, 1]);
  });

  it('an empty system message has nothing to say: no core message; the paths still name the client\u2019s messages after it', () => {
    const { request, messagePaths } = convert([
      { role: 'user', content: 'Hi' },
      { role: 'system', content: '' },
      { role: 'assistant', content: 'Hello' },
      { role: 'system', content: [{ type: 'text', text: '' }] },
      { role: 'user', content: 'Bye' },
    ]);
    expect(request.messages.map((m) => m.content)).toEqual(['Hi', 'Hello', 'Bye']);
    expect(messagePaths).toEqual([0, 2, 4]);
  });

  it('with tool results split into core messages: each later message (system ones too) keeps its client index', () => {
    const { request, messagePaths } = convert([
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'w', input: {} }, { type: 'tool_use', id: 't2', name: 'w', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'Sunny' }, { type: 'tool_result', tool_use_id: 't2', content: 'Rainy' }] },
      { role: 'system', content: 'Summarize in one line.' },
      { role: 'user', content: 'Go' },
    ]);
    expect(request.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'system', 'user']);
    // The assistant turn names each tool_use block; each tool result its own block (core's toolCallId its tool_use_id).
    expect(messagePaths).toEqual([
      0,
      { path: 'messages.1', toolCalls: ['messages.1.content.0', 'messages.1.content.1'], callFields: { id: 'id', name: 'name', arguments: 'input' } },
      { path: 'messages.2.content.0', fields: { toolCallId: 'tool_use_id', content: 'content', isError: 'is_error' } },
      { path: 'messages.2.content.1', fields: { toolCallId: 'tool_use_id', content: 'content', isError: 'is_error' } },
      3,
      4,
    ]);
    // An engine's 400 about core message 4 names the client's messages.3.
    const error = withClientMessagePath(new LLMError({ code: 'invalid_request', message: 'messages.4: not here', param: 'messages.4.content' }), messagePaths);
    expect(error).toMatchObject({ param: 'messages.3.content', message: 'messages.3: not here' });
  });

  it('the budget estimate and the cache-mark TTL see the system message (wherever it is)', () => {
    const without = convert([{ role: 'user', content: 'Hi' }]).request;
    const withSystem = convert([{ role: 'user', content: 'Hi' }, { role: 'system', content: [{ type: 'text', text: 'x'.repeat(400), cache_control: H1 }] }]).request;
    expect(estimateInputTokens(withSystem) - estimateInputTokens(without)).toBeGreaterThanOrEqual(200);
    expect(promptCacheMark(without)).toBeUndefined();
    expect(promptCacheMark(withSystem)).toBe('1h');
  });
});

describe('/v1/messages system messages: the shape is checked, a 400 naming the field', () => {
  it.each([
    ['an image', { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }, 'an image block'],
    ['a tool_result', { type: 'tool_result', tool_use_id: 't1', content: 'x' }, 'a tool_result block'],
    ['a tool_use', { type: 'tool_use', id: 't1', name: 'w', input: {} }, 'a tool_use block'],
    ['a thinking block', { type: 'thinking', thinking: 'hmm', signature: 's' }, 'a thinking block'],
  ])('%s in a system message: messages.N.content.K.type', (_name, block, what) => {
    for (const schema of [AnthropicMessagesRequestSchema, AnthropicCountTokensRequestSchema]) {
      const e = refusal([{ role: 'user', content: 'Hi' }, { role: 'system', content: [{ type: 'text', text: 'Rules.' }, block] }], schema);
      expect(e).toMatchObject({ code: 'invalid_request', statusCode: 400, param: 'messages.1.content.1.type' });
      expect(e.message).toContain(`messages.1.content.1.type: a system message takes text blocks only, not ${what}`);
    }
  });

  it('a bad cache_control on a system text block: named like everywhere else', () => {
    const e = refusal([{ role: 'user', content: 'Hi' }, { role: 'system', content: [{ type: 'text', text: 'Rules.', cache_control: { type: 'ephemeral', ttl: '2h' } }] }]);
    expect(e).toMatchObject({ code: 'invalid_request', param: 'messages.1.content.0.cache_control.ttl' });
  });

  it('content that is neither a string nor blocks, or a text block without text: 400 naming it', () => {
    expect(refusal([{ role: 'system', content: 5 }])).toMatchObject({ param: 'messages.0.content' });
    expect(refusal([{ role: 'system', content: [{ type: 'text' }] }]).param).toMatch(/^messages\.0\.content/);
  });

  it('roles other than user, assistant and system are still refused', () => {
    expect(refusal([{ role: 'developer', content: 'x' }])).toMatchObject({ param: 'messages.0.role' });
  });

  it('count_tokens takes system messages like /v1/messages', () => {
    const parsed = validateBody(AnthropicCountTokensRequestSchema, { model: 'claude', messages: conversation });
    expect(convertMessagesRequest({ ...parsed, max_tokens: 1 }).request.messages[2]).toEqual({ role: 'system', content: 'From now on, answer in French.' });
  });
});
