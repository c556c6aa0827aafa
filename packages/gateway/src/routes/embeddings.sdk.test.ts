/**
 * `POST /v1/embeddings` end to end with the official openai client on a loopback port (its `embeddings.create`
 * asks for base64 by default), a local OpenAI wire upstream and the real in-memory stores: the vectors, the
 * ledger row and metrics, token ids and `dimensions`, and a client that leaves mid-call.
 */
import { startOpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, get, type Harness } from '../test-support/harness.js';

type Upstream = Awaited<ReturnType<typeof startOpenAIWireServer>>;

let h: Harness | undefined;
let served: ServedGateway | undefined;
let upstream: Upstream | undefined;
afterEach(async () => {
  await served?.close(1000);
  await h?.close();
  await upstream?.close();
  h = undefined;
  served = undefined;
  upstream = undefined;
});

async function setup(script: NonNullable<Parameters<typeof startOpenAIWireServer>[0]>['script'], tenant: Record<string, unknown> = {}) {
  upstream = await startOpenAIWireServer({ script });
  h = await createHarness({
    stores: 'memory',
    models: [{ name: 'emb', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'k', model: 'text-embedding-test', capabilities: ['embeddings'], price: { input: 1, output: 0 } }],
  });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', ...tenant });
  const { secret } = await h.stores!.tenants.createKey('acme', { name: 'sdk' });
  served = await serveGateway(h.gateway, { port: 0 });
  return new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
}

async function metricsText(): Promise<string> {
  return (await get(h!.gateway, '/metrics')).text();
}

describe('POST /v1/embeddings with the official openai client', () => {
  it('embeddings.create (base64 by default) gives the upstream vectors, a ledger row and metrics', async () => {
    const client = await setup({ embeddingDimensions: 6 });
    const res = await client.embeddings.create({ model: 'emb', input: ['abcdefgh', 'abcd'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]!.embedding).toHaveLength(6);
    const rows = await h!.stores!.ledger.query({ tenantId: 'acme', limit: 10 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'success', endpoint: '/v1/embeddings', deployment: 'emb', inputTokens: 3 });
    const text = await metricsText();
    expect(text).toContain('llm_requests_total{model="emb",status="success",tenant="acme"} 1');
    expect(text).toMatch(/llm_requests_in_flight 0/);
  });

  it('embeddings.create with token ids and dimensions (as LangChain sends them), float and base64: vectors of that length', async () => {
    const client = await setup({});
    const res = await client.embeddings.create({ model: 'emb', input: [[1, 2, 3]], dimensions: 4, encoding_format: 'float' });
    expect(res.data.map((d) => d.embedding.length)).toEqual([4]);
    expect(res.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(upstream!.requests[0]?.body).toEqual({ input: [[1, 2, 3]], encoding_format: 'float', dimensions: 4, model: 'text-embedding-test' });
    // The client's default (base64), decoded by it: the same length.
    const b64 = await client.embeddings.create({ model: 'emb', input: ['abcdefgh', 'abcd'], dimensions: 3 });
    expect(b64.data.map((d) => d.embedding.length)).toEqual([3, 3]);
    const rows = await h!.stores!.ledger.query({ tenantId: 'acme', limit: 10 });
    expect(rows.map((r) => [r.status, r.inputTokens]).sort()).toEqual([
      ['success', 3],
      ['success', 3],
    ]);
  });

  it('a client that goes away mid-call: aborted row, in-flight back to 0, the concurrency slot given back', async () => {
    const client = await setup([{ delayMs: 30_000 }, {}], { limits: { maxConcurrency: 1 } });
    const controller = new AbortController();
    const first = client.embeddings.create({ model: 'emb', input: 'slow' }, { signal: controller.signal });
    first.catch(() => {});
    // Abort once the call is upstream (it holds the tenant's one place), then wait for its settlement.
    await vi.waitFor(() => expect(upstream!.requests).toHaveLength(1), { timeout: 10_000 });
    controller.abort();
    await expect(first).rejects.toThrow();
    await vi.waitFor(async () => expect((await h!.stores!.ledger.query({ tenantId: 'acme', limit: 10 })).map((r) => r.status)).toEqual(['aborted']), { timeout: 10_000 });
    const second = await client.embeddings.create({ model: 'emb', input: 'fast' });
    expect(second.data).toHaveLength(1);
    const rows = await h!.stores!.ledger.query({ tenantId: 'acme', limit: 10 });
    expect(rows.map((r) => r.status).sort()).toEqual(['aborted', 'success']);
    expect(await metricsText()).toMatch(/llm_requests_in_flight 0/);
  });
});

// An upstream that ignores `dimensions` answers (and bills) vectors of its own length: the router (or, for a router
// that dropped the option, the route) refuses the answer with a 400 `unsupported` naming `dimensions`, and the
// ledger row records what the refused answer cost (`details[REFUSED_ANSWER]`).
describe('a billed answer of the wrong length is refused and ledgered', () => {
  const refusal = (e: unknown) => e as { status?: number; requestID?: string | null; error?: { code?: string; param?: string } };

  it('an upstream that ignores dimensions (core router path): 400 unsupported, and the ledger row holds the prompt the upstream billed', async () => {
    const client = await setup({ ignoresDimensions: true, embeddingDimensions: 8 });
    const error = await client.embeddings.create({ model: 'emb', input: ['abcdefgh', 'abcd'], dimensions: 4, encoding_format: 'float' }).then(() => undefined, refusal);
    expect(error?.status).toBe(400);
    expect(error?.error).toMatchObject({ code: 'unsupported', param: 'dimensions' });
    // The upstream answered 200 with its usage: the provider billed this prompt.
    expect(upstream!.requests).toHaveLength(1);
    const rows = await h!.stores!.ledger.query({ tenantId: 'acme', limit: 10 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'error', errorCode: 'unsupported', inputTokens: 3 });
    expect(rows[0]!.costUsd, 'billed cost in the ledger').toBeCloseTo(3 / 1e6, 12);
  });

  it('a router that drops dimensions (gateway check): its result has a cost, the 400 row records it', async () => {
    const client = await setup({ embeddingDimensions: 8 });
    // A wrapped router written before `dimensions` (as in embeddings.options.test.ts): the upstream answers 8 numbers.
    const embed = h!.router.embed.bind(h!.router);
    let paidUsd = 0;
    h!.router.embed = async (input, options) => {
      const r = await embed(input, { ...options, dimensions: undefined });
      paidUsd += r.cost.totalUsd;
      return r;
    };
    const error = await client.embeddings.create({ model: 'emb', input: ['abcdefgh', 'abcd'], dimensions: 4, encoding_format: 'float' }).then(() => undefined, refusal);
    expect(error?.status).toBe(400);
    expect(paidUsd).toBeGreaterThan(0);
    const entry = await h!.stores!.ledger.get(error!.requestID!);
    expect(entry?.status).toBe('error');
    expect(entry?.costUsd, 'the cost the router reported for the answer it got').toBeCloseTo(paidUsd, 12);
  });
});
