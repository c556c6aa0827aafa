import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import { sdkRefusal } from '../test-support/sdk-refusal.js';

// `tools` and `tool_choice` that cannot go together, on /v1/chat/completions, /v1/responses and /v1/messages through a served
// gateway and the official client: two tools of one name, a tool_choice that asks for a tool call (`required`, or a
// named tool) with no tools, a named tool_choice naming a tool not in `tools`. Each is a 400 naming the field, as
// OpenAI answers, with nothing sent upstream; `auto` and `none` without tools ask for nothing and pass.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt')]);

const params = { type: 'object', properties: { city: { type: 'string' } } };
const chatTool = (name: string): OpenAI.ChatCompletionTool => ({ type: 'function', function: { name, parameters: params } });
const respTool = (name: string): OpenAI.Responses.FunctionTool => ({ type: 'function', name, parameters: params, strict: false });
const ASK: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];

type ChatBody = OpenAI.ChatCompletionCreateParamsNonStreaming;
type RespBody = OpenAI.Responses.ResponseCreateParamsNonStreaming;
const chat = (extra: Partial<ChatBody>) => wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, ...extra } as ChatBody);
const responses = (extra: Partial<RespBody>) => wire.gw.openai().responses.create({ model: 'gpt', input: 'Weather in Paris?', ...extra } as RespBody);

describe('/v1/chat/completions', () => {
  it('two tools of one name: a 400 naming the second tool\'s name', async () => {
    const r = await sdkRefusal(chat({ tools: [chatTool('get_weather'), chatTool('get_time'), chatTool('get_weather')] }));
    expect(r).toMatchObject({ status: 400, param: 'tools.2.function.name' });
    expect(r.message).toContain('get_weather');
    expect(r.message).toContain('tools.0');
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it.each([
    ['required', undefined],
    ['required', []],
    [{ type: 'function', function: { name: 'get_weather' } }, undefined],
    [{ type: 'function', function: { name: 'get_weather' } }, []],
  ] as const)('tool_choice %j with tools %j: a 400 naming tool_choice', async (choice, tools) => {
    const r = await sdkRefusal(chat({ tool_choice: choice as ChatBody['tool_choice'], ...(tools ? { tools: [...tools] } : {}) }));
    expect(r.status).toBe(400);
    expect(r.param).toMatch(/^tool_choice/);
    expect(r.message).toContain('tools');
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it('a named tool_choice naming a tool not in tools: a 400 naming tool_choice.function.name', async () => {
    const r = await sdkRefusal(chat({ tools: [chatTool('get_time')], tool_choice: { type: 'function', function: { name: 'get_weather' } } }));
    expect(r).toMatchObject({ status: 400, param: 'tool_choice.function.name' });
    expect(r.message).toContain('get_weather');
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it.each(['auto', 'none'] as const)('tool_choice %s without tools asks for nothing: answered', async (choice) => {
    const json = await chat({ tool_choice: choice });
    expect(json.choices).toHaveLength(1);
    expect(wire.upstreams.openai.requests).toHaveLength(1);
  });

  it('distinct names and a tool_choice naming one of them reach the upstream', async () => {
    await chat({ tools: [chatTool('get_weather'), chatTool('get_time')], tool_choice: 'required' });
    const body = wire.upstreams.openai.requests.at(-1)!.body as { tools: Array<{ function: { name: string } }>; tool_choice: unknown };
    expect(body.tools.map((t) => t.function.name)).toEqual(['get_weather', 'get_time']);
    expect(body.tool_choice).toBe('required');
  });
});

describe('/v1/responses', () => {
  it('two tools of one name: a 400 naming the second tool\'s name', async () => {
    const r = await sdkRefusal(responses({ tools: [respTool('get_weather'), respTool('get_weather')] }));
    expect(r).toMatchObject({ status: 400, param: 'tools.1.name' });
    expect(r.message).toContain('get_weather');
    expect(r.message).toContain('tools.0');
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it.each([
    ['required', undefined],
    ['required', []],
    [{ type: 'function', name: 'get_weather' }, undefined],
    [{ type: 'function', name: 'get_weather' }, []],
  ] as const)('tool_choice %j with tools %j: a 400 naming tool_choice', async (choice, tools) => {
    const r = await sdkRefusal(responses({ tool_choice: choice as RespBody['tool_choice'], ...(tools ? { tools: [...tools] } : {}) }));
    expect(r.status).toBe(400);
    expect(r.param).toMatch(/^tool_choice/);
    expect(r.message).toContain('tools');
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it('a named tool_choice naming a tool not in tools: a 400 naming tool_choice.name', async () => {
    const r = await sdkRefusal(responses({ tools: [respTool('get_time')], tool_choice: { type: 'function', name: 'get_weather' } }));
    expect(r).toMatchObject({ status: 400, param: 'tool_choice.name' });
    expect(r.message).toContain('get_weather');
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it.each(['auto', 'none'] as const)('tool_choice %s without tools asks for nothing: answered', async (choice) => {
    const res = await responses({ tool_choice: choice });
    expect(res.status).toBe('completed');
    expect(wire.upstreams.openai.requests).toHaveLength(1);
  });
});

describe('/v1/messages (the official anthropic client, to an OpenAI-wire deployment)', () => {
  type MsgBody = Anthropic.MessageCreateParamsNonStreaming;
  const msgTool = (name: string): Anthropic.Tool => ({ name, input_schema: { type: 'object', properties: { city: { type: 'string' } } } });
  const messages = (extra: Partial<MsgBody>) =>
    wire.gw.anthropic().messages.create({ model: 'gpt', max_tokens: 50, messages: [{ role: 'user', content: 'Weather in Paris?' }], ...extra } as MsgBody);

  it("two tools of one name: a 400 naming the second tool's name", async () => {
    const r = await sdkRefusal(messages({ tools: [msgTool('get_weather'), msgTool('get_weather')] }));
    expect(r).toMatchObject({ status: 400, param: 'tools.1.name' });
    expect(r.message).toContain('tools.0');
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it.each([
    [{ type: 'any' }, 'tool_choice', '{ type: "any" }'],
    [{ type: 'tool', name: 'get_weather' }, 'tool_choice.name', 'get_weather'],
  ] as const)('tool_choice %j without tools: a 400 naming %s', async (choice, param, named) => {
    const r = await sdkRefusal(messages({ tool_choice: choice as MsgBody['tool_choice'] }));
    expect(r).toMatchObject({ status: 400, param });
    expect(r.message).toContain(named);
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it('a named tool_choice naming a tool not in tools: a 400 naming tool_choice.name', async () => {
    const r = await sdkRefusal(messages({ tools: [msgTool('get_time')], tool_choice: { type: 'tool', name: 'get_weather' } }));
    expect(r).toMatchObject({ status: 400, param: 'tool_choice.name' });
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it.each([{ type: 'auto' }, { type: 'none' }] as const)('tool_choice %j without tools asks for nothing: answered', async (choice) => {
    const res = await messages({ tool_choice: choice });
    expect(res.type).toBe('message');
    expect(wire.upstreams.openai.requests).toHaveLength(1);
  });
});
