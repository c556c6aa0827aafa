import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { sdkRefusal } from '../test-support/sdk-refusal.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// LiteLLM-style cache_control on /v1/chat/completions: a system message whose marked part is not its last stays
// one core message (its marked parts kept as `parts` for the Anthropic engine, schemas/marked-system-message.ts),
// so core's message indexes stay the client's. An error a deployment raises about a later message names the
// client's message, not shifted because a cache hint was added, and so does a warning. (First written as a review
// test of c14333b, which named messages.3 when the system message became two.) A message's own field is named as the
// client names it too: core's `toolCallId` is the client's `tool_call_id`, a tool call's `arguments` its
// `tool_calls.K.function.arguments`.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'claude'), wireDeployment(u, 'gem')]);

/** A conversation whose assistant tool call (messages.2) has arguments that are not JSON (a warning names them). */
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

describe('a cache mark on a system part must not renumber the messages an answer names', () => {
  // The arguments that are not JSON go to Anthropic as `{ _raw }`, with a warning naming the call's arguments.
  it('the warning for tool-call arguments that are not JSON names messages.2 (the assistant message) with and without the mark', async () => {
    for (const mark of [false, true]) {
      const { response } = await wire.gw.openai().chat.completions.create(body(mark)).withResponse();
      // Not messages.3 (the client's tool message) with the mark: the marked system message counts once.
      expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_changed', 'messages.2.tool_calls.0.function.arguments']);
    }
  });

  it('streamed: the same warning', async () => {
    const { data, response } = await wire.gw
      .openai()
      .chat.completions.create({ ...body(true), stream: true } as unknown as OpenAI.ChatCompletionCreateParamsStreaming)
      .withResponse();
    for await (const _ of data);
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_changed', 'messages.2.tool_calls.0.function.arguments']);
  });
});

describe('a message field an error names is the client\u2019s own', () => {
  // A client that trims old turns sends a tool message whose call is no longer in the history: Gemini needs the called
  // function's name, so the engine refuses it before any call, naming the message's call id field.
  it('a tool message without its call, to a Gemini deployment: a 400 naming messages.1.tool_call_id, in its message too', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'What time is it?' },
      { role: 'tool', tool_call_id: 'call_trimmed', content: '12:00' },
    ];
    for (const stream of [false, true]) {
      const r = await sdkRefusal(wire.gw.openai().chat.completions.create({ model: 'gem', messages, stream }));
      expect(r).toMatchObject({ status: 400, param: 'messages.1.tool_call_id' });
      expect(r.message).toContain('call_trimmed');
      expect(r.message).not.toMatch(/toolCallId|set name/);
    }
    expect(wire.upstreams.gemini.requests).toHaveLength(0);
  });
});
