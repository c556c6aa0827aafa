import { LLMError } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { AnthropicMessagesRequestSchema } from '../schemas/anthropic-messages.js';
import { AnthropicCountTokensRequestSchema } from './count-tokens-request.js';
import { messagesToGenerateRequest } from './to-generate-request.js';

// /v1/messages `cache_control` -> the core breakpoints (commit 87f9971): message-level on a user turn's joined text
// (a mark on its last block), part-level where the parts are kept (an earlier text block marked, images),
// message-level on the core message that carries the block otherwise, marked system blocks as the one system
// message's `parts` (its content the unmarked join), tools and the top level as they are; thinking blocks drop it.

const EPH = { type: 'ephemeral' } as const;
const H1 = { type: 'ephemeral', ttl: '1h' } as const;
const M5 = { type: 'ephemeral', ttl: '5m' } as const;

const base = { model: 'claude', max_tokens: 4000, messages: [{ role: 'user', content: 'hi' }] };
const convert = (extra: Record<string, unknown>) => messagesToGenerateRequest(validateBody(AnthropicMessagesRequestSchema, { ...base, ...extra }));

function refusal(body: Record<string, unknown>, schema: typeof AnthropicMessagesRequestSchema | typeof AnthropicCountTokensRequestSchema = AnthropicMessagesRequestSchema): LLMError {
  try {
    validateBody(schema, { ...base, ...body });
  } catch (e) {
    if (LLMError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected an LLMError');
}

describe('/v1/messages cache_control -> core breakpoints', () => {
  it('system without marks: one message, the blocks joined with "\\n", as before (null counts as no mark)', () => {
    const req = convert({ system: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: null }] });
    expect(req.messages[0]).toEqual({ role: 'system', content: 'a\nb' });
    expect(convert({ system: 'plain' }).messages[0]).toEqual({ role: 'system', content: 'plain' });
  });

  it('marked system blocks: one message, the unmarked join as content, the non-empty blocks with their marks as parts; an empty block\u2019s mark moves back', () => {
    const req = convert({
      system: [
        { type: 'text', text: 'rules' },
        { type: 'text', text: 'long context', cache_control: H1 },
        { type: 'text', text: 'today', cache_control: EPH },
        { type: 'text', text: '', cache_control: M5 },
      ],
    });
    expect(req.messages).toEqual([
      {
        role: 'system',
        content: 'rules\nlong context\ntoday\n',
        parts: [{ type: 'text', text: 'rules' }, { type: 'text', text: 'long context', cacheControl: H1 }, { type: 'text', text: 'today', cacheControl: M5 }],
      },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('a mark on the last system block only: the content the unmarked blocks give', () => {
    const blocks = (mark: boolean) => [
      { type: 'text', text: 'You are Claude Code.' },
      { type: 'text', text: '' },
      { type: 'text', text: 'Long rules.', ...(mark ? { cache_control: EPH } : {}) },
    ];
    expect(convert({ system: blocks(false) }).messages[0]).toEqual({ role: 'system', content: 'You are Claude Code.\n\nLong rules.' });
    expect(convert({ system: blocks(true) }).messages[0]).toEqual({
      role: 'system',
      content: 'You are Claude Code.\n\nLong rules.',
      parts: [{ type: 'text', text: 'You are Claude Code.' }, { type: 'text', text: 'Long rules.', cacheControl: EPH }],
    });
    expect(convert({ system: blocks(true) }).messages).toHaveLength(2);
  });

  it('unmarked blocks after the last mark, empty ones too: in the content with their separators, in one message', () => {
    const req = convert({ system: [{ type: 'text', text: 'a', cache_control: EPH }, { type: 'text', text: 'b' }, { type: 'text', text: 'c' }] });
    expect(req.messages).toEqual([
      { role: 'system', content: 'a\nb\nc', parts: [{ type: 'text', text: 'a', cacheControl: EPH }, { type: 'text', text: 'b' }, { type: 'text', text: 'c' }] },
      { role: 'user', content: 'hi' },
    ]);
    const trailingEmpty = convert({ system: [{ type: 'text', text: 'a', cache_control: EPH }, { type: 'text', text: '' }] });
    expect(trailingEmpty.messages).toEqual([
      { role: 'system', content: 'a\n', parts: [{ type: 'text', text: 'a', cacheControl: EPH }] },
      { role: 'user', content: 'hi' },
    ]);
    // A mark with no text before it: nowhere to go, dropped; the prompt converts as unmarked.
    expect(convert({ system: [{ type: 'text', text: '', cache_control: EPH }, { type: 'text', text: 'a' }] }).messages[0]).toEqual({ role: 'system', content: '\na' });
  });

  it('user text: a mark on the last block is the message\u2019s (the text joined with "\\n" as without it); a mark on an earlier block or an image keeps the parts', () => {
    const joined = convert({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: H1 }] }] });
    expect(joined.messages).toEqual([{ role: 'user', content: 'a\nb', cacheControl: H1 }]);
    const one = convert({ messages: [{ role: 'user', content: [{ type: 'text', text: 'q', cache_control: EPH }] }] });
    expect(one.messages).toEqual([{ role: 'user', content: 'q', cacheControl: EPH }]);
  });

  it('user text and image blocks keep their own marks where a mark sits before the last block or there is an image; unmarked text is still one string', () => {
    const messages = [
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: EPH }, { type: 'text', text: 'c' }] },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' }, cache_control: H1 }, { type: 'text', text: 'this?' }] },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'text', text: 'y' }] },
    ];
    const req = convert({ messages });
    expect(req.messages[0]).toEqual({ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cacheControl: EPH }, { type: 'text', text: 'c' }] });
    expect(req.messages[2]).toEqual({ role: 'user', content: [{ type: 'image', url: 'https://x/y.png', cacheControl: H1 }, { type: 'text', text: 'this?' }] });
    expect(req.messages[4]).toEqual({ role: 'user', content: 'x\ny' });
  });

  it('a tool_result: its own mark, else its last marked content block, is the tool message\u2019s', () => {
    const req = convert({
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'w', input: {} }, { type: 'tool_use', id: 't2', name: 'w', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: 'sunny', cache_control: EPH },
            { type: 'tool_result', tool_use_id: 't2', content: [{ type: 'text', text: 'a', cache_control: H1 }, { type: 'text', text: 'b', cache_control: M5 }] },
            { type: 'text', text: 'go on' },
          ],
        },
      ],
    });
    expect(req.messages.slice(2)).toEqual([
      { role: 'tool', toolCallId: 't1', content: 'sunny', cacheControl: EPH },
      // The blocks as parts (for an Anthropic deployment), without their marks: the last one is the message's.
      { role: 'tool', toolCallId: 't2', content: 'a\nb', parts: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }], cacheControl: M5 },
      { role: 'user', content: 'go on' },
    ]);
  });

  it('assistant text or tool_use marks: the turn\u2019s mark (at its end, the last mark\u2019s TTL); a mark on a thinking block is dropped, no 400', () => {
    const req = convert({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 'sig', cache_control: { type: 'bogus' } },
            { type: 'redacted_thinking', data: 'ENC', cache_control: EPH },
            { type: 'text', text: 'Checking.', cache_control: H1 },
            { type: 'tool_use', id: 't1', name: 'w', input: {}, cache_control: EPH },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'x', signature: 's', cache_control: EPH }, { type: 'text', text: 'done' }] },
      ],
    });
    expect(req.messages[1]).toMatchObject({ role: 'assistant', content: 'Checking.', cacheControl: EPH });
    expect(req.messages[3]).toEqual({ role: 'assistant', content: 'done', reasoning: [{ type: 'reasoning', text: 'x', signature: 's' }] });
  });

  it('tools and the top-level cache_control (automatic caching)', () => {
    const tools = [
      { name: 'a', input_schema: { type: 'object' } },
      { name: 'b', description: 'B', input_schema: { type: 'object' }, cache_control: H1 },
    ];
    const req = convert({ tools, cache_control: EPH });
    expect(req.tools).toEqual([
      { name: 'a', parameters: { type: 'object' } },
      { name: 'b', description: 'B', parameters: { type: 'object' }, cacheControl: H1 },
    ]);
    expect(req.cacheControl).toEqual(EPH);
    // Unknown keys of a mark are not passed on.
    expect(convert({ cache_control: { type: 'ephemeral', ttl: '1h', scope: 'global' } }).cacheControl).toEqual(H1);
    expect('cacheControl' in convert({})).toBe(false);
  });

  it('count_tokens takes and maps the same marks', () => {
    const body = validateBody(AnthropicCountTokensRequestSchema, { ...base, system: [{ type: 'text', text: 's', cache_control: EPH }], cache_control: H1 });
    const req = messagesToGenerateRequest({ ...body, max_tokens: 1 });
    expect(req.messages[0]).toEqual({ role: 'system', content: 's', parts: [{ type: 'text', text: 's', cacheControl: EPH }] });
    expect(req.cacheControl).toEqual(H1);
  });
});

describe('/v1/messages cache_control: a bad mark is a 400 naming it', () => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['a system block ttl', { system: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: { type: 'ephemeral', ttl: '2h' } }] }, 'system.1.cache_control.ttl', /"5m" or "1h"/],
    ['a user text block type', { messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'persistent' } }] }] }, 'messages.0.content.0.cache_control.type', /"ephemeral"/],
    ['an image block mark that is a string', { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'u' }, cache_control: 'ephemeral' }] }] }, 'messages.0.content.0.cache_control', /an object/],
    [
      'a tool_result content block',
      { messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral', ttl: 300 } }] }] }] },
      'messages.0.content.0.content.0.cache_control.ttl',
      /"5m" or "1h"/,
    ],
    ['a tool_use block', { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: {}, cache_control: {} }] }] }, 'messages.1.content.0.cache_control.type', /"ephemeral"/],
    ['a tool', { tools: [{ name: 'f', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral', ttl: '1d' } }] }, 'tools.0.cache_control.ttl', /"5m" or "1h"/],
    ['the top level', { cache_control: { type: 'auto' } }, 'cache_control.type', /"ephemeral"/],
  ];
  for (const [name, body, param, message] of cases) {
    it(name, () => {
      const e = refusal(body);
      expect(e.code).toBe('invalid_request');
      expect(e.statusCode).toBe(400);
      expect(e.param).toBe(param);
      expect(e.message).toContain(param);
      expect(e.message).toMatch(message);
    });
  }

  it('count_tokens refuses the same marks the same way', () => {
    expect(refusal({ system: [{ type: 'text', text: 'b', cache_control: { type: 'ephemeral', ttl: '2h' } }] }, AnthropicCountTokensRequestSchema).param).toBe('system.0.cache_control.ttl');
  });
});
