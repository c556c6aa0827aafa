import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { CHAT_DONE, chatChunk, chatUsageChunk, toolCallDelta } from '../test-support/openai-chat-sse.js';
import { openAIOverWire } from '../test-support/openai-over-wire.js';

// An OpenAI-compatible upstream that streams parallel tool calls each whole with `index: 0` and its own id: Ollama does
// (ollama/ollama#15457; vercel/ai#14277), as did SGLang and NVIDIA Dynamo (ai-dynamo/dynamo#4723). core's stream
// decoder (OpenAIStreamDecoder) opens a new call for a new id at a reused index, so the client gets both calls with
// their own ids and arguments: on chat completions (official openai client) and on /v1/messages (official Anthropic
// client) alike, as it does not streamed (where the calls come as a list). A piece without a function name stays with
// the call at its index whatever its id: Poolside (poolsideai/pool#9), OCI and some proxies put a new id on every
// argument piece of one call.

const wire = openAIOverWire();

/** Ollama's stream of two parallel calls: each whole in one chunk, both at index 0, with their own ids. */
const OLLAMA_SSE =
  chatChunk({ role: 'assistant', content: '' }) +
  chatChunk({ tool_calls: [toolCallDelta(0, '{"city":"Oslo"}', { id: 'call_a', name: 'get_weather' })] }) +
  chatChunk({ tool_calls: [toolCallDelta(0, '{"city":"Bergen"}', { id: 'call_b', name: 'get_weather' })] }) +
  chatChunk({}, 'tool_calls') +
  chatUsageChunk({ prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 }) +
  CHAT_DONE;

describe('parallel tool calls streamed at one reused index (Ollama)', () => {
  it('openai client: two calls, each with its own id and arguments', async () => {
    wire.upstream.setScript({ rawSSE: OLLAMA_SSE });
    const completion = await wire.gw
      .openai()
      .chat.completions.stream({
        model: 'gpt',
        messages: [{ role: 'user', content: 'Weather in Oslo and Bergen?' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      })
      .finalChatCompletion();
    const calls = completion.choices[0]!.message.tool_calls!.map((c) => (c.type === 'function' ? [c.id, c.function.arguments] : []));
    expect(calls).toEqual([
      ['call_a', '{"city":"Oslo"}'],
      ['call_b', '{"city":"Bergen"}'],
    ]);
  });

  it('Anthropic client: two tool_use blocks', async () => {
    wire.upstream.setScript({ rawSSE: OLLAMA_SSE });
    const message = await wire.gw
      .anthropic()
      .messages.stream({
        model: 'gpt',
        max_tokens: 200,
        messages: [{ role: 'user', content: 'Weather in Oslo and Bergen?' }],
        tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      })
      .finalMessage();
    const uses = message.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use').map((b) => [b.id, b.input]);
    expect(uses).toEqual([
      ['call_a', { city: 'Oslo' }],
      ['call_b', { city: 'Bergen' }],
    ]);
  });
});

/** One call at index 0: its name under id `call_first`, then its argument pieces at index 0 under another id. */
const ID_PER_PIECE_SSE =
  chatChunk({ role: 'assistant', content: '' }) +
  chatChunk({ tool_calls: [toolCallDelta(0, '', { id: 'call_first', name: 'get_weather' })] }) +
  chatChunk({ tool_calls: [{ index: 0, id: 'call_second', type: 'function', function: { arguments: '{"city":' } }] }) +
  chatChunk({ tool_calls: [{ index: 0, id: 'call_second', type: 'function', function: { arguments: '"Oslo"}' } }] }) +
  chatChunk({}, 'tool_calls') +
  chatUsageChunk({ prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 }) +
  CHAT_DONE;

describe('a tool call whose id changes between its pieces at one index (Poolside, OCI)', () => {
  it('openai client: one call with all of its arguments, under its first id', async () => {
    wire.upstream.setScript({ rawSSE: ID_PER_PIECE_SSE });
    const completion = await wire.gw
      .openai()
      .chat.completions.stream({
        model: 'gpt',
        messages: [{ role: 'user', content: 'Weather in Oslo?' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      })
      .finalChatCompletion();
    const calls = completion.choices[0]!.message.tool_calls!.map((c) => (c.type === 'function' ? [c.id, c.function.name, c.function.arguments] : []));
    expect(calls).toEqual([['call_first', 'get_weather', '{"city":"Oslo"}']]);
  });
});
