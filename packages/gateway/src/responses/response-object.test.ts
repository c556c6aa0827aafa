import type { FinishReason, ToolCall } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import type { OpenAIResponsesRequest } from '../schemas/openai-responses.js';
import { outputItems, responseEcho } from './response-object.js';

const call: ToolCall = { id: 'call_a', name: 'f', arguments: '{"a":' };

function items(text: string, extra: { reasoning?: string; toolCalls?: ToolCall[]; finishReason?: FinishReason } = {}) {
  return outputItems({ requestId: 'req_abc', text, toolCalls: [], finishReason: 'stop', ...extra }).map((o) => [o.type, o.status]);
}

describe('outputItems (the non-streamed output)', () => {
  it('has the message when there is text, or when there is no other item at all', () => {
    expect(items('Hi')).toEqual([['message', 'completed']]);
    expect(items('')).toEqual([['message', 'completed']]);
    expect(items('', { toolCalls: [call] })).toEqual([['function_call', 'completed']]);
    // A limit hit during reasoning: OpenAI answers with the reasoning item alone (so does the stream).
    expect(items('', { reasoning: 'Let me think', finishReason: 'length' })).toEqual([['reasoning', 'incomplete']]);
  });

  it('on a length or content-filter finish only the last item (the one cut) is incomplete', () => {
    expect(items('Checking.', { toolCalls: [call], finishReason: 'length' })).toEqual([
      ['message', 'completed'],
      ['function_call', 'incomplete'],
    ]);
    expect(items('Partial', { reasoning: 'r', finishReason: 'content-filter' })).toEqual([
      ['reasoning', 'completed'],
      ['message', 'incomplete'],
    ]);
    expect(items('', { finishReason: 'length' })).toEqual([['message', 'incomplete']]);
  });

  it('gives the reasoning as a summary part and as reasoning_text content', () => {
    const [reasoning] = outputItems({ requestId: 'req_abc', text: 'A', reasoning: 'Think.', toolCalls: [], finishReason: 'stop' });
    expect(reasoning).toEqual({ type: 'reasoning', id: 'rs_abc', summary: [{ type: 'summary_text', text: 'Think.' }], content: [{ type: 'reasoning_text', text: 'Think.' }], status: 'completed' });
  });
});

describe('responseEcho: text.format in the schema\u2019s key order', () => {
  const format = (f: unknown) => JSON.stringify(responseEcho({ model: 'm', input: 'hi', text: { format: f } } as OpenAIResponsesRequest).text.format);
  const schema = { type: 'object', properties: { name: { type: 'string' } } };

  it('a json_schema format as the Vercel AI SDK orders it is echoed as zod orders it (and as the gateway echoed it before)', () => {
    expect(format({ type: 'json_schema', strict: true, name: 'response', description: 'A recipe.', schema })).toBe(
      '{"type":"json_schema","name":"response","schema":{"type":"object","properties":{"name":{"type":"string"}}},"description":"A recipe.","strict":true}',
    );
    expect(format({ strict: null, schema, name: 'r', type: 'json_schema' })).toBe('{"type":"json_schema","name":"r","schema":{"type":"object","properties":{"name":{"type":"string"}}},"strict":null}');
  });

  it('other keys follow the schema\u2019s, in the order sent; the schema itself keeps its order', () => {
    expect(format({ x: 1, type: 'json_schema', name: 'r', y: 2, schema: { b: 1, a: 2 } })).toBe('{"type":"json_schema","name":"r","schema":{"b":1,"a":2},"x":1,"y":2}');
    expect(format({ extra: 1, type: 'text' })).toBe('{"type":"text","extra":1}');
    expect(format({ type: 'json_object', name: 'ignored' })).toBe('{"type":"json_object","name":"ignored"}');
  });

  it('no format echoes the text format; an own __proto__ key is not copied (nor does it become the prototype)', () => {
    expect(JSON.stringify(responseEcho({ model: 'm', input: 'hi' } as OpenAIResponsesRequest).text)).toBe('{"format":{"type":"text"},"verbosity":"medium"}');
    const echoed = responseEcho({ model: 'm', input: 'hi', text: { format: JSON.parse('{"type":"text","__proto__":{"x":1}}') } } as OpenAIResponsesRequest).text.format;
    expect(Object.keys(echoed)).toEqual(['type']);
    expect(Object.getPrototypeOf(echoed)).toBe(Object.prototype);
  });
});
