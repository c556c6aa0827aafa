import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAIResponseSchema, OpenAIResponseStreamEventSchema, type OpenAIResponse, type OpenAIResponseStreamEvent } from '../schemas/openai-responses.js';
import { expectGatewayError } from '../test-support/expect-error.js';
import { createHarness, get, mockModel, parseSse, post, sseJson, type Harness } from '../test-support/harness.js';

const hello = { model: 'mock', input: 'hello there' };
const weatherTool = { type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

/** The events of a Responses stream, checked: `event:` equals `type`, numbered 0, 1, 2, ... */
function events(text: string): OpenAIResponseStreamEvent[] {
  const frames = parseSse(text);
  return frames.map((f, i) => {
    const e = OpenAIResponseStreamEventSchema.parse(JSON.parse(f.data));
    expect(f.event).toBe(e.type);
    expect(e.sequence_number).toBe(i);
    return e;
  });
}

function completedOf(list: OpenAIResponseStreamEvent[]): OpenAIResponse {
  const last = list.at(-1)!;
  if (last.type !== 'response.completed' && last.type !== 'response.incomplete') throw new Error(`last event is ${last.type}`);
  return last.response;
}

/** A chat.completion.chunk SSE frame (for upstream scripts given as raw SSE). */
const chunk = (delta: unknown, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-r1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

async function answer(res: Response): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

describe('POST /v1/responses (mock engine)', () => {
  let h: Harness;
  let auth: Record<string, string>;
  beforeEach(async () => {
    h = await createHarness({
      stores: 'memory',
      models: [
        mockModel('mock'),
        mockModel('tool-model', { toolArguments: { city: 'Oslo' } }),
        mockModel('breaks', { failures: [{ code: 'provider_error', message: 'upstream broke', afterChunks: 2, times: 1000 }] }),
      ],
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    auth = { authorization: `Bearer ${(await h.stores!.tenants.createKey('acme', { name: 't' })).secret}` };
  });
  afterEach(() => h.close());

  it('answers a response object with router headers and the llmrr field', async () => {
    const res = await post(h.gateway, '/v1/responses', hello, auth);
    expect(res.status).toBe(200);
    const body = OpenAIResponseSchema.parse(await res.json());
    const requestId = res.headers.get('x-request-id')!;
    expect(body.id).toBe(`resp_${requestId.slice(4)}`);
    expect(body).toMatchObject({ object: 'response', status: 'completed', model: 'mock', incomplete_details: null, store: false, error: null });
    expect(body.output).toEqual([
      { type: 'message', id: `msg_${requestId.slice(4)}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Mock answer to: hello there', annotations: [], logprobs: [] }] },
    ]);
    expect(body.usage).toEqual({ input_tokens: 2, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 7 });
    // output_text is a convenience the SDKs compute; the API itself does not send it.
    expect(body).not.toHaveProperty('output_text');
    expect(res.headers.get('x-llmrr-model')).toBe('mock');
    expect(Number(res.headers.get('x-llmrr-cost-usd'))).toBeCloseTo(0.000012, 10);
    expect(body.llmrr?.cost_usd).toBeCloseTo(0.000012, 10);
    expect(body.llmrr?.decision).toBeUndefined();
    const explained = OpenAIResponseSchema.parse(await (await post(h.gateway, '/v1/responses', { ...hello, llmrr: { explain: true } }, auth)).json());
    expect(explained.llmrr?.decision).toBeDefined();
  });

  it('echoes the request settings it ran with', async () => {
    const body = OpenAIResponseSchema.parse(
      await (
        await post(h.gateway, '/v1/responses', {
          ...hello,
          instructions: 'Be brief.',
          temperature: 0.5,
          top_p: 0.9,
          max_output_tokens: 100,
          tools: [weatherTool],
          tool_choice: 'none',
          parallel_tool_calls: false,
          text: { format: { type: 'json_object' } },
          metadata: { ticket: '42' },
          user: 'u-1',
          store: true,
          truncation: 'auto',
          reasoning: { effort: 'low' },
          include: ['reasoning.encrypted_content'],
        }, auth)
      ).json(),
    );
    expect(body).toMatchObject({
      instructions: 'Be brief.',
      temperature: 0.5,
      top_p: 0.9,
      max_output_tokens: 100,
      tool_choice: 'none',
      parallel_tool_calls: false,
      text: { format: { type: 'json_object' }, verbosity: 'medium' },
      metadata: { ticket: '42' },
      user: 'u-1',
      // Nothing is kept, whatever the client asked; truncation is never automatic; the effort is applied.
      store: false,
      truncation: 'disabled',
      reasoning: { effort: 'low', summary: null },
    });
    expect(body.tools).toEqual([{ type: 'function', name: 'get_weather', description: 'Weather', parameters: weatherTool.parameters, strict: null }]);
    // The mock engine thinks when asked to (its reasoning names the effort it got), then answers.
    expect(body.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'Mock reasoning at effort low.' }] });
    expect(JSON.parse((body.output[1] as { content: Array<{ text: string }> }).content[0]!.text)).toHaveProperty('answer');
  });

  it('streams the Responses events in order, and the final response equals the non-streamed one', async () => {
    const res = await post(h.gateway, '/v1/responses', { ...hello, stream: true }, auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-llmrr-model')).toBe('mock');
    const list = events(await res.text());
    const types = list.map((e) => e.type);
    const deltas = types.filter((t) => t === 'response.output_text.delta').length;
    expect(deltas).toBeGreaterThan(1);
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array<string>(deltas).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const text = list.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    expect(text).toBe('Mock answer to: hello there');
    const created = list[0] as Extract<OpenAIResponseStreamEvent, { type: 'response.created' }>;
    expect(created.response).toMatchObject({ status: 'in_progress', output: [], usage: null });
    const done = list.find((e) => e.type === 'response.output_text.done') as Extract<OpenAIResponseStreamEvent, { type: 'response.output_text.done' }>;
    expect(done.text).toBe(text);
    const completed = (list.at(-1) as Extract<OpenAIResponseStreamEvent, { type: 'response.completed' }>).response;
    expect(completed.id).toBe(created.response.id);
    const plain = OpenAIResponseSchema.parse(await (await post(h.gateway, '/v1/responses', hello, auth)).json());
    const strip = (r: OpenAIResponse) => ({ ...r, id: '', created_at: 0, llmrr: undefined, output: r.output.map((o) => ({ ...o, id: '' })) });
    expect(strip(completed)).toEqual(strip(plain));
  });

  it('returns function calls, streamed and not', async () => {
    const body = { model: 'tool-model', input: 'weather in Oslo?', tools: [weatherTool] };
    const plain = OpenAIResponseSchema.parse(await (await post(h.gateway, '/v1/responses', body, auth)).json());
    expect(plain.status).toBe('completed');
    expect(plain.output).toHaveLength(1);
    expect(plain.output[0]).toMatchObject({ type: 'function_call', call_id: 'call_mock_1', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' });
    expect(plain.output[0]!.id).toMatch(/^fc_/);

    const list = events(await (await post(h.gateway, '/v1/responses', { ...body, stream: true }, auth)).text());
    expect(list.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const added = list[2] as Extract<OpenAIResponseStreamEvent, { type: 'response.output_item.added' }>;
    expect(added.item).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '', status: 'in_progress' });
    const argsDone = list[4] as Extract<OpenAIResponseStreamEvent, { type: 'response.function_call_arguments.done' }>;
    expect(argsDone).toMatchObject({ item_id: added.item.id, output_index: 0, name: 'get_weather', arguments: '{"city":"Oslo"}' });
  });

  it('a stream that breaks after its first byte ends with the error event, and the ledger records the failure', async () => {
    const res = await post(h.gateway, '/v1/responses', { model: 'breaks', input: 'hello there', stream: true }, auth);
    expect(res.status).toBe(200);
    const list = events(await res.text());
    expect(list.slice(0, 4).map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    const last = list.at(-1)!;
    expect(last.type).toBe('error');
    expect(last).toMatchObject({ code: 'provider_error', message: expect.stringContaining('upstream broke'), param: null });
    expect(last.type === 'error' && last.error).toMatchObject({ type: 'api_error', code: 'provider_error', request_id: res.headers.get('x-request-id') });
    expect(list.some((e) => e.type === 'response.completed')).toBe(false);
    const row = await h.stores!.ledger.get(res.headers.get('x-request-id')!);
    expect(row).toMatchObject({ endpoint: '/v1/responses', stream: true, status: 'error' });
  });

  it('is listed for 405 answers: GET /v1/responses names the allowed method', async () => {
    const res = await get(h.gateway, '/v1/responses');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('POST /v1/responses: ledger and bad input', () => {
  let h: Harness;
  let auth: Record<string, string>;
  beforeEach(async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock', { delayMs: 5 })] });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    auth = { authorization: `Bearer ${(await h.stores!.tenants.createKey('acme', { name: 't' })).secret}` };
  });
  afterEach(() => h.close());

  it('records one ledger row per call, with the same cost streamed and not (and as chat completions)', async () => {
    const plain = await post(h.gateway, '/v1/responses', hello, auth);
    await plain.text();
    const streamed = await post(h.gateway, '/v1/responses', { ...hello, stream: true }, auth);
    await streamed.text();
    const chat = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hello there' }] }, auth);
    await chat.text();
    const rows = await h.stores!.ledger.query({ tenantId: 'acme' });
    expect(rows).toHaveLength(3);
    const a = await h.stores!.ledger.get(plain.headers.get('x-request-id')!);
    const b = await h.stores!.ledger.get(streamed.headers.get('x-request-id')!);
    const c = await h.stores!.ledger.get(chat.headers.get('x-request-id')!);
    expect(a).toMatchObject({ endpoint: '/v1/responses', stream: false, status: 'success', inputTokens: 2, outputTokens: 5 });
    expect(b).toMatchObject({ endpoint: '/v1/responses', stream: true, status: 'success', inputTokens: 2, outputTokens: 5 });
    expect(a!.costUsd).toBeGreaterThan(0);
    expect(b!.costUsd).toBe(a!.costUsd);
    expect(c!.costUsd).toBe(a!.costUsd);
  });

  const badInputs: Array<[string, unknown, number, string, string]> = [
    ['no input', { model: 'mock' }, 400, 'invalid_request', 'input'],
    ['empty input array', { model: 'mock', input: [] }, 400, 'invalid_request', 'input'],
    ['input not a string or array', { model: 'mock', input: 42 }, 400, 'invalid_request', 'input'],
    ['bad role', { model: 'mock', input: [{ role: 'robot', content: 'hi' }] }, 400, 'invalid_request', 'input.0.role'],
    ['unknown content part', { model: 'mock', input: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }, { type: 'message', role: 'user', content: [{ type: 'input_video', url: 'x' }] }] }, 400, 'invalid_request', 'input.2.content.0.type'],
    ['input_file part', { model: 'mock', input: [{ role: 'user', content: [{ type: 'input_text', text: 'read' }, { type: 'input_file', file_id: 'file_1' }] }] }, 400, 'unsupported', 'input.0.content.1.type'],
    ['image by file id', { model: 'mock', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }] }, 400, 'unsupported', 'input.0.content.0.file_id'],
    ['input_text without text', { model: 'mock', input: [{ role: 'user', content: [{ type: 'input_text' }] }] }, 400, 'invalid_request', 'input.0.content.0.text'],
    ['empty content array', { model: 'mock', input: [{ role: 'user', content: [] }] }, 400, 'invalid_request', 'input.0.content'],
    ['function_call without call_id', { model: 'mock', input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 400, 'invalid_request', 'input.0.call_id'],
    ['function_call_output without output', { model: 'mock', input: [{ type: 'function_call_output', call_id: 'c1' }] }, 400, 'invalid_request', 'input.0.output'],
    ['item_reference', { model: 'mock', input: [{ role: 'user', content: 'hi' }, { type: 'item_reference', id: 'msg_1' }] }, 400, 'unsupported', 'input.1.type'],
    ['built-in tool call item', { model: 'mock', input: [{ type: 'web_search_call', id: 'ws_1', status: 'completed' }] }, 400, 'unsupported', 'input.0.type'],
    ['web_search tool', { model: 'mock', input: 'hi', tools: [weatherTool, { type: 'web_search' }] }, 400, 'unsupported', 'tools.1.type'],
    ['file_search tool', { model: 'mock', input: 'hi', tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] }, 400, 'unsupported', 'tools.0.type'],
    ['function tool without name', { model: 'mock', input: 'hi', tools: [{ type: 'function', parameters: {} }] }, 400, 'invalid_request', 'tools.0.name'],
    ['bad tool name', { model: 'mock', input: 'hi', tools: [{ type: 'function', name: 'has space' }] }, 400, 'invalid_request', 'tools.0.name'],
    ['tool_choice not in tools', { model: 'mock', input: 'hi', tools: [weatherTool], tool_choice: { type: 'function', name: 'other' } }, 400, 'invalid_request', 'tool_choice.name'],
    ['built-in tool_choice', { model: 'mock', input: 'hi', tool_choice: { type: 'web_search_preview' } }, 400, 'unsupported', 'tool_choice.type'],
    ['bad tool_choice', { model: 'mock', input: 'hi', tool_choice: 'sometimes' }, 400, 'invalid_request', 'tool_choice'],
    ['previous_response_id', { model: 'mock', input: 'hi', previous_response_id: 'resp_1' }, 400, 'unsupported', 'previous_response_id'],
    ['conversation', { model: 'mock', input: 'hi', conversation: 'conv_1' }, 400, 'unsupported', 'conversation'],
    ['background', { model: 'mock', input: 'hi', background: true }, 400, 'unsupported', 'background'],
    ['stored prompt', { model: 'mock', input: 'hi', prompt: { id: 'pmpt_1' } }, 400, 'unsupported', 'prompt'],
    ['unknown include', { model: 'mock', input: 'hi', include: ['everything'] }, 400, 'invalid_request', 'include.0'],
    ['top_logprobs over 20', { model: 'mock', input: 'hi', top_logprobs: 21 }, 400, 'invalid_request', 'top_logprobs'],
    ['text.verbosity outside the enum', { model: 'mock', input: 'hi', text: { verbosity: 'max' } }, 400, 'invalid_request', 'text.verbosity'],
    ['temperature out of range', { model: 'mock', input: 'hi', temperature: 3 }, 400, 'invalid_request', 'temperature'],
    ['max_output_tokens zero', { model: 'mock', input: 'hi', max_output_tokens: 0 }, 400, 'invalid_request', 'max_output_tokens'],
    ['json_schema without schema', { model: 'mock', input: 'hi', text: { format: { type: 'json_schema', name: 'x' } } }, 400, 'invalid_request', 'text.format.schema'],
    ['unknown text format', { model: 'mock', input: 'hi', text: { format: { type: 'xml' } } }, 400, 'invalid_request', 'text.format.type'],
    ['bad truncation', { model: 'mock', input: 'hi', truncation: 'middle' }, 400, 'invalid_request', 'truncation'],
    ['reasoning effort not a string', { model: 'mock', input: 'hi', reasoning: { effort: 5 } }, 400, 'invalid_request', 'reasoning.effort'],
    ['an input item that is not an object', { model: 'mock', input: [{ role: 'user', content: 'hi' }, 'and this'] }, 400, 'invalid_request', 'input.1'],
    ['an input item type that is not a string', { model: 'mock', input: [{ type: 7, role: 'user', content: 'hi' }] }, 400, 'invalid_request', 'input.0.type'],
    ['a content part as an input item', { model: 'mock', input: [{ type: 'input_text', text: 'hi' }] }, 400, 'invalid_request', 'input.0.type'],
    ['only reasoning items (dropped: nothing to answer)', { model: 'mock', input: [{ type: 'reasoning', id: 'rs_1', summary: [] }] }, 400, 'invalid_request', 'input'],
    ['only a developer message', { model: 'mock', instructions: 'Be brief.', input: [{ role: 'developer', content: 'Use metric units.' }] }, 400, 'invalid_request', 'input'],
    ['stream_options without stream', { model: 'mock', input: 'hi', stream_options: { include_obfuscation: false } }, 400, 'invalid_request', 'stream_options'],
    ['unknown llmrr key', { model: 'mock', input: 'hi', llmrr: { fast: true } }, 400, 'invalid_request', 'llmrr.fast'],
  ];

  it.each(badInputs)('%s: a 4xx naming the field, and no ledger row', async (_label, body, status, code, param) => {
    const res = await post(h.gateway, '/v1/responses', body, auth);
    expectGatewayError(await answer(res), { status, code, param }, _label);
    expect(await h.stores!.ledger.query({ tenantId: 'acme' })).toHaveLength(0);
  });

  it('bad input items get a message that says what is wrong with them', async () => {
    const message = async (input: unknown) => {
      const res = await post(h.gateway, '/v1/responses', { model: 'mock', input }, auth);
      return (JSON.parse(await res.text()) as { error: { message: string } }).error.message;
    };
    expect(await message([{ role: 'user', content: 'hi' }, 'and this'])).toBe('Invalid request: input.1: expected an object (a message or an item such as function_call_output), got a string');
    expect(await message([null])).toMatch(/^Invalid request: input\.0: expected an object .*got null$/);
    expect(await message([{ type: 'input_text', text: 'hi' }])).toMatch(/^Invalid request: input\.0\.type: "input_text" is a content part, not an input item; put it in a message/);
    expect(await message([{ type: 'reasoning', id: 'rs_1', summary: [] }])).toMatch(/^Invalid request: input: no user, assistant or function_call_output item/);
  });

  it('null is taken as absent for user, safety_identifier, prompt_cache_key, tools, tool_choice and text.format', async () => {
    const res = await post(h.gateway, '/v1/responses', { ...hello, user: null, safety_identifier: null, prompt_cache_key: null, tools: null, tool_choice: null, text: { format: null } }, auth);
    expect(res.status).toBe(200);
    const body = OpenAIResponseSchema.parse(await res.json());
    expect(body).toMatchObject({ user: null, tools: [], tool_choice: 'auto', text: { format: { type: 'text' } } });
  });

  it('more input items than limits.maxMessages is a 400 naming input', async () => {
    const small = await createHarness({ gateway: { limits: { maxMessages: 2 } } });
    try {
      const items = [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }];
      expectGatewayError(await answer(await post(small.gateway, '/v1/responses', { model: 'mock', input: items })), { status: 400, code: 'invalid_request', param: 'input' });
      expect((await post(small.gateway, '/v1/responses', { model: 'mock', input: items.slice(1) })).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('an unknown model is a 404 naming model, recorded as on chat completions', async () => {
    const res = await post(h.gateway, '/v1/responses', { model: 'nope', input: 'hi' }, auth);
    expectGatewayError(await answer(res), { status: 404, code: 'model_not_found', param: 'model' });
    const chat = await post(h.gateway, '/v1/chat/completions', { model: 'nope', messages: [{ role: 'user', content: 'hi' }] }, auth);
    expect(chat.status).toBe(404);
    const rows = await h.stores!.ledger.query({ tenantId: 'acme' });
    expect(rows.filter((r) => r.endpoint === '/v1/responses').map((r) => [r.status, r.costUsd])).toEqual(rows.filter((r) => r.endpoint === '/v1/chat/completions').map((r) => [r.status, r.costUsd]));
  });
});

describe('POST /v1/responses over an OpenAI-wire upstream', () => {
  let upstream: OpenAIWireServer;
  let h: Harness;
  beforeAll(async () => {
    upstream = await startOpenAIWireServer();
    h = await createHarness({
      models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming', 'tools', 'json', 'vision'] }],
      routerOptions: { env: {} },
    });
  });
  afterAll(async () => {
    await h?.close();
    await upstream?.close();
  });
  beforeEach(() => {
    upstream.requests.length = 0;
  });

  const lastBody = () => upstream.requests.at(-1)!.body as Record<string, unknown>;

  it('turns instructions and input items into chat messages: roles, images, function calls and their outputs', async () => {
    upstream.setScript({ text: 'It is sunny.' });
    const res = await post(h.gateway, '/v1/responses', {
      model: 'gpt',
      instructions: 'You are terse.',
      input: [
        { role: 'developer', content: 'Use metric units.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is this? ' }, { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' }] },
        { role: 'assistant', content: [{ type: 'output_text', text: 'A map. Checking the weather.' }] },
        { type: 'function_call', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call', call_id: 'call_b', name: 'get_weather', arguments: '{"city":"Bergen"}' },
        { type: 'function_call_output', call_id: 'call_a', output: '{"temp":3}' },
        { type: 'function_call_output', call_id: 'call_b', output: [{ type: 'input_text', text: '{"temp":' }, { type: 'input_text', text: '5}' }] },
        { type: 'reasoning', id: 'rs_1', summary: [] },
      ],
      tools: [weatherTool],
      tool_choice: { type: 'function', name: 'get_weather' },
      max_output_tokens: 64,
      temperature: 0.2,
      user: 'u-9',
    });
    expect(res.status).toBe(200);
    const body = lastBody();
    expect(body.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'system', content: 'Use metric units.' },
      { role: 'user', content: [{ type: 'text', text: 'What is this? ' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
      {
        role: 'assistant',
        content: 'A map. Checking the weather.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Bergen"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '{"temp":3}' },
      // An output's parts joined with "\n", as chat completions and /v1/messages join a tool result's.
      { role: 'tool', tool_call_id: 'call_b', content: '{"temp":\n5}' },
    ]);
    expect(body).toMatchObject({ model: 'gpt-test', max_tokens: 64, temperature: 0.2, user: 'u-9', tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    expect(body.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: weatherTool.parameters } }]);
  });

  it('maps text.format json_schema to the upstream response_format', async () => {
    upstream.setScript({ text: '{"city":"Oslo"}' });
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const res = await post(h.gateway, '/v1/responses', { model: 'gpt', input: 'city?', text: { format: { type: 'json_schema', name: 'city', schema, strict: true } } });
    const body = OpenAIResponseSchema.parse(await res.json());
    expect(lastBody().response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'city', schema, strict: true } });
    expect(body.text.format).toMatchObject({ type: 'json_schema', name: 'city', strict: true });
  });

  it('a length finish is an incomplete response, streamed and not', async () => {
    upstream.setScript({ text: 'one two three', finishReason: 'length' });
    const plain = OpenAIResponseSchema.parse(await (await post(h.gateway, '/v1/responses', { model: 'gpt', input: 'count', max_output_tokens: 3 })).json());
    expect(plain).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, max_output_tokens: 3 });
    expect(plain.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
    const list = events(await (await post(h.gateway, '/v1/responses', { model: 'gpt', input: 'count', max_output_tokens: 3, stream: true })).text());
    const last = list.at(-1)!;
    expect(last.type).toBe('response.incomplete');
    expect(last.type === 'response.incomplete' && last.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    const itemDone = list.find((e) => e.type === 'response.output_item.done');
    expect(itemDone?.type === 'response.output_item.done' && itemDone.item.status).toBe('incomplete');
  });

  it('streams reasoning as a reasoning item before the message, and usage details', async () => {
    upstream.setScript({ reasoning: 'Think first.', text: 'Answer.', usage: { prompt_tokens: 10, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 3 } }, streamUsage: 'always' });
    const plain = OpenAIResponseSchema.parse(await (await post(h.gateway, '/v1/responses', { model: 'gpt', input: 'q' })).json());
    expect(plain.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    expect(plain.output[0]).toMatchObject({ summary: [{ type: 'summary_text', text: 'Think first.' }], content: [{ type: 'reasoning_text', text: 'Think first.' }] });
    expect(plain.usage).toEqual({ input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 3 }, total_tokens: 17 });
    const list = events(await (await post(h.gateway, '/v1/responses', { model: 'gpt', input: 'q', stream: true })).text());
    const reasoning = list.flatMap((e) => (e.type === 'response.reasoning_text.delta' ? [e.delta] : [])).join('');
    expect(reasoning).toBe('Think first.');
    expect(list.flatMap((e) => (e.type === 'response.reasoning_summary_text.delta' ? [e.delta] : [])).join('')).toBe('Think first.');
    const completed = list.at(-1)!;
    expect(completed.type === 'response.completed' && completed.response.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    expect(completed.type === 'response.completed' && completed.response.usage).toEqual(plain.usage);
  });
  it('turns text-only user parts into separate parts, as chat completions does', async () => {
    upstream.setScript({ text: 'ok' });
    await post(h.gateway, '/v1/responses', { model: 'gpt', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hello' }, { type: 'input_text', text: 'world' }] }] });
    expect(lastBody().messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hello' }, { type: 'text', text: 'world' }] }]);
  });

  it('an assistant message between function_call items and their outputs joins the turn with the calls', async () => {
    upstream.setScript({ text: 'ok' });
    const res = await post(h.gateway, '/v1/responses', {
      model: 'gpt',
      tools: [weatherTool],
      input: [
        { role: 'user', content: 'Weather in Oslo?' },
        { type: 'function_call', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
        { type: 'function_call_output', call_id: 'call_a', output: '{"temp":3}' },
        { role: 'assistant', content: 'It is 3 degrees.' },
      ],
    });
    expect(res.status).toBe(200);
    expect(lastBody().messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_a', content: '{"temp":3}' },
      { role: 'assistant', content: 'It is 3 degrees.' },
    ]);
  });

  it('its own streamed output [message, function_call, message], sent back with the function output, is a valid chat sequence', async () => {
    upstream.setScript({
      rawSSE:
        chunk({ role: 'assistant', content: 'Let me check. ' }) +
        chunk({ tool_calls: [{ index: 0, id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] }) +
        chunk({ content: 'One moment.' }) +
        chunk({}, 'tool_calls') +
        'data: [DONE]\n\n',
    });
    const input = [{ role: 'user', content: 'Weather in Oslo?' }];
    const output = completedOf(events(await (await post(h.gateway, '/v1/responses', { model: 'gpt', stream: true, input, tools: [weatherTool] })).text())).output;
    expect(output.map((o) => o.type)).toEqual(['message', 'function_call', 'message']);

    upstream.setScript({ text: 'It is 3 degrees.' });
    const res = await post(h.gateway, '/v1/responses', { model: 'gpt', input: [...input, ...output, { type: 'function_call_output', call_id: 'call_w', output: '{"temp":3}' }], tools: [weatherTool] });
    expect(res.status).toBe(200);
    // Chat completions and Anthropic need the tool results right after the assistant turn with the calls.
    expect(lastBody().messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: 'Let me check. One moment.', tool_calls: [{ id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_w', content: '{"temp":3}' },
    ]);
  });

  it('parallel tool calls whose argument pieces interleave keep all their arguments, as on chat completions', async () => {
    const interleaved =
      chunk({
        role: 'assistant',
        tool_calls: [
          { index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } },
          { index: 1, id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      }) +
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Oslo"}' } }] }) +
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{"city":"Bergen"}' } }] }) +
      chunk({}, 'tool_calls') +
      'data: [DONE]\n\n';
    upstream.setScript({ rawSSE: interleaved });
    const chat = sseJson(await (await post(h.gateway, '/v1/chat/completions', { model: 'gpt', stream: true, messages: [{ role: 'user', content: 'weather?' }], tools: [{ type: 'function', function: weatherTool }] })).text());
    const chatArgs: Record<number, string> = {};
    for (const c of chat) {
      const calls = (c.choices as Array<{ delta: { tool_calls?: Array<{ index: number; function: { arguments?: string } }> } }> | undefined)?.[0]?.delta.tool_calls ?? [];
      for (const call of calls) chatArgs[call.index] = (chatArgs[call.index] ?? '') + (call.function.arguments ?? '');
    }
    expect(chatArgs).toEqual({ 0: '{"city":"Oslo"}', 1: '{"city":"Bergen"}' });

    upstream.setScript({ rawSSE: interleaved });
    const output = completedOf(events(await (await post(h.gateway, '/v1/responses', { model: 'gpt', stream: true, input: 'weather?', tools: [weatherTool] })).text())).output;
    expect(output.map((o) => (o.type === 'function_call' ? [o.call_id, o.arguments] : o.type))).toEqual([
      ['call_a', '{"city":"Oslo"}'],
      ['call_b', '{"city":"Bergen"}'],
    ]);
  });

  it('a function_call item keeps one call_id from output_item.added to output_item.done when the upstream sends no id', async () => {
    upstream.setScript({
      rawSSE:
        chunk({ role: 'assistant', tool_calls: [{ index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] }) +
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }) +
        chunk({}, 'tool_calls') +
        'data: [DONE]\n\n',
    });
    const list = events(await (await post(h.gateway, '/v1/responses', { model: 'gpt', stream: true, input: 'weather?', tools: [weatherTool] })).text());
    const callIds = list.flatMap((e) => (e.type === 'response.output_item.added' || e.type === 'response.output_item.done' ? [e.item.type === 'function_call' ? e.item.call_id : e.item.type] : []));
    // The id core's decoder makes up on the call's first piece (`call_<upstream response id>_<index>`).
    expect(callIds).toEqual(['call_chatcmpl-r1_0', 'call_chatcmpl-r1_0']);
    expect(completedOf(list).output[0]).toMatchObject({ call_id: 'call_chatcmpl-r1_0', arguments: '{"city":"Oslo"}' });
  });

  it('a length finish during reasoning: the reasoning item alone, streamed and not', async () => {
    const script = { reasoning: 'Let me think about this for a while', text: '', finishReason: 'length', usage: { prompt_tokens: 5, completion_tokens: 8 }, streamUsage: 'always' } as const;
    upstream.setScript(script);
    const plain = OpenAIResponseSchema.parse(await (await post(h.gateway, '/v1/responses', { model: 'gpt', input: 'q', max_output_tokens: 8 })).json());
    upstream.setScript(script);
    const streamed = completedOf(events(await (await post(h.gateway, '/v1/responses', { model: 'gpt', input: 'q', max_output_tokens: 8, stream: true })).text()));
    expect(plain.status).toBe('incomplete');
    expect(streamed.status).toBe('incomplete');
    expect(plain.output.map((o) => [o.type, o.status])).toEqual([['reasoning', 'incomplete']]);
    const withoutId = (o: OpenAIResponse['output'][number]) => ({ ...o, id: o.id.replace(/^rs_[0-9a-f]+/, 'rs_') });
    expect(streamed.output.map(withoutId)).toEqual(plain.output.map(withoutId));
  });
});
