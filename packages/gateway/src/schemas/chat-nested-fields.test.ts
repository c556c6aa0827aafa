import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { convertChatRequest } from '../openai/to-generate-request.js';
import { chatNestedWarnings } from './chat-nested-fields.js';
import { IGNORED_FIELD_WARNINGS_MAX, ignoredFieldsOf } from './ignored-fields.js';
import { OpenAIChatRequestSchema } from './openai-chat.js';

// What a /v1/chat/completions body asks for below its top level that no engine receives (a core image has no detail;
// the gateway's chunks no obfuscation): said in `setting_not_sent` warnings by the client's path, after the top-level
// ones. A format's description and a tool's strict are core's (`responseFormat.description`, `tools.N.strict`).

const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const ASK = [{ role: 'user', content: 'hi' }];
const convert = (extra: Record<string, unknown>) => convertChatRequest(validateBody(OpenAIChatRequestSchema, { model: 'm', messages: ASK, ...extra })).request;
const said = (extra: Record<string, unknown>) => ignoredFieldsOf(convert(extra))?.map((w) => w.field);

describe('chatNestedWarnings', () => {
  it('none of those fields: undefined', () => {
    expect(chatNestedWarnings({})).toBeUndefined();
    expect(said({ stream: true, stream_options: { include_usage: true } })).toBeUndefined();
  });

  it('response_format.json_schema.description is core\u2019s responseFormat.description (no gateway warning)', () => {
    const format = (description?: string) => ({ type: 'json_schema', json_schema: { name: 'place', schema: SCHEMA, ...(description !== undefined ? { description } : {}) } });
    const request = convert({ response_format: format('The city.') });
    expect(ignoredFieldsOf(request)).toBeUndefined();
    expect(request.responseFormat).toEqual({ type: 'json_schema', name: 'place', description: 'The city.', schema: SCHEMA });
    expect(convert({ response_format: format() }).responseFormat).toEqual({ type: 'json_schema', name: 'place', schema: SCHEMA });
  });

  it('tools.N.function.strict is core\u2019s tools.N.strict as given; null and absent stay absent', () => {
    const tool = (name: string, strict?: boolean | null) => ({ type: 'function', function: { name, parameters: SCHEMA, ...(strict !== undefined ? { strict } : {}) } });
    const request = convert({ tools: [tool('a', true), tool('b', false), tool('c', null), tool('d')] });
    expect(ignoredFieldsOf(request)).toBeUndefined();
    expect(request.tools!.map((t) => t.strict)).toEqual([true, false, undefined, undefined]);
    expect(request.tools!.map((t) => Object.hasOwn(t, 'strict'))).toEqual([true, true, false, false]);
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
      'messages.1.content.1.image_url.detail high was not sent: no engine takes the detail level of an image; the provider default applies.',
    );
  });

  it('stream_options.include_obfuscation: true is said; false says nothing', () => {
    expect(said({ stream: true, stream_options: { include_usage: true, include_obfuscation: true } })).toEqual(['stream_options.include_obfuscation']);
    expect(said({ stream: true, stream_options: { include_obfuscation: false } })).toBeUndefined();
  });

  it(`after the top-level ones, at most ${IGNORED_FIELD_WARNINGS_MAX} in all, then one \`...\` counting the others`, () => {
    const image = { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } };
    const messages = [{ role: 'user', content: Array.from({ length: 30 }, () => image) }];
    const warnings = ignoredFieldsOf(convert({ store: true, messages }))!;
    expect(warnings).toHaveLength(IGNORED_FIELD_WARNINGS_MAX + 1);
    expect(warnings.slice(0, 2).map((w) => w.field)).toEqual(['store', 'messages.0.content.0.image_url.detail']);
    expect(warnings.at(-1)!.message).toBe(`${31 - IGNORED_FIELD_WARNINGS_MAX} more fields are not supported by this gateway; they were not sent.`);
  });
});
