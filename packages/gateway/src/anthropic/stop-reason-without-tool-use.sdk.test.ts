import { describe, expect, it } from 'vitest';
import { CHAT_DONE, chatChunk as chunk, chatUsageChunk } from '../test-support/openai-chat-sse.js';
import { openAIOverWire } from '../test-support/openai-over-wire.js';

// An OpenAI-compatible upstream that ends with finish_reason "tool_calls" but sends no tool call (vLLM or Ollama when
// their tool parser fails on the model's output: the text stays in `content`): the answer is that text, so /v1/messages
// answers `stop_reason: "end_turn"`, not `tool_use`, non-streamed and streamed. Anthropic's `tool_use` promises
// tool_use blocks: the agent loop of Anthropic's docs (`while (msg.stop_reason === 'tool_use')`, answer every tool_use
// block with a tool_result) would send a user turn without any tool_result. The core OpenAI-compatible engine reports
// such an answer as finished `stop` (`finishOfAnswer`), as the Anthropic engine does its own `tool_use` without calls.
//
// An OpenAI model's refusal (`message.refusal`, streamed as `delta.refusal`, finish_reason "stop": the model declined,
// as structured outputs report it) answers `stop_reason: "refusal"`, as Anthropic's own refusals do (its text is the
// answer's text), so a client checking `stop_reason === 'refusal'` sees it, non-streamed and streamed.

const wire = openAIOverWire();

const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
const request = {
  model: 'gpt',
  max_tokens: 100,
  messages: [{ role: 'user' as const, content: 'Weather in Oslo?' }],
  tools: [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }],
};
const TEXT = '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}</tool_call>';

describe('/v1/messages: finish_reason "tool_calls" without a tool call', () => {
  it('not streamed: no tool_use block, so stop_reason is not "tool_use"', async () => {
    wire.upstream.setScript({
      json: { id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: TEXT } }], usage },
    });
    const message = await wire.gw.anthropic().messages.create(request);
    expect(message.content).toEqual([{ type: 'text', text: TEXT }]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('streamed (messages.stream().finalMessage()): the same', async () => {
    wire.upstream.setScript({ rawSSE: chunk({ role: 'assistant', content: TEXT }) + chunk({}, 'tool_calls') + chatUsageChunk(usage) + CHAT_DONE });
    const message = await wire.gw.anthropic().messages.stream(request).finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: TEXT }]);
    expect(message.stop_reason).toBe('end_turn');
  });
});

describe('/v1/messages: an OpenAI model\u2019s refusal', () => {
  const REFUSAL = "I'm sorry, I can't help with that.";

  it('not streamed: its text, and stop_reason "refusal"', async () => {
    wire.upstream.setScript({
      json: { id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: null, refusal: REFUSAL } }], usage },
    });
    const message = await wire.gw.anthropic().messages.create(request);
    expect(message.content).toEqual([{ type: 'text', text: REFUSAL }]);
    expect(message.stop_reason).toBe('refusal');
  });

  it('streamed (messages.stream().finalMessage()): the same', async () => {
    wire.upstream.setScript({ rawSSE: chunk({ role: 'assistant', refusal: "I'm sorry, " }) + chunk({ refusal: "I can't help with that." }) + chunk({}, 'stop') + chatUsageChunk(usage) + CHAT_DONE });
    const message = await wire.gw.anthropic().messages.stream(request).finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: REFUSAL }]);
    expect(message.stop_reason).toBe('refusal');
  });

  it('a refusal cut by max_tokens stays "max_tokens"', async () => {
    wire.upstream.setScript({ rawSSE: chunk({ role: 'assistant', refusal: "I'm sorry" }) + chunk({}, 'length') + chatUsageChunk(usage) + CHAT_DONE });
    const message = await wire.gw.anthropic().messages.stream(request).finalMessage();
    expect(message.stop_reason).toBe('max_tokens');
  });

  it('a refusal and a tool call in one answer (finish_reason stop): stop_reason "tool_use" (a client loop must answer the call)', async () => {
    wire.upstream.setScript({
      json: {
        id: 'chatcmpl-y',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-test',
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: null, refusal: REFUSAL, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] } }],
        usage,
      },
    });
    const message = await wire.gw.anthropic().messages.create(request);
    expect(message.content.some((b) => b.type === 'tool_use')).toBe(true);
    expect(message.stop_reason).toBe('tool_use');
  });
});
