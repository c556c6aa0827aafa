import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateInputTokens } from '../tenancy/estimate.js';
import { expectGatewayError } from '../test-support/expect-error.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';
import type { WireAnswer } from '../test-support/raw-http.js';
import { messagesToGenerateRequest } from './to-generate-request.js';

async function answer(res: Response): Promise<WireAnswer> {
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

const PATH = '/v1/messages/count_tokens';
const body = { model: 'mock', system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }] };

let h: Harness;
let key: string;
let narrowKey: string;
let tinyKey: string;

beforeAll(async () => {
  h = await createHarness({ stores: 'memory', models: [mockModel('mock'), mockModel('openai/gpt-4o'), mockModel('hidden')] });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 0.000001, period: 'month' } });
  key = (await h.stores!.tenants.createKey('acme', { name: 'k' })).secret;
  await h.stores!.tenants.createTenant({ id: 'narrow', name: 'Narrow', allowedModels: ['mock'] });
  narrowKey = (await h.stores!.tenants.createKey('narrow', { name: 'k' })).secret;
  await h.stores!.tenants.createTenant({ id: 'tiny', name: 'Tiny', limits: { rpm: 1 } });
  tinyKey = (await h.stores!.tenants.createKey('tiny', { name: 'k' })).secret;
});
afterAll(() => h.close());

const auth = (k = key) => ({ 'x-api-key': k, 'anthropic-version': '2023-06-01' });

describe('POST /v1/messages/count_tokens', () => {
  it('answers { input_tokens } with the gateway estimate, and says it is one', async () => {
    const res = await post(h.gateway, PATH, body, auth());
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmrr-token-count')).toBe('estimate');
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    // (9 + 16 + 11 + 16) bytes / 2: the estimate the tpm limits charge.
    expect(await res.json()).toEqual({ input_tokens: 26 });
  });

  it('counts system, every message and the tool schemas, as the limits do', async () => {
    const full = {
      model: 'openai/gpt-4o',
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
    const { input_tokens } = (await res.json()) as { input_tokens: number };
    expect(input_tokens).toBe(estimateInputTokens(messagesToGenerateRequest({ ...full, max_tokens: 1 } as Parameters<typeof messagesToGenerateRequest>[0])));
    const withoutTools = (await (await post(h.gateway, PATH, { ...full, tools: undefined, tool_choice: undefined }, auth())).json()) as { input_tokens: number };
    expect(input_tokens).toBeGreaterThan(withoutTools.input_tokens);
  });

  it('ignores what does not change the prompt (max_tokens, stream, sampling, llmrr)', async () => {
    const res = await post(h.gateway, PATH, { ...body, max_tokens: 'many', stream: 'yes', temperature: 7, llmrr: 5, thinking: { type: 'enabled', budget_tokens: 1024 } }, auth());
    expect(await res.json()).toEqual({ input_tokens: 26 });
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
    // `auto` counts for any tenant with a model.
    expect((await post(h.gateway, PATH, { ...body, model: 'auto' }, auth(narrowKey))).status).toBe(200);
  });

  it('401 without a valid key', async () => {
    expectGatewayError(await answer(await post(h.gateway, PATH, body)), { status: 401, code: 'authentication', style: 'anthropic' });
    expectGatewayError(await answer(await post(h.gateway, PATH, body, auth('llmrr_nope'))), { status: 401, code: 'authentication', style: 'anthropic' });
  });

  it('writes no ledger row, reserves no budget and takes no rate-limit slot', async () => {
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
    // tiny may make one request a minute: counts do not use it up.
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

  it('other methods are 405 with Allow: POST', async () => {
    const res = await h.gateway.fetch(new Request(`http://gateway.test${PATH}`, { headers: auth() }));
    expectGatewayError(await answer(res.clone()), { status: 405, code: 'method_not_allowed', param: 'method' });
    expect(res.headers.get('allow')).toBe('POST');
  });
});
