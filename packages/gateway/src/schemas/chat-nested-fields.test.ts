import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { convertChatRequest } from '../openai/to-generate-request.js';
import { chatNestedWarnings } from './chat-nested-fields.js';
import { IGNORED_FIELD_WARNINGS_MAX, ignoredFieldsOf } from './ignored-fields.js';
import { OpenAIChatRequestSchema } from './openai-chat.js';

// What a /v1/chat/completions body asks for below its top level that no engine receives (the core response format
// has no description, a core tool no `strict`, a core image no detail; the gateway's chunks no obfuscation): said in
// `setting_not_sent` warnings by the client's path, after the top-level ones.

const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const ASK = [{ role: 'user', content: 'hi' }];
const convert = (extra: Record<string, unknown>) => convertChatRequest(validateBody(OpenAIChatRequestSchema, { model: 'm', messages: ASK, ...extra })).request;
const said = (extra: Record<string, unknown>) => ignoredFieldsOf(convert(extra))?.map((w) => w.field);

describe('chatNestedWarnings', () => {
  it('none of those fields: undefined', () => {
    expect(chatNestedWarnings({})).toBeUndefined();
    expect(said({ stream: true, stream_options: { include_usage: true } })).toBeUndefined();
  });

  it('response_format.json_schema.description (a non-empty string) is said; none or empty says nothing', () => {
    const format = (description?: string) => ({ type: 'json_schema', json_schema: { name: 'place', schema: SCHEMA, ...(description !== undefined ? { description } : {}) } });
    expect(ignoredFieldsOf(convert({ response_format: format('The city.') }))).toEqual([
      {
        code: 'setting_not_sent',
        field: 'response_format.json_schema.description',
        message: 'response_format.json_schema.description was not sent: no engine takes a description of the response format; put it in the instructions.',
      },
    ]);
    expect(said({ response_format: format('') })).toBeUndefined();
    expect(said({ response_format: format() })).toBeUndefined();
    // The format itself still reaches the engine.
    expect(convert({ response_format: format('The city.') }).responseFormat).toEqual({ type: 'json_schema', name: 'place', schema: SCHEMA });
  });

  it('tools.N.function.strict: true is said by the tool\u2019s index; false and null say nothing', () => {
    const tool = (strict: boolean | null) => ({ type: 'function', function: { name: 'lookup', parameters: SCHEMA, strict } });
    expect(said({ tools: [tool(true), tool(false), tool(null), tool(true)] })).toEqual(['tools.0.function.strict', 'tools.3.function.strict']);
  });

  it('an image_url detail other than auto is said by its part; auto says nothing', () => {
    const image = (detail: string) => ({ type: 'image_url', image_url: { url: 'https://example.com/a.png', detail } });
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Look' }, image('high')] },
      { role: 'assistant', content: 'Ok.' },
      { role: 'user', content: [image('auto'), image('low')] },
    ];
    expect(said({ messages })).toEqual(['messages.1.content.1.image_url.detail', 'messages.3.content.1.image_url.detail']);
    expect(ignoredFieldsOf(convert({ messages }))![0]!.message).toBe(
      'messages.1.content.1.image_url.detail high was not sent: no engine takes an image\u2019s detail level; the provider\u2019s default applies.',
    );
  });

  it('stream_options.include_obfuscation: true is said; false says nothing', () => {
    expect(said({ stream: true, stream_options: { include_usage: true, include_obfuscation: true } })).toEqual(['stream_options.include_obfuscation']);
    expect(said({ stream: true, stream_options: { include_obfuscation: false } })).toBeUndefined();
  });

  it(`after the top-level ones, at most ${IGNORED_FIELD_WARNINGS_MAX} in all, then one \`...\` counting the others`, () => {
    const tools = Array.from({ length: 30 }, (_, i) => ({ type: 'function', function: { name: `t${i}`, strict: true } }));
    const warnings = ignoredFieldsOf(convert({ logit_bias: { '1': 2 }, tools }))!;
    expect(warnings).toHaveLength(IGNORED_FIELD_WARNINGS_MAX + 1);
    expect(warnings.slice(0, 2).map((w) => w.field)).toEqual(['logit_bias', 'tools.0.function.strict']);
    expect(warnings.at(-1)!.message).toBe(`${31 - IGNORED_FIELD_WARNINGS_MAX} more fields are not supported by this gateway; they were not sent.`);
  });
});
