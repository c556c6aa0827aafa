import { MockEngine, startOpenAIWireServer } from '@llmrr/core/test';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

interface EmbeddingBody {
  object: string;
  data: Array<{ object: string; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

describe('POST /v1/embeddings through LLMRouter.embed', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('answers the OpenAI list shape with the mock engine: vectors in input order, usage, cost header', async () => {
    h = await createHarness({ models: [mockModel('chat-only', {}, { capabilities: ['chat', 'streaming'], priority: 1 }), mockModel('mock', {}, { priority: 2 })] });
    const res = await post(h.gateway, '/v1/embeddings', { model: 'mock', input: ['hello there', 'second'] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as EmbeddingBody;
    const direct = await new MockEngine().embed(['hello there', 'second']);
    expect(body.object).toBe('list');
    expect(body.model).toBe('mock');
    expect(body.data.map((d) => [d.object, d.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
    ]);
    expect(body.data.map((d) => d.embedding)).toEqual(direct.embeddings);
    expect(body.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(res.headers.get('x-llmrr-model')).toBe('mock');
    // 3 input tokens at $1/M, no output
    expect(Number(res.headers.get('x-llmrr-cost-usd'))).toBeCloseTo(0.000003, 10);
  });

  it('base64 encoding carries the same float32 values', async () => {
    h = await createHarness();
    const res = await post(h.gateway, '/v1/embeddings', { model: 'mock', input: 'one text', encoding_format: 'base64' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as EmbeddingBody;
    const bytes = Buffer.from(body.data[0]!.embedding as string, 'base64');
    const floats = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    const [expected] = (await new MockEngine().embed(['one text'])).embeddings;
    expect(floats).toHaveLength(expected!.length);
    floats.forEach((f, i) => expect(f).toBeCloseTo(expected![i]!, 6));
  });

  it('an unknown model is a 404 naming it; a model that cannot embed is refused with the reason', async () => {
    h = await createHarness({ models: [mockModel('mock'), mockModel('chat-only', {}, { capabilities: ['chat'] })] });
    const unknown = await post(h.gateway, '/v1/embeddings', { model: 'nope', input: 'x' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
    const chatOnly = await post(h.gateway, '/v1/embeddings', { model: 'chat-only', input: 'x' });
    // The client's error (a 400 the SDKs do not retry), naming the model.
    expect(chatOnly.status).toBe(400);
    const err = ((await chatOnly.json()) as { error: { type: string; code: string; message: string; param: string | null } }).error;
    expect([err.type, err.code, err.param]).toEqual(['invalid_request_error', 'unsupported', 'model']);
    expect(err.message).toContain('chat-only: lacks capabilities: embeddings');
  });

  it('over a real OpenAI-compatible upstream, with the ledger entry recorded (tokens, cost, deployment)', async () => {
    const upstream = await startOpenAIWireServer({ script: { embeddingDimensions: 6 } });
    try {
      h = await createHarness({
        stores: 'memory',
        models: [{ name: 'emb', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'k', model: 'text-embedding-test', capabilities: ['embeddings'], price: { input: 0.5, output: 0 } }],
        gateway: { auth: { demoTenantId: 'demo' } },
      });
      await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
      const res = await post(h.gateway, '/v1/embeddings', { model: 'emb', input: ['abcdefgh', 'abcd'] });
      expect(res.status).toBe(200);
      const body = (await res.json()) as EmbeddingBody;
      expect(body.data).toHaveLength(2);
      expect(body.data[0]!.embedding).toHaveLength(6);
      expect(body.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
      expect(upstream.requests[0]?.body).toEqual({ input: ['abcdefgh', 'abcd'], model: 'text-embedding-test', encoding_format: 'float' });
      const entry = await h.stores!.ledger.get(res.headers.get('x-request-id')!);
      expect(entry).toMatchObject({ status: 'success', deployment: 'emb', inputTokens: 3, outputTokens: 0 });
      expect(entry?.costUsd).toBeCloseTo(1.5e-6, 12);
    } finally {
      await upstream.close();
    }
  });
});
