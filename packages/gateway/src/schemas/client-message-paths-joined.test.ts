import { LLMError, type CallWarning } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { convertResponsesRequest } from '../responses/to-generate-request.js';
import type { OpenAIResponsesRequest } from './openai-responses.js';
import { clientFieldPath, withClientMessagePath, withClientWarningPaths, type ClientMessagePaths } from './client-message-paths.js';

// A core message joined from several client items (a /v1/responses assistant turn): its tool calls and its text are
// named after their own items, not the item the turn started with.

const CALL_A = { type: 'function_call', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' };
const CALL_B = { type: 'function_call', call_id: 'call_b', name: 'get_weather', arguments: '{"city":' };

function pathsOf(input: unknown[], instructions?: string): ClientMessagePaths | undefined {
  return convertResponsesRequest({ model: 'm', input, ...(instructions ? { instructions } : {}) } as unknown as OpenAIResponsesRequest).messagePaths;
}

describe('convertResponsesRequest: the entry of a joined turn', () => {
  it('parallel calls after a user message: one assistant message whose calls are input.1 and input.2', () => {
    expect(pathsOf([{ role: 'user', content: 'Hi' }, CALL_A, CALL_B, { type: 'function_call_output', call_id: 'call_a', output: 'x' }])).toEqual([
      'input.0',
      { path: 'input.1', toolCalls: ['input.1', 'input.2'] },
      // A function_call_output item names core's toolCallId and content call_id and output.
      { path: 'input.3', fields: { toolCallId: 'call_id', content: 'output' } },
    ]);
  });

  it('an assistant message, its calls and the text after them (the gateway\u2019s own [message, function_call, message])', () => {
    expect(pathsOf([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Checking.' }, CALL_A, { role: 'assistant', content: 'More.' }], 'Be brief.')).toEqual([
      // instructions is a string: the message's text itself.
      { path: 'instructions', text: true },
      'input.0',
      { path: 'input.1', toolCalls: ['input.2'] },
    ]);
    // The turn started with a call: its text is the later message's.
    expect(pathsOf([{ role: 'user', content: 'Hi' }, CALL_A, { type: 'reasoning', id: 'rs', summary: [] }, { role: 'assistant', content: 'Done.' }, CALL_B])).toEqual([
      'input.0',
      { path: 'input.1', toolCalls: ['input.1', 'input.4'], content: 'input.3' },
    ]);
  });

  it('messages without joined items stay strings', () => {
    expect(pathsOf([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Again' }])).toEqual(['input.0', 'input.1', 'input.2']);
  });
});

const JOINED: ClientMessagePaths = ['instructions', 'input.0', { path: 'input.1', toolCalls: ['input.1', 'input.2'], content: 'input.4' }, 'input.5'];

describe('clientFieldPath with a joined entry', () => {
  it('a tool call is its function_call item, with the item\u2019s field names (id is call_id)', () => {
    expect(clientFieldPath('messages.2.toolCalls.1.arguments', JOINED)).toBe('input.2.arguments');
    expect(clientFieldPath('messages.2.toolCalls.0.name', JOINED)).toBe('input.1.name');
    expect(clientFieldPath('messages.2.toolCalls.1.id', JOINED)).toBe('input.2.call_id');
    expect(clientFieldPath('messages.2.toolCalls.1', JOINED)).toBe('input.2');
    expect(clientFieldPath('messages.2.toolCalls.1.other', JOINED)).toBe('input.2.other');
  });

  it('OpenAI\u2019s forms: messages[2].tool_calls[1].function.arguments is input[2].arguments', () => {
    expect(clientFieldPath('messages[2].tool_calls[1].function.arguments', JOINED)).toBe('input[2].arguments');
    expect(clientFieldPath('messages.[2].tool_calls[0].id', JOINED)).toBe('input.[1].call_id');
  });

  it('the content is its text\u2019s item; the message itself and anything else the turn\u2019s first item', () => {
    expect(clientFieldPath('messages.2.content', JOINED)).toBe('input.4.content');
    expect(clientFieldPath('messages.2', JOINED)).toBe('input.1');
    expect(clientFieldPath('messages.2.role', JOINED)).toBe('input.1.role');
    expect(clientFieldPath('messages.2.contents', JOINED)).toBe('input.1.contents');
    // A call index the entry does not have: the message's path, the rest as it is.
    expect(clientFieldPath('messages.2.toolCalls.5.arguments', JOINED)).toBe('input.1.toolCalls.5.arguments');
    expect(clientFieldPath('messages.3', JOINED)).toBe('input.5');
  });
});

describe('errors and warnings about a joined message', () => {
  it('the error names the call\u2019s item in param and message', () => {
    const error = new LLMError({ code: 'invalid_request', message: 'messages.2.toolCalls.1.arguments is not valid JSON (messages.2)', param: 'messages.2.toolCalls.1.arguments' });
    expect(withClientMessagePath(error, JOINED)).toMatchObject({ param: 'input.2.arguments', message: 'input.2.arguments is not valid JSON (input.1)' });
    const openai = new LLMError({ code: 'invalid_request', message: "Invalid 'messages[2].tool_calls[1].function.arguments'", param: 'messages[2].tool_calls[1].function.arguments' });
    expect(withClientMessagePath(openai, JOINED)).toMatchObject({ param: 'input[2].arguments', message: "Invalid 'input[2].arguments'" });
  });

  it('a warning\u2019s field and message', () => {
    const warnings: CallWarning[] = [{ code: 'cache_control_dropped', field: 'messages.2.toolCalls.0.arguments', message: 'messages.2.toolCalls.0.arguments: dropped' }];
    expect(withClientWarningPaths(warnings, JOINED)).toEqual([{ code: 'cache_control_dropped', field: 'input.1.arguments', message: 'input.1.arguments: dropped' }]);
  });
});
