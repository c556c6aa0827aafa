/**
 * The billed refusal of embeddings of the wrong `dimensions` (`details[REFUSED_ANSWER]`, a symbol key): an upstream's
 * error body cannot name a spend; and, a known gap kept as expected failures, hedged lanes' refused answers (only the
 * first lost error's spend reaches the row, and none when another lane wins). Official openai client on a loopback
 * port, local OpenAI wire upstreams, the real in-memory stores.
 */
import { startOpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, type Harness, type ModelInput } from '../test-support/harness.js';

type Upstream = Awaited<ReturnType<typeof startOpenAIWireServer>>;
type Script = NonNullable<Parameters<typeof startOpenAIWireServer>[0]>['script'];

let h: Harness | undefined;
let served: ServedGateway | undefined;
const upstreams: Upstream[] = [];
afterEach(async () => {
  await served?.close(1000);
  await h?.close();
  for (const u of upstreams.splice(0)) await u.close();
  h = undefined;
  served = undefined;
});

async function setup(scripts: Script[], routing: NonNullable<Parameters<typeof createHarness>[0]>['routing'] = {}) {
  const models: ModelInput[] = [];
  for (let i = 0; i < scripts.length; i++) {
    const u = await startOpenAIWireServer({ script: scripts[i] });
    upstreams.push(u);
    models.push({ name: `emb${i}`, engine: 'openai-compatible', baseURL: u.baseURL, apiKey: 'k', model: 'text-embedding-test', capabilities: ['embeddings'], price: { input: 1, output: 0 }, priority: i + 1 } as ModelInput);
  }
  h = await createHarness({ stores: 'memory', models, routing });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  const { secret } = await h.stores!.tenants.createKey('acme', { name: 'sdk' });
  served = await serveGateway(h.gateway, { port: 0 });
  return new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
}

describe('the refused answer read by the settler', () => {
  it('an upstream error body is not a refused answer: a 400 whose JSON has a top-level refusedAnswer bills nothing', async () => {
    // A provider's (or a proxy's) error body goes into the error's `details` as it is (map-openai-error.ts); the
    // settler took a `refusedAnswer` in any error's details, so that body named what the tenant was billed.
    const client = await setup([
      {
        error: {
          status: 400,
          body: { error: { message: 'bad input', type: 'invalid_request_error' }, refusedAnswer: { usage: { inputTokens: 5_000_000, outputTokens: 0, totalTokens: 5_000_000 }, cost: { totalUsd: 1000 } } },
        },
      },
    ]);
    const error = await client.embeddings.create({ model: 'emb0', input: 'hello', encoding_format: 'float' }).then(
      () => undefined,
      (e: unknown) => e as { status?: number; requestID?: string | null },
    );
    expect(error?.status).toBe(400);
    const entry = await h!.stores!.ledger.get(error!.requestID!);
    expect(entry?.status).toBe('error');
    // No answer came back: nothing was billed by the provider for a 400.
    expect(entry?.costUsd, 'cost the upstream error body named').toBe(0);
    expect(entry?.inputTokens).toBe(0);
  });
});

describe('hedged embeddings with an upstream that ignores dimensions (not built: one lost answer billed at most)', () => {
  const routing = { strategy: 'priority' as const, retries: { max: 0 }, hedging: { enabled: true, delayMs: 50, maxHedges: 1 } };

  it.fails('both lanes answer (and are billed) vectors of the wrong length: the ledger row holds both answers', async () => {
    const client = await setup(
      [
        { delayMs: 400, ignoresDimensions: true, embeddingDimensions: 8 },
        { delayMs: 600, ignoresDimensions: true, embeddingDimensions: 8 },
      ],
      routing,
    );
    const error = await client.embeddings.create({ model: 'auto', input: ['abcdefgh', 'abcd'], dimensions: 4, encoding_format: 'float' }).then(
      () => undefined,
      (e: unknown) => e as { status?: number; requestID?: string | null },
    );
    expect(error?.status).toBe(400);
    // Both upstreams answered 200 with usage (3 prompt tokens each): both were billed.
    expect(upstreams.map((u) => u.requests.length)).toEqual([1, 1]);
    const entry = await h!.stores!.ledger.get(error!.requestID!);
    expect(entry?.inputTokens, 'prompt tokens of the two billed answers').toBe(6);
    expect(entry?.costUsd, 'cost of the two billed answers').toBeCloseTo(6 / 1e6, 12);
  });

  it.fails('the first lane is billed a refused answer, the hedge lane answers: the ledger row holds both answers', async () => {
    const client = await setup(
      [
        { delayMs: 400, ignoresDimensions: true, embeddingDimensions: 8 },
        { delayMs: 600, embeddingDimensions: 8 },
      ],
      routing,
    );
    const res = await client.embeddings.create({ model: 'auto', input: ['abcdefgh', 'abcd'], dimensions: 4, encoding_format: 'float' }).withResponse();
    expect(res.data.data.map((d) => d.embedding.length)).toEqual([4, 4]);
    expect(upstreams.map((u) => u.requests.length)).toEqual([1, 1]);
    const entry = await h!.stores!.ledger.get(res.response.headers.get('x-request-id')!);
    expect(entry?.deployment).toBe('emb1');
    expect(entry?.costUsd, 'the refused (billed) answer of emb0 and the answer of emb1').toBeCloseTo(6 / 1e6, 12);
  });
});
