import { describe, expect, it } from 'vitest';
import { convertResponsesRequest } from '../responses/to-generate-request.js';
import { clientFieldName } from './client-field-names.js';
import { ignoredFieldsOf } from './ignored-fields.js';
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
        { code: 'setting_not_sent', field: 'reasoning.summary', message: `reasoning.summary ${level} was not sent: the answer carries the model's reasoning whole (as summary and content), not a summary.` },
      ]);
    }
    expect(fields({ reasoning: { summary: 'auto', generate_summary: 'concise' } })).toEqual(['reasoning.summary', 'reasoning.generate_summary']);
  });

  it('include values by index, then other reasoning and text keys', () => {
    expect(fields({ include: ['web_search_call.results', 'message.output_text.logprobs', 'reasoning.encrypted_content'], text: { tone: 'dry' } as never, reasoning: { mode: 'x' } as never })).toEqual([
      'include.0',
      'include.2',
      'reasoning.mode',
      'text.tone',
    ]);
  });

  it('is kept on the converted request after the top-level warnings', () => {
    const { request } = convertResponsesRequest(OpenAIResponsesRequestSchema.parse({ model: 'm', input: 'hi', store: true, reasoning: { summary: 'auto' } }));
    expect(ignoredFieldsOf(request)?.map((w) => w.field)).toEqual(['store', 'reasoning.summary']);
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
    expect(name({ user: 'u', include: ['message.output_text.logprobs'] })).toEqual(['text.verbosity', 'include', 'top_logprobs', 'user']);
    expect(name({ user: 'u' })).toEqual(['text.verbosity', 'top_logprobs', 'top_logprobs', 'user']);
    expect(name({ include: ['message.output_text.logprobs'] })).toEqual(['text.verbosity', 'include', 'top_logprobs', 'safety_identifier']);
    expect(name({ include: null })).toEqual(['text.verbosity', 'top_logprobs', 'top_logprobs', 'safety_identifier']);
  });

  it('messages: top_k', () => {
    expect(clientFieldName('topK', MESSAGES_FIELD_NAMES)).toBe('top_k');
  });
});
