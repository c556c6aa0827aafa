import { estimateRequestTokens } from '@llmrr/core';
import { startAnthropicWireServer, type AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { estimateInputTokens } from '../tenancy/estimate.js';
import { expectGatewayError } from '../test-support/expect-error.js';
import { createHarness, get, mockModel, post, type Harness, type ModelInput } from '../test-support/harness.js';
import type { WireAnswer } from '../test-support/raw-http.js';
import type { GatewayRouter } from '../types.js';
import { messagesToGenerateRequest } from './to-generate-request.js';

async function answer(res: Response): Promise<WireAnswer> {
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

const PATH = '/v1/messages/count_tokens';
const body = { model: 'mock', system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }] };

let h: Harness;
let upstream: AnthropicWireServer;
let key: string;
let narrowKey: string;
let tinyKey: string;

/** An `anthropic` deployment on the local Anthropic-wire server, counting with its count_tokens. */
const claude = (name: string, extra: Partial<ModelInput> = {}): ModelInput => ({
  name,
  engine: 'anthropic',
  model: 'claude-wire-1',
  baseURL: upstream.url,
  apiKey: 'sk-ant-upstream',
  options: { exactTokenCount: true },
  ...extra,
});

beforeAll(async () => {
  upstream = await startAnthropicWireServer({ apiKey: 'sk-ant-upstream' });
  h = await createHarness({
    stores: 'memory',
    models: [mockModel('mock'), mockModel('openai/gpt-4o'), mockModel('hidden'), claude('claude'), claude('claude-badkey', { apiKey: 'sk-ant-wrong' }), claude('claude-estimated', { options: {} })],
  });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 0.000001, period: 'month' } });
  key = (await h.stores!.tenants.createKey('acme', { name: 'k' })).secret;
  await h.stores!.tenants.createTenant({ id: 'narrow', name: 'Narrow', allowedModels: ['mock'] });
  narrowKey = (await h.stores!.tenants.createKey('narrow', { name: 'k' })).secret;
  await h.stores!.tenants.createTenant({ id: 'tiny', name: 'Tiny', limits: { rpm: 1 } });
  tinyKey = (await h.stores!.tenants.createKey('tiny', { name: 'k' })).secret;
});
afterAll(async () => {
  await h.close();
  await upstream.close();
});
afterEach(() => {
  upstream.requests.length = 0;
});

const auth = (k = key) => ({ 'x-api-key': k, 'anthropic-version': '2023-06-01' });

describe('POST /v1/messages/count_tokens', () => {
  it("answers { input_tokens } with the mock engine's count, and says it is an estimate", async () => {
    const res = await post(h.gateway, PATH, body, auth());
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmrr-token-count')).toBe('estimate');
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    // The mock engine counts the words of the messages ("Be brief." and "hello there"), not the gateway's admission
    // bound (one token a byte and 8 a message: 9 + 8 + 11 + 8).
    expect(await res.json()).toEqual({ input_tokens: 4 });
    expect(estimateInputTokens(messagesToGenerateRequest({ ...body, max_tokens: 1 } as Parameters<typeof messagesToGenerateRequest>[0]))).toBe(36);
  });

  it('an anthropic deployment with exactTokenCount: the upstream count_tokens answer, marked exact', async () => {
    const full = {
      model: 'claude',
      system: [{ type: 'text', text: 'You are terse.' }],
      messages: [
        { role: 'user', content: 'weather in Oslo?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny, 12 C' }] },
      ],
      tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: { type: 'auto' },
    };
    const res = await post(h.gateway, PATH, full, { authorization: `Bearer ${key}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmrr-token-count')).toBe('exact');
    const { input_tokens } = (await res.json()) as { input_tokens: number };
    // The wire server answers ceil(JSON length of [system, messages, tools] / 4) of what it received.
    const sent = upstream.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages/count_tokens');
    expect(sent.headers['x-api-key']).toBe('sk-ant-upstream');
    const b = sent.body as Record<string, unknown>;
    expect(input_tokens).toBe(Math.ceil(JSON.stringify([b['system'] ?? '', b['messages'], b['tools'] ?? []]).length / 4));
    expect(Object.keys(b).sort()).toEqual(['messages', 'model', 'system', 'tool_choice', 'tools']);
    expect(b['model']).toBe('claude-wire-1');
    const withoutTools = (await (await post(h.gateway, PATH, { ...full, tools: undefined, tool_choice: undefined }, auth())).json()) as { input_tokens: number };
    expect(input_tokens).toBeGreaterThan(withoutTools.input_tokens);
    // No message was generated upstream: counting calls count_tokens only.
    expect(upstream.requests.map((r) => r.path)).toEqual(['/v1/messages/count_tokens', '/v1/messages/count_tokens']);
  });

  it('an anthropic deployment without exactTokenCount: the engine estimate, no upstream request', async () => {
    const res = await post(h.gateway, PATH, { ...body, model: 'claude-estimated' }, auth());
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmrr-token-count')).toBe('estimate');
    expect(((await res.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    expect(upstream.requests).toHaveLength(0);
  });

  it('a failing upstream count is an error reply: the gateway key refused upstream is a 502, never a 401', async () => {
    const res = await post(h.gateway, PATH, { ...body, model: 'claude-badkey' }, auth());
    expectGatewayError(await answer(res), { status: 502, code: 'provider_error', style: 'anthropic' });
    expect(upstream.requests).toHaveLength(1);
    expect(res.headers.get('x-llmrr-token-count')).toBeNull();
  });

  it('ignores what does not change the prompt (max_tokens, stream, sampling, llmrr)', async () => {
    const res = await post(h.gateway, PATH, { ...body, max_tokens: 'many', stream: 'yes', temperature: 7, llmrr: 5, thinking: { type: 'enabled', budget_tokens: 1024 } }, auth());
    expect(await res.json()).toEqual({ input_tokens: 4 });
    // top_k (the core topK on /v1/messages) is sampling too: unchecked here, whatever its value.
    for (const top_k of [0, 'many', 5]) {
      const again = await post(h.gateway, PATH, { ...body, top_k, top_p: 'x' }, auth());
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ input_tokens: 4 });
    }
  });

  it("a router without countTokens: core's typical estimate, not the gateway's admission bound", async () => {
    const r = h.router;
    const bare: GatewayRouter = {
      generate: (q, o) => r.generate(q, o),
      stream: (q, o) => r.stream(q, o),
      route: (q, o) => r.route(q, o),
      models: (t) => r.models(t),
    };
    const gateway = createGateway({ router: bare, log: () => {} });
    try {
      const res = await post(gateway, PATH, body);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llmrr-token-count')).toBe('estimate');
      // Core's estimateRequestTokens, what LLMRouter.countTokens answers for an engine without a count: 3 priming the
      // reply, 4 a message, 4 characters a token ("Be brief." 3, "hello there" 3). Not the bound the budget reserves
      // (36, one token a byte): a count shown to the client, who sizes its context by it.
      const request = messagesToGenerateRequest({ ...body, max_tokens: 1 } as Parameters<typeof messagesToGenerateRequest>[0]);
      expect(await res.json()).toEqual({ input_tokens: 17 });
      expect(estimateRequestTokens(request)).toBe(17);
    } finally {
      await gateway.close();
    }
  });

  it('bad input is a 400 in the Anthropic envelope naming the field', async () => {
    for (const [bad, param] of [
      [{ ...body, messages: [] }, 'messages'],
      [{ ...body, model: undefined }, 'model'],
      [{ ...body, messages: [{ role: 'robot', content: 'hi' }] }, 'messages.0.role'],
      [{ ...body, system: 5 }, 'system'],
      [{ ...body, tools: [{ name: 'bad name', input_schema: {} }] }, 'tools.0.name'],
      [{ ...body, tool_choice: { type: 'tool', name: 'missing' } }, 'tool_choice.name'],
      [[1, 2], 'body'],
    ] as const) {
      expectGatewayError(await answer(await post(h.gateway, PATH, bad, auth())), { status: 400, param, style: 'anthropic' }, param);
    }
    expectGatewayError(await answer(await post(h.gateway, PATH, '{"model":', auth())), { status: 400, code: 'invalid_json', style: 'anthropic' });
  });

  it('too many messages, a body over the limit, a non-JSON type: 4xx like every model route', async () => {
    const small = await createHarness({ gateway: { limits: { maxMessages: 2, maxBodyBytes: 1000 } } });
    try {
      const many = { model: 'mock', messages: [1, 2, 3].map(() => ({ role: 'user', content: 'x' })) };
      expectGatewayError(await answer(await post(small.gateway, PATH, many)), { status: 400, param: 'messages', style: 'anthropic' });
      const big = { model: 'mock', messages: [{ role: 'user', content: 'x'.repeat(2000) }] };
      expectGatewayError(await answer(await post(small.gateway, PATH, big)), { status: 413, code: 'payload_too_large', param: 'body', style: 'anthropic' });
      expectGatewayError(await answer(await post(small.gateway, PATH, JSON.stringify(body), { 'content-type': 'application/x-www-form-urlencoded' })), {
        status: 415,
        param: 'content-type',
        style: 'anthropic',
      });
    } finally {
      await small.close();
    }
  });

  it('a model the caller may not use is the same 404 as on /v1/messages', async () => {
    for (const [k, model] of [
      [key, 'nope'],
      [narrowKey, 'hidden'],
    ] as const) {
      const counted = expectGatewayError(await answer(await post(h.gateway, PATH, { ...body, model }, auth(k))), { status: 404, code: 'model_not_found', param: 'model', style: 'anthropic' });
      const messages = expectGatewayError(await answer(await post(h.gateway, '/v1/messages', { ...body, model, max_tokens: 5 }, auth(k))), { status: 404, style: 'anthropic' });
      expect(counted.message).toBe(messages.message);
    }
    // An upstream-counting model outside the allow-list is refused before anything reaches the upstream.
    expectGatewayError(await answer(await post(h.gateway, PATH, { ...body, model: 'claude' }, auth(narrowKey))), { status: 404, code: 'model_not_found', param: 'model', style: 'anthropic' });
    expect(upstream.requests).toHaveLength(0);
    // `auto` counts for any tenant with a model (with a deployment it may use).
    const auto = await post(h.gateway, PATH, { ...body, model: 'auto' }, auth(narrowKey));
    expect(auto.status).toBe(200);
    expect(await auto.json()).toEqual({ input_tokens: 4 });
  });

  it('401 without a valid key', async () => {
    expectGatewayError(await answer(await post(h.gateway, PATH, body)), { status: 401, code: 'authentication', style: 'anthropic' });
    expectGatewayError(await answer(await post(h.gateway, PATH, body, auth('llmrr_nope'))), { status: 401, code: 'authentication', style: 'anthropic' });
  });

  it('writes no ledger row, reserves no budget, and a local count takes no rate-limit slot', async () => {
    const res = await post(h.gateway, PATH, body, auth());
    const id = res.headers.get('x-request-id')!;
    expect(res.status).toBe(200);
    expect(await h.stores!.ledger.get(id)).toBeUndefined();
    // The refused counts above wrote none either: narrow's only rows are its refused /v1/messages calls.
    const rows = await h.stores!.ledger.query({ tenantId: 'narrow' });
    expect(rows.map((r) => [r.endpoint, r.model])).toEqual([['/v1/messages', 'hidden']]);
    // acme's budget (a millionth of a dollar) refuses any model call, never a count.
    expect((await post(h.gateway, '/v1/messages', { ...body, max_tokens: 5 }, auth())).status).toBe(402);
    expect((await post(h.gateway, PATH, body, auth())).status).toBe(200);
    // tiny may make one request a minute: local counts (the mock engine) do not use it up.
    for (let i = 0; i < 3; i++) expect((await post(h.gateway, PATH, body, auth(tinyKey))).status).toBe(200);
    expect((await post(h.gateway, '/v1/messages', { ...body, max_tokens: 5 }, auth(tinyKey))).status).toBe(200);
    expect((await post(h.gateway, '/v1/messages', { ...body, max_tokens: 5 }, auth(tinyKey))).status).toBe(429);
  });

  it('demo mode: no key needed, and the answer says so', async () => {
    // The demo tenant is looked up per request, so it may be created after the gateway.
    const demo = await createHarness({ stores: 'memory', gateway: { auth: { demoTenantId: 'demo' } } });
    try {
      await demo.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
      const res = await post(demo.gateway, PATH, body);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llmrr-demo')).toBe('true');
      expect(res.headers.get('x-llmrr-tenant')).toBe('demo');
    } finally {
      await demo.close();
    }
  });

  it('other methods are 405 with Allow: POST, in the Anthropic shape', async () => {
    const res = await h.gateway.fetch(new Request(`http://gateway.test${PATH}`, { headers: auth() }));
    expectGatewayError(await answer(res.clone()), { status: 405, code: 'method_not_allowed', param: 'method', style: 'anthropic' });
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('count_tokens metrics', () => {
  it('llm_token_counts_total by model, kind, status, tenant and endpoint; never in llm_requests_total', async () => {
    const m = await createHarness({ stores: 'memory', models: [mockModel('mock'), claude('claude'), claude('claude-badkey', { apiKey: 'sk-ant-wrong' })] });
    try {
      await m.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const k = (await m.stores!.tenants.createKey('acme', { name: 'k' })).secret;
      expect((await post(m.gateway, PATH, body, auth(k))).status).toBe(200);
      expect((await post(m.gateway, PATH, { ...body, model: 'claude' }, auth(k))).status).toBe(200);
      expect((await post(m.gateway, PATH, { ...body, model: 'claude-badkey' }, auth(k))).status).toBe(502);
      expect((await post(m.gateway, PATH, { ...body, model: 'no-such-model' }, auth(k))).status).toBe(404);
      // The same model counted on the Responses route: a series of its own (which API's clients count tokens).
      expect((await post(m.gateway, '/v1/responses/input_tokens', { model: 'mock', input: 'Hello there' }, auth(k))).status).toBe(200);
      const text = await (await get(m.gateway, '/metrics')).text();
      const lines = text.split('\n').filter((l) => l.startsWith('llm_token_counts_total{'));
      expect(lines.sort()).toEqual(
        [
          'llm_token_counts_total{model="mock",kind="estimate",status="success",tenant="acme",endpoint="/v1/messages/count_tokens"} 1',
          'llm_token_counts_total{model="claude",kind="exact",status="success",tenant="acme",endpoint="/v1/messages/count_tokens"} 1',
          'llm_token_counts_total{model="claude-badkey",kind="none",status="provider_error",tenant="acme",endpoint="/v1/messages/count_tokens"} 1',
          // An unknown model is never a label value (any string a client sends would be one).
          'llm_token_counts_total{model="unknown",kind="none",status="model_not_found",tenant="acme",endpoint="/v1/messages/count_tokens"} 1',
          'llm_token_counts_total{model="mock",kind="estimate",status="success",tenant="acme",endpoint="/v1/responses/input_tokens"} 1',
        ].sort(),
      );
      expect(text.split('\n').some((l) => l.startsWith('llm_requests_total{'))).toBe(false);
    } finally {
      await m.close();
    }
  });
});

describe('count_tokens and the counting deployment circuit', () => {
  it('failing upstream counts open the circuit; then counts answer the local estimate at once, with no upstream request', async () => {
    // An Anthropic-wire upstream whose count_tokens fails (a 500 api_error), like a provider that is down.
    const down = await startAnthropicWireServer({
      apiKey: 'sk-ant-upstream',
      countTokens: () => {
        throw new Error('down');
      },
    });
    const m = await createHarness({
      stores: 'memory',
      models: [{ name: 'claude', engine: 'anthropic', model: 'claude-wire-1', baseURL: down.url, apiKey: 'sk-ant-upstream', options: { exactTokenCount: true } }],
      routing: { circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } },
    });
    try {
      await m.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const k = (await m.stores!.tenants.createKey('acme', { name: 'k' })).secret;
      const claudeBody = { ...body, model: 'claude' };
      // Until the circuit opens, each failing count is its error reply (as today).
      for (let i = 0; i < 2; i++) expectGatewayError(await answer(await post(m.gateway, PATH, claudeBody, auth(k))), { status: 502, code: 'provider_error', style: 'anthropic' });
      expect(down.requests.filter((q) => q.path === PATH)).toHaveLength(2);
      const res = await post(m.gateway, PATH, claudeBody, auth(k));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llmrr-token-count')).toBe('estimate');
      expect((await res.json()) as { input_tokens: number }).toMatchObject({ input_tokens: expect.any(Number) });
      expect(down.requests.filter((q) => q.path === PATH)).toHaveLength(2);
    } finally {
      await m.close();
      await down.close();
    }
  });
});
