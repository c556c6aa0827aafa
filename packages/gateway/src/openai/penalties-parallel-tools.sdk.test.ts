import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import { sdkRefusal } from '../test-support/sdk-refusal.js';

// frequency_penalty, presence_penalty and parallel_tool_calls (OpenAI routes), logit_bias (chat completions) and
// tool_choice.disable_parallel_tool_use (/v1/messages) through a served gateway and the official clients, to an
// OpenAI-wire and an Anthropic-wire upstream recording the bodies they get; bad values are 400s naming the field.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt'), wireDeployment(u, 'claude')]);

const lastOpenAIBody = () => wire.upstreams.openai.requests.at(-1)!.body as Record<string, unknown>;
const lastClaudeBody = () => wire.upstreams.anthropic.requests.at(-1)!.body as Record<string, unknown>;

const TOOLS: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
const ASK: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris and Rome?' }];

describe('/v1/chat/completions', () => {
  it('frequency_penalty, presence_penalty and parallel_tool_calls reach an OpenAI-compatible upstream as sent (JSON and streamed)', async () => {
    const json = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, tools: TOOLS, frequency_penalty: 0.5, presence_penalty: -1.25, parallel_tool_calls: false });
    expect(json.choices).toHaveLength(1);
    expect(lastOpenAIBody()).toMatchObject({ frequency_penalty: 0.5, presence_penalty: -1.25, parallel_tool_calls: false });
    const stream = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, tools: TOOLS, frequency_penalty: -2, presence_penalty: 2, parallel_tool_calls: true, stream: true });
    for await (const _ of stream) void _;
    // (`true` is the provider's default: whether it goes out is the engine's choice.)
    expect(lastOpenAIBody()).toMatchObject({ frequency_penalty: -2, presence_penalty: 2 });
    expect(lastOpenAIBody().parallel_tool_calls).not.toBe(false);
  });

  it('null is none: nothing sent upstream, and no warning', async () => {
    const { response } = await wire.gw
      .openai()
      .chat.completions.create({ model: 'gpt', messages: ASK, tools: TOOLS, frequency_penalty: null, presence_penalty: null, parallel_tool_calls: null } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    const body = lastOpenAIBody();
    expect(body).not.toHaveProperty('frequency_penalty');
    expect(body).not.toHaveProperty('presence_penalty');
    expect(body).not.toHaveProperty('parallel_tool_calls');
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('logit_bias (token bans, a label classifier with max_tokens 1) reaches an OpenAI-compatible upstream as sent (JSON and streamed)', async () => {
    const { response } = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, logit_bias: { '9642': 100, '2822': 100 }, max_tokens: 1 }).withResponse();
    expect(lastOpenAIBody()).toMatchObject({ logit_bias: { '9642': 100, '2822': 100 }, max_tokens: 1 });
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    const stream = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, logit_bias: { '50256': -100 }, stream: true });
    for await (const _ of stream) void _;
    expect(lastOpenAIBody().logit_bias).toEqual({ '50256': -100 });
    // null and {} ask for nothing.
    for (const logit_bias of [null, {}]) {
      const quiet = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, logit_bias }).withResponse();
      expect(lastOpenAIBody()).not.toHaveProperty('logit_bias');
      expect(quiet.response.headers.get('x-llmrr-warnings')).toBeNull();
    }
  });

  it('logit_bias to an Anthropic upstream (token ids are another tokenizer\u2019s): not sent, and said so', async () => {
    const { response } = await wire.gw.openai().chat.completions.create({ model: 'claude', messages: ASK, logit_bias: { '50256': -100 } }).withResponse();
    expect(lastClaudeBody()).not.toHaveProperty('logit_bias');
    expect(response.headers.get('x-llmrr-warnings')).toContain('setting_not_sent;field="logit_bias";message="logit_bias was not sent: Anthropic has no token logit bias."');
  });

  it.each([
    [{ '50256': 101 }, 'logit_bias.50256'],
    [{ '50256': '5' }, 'logit_bias.50256'],
    [{ word: 5 }, 'logit_bias.word'],
    [[1, 2], 'logit_bias'],
  ])('logit_bias %j: a 400 naming %s, nothing sent upstream', async (logit_bias, param) => {
    const r = await sdkRefusal(wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, logit_bias } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming));
    expect(r).toMatchObject({ status: 400, param });
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it('parallel_tool_calls false reaches an Anthropic upstream as tool_choice.disable_parallel_tool_use', async () => {
    await wire.gw.openai().chat.completions.create({ model: 'claude', messages: ASK, tools: TOOLS, parallel_tool_calls: false });
    expect(lastClaudeBody().tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });

  it.each([
    ['frequency_penalty', 2.5],
    ['frequency_penalty', -2.01],
    ['presence_penalty', '0.5'],
    ['presence_penalty', 3],
    ['parallel_tool_calls', 'false'],
  ])('%s %j: a 400 naming the field, nothing sent upstream', async (field, value) => {
    const r = await sdkRefusal(wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, tools: TOOLS, [field]: value } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming));
    expect(r.status).toBe(400);
    expect(r.param).toBe(field);
    expect(r.message).toContain(field);
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });
});

describe('/v1/completions', () => {
  it('the penalties reach the upstream; a bad one is a 400 naming it', async () => {
    await wire.gw.openai().completions.create({ model: 'gpt', prompt: 'Say hi', frequency_penalty: 1, presence_penalty: 0.25 });
    expect(lastOpenAIBody()).toMatchObject({ frequency_penalty: 1, presence_penalty: 0.25 });
    const r = await sdkRefusal(wire.gw.openai().completions.create({ model: 'gpt', prompt: 'Say hi', presence_penalty: -7 }));
    expect(r).toMatchObject({ status: 400, param: 'presence_penalty' });
  });
});

describe('/v1/responses', () => {
  const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];

  it('parallel_tool_calls false reaches the upstream, and the response echoes what was asked (JSON and streamed)', async () => {
    const json = await wire.gw.openai().responses.create({ model: 'gpt', input: 'Weather in Paris and Rome?', tools, parallel_tool_calls: false });
    expect(json.parallel_tool_calls).toBe(false);
    expect(lastOpenAIBody()).toMatchObject({ parallel_tool_calls: false });
    const stream = await wire.gw.openai().responses.create({ model: 'gpt', input: 'Weather?', tools, parallel_tool_calls: false, stream: true });
    let echoed: boolean | undefined;
    for await (const e of stream) if (e.type === 'response.completed') echoed = e.response.parallel_tool_calls;
    expect(echoed).toBe(false);
    expect(lastOpenAIBody()).toMatchObject({ parallel_tool_calls: false });
  });

  it('absent: nothing sent, the echo is OpenAI\u2019s default (true)', async () => {
    const json = await wire.gw.openai().responses.create({ model: 'gpt', input: 'Weather?', tools });
    expect(json.parallel_tool_calls).toBe(true);
    expect(lastOpenAIBody()).not.toHaveProperty('parallel_tool_calls');
  });

  it('parallel_tool_calls 1: a 400 naming it', async () => {
    const r = await sdkRefusal(wire.gw.openai().responses.create({ model: 'gpt', input: 'Weather?', tools, parallel_tool_calls: 1 } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming));
    expect(r).toMatchObject({ status: 400, param: 'parallel_tool_calls' });
  });
});

describe('/v1/messages', () => {
  const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
  const messages = [{ role: 'user' as const, content: 'Weather in Paris and Rome?' }];

  it.each([
    [{ type: 'auto' as const, disable_parallel_tool_use: true }],
    [{ type: 'any' as const, disable_parallel_tool_use: true }],
    [{ type: 'tool' as const, name: 'get_weather', disable_parallel_tool_use: true }],
  ])('tool_choice %j reaches an Anthropic upstream with the flag', async (tool_choice) => {
    await wire.gw.anthropic().messages.create({ model: 'claude', max_tokens: 100, messages, tools, tool_choice });
    expect(lastClaudeBody().tool_choice).toEqual(tool_choice);
  });

  it('disable_parallel_tool_use true reaches an OpenAI-compatible upstream as parallel_tool_calls false; false sends nothing', async () => {
    await wire.gw.anthropic().messages.create({ model: 'gpt', max_tokens: 100, messages, tools, tool_choice: { type: 'auto', disable_parallel_tool_use: true } });
    expect(lastOpenAIBody()).toMatchObject({ parallel_tool_calls: false, tool_choice: 'auto' });
    await wire.gw.anthropic().messages.create({ model: 'gpt', max_tokens: 100, messages, tools, tool_choice: { type: 'auto', disable_parallel_tool_use: false } });
    expect(lastOpenAIBody()).not.toHaveProperty('parallel_tool_calls');
  });

  it('with tool_choice none there are no tool calls to limit: nothing sent, no 400', async () => {
    await wire.gw.anthropic().messages.create({ model: 'claude', max_tokens: 100, messages, tools, tool_choice: { type: 'none', disable_parallel_tool_use: true } as never });
    expect(lastClaudeBody().tool_choice).toEqual({ type: 'none' });
  });

  it('disable_parallel_tool_use "yes": a 400 naming it, on /v1/messages and count_tokens', async () => {
    const tool_choice = { type: 'auto', disable_parallel_tool_use: 'yes' } as never;
    const r = await sdkRefusal(wire.gw.anthropic().messages.create({ model: 'claude', max_tokens: 100, messages, tools, tool_choice }));
    expect(r.status).toBe(400);
    expect(r.message).toContain('tool_choice.disable_parallel_tool_use');
    const c = await sdkRefusal(wire.gw.anthropic().messages.countTokens({ model: 'claude', messages, tools, tool_choice }));
    expect(c.status).toBe(400);
    expect(c.message).toContain('tool_choice.disable_parallel_tool_use');
    expect(wire.upstreams.anthropic.requests).toHaveLength(0);
  });

  it('count_tokens takes the flag: the count request carries it', async () => {
    const count = await wire.gw.anthropic().messages.countTokens({ model: 'claude', messages, tools, tool_choice: { type: 'auto', disable_parallel_tool_use: true } });
    expect(count.input_tokens).toBeGreaterThan(0);
  });
});
