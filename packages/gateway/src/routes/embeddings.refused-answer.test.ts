/**
 * The billed refusal of embeddings of the wrong `dimensions` (`details[REFUSED_ANSWER]`, a symbol key): an upstream's
 * error body cannot name a spend; and hedged lanes' refused answers: every lane's reaches the row, when all lanes lose
 * (summed on the error, the row under the first refused answer's deployment) and when another lane answers (core's
 * `failedAttempts*` on the result), the metrics put each under the deployment that billed it, and the reservation
 * counts a lane per deployment that can take `dimensions` (without `dimensions` too: a lane's answer that came with
 * the winner's is billed). Official openai client on a loopback port, local OpenAI
 * wire upstreams, the real in-memory stores, the gateway's /metrics.
 */
import type { BudgetReserveRequest } from '@llmrr/core';
import { startOpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, get, type Harness, type ModelInput } from '../test-support/harness.js';
import { metricSum } from '../test-support/metrics-text.js';

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

/** `options`: each model's engine options (by index); `budgetUsd`: tenant acme's monthly budget. */
async function setup(
  scripts: Script[],
  routing: NonNullable<Parameters<typeof createHarness>[0]>['routing'] = {},
  more: { options?: ReadonlyArray<Record<string, unknown> | undefined>; budgetUsd?: number } = {},
) {
  const models: ModelInput[] = [];
  for (let i = 0; i < scripts.length; i++) {
    const u = await startOpenAIWireServer({ script: scripts[i] });
    upstreams.push(u);
    const options = more.options?.[i];
    models.push({ name: `emb${i}`, engine: 'openai-compatible', baseURL: u.baseURL, apiKey: 'k', model: 'text-embedding-test', capabilities: ['embeddings'], price: { input: 1, output: 0 }, priority: i + 1, ...(options ? { options } : {}) } as ModelInput);
  }
  h = await createHarness({ stores: 'memory', models, routing });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', ...(more.budgetUsd !== undefined ? { budget: { amountUsd: more.budgetUsd, period: 'month' as const } } : {}) });
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

/** Every budget reservation the gateway asks for from now on, in order (the harness's budget store, wrapped). */
function recordReservations(): BudgetReserveRequest[] {
  const budgets = h!.stores!.budgets;
  const reserved: BudgetReserveRequest[] = [];
  const reserve = budgets.reserve.bind(budgets);
  budgets.reserve = (r: BudgetReserveRequest) => {
    reserved.push(r);
    return reserve(r);
  };
  return reserved;
}

/** Per deployment: llm_cost_usd_total of tenant acme and llm_tokens_total of input tokens. */
async function spendByDeployment(): Promise<{ cost: (model: string) => number; input: (model: string) => number }> {
  const text = await (await get(h!.gateway, '/metrics')).text();
  return {
    cost: (model) => metricSum(text, 'llm_cost_usd_total', new RegExp(`model="${model}",tenant="acme"`)),
    input: (model) => metricSum(text, 'llm_tokens_total', new RegExp(`type="input",model="${model}"`)),
  };
}

describe('hedged embeddings with an upstream that ignores dimensions: every billed answer is in the row', () => {
  const routing = { strategy: 'priority' as const, retries: { max: 0 }, hedging: { enabled: true, delayMs: 50, maxHedges: 1 } };

  it('both lanes answer (and are billed) vectors of the wrong length: the ledger row holds both answers, under the first refused one\'s deployment; the metrics put each under its own', async () => {
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
    // As a chat row of an answer lost after its response: the row names who was asked (the first lane's refusal).
    expect(entry?.deployment).toBe('emb0');
    // Each provider billed 3 tokens at $1/M: the per-deployment counters say so, none under the requested `auto`.
    const { cost, input } = await spendByDeployment();
    expect({ emb0: cost('emb0'), emb1: cost('emb1'), auto: cost('auto') }).toEqual({ emb0: 3 / 1e6, emb1: 3 / 1e6, auto: 0 });
    expect({ emb0: input('emb0'), emb1: input('emb1') }).toEqual({ emb0: 3, emb1: 3 });
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
    // Per deployment, the cost and token counters add up to what each provider billed.
    const { cost, input } = await spendByDeployment();
    expect({ emb0: cost('emb0'), emb1: cost('emb1') }).toEqual({ emb0: 3 / 1e6, emb1: 3 / 1e6 });
    expect({ emb0: input('emb0'), emb1: input('emb1') }).toEqual({ emb0: 3, emb1: 3 });
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
    const reserved = recordReservations();
    const settled = new Map<string, number>();
    const settle = stores.budgets.settle.bind(stores.budgets);
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
    const { reservationId: id, estimateUsd: reservation } = reserved[0]!;
    expect(settled.get(id), 'both billed answers').toBeCloseTo(200 / 1e6, 12);
    expect(settled.get(id)!).toBeLessThanOrEqual(reservation);
  });

  it('only one deployment can take dimensions: the router plans (and hedges) no other, so the reservation counts one call', async () => {
    // emb1 has one length (options.embedDimensions false): core's plan holds emb0 alone and does not hedge
    // (run-attempts.ts: hedging needs a plan of more than one). 100 token ids at $1/M: one call is $100e-6, and a
    // budget of $150e-6 covers it (counting a lane for emb1 reserved $200e-6 and refused the call with a 402).
    const client = await setup([{ embeddingDimensions: 4 }, { embeddingDimensions: 8 }], routing, { options: [undefined, { embedDimensions: false }], budgetUsd: 150 / 1e6 });
    const reserved = recordReservations();
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    const outcome = await client.embeddings.create({ model: 'auto', input: [ids], dimensions: 4, encoding_format: 'float' }).then(
      (r) => ({ status: 200, vectors: r.data.map((d) => d.embedding.length) }),
      (e: unknown) => ({ status: (e as { status?: number }).status, vectors: [] }),
    );
    expect(outcome).toEqual({ status: 200, vectors: [4] });
    expect(reserved).toHaveLength(1);
    expect(reserved[0]!.estimateUsd, 'one call can be billed').toBeCloseTo(100 / 1e6, 12);
    expect(upstreams.map((u) => u.requests.length)).toEqual([1, 0]);
  });

  it('without dimensions: the reservation still counts a call per lane (an answer that came with the winner\'s is billed too)', async () => {
    const client = await setup([{ embeddingDimensions: 4 }, { embeddingDimensions: 4 }], routing, { budgetUsd: 100 });
    const reserved = recordReservations();
    // 100 token ids at $1/M: $100e-6 a call, two lanes.
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    const r = await client.embeddings.create({ model: 'auto', input: [ids], encoding_format: 'float' });
    expect(r.data.map((d) => d.embedding.length)).toEqual([4]);
    expect(reserved).toHaveLength(1);
    expect(reserved[0]!.estimateUsd, 'a call per lane that may run').toBeCloseTo(200 / 1e6, 12);
  });
});
