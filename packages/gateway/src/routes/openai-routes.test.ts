import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatUsd } from '../http/llmrr-info.js';
import { OpenAIChatChunkSchema, OpenAIChatResponseSchema } from '../schemas/openai-chat.js';
import { OpenAICompletionResponseSchema } from '../schemas/openai-completions.js';
import { createHarness, get, mockModel, post, sseJson, parseSse, type Harness } from '../test-support/harness.js';

const hello = { model: 'mock', messages: [{ role: 'user', content: 'hello there' }] };

describe('POST /v1/chat/completions', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ models: [mockModel('mock'), mockModel('mock-b', {}, { alias: 'group', priority: 200 })] });
  });
  afterEach(() => h.close());

  it('answers a chat.completion in the OpenAI shape with router headers', async () => {
    const res = await post(h.gateway, '/v1/chat/completions', hello);
    expect(res.status).toBe(200);
    const body = OpenAIChatResponseSchema.parse(await res.json());
    expect(body.choices[0]!.message.content).toBe('Mock answer to: hello there');
    expect(body.choices[0]!.finish_reason).toBe('stop');
    expect(body.model).toBe('mock');
    expect(body.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
    expect(res.headers.get('x-llmrr-model')).toBe('mock');
    expect(res.headers.get('x-llmrr-cache')).toBe('miss');
    // 2 input tokens at $1/M + 5 output tokens at $2/M
    expect(Number(res.headers.get('x-llmrr-cost-usd'))).toBeCloseTo(0.000012, 10);
    expect(body.llmrr?.cost_usd).toBeCloseTo(0.000012, 10);
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(body.id).toBe(`chatcmpl-${res.headers.get('x-request-id')}`);
  });

  it('x-llmrr-cost-usd carries the cost to the nano-dollar, the precision of the body and the ledger', async () => {
    const tiny = await createHarness({ models: [mockModel('tiny', {}, { price: { input: 0.0075, output: 0 } })] });
    try {
      const res = await post(tiny.gateway, '/v1/chat/completions', { ...hello, model: 'tiny' });
      expect(res.status).toBe(200);
      const body = OpenAIChatResponseSchema.parse(await res.json());
      // 2 prompt tokens x $0.0075/M = $0.000000015 (15 nano-dollars, what the ledger's cost_nano holds); with 8
      // decimals the header said 0.00000001 or 0.00000002.
      expect(body.usage).toMatchObject({ prompt_tokens: 2 });
      expect(body.llmrr?.cost_usd).toBe(0.000000015);
      expect(res.headers.get('x-llmrr-cost-usd')).toBe('0.000000015');
    } finally {
      await tiny.close();
    }
    expect([formatUsd(0), formatUsd(1.25), formatUsd(0.000000001), formatUsd(12.345678912), formatUsd(Number.NaN)]).toEqual(['0', '1.25', '0.000000001', '12.345678912', '0']);
  });

  it("uses its own request id, echoing a client's valid x-request-id as x-client-request-id (an unsafe one is dropped)", async () => {
    const ok = await post(h.gateway, '/v1/chat/completions', hello, { 'x-request-id': 'client-id_42' });
    const own = ok.headers.get('x-request-id');
    expect(own).toMatch(/^req_[0-9a-f]{32}$/);
    expect(ok.headers.get('x-client-request-id')).toBe('client-id_42');
    expect(((await ok.json()) as { id: string }).id).toBe(`chatcmpl-${own}`);
    const bad = await post(h.gateway, '/v1/chat/completions', hello, { 'x-request-id': 'has spaces and <html>' });
    expect(bad.headers.get('x-request-id')).toMatch(/^req_/);
    expect(bad.headers.get('x-client-request-id')).toBeNull();
    const error = await post(h.gateway, '/v1/chat/completions', { model: 'nope', messages: [] }, { 'x-request-id': 'client-id_43' });
    expect(error.headers.get('x-client-request-id')).toBe('client-id_43');
    expect(((await error.json()) as { error: { request_id: string } }).error.request_id).toBe(error.headers.get('x-request-id'));
  });

  it('streams the exact OpenAI chunk sequence with include_usage and [DONE]', async () => {
    const res = await post(h.gateway, '/v1/chat/completions', { ...hello, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-llmrr-model')).toBe('mock');
    const text = await res.text();
    const frames = parseSse(text);
    expect(frames.at(-1)!.data).toBe('[DONE]');
    const chunks = sseJson(text).map((c) => OpenAIChatChunkSchema.parse(c));
    // `content: null`, not OpenAI's text-answer `""`: the role chunk is sent before the answer is known to have text.
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: null, refusal: null });
    const content = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
    expect(content).toBe('Mock answer to: hello there');
    // Every chunk but the last carries usage: null; the last has empty choices and the usage.
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    const finish = chunks.at(-2)!;
    expect(finish.choices[0]!.finish_reason).toBe('stop');
    expect(finish.choices[0]!.delta).toEqual({});
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
    expect(usage.llmrr?.cost_usd).toBeCloseTo(0.000012, 10);
    // One id, object and model throughout.
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'mock')).toBe(true);
  });

  it('without include_usage sends no usage chunk and no usage fields', async () => {
    const text = await (await post(h.gateway, '/v1/chat/completions', { ...hello, stream: true })).text();
    const chunks = sseJson(text);
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    expect((chunks.at(-1)!.choices as unknown[]).length).toBe(1);
  });

  it('returns tool calls (non-streamed and streamed)', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const body = { ...hello, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } };
    const res = await post(h.gateway, '/v1/chat/completions', body);
    const json = OpenAIChatResponseSchema.parse(await res.json());
    expect(json.choices[0]!.finish_reason).toBe('tool_calls');
    expect(json.choices[0]!.message.content).toBeNull();
    expect(json.choices[0]!.message.tool_calls).toEqual([{ id: expect.any(String), type: 'function', function: { name: 'get_weather', arguments: '{}' } }]);

    const streamed = sseJson(await (await post(h.gateway, '/v1/chat/completions', { ...body, stream: true })).text()).map((c) => OpenAIChatChunkSchema.parse(c));
    const deltas = streamed.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } });
    expect(deltas.map((d) => d.function.arguments ?? '').join('')).toBe('{}');
    expect(streamed.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('passes JSON mode through (the mock answers JSON when asked)', async () => {
    const res = await post(h.gateway, '/v1/chat/completions', { ...hello, response_format: { type: 'json_object' } });
    const json = OpenAIChatResponseSchema.parse(await res.json());
    expect(JSON.parse(json.choices[0]!.message.content!)).toEqual({ answer: 'Mock answer to: hello there' });
  });

  it('routes an alias and "auto"; explains when asked by header or body', async () => {
    const alias = await post(h.gateway, '/v1/chat/completions', { ...hello, model: 'group' });
    expect(alias.headers.get('x-llmrr-model')).toBe('mock-b');

    const auto = await post(h.gateway, '/v1/chat/completions', { ...hello, model: 'auto' }, { 'x-llmrr-explain': 'true', 'x-llmrr-strategy': 'priority' });
    expect(auto.status).toBe(200);
    const decision = JSON.parse(auto.headers.get('x-llmrr-decision')!) as { strategy: string; selected: string; order: string[] };
    expect(decision).toMatchObject({ strategy: 'priority', selected: 'mock', order: ['mock', 'mock-b'] });
    const body = (await auto.json()) as { llmrr: { decision: { candidates: unknown[] } } };
    expect(body.llmrr.decision.candidates).toHaveLength(2);

    const viaBody = await post(h.gateway, '/v1/chat/completions', { ...hello, model: 'auto', llmrr: { strategy: 'priority', explain: true } });
    expect(viaBody.headers.get('x-llmrr-decision')).not.toBeNull();
  });

  it('an unknown strategy is a 400 naming the field', async () => {
    const res = await post(h.gateway, '/v1/chat/completions', { ...hello, llmrr: { strategy: 'no-such' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('llmrr.strategy');
  });
});

describe('POST /v1/completions', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  it('answers a text_completion, streamed and not', async () => {
    const res = await post(h.gateway, '/v1/completions', { model: 'mock', prompt: 'once upon' });
    const body = OpenAICompletionResponseSchema.parse(await res.json());
    expect(body.choices[0]!.text).toBe('Mock answer to: once upon');
    expect(body.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5 });

    const text = await (await post(h.gateway, '/v1/completions', { model: 'mock', prompt: ['once upon'], stream: true, stream_options: { include_usage: true } })).text();
    expect(parseSse(text).at(-1)!.data).toBe('[DONE]');
    const chunks = sseJson(text).map((c) => OpenAICompletionResponseSchema.parse(c));
    expect(chunks.flatMap((c) => c.choices.map((x) => x.text)).join('')).toBe('Mock answer to: once upon');
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 5 });
  });
});

describe('GET /v1/models', () => {
  it('lists the enabled deployments', async () => {
    const h = await createHarness({ models: [mockModel('a'), mockModel('b'), mockModel('off', {}, { enabled: false })] });
    try {
      const res = await get(h.gateway, '/v1/models');
      const body = (await res.json()) as { object: string; data: Array<{ id: string; object: string; owned_by: string }> };
      expect(body.object).toBe('list');
      expect(body.data.map((m) => m.id)).toEqual(['a', 'b']);
      expect(body.data[0]).toMatchObject({ object: 'model', owned_by: 'llmrr-mock' });
    } finally {
      await h.close();
    }
  });
});
