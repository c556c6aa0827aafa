import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGeminiWireServer, type GeminiWireServer } from './gemini-wire-server.js';

let server: GeminiWireServer;
beforeAll(async () => {
  server = await startGeminiWireServer({ apiKey: 'k' });
});
afterAll(() => server.close());

const body = { contents: [{ role: 'user', parts: [{ text: 'ping' }] }] };
const post = (path: string, payload: unknown, key = 'k') =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': key }, body: JSON.stringify(payload) });

describe('gemini wire server', () => {
  it('echoes by default, in the GenerateContentResponse shape', async () => {
    const res = await post('/v1beta/models/gemini-x:generateContent', body);
    expect(await res.json()).toMatchObject({
      candidates: [{ content: { parts: [{ text: 'Echo: ping' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: expect.any(Number), candidatesTokenCount: expect.any(Number), totalTokenCount: expect.any(Number) },
      modelVersion: 'gemini-x',
    });
  });

  it('streams CRLF-framed data chunks with alt=sse, and a JSON array without it', async () => {
    server.enqueue({ parts: 'abcdef', chunks: 3 }, { parts: 'abcdef', chunks: 3 });
    const sse = await (await post('/v1beta/models/gemini-x:streamGenerateContent?alt=sse', body)).text();
    const chunks = sse.split('\r\n\r\n').filter(Boolean).map((line) => JSON.parse(line.replace(/^data: /, '')));
    expect(chunks.map((c) => c.candidates[0].content.parts[0].text)).toEqual(['ab', 'cd', 'ef']);
    expect(chunks.map((c) => c.candidates[0].finishReason)).toEqual([undefined, undefined, 'STOP']);
    const array = await (await post('/v1beta/models/gemini-x:streamGenerateContent', body)).json();
    expect(array).toHaveLength(3);
  });

  it('answers Google error bodies, API key problems included', async () => {
    server.enqueue({ error: { status: 429, retryDelay: '7s' } });
    const limited = await post('/v1beta/models/gemini-x:generateContent', body);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({
      error: { code: 429, message: expect.any(String), status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }] },
    });
    const wrong = await post('/v1beta/models/gemini-x:generateContent', body, 'nope');
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: { status: 'INVALID_ARGUMENT', details: [{ reason: 'API_KEY_INVALID' }] } });
    expect((await post('/v1beta/models/gemini-x:generateContent', body, '')).status).toBe(403);
    expect((await post('/v1beta/models/gemini-x:nothing', body)).status).toBe(404);
  });

  it('embeds and counts tokens', async () => {
    const embed = await post('/v1beta/models/emb:batchEmbedContents', {
      requests: [{ model: 'models/emb', content: { parts: [{ text: 'a' }] }, outputDimensionality: 4 }],
    });
    const json = (await embed.json()) as { embeddings: Array<{ values: number[] }> };
    expect(json.embeddings[0]!.values).toHaveLength(4);
    const mismatch = await post('/v1beta/models/emb:batchEmbedContents', { requests: [{ model: 'models/other', content: { parts: [{ text: 'a' }] } }] });
    expect(mismatch.status).toBe(400);
    const count = await post('/v1beta/models/gemini-x:countTokens', body);
    expect(await count.json()).toEqual({ totalTokens: expect.any(Number) });
  });
});
