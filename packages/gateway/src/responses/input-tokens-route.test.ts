import { startAnthropicWireServer, type AnthropicWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectGatewayError } from '../test-support/expect-error.js';
import { createHarness, get, mockModel, post, type Harness } from '../test-support/harness.js';
import type { WireAnswer } from '../test-support/raw-http.js';
import { sharedServedGateway } from '../test-support/served-gateway.js';

// POST /v1/responses/input_tokens (OpenAI's input token count, the SDK's `responses.inputTokens.count`): a Responses
// body in, `{ object: "response.input_tokens", input_tokens }` out, counted by the deployment a call would use; the
// body checked as on POST /v1/responses; auth, model access, no ledger, errors in OpenAI's shape.

async function answer(res: Response): Promise<WireAnswer> {
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

const PATH = '/v1/responses/input_tokens';
const body = { model: 'mock', instructions: 'Be brief.', input: 'hello there' };
/** What the upstream count_tokens answers: no estimate would land on it. */
const UPSTREAM_COUNT = 4242;

let upstream: AnthropicWireServer;
let h: Harness;
let key: string;
let narrowKey: string;

const served = sharedServedGateway(async () => {
  upstream = await startAnthropicWireServer({ apiKey: 'sk-ant-upstream', countTokens: () => UPSTREAM_COUNT });
  return {
    models: [
      mockModel('mock'),
      mockModel('hidden'),
      { name: 'claude', engine: 'anthropic', model: 'claude-wire-1', baseURL: upstream.url, apiKey: 'sk-ant-upstream', options: { exactTokenCount: true } },
    ],
    upstreams: [upstream],
  };
});
beforeAll(async () => {
  ({ harness: h, secret: key } = served.gw);
  await h.stores!.tenants.createTenant({ id: 'narrow', name: 'Narrow', allowedModels: ['mock'] });
  narrowKey = (await h.stores!.tenants.createKey('narrow', { name: 'k' })).secret;
});
afterEach(() => {
  upstream.requests.length = 0;
});

const auth = (k = key) => ({ authorization: `Bearer ${k}` });
const client = (k = key) => new OpenAI({ baseURL: `${served.gw.url}/v1`, apiKey: k, maxRetries: 0 });

describe('official openai client: responses.inputTokens.count', () => {
  it("a mock deployment: the engine's count as { object, input_tokens }, header estimate, nothing upstream", async () => {
    const { data, response } = await client().responses.inputTokens.count(body).withResponse();
    // The mock engine counts words: "Be brief." and "hello there".
    expect(data).toEqual({ object: 'response.input_tokens', input_tokens: 4 });
    expect(response.headers.get('x-llmrr-token-count')).toBe('estimate');
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(upstream.requests).toHaveLength(0);
  });

  it("an anthropic deployment with exactTokenCount: the upstream's count of the converted request, header exact", async () => {
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: null }];
    const { data, response } = await client()
      .responses.inputTokens.count({
        model: 'claude',
        instructions: 'You are terse.',
        input: [
          { role: 'user', content: 'weather in Oslo?' },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
        ],
        tools,
        tool_choice: 'auto',
      })
      .withResponse();
    expect(data).toEqual({ object: 'response.input_tokens', input_tokens: UPSTREAM_COUNT });
    expect(response.headers.get('x-llmrr-token-count')).toBe('exact');
    // Only the count endpoint was called upstream, with the Responses body as a Messages body.
    expect(upstream.requests.map((r) => r.path)).toEqual(['/v1/messages/count_tokens']);
    const sent = upstream.requests[0]!.body as Record<string, unknown>;
    expect(sent['system']).toBe('You are terse.');
    expect(sent['messages']).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'weather in Oslo?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Oslo' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' }] },
    ]);
    expect((sent['tools'] as Array<{ name: string }>).map((t) => t.name)).toEqual(['get_weather']);
    expect(sent).not.toHaveProperty('max_tokens');
    expect(await h.stores!.ledger.query({ tenantId: 'acme' })).toEqual([]);
  });

  it('a bad body is the 400 the SDK raises as BadRequestError, naming the input item as POST /v1/responses does', async () => {
    const bad = { model: 'mock', input: [{ type: 'input_text', text: 'hi' }] } as unknown as OpenAI.Responses.InputTokenCountParams;
    const counted = await client().responses.inputTokens.count(bad).catch((e: unknown) => e);
    const created = await client()
      .responses.create(bad as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(counted).toBeInstanceOf(OpenAI.BadRequestError);
    expect(created).toBeInstanceOf(OpenAI.BadRequestError);
    const [c, r] = [counted as InstanceType<typeof OpenAI.BadRequestError>, created as InstanceType<typeof OpenAI.BadRequestError>];
    expect(c.param).toBe('input.0.type');
    expect(c.param).toBe(r.param);
    expect(c.message).toBe(r.message);
  });

  it('no input, input null, or system and developer messages alone: a count of what there is, as OpenAI counts it (POST /v1/responses refuses them)', async () => {
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: null }];
    // The mock engine counts words: "You are a weather bot." is 5.
    const instructions = 'You are a weather bot.';
    expect(await client().responses.inputTokens.count({ model: 'mock', instructions, input: null })).toEqual({ object: 'response.input_tokens', input_tokens: 5 });
    const withTools = await client().responses.inputTokens.count({ model: 'mock', instructions, tools });
    expect(withTools.object).toBe('response.input_tokens');
    expect(withTools.input_tokens).toBeGreaterThanOrEqual(5);
    expect(await client().responses.inputTokens.count({ model: 'mock', input: [{ role: 'developer', content: 'Answer in French.' }] })).toEqual({ object: 'response.input_tokens', input_tokens: 3 });
    expect(await client().responses.inputTokens.count({ model: 'mock', instructions, input: [{ role: 'system', content: 'Answer in French.' }] })).toEqual({ object: 'response.input_tokens', input_tokens: 8 });
    // Nothing but the model: nothing to count.
    expect(await client().responses.inputTokens.count({ model: 'mock' })).toEqual({ object: 'response.input_tokens', input_tokens: 0 });
    // Instructions alone on a deployment with an exact count: its count endpoint needs a turn (Anthropic's does), so
    // the engine's local estimate answers, said so, and nothing goes upstream.
    const local = await client().responses.inputTokens.count({ model: 'claude', instructions, tools }).withResponse();
    expect(local.data.object).toBe('response.input_tokens');
    expect(local.data.input_tokens).toBeGreaterThan(0);
    expect(local.data.input_tokens).not.toBe(UPSTREAM_COUNT);
    expect(local.response.headers.get('x-llmrr-token-count')).toBe('estimate');
    expect(upstream.requests).toHaveLength(0);
    // A call needs a turn to answer: the same developer-only body is still the 400 on POST /v1/responses.
    const created = await post(h.gateway, '/v1/responses', { model: 'mock', input: [{ role: 'developer', content: 'Answer in French.' }] }, auth());
    expectGatewayError(await answer(created), { status: 400, code: 'invalid_request', param: 'input', style: 'openai' });
  });

  it('a model the caller may not use is the 404 the SDK raises as NotFoundError', async () => {
    const e = await client(narrowKey)
      .responses.inputTokens.count({ ...body, model: 'hidden' })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    expect((e as InstanceType<typeof OpenAI.NotFoundError>).param).toBe('model');
  });
});

describe('POST /v1/responses/input_tokens', () => {
  it('ignores what does not change the prompt (max_output_tokens, stream, sampling, store, metadata, llmrr...)', async () => {
    const res = await post(
      h.gateway,
      PATH,
      {
        ...body,
        max_output_tokens: 'many',
        stream: 'yes',
        stream_options: { include_usage: true },
        temperature: 7,
        top_p: -1,
        top_logprobs: 99,
        store: true,
        background: true,
        truncation: 'auto',
        include: ['nope'],
        metadata: 5,
        user: 1,
        prompt_cache_key: {},
        service_tier: 'gold',
        llmrr: 5,
        personality: 'friendly',
      },
      auth(),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ object: 'response.input_tokens', input_tokens: 4 });
  });

  it('bad input is a typed 400 in the OpenAI envelope naming the client field, as on POST /v1/responses', async () => {
    for (const [bad, param, code] of [
      [{ ...body, model: undefined }, 'model', 'invalid_request'],
      [{ ...body, input: [] }, 'input', 'invalid_request'],
      [{ ...body, input: [{ role: 'robot', content: 'hi' }] }, 'input.0.role', 'invalid_request'],
      [{ ...body, input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }, 'input.0.content.0.type', 'unsupported'],
      [{ ...body, instructions: 5 }, 'instructions', 'invalid_request'],
      [{ ...body, tools: [{ type: 'web_search' }] }, 'tools.0.type', 'unsupported'],
      [{ ...body, tools: [{ type: 'function', name: 'bad name' }] }, 'tools.0.name', 'invalid_request'],
      [{ ...body, tool_choice: { type: 'function', name: 'missing' } }, 'tool_choice.name', 'invalid_request'],
      [{ ...body, text: { format: { type: 'json_schema', name: 'x' } } }, 'text.format.schema', 'invalid_request'],
      [{ ...body, reasoning: { effort: 'huge' } }, 'reasoning.effort', 'invalid_request'],
      [{ ...body, previous_response_id: 'resp_1' }, 'previous_response_id', 'unsupported'],
      [{ ...body, conversation: 'conv_1' }, 'conversation', 'unsupported'],
      [[1, 2], 'body', 'invalid_request'],
    ] as const) {
      const res = await post(h.gateway, PATH, bad, auth());
      expectGatewayError(await answer(res), { status: 400, code, param, style: 'openai' }, param);
      // The same body is refused the same way by POST /v1/responses.
      const created = await post(h.gateway, '/v1/responses', bad, auth());
      expectGatewayError(await answer(created), { status: 400, code, param, style: 'openai' }, `/v1/responses ${param}`);
    }
    expectGatewayError(await answer(await post(h.gateway, PATH, '{"model":', auth())), { status: 400, code: 'invalid_json', style: 'openai' });
  });

  it('too many input items, a body over the limit, a non-JSON type: 4xx like every model route', async () => {
    const small = await createHarness({ gateway: { limits: { maxMessages: 2, maxBodyBytes: 1000 } } });
    try {
      const many = { model: 'mock', input: [1, 2, 3].map(() => ({ role: 'user', content: 'x' })) };
      expectGatewayError(await answer(await post(small.gateway, PATH, many)), { status: 400, param: 'input', style: 'openai' });
      const big = { model: 'mock', input: 'x'.repeat(2000) };
      expectGatewayError(await answer(await post(small.gateway, PATH, big)), { status: 413, code: 'payload_too_large', param: 'body', style: 'openai' });
      expectGatewayError(await answer(await post(small.gateway, PATH, JSON.stringify(body), { 'content-type': 'application/x-www-form-urlencoded' })), {
        status: 415,
        param: 'content-type',
        style: 'openai',
      });
    } finally {
      await small.close();
    }
  });

  it('a model the caller may not use is the same 404 as on POST /v1/responses, before anything goes upstream', async () => {
    for (const [k, model] of [
      [key, 'nope'],
      [narrowKey, 'hidden'],
      [narrowKey, 'claude'],
    ] as const) {
      const counted = expectGatewayError(await answer(await post(h.gateway, PATH, { ...body, model }, auth(k))), { status: 404, code: 'model_not_found', param: 'model', style: 'openai' });
      const created = expectGatewayError(await answer(await post(h.gateway, '/v1/responses', { ...body, model }, auth(k))), { status: 404, style: 'openai' });
      expect(counted.message).toBe(created.message);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('401 without a valid key; no ledger row for a count', async () => {
    expectGatewayError(await answer(await post(h.gateway, PATH, body)), { status: 401, code: 'authentication', style: 'openai' });
    expectGatewayError(await answer(await post(h.gateway, PATH, body, auth('llmrr_nope'))), { status: 401, code: 'authentication', style: 'openai' });
    const res = await post(h.gateway, PATH, body, auth());
    expect(res.status).toBe(200);
    expect(await h.stores!.ledger.get(res.headers.get('x-request-id')!)).toBeUndefined();
  });

  it('other methods are 405 with Allow: POST; the path is no stored response id', async () => {
    const res = await get(h.gateway, PATH, auth());
    expectGatewayError(await answer(res.clone()), { status: 405, code: 'method_not_allowed', param: 'method', style: 'openai' });
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('counts show in llm_token_counts_total, never in llm_requests_total', async () => {
    const m = await createHarness({ stores: 'memory' });
    try {
      await m.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const k = (await m.stores!.tenants.createKey('acme', { name: 'k' })).secret;
      expect((await post(m.gateway, PATH, body, auth(k))).status).toBe(200);
      expect((await post(m.gateway, PATH, { ...body, model: 'nope' }, auth(k))).status).toBe(404);
      const text = await (await get(m.gateway, '/metrics')).text();
      const lines = text.split('\n').filter((l) => l.startsWith('llm_token_counts_total{'));
      expect(lines.sort()).toEqual(
        [
          'llm_token_counts_total{model="mock",kind="estimate",status="success",tenant="acme",endpoint="/v1/responses/input_tokens"} 1',
          'llm_token_counts_total{model="unknown",kind="none",status="model_not_found",tenant="acme",endpoint="/v1/responses/input_tokens"} 1',
        ].sort(),
      );
      expect(text.split('\n').some((l) => l.startsWith('llm_requests_total{'))).toBe(false);
    } finally {
      await m.close();
    }
  });
});
