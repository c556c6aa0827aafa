import type { OpenAIWireServer } from '@llmrr/core/test';
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedOverDeepSeekWire } from '../test-support/deepseek-wire.js';
import type { SdkGateway } from '../test-support/served-gateway.js';

// DeepSeek's thinking mode wants back the `reasoning_content` of every assistant turn between two user messages when
// tool calls happened between them, the text answer after the tool results included, in every later request (its
// Thinking Mode guide; MoonshotAI/kimi-cli#2141, vercel/ai#14740; else 400 "The reasoning_content in the thinking
// mode must be passed back to the API"). A client of /v1/chat/completions gives back each turn as the gateway
// answered it, `reasoning_content` beside the content or `tool_calls`: the gateway takes it as the turn's reasoning,
// and a `deepseek` deployment sends it on ("" for a turn of such a loop without reasoning). The same through
// /v1/messages, whose turns come back with their thinking blocks (/v1/responses: responses-reasoning-items.sdk.test.ts).

let upstream: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  // DeepSeek's check (`breaksDeepSeekThinking`): every assistant turn of a tool loop carries its reasoning_content.
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

describe('/v1/chat/completions to a deepseek deployment: the user turn after a tool loop', () => {
  type WithReasoning = OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string };
  const back = (m: WithReasoning) =>
    ({ role: 'assistant', content: m.content, ...(m.tool_calls ? { tool_calls: m.tool_calls } : {}), reasoning_content: m.reasoning_content }) as OpenAI.Chat.ChatCompletionAssistantMessageParam;
  const ask = { role: 'user' as const, content: 'Weather in Paris?' };

  it("the loop's final text answer goes back with its reasoning_content, and the next user turn is accepted", async () => {
    const first = (await gw.openai().chat.completions.create({ model: 'ds', messages: [ask], tools })).choices[0]!.message as WithReasoning;
    const result = { role: 'tool' as const, tool_call_id: first.tool_calls![0]!.id, content: '{"sky":"sunny"}' };
    const second = (await gw.openai().chat.completions.create({ model: 'ds', messages: [ask, back(first), result], tools })).choices[0]!.message as WithReasoning;
    expect(second).toMatchObject({ content: 'It is sunny in Paris.', reasoning_content: 'The tool says sunny.' });
    const third = await gw.openai().chat.completions.create({ model: 'ds', messages: [ask, back(first), result, back(second), { role: 'user', content: 'And tomorrow?' }], tools });
    expect(third.choices[0]!.message.content).toBe('Sunny tomorrow too.');
    const sent = (upstream.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> }).messages;
    expect(sent[1]).toMatchObject({ role: 'assistant', reasoning_content: 'I need the weather tool.' });
    expect(sent[3]).toMatchObject({ role: 'assistant', content: 'It is sunny in Paris.', reasoning_content: 'The tool says sunny.' });
  });

  it('a tool loop another provider answered (no reasoning anywhere): each of its assistant turns goes with reasoning_content "", a turn outside a loop without it', async () => {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi! How can I help?' },
      ask,
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_01', content: '{"sky":"sunny"}' },
      { role: 'assistant', content: 'It is sunny in Paris.' },
      { role: 'user', content: 'And tomorrow?' },
    ];
    const answer = await gw.openai().chat.completions.create({ model: 'ds', messages, tools });
    expect(answer.choices[0]!.message.content).toBe('Sunny tomorrow too.');
    const sent = (upstream.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> }).messages;
    expect(sent[1]).toEqual({ role: 'assistant', content: 'Hi! How can I help?' });
    expect(sent[3]).toMatchObject({ role: 'assistant', reasoning_content: '' });
    expect(sent[5]).toEqual({ role: 'assistant', content: 'It is sunny in Paris.', reasoning_content: '' });
  });
});

describe('/v1/messages to a deepseek deployment: the user turn after a tool loop', () => {
  it("each turn given back with its thinking block (the loop's text answer too) reaches DeepSeek with its reasoning_content", async () => {
    const weather: Anthropic.Tool[] = [{ name: 'weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
    const ask: Anthropic.MessageParam = { role: 'user', content: 'Weather in Paris?' };
    const first = await gw.anthropic().messages.create({ model: 'ds', max_tokens: 256, messages: [ask], tools: weather });
    expect(first.content.map((b) => b.type)).toEqual(['thinking', 'tool_use']);
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    const loop: Anthropic.MessageParam[] = [ask, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"sky":"sunny"}' }] }];
    const second = await gw.anthropic().messages.create({ model: 'ds', max_tokens: 256, messages: loop, tools: weather });
    expect(second.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const third = await gw.anthropic().messages.create({ model: 'ds', max_tokens: 256, messages: [...loop, { role: 'assistant', content: second.content }, { role: 'user', content: 'And tomorrow?' }], tools: weather });
    expect(third.content.find((b) => b.type === 'text')).toMatchObject({ text: 'Sunny tomorrow too.' });
    const sent = (upstream.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> }).messages;
    expect(sent[3]).toMatchObject({ role: 'assistant', content: 'It is sunny in Paris.', reasoning_content: 'The tool says sunny.' });
  });
});
