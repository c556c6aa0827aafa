import type { OpenAIWireServer } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedOverDeepSeekWire } from '../test-support/deepseek-wire.js';
import type { SdkGateway } from '../test-support/served-gateway.js';

// DeepSeek's thinking mode wants an assistant turn's `reasoning_content` back within a tool loop (its Thinking Mode
// guide; else 400 "The reasoning_content in the thinking mode must be passed back to the API"). A client of
// /v1/chat/completions gives back the turn as the gateway answered it, `reasoning_content` beside `tool_calls`: the
// gateway takes it as the turn's reasoning, and a `deepseek` deployment sends it on.

let upstream: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  // DeepSeek's check: every assistant turn with tool calls after the last user message carries its reasoning_content.
  ({ upstream, gw } = await servedOverDeepSeekWire());
});
afterAll(() => gw?.close());

const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

describe('/v1/chat/completions to a deepseek deployment: a tool loop gives the turn back with its reasoning_content', () => {
  it('the second step is accepted, the reasoning sent on to the deployment', async () => {
    const user = { role: 'user' as const, content: 'Weather in Paris?' };
    const first = await gw.openai().chat.completions.create({ model: 'ds', messages: [user], tools });
    const turn = first.choices[0]!.message as OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string };
    expect(turn.reasoning_content).toBe('I need the weather tool.');
    const assistant = { role: 'assistant', content: turn.content, tool_calls: turn.tool_calls, reasoning_content: turn.reasoning_content } as OpenAI.Chat.ChatCompletionAssistantMessageParam;
    const second = await gw.openai().chat.completions.create({ model: 'ds', messages: [user, assistant, { role: 'tool', tool_call_id: 'call_w1', content: '{"sky":"sunny"}' }], tools });
    expect(second.choices[0]!.message.content).toBe('It is sunny in Paris.');
    const sent = (upstream.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> }).messages[1];
    expect(sent).toMatchObject({ role: 'assistant', reasoning_content: 'I need the weather tool.' });
  });
});
