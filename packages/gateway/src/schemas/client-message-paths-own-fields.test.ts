import { LLMError, type CallWarning } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { convertChatRequest } from '../openai/to-generate-request.js';
import { convertResponsesRequest } from '../responses/to-generate-request.js';
import type { OpenAIChatRequest } from './openai-chat.js';
import type { OpenAIResponsesRequest } from './openai-responses.js';
import { chatFieldNames } from './route-field-names.js';
import { clientFieldPath, withClientMessagePath, withClientWarningPaths, type ClientMessagePaths } from './client-message-paths.js';

// A message whose fields the client names otherwise than core: a string field that is the message's text (core's
// `.content` is the field itself), a function_call_output item (`call_id` and `output`).

const PROMPT: ClientMessagePaths = [{ path: 'prompt', text: true }];
const PROMPT_0: ClientMessagePaths = [{ path: 'prompt.0', text: true }];
const OUTPUT = { toolCallId: 'call_id', content: 'output' } as const;
/** core: [instructions, input.0 user, input.1 call, input.2 its output] */
const RESPONSES: ClientMessagePaths = [{ path: 'instructions', text: true }, 'input.0', { path: 'input.1', toolCalls: ['input.1'] }, { path: 'input.2', fields: OUTPUT }];

function error(param: string, message: string): LLMError {
  return new LLMError({ code: 'invalid_request', message, param });
}

describe('a string field that is the message\u2019s text', () => {
  it('core\u2019s content is the field itself, in every form; the message and other fields are the field too', () => {
    expect(clientFieldPath('messages.0.content', PROMPT)).toBe('prompt');
    expect(clientFieldPath('messages[0].content', PROMPT)).toBe('prompt');
    expect(clientFieldPath('messages.0', PROMPT)).toBe('prompt');
    expect(clientFieldPath('messages.0.content', PROMPT_0)).toBe('prompt.0');
    expect(clientFieldPath('messages[0].content', PROMPT_0)).toBe('prompt[0]');
    expect(clientFieldPath('messages.[0].content', PROMPT_0)).toBe('prompt.[0]');
    expect(clientFieldPath('messages[0]', PROMPT_0)).toBe('prompt[0]');
    // Not the content: the rest as it is, after the field (nothing better to name).
    expect(clientFieldPath('messages.0.role', PROMPT)).toBe('prompt.role');
    expect(clientFieldPath('messages.0.contents', PROMPT)).toBe('prompt.contents');
    expect(clientFieldPath('messages.0.content.0.cacheControl', PROMPT)).toBe('prompt.0.cacheControl');
  });

  it('an error\u2019s param and message text, also where the text names the content but the param only the message', () => {
    const openai = error('messages[0].content', "Invalid 'messages[0].content': string too long.");
    expect(withClientMessagePath(openai, PROMPT_0)).toMatchObject({ param: 'prompt[0]', message: "Invalid 'prompt[0]': string too long." });
    const bare = error('messages.0', 'messages.0.content is empty (messages.0)');
    expect(withClientMessagePath(bare, PROMPT)).toMatchObject({ param: 'prompt', message: 'prompt is empty (prompt)' });
  });

  it('instructions on /v1/responses, and a string input', () => {
    expect(clientFieldPath('messages.0.content', RESPONSES)).toBe('instructions');
    expect(clientFieldPath('messages.1.content', RESPONSES)).toBe('input.0.content');
    const paths = convertResponsesRequest({ model: 'm', input: 'Hi', instructions: 'Be brief.' } as unknown as OpenAIResponsesRequest).messagePaths;
    expect(paths).toEqual([{ path: 'instructions', text: true }, { path: 'input', text: true }]);
    expect(clientFieldPath('messages[1].content', paths)).toBe('input');
  });
});

describe('a function_call_output item: call_id and output', () => {
  it('core\u2019s toolCallId (OpenAI\u2019s tool_call_id) is call_id, its content output, in every form', () => {
    expect(clientFieldPath('messages.3.toolCallId', RESPONSES)).toBe('input.2.call_id');
    expect(clientFieldPath('messages[3].tool_call_id', RESPONSES)).toBe('input[2].call_id');
    expect(clientFieldPath('messages.3.content', RESPONSES)).toBe('input.2.output');
    expect(clientFieldPath('messages.[3].content', RESPONSES)).toBe('input.[2].output');
    expect(clientFieldPath('messages.3', RESPONSES)).toBe('input.2');
    expect(clientFieldPath('messages.3.role', RESPONSES)).toBe('input.2.role');
    expect(clientFieldPath('messages.3.toolCallIds', RESPONSES)).toBe('input.2.toolCallIds');
  });

  it('an error\u2019s param and message text; a warning\u2019s field and message', () => {
    const gemini = error('messages.3.toolCallId', 'messages.3: no earlier assistant tool call has id "x" (messages.3.toolCallId)');
    expect(withClientMessagePath(gemini, RESPONSES)).toMatchObject({ param: 'input.2.call_id', message: 'input.2: no earlier assistant tool call has id "x" (input.2.call_id)' });
    const warnings: CallWarning[] = [{ code: 'cache_control_dropped', field: 'messages.3.content', message: 'messages.3.content: dropped' }];
    expect(withClientWarningPaths(warnings, RESPONSES)).toEqual([{ code: 'cache_control_dropped', field: 'input.2.output', message: 'input.2.output: dropped' }]);
  });
});

describe('a client path under a message of the same index', () => {
  it('the text is renamed in one pass: a client path put in is not renamed again', () => {
    // A /v1/messages tool result block as its own entry: core messages.1 is the client's messages.1.content.0.
    const paths: ClientMessagePaths = [0, { path: 'messages.1.content.0', fields: { toolCallId: 'tool_use_id' } }];
    const e = error('messages.1.toolCallId', 'messages.1.toolCallId answers no call (messages.1)');
    expect(withClientMessagePath(e, paths)).toMatchObject({
      param: 'messages.1.content.0.tool_use_id',
      message: 'messages.1.content.0.tool_use_id answers no call (messages.1.content.0)',
    });
    // A plain string entry too.
    expect(withClientMessagePath(error('messages.1', 'messages.1 and messages.1.content'), [0, 'messages.1.content.0'])).toMatchObject({
      message: 'messages.1.content.0 and messages.1.content.0.content',
    });
  });
});

describe('chat completions legacy turns (an assistant function_call, a function message)', () => {
  const body = {
    model: 'gpt',
    messages: [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '[1]' } },
      { role: 'function', name: 'get_weather', content: 'sunny' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }], function_call: { name: 'get_weather', arguments: '{}' } },
      { role: 'tool', tool_call_id: 'c1', content: 'rain' },
    ],
  } as unknown as OpenAIChatRequest;
  const { messagePaths, fieldNames } = convertChatRequest(body);

  it('the call is messages.N.function_call (its name and arguments), the result\u2019s call id its name', () => {
    expect(clientFieldPath('messages.1.toolCalls.0.arguments', messagePaths)).toBe('messages.1.function_call.arguments');
    expect(clientFieldPath('messages[1].tool_calls[0].function.name', messagePaths)).toBe('messages[1].function_call.name');
    expect(clientFieldPath('messages.2.toolCallId', messagePaths)).toBe('messages.2.name');
    expect(clientFieldPath('messages[2].tool_call_id', messagePaths)).toBe('messages[2].name');
    expect(clientFieldPath('messages.2.content', messagePaths)).toBe('messages.2.content');
    // A turn with tool_calls and a function_call: the tool_calls keep their paths, the function_call comes last.
    expect(clientFieldPath('messages.3.toolCalls.0.arguments', messagePaths)).toBe('messages.3.tool_calls.0.function.arguments');
    expect(clientFieldPath('messages.3.toolCalls.1.arguments', messagePaths)).toBe('messages.3.function_call.arguments');
    // Other messages as they are.
    expect(clientFieldPath('messages.4.toolCallId', messagePaths)).toBe('messages.4.toolCallId');
  });

  it('a warning names the client\u2019s field, with the chat route\u2019s names', () => {
    const warnings: CallWarning[] = [
      { code: 'setting_changed', field: 'messages.1.toolCalls.0.arguments', message: 'messages.1.toolCalls.0.arguments [1] was sent as {}.' },
      { code: 'setting_changed', field: 'messages.2.toolCallId', message: 'messages.2.toolCallId was changed.' },
      { code: 'setting_changed', field: 'messages.3.toolCalls.0.arguments', message: 'messages.3.toolCalls.0.arguments was changed.' },
      { code: 'setting_changed', field: 'messages.4.toolCallId', message: 'messages.4.toolCallId was changed.' },
    ];
    expect(withClientWarningPaths(warnings, messagePaths, fieldNames).map((w) => [w.field, w.message])).toEqual([
      ['messages.1.function_call.arguments', 'messages.1.function_call.arguments [1] was sent as {}.'],
      ['messages.2.name', 'messages.2.name was changed.'],
      ['messages.3.tool_calls.0.function.arguments', 'messages.3.tool_calls.0.function.arguments was changed.'],
      ['messages.4.tool_call_id', 'messages.4.tool_call_id was changed.'],
    ]);
  });

  it('a history without legacy turns has no message paths (core\u2019s are the client\u2019s)', () => {
    expect(convertChatRequest({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] } as unknown as OpenAIChatRequest).messagePaths).toBeUndefined();
  });
});

describe('other core fields named in a text (otherClientFieldsText)', () => {
  const names = chatFieldNames({ max_completion_tokens: 20 });
  const WINDOW = 'The request needs more than the context window holds (500 input + 20 maxTokens)';

  it('renamed in core\u2019s and the gateway\u2019s own errors (a context-window refusal about messages)', () => {
    const own = new LLMError({ code: 'context_length_exceeded', message: WINDOW, param: 'messages' });
    expect(withClientMessagePath(own, undefined, names).message).toContain('20 max_completion_tokens');
  });

  it('kept in a provider\u2019s error (its code provider_..., or upstream text) and in a warning\u2019s text', () => {
    const provider = new LLMError({ code: 'provider_error', message: WINDOW, param: 'messages' });
    expect(withClientMessagePath(provider, undefined, names).message).toBe(WINDOW);
    const upstream = new LLMError({ code: 'invalid_request', message: WINDOW, param: 'messages', upstreamStatus: 400 });
    expect(withClientMessagePath(upstream, undefined, names).message).toBe(WINDOW);
    const warning: CallWarning = { code: 'setting_not_sent', field: 'tools.0.strict', message: 'schema.properties.n uses maxTokens, which strict mode does not take' };
    expect(withClientWarningPaths([warning], undefined, names)[0]!.message).toBe(warning.message);
  });
});
