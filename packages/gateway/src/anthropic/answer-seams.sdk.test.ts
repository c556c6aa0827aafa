import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { CHAT_DONE, chatChunk, toolCallDelta } from '../test-support/openai-chat-sse.js';
import { openAIOverWire } from '../test-support/openai-over-wire.js';

// The gateway's own streamed answer, its text split around a tool call, given back. The model (an OpenAI-wire
// upstream) wrote one content string, A then B, with a tool call streamed between them and no white space at the seam
// (Chinese, Japanese: sentences are never separated by a space). The JSON answer gives it back as one text block "AB",
// the streamed answer as two blocks "A", "B": joined as they are (joinAnswerText), the upstream is sent what the model
// wrote, and the same conversation continued by a streaming client and by a non-streaming one share an exact-cache entry.

const A = '\u6211\u6765\u67e5\u4e00\u4e0b\u3002'; // "Let me check." in Chinese, ends with the ideographic full stop
const B = '\u8bf7\u7a0d\u7b49\u3002'; // "One moment." in Chinese

// One `gpt` deployment over a local OpenAI-wire upstream, with the exact cache.
const wire = openAIOverWire({ cache: { exact: { enabled: true } } });
/** The messages the upstream received in its last request. */
const sent = () => wire.sent();

/** The model's output streamed: A, the search call, B (no white space at either side of the seam). */
const streamedAnswer = () =>
  chatChunk({ role: 'assistant', content: A }) +
  chatChunk({ tool_calls: [toolCallDelta(0, '{"q":', { id: 'c1', name: 'search' })] }) +
  chatChunk({ content: B }) +
  chatChunk({ tool_calls: [toolCallDelta(0, '"cat"}')] }) +
  chatChunk({}, 'tool_calls') +
  CHAT_DONE;

const tools = [{ name: 'search', input_schema: { type: 'object' as const } }];

describe('/v1/messages: the streamed answer split around a tool call, given back', () => {
  it('reaches the upstream as the model wrote it (A + B, the JSON answer\'s text), not with a "\\n" inserted', async () => {
    wire.upstream.setScript({ rawSSE: streamedAnswer() });
    const first: Anthropic.MessageParam = { role: 'user', content: 'Look it up (r1)' };
    const answer = await wire.gw.anthropic().messages.stream({ model: 'gpt', max_tokens: 20, tools, messages: [first] }).finalMessage();
    expect(answer.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'text']);
    wire.upstream.setScript({ text: 'ok' });
    await wire.gw.anthropic().messages.create({
      model: 'gpt',
      max_tokens: 20,
      tools,
      messages: [first, { role: 'assistant', content: answer.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c1', content: 'a cat' }] }],
    });
    expect(sent()[1]).toMatchObject({ role: 'assistant', content: A + B });
  });

  it('the next turn of a streaming client hits the exact-cache entry of the same conversation continued from the JSON answer', async () => {
    const first: Anthropic.MessageParam = { role: 'user', content: 'Look it up (r2)' };
    // The same model output, not streamed: one content string.
    wire.upstream.setScript({ text: A + B, toolCalls: [{ id: 'c1', name: 'search', arguments: '{"q":"cat"}' }] });
    // (Each answer asked apart, so that the second is not the exact cache's replay of the first.)
    const json = await wire.gw.anthropic().messages.create({ model: 'gpt', max_tokens: 20, tools, messages: [{ role: 'user', content: 'Look it up (r2 json)' }] });
    expect(json.content.map((b) => b.type)).toEqual(['text', 'tool_use']);
    wire.upstream.setScript({ rawSSE: streamedAnswer() });
    const streamed = await wire.gw.anthropic().messages.stream({ model: 'gpt', max_tokens: 20, tools, messages: [{ role: 'user', content: 'Look it up (r2 stream)' }] }).finalMessage();
    expect(streamed.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'text']);
    const next = (content: Anthropic.ContentBlock[]) =>
      wire.gw
        .anthropic()
        .messages.create({
          model: 'gpt',
          max_tokens: 20,
          tools,
          messages: [first, { role: 'assistant', content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c1', content: 'a cat' }] }],
        })
        .withResponse();
    wire.upstream.setScript({ text: 'ok' });
    const fromJson = await next(json.content);
    expect(fromJson.response.headers.get('x-llmrr-cache')).toBe('miss');
    const fromStream = await next(streamed.content);
    expect(fromStream.response.headers.get('x-llmrr-cache')).toBe('hit-exact');
  });
});

describe('the Responses API: the streamed output [message, function_call, message], given back', () => {
  it('reaches the upstream as the model wrote it (A + B), not with a "\\n" inserted', async () => {
    wire.upstream.setScript({ rawSSE: streamedAnswer() });
    const fnTools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'search', parameters: { type: 'object' }, strict: null }];
    const stream = wire.gw.openai().responses.stream({ model: 'gpt', tools: fnTools, input: 'Look it up (r3)' });
    const final = await stream.finalResponse();
    expect(final.output.map((o) => o.type)).toEqual(['message', 'function_call', 'message']);
    wire.upstream.setScript({ text: 'ok' });
    await wire.gw.openai().responses.create({
      model: 'gpt',
      tools: fnTools,
      input: [{ role: 'user', content: 'Look it up (r3)' }, ...(final.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: 'c1', output: 'a cat' }],
    });
    expect(sent()[1]).toMatchObject({ role: 'assistant', content: A + B });
  });
});
