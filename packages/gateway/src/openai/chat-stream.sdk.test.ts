import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText, generateText, tool, type LanguageModel } from 'ai';
import OpenAI from 'openai';
import { zodFunction } from 'openai/helpers/zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CHAT_DONE, chatChunk as chunk, chatUsageChunk, interleavedWeatherCalls, toolCallDelta as call, weatherCallsCompletion } from '../test-support/openai-chat-sse.js';
import { openAIOverWire } from '../test-support/openai-over-wire.js';

// The official openai client's stream helper (`chat.completions.stream()`) through a real gateway over
// node:http, to an OpenAI-wire upstream (a local server sending a scripted SSE body) whose parallel tool calls
// interleave their argument pieces, as OpenAI's chat wire allows. The helper takes a delta for a new index as
// the end of the previous call: it fires `tool_calls.function.arguments.done` then, and JSON-parses the
// arguments of strict and zod tools. The gateway sends the calls one after another, so each `done` is whole.

const wire = openAIOverWire();

const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
const usageChunk = chatUsageChunk(usage);

/** Two calls started together, their pieces alternating. */
const interleaved = interleavedWeatherCalls(usageChunk);

/** Three calls, the later-indexed one starting first, with text between the pieces. */
const scrambled =
  chunk({ role: 'assistant', tool_calls: [call(2, '{"city":', { id: 'call_c', name: 'get_weather' })] }) +
  chunk({ tool_calls: [call(0, '{"ci', { id: 'call_a', name: 'get_weather' })] }) +
  chunk({ content: 'One moment.' }) +
  chunk({ tool_calls: [call(1, '{"city":"Be', { id: 'call_b', name: 'get_weather' })] }) +
  chunk({ tool_calls: [call(0, 'ty":"Oslo"}')] }) +
  chunk({ tool_calls: [call(2, '"Troms\u00f8"}')] }) +
  chunk({ content: ' Nearly.' }) +
  chunk({ tool_calls: [call(1, 'rgen"}')] }) +
  chunk({}, 'tool_calls') +
  usageChunk +
  CHAT_DONE;

const client = () => wire.gw.openai();
const messages = [{ role: 'user' as const, content: 'Weather in Oslo and Bergen?' }];
const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
type Done = { index: number; name: string; arguments: string; parsed_arguments: unknown };

function argsOf(final: OpenAI.ChatCompletion): string[] {
  return final.choices[0]!.message.tool_calls!.map((t) => (t as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments);
}

describe('official openai client: chat.completions.stream over an upstream that interleaves parallel tool calls', () => {
  it('each call reports tool_calls.function.arguments.done once, with its whole arguments', async () => {
    wire.upstream.setScript({ rawSSE: interleaved });
    const stream = client().chat.completions.stream({ model: 'gpt', messages, tools: [{ type: 'function', function: { name: 'get_weather', parameters } }] });
    const done: Done[] = [];
    stream.on('tool_calls.function.arguments.done', (e) => done.push(e));
    const final = await stream.finalChatCompletion();
    expect(done.map((e) => [e.index, e.arguments])).toEqual([
      [0, '{"city":"Oslo"}'],
      [1, '{"city":"Bergen"}'],
    ]);
    expect(final.choices[0]!.message.content).toBe('Checking both. ');
    expect(final.choices[0]!.message.tool_calls!.map((t) => t.id)).toEqual(['call_a', 'call_b']);
    expect(argsOf(final)).toEqual(['{"city":"Oslo"}', '{"city":"Bergen"}']);
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('strict tools: the helper JSON-parses every call when the next index starts, and finishes', async () => {
    wire.upstream.setScript({ rawSSE: interleaved });
    const stream = client().chat.completions.stream({ model: 'gpt', messages, tools: [{ type: 'function', function: { name: 'get_weather', parameters, strict: true } }] });
    const done: Done[] = [];
    stream.on('tool_calls.function.arguments.done', (e) => done.push(e));
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.tool_calls).toHaveLength(2);
    expect(done.map((e) => e.parsed_arguments)).toEqual([{ city: 'Oslo' }, { city: 'Bergen' }]);
  });

  it('zod tools, calls starting out of index order with text between their pieces: every call parsed once, all text kept', async () => {
    wire.upstream.setScript({ rawSSE: scrambled });
    const tool = zodFunction({ name: 'get_weather', parameters: z.object({ city: z.string() }) });
    const stream = client().chat.completions.stream({ model: 'gpt', messages, tools: [tool] });
    const done: Done[] = [];
    stream.on('tool_calls.function.arguments.done', (e) => done.push(e));
    const final = await stream.finalChatCompletion();
    // The call that started first streams live; the others wait for its arguments, then go in index order,
    // numbered 0, 1, 2 as they are sent.
    expect(done.map((e) => [e.index, e.parsed_arguments])).toEqual([
      [0, { city: 'Troms\u00f8' }],
      [1, { city: 'Oslo' }],
      [2, { city: 'Bergen' }],
    ]);
    const message = final.choices[0]!.message;
    expect(message.content).toBe('One moment. Nearly.');
    expect(message.tool_calls!.map((t) => t.id)).toEqual(['call_c', 'call_a', 'call_b']);
    expect(message.tool_calls!.map((t) => (t as { function: { parsed_arguments?: unknown } }).function.parsed_arguments)).toEqual([{ city: 'Troms\u00f8' }, { city: 'Oslo' }, { city: 'Bergen' }]);
  });

  it('the streamed answer is ledgered like the same answer not streamed', async () => {
    const before = new Set((await wire.gw.ledger.query({ tenantId: 'acme' })).map((r) => r.requestId));
    wire.upstream.setScript({ rawSSE: interleaved });
    const streamed = await client().chat.completions.stream({ model: 'gpt', messages, stream_options: { include_usage: true } }).finalChatCompletion();
    expect(streamed.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
    wire.upstream.setScript({ json: weatherCallsCompletion('Checking both. ', usage) });
    const plain = await client().chat.completions.create({ model: 'gpt', messages });
    expect(plain.choices[0]!.message.tool_calls).toEqual(streamed.choices[0]!.message.tool_calls);
    const rows = (await wire.gw.ledger.query({ tenantId: 'acme' })).filter((r) => !before.has(r.requestId));
    expect(rows).toHaveLength(2);
    const [a, b] = rows.map((r) => ({ status: r.status, inputTokens: r.inputTokens, outputTokens: r.outputTokens, costUsd: r.costUsd }));
    expect(a).toEqual(b);
    expect(a).toMatchObject({ status: 'success', inputTokens: 11, outputTokens: 7 });
  });
});

// The role chunk goes out as the stream opens, before the answer is known to have text, so its `content` is null
// (OpenAI's value with a first tool-call delta), not the `""` of OpenAI's text answers: the AI SDK's `openai.chat()`
// takes any non-null `delta.content` as text, and made a tool-only answer's `""` an empty text part (an empty
// bubble in useChat) before the call. Text answers, and empty ones, read as from OpenAI in the real clients.
describe('the role chunk (content: null) in real clients', () => {
  const weather = { toolCalls: [{ id: 'call_w', name: 'get_weather', arguments: '{"city":"Oslo"}' }] };
  const text = 'Sunny in Oslo, 21 degrees.';
  const tools = { get_weather: tool({ description: 'Weather for a city', inputSchema: z.object({ city: z.string() }) }) };
  const aiChat = () => createOpenAI({ baseURL: `${wire.gw.url}/v1`, apiKey: wire.gw.secret }).chat('gpt');
  const aiCompatible = () => createOpenAICompatible({ name: 'llmrr', baseURL: `${wire.gw.url}/v1`, apiKey: wire.gw.secret })('gpt');
  /** The official client on the upstream itself, which streams as OpenAI does (`content: ""` on its first text chunk). */
  const direct = () => new OpenAI({ baseURL: wire.upstream.baseURL, apiKey: 'k', maxRetries: 0 });

  async function streamed(model: LanguageModel, withTools: boolean): Promise<{ parts: Array<{ type: string; text?: string }>; ui: string[] }> {
    const result = streamText({ model, prompt: 'Weather in Oslo?', ...(withTools ? { tools } : {}), maxRetries: 0, onError: () => {} });
    const ui: string[] = [];
    for await (const chunk of result.toUIMessageStream()) ui.push(chunk.type);
    return { parts: (await result.content) as Array<{ type: string; text?: string }>, ui };
  }

  it('AI SDK openai.chat: a streamed tool-only answer is the call alone, as not streamed (no empty text part)', async () => {
    wire.upstream.setScript(weather);
    const json = await generateText({ model: aiChat(), prompt: 'Weather in Oslo?', tools, maxRetries: 0 });
    expect(json.content.map((p) => p.type)).toEqual(['tool-call']);
    const { parts, ui } = await streamed(aiChat(), true);
    expect(parts.map((p) => p.type)).toEqual(['tool-call']);
    expect(ui).toContain('tool-input-available');
    expect(ui).not.toContain('text-start');
  });

  it('AI SDK openai-compatible: a streamed tool-only answer has no text part', async () => {
    wire.upstream.setScript(weather);
    const { parts, ui } = await streamed(aiCompatible(), true);
    expect(parts.map((p) => p.type)).toEqual(['tool-call']);
    expect(ui).not.toContain('text-start');
  });

  it('AI SDK openai.chat and openai-compatible: a streamed text answer is one text part with the whole text', async () => {
    wire.upstream.setScript({ text });
    for (const model of [aiChat(), aiCompatible()]) {
      const { parts } = await streamed(model, false);
      expect(parts.map((p) => ({ type: p.type, text: p.text }))).toEqual([{ type: 'text', text }]);
    }
  });

  it('official openai client stream helper: text, empty and tool-only answers end as the same stream from OpenAI does', async () => {
    const gatewayClient = client();
    const ask = (c: OpenAI, withTools: boolean) => c.chat.completions.stream({ model: c === gatewayClient ? 'gpt' : 'gpt-test', messages, ...(withTools ? { tools: [{ type: 'function' as const, function: { name: 'get_weather', parameters } }] } : {}) });
    for (const [script, withTools] of [[{ text }, false], [{ text: '' }, false], [weather, true]] as const) {
      wire.upstream.setScript(script);
      const viaGateway = ask(gatewayClient, withTools);
      const message = (await viaGateway.finalChatCompletion()).choices[0]!.message;
      const fromOpenAI = (await ask(direct(), withTools).finalChatCompletion()).choices[0]!.message;
      expect({ role: message.role, content: message.content, refusal: message.refusal }).toEqual({ role: fromOpenAI.role, content: fromOpenAI.content, refusal: fromOpenAI.refusal });
      expect(await viaGateway.finalContent()).toBe(fromOpenAI.content);
      expect(message.tool_calls?.map((t) => t.id)).toEqual(fromOpenAI.tool_calls?.map((t) => t.id));
    }
    // What those are: the whole text; null for an empty answer (the helper keeps no `""`) and a tool-only one.
    wire.upstream.setScript({ text });
    expect(await ask(gatewayClient, false).finalContent()).toBe(text);
    wire.upstream.setScript({ text: '' });
    expect((await ask(gatewayClient, false).finalChatCompletion()).choices[0]!.message.content).toBeNull();
  });
});
