/**
 * /v1/embeddings reserves one token a byte per text, the most OpenAI's byte-level tokenizers make of a text:
 * cl100k_base (text-embedding-3-*, -ada-002) encodes "a\nb\nc\nd\ne\nf\ng\nh\n" (16 bytes) as 16 tokens (js-tiktoken
 * 1.x; also "1 2 3 4 5 6 7 8", 15 bytes -> 15 tokens). The upstream here answers that real count: a call that would
 * cost past the tenant's budget is refused (402) before it is sent, never admitted on half the estimate.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, type Harness } from '../test-support/harness.js';
import { startRawUpstream, type RawUpstream } from '../test-support/raw-upstream.js';

let h: Harness | undefined;
let served: ServedGateway | undefined;
let upstream: RawUpstream | undefined;
afterEach(async () => {
  await served?.close(1000);
  await h?.close();
  await upstream?.close();
  h = served = upstream = undefined;
});

/** cl100k_base token count of TEXT (js-tiktoken: 16, one token per byte). */
const TEXT = 'a\nb\nc\nd\ne\nf\ng\nh\n';
const TEXT_TOKENS = 16;

describe('embeddings admission estimate', () => {
  it('does not admit a call whose provider-billed cost is above the tenant budget', async () => {
    // An OpenAI wire upstream answering text-embedding-3-small's real prompt_tokens for these inputs.
    upstream = await startRawUpstream((_req, res, body) => {
      const input = (JSON.parse(body) as { input: string[] }).input;
      const tokens = input.length * TEXT_TOKENS;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ object: 'list', model: 'text-embedding-3-small', data: input.map((_t, index) => ({ object: 'embedding', index, embedding: [0.6, 0.8] })), usage: { prompt_tokens: tokens, total_tokens: tokens } }),
      );
    });
    h = await createHarness({
      stores: 'memory',
      models: [{ name: 'emb', engine: 'openai-compatible', baseURL: `${upstream.url}/v1`, apiKey: 'k', model: 'text-embedding-3-small', price: { input: 1, output: 0 } }],
    });
    // 1000 inputs: 16000 tokens billed = $0.016 at $1/M; the budget is $0.01.
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'acme', budget: { amountUsd: 0.01, period: 'month' } });
    const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
    served = await serveGateway(h.gateway, { port: 0 });
    const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
    const input = Array.from({ length: 1000 }, () => TEXT);
    const status = await client.embeddings.create({ model: 'emb', input, encoding_format: 'float' }).then(
      () => 200,
      (e: unknown) => (e as { status?: number }).status,
    );
    const { spentUsd } = await h.stores!.budgets.spent('acme', 'month');
    expect({ status, overBudget: spentUsd > 0.01 }).toEqual({ status: 402, overBudget: false });
  });
});
