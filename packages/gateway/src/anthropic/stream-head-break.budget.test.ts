import type { BudgetReserveRequest } from '@llmrr/core';
import type { AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateInputTokens } from '../tenancy/estimate.js';
import { type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// The budget of a stream whose attempts break after the provider reported their prompt (Anthropic's message_start):
// each such prompt is billed (core's `spent()`, or the answer's `failedAttemptsCost`), and the reservation priced one
// call. Before a retry or fallback that follows such attempts, the gateway extends the reservation atomically (one more
// reservation in the store, `<id>+N`) by what was billed, so that it still covers one more call at the reserved worst
// case; a budget that cannot cover it ends the call with `budget_exceeded` and nothing more is sent upstream. The call
// settles its reservation with the actual cost, then releases the extensions.

const PRICE = { input: 3, output: 15 };
const PROMPT = 'hello there '.repeat(1500);

let up: AnthropicWireServer;
let gw: SdkGateway;
const reserved = new Map<string, number>();
const settled = new Map<string, number>();
const released = new Set<string>();

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: up } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude', { price: PRICE })], {
    routing: { retries: { max: 3, initialDelayMs: 1, maxDelayMs: 1 }, circuitBreaker: { enabled: false } },
  }));
  const stores = gw.harness.stores!;
  await stores.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
  const budgets = stores.budgets;
  const reserve = budgets.reserve.bind(budgets);
  const settle = budgets.settle.bind(budgets);
  const release = budgets.release.bind(budgets);
  budgets.reserve = async (r: BudgetReserveRequest) => {
    const answer = await reserve(r);
    if (answer.ok) reserved.set(r.reservationId, r.estimateUsd);
    return answer;
  };
  budgets.settle = (id: string, usd: number) => {
    settled.set(id, usd);
    return settle(id, usd);
  };
  budgets.release = (id: string) => {
    released.add(id);
    return release(id);
  };
});
afterAll(() => gw?.close());

/**
 * The prompt the upstream reports: 60% of the gateway's prompt bound of the request (`estimateInputTokens`, what the
 * reservation prices), so one attempt's is well inside the reservation and four attempts' are above it.
 */
function reportedInput(): number {
  return Math.floor(0.6 * estimateInputTokens({ messages: [{ role: 'user', content: PROMPT }] }));
}

/** What one cut attempt is billed: its reported prompt at the input price. */
const promptUsd = (): number => (reportedInput() * PRICE.input) / 1e6;

/** Streams the prompt over `attempts` upstream replies that each break after message_start; the client's error. */
async function brokenStream(attempts: number): Promise<unknown> {
  const usage = { input_tokens: reportedInput(), output_tokens: 0 };
  for (let i = 0; i < attempts; i++) up.enqueue({ content: 'never arrives', chunks: 2, usage, cutAfterEvents: 3 });
  const err = await gw
    .anthropic()
    .messages.stream({ model: 'claude', max_tokens: 1, messages: [{ role: 'user', content: PROMPT }] })
    .finalMessage()
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return err;
}

function clear(): void {
  reserved.clear();
  settled.clear();
  released.clear();
}

describe('budget reservation vs the failed attempts\' prompts a broken stream is billed', () => {
  let oneCallUsd = 0;

  it('a stream cut after message_start on all 4 attempts: the reservation is extended before each retry, the call settles within what it reserved, the extensions are released', async () => {
    clear();
    const before = up.requests.length;
    await brokenStream(4);
    expect(up.requests.length - before).toBe(4);
    const ids = [...reserved.keys()];
    const main = ids[0]!;
    // The call's reservation, then one extension before each of the three retries.
    expect(ids).toEqual([main, `${main}+1`, `${main}+2`, `${main}+3`]);
    oneCallUsd = reserved.get(main)!;
    // Each extension adds what the attempt before it was billed: the reservation covers the billed prompts plus one call.
    for (const id of ids.slice(1)) expect(reserved.get(id)).toBeCloseTo(promptUsd(), 12);
    const actual = settled.get(main)!;
    expect(actual).toBeCloseTo(4 * promptUsd(), 12);
    expect(actual).toBeGreaterThan(oneCallUsd);
    expect(actual).toBeLessThanOrEqual([...reserved.values()].reduce((a, b) => a + b, 0));
    expect([...released].sort()).toEqual(ids.slice(1).sort());
    const budget = await gw.harness.stores!.budgets.spent('acme', 'month');
    expect(budget.reservedUsd).toBe(0);
    const rows = await gw.ledger.query({ tenantId: 'acme' });
    expect(budget.spentUsd).toBeCloseTo(rows.reduce((s, r) => s + r.costUsd, 0), 9);
  });

  it('a budget that cannot cover the extension: the call ends with 402 budget_exceeded after the first attempt, billed its reported prompt, nothing more sent upstream', async () => {
    clear();
    const stores = gw.harness.stores!;
    const { spentUsd } = await stores.budgets.spent('acme', 'month');
    // Room for the call's reservation and half of a billed prompt more.
    await stores.tenants.updateTenant('acme', { budget: { amountUsd: spentUsd + oneCallUsd + promptUsd() / 2, period: 'month' } });
    const before = up.requests.length;
    // (One cut reply queued: a second attempt, if one were sent, would get the upstream's echo answer.)
    const err = await brokenStream(1);
    expect(err).toMatchObject({ status: 402, error: { error: { type: 'billing_error' } } });
    expect(up.requests.length - before).toBe(1);
    const main = [...reserved.keys()][0]!;
    expect(reserved.size).toBe(1);
    expect(settled.get(main)).toBeCloseTo(promptUsd(), 12);
    const rows = await gw.ledger.query({ tenantId: 'acme' });
    const row = rows.find((r) => r.errorCode === 'budget_exceeded');
    expect(row).toMatchObject({ status: 'error', inputTokens: reportedInput(), outputTokens: 0 });
    expect(row!.costUsd).toBeCloseTo(promptUsd(), 12);
    const budget = await stores.budgets.spent('acme', 'month');
    expect(budget.spentUsd).toBeCloseTo(spentUsd + promptUsd(), 9);
    expect(budget.reservedUsd).toBe(0);
    await stores.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
  });

  it('a retry after an attempt that failed before any usage (a 529) extends nothing', async () => {
    clear();
    const before = up.requests.length;
    up.enqueue({ error: { status: 529 } });
    up.enqueue({ content: 'The answer' });
    const text = await gw.anthropic().messages.stream({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] }).finalText();
    expect(text).toBe('The answer');
    expect(up.requests.length - before).toBe(2);
    expect(reserved.size).toBe(1);
    expect(released.size).toBe(0);
  });
});
