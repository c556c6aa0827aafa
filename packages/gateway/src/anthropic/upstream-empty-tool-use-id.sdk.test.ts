import type Anthropic from '@anthropic-ai/sdk';
import type { AnthropicWireReply } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { claudeOverWire } from '../test-support/claude-over-wire.js';

// An Anthropic-compatible upstream that answers `tool_use` blocks with `id: ""`: every route gives the client a
// non-empty id made up for it (`toolu_<message id>_<index>`, the same streamed or not), as the OpenAI-compatible
// engine does for an upstream call id "" (upstream-empty-tool-call-id.sdk.test.ts), so the client can answer the
// call (the gateway's schemas refuse an empty id on the next turn), and that next turn reaches the upstream with
// the call and its result naming the same id. The official clients against the served gateway.

const wire = claudeOverWire();

const reply: AnthropicWireReply = {
  id: 'msg_empty_ids',
  content: [
    { type: 'tool_use', id: '', name: 'weather', input: { city: 'Paris' } },
    { type: 'tool_use', id: '', name: 'weather', input: { city: 'Rome' } },
  ],
};
const IDS = ['toolu_msg_empty_ids_0', 'toolu_msg_empty_ids_1'];

/** The tool_use ids and tool_result tool_use_ids of the last request the upstream received. */
function sentIds(): { uses: string[]; results: string[] } {
  const messages = (wire.claudeUp.requests.at(-1)!.body as { messages: { content: unknown }[] }).messages;
  const blocks = messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as { type: string; id?: string; tool_use_id?: string }[]) : []));
  return { uses: blocks.filter((b) => b.type === 'tool_use').map((b) => b.id!), results: blocks.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id!) };
}

describe('/v1/messages: tool_use ids "" from an Anthropic-compatible upstream', () => {
  const tools: Anthropic.Tool[] = [{ name: 'weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
  const ask: Anthropic.MessageParam = { role: 'user', content: 'Weather in Paris and Rome?' };

  it('not streamed: non-empty distinct ids, and the next turn sends them back on both the calls and the results', async () => {
    wire.claudeUp.enqueue(reply);
    const first = await wire.gw.anthropic().messages.create({ model: 'claude', max_tokens: 100, messages: [ask], tools });
    const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(uses.map((b) => b.id)).toEqual(IDS);
    wire.claudeUp.enqueue({ content: 'Sunny in both.' });
    const next = await wire.gw.anthropic().messages.create({
      model: 'claude',
      max_tokens: 100,
      tools,
      messages: [ask, { role: 'assistant', content: uses }, { role: 'user', content: uses.map((u) => ({ type: 'tool_result' as const, tool_use_id: u.id, content: 'sunny' })) }],
    });
    expect(next.content[0]).toMatchObject({ type: 'text', text: 'Sunny in both.' });
    expect(sentIds()).toEqual({ uses: IDS, results: IDS });
  });

  it('streamed: the same ids as not streamed', async () => {
    wire.claudeUp.enqueue({ ...reply, chunks: 2 });
    const message = await wire.gw.anthropic().messages.stream({ model: 'claude', max_tokens: 100, messages: [ask], tools }).finalMessage();
    expect(message.content.filter((b) => b.type === 'tool_use').map((b) => (b as Anthropic.ToolUseBlock).id)).toEqual(IDS);
  });
});

describe('/v1/chat/completions: tool_use ids "" from an Anthropic-compatible upstream', () => {
  const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const ask: OpenAI.Chat.Completions.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Paris and Rome?' };

  it('not streamed: ids the client can answer, and its next turn maps them back to the upstream', async () => {
    wire.claudeUp.enqueue(reply);
    const first = await wire.gw.openai().chat.completions.create({ model: 'claude', messages: [ask], tools });
    const calls = first.choices[0]!.message.tool_calls! as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall[];
    expect(calls.map((c) => c.id)).toEqual(IDS);
    wire.claudeUp.enqueue({ content: 'Sunny in both.' });
    const next = await wire.gw.openai().chat.completions.create({
      model: 'claude',
      tools,
      messages: [ask, { role: 'assistant', content: null, tool_calls: calls }, ...calls.map((c) => ({ role: 'tool' as const, tool_call_id: c.id, content: 'sunny' }))],
    });
    expect(next.choices[0]!.message.content).toBe('Sunny in both.');
    expect(sentIds()).toEqual({ uses: IDS, results: IDS });
  });

  it('streamed: the same ids as not streamed', async () => {
    wire.claudeUp.enqueue({ ...reply, chunks: 2 });
    const final = await wire.gw.openai().chat.completions.stream({ model: 'claude', messages: [ask], tools }).finalChatCompletion();
    expect(final.choices[0]!.message.tool_calls!.map((c) => c.id)).toEqual(IDS);
  });
});

describe('/v1/responses: tool_use ids "" from an Anthropic-compatible upstream', () => {
  const tools: OpenAI.Responses.FunctionTool[] = [{ type: 'function', name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
  const isCall = (i: OpenAI.Responses.ResponseOutputItem): i is OpenAI.Responses.ResponseFunctionToolCall => i.type === 'function_call';

  it('not streamed: function_call call_ids the client answers with function_call_output, mapped back to the upstream', async () => {
    wire.claudeUp.enqueue(reply);
    const first = await wire.gw.openai().responses.create({ model: 'claude', input: 'Weather in Paris and Rome?', tools });
    const calls = first.output.filter(isCall);
    expect(calls.map((c) => c.call_id)).toEqual(IDS);
    wire.claudeUp.enqueue({ content: 'Sunny in both.' });
    const input: OpenAI.Responses.ResponseInputItem[] = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      ...calls.map((c) => ({ type: 'function_call' as const, call_id: c.call_id, name: c.name, arguments: c.arguments })),
      ...calls.map((c) => ({ type: 'function_call_output' as const, call_id: c.call_id, output: 'sunny' })),
    ];
    expect((await wire.gw.openai().responses.create({ model: 'claude', input, tools })).output_text).toBe('Sunny in both.');
    expect(sentIds()).toEqual({ uses: IDS, results: IDS });
  });

  it('streamed: the same call_ids as not streamed', async () => {
    wire.claudeUp.enqueue({ ...reply, chunks: 2 });
    const final = await wire.gw.openai().responses.stream({ model: 'claude', input: 'Weather in Paris and Rome?', tools }).finalResponse();
    expect(final.output.filter((i) => i.type === 'function_call').map((c) => (c as OpenAI.Responses.ResponseFunctionToolCall).call_id)).toEqual(IDS);
  });
});
