/**
 * A hedged call whose other lane answered in the same turn as the winner, before the router could cancel it (its
 * provider billed that answer: here a content-filter refusal with its usage): the ledger row, `x-llmrr-cost-usd` and
 * the budget hold both answers, the metrics put each under its own deployment; the client's `usage` stays the
 * answer's. A lane cancelled in time answered nothing and is billed nothing (see the gateway README, "Charged to no
 * tenant"). The budget reservation of a hedged call counts one call per lane that may run, so what it settles (both
 * answers of `max_tokens`) is within it. A cascade whose strong step fails bills its weak step's late lane (core's
 * `details.cascade.failedAttempts*`) with its tokens. Only deployments that can serve the call are lanes (not a cascade's
 * entry; for a chat call not an embedding-only one; a cascade's step hedges over its own). The official openai client against the gateway served on a loopback port;
 * engines whose answers wait on one gate, so that both lanes answer in the same turn.
 */
import type { CallOptions, GenerateRequest, GenerateResult, Usage } from '@llmrr/core';
import { MockEngine } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { get } from '../test-support/harness.js';
import { metricSum } from '../test-support/metrics-text.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

const usage = (inputTokens: number, outputTokens: number): Usage => ({ inputTokens, outputTokens, totalTokens: inputTokens + outputTokens });

/** A mock engine whose generate answers `fixed` once `gate()` resolves, counting the calls started. */
class GatedEngine extends MockEngine {
  started = 0;
  constructor(
    public gate: () => Promise<void>,
    public fixed: Partial<GenerateResult>,
  ) {
    super();
  }

  override async generate(_request: GenerateRequest, options?: CallOptions): Promise<GenerateResult> {
    this.started++;
    await new Promise<void>((resolve, reject) => {
      options?.signal?.addEventListener('abort', () => reject(options.signal!.reason as Error), { once: true });
      void this.gate().then(resolve);
    });
    return { text: 'answer', toolCalls: [], finishReason: 'stop', usage: usage(10, 5), ...this.fixed };
  }
}

let open!: () => void;
let opened = new Promise<void>((resolve) => (open = resolve));
const a = new GatedEngine(() => opened, { text: 'It is sunny.', usage: usage(10, 5) });
const b = new GatedEngine(() => opened, { text: '', refusal: "I can't help with that.", finishReason: 'content-filter', usage: usage(10, 7) });
let gw: SdkGateway;

beforeAll(async () => {
  gw = await servedGateway({
    models: [
      { name: 'a', engine: 'mock', priority: 1, price: { input: 1, output: 1 }, capabilities: ['chat'] },
      { name: 'b', engine: 'mock', priority: 2, price: { input: 2, output: 2 }, capabilities: ['chat'] },
    ],
    routing: { strategy: 'priority', retries: { max: 0 }, hedging: { enabled: true, delayMs: 10, maxHedges: 1 } },
    routerOptions: { env: {}, engines: { a, b } },
  });
  await gw.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
});
afterAll(() => gw?.close());

describe('hedged chat: an answer another lane completed with the winner\'s is the request\'s spend', () => {
  it('the row, the cost header and the budget hold b\'s billed refusal; the metrics put it under b', async () => {
    const pending = gw.openai().chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'Weather?' }] }).withResponse();
    await vi.waitFor(() => expect(b.started).toBe(1), { timeout: 10_000 });
    open();
    const { data, response } = await pending;
    expect(data.choices[0]!.message.content).toBe('It is sunny.');
    // The client is told the answer's own usage.
    expect([data.usage?.prompt_tokens, data.usage?.completion_tokens]).toEqual([10, 5]);
    const total = (15 * 1 + 17 * 2) / 1e6;
    expect(Number(response.headers.get('x-llmrr-cost-usd'))).toBeCloseTo(total, 9);
    const row = await gw.ledger.get(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'success', deployment: 'a', inputTokens: 20, outputTokens: 12 });
    expect(row!.costUsd).toBeCloseTo(total, 12);
    expect((await gw.harness.stores!.budgets.spent('acme', 'month')).spentUsd).toBeCloseTo(total, 9);
    const text = await (await get(gw.harness.gateway, '/metrics')).text();
    const cost = (model: string) => metricSum(text, 'llm_cost_usd_total', new RegExp(`model="${model}",tenant="acme"`));
    expect(cost('a')).toBeCloseTo(15 / 1e6, 12);
    expect(cost('b')).toBeCloseTo(34 / 1e6, 12);
  });

  it('a lane cancelled in time answered nothing: the row holds the answer alone', async () => {
    opened = new Promise<void>((resolve) => (open = resolve));
    const bCalls = b.started;
    // b waits on a gate that never opens this time: still waiting when a answers, it is cancelled.
    const gateOfB = b.gate;
    b.gate = () => new Promise<void>(() => {});
    try {
      const pending = gw.openai().chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'Weather again?' }] }).withResponse();
      await vi.waitFor(() => expect(b.started).toBe(bCalls + 1), { timeout: 10_000 });
      open();
      const { response } = await pending;
      const row = await gw.ledger.get(response.headers.get('x-request-id')!);
      expect(row).toMatchObject({ status: 'success', deployment: 'a', inputTokens: 10, outputTokens: 5 });
      expect(row!.costUsd).toBeCloseTo(15 / 1e6, 12);
    } finally {
      b.gate = gateOfB;
    }
  });

  it('the budget reservation covers both answers: a call whose two lanes answer max_tokens settles within it', async () => {
    opened = new Promise<void>((resolve) => (open = resolve));
    const bCalls = b.started;
    const fixedOfA = a.fixed;
    const fixedOfB = b.fixed;
    // A one-token prompt, answers of max_tokens (50) tokens on both lanes: the call's worst case.
    const full: Partial<GenerateResult> = { text: 'x'.repeat(200), finishReason: 'length', usage: usage(1, 50) };
    a.fixed = full;
    b.fixed = full;
    try {
      const before = await gw.harness.stores!.budgets.spent('acme', 'month');
      const pending = gw.openai().chat.completions.create({ model: 'auto', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
      await vi.waitFor(() => expect(b.started).toBe(bCalls + 1), { timeout: 10_000 });
      const reserved = (await gw.harness.stores!.budgets.spent('acme', 'month')).reservedUsd - before.reservedUsd;
      expect(reserved).toBeGreaterThan(0);
      open();
      const { response } = await pending;
      const row = await gw.ledger.get(response.headers.get('x-request-id')!);
      // Both answers are the row's: 51 tokens at $1/M and 51 at $2/M.
      expect(row!.costUsd).toBeCloseTo((51 * 1 + 51 * 2) / 1e6, 12);
      const settled = (await gw.harness.stores!.budgets.spent('acme', 'month')).spentUsd - before.spentUsd;
      expect(settled).toBeCloseTo(row!.costUsd, 9);
      expect(settled).toBeLessThanOrEqual(reserved);
    } finally {
      a.fixed = fixedOfA;
      b.fixed = fixedOfB;
    }
  });
});

describe("hedged cascade: the weak step's late lane is the request's spend when the strong step fails", () => {
  let cascaded: SdkGateway | undefined;
  afterAll(() => cascaded?.close());

  it('the row holds its tokens and cost; the metrics put its cost under its deployment', async () => {
    let openWeak!: () => void;
    const weakOpened = new Promise<void>((resolve) => (openWeak = resolve));
    const wa = new GatedEngine(() => weakOpened, { text: '2+2=5', usage: usage(10, 5) });
    const wb = new GatedEngine(() => weakOpened, { text: '2+2=5', usage: usage(10, 7) });
    cascaded = await servedGateway({
      models: [
        { name: 'wa', alias: 'weak', engine: 'mock', priority: 1, price: { input: 1, output: 1 }, capabilities: ['chat'] },
        { name: 'wb', alias: 'weak', engine: 'mock', priority: 2, price: { input: 2, output: 2 }, capabilities: ['chat'] },
        { name: 'strong', engine: 'mock', priority: 3, price: { input: 10, output: 10 }, capabilities: ['chat'] },
      ],
      routing: {
        strategy: 'priority',
        retries: { max: 0 },
        hedging: { enabled: true, delayMs: 10, maxHedges: 1 },
        cascades: [{ name: 'duo', weak: 'weak', strong: 'strong', verifier: 'always', threshold: 0.5 }],
      },
      routerOptions: {
        env: {},
        engines: { wa, wb, strong: new MockEngine({ failures: [{ code: 'provider_unavailable', times: 10 }] }) },
        verifiers: { always: () => ({ score: 1 }) },
      },
    });
    const pending = cascaded.openai().chat.completions.create({ model: 'duo', messages: [{ role: 'user', content: '2+2?' }] }).then(
      () => undefined,
      (e: unknown) => e as { status?: number; requestID?: string | null },
    );
    await vi.waitFor(() => expect(wb.started).toBe(1), { timeout: 10_000 });
    openWeak();
    const error = await pending;
    expect(error?.status).toBe(503);
    const row = await cascaded.ledger.get(error!.requestID!);
    // wa's answer (15 tokens at $1/M) and wb's, which came with it (17 at $2/M): both paid, both the row's.
    expect(row).toMatchObject({ status: 'error', inputTokens: 20, outputTokens: 12 });
    expect(row!.costUsd).toBeCloseTo((15 + 34) / 1e6, 12);
    const text = await (await get(cascaded.harness.gateway, '/metrics')).text();
    expect(metricSum(text, 'llm_cost_usd_total', /model="wb",tenant="acme"/)).toBeCloseTo(34 / 1e6, 12);
  });
});

describe('hedged reservation: only deployments that can serve the call are lanes', () => {
  const gateways: SdkGateway[] = [];
  afterAll(async () => {
    for (const g of gateways.splice(0)) await g.close();
  });

  /** What a call of `model` reserves while its first lane (on `first`) runs, with hedging (`maxHedges: 1`) on or off. */
  async function reservedFor(hedging: boolean, model: string, second: { name: string; capabilities: Array<'chat' | 'embeddings'> }): Promise<number> {
    let openFirst!: () => void;
    const gate = new Promise<void>((resolve) => (openFirst = resolve));
    const first = new GatedEngine(() => gate, { text: 'It is 4.', usage: usage(5, 5) });
    const g = await servedGateway({
      models: [
        { name: 'first', engine: 'mock', priority: 1, price: { input: 1, output: 1 }, capabilities: ['chat'] },
        { name: second.name, engine: 'mock', priority: 2, price: { input: 10, output: 10 }, capabilities: second.capabilities },
      ],
      routing: {
        strategy: 'priority',
        retries: { max: 0 },
        ...(hedging ? { hedging: { enabled: true, delayMs: 10, maxHedges: 1 } } : {}),
        ...(second.name === 'strong' ? { cascades: [{ name: 'duo', weak: 'first', strong: 'strong', verifier: 'always', threshold: 0.5 }] } : {}),
      },
      routerOptions: { env: {}, engines: { first, [second.name]: new MockEngine() }, verifiers: { always: () => ({ score: 1 }) } },
    });
    gateways.push(g);
    await g.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
    const pending = g.openai().chat.completions.create({ model, max_tokens: 50, messages: [{ role: 'user', content: '2+2?' }] });
    await vi.waitFor(() => expect(first.started).toBe(1), { timeout: 10_000 });
    const reserved = (await g.harness.stores!.budgets.spent('acme', 'month')).reservedUsd;
    openFirst();
    await pending;
    return reserved;
  }

  // A cascade's candidates hold its own entry and both steps' deployments (3), but each step here has one deployment
  // and cannot hedge: with `maxHedges: 1` the call reserved twice and a budget covering it once refused it (402).
  it('a cascade whose steps have one deployment each reserves as much with hedging on as without', async () => {
    const strong = { name: 'strong', capabilities: ['chat' as const] };
    const plain = await reservedFor(false, 'duo', strong);
    expect(plain).toBeGreaterThan(0);
    expect(await reservedFor(true, 'duo', strong)).toBeCloseTo(plain, 12);
  });

  it('auto over one chat model and an embedding-only one reserves as much with hedging on as without', async () => {
    const vectors = { name: 'vectors', capabilities: ['embeddings' as const] };
    const plain = await reservedFor(false, 'auto', vectors);
    expect(plain).toBeGreaterThan(0);
    expect(await reservedFor(true, 'auto', vectors)).toBeCloseTo(plain, 12);
  });
});
