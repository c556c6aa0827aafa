import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// A function tool's `strict` and a JSON schema format's `description`, in the official clients' request shapes,
// through a served gateway to the local wire upstreams: what each provider receives (OpenAI `function.strict` and
// `json_schema.description`; Anthropic `tools[].strict` and the JSON-mode tool's description; Gemini the response
// schema's description), and the warnings, named as each route's client names the field, where a provider cannot
// take them (Gemini tools, Claude models before 4.5, an OpenAI-compatible server not known to take strict, a schema
// the provider's strict mode refuses).

const JSON_TOO: Array<'chat' | 'streaming' | 'tools' | 'json'> = ['chat', 'streaming', 'tools', 'json'];
const wire = overWireUpstreams((u) => [
    // OpenAI itself (the `openai` preset's strictTools, on the local wire server), and a server not known to take strict.
    wireDeployment(u, 'gpt', { capabilities: JSON_TOO, options: { strictTools: true } }),
    wireDeployment(u, 'gpt', { name: 'gpt-other', capabilities: JSON_TOO }),
    wireDeployment(u, 'claude', { model: 'claude-sonnet-4-5', capabilities: JSON_TOO }),
    wireDeployment(u, 'claude', { name: 'claude-old', model: 'claude-sonnet-4-20250514', capabilities: JSON_TOO }),
    wireDeployment(u, 'gem', { capabilities: JSON_TOO }),
  ]);

const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
const LOOSE = { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] };
const ASK: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Oslo?' }];
// (Tools of one request have distinct names: two of one name are a 400, as OpenAI answers.)
const chatTool = (strict?: boolean, parameters: Record<string, unknown> = SCHEMA, name = 'weather'): OpenAI.ChatCompletionFunctionTool => ({
  type: 'function',
  function: { name, description: 'The weather in a city', parameters, ...(strict !== undefined ? { strict } : {}) },
});
const openaiBody = () => wire.upstreams.openai.requests.at(-1)!.body as Record<string, unknown>;
const anthropicBody = () => wire.upstreams.anthropic.requests.at(-1)!.body as Record<string, unknown>;
const geminiBody = () => wire.upstreams.gemini.requests.at(-1)!.body as Record<string, unknown>;
const openaiFunctions = () => (openaiBody().tools as Array<{ function: Record<string, unknown> }>).map((t) => t.function);

describe('/v1/chat/completions: tools[].function.strict and response_format.json_schema.description', () => {
  it('reach an OpenAI deployment as given, with no warning (JSON and streamed)', async () => {
    for (const stream of [false, true] as const) {
      const { data, response } = await wire.gw
        .openai()
        .chat.completions.create({
          model: 'gpt',
          messages: ASK,
          tools: [chatTool(true), chatTool(false, LOOSE, 'forecast')],
          response_format: { type: 'json_schema', json_schema: { name: 'place', description: 'Where the user is', schema: SCHEMA, strict: true } },
          stream,
        })
        .withResponse();
      if (stream) for await (const _ of data as AsyncIterable<unknown>) void _;
      expect(response.headers.get('x-llmrr-warnings')).toBeNull();
      expect(openaiFunctions().map((f) => f.strict)).toEqual([true, false]);
      expect(openaiBody().response_format).toEqual({ type: 'json_schema', json_schema: { name: 'place', description: 'Where the user is', schema: SCHEMA, strict: true } });
    }
  });

  it('an ordinary tool and format reach it as before: no strict, no description', async () => {
    await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, tools: [chatTool()], response_format: { type: 'json_schema', json_schema: { name: 'place', schema: SCHEMA } } });
    expect(Object.keys(openaiFunctions()[0]!)).toEqual(['name', 'description', 'parameters']);
    expect(openaiBody().response_format).toEqual({ type: 'json_schema', json_schema: { name: 'place', schema: SCHEMA } });
  });

  it('a strict schema OpenAI\u2019s strict mode cannot enforce: sent without strict and warned, not OpenAI\u2019s 400', async () => {
    const { response } = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, tools: [chatTool(true, LOOSE)] }).withResponse();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'tools.0.function.strict']]);
    expect(Object.hasOwn(openaiFunctions()[0]!, 'strict')).toBe(false);
  });

  it('an OpenAI-compatible server not known to take strict: not sent, warned as tools.N.function.strict', async () => {
    const { response } = await wire.gw.openai().chat.completions.create({ model: 'gpt-other', messages: ASK, tools: [chatTool(undefined, SCHEMA, 'forecast'), chatTool(true)] }).withResponse();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'tools.1.function.strict']]);
    expect(JSON.stringify(openaiBody().tools)).not.toContain('strict');
  });

  it('reach a Claude 4.5 deployment as tools[].strict, and the JSON-mode tool\u2019s description', async () => {
    const { response } = await wire.gw
      .openai()
      .chat.completions.create({ model: 'claude', messages: ASK, tools: [chatTool(true)], tool_choice: 'auto' })
      .withResponse();
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    expect((anthropicBody().tools as Array<Record<string, unknown>>)[0]).toEqual({ name: 'weather', description: 'The weather in a city', input_schema: SCHEMA, strict: true });
    await wire.gw.openai().chat.completions.create({
      model: 'claude',
      messages: ASK,
      response_format: { type: 'json_schema', json_schema: { name: 'place', description: 'Where the user is', schema: SCHEMA, strict: true } },
    });
    const answer = (anthropicBody().tools as Array<Record<string, unknown>>)[0]!;
    expect(answer).toMatchObject({ name: 'json_answer', strict: true });
    expect(answer.description).toMatch(/^Where the user is\n\n/);
  });

  it('a Claude model before 4.5 and a Gemini deployment: not sent, warned as tools.N.function.strict', async () => {
    for (const model of ['claude-old', 'gem']) {
      for (const stream of [false, true] as const) {
        const { data, response } = await wire.gw
          .openai()
          .chat.completions.create({ model, messages: ASK, tools: [chatTool(undefined, SCHEMA, 'forecast'), chatTool(true)], stream })
          .withResponse();
        if (stream) for await (const _ of data as AsyncIterable<unknown>) void _;
        expect(readWarnings(response.headers.get('x-llmrr-warnings')), `${model} stream ${stream}`).toEqual([['setting_not_sent', 'tools.1.function.strict']]);
      }
    }
    expect(JSON.stringify(anthropicBody().tools ?? geminiBody().tools)).not.toContain('strict');
  });

  it('to Gemini the description is the response schema\u2019s; one the schema already has wins, and the format\u2019s is warned', async () => {
    await wire.gw.openai().chat.completions.create({ model: 'gem', messages: ASK, response_format: { type: 'json_schema', json_schema: { name: 'place', description: 'Where the user is', schema: SCHEMA } } });
    expect((geminiBody().generationConfig as { responseSchema: Record<string, unknown> }).responseSchema.description).toBe('Where the user is');
    const { response } = await wire.gw
      .openai()
      .chat.completions.create({
        model: 'gem',
        messages: ASK,
        response_format: { type: 'json_schema', json_schema: { name: 'place', description: 'Where the user is', schema: { ...SCHEMA, description: 'A place' } } },
      })
      .withResponse();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'response_format.json_schema.description']]);
  });
});

describe('/v1/responses: tools[].strict and text.format.description', () => {
  const tool = (strict: boolean | null, name = 'weather'): OpenAI.Responses.FunctionTool => ({ type: 'function', name, description: 'The weather in a city', parameters: SCHEMA, strict });

  it('strict as given; null or absent stays absent (the provider\u2019s default, not OpenAI Responses\u2019 strict-by-default)', async () => {
    const bare = { type: 'function', name: 'bare', parameters: SCHEMA } as unknown as OpenAI.Responses.FunctionTool;
    const { response } = await wire.gw
      .openai()
      .responses.create({ model: 'gpt', input: 'Weather in Oslo?', tools: [tool(true), tool(false, 'forecast'), tool(null, 'alerts'), bare] })
      .withResponse();
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    expect(openaiFunctions().map((f) => (Object.hasOwn(f, 'strict') ? f.strict : 'absent'))).toEqual([true, false, 'absent', 'absent']);
  });

  it('text.format.description reaches OpenAI\u2019s json_schema.description and Claude\u2019s JSON-mode tool', async () => {
    const text: OpenAI.Responses.ResponseTextConfig = { format: { type: 'json_schema', name: 'place', description: 'Where the user is', schema: SCHEMA, strict: true } };
    await wire.gw.openai().responses.create({ model: 'gpt', input: 'Where?', text });
    expect(openaiBody().response_format).toEqual({ type: 'json_schema', json_schema: { name: 'place', description: 'Where the user is', schema: SCHEMA, strict: true } });
    await wire.gw.openai().responses.create({ model: 'claude', input: 'Where?', text });
    expect((anthropicBody().tools as Array<Record<string, unknown>>)[0]!.description).toMatch(/^Where the user is\n\n/);
  });

  it('to Gemini: tools.N.strict warned by the client\u2019s name (JSON and streamed)', async () => {
    for (const stream of [false, true] as const) {
      const { data, response } = await wire.gw.openai().responses.create({ model: 'gem', input: 'Weather?', tools: [tool(true)], stream }).withResponse();
      if (stream) for await (const _ of data as AsyncIterable<unknown>) void _;
      expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'tools.0.strict']]);
    }
  });
});

describe('/v1/messages: tools[].strict', () => {
  const tools: Anthropic.Tool[] = [
    { name: 'weather', description: 'The weather in a city', input_schema: SCHEMA as Anthropic.Tool.InputSchema, strict: true },
    { name: 'lax', input_schema: SCHEMA as Anthropic.Tool.InputSchema },
  ];
  const ask: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Oslo?' }];

  it('reaches a Claude 4.5 deployment as given, and an OpenAI one as function.strict', async () => {
    await wire.gw.anthropic().messages.create({ model: 'claude', max_tokens: 50, messages: ask, tools });
    expect((anthropicBody().tools as Array<Record<string, unknown>>).map((t) => t.strict)).toEqual([true, undefined]);
    await wire.gw.anthropic().messages.create({ model: 'gpt', max_tokens: 50, messages: ask, tools });
    expect(openaiFunctions().map((f) => f.strict)).toEqual([true, undefined]);
  });

  it('a Claude model before 4.5: not sent, warned as tools.0.strict', async () => {
    const { response } = await wire.gw.anthropic().messages.create({ model: 'claude-old', max_tokens: 50, messages: ask, tools }).withResponse();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'tools.0.strict']]);
    expect(JSON.stringify(anthropicBody().tools)).not.toContain('strict');
  });

  it('a strict that is not a boolean is a 400 naming it', async () => {
    const res = await fetch(`${wire.gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': wire.gw.secret, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', max_tokens: 50, messages: ask, tools: [{ ...tools[0], strict: 'yes' }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('tools.0.strict');
  });
});
