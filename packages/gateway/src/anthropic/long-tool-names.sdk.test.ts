import { startGeminiWireServer, startOpenAIWireServer, type GeminiWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { clearRequests, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// The official Anthropic client on /v1/messages with a tool whose name is 65-128 characters (the gateway's Messages
// schema takes up to 128; Claude Code names MCP tools `mcp__<server>__<tool>`, often past 64:
// `mcp__plugin_chrome-devtools-mcp_chrome-devtools__get_console_message`, ChromeDevTools/chrome-devtools-mcp#1169),
// the deployment OpenAI (preset `openai`). OpenAI takes at most 64: 400 "Invalid 'tools[0].function.name': string
// too long. Expected a string with maximum length 64, but got a string with length 68 instead." (code
// string_above_max_length; thedotmack/claude-mem#358 is exactly Claude Code through a proxy to an OpenAI model).
// The OpenAI-compatible and Gemini engines send such a name shortened (its first 16 characters, '_', a 16-digit hash,
// '_' and its last 30 characters, where an MCP tool has its own name: engines/shared/short-tool-names.ts) with a
// `setting_changed` warning, and gives the model's calls back under the
// full name, streamed or not; the history's calls go shortened the same way. The local OpenAI-wire peer below
// applies that rule of the real API to tools and to the history's tool calls.

const LONG = 'mcp__plugin_chrome-devtools-mcp_chrome-devtools__get_console_message';

let gw: SdkGateway;
let openai: OpenAIWireServer;
let gemini: GeminiWireServer;
beforeAll(async () => {
  openai = await startOpenAIWireServer({
    script: (r) => {
      const body = r.body as { tools?: Array<{ function: { name: string } }>; messages: Array<{ tool_calls?: Array<{ function: { name: string } }> }> };
      const tools = body.tools ?? [];
      const i = tools.findIndex((t) => t.function.name.length > 64);
      if (i >= 0) {
        const n = tools[i]!.function.name.length;
        return { error: { status: 400, type: 'invalid_request_error', param: `tools[${i}].function.name`, code: 'string_above_max_length', message: `Invalid 'tools[${i}].function.name': string too long. Expected a string with maximum length 64, but got a string with length ${n} instead.` } };
      }
      const m = body.messages.findIndex((msg) => msg.tool_calls?.some((c) => c.function.name.length > 64));
      if (m >= 0) return { error: { status: 400, type: 'invalid_request_error', param: `messages[${m}].tool_calls[0].function.name`, code: 'string_above_max_length', message: 'string too long' } };
      if (body.messages.at(-1) && (body.messages.at(-1) as { role?: string }).role === 'tool') return { text: 'done' };
      return { toolCalls: [{ id: 'call_1', name: tools[0]!.function.name, arguments: '{}' }] };
    },
  });
  // Gemini's function names take at most 64 characters too (the Gemini API's FunctionDeclaration.name).
  gemini = await startGeminiWireServer({
    apiKey: 'gk',
    handler: (r) => {
      const declarations = ((r.body as { tools?: Array<{ functionDeclarations?: Array<{ name: string }> }> }).tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
      const long = declarations.find((d) => d.name.length > 64);
      if (long) return { error: { status: 400, message: `* GenerateContentRequest.tools[0].function_declarations[0].name: Invalid function name. Must be at most 64 characters long.` } };
      // And start with a letter or '_', then only letters, digits, '_', '.', ':' and '-' (FunctionDeclaration.name).
      const bad = declarations.findIndex((d) => !/^[A-Za-z_][A-Za-z0-9_.:-]*$/.test(d.name));
      if (bad >= 0) return { error: { status: 400, message: `* GenerateContentRequest.tools[0].function_declarations[${bad}].name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.` } };
      return { parts: [{ functionCall: { name: declarations[0]!.name, args: {} } }] };
    },
  });
  gw = await servedGateway({
    models: [
      { name: 'gpt', engine: 'openai-compatible', preset: 'openai', baseURL: openai.baseURL, model: 'gpt-4o', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools'] },
      { name: 'gem', engine: 'gemini', baseURL: gemini.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities: ['chat', 'streaming', 'tools'] },
      // Counting exactly (:countTokens), which Claude Code calls with its whole MCP tool list before its requests.
      { name: 'gem-count', engine: 'gemini', baseURL: gemini.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities: ['chat', 'streaming', 'tools'], options: { exactTokenCount: true } },
    ],
    upstreams: [openai, gemini],
  });
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(openai, gemini));

const TOOLS = [
  { name: LONG, input_schema: { type: 'object' as const, properties: {} } },
  { name: 'short_tool', input_schema: { type: 'object' as const, properties: {} } },
];

describe('/v1/messages tool names longer than 64 to an OpenAI deployment', () => {
  it(`a ${LONG.length}-character tool name answers with a tool_use of that name, not a 400`, async () => {
    expect(LONG.length).toBeGreaterThan(64);
    const { data: message, response } = await gw
      .anthropic()
      .messages.create({ model: 'gpt', max_tokens: 200, tools: TOOLS, messages: [{ role: 'user', content: 'Show the console' }] })
      .withResponse();
    expect(message.content).toEqual([{ type: 'tool_use', id: 'call_1', name: LONG, input: {} }]);
    const sent = (openai.requests[0]!.body as { tools: Array<{ function: { name: string } }> }).tools.map((t) => t.function.name);
    expect(sent[0]).toHaveLength(64);
    expect(sent[0]!.startsWith(LONG.slice(0, 16))).toBe(true);
    expect(sent[0]!.endsWith('devtools__get_console_message')).toBe(true);
    expect(sent[1]).toBe('short_tool');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_changed', 'tools.0.name']]);
  });

  it('streamed: the tool_use block carries the full name', async () => {
    const stream = gw.anthropic().messages.stream({ model: 'gpt', max_tokens: 200, tools: TOOLS, messages: [{ role: 'user', content: 'Show the console' }] });
    const names: string[] = [];
    stream.on('contentBlock', (block) => {
      if (block.type === 'tool_use') names.push(block.name);
    });
    const message = await stream.finalMessage();
    expect(names).toEqual([LONG]);
    expect(message.content).toEqual([{ type: 'tool_use', id: 'call_1', name: LONG, input: {} }]);
  });

  it('the next turn gives the call back under its full name: sent shortened, the same way, and answered', async () => {
    const message = await gw.anthropic().messages.create({
      model: 'gpt',
      max_tokens: 200,
      tools: TOOLS,
      tool_choice: { type: 'tool', name: LONG },
      messages: [
        { role: 'user', content: 'Show the console' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: LONG, input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'no errors' }] },
      ],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'done' }]);
    const body = openai.requests[0]!.body as { tools: Array<{ function: { name: string } }>; tool_choice: { function: { name: string } }; messages: Array<{ tool_calls?: Array<{ function: { name: string } }> }> };
    const short = body.tools[0]!.function.name;
    expect(body.messages[1]!.tool_calls![0]!.function.name).toBe(short);
    expect(body.tool_choice.function.name).toBe(short);
  });

  it('to a Gemini deployment too: sent shortened, the call comes back under the full name, streamed or not', async () => {
    const { data: message, response } = await gw
      .anthropic()
      .messages.create({ model: 'gem', max_tokens: 200, tools: TOOLS, messages: [{ role: 'user', content: 'Show the console' }] })
      .withResponse();
    expect(message.content).toEqual([expect.objectContaining({ type: 'tool_use', name: LONG, input: {} })]);
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_changed', 'tools.0.name']]);
    const streamed = await gw.anthropic().messages.stream({ model: 'gem', max_tokens: 200, tools: TOOLS, messages: [{ role: 'user', content: 'Show the console' }] }).finalMessage();
    expect(streamed.content).toEqual([expect.objectContaining({ type: 'tool_use', name: LONG })]);
    // The next turn: the call and its result go under the short name the declaration has.
    await gw.anthropic().messages.create({
      model: 'gem',
      max_tokens: 200,
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'Show the console' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: LONG, input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'no errors' }] },
      ],
    });
    const body = gemini.requests.at(-1)!.body as { tools: Array<{ functionDeclarations: Array<{ name: string }> }>; contents: Array<{ parts: Array<{ functionCall?: { name: string }; functionResponse?: { name: string } }> }> };
    const short = body.tools[0]!.functionDeclarations[0]!.name;
    expect(short).toHaveLength(64);
    expect(body.contents[1]!.parts[0]!.functionCall!.name).toBe(short);
    expect(body.contents[2]!.parts[0]!.functionResponse!.name).toBe(short);
  });

  it('count_tokens on a Gemini deployment counting exactly declares the tool under the name generateContent gets', async () => {
    const counted = await gw.anthropic().messages.countTokens({ model: 'gem-count', tools: TOOLS, messages: [{ role: 'user', content: 'Show the console' }] });
    expect(counted.input_tokens).toBeGreaterThan(0);
    const count = gemini.requests.find((r) => r.rpc === 'countTokens');
    const inner = (count!.body as { generateContentRequest: { tools: Array<{ functionDeclarations: Array<{ name: string }> }> } }).generateContentRequest;
    const counts = inner.tools.flatMap((t) => t.functionDeclarations.map((d) => d.name));
    await gw.anthropic().messages.create({ model: 'gem-count', max_tokens: 200, tools: TOOLS, messages: [{ role: 'user', content: 'Show the console' }] });
    const generate = gemini.requests.find((r) => r.rpc === 'generateContent')!.body as { tools: Array<{ functionDeclarations: Array<{ name: string }> }> };
    expect(counts).toEqual(generate.tools.flatMap((t) => t.functionDeclarations.map((d) => d.name)));
    expect(counts[0]).toHaveLength(64);
  });
});

// Gemini also refuses a function name that does not start with a letter or '_' (`-x`, `1x`: valid for OpenAI and
// Anthropic): such a name goes to Gemini rewritten (`_`, its hash, `_`, the name) and comes back as it was.
describe('/v1/messages and /v1/chat/completions tool names Gemini refuses for their first character', () => {
  const declared = (): string[] => {
    const body = gemini.requests.at(-1)!.body as { tools: Array<{ functionDeclarations: Array<{ name: string }> }> };
    return body.tools.flatMap((t) => t.functionDeclarations.map((d) => d.name));
  };

  it('/v1/messages `-x` and `1x`: the tool_use comes back under the name asked, streamed or not, with a warning', async () => {
    for (const name of ['-x', '1x']) {
      const tools = [{ name, input_schema: { type: 'object' as const, properties: {} } }];
      const { data: message, response } = await gw
        .anthropic()
        .messages.create({ model: 'gem', max_tokens: 200, tools, messages: [{ role: 'user', content: 'Go' }] })
        .withResponse();
      expect(message.content).toEqual([expect.objectContaining({ type: 'tool_use', name, input: {} })]);
      expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_changed', 'tools.0.name']]);
      const sent = declared()[0]!;
      expect(sent).toMatch(/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/);
      expect(sent.endsWith(name)).toBe(true);
      const streamed = await gw.anthropic().messages.stream({ model: 'gem', max_tokens: 200, tools, messages: [{ role: 'user', content: 'Go' }] }).finalMessage();
      expect(streamed.content).toEqual([expect.objectContaining({ type: 'tool_use', name })]);
      expect(declared()[0]).toBe(sent);
    }
  });

  it('/v1/chat/completions `1x`: the call and the next turn (history, tool_choice) go under one stable name', async () => {
    const tools = [{ type: 'function' as const, function: { name: '1x', parameters: { type: 'object', properties: {} } } }];
    const completion = await gw.openai().chat.completions.create({ model: 'gem', tools, messages: [{ role: 'user', content: 'Go' }] });
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && call.function.name).toBe('1x');
    const sent = declared()[0]!;
    expect(sent).not.toBe('1x');
    const next = await gw.openai().chat.completions.create({
      model: 'gem',
      tools,
      tool_choice: { type: 'function', function: { name: '1x' } },
      messages: [
        { role: 'user', content: 'Go' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: '1x', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
    });
    expect(next.choices[0]!.message.tool_calls![0]!.type === 'function' && next.choices[0]!.message.tool_calls![0]!.function.name).toBe('1x');
    const body = gemini.requests.at(-1)!.body as {
      contents: Array<{ parts: Array<{ functionCall?: { name: string }; functionResponse?: { name: string } }> }>;
      toolConfig: { functionCallingConfig: { allowedFunctionNames: string[] } };
    };
    expect(declared()[0]).toBe(sent);
    expect(body.contents[1]!.parts[0]!.functionCall!.name).toBe(sent);
    expect(body.contents[2]!.parts[0]!.functionResponse!.name).toBe(sent);
    expect(body.toolConfig.functionCallingConfig.allowedFunctionNames).toEqual([sent]);
  });

  it('count_tokens counting exactly declares `-x` under the name generateContent gets', async () => {
    const tools = [{ name: '-x', input_schema: { type: 'object' as const, properties: {} } }];
    await gw.anthropic().messages.countTokens({ model: 'gem-count', tools, messages: [{ role: 'user', content: 'Go' }] });
    const count = gemini.requests.find((r) => r.rpc === 'countTokens')!.body as { generateContentRequest: { tools: Array<{ functionDeclarations: Array<{ name: string }> }> } };
    await gw.anthropic().messages.create({ model: 'gem-count', max_tokens: 200, tools, messages: [{ role: 'user', content: 'Go' }] });
    const counted = count.generateContentRequest.tools.flatMap((t) => t.functionDeclarations.map((d) => d.name));
    expect(counted).toEqual(declared());
    expect(counted[0]).toMatch(/^_/);
  });
});
