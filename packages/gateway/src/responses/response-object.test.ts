import type { FinishReason, ToolCall } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { outputItems } from './response-object.js';

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
