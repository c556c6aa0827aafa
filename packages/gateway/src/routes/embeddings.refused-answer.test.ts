/**
 * The billed refusal of embeddings of the wrong `dimensions` (`details[REFUSED_ANSWER]`, a symbol key): an upstream's
 * error body cannot name a spend; and hedged lanes' refused answers: every lane's reaches the row, when all lanes lose
 * (summed on the error) and when another lane answers (core's `failedAttempts*` on the result). Official openai
 * client on a loopback port, local OpenAI wire upstreams, the real in-memory stores.
 */
import type { BudgetReserveRequest } from '@llmrr/core';
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

describe('hedged embeddings with an upstream that ignores dimensions: every billed answer is in the row', () => {
  const routing = { strategy: 'priority' as const, retries: { max: 0 }, hedging: { enabled: true, delayMs: 50, maxHedges: 1 } };

  it('both lanes answer (and are billed) vectors of the wrong length: the ledger row holds both answers', async () => {
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

  it('the first lane is billed a refused answer, the hedge lane answers: the ledger row holds both answers', async () => {
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
    expect(entry?.inputTokens, 'prompt tokens of both billed answers').toBe(6);
    expect(Number(res.response.headers.get('x-llmrr-cost-usd'))).toBeCloseTo(6 / 1e6, 12);
    // The response's usage is the answer's own, as on chat (a guard call's tokens are the row's, not the answer's).
    expect(res.data.usage.prompt_tokens).toBe(3);
  });

  it('a budgeted tenant: the reservation covers a refused (billed) answer on every lane', async () => {
    await setup(
      [
        { delayMs: 400, ignoresDimensions: true, embeddingDimensions: 8 },
        { delayMs: 600, ignoresDimensions: true, embeddingDimensions: 8 },
      ],
      routing,
    );
    const stores = h!.stores!;
    await stores.tenants.createTenant({ id: 'paying', name: 'Paying', budget: { amountUsd: 100, period: 'month' } });
    const client = new OpenAI({ baseURL: `${served!.url}/v1`, apiKey: (await stores.tenants.createKey('paying', { name: 'sdk' })).secret, maxRetries: 0 });
    const reserved = new Map<string, number>();
    const settled = new Map<string, number>();
    const reserve = stores.budgets.reserve.bind(stores.budgets);
    const settle = stores.budgets.settle.bind(stores.budgets);
    stores.budgets.reserve = (r: BudgetReserveRequest) => {
      reserved.set(r.reservationId, r.estimateUsd);
      return reserve(r);
    };
    stores.budgets.settle = (id: string, usd: number) => {
      settled.set(id, usd);
      return settle(id, usd);
    };
    // Token ids: each upstream bills exactly their count (100), which is also what the reservation counts per call
    // (no estimate's margin to hide a second billed answer in).
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    const error = await client.embeddings.create({ model: 'auto', input: [ids], dimensions: 4, encoding_format: 'float' }).then(
      () => undefined,
      (e: unknown) => e as { status?: number },
    );
    expect(error?.status).toBe(400);
    expect(upstreams.map((u) => u.requests.length)).toEqual([1, 1]);
    const [id, reservation] = [...reserved.entries()][0]!;
    expect(settled.get(id), 'both billed answers').toBeCloseTo(200 / 1e6, 12);
    expect(settled.get(id)!).toBeLessThanOrEqual(reservation);
  });
});
