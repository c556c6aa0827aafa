/**
 * `POST /v1/embeddings` with `dimensions` and with token ids as `input` (OpenAI's forms; LangChain's
 * `OpenAIEmbeddings` sends token ids by default): passed to deployments that take them, refused with a 400
 * `unsupported` naming the field by those that cannot, token ids counted by their length for limits and budgets.
 */
import { MockEngine, startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHarness, mockModel, post, recordReservations, type Harness } from '../test-support/harness.js';

interface EmbeddingBody {
  data: Array<{ index: number; embedding: number[] }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

interface ErrorBody {
  error: { type: string; code: string; message: string; param: string | null };
}

let h: Harness | undefined;
let upstream: OpenAIWireServer | undefined;
afterEach(async () => {
  await h?.close();
  await upstream?.close();
  h = undefined;
  upstream = undefined;
});

async function withUpstream(price = { input: 1, output: 0 }): Promise<Harness> {
  upstream = await startOpenAIWireServer();
  return createHarness({
    stores: 'memory',
    models: [{ name: 'emb', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'k', model: 'text-embedding-3-small', capabilities: ['embeddings'], price }],
  });
}

async function keyOf(harness: Harness, tenant: Record<string, unknown> = {}): Promise<Record<string, string>> {
  await harness.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', ...tenant });
  return { authorization: `Bearer ${(await harness.stores!.tenants.createKey('acme', { name: 'k' })).secret}` };
}

describe('POST /v1/embeddings with dimensions', () => {
  it('an OpenAI-compatible upstream is sent dimensions and answers vectors of that length', async () => {
    h = await withUpstream();
    const res = await post(h.gateway, '/v1/embeddings', { model: 'emb', input: ['abcdefgh', 'abcd'], dimensions: 5 }, await keyOf(h));
    expect(res.status).toBe(200);
    const body = (await res.json()) as EmbeddingBody;
    expect(body.data.map((d) => d.embedding.length)).toEqual([5, 5]);
    expect(upstream!.requests[0]?.body).toEqual({ input: ['abcdefgh', 'abcd'], encoding_format: 'float', dimensions: 5, model: 'text-embedding-3-small' });
  });

  it('the mock engine honours it (demos), up to its 4096; above, a 400 unsupported naming dimensions', async () => {
    h = await createHarness();
    const res = await post(h.gateway, '/v1/embeddings', { model: 'mock', input: 'one text', dimensions: 12 });
    expect(res.status).toBe(200);
    expect(((await res.json()) as EmbeddingBody).data[0]!.embedding).toHaveLength(12);
    const over = await post(h.gateway, '/v1/embeddings', { model: 'mock', input: 'one text', dimensions: 4097 });
    expect(over.status).toBe(400);
    const err = ((await over.json()) as ErrorBody).error;
    expect([err.code, err.param]).toEqual(['unsupported', 'dimensions']);
  });

  it('a model whose engine cannot set the length is a 400 unsupported naming dimensions, not vectors of another length', async () => {
    // A mock without `embedDimensions`: an engine with vectors of its model's own length only (as onnx).
    const fixed = Object.defineProperty(new MockEngine(), 'embedDimensions', { value: undefined });
    h = await createHarness({ models: [mockModel('fixed', {}, { capabilities: ['embeddings'] })], routerOptions: { engines: { fixed } } });
    const res = await post(h.gateway, '/v1/embeddings', { model: 'fixed', input: 'x', dimensions: 3 });
    expect(res.status).toBe(400);
    const err = ((await res.json()) as ErrorBody).error;
    expect([err.code, err.param]).toEqual(['unsupported', 'dimensions']);
    expect(err.message).toContain(`fixed: engine "mock" cannot set the vectors' dimensions`);
    expect(fixed.embedCalls).toBe(0);
    expect((await post(h.gateway, '/v1/embeddings', { model: 'fixed', input: 'x' })).status).toBe(200);
  });

  it('the same 400 for a tenant whose budget cannot cover the call (bad input before the budget: no 402, no reservation)', async () => {
    const fixed = Object.defineProperty(new MockEngine(), 'embedDimensions', { value: undefined });
    h = await createHarness({ stores: 'memory', models: [mockModel('fixed', {}, { capabilities: ['embeddings'], price: { input: 5, output: 0 } })], routerOptions: { engines: { fixed } } });
    const headers = await keyOf(h, { budget: { amountUsd: 1 / 1e6, period: 'month' } });
    const res = await post(h.gateway, '/v1/embeddings', { model: 'fixed', input: 'x'.repeat(400), dimensions: 3 }, headers);
    const err = ((await res.json()) as ErrorBody).error;
    expect([res.status, err.code, err.param]).toEqual([400, 'unsupported', 'dimensions']);
    expect(err.message).toContain(`fixed: engine "mock" cannot set the vectors' dimensions`);
    expect(fixed.embedCalls).toBe(0);
    expect(await h.stores!.budgets.spent('acme', 'month')).toMatchObject({ spentUsd: 0, reservedUsd: 0 });
  });
});

describe('POST /v1/embeddings with dimensions through a router that drops the option', () => {
  it('vectors of another length are a 400 unsupported naming dimensions, not an answer', async () => {
    h = await createHarness();
    // A wrapped router written before `dimensions`: it calls core's embed without it (the mock's 64 numbers).
    const embed = h.router.embed.bind(h.router);
    h.router.embed = (input, options) => embed(input, { ...options, dimensions: undefined });
    const res = await post(h.gateway, '/v1/embeddings', { model: 'mock', input: 'x', dimensions: 8 });
    expect(res.status).toBe(400);
    const err = ((await res.json()) as ErrorBody).error;
    expect([err.code, err.param]).toEqual(['unsupported', 'dimensions']);
    expect(err.message).toContain('vectors of 64 dimensions for dimensions 8');
  });
});

describe('POST /v1/embeddings with token ids', () => {
  it('one array or arrays of them go to an OpenAI-compatible upstream unchanged; usage and the ledger are the upstream count', async () => {
    h = await withUpstream();
    const headers = await keyOf(h);
    const one = await post(h.gateway, '/v1/embeddings', { model: 'emb', input: [1, 2, 3] }, headers);
    expect(one.status).toBe(200);
    const many = await post(h.gateway, '/v1/embeddings', { model: 'emb', input: [[1, 2, 3], [100_000, 5]], dimensions: 4 }, headers);
    expect(many.status).toBe(200);
    const body = (await many.json()) as EmbeddingBody;
    expect(body.data.map((d) => [d.index, d.embedding.length])).toEqual([
      [0, 4],
      [1, 4],
    ]);
    expect(body.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
    expect(upstream!.requests.map((r) => r.body)).toEqual([
      { input: [[1, 2, 3]], encoding_format: 'float', model: 'text-embedding-3-small' },
      { input: [[1, 2, 3], [100_000, 5]], encoding_format: 'float', dimensions: 4, model: 'text-embedding-3-small' },
    ]);
    const entry = await h.stores!.ledger.get(many.headers.get('x-request-id')!);
    expect(entry).toMatchObject({ status: 'success', deployment: 'emb', inputTokens: 5 });
  });

  it('to a model that cannot take them (the mock): a 400 unsupported naming input, telling LangChain users what to set', async () => {
    h = await createHarness();
    const res = await post(h.gateway, '/v1/embeddings', { model: 'mock', input: [[1, 2, 3]] });
    expect(res.status).toBe(400);
    const err = ((await res.json()) as ErrorBody).error;
    expect([err.type, err.code, err.param]).toEqual(['invalid_request_error', 'unsupported', 'input']);
    expect(err.message).toContain('check_embedding_ctx_length=False');
    expect(err.message).toContain('mock: engine "mock" cannot embed token ids');
  });

  it('to a model that cannot take them, for a tenant whose budget cannot cover the call: the same 400 (bad input before the budget), no 402', async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('text-only', {}, { capabilities: ['embeddings'], price: { input: 5, output: 0 } })] });
    const headers = await keyOf(h, { budget: { amountUsd: 1 / 1e6, period: 'month' } });
    const res = await post(h.gateway, '/v1/embeddings', { model: 'text-only', input: [Array.from({ length: 100 }, (_, i) => i + 1)] }, headers);
    const err = ((await res.json()) as ErrorBody).error;
    expect([res.status, err.code, err.param]).toEqual([400, 'unsupported', 'input']);
    expect(err.message).toContain('check_embedding_ctx_length=False');
    expect(await h.stores!.budgets.spent('acme', 'month')).toMatchObject({ spentUsd: 0, reservedUsd: 0 });
    // Refused as bad input, it is ledgered as any refused call (no cost).
    const row = await h.stores!.ledger.get(res.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'error', costUsd: 0 });
  });

  it('are checked: 8192 ids an input, 2048 inputs, non-empty, not mixed with texts, each refusal naming the element', async () => {
    h = await createHarness();
    const ids = (n: number) => Array.from({ length: n }, () => 1);
    for (const [input, param] of [
      [[ids(8193)], 'input.0'],
      [ids(8193), 'input'],
      [Array.from({ length: 2049 }, () => [1]), 'input'],
      [Array.from({ length: 2049 }, () => 'x'), 'input'],
      [[[1], []], 'input.1'],
      [[[1], 'x'], 'input.1'],
      [['x', 1], 'input.1'],
      [[1, [2]], 'input.1'],
      [[[1, -2]], 'input.0.1'],
      [[3, 0.5], 'input.1'],
    ] as const) {
      const res = await post(h.gateway, '/v1/embeddings', { model: 'mock', input });
      expect([res.status, ((await res.json()) as ErrorBody).error.param], JSON.stringify(input).slice(0, 40)).toEqual([400, param]);
    }
    // Up to the bounds they pass the schema (and reach the router: the mock cannot take them).
    for (const input of [ids(8192), [ids(8192)], Array.from({ length: 2048 }, () => [1])]) {
      const res = await post(h.gateway, '/v1/embeddings', { model: 'mock', input });
      expect([res.status, ((await res.json()) as ErrorBody).error.code]).toEqual([400, 'unsupported']);
    }
  });

  it('count as their length for the budget reservation (no text to estimate)', async () => {
    // $1000 per 1M input tokens: 20 ids may cost $0.02, over a $0.01 budget; 5 ids $0.005 fit.
    h = await withUpstream({ input: 1000, output: 0 });
    const headers = await keyOf(h, { budget: { amountUsd: 0.01, period: 'month' } });
    const over = await post(h.gateway, '/v1/embeddings', { model: 'emb', input: [Array.from({ length: 20 }, (_, i) => i)] }, headers);
    expect(over.status).toBe(402);
    expect(upstream!.requests).toHaveLength(0);
    const fits = await post(h.gateway, '/v1/embeddings', { model: 'emb', input: [[1, 2, 3, 4, 5]] }, headers);
    expect(fits.status).toBe(200);
    expect(upstream!.requests).toHaveLength(1);
  });

  it('reserve only for the deployments that can embed them: a text-only one (the mock) is neither priced nor a hedge lane', async () => {
    // The router plans token ids only on engines with embedTokens(): emb alone, so it does not hedge either. 100 ids
    // at emb's $1/M are $100e-6, within a $150e-6 budget; counting the mock ($5/M) and a hedge lane for it reserved
    // 2 x $500e-6 and refused the call with a 402.
    upstream = await startOpenAIWireServer();
    h = await createHarness({
      stores: 'memory',
      models: [
        { name: 'emb', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'k', model: 'text-embedding-3-small', capabilities: ['embeddings'], price: { input: 1, output: 0 }, priority: 1 },
        mockModel('text-only', {}, { capabilities: ['embeddings'], price: { input: 5, output: 0 }, priority: 2 }),
      ],
      routing: { hedging: { enabled: true, delayMs: 50, maxHedges: 1 } },
    });
    const headers = await keyOf(h, { budget: { amountUsd: 150 / 1e6, period: 'month' } });
    const reserved = recordReservations(h.stores!);
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    const res = await post(h.gateway, '/v1/embeddings', { model: 'auto', input: [ids], dimensions: 4 }, headers);
    expect(res.status).toBe(200);
    expect(((await res.json()) as EmbeddingBody).data.map((d) => d.embedding.length)).toEqual([4]);
    expect(reserved).toHaveLength(1);
    expect(reserved[0], 'one call at emb\'s price').toBeCloseTo(100 / 1e6, 12);
    expect(upstream.requests).toHaveLength(1);
    const state = await h.stores!.budgets.spent('acme', 'month');
    expect([state.spentUsd, state.reservedUsd]).toEqual([expect.closeTo(100 / 1e6, 12), 0]);
  });

  it('count as their length under a tokens-per-minute limit', async () => {
    h = await withUpstream();
    upstream!.setScript([{ delayMs: 1500 }, {}]);
    const headers = await keyOf(h, { limits: { tpm: 30 } });
    const ids = (n: number) => [Array.from({ length: n }, (_, i) => i)];
    // The first call holds 25 tokens of the minute's 30 while it runs: a second one of 10 does not fit.
    const first = post(h.gateway, '/v1/embeddings', { model: 'emb', input: ids(25) }, headers);
    await vi.waitFor(() => expect(upstream!.requests).toHaveLength(1), { timeout: 10_000 });
    const second = await post(h.gateway, '/v1/embeddings', { model: 'emb', input: ids(10) }, headers);
    expect(second.status).toBe(429);
    expect(((await second.json()) as ErrorBody).error.message).toContain('tokens per minute');
    expect((await first).status).toBe(200);
    expect(upstream!.requests).toHaveLength(1);
  });
});
