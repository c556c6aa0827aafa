import { describe, expect, it } from 'vitest';
import { CHAT_DONE, chatChunk as chunk, chatUsageChunk } from '../test-support/openai-chat-sse.js';
import { openAIOverWire } from '../test-support/openai-over-wire.js';

// An OpenAI-compatible upstream that ends with finish_reason "tool_calls" but sends no tool call (vLLM or Ollama when
// their tool parser fails on the model's output: the text stays in `content`). The official openai client through
// /v1/chat/completions gets the text with `finish_reason: "stop"`, non-streamed and streamed: "tool_calls" would tell
// an agent loop to answer calls that are not there (the core engine reports the answer finished `stop`).

const wire = openAIOverWire();

const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
const request = {
  model: 'gpt',
  messages: [{ role: 'user' as const, content: 'Weather in Oslo?' }],
  tools: [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
};
const TEXT = '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}</tool_call>';

describe('/v1/chat/completions: finish_reason "tool_calls" without a tool call', () => {
  it('not streamed: the text, finish_reason "stop", no tool_calls', async () => {
    wire.upstream.setScript({
      json: { id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: TEXT } }], usage },
    });
    const completion = await wire.gw.openai().chat.completions.create(request);
    const choice = completion.choices[0]!;
    expect(choice.message.content).toBe(TEXT);
    expect(choice.message.tool_calls ?? []).toEqual([]);
    expect(choice.finish_reason).toBe('stop');
  });

  it('streamed (chat.completions.stream().finalChatCompletion()): the same', async () => {
    wire.upstream.setScript({ rawSSE: chunk({ role: 'assistant', content: TEXT }) + chunk({}, 'tool_calls') + chatUsageChunk(usage) + CHAT_DONE });
    const completion = await wire.gw.openai().chat.completions.stream(request).finalChatCompletion();
    const choice = completion.choices[0]!;
    expect(choice.message.content).toBe(TEXT);
    expect(choice.message.tool_calls ?? []).toEqual([]);
    expect(choice.finish_reason).toBe('stop');
  });
});
