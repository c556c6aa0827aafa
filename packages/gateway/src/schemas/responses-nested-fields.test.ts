import { describe, expect, it } from 'vitest';
import { convertResponsesRequest } from '../responses/to-generate-request.js';
import { clientFieldName } from './client-field-names.js';
import { validateBody } from '../http/validate.js';
import { IGNORED_FIELD_WARNINGS_MAX, ignoredFieldsOf } from './ignored-fields.js';
import { OpenAIResponsesRequestSchema } from './openai-responses.js';
import { responsesNestedWarnings } from './responses-nested-fields.js';
import { COMPLETION_FIELD_NAMES, chatFieldNames, MESSAGES_FIELD_NAMES, responsesFieldNames } from './route-field-names.js';

const fields = (body: Parameters<typeof responsesNestedWarnings>[0]) => responsesNestedWarnings(body)?.map((w) => w.field);

describe('responsesNestedWarnings', () => {
  it('nothing below the top level, or only what is done or asks for nothing: undefined', () => {
    expect(responsesNestedWarnings({})).toBeUndefined();
    expect(responsesNestedWarnings({ include: ['message.output_text.logprobs'], text: { format: { type: 'text' }, verbosity: 'low' }, reasoning: { effort: 'high', summary: null } })).toBeUndefined();
    expect(responsesNestedWarnings({ include: [], text: {}, reasoning: {} })).toBeUndefined();
    expect(responsesNestedWarnings({ text: { extra: null, flag: false, list: [] } as never })).toBeUndefined();
  });

  it('reasoning.summary and its older name generate_summary, each at any level', () => {
    for (const level of ['auto', 'concise', 'detailed'] as const) {
      expect(responsesNestedWarnings({ reasoning: { summary: level } })).toEqual([
        {
          code: 'setting_not_sent',
          field: 'reasoning.summary',
          message: `reasoning.summary ${level} was not sent: the gateway neither asks the provider for a reasoning summary nor makes one; the answer carries the reasoning text the provider returns, as it is.`,
        },
      ]);
    }
    expect(fields({ reasoning: { summary: 'auto', generate_summary: 'concise' } })).toEqual(['reasoning.summary', 'reasoning.generate_summary']);
  });

  it('include values by index (not the two it acts on: logprobs, encrypted reasoning), then other reasoning and text keys', () => {
    const include = ['web_search_call.results', 'message.output_text.logprobs', 'code_interpreter_call.outputs', 'reasoning.encrypted_content'] as const;
    expect(fields({ include: [...include], text: { tone: 'dry' } as never, reasoning: { mode: 'x' } as never })).toEqual(['include.0', 'include.2', 'reasoning.mode', 'text.tone']);
  });

  it('is kept on the converted request after the top-level warnings', () => {
    const { request } = convertResponsesRequest(OpenAIResponsesRequestSchema.parse({ model: 'm', input: 'hi', store: true, reasoning: { summary: 'auto' } }));
    expect(ignoredFieldsOf(request)?.map((w) => w.field)).toEqual(['store', 'reasoning.summary']);
  });
});

const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
const convert = (extra: Record<string, unknown>) => convertResponsesRequest(validateBody(OpenAIResponsesRequestSchema, { model: 'm', input: 'hi', ...extra })).request;
const said = (extra: Record<string, unknown>) => ignoredFieldsOf(convert(extra))?.map((w) => w.field);

describe('nested /v1/responses fields no engine receives', () => {
  it('text.format.description is core\u2019s responseFormat.description (no gateway warning; an engine that cannot send it says so)', () => {
    const format = { type: 'json_schema', name: 'place', schema: SCHEMA };
    const request = convert({ text: { format: { ...format, description: 'Answer with the city only.' } } });
    expect(ignoredFieldsOf(request)).toBeUndefined();
    expect(request.responseFormat).toEqual({ type: 'json_schema', name: 'place', description: 'Answer with the city only.', schema: SCHEMA });
    for (const description of [undefined, null]) expect(convert({ text: { format: { ...format, description } } }).responseFormat).toEqual({ type: 'json_schema', name: 'place', schema: SCHEMA });
  });

  it('tools.N.strict is core\u2019s tools.N.strict as given; absent or null stays absent (not OpenAI Responses\u2019 strict by default)', () => {
    const tool = (name: string, strict: unknown) => ({ type: 'function', name, parameters: SCHEMA, strict });
    const request = convert({ tools: [tool('a', false), tool('b', true), tool('c', null), { type: 'function', name: 'bare', parameters: SCHEMA }] });
    expect(ignoredFieldsOf(request)).toBeUndefined();
    expect(request.tools!.map((t) => t.strict)).toEqual([false, true, undefined, undefined]);
    expect(request.tools!.map((t) => Object.hasOwn(t, 'strict'))).toEqual([true, true, false, false]);
  });

  it('an input_image detail other than auto is said by its part (input.N.content.K.detail); auto and null say nothing', () => {
    const image = (detail: unknown) => ({ type: 'input_image', image_url: 'https://example.com/a.png', detail });
    const input = [
      { role: 'user', content: [{ type: 'input_text', text: 'Look' }, image('low')] },
      { role: 'assistant', content: 'Ok.' },
      { role: 'user', content: [image('auto'), image(null), image('high'), image('original')] },
    ];
    expect(said({ input })).toEqual(['input.0.content.1.detail', 'input.2.content.2.detail', 'input.2.content.3.detail']);
    expect(ignoredFieldsOf(convert({ input: [{ role: 'user', content: [image('low')] }] }))![0]!.message).toBe(
      'input.0.content.0.detail low was not sent: no engine takes the detail level of an image; the provider default applies.',
    );
  });

  it('stream_options.include_obfuscation: true is said; false says nothing', () => {
    expect(said({ stream: true, stream_options: { include_obfuscation: true } })).toEqual(['stream_options.include_obfuscation']);
    expect(said({ stream: true, stream_options: { include_obfuscation: false } })).toBeUndefined();
  });

  it('the input\u2019s first, then include, reasoning, text, stream_options, after the top-level ones', () => {
    const extra = {
      store: true,
      input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' }] }],
      include: ['file_search_call.results'],
      reasoning: { summary: 'auto' },
      text: { format: { type: 'json_schema', name: 'p', schema: SCHEMA, description: 'd' } },
      tools: [{ type: 'function', name: 'f', strict: true }],
      stream_options: { include_obfuscation: true },
    };
    expect(said(extra)).toEqual(['store', 'input.0.content.0.detail', 'include.0', 'reasoning.summary', 'stream_options.include_obfuscation']);
  });

  it(`bounded: at most ${IGNORED_FIELD_WARNINGS_MAX} with the top-level ones, then one \`...\` counting the others`, () => {
    const include = Array.from({ length: 40 }, () => 'file_search_call.results');
    const text = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x']));
    const top = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`extra${i}`, 1]));
    const warnings = ignoredFieldsOf(convert({ include, text }))!;
    expect(warnings).toHaveLength(IGNORED_FIELD_WARNINGS_MAX + 1);
    expect(warnings.at(-1)).toMatchObject({ field: '...', message: `${80 - IGNORED_FIELD_WARNINGS_MAX} more fields are not supported by this gateway; they were not sent.` });
    // Top-level fields past the bound and the nested ones are counted together in one `...`.
    const both = ignoredFieldsOf(convert({ ...top, include, text }))!;
    expect(both).toHaveLength(IGNORED_FIELD_WARNINGS_MAX + 1);
    expect(both.slice(0, IGNORED_FIELD_WARNINGS_MAX).every((w) => w.field!.startsWith('extra'))).toBe(true);
    expect(both.at(-1)!.message).toBe(`${20 + 80 - IGNORED_FIELD_WARNINGS_MAX} more fields are not supported by this gateway; they were not sent.`);
    // A body of 4 MiB of include values: still 17 warnings.
    const huge = Array.from({ length: 150_000 }, () => 'file_search_call.results');
    expect(ignoredFieldsOf(convert({ include: huge }))).toHaveLength(IGNORED_FIELD_WARNINGS_MAX + 1);
  });
});

describe('the client names of this session\u2019s knobs', () => {
  it('chat: top_k, verbosity, logprobs, top_logprobs', () => {
    const names = chatFieldNames({});
    expect(['topK', 'verbosity', 'logprobs', 'logprobs.topLogprobs'].map((p) => clientFieldName(p, names))).toEqual(['top_k', 'verbosity', 'logprobs', 'top_logprobs']);
  });

  it('completions: top_k, and logprobs (the count) for both logprobs fields', () => {
    expect(['topK', 'logprobs', 'logprobs.topLogprobs'].map((p) => clientFieldName(p, COMPLETION_FIELD_NAMES))).toEqual(['top_k', 'logprobs', 'logprobs']);
  });

  it('responses: text.verbosity; logprobs is the include that asked, else top_logprobs; user stays safety_identifier', () => {
    const paths = ['verbosity', 'logprobs', 'logprobs.topLogprobs', 'user'];
    const name = (body: Parameters<typeof responsesFieldNames>[0]) => paths.map((p) => clientFieldName(p, responsesFieldNames(body)));
    expect(name({ user: 'u', include: ['message.output_text.logprobs'] })).toEqual(['text.verbosity', 'include.0', 'top_logprobs', 'user']);
    expect(name({ user: 'u' })).toEqual(['text.verbosity', 'top_logprobs', 'top_logprobs', 'user']);
    expect(name({ include: ['message.output_text.logprobs'] })).toEqual(['text.verbosity', 'include.0', 'top_logprobs', 'safety_identifier']);
    // The index of the include that asked, as the gateway's own warnings name the others (`include.0` here).
    expect(name({ include: ['reasoning.encrypted_content', 'message.output_text.logprobs'] })).toEqual(['text.verbosity', 'include.1', 'top_logprobs', 'safety_identifier']);
    expect(name({ user: 'u', include: ['reasoning.encrypted_content', 'reasoning.encrypted_content', 'message.output_text.logprobs'] })).toEqual(['text.verbosity', 'include.2', 'top_logprobs', 'user']);
    expect(name({ include: null })).toEqual(['text.verbosity', 'top_logprobs', 'top_logprobs', 'safety_identifier']);
  });

  it('messages: top_k', () => {
    expect(clientFieldName('topK', MESSAGES_FIELD_NAMES)).toBe('top_k');
  });
});
