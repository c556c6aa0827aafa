import { describe, expect, it } from 'vitest';
import { CHAT_DONE, chatChunk as chunk, chatUsageChunk } from '../test-support/openai-chat-sse.js';
import { openAIOverWire } from '../test-support/openai-over-wire.js';

// An upstream whose tool parser failed part-way streams a tool call fragment with arguments but no function name
// (then `finish_reason: "tool_calls"`). No call was made that an agent could answer: core's OpenAI-compatible engine
// leaves the nameless fragment out and finishes `stop`, so the official Anthropic client through /v1/messages gets
// the text and `stop_reason: "end_turn"`, no `tool_use` block naming no tool (`name: ""`, which Anthropic never
// sends), streamed and not.

const wire = openAIOverWire();

const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
const TEXT = '<tool_call>{"name": "get_weather", "arguments": {"city": "Os';

describe('/v1/messages: a tool_calls finish whose only tool call fragment has no name', () => {
  it('streamed: answers no tool_use block without a tool name, and no tool_use stop without a call', async () => {
    wire.upstream.setScript({
      rawSSE: chunk({ role: 'assistant', content: TEXT }) + chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city": "Os' } }] }) + chunk({}, 'tool_calls') + chatUsageChunk(usage) + CHAT_DONE,
    });
    const message = await wire.gw
      .anthropic()
      .messages.stream({ model: 'gpt', max_tokens: 100, messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] })
      .finalMessage();
    const toolUses = message.content.filter((b) => b.type === 'tool_use');
    expect(toolUses.filter((b) => b.name === '')).toEqual([]);
    if (toolUses.length === 0) expect(message.stop_reason).toBe('end_turn');
    expect(toolUses).toEqual([]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content.map((b) => (b.type === 'text' ? b.text : b.type))).toEqual([TEXT]);
  });

  it('not streamed: the same answer, the text with end_turn', async () => {
    const call = { id: 'call_x', type: 'function', function: { name: '', arguments: '{"city": "Os' } };
    wire.upstream.setScript({
      json: { id: 'chatcmpl-a1', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: TEXT, tool_calls: [call] }, finish_reason: 'tool_calls' }], usage },
    });
    const message = await wire.gw
      .anthropic()
      .messages.create({ model: 'gpt', max_tokens: 100, messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] });
    expect(message.content.filter((b) => b.type === 'tool_use')).toEqual([]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content.map((b) => (b.type === 'text' ? b.text : b.type))).toEqual([TEXT]);
  });
});
