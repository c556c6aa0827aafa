import type Anthropic from '@anthropic-ai/sdk';
import { beforeAll, describe, expect, it } from 'vitest';
import { openAIOverWire } from '../test-support/openai-over-wire.js';

// The official @anthropic-ai/sdk client forces a tool (`tool_choice: {type:"tool"}`) through /v1/messages; the
// deployment is OpenAI-compatible, and OpenAI answers a forced call with `finish_reason: "stop"` beside its
// `tool_calls` (vLLM does the same for a named tool_choice). Anthropic's API ends such a turn with
// `stop_reason: "tool_use"`, and agent loops written against it run the tools when `stop_reason === "tool_use"`: the
// gateway answers the same, non-streamed and streamed.


const wire = openAIOverWire();
beforeAll(() => {
  wire.upstream.setScript({ text: '', toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' }], finishReason: 'stop' });
});

const params: Anthropic.MessageCreateParamsNonStreaming = {
  model: 'gpt',
  max_tokens: 200,
  messages: [{ role: 'user', content: 'Weather in Paris?' }],
  tools: [{ name: 'weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
  tool_choice: { type: 'tool', name: 'weather' },
};

describe('/v1/messages: a forced tool call from an OpenAI-compatible deployment', () => {
  it('non-streamed: stop_reason is tool_use beside the tool_use block', async () => {
    const message = await wire.gw.anthropic().messages.create(params);
    expect(message.content.map((b) => b.type)).toEqual(['tool_use']);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('streamed (messages.stream().finalMessage()): stop_reason is tool_use', async () => {
    const message = await wire.gw.anthropic().messages.stream(params).finalMessage();
    expect(message.content.map((b) => b.type)).toEqual(['tool_use']);
    expect(message.stop_reason).toBe('tool_use');
  });
});
