import { estimateRequestTokens, type BudgetReserveRequest } from '@llmrr/core';
import type { AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// A known limit (README "Budgets"): the failed attempts' prompts that a broken stream is billed for (`spent()`) are not
// in the budget reservation, which prices one call. A stream whose upstream is cut after message_start on every
// attempt (retries) settles above what was reserved, although each attempt's reported prompt is below the
// reservation's prompt estimate. `it.fails` until the reservation prices the attempts a request may make.

const PRICE = { input: 3, output: 15 };
const PROMPT = 'hello there '.repeat(1500);

let up: AnthropicWireServer;
let gw: SdkGateway;
const reserved = new Map<string, number>();
const settled = new Map<string, number>();

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: up } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude', { price: PRICE })], {
    routing: { retries: { max: 3, initialDelayMs: 1, maxDelayMs: 1 } },
  }));
  const stores = gw.harness.stores!;
  await stores.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
  const budgets = stores.budgets;
  const reserve = budgets.reserve.bind(budgets);
  const settle = budgets.settle.bind(budgets);
  budgets.reserve = (r: BudgetReserveRequest) => {
    reserved.set(r.reservationId, r.estimateUsd);
    return reserve(r);
  };
  budgets.settle = (id: string, usd: number) => {
    settled.set(id, usd);
    return settle(id, usd);
  };
});
afterAll(() => gw?.close());

/** The prompt the upstream reports: 60% of the router's estimate of the request (one attempt's is well inside the reservation). */
function reportedInput(): number {
  return Math.floor(0.6 * estimateRequestTokens({ messages: [{ role: 'user', content: PROMPT }] }));
}

async function brokenStream(attempts: number): Promise<void> {
  const usage = { input_tokens: reportedInput(), output_tokens: 0 };
  for (let i = 0; i < attempts; i++) up.enqueue({ content: 'never arrives', chunks: 2, usage, cutAfterEvents: 3 });
  const err = await (gw.anthropic().messages.stream({ model: 'claude', max_tokens: 1, messages: [{ role: 'user', content: PROMPT }] }).finalMessage().catch((e: unknown) => e));
  expect(err).toBeInstanceOf(Error);
}

describe('budget reservation vs the failed attempts\' prompts a broken stream is billed', () => {
  it.fails('a stream cut after message_start on all 4 attempts settles at most what its reservation reserved', async () => {
    reserved.clear();
    settled.clear();
    const before = up.requests.length;
    await brokenStream(4);
    expect(up.requests.length - before).toBe(4);
    expect(reserved.size).toBe(1);
    const [id, estimate] = [...reserved][0]!;
    const actual = settled.get(id);
    expect(actual).toBeGreaterThan(0);
    // Fails: 4 prompts of 0.6x the prompt estimate each (2.4x it) settle above the reservation.
    expect(actual!).toBeLessThanOrEqual(estimate);
  });
});
