/**
 * Embeddings answers an OpenAI-compatible upstream gets wrong, through the served gateway: fewer vectors than inputs, a
 * duplicated `index` (one input's vector missing, another's twice) and vectors of different lengths are a typed 502 `invalid_response`, never a
 * 200 that hands an input another's vector; indexes out of order are put back in input order, and an item without an
 * index (Gemini's OpenAI-compatible endpoint leaves out 0) is at its position. A failure after admission carries the
 * rate-limit headers, as chat's failures do. Raw node:http upstream; the official
 * openai client (base64 by default) and plain float requests.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGatewayError } from '../test-support/expect-error.js';
import { send } from '../test-support/raw-http.js';
import { startRawUpstream } from '../test-support/raw-upstream.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

/** What the upstream answers next: its `data` items. */
let data: Array<{ index?: number; embedding: number[] }> = [];
let gw: SdkGateway;

beforeAll(async () => {
  const upstream = await startRawUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', model: 'raw-model', data: data.map((d) => ({ object: 'embedding', ...d })), usage: { prompt_tokens: 6, total_tokens: 6 } }));
  });
  gw = await servedGateway({
    models: [{ name: 'raw', engine: 'openai-compatible', baseURL: `${upstream.url}/v1`, model: 'raw-model', apiKey: 'k', price: { input: 1, output: 0 }, capabilities: ['embeddings'] }],
    upstreams: [upstream],
  });
  // Limits no call here reaches: every answer says where they stand.
  await gw.harness.stores!.tenants.updateTenant('acme', { limits: { rpm: 10_000, tpm: 10_000_000, maxConcurrency: 50 } });
});
afterAll(async () => gw?.close());

const vec = (i: number) => [i + 0.25, i + 0.5, i + 0.75];

function embedFloat(input: string[]) {
  return send(gw.url, 'POST', '/v1/embeddings', JSON.stringify({ model: 'raw', input, encoding_format: 'float' }), { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' });
}

describe('embeddings an upstream gets wrong', () => {
  for (const [label, answer] of [
    ['fewer vectors than inputs', [{ index: 0, embedding: vec(0) }]],
    ['a duplicated index (two vectors for input 0, none for 1)', [{ index: 0, embedding: vec(0) }, { index: 0, embedding: vec(5) }]],
    ['vectors of different lengths in one answer', [{ index: 0, embedding: vec(0) }, { index: 1, embedding: [1, 2] }]],
  ] as const) {
    it(`${label}: a typed 502 invalid_response, float and base64 alike`, async () => {
      data = answer.map((d) => ({ ...d, embedding: [...d.embedding] }));
      const reply = await embedFloat(['a', 'b']);
      const err = expectGatewayError(reply, { status: 502, code: 'invalid_response' }, label);
      expect(err.message).toMatch(/indexes|different lengths|1 embeddings for 2 inputs/);
      // A failure after the call took its place under the limits says where they stand, as chat's failures do.
      const limits = ['requests', 'tokens', 'concurrency'].map((l) => reply.headers[`x-ratelimit-limit-${l}`]);
      expect(limits).toEqual(['10000', '10000000', '50']);
      const failed = await gw.openai().embeddings.create({ model: 'raw', input: ['a', 'b'] }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(OpenAI.APIError);
      expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    });
  }

  it('indexes out of order: each input gets its own vector (float and base64)', async () => {
    data = [
      { index: 1, embedding: vec(1) },
      { index: 0, embedding: vec(0) },
    ];
    const answer = await embedFloat(['a', 'b']);
    expect(answer.status, answer.body).toBe(200);
    expect((JSON.parse(answer.body) as { data: Array<{ index: number; embedding: number[] }> }).data.map((d) => [d.index, d.embedding])).toEqual([
      [0, vec(0)],
      [1, vec(1)],
    ]);
    const viaClient = await gw.openai().embeddings.create({ model: 'raw', input: ['a', 'b'] });
    expect(viaClient.data.map((d) => d.embedding)).toEqual([vec(0), vec(1)]);
  });

  it("index 0 left out, as Gemini's OpenAI-compatible endpoint sends it: the item's position stands for it (a 200, each input its own vector)", async () => {
    data = [{ embedding: vec(0) }, { index: 1, embedding: vec(1) }, { index: 2, embedding: vec(2) }];
    const answer = await embedFloat(['a', 'b', 'c']);
    expect(answer.status, answer.body).toBe(200);
    expect((JSON.parse(answer.body) as { data: Array<{ index: number; embedding: number[] }> }).data.map((d) => [d.index, d.embedding])).toEqual([
      [0, vec(0)],
      [1, vec(1)],
      [2, vec(2)],
    ]);
    const viaClient = await gw.openai().embeddings.create({ model: 'raw', input: ['a', 'b', 'c'] });
    expect(viaClient.data.map((d) => d.embedding)).toEqual([vec(0), vec(1), vec(2)]);
  });
});
