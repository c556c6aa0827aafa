import type { RouterResult } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { AnthropicMessageSchema } from '../schemas/anthropic-messages.js';
import { toAnthropicMessage } from './message-response.js';

const base = {
  requestId: 'req_1',
  deployment: 'dep',
  provider: 'anthropic',
  text: '',
  toolCalls: [],
  finishReason: 'stop',
  usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
  cost: { totalUsd: 0, estimated: false },
  cached: false,
  latencyMs: 1,
} as unknown as RouterResult;

const content = (extra: Partial<RouterResult>) => AnthropicMessageSchema.parse(toAnthropicMessage({ ...base, ...extra }, { explain: false })).content;

describe('toAnthropicMessage: thinking blocks', () => {
  it('reasoning parts first, as they came (signed thinking, redacted), then text and tool calls', () => {
    expect(
      content({
        text: 'Checking.',
        reasoning: 'First.',
        reasoningParts: [
          { type: 'reasoning', text: 'First.', signature: 'sig-1' },
          { type: 'reasoning', text: '', redactedData: 'ENC' },
        ],
        toolCalls: [{ id: 'toolu_1', name: 'f', arguments: '{"a":1}' }],
        finishReason: 'tool-calls',
      }),
    ).toEqual([
      { type: 'thinking', thinking: 'First.', signature: 'sig-1' },
      { type: 'redacted_thinking', data: 'ENC' },
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } },
    ]);
  });

  it('reasoning text without parts (a model that does not sign) is one thinking block with an empty signature', () => {
    expect(content({ text: '42', reasoning: 'Six times seven.' })).toEqual([
      { type: 'thinking', thinking: 'Six times seven.', signature: '' },
      { type: 'text', text: '42' },
    ]);
  });

  it('no text: no empty text block after thinking; an empty answer is content [] (as Anthropic and the streamed answer have it)', () => {
    expect(content({ reasoningParts: [{ type: 'reasoning', text: 'x', signature: 's' }], reasoning: 'x' })).toEqual([{ type: 'thinking', thinking: 'x', signature: 's' }]);
    expect(content({})).toEqual([]);
  });
});
