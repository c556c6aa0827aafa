/**
 * `POST /v1/embeddings` end to end with the official openai client on a loopback port (its `embeddings.create`
 * asks for base64 by default and decodes it: the float answer's float32 values), a local OpenAI wire upstream and
 * the real in-memory stores: the vectors, the ledger row and metrics, token ids and `dimensions`, empty strings
 * refused as OpenAI refuses them, a client that leaves mid-call, the `user` field; and Gemini wire deployments (only
 * embedding models embed, and they do not chat).
 */
import { tenantScopedId } from '@llmrr/core';
import { startGeminiWireServer, startOpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, get, type Harness } from '../test-support/harness.js';
import { readWarnings } from '../test-support/read-warnings.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

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

  it("text-embedding-3-large's 3072 floats: the client's base64 decodes to the float answer's float32 values", async () => {
    const client = await setup({ embeddingDimensions: 3072 });
    const input = ['a longer text to embed', 'another'];
    const floats = await client.embeddings.create({ model: 'emb', input, encoding_format: 'float' });
    const decoded = await client.embeddings.create({ model: 'emb', input });
    expect(decoded.data.map((d) => d.embedding.length)).toEqual([3072, 3072]);
    // Values past the first 8 KiB of bytes (float 2048 on) and ones float32 rounds: the whole vector is checked.
    expect(floats.data[0]!.embedding.slice(2048).some((v) => v !== 0)).toBe(true);
    expect(floats.data[0]!.embedding.some((v) => v !== Math.fround(v))).toBe(true);
    expect(decoded.data.map((d) => d.embedding)).toEqual(floats.data.map((d) => d.embedding.map(Math.fround)));
  });

  it("an empty string, alone or in a list, is OpenAI's 400 naming it: nothing goes upstream, nothing is billed", async () => {
    const client = await setup({});
    const refusal = (e: unknown) => e as { status?: number; error?: { type?: string; code?: string; param?: string } };
    const cases: Array<[string | string[], string]> = [
      ['', 'input'],
      [['a', ''], 'input.1'],
    ];
    for (const [input, param] of cases) {
      const error = await client.embeddings.create({ model: 'emb', input }).then(() => undefined, refusal);
      expect(error?.status, JSON.stringify(input)).toBe(400);
      expect(error?.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request', param });
    }
    expect(upstream!.requests).toHaveLength(0);
    expect(await h!.stores!.ledger.query({ tenantId: 'acme', limit: 10 })).toEqual([]);
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

// OpenAI's `user` (the end-user id OpenAI uses for abuse monitoring) goes upstream as on chat completions, and a
// deployment that cannot send it says so (`setting_not_sent` in `x-llmrr-warnings`), as chat's answers do.
describe('the user field with the official openai client', () => {
  let gw: SdkGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('reaches the OpenAI-compatible upstream; Mistral (no user field) and Gemini (none either) answer with a setting_not_sent warning', async () => {
    const wire = await startOpenAIWireServer();
    const gemini = await startGeminiWireServer({ apiKey: 'gk' });
    gw = await servedGateway({
      models: [
        { name: 'emb', engine: 'openai-compatible', baseURL: wire.baseURL, apiKey: 'k', model: 'text-embedding-3-small', capabilities: ['embeddings'] },
        { name: 'mistral-emb', engine: 'openai-compatible', preset: 'mistral', baseURL: wire.baseURL, apiKey: 'k', model: 'mistral-embed', capabilities: ['embeddings'] },
        { name: 'gem', engine: 'gemini', baseURL: gemini.url, apiKey: 'gk', model: 'gemini-embedding-001' },
      ],
      upstreams: [wire, gemini],
    });
    const client = gw.openai();
    const sent = await client.embeddings.create({ model: 'emb', input: 'x', user: 'end-user-1' }).withResponse();
    // A shared deployment gets tenant acme's end user as its tenant-scoped id (src/tenancy/end-user-scoping.sdk.test.ts).
    expect(wire.requests.at(-1)?.body).toMatchObject({ user: tenantScopedId('acme', 'end-user-1') });
    expect(sent.response.headers.get('x-llmrr-warnings')).toBeNull();
    // Without `user`, none is sent.
    await client.embeddings.create({ model: 'emb', input: 'x' });
    expect(wire.requests.at(-1)?.body).not.toHaveProperty('user');
    const mistral = await client.embeddings.create({ model: 'mistral-emb', input: 'x', user: 'end-user-1' }).withResponse();
    expect(mistral.data.data).toHaveLength(1);
    expect(wire.requests.at(-1)?.body).not.toHaveProperty('user');
    expect(readWarnings(mistral.response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'user']]);
    const gem = await client.embeddings.create({ model: 'gem', input: 'x', user: 'end-user-1' }).withResponse();
    expect(gem.data.data).toHaveLength(1);
    expect(JSON.stringify(gemini.requests.at(-1)?.body)).not.toContain('end-user-1');
    expect(readWarnings(gem.response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'user']]);
  });
});

// Gemini's chat models have no :batchEmbedContents (Google answers 404 "not supported for batchEmbedContents"): a
// gemini deployment embeds only with an embedding model, its `options.embeddingModel` or a model id naming one.
describe('gemini deployments with the official openai client', () => {
  let gw: SdkGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('a chat model without embeddingModel is a 400 unsupported naming model, sent nowhere; an embedding model embeds', async () => {
    const gemini = await startGeminiWireServer({ apiKey: 'gk' });
    const base = { engine: 'gemini', baseURL: gemini.url, apiKey: 'gk', price: { input: 1, output: 0 } } as const;
    gw = await servedGateway({
      models: [
        { name: 'gem-chat', ...base, model: 'gemini-2.5-flash' },
        { name: 'gem-option', ...base, model: 'gemini-2.5-flash', options: { embeddingModel: 'gemini-embedding-001' } },
        { name: 'gem-embedding', ...base, model: 'gemini-embedding-001' },
      ],
      upstreams: [gemini],
    });
    const client = gw.openai();
    const error = await client.embeddings.create({ model: 'gem-chat', input: 'x' }).then(() => undefined, (e: unknown) => e as { status?: number; error?: { code?: string; param?: string; message?: string } });
    expect(error?.status).toBe(400);
    expect(error?.error).toMatchObject({ code: 'unsupported', param: 'model' });
    expect(error?.error?.message).toContain('gem-chat: lacks capabilities: embeddings');
    expect(gemini.requests).toHaveLength(0);
    for (const model of ['gem-option', 'gem-embedding']) {
      const res = await client.embeddings.create({ model, input: ['a', 'b'] });
      expect(res.data).toHaveLength(2);
      expect(res.model).toBe(model);
    }
    expect(gemini.requests.map((r) => r.path)).toEqual(['/v1beta/models/gemini-embedding-001:batchEmbedContents', '/v1beta/models/gemini-embedding-001:batchEmbedContents']);
    // The client's default base64, decoded by it, is the float answer's float32 values exactly (OpenAI's base64 is float32).
    const floats = await client.embeddings.create({ model: 'gem-embedding', input: ['hello world', 'abc'], encoding_format: 'float' });
    const decoded = await client.embeddings.create({ model: 'gem-embedding', input: ['hello world', 'abc'] });
    expect(floats.data[0]!.embedding.some((v) => v !== Math.fround(v)), 'values that float32 rounds').toBe(true);
    expect(decoded.data.map((d) => d.embedding)).toEqual(floats.data.map((d) => d.embedding.map(Math.fround)));
    // `auto` embeddings go to the embedding models only.
    const auto = await client.embeddings.create({ model: 'auto', input: 'a' });
    expect(['gem-option', 'gem-embedding']).toContain(auto.model);
    // An embedding model does not chat (Google has no :generateContent for it): a 400 naming model, sent nowhere.
    const sent = gemini.requests.length;
    const chat = await client.chat.completions.create({ model: 'gem-embedding', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (e: unknown) => e as { status?: number; error?: { code?: string; param?: string } });
    expect(chat?.status).toBe(400);
    expect(chat?.error).toMatchObject({ code: 'unsupported', param: 'model' });
    expect(gemini.requests).toHaveLength(sent);
  });
});

// Google returns gemini-embedding-001's 3072 floats normalized and shorter ones (`outputDimensionality`) truncated,
// not normalized; OpenAI's `dimensions` answers unit vectors, which clients compare by dot product.
describe('gemini dimensions with the official openai client', () => {
  let gw: SdkGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('vectors shortened by outputDimensionality (asked, or the deployment default) come back unit length', async () => {
    // As Google's: a unit vector of 3072 floats, cut to the asked length.
    const full = (text: string) => {
      const v = Array.from({ length: 3072 }, (_, i) => Math.sin(i * 0.37 + text.length));
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    };
    const gemini = await startGeminiWireServer({ apiKey: 'gk', embeddingDimensions: 3072, embed: (text, _model, dims) => full(text).slice(0, dims) });
    const base = { engine: 'gemini', baseURL: gemini.url, apiKey: 'gk', model: 'gemini-embedding-001' } as const;
    gw = await servedGateway({ models: [{ name: 'gem', ...base }, { name: 'gem-768', ...base, options: { embeddingDimensions: 768 } }], upstreams: [gemini] });
    const client = gw.openai();
    const norm = (v: number[]) => Math.hypot(...v);
    const asked = await client.embeddings.create({ model: 'gem', input: ['a text', 'another text'], dimensions: 256, encoding_format: 'float' });
    expect(asked.data.map((d) => d.embedding.length)).toEqual([256, 256]);
    for (const d of asked.data) expect(norm(d.embedding)).toBeCloseTo(1, 9);
    // The direction is Google's: the truncated vector scaled.
    const cut = full('a text').slice(0, 256);
    expect(asked.data[0]!.embedding[5]! / asked.data[0]!.embedding[9]!).toBeCloseTo(cut[5]! / cut[9]!, 9);
    const byDefault = await client.embeddings.create({ model: 'gem-768', input: 'a text', encoding_format: 'float' });
    expect(byDefault.data[0]!.embedding).toHaveLength(768);
    expect(norm(byDefault.data[0]!.embedding)).toBeCloseTo(1, 9);
    // The full length is Google's own unit vector, as it came.
    const whole = await client.embeddings.create({ model: 'gem', input: 'a text', encoding_format: 'float' });
    expect(whole.data[0]!.embedding).toEqual(full('a text'));
  });
});

// OpenAI's embedding models have no chat completions: without a `capabilities` list, an `openai-compatible`
// deployment of one is recognised by its model id (as its reasoning models are) and embeds only.
describe('an openai-compatible deployment of an OpenAI embedding model, without a capabilities list', () => {
  let gw: SdkGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('embeds, and is never offered for chat (a 400 naming model, auto goes to the chat model)', async () => {
    const wire = await startOpenAIWireServer();
    const base = { engine: 'openai-compatible', baseURL: wire.baseURL, apiKey: 'k' } as const;
    gw = await servedGateway({
      models: [
        { name: 'small', ...base, model: 'text-embedding-3-small', price: { input: 0.02, output: 0 } },
        { name: 'chat', ...base, model: 'gpt-4o', price: { input: 2.5, output: 10 } },
      ],
      routing: { strategy: 'cost-optimized' },
      upstreams: [wire],
    });
    const client = gw.openai();
    const res = await client.embeddings.create({ model: 'small', input: ['a', 'b'] });
    expect(res.data).toHaveLength(2);
    const refusal = await client.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (e: unknown) => e as { status?: number; error?: { code?: string; param?: string } });
    expect(refusal?.status).toBe(400);
    expect(refusal?.error).toMatchObject({ code: 'unsupported', param: 'model' });
    // The cheapest deployment is the embedding model: `auto` chat still goes to the chat model.
    const auto = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] });
    expect(auto.model).toBe('chat');
    expect(wire.requests.map((r) => [r.url, (r.body as { model?: string }).model])).toEqual([
      ['/v1/embeddings', 'text-embedding-3-small'],
      ['/v1/chat/completions', 'gpt-4o'],
    ]);
  });
});
