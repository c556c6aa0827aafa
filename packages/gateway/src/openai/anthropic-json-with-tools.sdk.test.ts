import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// The official openai client on /v1/chat/completions with `tools`, `tool_choice` and `response_format` together, to an
// Anthropic deployment, whose JSON mode is a forced tool (`json_answer`, core convert-to-anthropic-request.ts):
// - `tool_choice: "required"` (or a named tool): OpenAI's answer is a call of one of the client's tools, so JSON mode's
//   tool is not offered (under Anthropic's `any` the model could call it and skip every real tool: a plain JSON text
//   answer, finish_reason `stop`, to a request that required a tool call);
// - `tool_choice: "none"` (an agent's last turn: "no more tools, give the result as JSON"): served, not refused: the
//   client's tools are kept (the history's tool_use blocks refer to them) and the JSON tool is forced.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'claude', { capabilities: ['chat', 'streaming', 'tools', 'json'] })]);

type ClaudeBody = { tools: Array<{ name: string }>; tool_choice: { type: string; name?: string } };
const lastBody = () => wire.upstreams.anthropic.requests.at(-1)!.body as ClaudeBody;

const TOOLS: OpenAI.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
];
const ASK: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris? Answer as JSON.' }];
const HISTORY: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'user', content: 'Weather in Paris? Then answer as JSON.' },
  { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
  { role: 'tool', tool_call_id: 'call_1', content: 'sunny, 21C' },
];

describe('tool_choice "required" with response_format, to an Anthropic deployment', () => {
  it('the upstream request offers only the client tools: the model cannot answer without calling one', async () => {
    const { response } = await wire.gw
      .openai()
      .chat.completions.create({ model: 'claude', messages: ASK, tools: TOOLS, tool_choice: 'required', response_format: { type: 'json_object' } })
      .withResponse();
    const body = lastBody();
    expect(body.tools.map((t) => t.name)).toEqual(['get_weather']);
    expect(body.tool_choice).toEqual({ type: 'any' });
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('a named tool_choice likewise: the named tool forced, no JSON tool beside it', async () => {
    await wire.gw.openai().chat.completions.create({
      model: 'claude',
      messages: ASK,
      tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: { type: 'json_object' },
    });
    expect(lastBody()).toMatchObject({ tools: [{ name: 'get_weather' }], tool_choice: { type: 'tool', name: 'get_weather' } });
  });

  it('the answer is the client tool call, finish_reason tool_calls (JSON and streamed)', async () => {
    const call = { content: [{ type: 'tool_use' as const, name: 'get_weather', input: { city: 'Paris' }, id: 'toolu_1' }] };
    wire.upstreams.anthropic.enqueue(call);
    const params = { model: 'claude', messages: ASK, tools: TOOLS, tool_choice: 'required' as const, response_format: { type: 'json_object' as const } };
    const res = await wire.gw.openai().chat.completions.create(params);
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(res.choices[0]!.message.tool_calls).toMatchObject([{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    expect(res.choices[0]!.message.content).toBeNull();
    wire.upstreams.anthropic.enqueue({ ...call, chunks: 3 });
    const stream = wire.gw.openai().chat.completions.stream(params);
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(final.choices[0]!.message.tool_calls?.[0]).toMatchObject({ function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
  });
});

describe('tool_choice "none" with response_format, to an Anthropic deployment', () => {
  it('is answered with the JSON (the client tools kept, the JSON tool forced), not refused (JSON and streamed)', async () => {
    const answer = { content: [{ type: 'tool_use' as const, name: 'json_answer', input: { weather: 'sunny' } }] };
    wire.upstreams.anthropic.enqueue(answer);
    const params = { model: 'claude', messages: HISTORY, tools: TOOLS, tool_choice: 'none' as const, response_format: { type: 'json_object' as const } };
    const res = await wire.gw.openai().chat.completions.create(params);
    expect(lastBody().tools.map((t) => t.name)).toEqual(['get_weather', 'json_answer']);
    expect(lastBody().tool_choice).toEqual({ type: 'tool', name: 'json_answer' });
    expect(res.choices[0]!.message.content).toBe('{"weather":"sunny"}');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.choices[0]!.message.tool_calls).toBeUndefined();
    wire.upstreams.anthropic.enqueue({ ...answer, chunks: 3 });
    const final = await wire.gw.openai().chat.completions.stream(params).finalChatCompletion();
    expect(JSON.parse(final.choices[0]!.message.content!)).toEqual({ weather: 'sunny' });
    expect(final.choices[0]!.finish_reason).toBe('stop');
  });
});
