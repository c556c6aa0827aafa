import { estimateRequestTokens, type BudgetReserveRequest } from '@llmrr/core';
import type { AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from '../test-support/harness.js';
import { metricSum } from '../test-support/metrics-text.js';
import { type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// The budget extension before a retry that follows attempts billed for their reported prompt, with hedging on:
// claude's first attempt is cut after its message_start; meanwhile the hedge on claude-b got its own message_start
// (Anthropic bills that prompt) and waits for content. The budget cannot cover the extension the retry needs, so the
// call ends with 402 budget_exceeded, and the router cancels the hedge: no lane answered, so the hedge lost to none
// and its prompt is billed with the cut attempt's. A lane that loses to another lane's answer after its message_start
// was billed that prompt too: it is the answering call's spend (the ledger row, the budget, the metrics under its own
// deployment).

const PRICE = { input: 3, output: 15 };
const PRICE_B = { input: 1, output: 5 };
const PROMPT = 'hello there '.repeat(1500);
const INPUT_A = 2500;
const INPUT_B = 3500;

let up: AnthropicWireServer;
let gw: SdkGateway;
const reserved = new Map<string, number>();

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: up } } = await servedOverWireUpstreams(
    (u) => [wireDeployment(u, 'claude', { price: PRICE }), wireDeployment(u, 'claude', { name: 'claude-b', price: PRICE_B })],
    {
      routing: {
        retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 },
        fallbacks: { claude: ['claude-b'] },
        hedging: { enabled: true, delayMs: 40, maxHedges: 1 },
        circuitBreaker: { enabled: false },
      },
    },
  ));
  const budgets = gw.harness.stores!.budgets;
  const reserve = budgets.reserve.bind(budgets);
  budgets.reserve = async (r: BudgetReserveRequest) => {
    const answer = await reserve(r);
    if (answer.ok) reserved.set(r.reservationId, r.estimateUsd);
    return answer;
  };
});
afterAll(() => gw?.close());

const request = () => ({ model: 'claude', max_tokens: 1, messages: [{ role: 'user' as const, content: PROMPT }] });

describe('hedged stream whose retry after a billed cut is refused by the budget', () => {
  it('the 402 call\'s ledger row has every prompt the provider reported: the cut attempt\'s and the hedge\'s', async () => {
    const stores = gw.harness.stores!;
    // One call's reservation, from a call that answers (the same request).
    await stores.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
    up.enqueue({ content: 'ok' });
    await gw.anthropic().messages.stream(request()).finalText();
    const oneCallUsd = [...reserved.values()][0]!;
    expect(oneCallUsd).toBeGreaterThan(0);
    reserved.clear();
    const promptA = (INPUT_A * PRICE.input) / 1e6;
    const promptB = (INPUT_B * PRICE_B.input) / 1e6;
    const { spentUsd } = await stores.budgets.spent('acme', 'month');
    // Room for the call's reservation and half of claude's billed prompt more: the retry's extension is refused.
    await stores.tenants.updateTenant('acme', { budget: { amountUsd: spentUsd + oneCallUsd + promptA / 2, period: 'month' } });
    expect(INPUT_A).toBeLessThan(estimateRequestTokens({ messages: [{ role: 'user', content: PROMPT }] }));

    const before = up.requests.length;
    // claude: message_start, content_block_start, ping, 60 ms apart, then the connection is cut (after the hedge started).
    up.enqueue({ content: 'never arrives', chunks: 2, usage: { input_tokens: INPUT_A, output_tokens: 0 }, delayMs: 60, cutAfterEvents: 3 });
    // claude-b (the hedge at 40 ms): message_start, then nothing.
    up.enqueue({ content: 'never arrives', chunks: 2, usage: { input_tokens: INPUT_B, output_tokens: 0 }, hangAfterEvents: 1 });
    const stream = gw.anthropic().messages.stream(request());
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 402 });
    expect(up.requests.length - before).toBe(2);
    // The hedge's message_start went out to the gateway (its prompt is billed by Anthropic).
    expect(up.requests.at(-1)!.eventsSent).toBeGreaterThanOrEqual(1);
    const rows = await gw.ledger.query({ tenantId: 'acme' });
    const row = rows.find((r) => r.errorCode === 'budget_exceeded');
    expect(row).toBeDefined();
    expect(row!.inputTokens).toBe(INPUT_A + INPUT_B);
    expect(row!.costUsd).toBeCloseTo(promptA + promptB, 9);
    await stores.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
  });
});

describe('hedged stream whose first lane loses to the hedge after its message_start', () => {
  it("the answer's ledger row, the budget and the metrics have the loser's reported prompt at its deployment's price; the client's usage is the answer's", async () => {
    const stores = gw.harness.stores!;
    await stores.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
    const before = await stores.budgets.spent('acme', 'month');
    const metricsBefore = await (await get(gw.harness.gateway, '/metrics')).text();
    const claudeCost = (text: string) => metricSum(text, 'llm_cost_usd_total', /model="claude",tenant="acme"/);
    const count = up.requests.length;
    // claude: message_start (its prompt, billed by Anthropic), then nothing; the hedge on claude-b (at 40 ms) answers.
    up.enqueue({ content: 'never arrives', chunks: 2, usage: { input_tokens: INPUT_A, output_tokens: 0 }, hangAfterEvents: 1 });
    up.enqueue({ content: 'ok', usage: { input_tokens: INPUT_B, output_tokens: 2 } });
    const stream = gw.anthropic().messages.stream(request());
    let started: number | undefined;
    let delta: number | null | undefined;
    stream.on('streamEvent', (e) => {
      if (e.type === 'message_start') started = e.message.usage.input_tokens;
      if (e.type === 'message_delta') delta = e.usage.input_tokens;
    });
    expect(await stream.finalText()).toBe('ok');
    // The client is told the answer's prompt throughout (message_start, message_delta, the final message): the
    // loser's is billed, but no part of the answer.
    expect([started, delta, (await stream.finalMessage()).usage.input_tokens]).toEqual([INPUT_B, INPUT_B, INPUT_B]);
    expect(up.requests.length - count).toBe(2);
    expect(up.requests.at(-2)!.eventsSent).toBeGreaterThanOrEqual(1);
    const answer = (INPUT_B * PRICE_B.input + 2 * PRICE_B.output) / 1e6;
    const promptA = (INPUT_A * PRICE.input) / 1e6;
    const rows = await gw.ledger.query({ tenantId: 'acme' });
    const row = rows.find((r) => r.requestId === stream.request_id);
    expect(row).toMatchObject({ status: 'success', deployment: 'claude-b', inputTokens: INPUT_A + INPUT_B, outputTokens: 2 });
    expect(row!.costUsd).toBeCloseTo(answer + promptA, 9);
    const after = await stores.budgets.spent('acme', 'month');
    expect(after.spentUsd - before.spentUsd).toBeCloseTo(answer + promptA, 9);
    const metricsAfter = await (await get(gw.harness.gateway, '/metrics')).text();
    expect(claudeCost(metricsAfter) - claudeCost(metricsBefore)).toBeCloseTo(promptA, 9);
  });
});
