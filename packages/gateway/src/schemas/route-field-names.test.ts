import { LLMError, type CallWarning } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { convertMessagesRequest } from '../anthropic/to-generate-request.js';
import { convertChatRequest } from '../openai/to-generate-request.js';
import { convertResponsesRequest } from '../responses/to-generate-request.js';
import { AnthropicMessagesRequestSchema } from './anthropic-messages.js';
import { clientFieldName, clientFieldText } from './client-field-names.js';
import { withClientMessagePath, withClientWarningPaths } from './client-message-paths.js';
import { OpenAIChatRequestSchema } from './openai-chat.js';
import { OpenAIResponsesRequestSchema } from './openai-responses.js';
import { COMPLETION_FIELD_NAMES, MESSAGES_FIELD_NAMES, chatFieldNames, responsesFieldNames } from './route-field-names.js';

const chat = (extra: Record<string, unknown> = {}) => convertChatRequest(OpenAIChatRequestSchema.parse({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra }));
const responses = (extra: Record<string, unknown> = {}) => convertResponsesRequest(OpenAIResponsesRequestSchema.parse({ model: 'm', input: 'hi', ...extra }));
const messages = (extra: Record<string, unknown> = {}) =>
  convertMessagesRequest(AnthropicMessagesRequestSchema.parse({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], ...extra }));

/** Each core path as the route's client names it. */
function named(names: Parameters<typeof clientFieldName>[1], paths: string[]): Record<string, string> {
  return Object.fromEntries(paths.map((p) => [p, clientFieldName(p, names)]));
}

describe('the client names of core fields, per route', () => {
  it('/v1/chat/completions: snake_case fields, response_format.json_schema, reasoning_effort, tools.K.function, cache_control marks', () => {
    const names = chat({ max_completion_tokens: 10 }).fieldNames;
    expect(
      named(names, [
        'frequencyPenalty',
        'presencePenalty',
        'parallelToolCalls',
        'promptCacheKey',
        'maxTokens',
        'topP',
        'toolChoice',
        'toolChoice.name',
        'responseFormat.strict',
        'responseFormat.schema.type',
        'reasoning',
        'reasoning.effort',
        'tools.2.cacheControl',
        'tools.0.parameters.properties',
        'messages.1.content.0.cacheControl',
        'seed',
        'user',
        'temperature',
        'stop',
        'messages.1',
      ]),
    ).toEqual({
      frequencyPenalty: 'frequency_penalty',
      presencePenalty: 'presence_penalty',
      parallelToolCalls: 'parallel_tool_calls',
      promptCacheKey: 'prompt_cache_key',
      maxTokens: 'max_completion_tokens',
      topP: 'top_p',
      toolChoice: 'tool_choice',
      'toolChoice.name': 'tool_choice.function.name',
      'responseFormat.strict': 'response_format.json_schema.strict',
      'responseFormat.schema.type': 'response_format.json_schema.schema.type',
      reasoning: 'reasoning_effort',
      'reasoning.effort': 'reasoning_effort',
      'tools.2.cacheControl': 'tools.2.cache_control',
      'tools.0.parameters.properties': 'tools.0.function.parameters.properties',
      'messages.1.content.0.cacheControl': 'messages.1.content.0.cache_control',
      seed: 'seed',
      user: 'user',
      temperature: 'temperature',
      stop: 'stop',
      'messages.1': 'messages.1',
    });
    // maxTokens is the field the client sent: max_tokens without max_completion_tokens.
    expect(clientFieldName('maxTokens', chat({ max_tokens: 10 }).fieldNames)).toBe('max_tokens');
    expect(clientFieldName('maxTokens', chatFieldNames({ max_completion_tokens: null }))).toBe('max_tokens');
  });

  it('/v1/chat/completions: a message\u2019s own fields (tool_call_id, tool_calls.K.function), logit_bias, and legacy functions', () => {
    const names = chat().fieldNames;
    expect(
      named(names, [
        'messages.1.toolCallId',
        'messages.2.toolCalls',
        'messages.2.toolCalls.0',
        'messages.2.toolCalls.0.arguments',
        'messages.2.toolCalls.1.name',
        'messages.2.toolCalls.1.id',
        'messages.2.toolCallIds',
        'messages.2.content.0.url',
        'logitBias',
      ]),
    ).toEqual({
      'messages.1.toolCallId': 'messages.1.tool_call_id',
      'messages.2.toolCalls': 'messages.2.tool_calls',
      'messages.2.toolCalls.0': 'messages.2.tool_calls.0',
      'messages.2.toolCalls.0.arguments': 'messages.2.tool_calls.0.function.arguments',
      'messages.2.toolCalls.1.name': 'messages.2.tool_calls.1.function.name',
      'messages.2.toolCalls.1.id': 'messages.2.tool_calls.1.id',
      'messages.2.toolCallIds': 'messages.2.toolCallIds',
      'messages.2.content.0.url': 'messages.2.content.0.image_url.url',
      logitBias: 'logit_bias',
    });
    // A request with legacy functions: core's tools are its functions, the tool choice its function_call.
    const legacy = chat({ functions: [{ name: 'f' }], function_call: { name: 'f' } }).fieldNames;
    expect(named(legacy, ['tools.0.parameters', 'tools.0.name', 'toolChoice', 'toolChoice.name', 'frequencyPenalty'])).toEqual({
      'tools.0.parameters': 'functions.0.parameters',
      'tools.0.name': 'functions.0.name',
      toolChoice: 'function_call',
      'toolChoice.name': 'function_call.name',
      frequencyPenalty: 'frequency_penalty',
    });
    // Its one call per answer (core's parallelToolCalls false) is the gateway's unless the client gave
    // parallel_tool_calls: a warning about it is not shown (the client sent nothing of the kind); the others are.
    const gemini = { code: 'setting_not_sent' as const, field: 'parallelToolCalls', message: 'parallelToolCalls false was not sent: Gemini has no switch for it; the model may call several functions in one answer.' };
    const penalty = { code: 'setting_not_sent' as const, field: 'frequencyPenalty', message: 'frequencyPenalty was not sent.' };
    expect(withClientWarningPaths([gemini, penalty], undefined, chat({ functions: [{ name: 'f' }] }).fieldNames)).toEqual([{ ...penalty, field: 'frequency_penalty', message: 'frequency_penalty was not sent.' }]);
    expect(withClientWarningPaths([penalty, gemini], undefined, chat({ functions: [{ name: 'f' }] }).fieldNames)).toEqual([{ ...penalty, field: 'frequency_penalty', message: 'frequency_penalty was not sent.' }]);
    expect(withClientWarningPaths([gemini], undefined, chat({ functions: [{ name: 'f' }], parallel_tool_calls: false }).fieldNames)[0]).toMatchObject({ field: 'parallel_tool_calls', message: expect.stringMatching(/^parallel_tool_calls false was not sent/) });
  });

  it('/v1/completions: the subset it has; core names it never sets are kept', () => {
    expect(named(COMPLETION_FIELD_NAMES, ['maxTokens', 'topP', 'frequencyPenalty', 'presencePenalty', 'seed', 'user', 'stop', 'promptCacheKey', 'tools.0.cacheControl'])).toEqual({
      maxTokens: 'max_tokens',
      topP: 'top_p',
      frequencyPenalty: 'frequency_penalty',
      presencePenalty: 'presence_penalty',
      seed: 'seed',
      user: 'user',
      stop: 'stop',
      promptCacheKey: 'promptCacheKey',
      'tools.0.cacheControl': 'tools.0.cacheControl',
    });
  });

  it('/v1/responses: max_output_tokens, text.format, reasoning as is, user or safety_identifier', () => {
    const names = responses({ user: 'u' }).fieldNames;
    expect(
      named(names, ['maxTokens', 'reasoning', 'reasoning.effort', 'parallelToolCalls', 'promptCacheKey', 'responseFormat.strict', 'toolChoice', 'toolChoice.name', 'topP', 'user', 'frequencyPenalty', 'tools.1.parameters']),
    ).toEqual({
      maxTokens: 'max_output_tokens',
      reasoning: 'reasoning',
      'reasoning.effort': 'reasoning.effort',
      parallelToolCalls: 'parallel_tool_calls',
      promptCacheKey: 'prompt_cache_key',
      'responseFormat.strict': 'text.format.strict',
      toolChoice: 'tool_choice',
      'toolChoice.name': 'tool_choice.name',
      topP: 'top_p',
      user: 'user',
      // The Responses API has no penalties: core's name stays.
      frequencyPenalty: 'frequencyPenalty',
      'tools.1.parameters': 'tools.1.parameters',
    });
    expect(clientFieldName('user', responses({ safety_identifier: 's' }).fieldNames)).toBe('safety_identifier');
    expect(clientFieldName('user', responsesFieldNames({ user: null }))).toBe('safety_identifier');
  });

  it('/v1/messages: tool_choice.disable_parallel_tool_use, stop_sequences, metadata.user_id, thinking, output_config.effort, cache_control', () => {
    expect(messages().fieldNames).toBe(MESSAGES_FIELD_NAMES);
    expect(
      named(MESSAGES_FIELD_NAMES, [
        'parallelToolCalls',
        'maxTokens',
        'topP',
        'stop',
        'toolChoice',
        'toolChoice.name',
        'user',
        'reasoning',
        'reasoning.budgetTokens',
        'reasoning.effort',
        'providerOptions.anthropic.thinking',
        'providerOptions.anthropic.thinking.budget_tokens',
        'cacheControl',
        'tools.3.cacheControl',
        'tools.0.parameters',
        'messages.2.content.1.cacheControl',
        'system.0.cacheControl',
        'seed',
        'frequencyPenalty',
        'promptCacheKey',
      ]),
    ).toEqual({
      parallelToolCalls: 'tool_choice.disable_parallel_tool_use',
      maxTokens: 'max_tokens',
      topP: 'top_p',
      stop: 'stop_sequences',
      toolChoice: 'tool_choice',
      'toolChoice.name': 'tool_choice.name',
      user: 'metadata.user_id',
      reasoning: 'thinking',
      'reasoning.budgetTokens': 'thinking.budget_tokens',
      'reasoning.effort': 'output_config.effort',
      'providerOptions.anthropic.thinking': 'thinking',
      'providerOptions.anthropic.thinking.budget_tokens': 'thinking.budget_tokens',
      cacheControl: 'cache_control',
      'tools.3.cacheControl': 'tools.3.cache_control',
      'tools.0.parameters': 'tools.0.input_schema',
      'messages.2.content.1.cacheControl': 'messages.2.content.1.cache_control',
      'system.0.cacheControl': 'system.0.cache_control',
      seed: 'seed',
      frequencyPenalty: 'frequencyPenalty',
      promptCacheKey: 'promptCacheKey',
    });
  });

  it('a tool\u2019s strict and a format\u2019s description, on each route', () => {
    const paths = ['tools.0.strict', 'tools.12.strict', 'responseFormat.description'];
    expect(named(chat().fieldNames, paths)).toEqual({
      'tools.0.strict': 'tools.0.function.strict',
      'tools.12.strict': 'tools.12.function.strict',
      'responseFormat.description': 'response_format.json_schema.description',
    });
    expect(named(responses().fieldNames, paths)).toEqual({ 'tools.0.strict': 'tools.0.strict', 'tools.12.strict': 'tools.12.strict', 'responseFormat.description': 'text.format.description' });
    expect(named(MESSAGES_FIELD_NAMES, ['tools.0.strict'])).toEqual({ 'tools.0.strict': 'tools.0.strict' });
    const warning: CallWarning = { code: 'setting_not_sent', field: 'tools.1.strict', message: 'tools.1.strict was not sent: no strict mode.' };
    expect(withClientWarningPaths([warning], undefined, chat().fieldNames)).toEqual([
      { code: 'setting_not_sent', field: 'tools.1.function.strict', message: 'tools.1.function.strict was not sent: no strict mode.' },
    ]);
  });

  it('every bare core name a capability or context refusal gives is the field of the route', () => {
    // candidates.ts: vision and a prompt too long name `messages`; tools, json, streaming, reasoning and a too large
    // maxTokens their fields; `model` and `region` are the same everywhere (the gateway sends no region).
    const refusal = ['messages', 'tools', 'responseFormat', 'stream', 'reasoning', 'maxTokens', 'model'];
    expect(named(chat({ max_tokens: 10 }).fieldNames, refusal)).toEqual({
      messages: 'messages',
      tools: 'tools',
      responseFormat: 'response_format',
      stream: 'stream',
      reasoning: 'reasoning_effort',
      maxTokens: 'max_tokens',
      model: 'model',
    });
    // No tools, response format or reasoning on /v1/completions: the router never refuses for them there.
    expect(named(COMPLETION_FIELD_NAMES, ['messages', 'stream', 'maxTokens', 'model'])).toEqual({ messages: 'prompt', stream: 'stream', maxTokens: 'max_tokens', model: 'model' });
    expect(named(responses().fieldNames, refusal)).toEqual({
      messages: 'input',
      tools: 'tools',
      responseFormat: 'text.format',
      stream: 'stream',
      reasoning: 'reasoning',
      maxTokens: 'max_output_tokens',
      model: 'model',
    });
    // /v1/messages sets no core responseFormat (output_config.format goes to Anthropic as sent).
    expect(named(MESSAGES_FIELD_NAMES, refusal.filter((f) => f !== 'responseFormat'))).toEqual({
      messages: 'messages',
      tools: 'tools',
      stream: 'stream',
      reasoning: 'thinking',
      maxTokens: 'max_tokens',
      model: 'model',
    });
  });

  it('a name of Object.prototype is no entry', () => {
    expect(clientFieldName('constructor', MESSAGES_FIELD_NAMES)).toBe('constructor');
    expect(clientFieldName('tools.0.toString', MESSAGES_FIELD_NAMES)).toBe('tools.0.toString');
  });
});

describe('warnings and errors with the client names', () => {
  it('renames the field, and it in the message as a whole word only', () => {
    const w: CallWarning[] = [
      { code: 'setting_changed', field: 'frequencyPenalty', message: 'frequencyPenalty was sent as the value of providerOptions.gemini.generationConfig.frequencyPenalty.' },
      { code: 'setting_not_sent', field: 'seed', message: 'seed was not sent.' },
    ];
    const out = withClientWarningPaths(w, undefined, chat().fieldNames);
    expect(out).toEqual([
      { code: 'setting_changed', field: 'frequency_penalty', message: 'frequency_penalty was sent as the value of providerOptions.gemini.generationConfig.frequencyPenalty.' },
      w[1],
    ]);
    expect(out[1]).toBe(w[1]);
    // Nothing to rename: the same array.
    expect(withClientWarningPaths([w[1]!], undefined, chat().fieldNames)).toEqual([w[1]]);
  });

  it('/v1/messages: a negated field says the client\u2019s true', () => {
    const w: CallWarning[] = [{ code: 'setting_not_sent', field: 'parallelToolCalls', message: 'parallelToolCalls false was not sent: Gemini has no switch for it.' }];
    expect(withClientWarningPaths(w, undefined, MESSAGES_FIELD_NAMES)).toEqual([
      { code: 'setting_not_sent', field: 'tool_choice.disable_parallel_tool_use', message: 'tool_choice.disable_parallel_tool_use true was not sent: Gemini has no switch for it.' },
    ]);
    expect(clientFieldText('parallelToolCalls was sent as x.', 'parallelToolCalls', 'tool_choice.disable_parallel_tool_use', MESSAGES_FIELD_NAMES)).toBe(
      'tool_choice.disable_parallel_tool_use was sent as x.',
    );
  });

  // `thinking: {type: "disabled"}` is core's `reasoning.budgetTokens: 0`: the client sent no `budget_tokens`.
  it('/v1/messages: a warning about thinking disabled names thinking and reads "thinking disabled"; an enabled budget keeps thinking.budget_tokens', () => {
    const w: CallWarning[] = [
      { code: 'setting_changed', field: 'reasoning.budgetTokens', message: 'reasoning.budgetTokens 0 was sent as reasoning_effort minimal: gpt-5-mini cannot turn thinking off (it takes minimal, low, medium, high).' },
    ];
    expect(withClientWarningPaths(w, undefined, messages({ thinking: { type: 'disabled' } }).fieldNames)).toEqual([
      { code: 'setting_changed', field: 'thinking', message: 'thinking disabled was sent as reasoning_effort minimal: gpt-5-mini cannot turn thinking off (it takes minimal, low, medium, high).' },
    ]);
    const enabled = messages({ max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 2048 } }).fieldNames;
    expect(enabled).toBe(MESSAGES_FIELD_NAMES);
    expect(clientFieldName('reasoning.budgetTokens', enabled)).toBe('thinking.budget_tokens');
  });

  it('/v1/messages: the message path first, then the mark (core messages.3 is the client\u2019s messages.2 after a system prompt)', () => {
    const converted = messages({ system: 'Be brief.', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: [{ type: 'text', text: 'c', cache_control: { type: 'ephemeral' } }] }] });
    const w: CallWarning[] = [{ code: 'cache_control_dropped', field: 'messages.3.content.0.cacheControl', message: 'messages.3.content.0.cacheControl was dropped.' }];
    expect(withClientWarningPaths(w, converted.messagePaths, converted.fieldNames)).toEqual([
      { code: 'cache_control_dropped', field: 'messages.2.content.0.cache_control', message: 'messages.2.content.0.cache_control was dropped.' },
    ]);
  });

  it('an engine error param: core\u2019s toolChoice is the client\u2019s tool_choice', () => {
    const e = new LLMError({ code: 'invalid_request', message: 'toolChoice requires a tool call but the request has no tools', param: 'toolChoice' });
    const out = withClientMessagePath(e, undefined, responses().fieldNames);
    expect(out).toMatchObject({ param: 'tool_choice', message: 'tool_choice requires a tool call but the request has no tools', code: 'invalid_request' });
    const same = new LLMError({ code: 'invalid_request', message: 'temperature: bad', param: 'temperature' });
    expect(withClientMessagePath(same, undefined, responses().fieldNames)).toBe(same);
  });

  it('an engine error about an image part\'s url names the client\'s image field: image_url, source.url, image_url.url', () => {
    const refused = (param: string) => new LLMError({ code: 'invalid_request', message: `anthropic: ${param} must be an http(s) URL or a base64 data: URL`, param });
    const image = (url: string) => ({ type: 'input_image', image_url: url });
    // /v1/responses: core messages.1 is input.0 after the instructions; a function output's image is its output.K.
    const r = responses({
      instructions: 'Be brief.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'see' }, image('ftp://x/a.png')] }, { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c', output: [image('ftp://x/b.png')] }],
    });
    for (const [core, client] of [
      ['messages.1.content.1.url', 'input.0.content.1.image_url'],
      ['messages.3.parts.0.url', 'input.2.output.0.image_url'],
      ['messages.1.content.1.mediaType', 'input.0.content.1.image_url'],
    ]) {
      expect(withClientMessagePath(refused(core!), r.messagePaths, r.fieldNames), core).toMatchObject({ param: client, message: `anthropic: ${client} must be an http(s) URL or a base64 data: URL` });
    }
    // A core path no message path renamed: core's messages are the client's input.
    expect(clientFieldName('messages.5.content.0.url', r.fieldNames)).toBe('input.5.content.0.image_url');
    // The same with safety_identifier or top_logprobs, whose tables are built from the first.
    for (const extra of [{ safety_identifier: 's' }, { top_logprobs: 2 }, { include: ['reasoning.encrypted_content', 'message.output_text.logprobs'] }]) {
      const again = responses({ ...extra, input: [{ role: 'user', content: [image('ftp://x/a.png')] }] });
      expect(withClientMessagePath(refused('messages.0.content.0.url'), again.messagePaths, again.fieldNames).param, JSON.stringify(extra)).toBe('input.0.content.0.image_url');
    }
    // /v1/messages: an image block's source; a tool result's image block is under the tool_result's content.
    const m = messages({
      messages: [
        { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'ftp://x/a.png' } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'a' }, { type: 'image', source: { type: 'url', url: 'ftp://x/b.png' } }] }] },
      ],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
    });
    expect(withClientMessagePath(refused('messages.0.content.0.url'), m.messagePaths, m.fieldNames)).toMatchObject({ param: 'messages.0.content.0.source.url' });
    expect(withClientMessagePath(refused('messages.2.parts.1.url'), m.messagePaths, m.fieldNames)).toMatchObject({ param: 'messages.2.content.0.content.1.source.url' });
    expect(clientFieldName('messages.0.content.0.mediaType', MESSAGES_FIELD_NAMES)).toBe('messages.0.content.0.source.media_type');
    // /v1/chat/completions: an image_url part's url.
    const c = chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/a.png' } }] }] });
    expect(withClientMessagePath(refused('messages.0.content.0.url'), c.messagePaths, c.fieldNames)).toMatchObject({ param: 'messages.0.content.0.image_url.url' });
    // Only a message part's field: a tool schema's `url` property and core's own top-level names stay.
    for (const names of [r.fieldNames, m.fieldNames, c.fieldNames]) {
      expect(clientFieldName('tools.0.parameters.properties.url', names)).not.toMatch(/image_url|source/);
      expect(clientFieldName('messages.0.content.0.text', names)).toMatch(/\.content\.0\.text$/);
    }
  });

  it('the router\'s refusal of a call fallback (fallbacks.N) is the client\'s llmrr.fallbacks.N, on each route that takes them', () => {
    const e = new LLMError({ code: 'invalid_request', message: 'fallbacks.1: unknown model "x" (no deployment by that name or alias). Known: a', param: 'fallbacks.1' });
    for (const names of [chat().fieldNames, COMPLETION_FIELD_NAMES, responses().fieldNames, messages().fieldNames]) {
      expect(withClientMessagePath(e, undefined, names)).toMatchObject({ param: 'llmrr.fallbacks.1', message: 'llmrr.fallbacks.1: unknown model "x" (no deployment by that name or alias). Known: a' });
    }
    const all = new LLMError({ code: 'invalid_request', message: 'fallbacks must be an array of deployment names', param: 'fallbacks' });
    expect(withClientMessagePath(all, undefined, chat().fieldNames)).toMatchObject({ param: 'llmrr.fallbacks', message: 'llmrr.fallbacks must be an array of deployment names' });
  });
});
