import type OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { ledgerRow } from '../test-support/ledger-wait.js';
import { readWarnings } from '../test-support/read-warnings.js';
import { sdkRefusal } from '../test-support/sdk-refusal.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// Legacy function calling on /v1/chat/completions (openai 6.x `functions` / `function_call` and the `function` role,
// deprecated but still served by OpenAI and sent by older LangChain and openai-python code), through the official
// openai client: `functions` are the request's tools and `function_call` its tool choice, for every deployment; the
// answer comes back as OpenAI answers such a request, `message.function_call` and finish_reason `function_call`
// (streamed: `delta.function_call`); an assistant turn's `function_call` and the `function` message after it are the
// history's tool call and its result. Accepted and dropped before (the model never saw the functions, and a forced
// `function_call` got a plain text answer). OpenAI answers such a request with one call: the request asks for one
// (`parallel_tool_calls: false` unless the client set it; a provider that cannot be sent it draws no warning) and a
// second call a provider makes anyway is left out (a JSON answer says so in x-llmrr-warnings).
// The exact cache is on (a legacy answer replayed from it keeps its form): every test asks its own question.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt'), wireDeployment(u, 'claude'), wireDeployment(u, 'gem')], {
  cache: { exact: { enabled: true } },
});
afterEach(() => wire.upstreams.openai.setScript({}));

const lastGptBody = () => wire.upstreams.openai.requests.at(-1)!.body as Record<string, unknown>;
const lastClaudeBody = () => wire.upstreams.anthropic.requests.at(-1)!.body as Record<string, unknown>;

const PARAMETERS = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const FUNCTIONS = [{ name: 'get_weather', description: 'Current weather', parameters: PARAMETERS }];
const ASK: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
const ask = (text: string): OpenAI.ChatCompletionMessageParam[] => [{ role: 'user', content: text }];
const TWO_CALLS = {
  toolCalls: [
    { id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { id: 'call_b', name: 'get_weather', arguments: '{"city":"Rome"}' },
  ],
};
const create = (body: Record<string, unknown>) => wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, ...body } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);

describe('functions and function_call', () => {
  it('reach an OpenAI-compatible upstream as tools and tool_choice, without a warning', async () => {
    const { response } = await create({ functions: FUNCTIONS, function_call: { name: 'get_weather' } }).withResponse();
    expect(lastGptBody()).toMatchObject({
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: PARAMETERS } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(lastGptBody()).not.toHaveProperty('functions');
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    await create({ functions: FUNCTIONS, function_call: 'none' });
    expect(lastGptBody().tool_choice).toBe('none');
  });

  it('reach an Anthropic upstream as tools and a forced tool', async () => {
    await wire.gw.openai().chat.completions.create({ model: 'claude', messages: ASK, functions: FUNCTIONS, function_call: { name: 'get_weather' } });
    expect(lastClaudeBody()).toMatchObject({ tools: [{ name: 'get_weather', input_schema: PARAMETERS }], tool_choice: { type: 'tool', name: 'get_weather' } });
  });

  it('the call comes back as message.function_call with finish_reason function_call', async () => {
    wire.upstreams.openai.setScript({ toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    const res = await create({ functions: FUNCTIONS, function_call: 'auto' });
    expect(res.choices[0]!.finish_reason).toBe('function_call');
    expect(res.choices[0]!.message.function_call).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(res.choices[0]!.message.tool_calls).toBeUndefined();
    expect(res.choices[0]!.message.content).toBeNull();
  });

  it('streamed: delta.function_call (name, then argument pieces) and finish_reason function_call', async () => {
    wire.upstreams.openai.setScript({ toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' }], toolArgumentChunks: 3 });
    const stream = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, functions: FUNCTIONS, stream: true });
    let name = '';
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      expect(choice.delta.tool_calls).toBeUndefined();
      name += choice.delta.function_call?.name ?? '';
      args += choice.delta.function_call?.arguments ?? '';
      finish = choice.finish_reason ?? finish;
    }
    expect({ name, args: JSON.parse(args), finish }).toEqual({ name: 'get_weather', args: { city: 'Paris' }, finish: 'function_call' });
  });

  it('ask the upstream for one call (parallel_tool_calls false, as OpenAI answers them); an explicit parallel_tool_calls is sent as given', async () => {
    await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ask('one call please'), functions: FUNCTIONS });
    expect(lastGptBody().parallel_tool_calls).toBe(false);
    await wire.gw.openai().chat.completions.create({ model: 'claude', messages: ask('one call please'), functions: FUNCTIONS });
    expect(lastClaudeBody().tool_choice).toMatchObject({ disable_parallel_tool_use: true });
    await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ask('several calls welcome'), functions: FUNCTIONS, parallel_tool_calls: true });
    expect(lastGptBody()).not.toHaveProperty('parallel_tool_calls');
  });

  it('a second call a provider makes anyway is left out: only function_call, never tool_calls (JSON, streamed, the SDK stream helper)', async () => {
    wire.upstreams.openai.setScript(TWO_CALLS);
    const res = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ask('two cities, json'), functions: FUNCTIONS });
    expect(res.choices[0]).toMatchObject({ finish_reason: 'function_call', message: { function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } } });
    expect(res.choices[0]!.message.tool_calls).toBeUndefined();
    const stream = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ask('two cities, streamed'), functions: FUNCTIONS, stream: true });
    let args = '';
    for await (const chunk of stream) {
      expect(chunk.choices[0]?.delta.tool_calls).toBeUndefined();
      args += chunk.choices[0]?.delta.function_call?.arguments ?? '';
    }
    expect(args).toBe('{"city":"Paris"}');
    // The SDK's finalizer keeps only function_call when there is one: it reads the whole answer.
    const final = await wire.gw.openai().chat.completions.stream({ model: 'gpt', messages: ask('two cities, streamed helper'), functions: FUNCTIONS }).finalChatCompletion();
    expect(final.choices[0]).toMatchObject({ finish_reason: 'function_call', message: { function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } } });
    expect(final.choices[0]!.message.tool_calls).toBeUndefined();
  });

  it('the JSON answer that left a call out says so in x-llmrr-warnings (setting_changed on functions); one call: no warning', async () => {
    wire.upstreams.openai.setScript(TWO_CALLS);
    const { response } = await create({ messages: ask('two cities, warned'), functions: FUNCTIONS }).withResponse();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_changed', 'functions']);
    expect(response.headers.get('x-llmrr-warnings')).toContain('the other 1 are left out');
    wire.upstreams.openai.setScript({ toolCalls: [TWO_CALLS.toolCalls[0]!] });
    const { response: one } = await create({ messages: ask('one city, not warned'), functions: FUNCTIONS }).withResponse();
    expect(one.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('to a Gemini deployment (no one-call setting): the functions are sent, no warning about a setting the client never sent', async () => {
    const { response } = await create({ model: 'gem', messages: ask('weather in Paris? (gemini, no warning)'), functions: FUNCTIONS }).withResponse();
    expect(wire.upstreams.gemini.requests.at(-1)!.body).toHaveProperty('tools');
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('Gemini making two calls anyway: one function_call, and the warning says the other was left out (never "several functions in one answer")', async () => {
    wire.upstreams.gemini.enqueue({ parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_weather', args: { city: 'Rome' } } }] });
    const { data, response } = await create({ model: 'gem', messages: ask('weather in Paris and Rome? (gemini two calls)'), functions: FUNCTIONS }).withResponse();
    expect(data.choices[0]!.message.function_call?.name).toBe('get_weather');
    expect(data.choices[0]!.message.tool_calls).toBeUndefined();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_changed', 'functions']]);
    expect(response.headers.get('x-llmrr-warnings')).not.toMatch(/several functions in one answer/);
  });

  it('that answer given back as the SDK returned it, with its function result: every call sent upstream has its result', async () => {
    wire.upstreams.openai.setScript(TWO_CALLS);
    const messages = ask('two cities, given back');
    const res = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages, functions: FUNCTIONS });
    wire.upstreams.openai.setScript({});
    const next = [...messages, res.choices[0]!.message, { role: 'function', name: 'get_weather', content: 'sunny' }] as OpenAI.ChatCompletionMessageParam[];
    await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: next, functions: FUNCTIONS });
    const sent = lastGptBody().messages as Array<{ role: string; tool_calls?: Array<{ id: string }>; tool_call_id?: string }>;
    const called = sent.flatMap((m) => (m.tool_calls ?? []).map((c) => c.id));
    expect(called).toHaveLength(1);
    expect(sent.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual(called);
  });

  it('function_call none / auto / {name} reach the upstream as tool_choice', async () => {
    for (const [fc, want] of [
      ['none', 'none'],
      ['auto', 'auto'],
      [{ name: 'get_weather' }, { type: 'function', function: { name: 'get_weather' } }],
    ] as const) {
      await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ask(`fc ${JSON.stringify(fc)}`), functions: FUNCTIONS, function_call: fc as never });
      expect(lastGptBody().tool_choice).toEqual(want);
    }
  });

  it('streamed from an Anthropic deployment: the SDK stream helper reads the call (finalChatCompletion)', async () => {
    wire.upstreams.anthropic.enqueue({ content: [{ type: 'tool_use', name: 'get_weather', input: { city: 'Bern' } }], chunks: 3 });
    const final = await wire.gw.openai().chat.completions.stream({ model: 'claude', messages: ask('claude streamed legacy'), functions: FUNCTIONS, function_call: { name: 'get_weather' } }).finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('function_call');
    expect(final.choices[0]!.message.function_call?.name).toBe('get_weather');
    expect(JSON.parse(final.choices[0]!.message.function_call!.arguments)).toEqual({ city: 'Bern' });
  });

  it('a request with tools (not functions) keeps tool_calls and finish_reason tool_calls', async () => {
    wire.upstreams.openai.setScript({ toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    const res = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, tools: [{ type: 'function', function: FUNCTIONS[0]! }], function_call: 'auto' });
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(res.choices[0]!.message.tool_calls).toHaveLength(1);
    expect(res.choices[0]!.message.function_call).toBeUndefined();
  });
});

describe('a legacy function call and its result in the history', () => {
  const HISTORY = [
    ...ASK,
    { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    { role: 'function', name: 'get_weather', content: 'sunny, 21C' },
  ] as OpenAI.ChatCompletionMessageParam[];

  it('reach an OpenAI-compatible upstream as a tool call and the tool message answering it', async () => {
    const res = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: HISTORY, functions: FUNCTIONS });
    expect(res.choices[0]!.finish_reason).toBe('stop');
    const [, call, result] = lastGptBody().messages as Array<{ role: string; tool_calls?: Array<{ id: string; function: unknown }>; tool_call_id?: string; content: unknown }>;
    expect(call).toMatchObject({ role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] });
    expect(result).toEqual({ role: 'tool', tool_call_id: call!.tool_calls![0]!.id, content: 'sunny, 21C' });
  });

  it("a warning about the call's arguments names messages.N.function_call.arguments (the field the client sent)", async () => {
    const messages = [
      ...ask('history with a legacy call'),
      { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '[1]' } },
      { role: 'function', name: 'get_weather', content: 'sunny' },
    ] as OpenAI.ChatCompletionMessageParam[];
    const { response } = await wire.gw.openai().chat.completions.create({ model: 'claude', messages, functions: FUNCTIONS }).withResponse();
    const warnings = readWarnings(response.headers.get('x-llmrr-warnings'));
    expect(warnings).toContainEqual(['setting_changed', 'messages.1.function_call.arguments']);
    expect(warnings.map(([, field]) => String(field)).filter((f) => f.includes('tool_calls'))).toEqual([]);
  });

  it('reach an Anthropic upstream as tool_use and the tool_result of the same id', async () => {
    await wire.gw.openai().chat.completions.create({ model: 'claude', messages: HISTORY, functions: FUNCTIONS });
    const [, call, result] = lastClaudeBody().messages as Array<{ role: string; content: Array<{ type: string; id?: string; tool_use_id?: string }> }>;
    const use = call!.content.find((b) => b.type === 'tool_use')!;
    expect(use).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    expect(result!.content[0]).toMatchObject({ type: 'tool_result', tool_use_id: use.id, content: 'sunny, 21C' });
  });
});

describe('a legacy answer replayed from the exact cache', () => {
  it('JSON: function_call shaped, ledgered as a hit', async () => {
    wire.upstreams.openai.setScript({ toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' }] });
    const messages = ask('weather in Oslo (cache json)');
    const first = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages, functions: FUNCTIONS });
    const { data: second, response } = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages, functions: FUNCTIONS }).withResponse();
    expect(wire.upstreams.openai.requests).toHaveLength(1);
    expect((second as unknown as { llmrr: { cached: unknown } }).llmrr.cached).toBe('exact');
    expect(second.choices[0]).toMatchObject({ finish_reason: 'function_call', message: { function_call: first.choices[0]!.message.function_call } });
    expect(second.choices[0]!.message.tool_calls).toBeUndefined();
    expect(await ledgerRow(wire.gw, response.headers.get('x-request-id')!)).toMatchObject({ status: 'success', cacheHit: true });
  });

  it('streamed: delta.function_call, which finalChatCompletion reads', async () => {
    wire.upstreams.openai.setScript({ toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Lima"}' }], toolArgumentChunks: 3 });
    const messages = ask('weather in Lima (cache stream)');
    await wire.gw.openai().chat.completions.create({ model: 'gpt', messages, functions: FUNCTIONS });
    const final = await wire.gw.openai().chat.completions.stream({ model: 'gpt', messages, functions: FUNCTIONS }).finalChatCompletion();
    expect(wire.upstreams.openai.requests).toHaveLength(1);
    expect(final.choices[0]).toMatchObject({ finish_reason: 'function_call', message: { function_call: { name: 'get_weather', arguments: '{"city":"Lima"}' } } });
  });

  it('a tools request on the same question (same functions) gets tool_calls', async () => {
    wire.upstreams.openai.setScript({ toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Kyiv"}' }] });
    const messages = ask('weather in Kyiv (cache cross)');
    await wire.gw.openai().chat.completions.create({ model: 'gpt', messages, functions: FUNCTIONS });
    const tools = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages, tools: [{ type: 'function', function: FUNCTIONS[0]! }] });
    expect(tools.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { tool_calls: [{ function: { arguments: '{"city":"Kyiv"}' } }] } });
    expect(tools.choices[0]!.message.function_call).toBeUndefined();
  });

  it('a tools request with parallel_tool_calls false (the same key) after a legacy one that got two calls: every call, from the cache', async () => {
    wire.upstreams.openai.setScript(TWO_CALLS);
    const messages = ask('weather in Paris and Rome (cache cross, two calls)');
    const first = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages, functions: FUNCTIONS });
    expect(first.choices[0]!.message.function_call).toBeDefined();
    const { data: tools, response } = await wire.gw
      .openai()
      .chat.completions.create({ model: 'gpt', messages, tools: [{ type: 'function', function: FUNCTIONS[0]! }], parallel_tool_calls: false })
      .withResponse();
    expect(wire.upstreams.openai.requests).toHaveLength(1);
    expect(tools.choices[0]!.message.tool_calls?.map((c) => (c as { function: { arguments: string } }).function.arguments)).toEqual(['{"city":"Paris"}', '{"city":"Rome"}']);
    expect(await ledgerRow(wire.gw, response.headers.get('x-request-id')!)).toMatchObject({ cacheHit: true });
  });
});

describe('refused, naming the field, nothing sent upstream', () => {
  it.each([
    ['functions and tools together', { functions: FUNCTIONS, tools: [{ type: 'function', function: FUNCTIONS[0] }] }, 'functions'],
    ['function_call and tool_choice together', { functions: FUNCTIONS, function_call: 'auto', tool_choice: 'auto' }, 'function_call'],
    ['function_call naming no function', { functions: FUNCTIONS, function_call: { name: 'get_time' } }, 'function_call.name'],
    ['two functions of one name', { functions: [FUNCTIONS[0], FUNCTIONS[0]] }, 'functions.1.name'],
    ['a function name with a space', { functions: [{ name: 'get weather' }] }, 'functions.0.name'],
    ['function_call "required" (not a legacy value)', { functions: FUNCTIONS, function_call: 'required' }, 'function_call'],
  ])('%s', async (_, body, param) => {
    const r = await sdkRefusal(create(body));
    expect(r).toMatchObject({ status: 400, param });
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it('the messages name the client\u2019s legacy fields, never tools or tool_choice', async () => {
    const twice = await sdkRefusal(create({ functions: [{ name: 'get_time' }, FUNCTIONS[0], FUNCTIONS[0]] }));
    expect(twice).toMatchObject({ status: 400, param: 'functions.2.name' });
    expect(twice.message).toBe(`Invalid request: functions.2.name: "${FUNCTIONS[0]!.name}" is also the name of functions.1; function names must be unique`);
    const unknown = await sdkRefusal(create({ functions: FUNCTIONS, function_call: { name: 'get_date' } }));
    expect(unknown.message).toBe('Invalid request: function_call.name: function_call names "get_date", which is not in functions');
    const none = await sdkRefusal(create({ function_call: { name: 'get_time' } }));
    expect(none).toMatchObject({ status: 400, param: 'function_call.name' });
    expect(none.message).toBe('Invalid request: function_call.name: a named function_call ("get_time") is only allowed when functions are specified');
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });
});
