import type OpenAI from 'openai';
import { parseList, Token } from 'structured-headers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { WarningEngine } from '../test-support/warning-engine.js';
import { IGNORED_FIELD_WARNINGS_MAX } from '../schemas/ignored-fields.js';

// The top-level body fields a route does not act on, said in x-llmrr-warnings (`setting_not_sent`, field = the
// client's own name), in body order, through a served gateway and the official clients and through app.request:
// none for values that ask for nothing, on a cache hit too, bounded for hostile bodies, before the engine's own.

let gw: SdkGateway;
let h: Harness;

beforeAll(async () => {
  gw = await servedGateway({ models: [mockModel('mock')] });
  h = await createHarness({
    models: [mockModel('mock'), mockModel('warned')],
    cache: { exact: { enabled: true } },
    routerOptions: { env: {}, engines: { warned: new WarningEngine({ modelId: 'warned-test', reply: 'Hi there.' }) } },
  });
});
afterAll(async () => {
  await gw?.close();
  await h?.close();
});

/** [code, field] of each member of the header, as an RFC 8941 client reads it. */
function read(value: string | null): Array<[string, unknown]> {
  expect(value).not.toBeNull();
  expect(value).toMatch(/^[\x20-\x7e]+$/);
  return parseList(value!).map(([item, params]) => [item instanceof Token ? item.toString() : String(item), params.get('field')]);
}
const notSent = (...fields: string[]) => fields.map((f) => ['setting_not_sent', f]);

const ASK: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hello' }];

describe('through the official clients', () => {
  it('/v1/chat/completions: prediction, store, metadata, web_search_options, in body order; not logprobs and top_logprobs, which it acts on (JSON and streamed)', async () => {
    const params = {
      model: 'mock',
      logprobs: true,
      messages: ASK,
      top_logprobs: 3,
      prediction: { type: 'content' as const, content: 'Hello there' },
      store: true,
      metadata: { run: 'a' },
      web_search_options: { search_context_size: 'low' as const },
    };
    const json = await gw.openai().chat.completions.create(params).withResponse();
    expect(json.data.choices).toHaveLength(1);
    const header = json.response.headers.get('x-llmrr-warnings');
    expect(read(header)).toEqual(notSent('prediction', 'store', 'metadata', 'web_search_options'));
    expect(header).toContain('setting_not_sent;field="prediction";message="prediction is not supported by this gateway; it was not sent."');
    const streamed = await gw.openai().chat.completions.create({ ...params, stream: true }).withResponse();
    expect(read(streamed.response.headers.get('x-llmrr-warnings'))).toEqual(notSent('prediction', 'store', 'metadata', 'web_search_options'));
    for await (const _ of streamed.data) void _;
  });

  it('/v1/chat/completions: values that ask for nothing, and the fields it acts on, say nothing', async () => {
    const { response } = await gw
      .openai()
      .chat.completions.create({
        model: 'mock',
        messages: ASK,
        n: 1,
        logprobs: false,
        top_logprobs: 0,
        store: false,
        metadata: {},
        logit_bias: null,
        modalities: ['text'],
        service_tier: 'auto',
        stream: true,
        stream_options: { include_usage: true },
        user: 'u1',
        prompt_cache_key: 'k',
        reasoning_effort: 'low',
        frequency_penalty: 0,
        parallel_tool_calls: true,
        seed: 1,
      })
      .withResponse();
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('/v1/responses: store true, truncation auto, service_tier flex, max_tool_calls, then include.0; not store false, truncation disabled, metadata', async () => {
    const { data, response } = await gw
      .openai()
      .responses.create({
        model: 'mock',
        input: 'Hello',
        store: true,
        truncation: 'auto',
        include: ['web_search_call.results'],
        metadata: { run: 'a' },
        service_tier: 'flex',
        max_tool_calls: 3,
      } as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      .withResponse();
    expect(data.status).toBe('completed');
    // `include` is acted on in part (its logprobs value): a value it adds nothing for is said by its index, after the top-level fields.
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual(notSent('store', 'truncation', 'service_tier', 'max_tool_calls', 'include.0'));
    const quiet = await gw.openai().responses.create({ model: 'mock', input: 'Hello', store: false, truncation: 'disabled', include: ['reasoning.encrypted_content'], service_tier: 'auto', background: false }).withResponse();
    expect(quiet.response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('/v1/messages: service_tier standard_only, container, mcp_servers, context_management; service_tier auto says nothing', async () => {
    const body = {
      model: 'mock',
      max_tokens: 50,
      messages: [{ role: 'user' as const, content: 'Hello' }],
      service_tier: 'standard_only' as const,
      container: 'container_1',
      mcp_servers: [{ type: 'url' as const, url: 'https://example.com/mcp', name: 'x' }],
      context_management: { edits: [{ type: 'clear_tool_uses_20250919' as const }] },
    };
    const { response } = await gw.anthropic().messages.create(body as never).withResponse();
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual(notSent('service_tier', 'container', 'mcp_servers', 'context_management'));
    const quiet = await gw.anthropic().messages.create({ model: 'mock', max_tokens: 50, messages: body.messages, service_tier: 'auto', metadata: { user_id: 'u' } }).withResponse();
    expect(quiet.response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('/v1/completions: best_of; best_of 1 says nothing, nor logprobs and logit_bias, which it acts on', async () => {
    const { response } = await gw.openai().completions.create({ model: 'mock', prompt: 'Hi', logprobs: 2, best_of: 2, logit_bias: { '1': -100 } }).withResponse();
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual(notSent('best_of'));
    const quiet = await gw.openai().completions.create({ model: 'mock', prompt: 'Hi', logprobs: 2, best_of: 1, logit_bias: { '1': -100 } }).withResponse();
    expect(quiet.response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});

describe('through app.request', () => {
  const chat = (extra: Record<string, unknown>, model = 'mock') => post(h.gateway, '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'Hello' }], ...extra });

  it('a router cache hit says them too (the gateway ignored the fields either way)', async () => {
    const body = { prediction: { type: 'content', content: 'x' }, messages: [{ role: 'user', content: 'cache me' }] };
    const first = await post(h.gateway, '/v1/chat/completions', { model: 'mock', ...body });
    expect(first.headers.get('x-llmrr-cache')).toBe('miss');
    const hit = await post(h.gateway, '/v1/chat/completions', { model: 'mock', ...body });
    expect(hit.headers.get('x-llmrr-cache')).toBe('hit-exact');
    expect(read(hit.headers.get('x-llmrr-warnings'))).toEqual(notSent('prediction'));
    const streamedHit = await post(h.gateway, '/v1/chat/completions', { model: 'mock', ...body, stream: true });
    expect(streamedHit.headers.get('x-llmrr-cache')).toBe('hit-exact');
    expect(read(streamedHit.headers.get('x-llmrr-warnings'))).toEqual(notSent('prediction'));
    await streamedHit.text();
  });

  it('the gateway\u2019s warnings come first, then the engine\u2019s (with the client\u2019s message paths)', async () => {
    const res = await chat({ prediction: { type: 'content', content: 'x' } }, 'warned');
    expect(read(res.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'prediction'], ['last_message_noted', 'messages.0']]);
  });

  it(`a hostile body of 5,000 unknown keys: ${IGNORED_FIELD_WARNINGS_MAX} warnings in body order and one saying how many more; the call answers`, async () => {
    const extra: Record<string, unknown> = {};
    for (let i = 0; i < 5000; i++) extra[`k${i}`] = i % 2 === 0 ? 'on' : 1;
    const res = await chat(extra);
    expect(res.status).toBe(200);
    const members = read(res.headers.get('x-llmrr-warnings'));
    expect(members).toEqual([...notSent(...Array.from({ length: IGNORED_FIELD_WARNINGS_MAX }, (_, i) => `k${i}`)), ['setting_not_sent', '...']]);
    expect(res.headers.get('x-llmrr-warnings')).toContain(`message="${5000 - IGNORED_FIELD_WARNINGS_MAX} more fields are not supported by this gateway; they were not sent."`);
  });

  it('null, false, [] and {} ask for nothing: no header', async () => {
    const res = await chat({ a: null, b: false, c: [], d: {}, functions: [], stream_options: null });
    expect(res.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('unknown fields that ask for something: a prediction, a number 0, an empty string (each is a value sent)', async () => {
    const res = await chat({ prediction: { type: 'content', content: 'x' }, x_zero: 0, x_empty: '' });
    expect(read(res.headers.get('x-llmrr-warnings'))).toEqual(notSent('prediction', 'x_zero', 'x_empty'));
  });

  it('a key that looks like a core message path is the client\u2019s own field, not renamed', async () => {
    const res = await post(h.gateway, '/v1/messages', { model: 'mock', max_tokens: 10, system: 'S', messages: [{ role: 'user', content: 'Hi' }], 'messages.0': 'x' });
    expect(read(res.headers.get('x-llmrr-warnings'))).toEqual(notSent('messages.0'));
  });

  it('a key outside printable ASCII: the header stays printable ASCII', async () => {
    const res = await chat({ 'caf\u00e9\r\nx-injected': 'yes' });
    expect(read(res.headers.get('x-llmrr-warnings'))).toEqual(notSent('caf???x-injected'));
    expect(res.headers.get('x-injected')).toBeNull();
  });

  it('a refused request (a 400) has no warnings header', async () => {
    const res = await chat({ logprobs: true, temperature: 9 });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-llmrr-warnings')).toBeNull();
  });
});
