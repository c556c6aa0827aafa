import type { AnthropicWireServer } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// LiteLLM-style cache_control on /v1/chat/completions: a system message whose marked part is not its last stays
// one core message (its marked parts kept as `parts` for the Anthropic engine, schemas/marked-system-message.ts),
// so core's message indexes stay the client's. An error a deployment raises about a later message names the
// client's message, not shifted because a cache hint was added. (First written as a review test of c14333b, which
// named messages.3 when the system message became two.)

let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: claudeUp } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude')]));
});
afterAll(() => gw?.close());

/** A conversation whose assistant tool call (messages.2) has arguments that are not JSON. */
function body(mark: boolean): OpenAI.ChatCompletionCreateParamsNonStreaming {
  return {
    model: 'claude',
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'A long style guide.', ...(mark ? { cache_control: { type: 'ephemeral' } } : {}) }, { type: 'text', text: 'Today is Thursday.' }] },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
    ],
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
  } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
}

describe('a cache mark on a system part must not renumber the messages in error answers', () => {
  it('the 400 for bad tool-call arguments names messages.2 (the assistant message) with and without the mark', async () => {
    const unmarked = await gw.openai().chat.completions.create(body(false)).catch((e: unknown) => e);
    expect(unmarked).toMatchObject({ status: 400, param: 'messages.2.toolCalls.0.arguments' });
    const marked = await gw.openai().chat.completions.create(body(true)).catch((e: unknown) => e);
    // Not 'messages.3.toolCalls.0.arguments' (messages.3 is the client's tool message): the marked system message
    // counts once.
    expect(marked).toMatchObject({ status: 400, param: 'messages.2.toolCalls.0.arguments' });
    expect(claudeUp.requests).toHaveLength(0);
  });

  it('streamed: the same 400, before the stream opens', async () => {
    const streamed = await gw
      .openai()
      .chat.completions.create({ ...body(true), stream: true } as unknown as OpenAI.ChatCompletionCreateParamsStreaming)
      .catch((e: unknown) => e);
    expect(streamed).toMatchObject({ status: 400, param: 'messages.2.toolCalls.0.arguments' });
    expect((streamed as Error).message).toContain('messages.2.toolCalls.0.arguments');
    expect(claudeUp.requests).toHaveLength(0);
  });
});

describe('tool-call arguments that are JSON but not an object', () => {
  // Anthropic's tool_use.input is an object: refused before the call (core's path, as for arguments that are not JSON).
  it.each(['[1,2]', '"str"', '3'])('%s: a 400 naming the call\'s arguments, nothing sent upstream', async (args) => {
    const b = body(false);
    const call = (b.messages[2] as OpenAI.ChatCompletionAssistantMessageParam).tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    call.function.arguments = args;
    const error = await gw.openai().chat.completions.create(b).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, param: 'messages.2.toolCalls.0.arguments' });
    expect((error as Error).message).toContain('must be a JSON object');
    expect(claudeUp.requests).toHaveLength(0);
  });
});
