/**
 * The rate-limit headers of a 402 `budget_exceeded` raised mid-call, when the budget reservation could not be extended
 * before a retry (a stream whose first attempt broke after the Anthropic wire upstream reported its prompt): the call
 * held its place under the limits across its attempts and gives it back (the billed prompt charged, the rest of its
 * token estimate refunded) before the 402 is sent, so the headers say what is left then, as the limiter says it (not
 * the numbers its admission read: its concurrency place taken, its whole estimate charged).
 */
import type { AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateInputTokens } from './estimate.js';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

const PRICE = { input: 3, output: 15 };
const PROMPT = 'hello there '.repeat(1500);
// (tpm: a token a millisecond back, so the numbers read before and after the call bound the reply's.)
const LIMITS = { rpm: 100, tpm: 60_000, maxConcurrency: 1 };
const SCOPE = [{ kind: 'tenant' as const, id: 'acme', limits: LIMITS }];

let up: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: up } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude', { price: PRICE })], {
    routing: { retries: { max: 3, initialDelayMs: 1, maxDelayMs: 1 }, circuitBreaker: { enabled: false } },
  }));
  await gw.harness.stores!.tenants.updateTenant('acme', { limits: LIMITS });
});
afterAll(() => gw?.close());

const reportedInput = (): number => Math.floor(0.6 * estimateInputTokens({ messages: [{ role: 'user', content: PROMPT }] }));

describe('a 402 raised while extending the budget reservation mid-call', () => {
  it('carries the rate-limit numbers once the call gave its place back (its slot free, the billed prompt charged)', async () => {
    const stores = gw.harness.stores!;
    const reserves: number[] = [];
    const reserve = stores.budgets.reserve.bind(stores.budgets);
    stores.budgets.reserve = (r) => {
      reserves.push(r.estimateUsd);
      return reserve(r);
    };
    await stores.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
    const usage = { input_tokens: reportedInput(), output_tokens: 0 };
    // One call's reservation, measured (a call whose first attempt breaks, answered by its retry).
    up.enqueue({ content: 'never arrives', chunks: 2, usage, cutAfterEvents: 3 });
    const first = await streamed();
    expect(first.status).toBe(200);
    await first.text();
    const oneCallUsd = reserves[0]!;
    const promptUsd = (reportedInput() * PRICE.input) / 1e6;
    const now = await stores.budgets.spent('acme', 'month');
    // Room for the call's reservation and half of a billed prompt more: the retry's extension is refused.
    await stores.tenants.updateTenant('acme', { budget: { amountUsd: now.spentUsd + oneCallUsd + promptUsd / 2, period: 'month' } });

    up.enqueue({ content: 'never arrives', chunks: 2, usage, cutAfterEvents: 3 });
    const before = (await stores.rateLimiter.peek(SCOPE)).remainingTokens!;
    const refused = await streamed();
    const body = (await refused.json()) as { error: { type: string } };
    expect({ status: refused.status, type: body.error.type }).toEqual({ status: 402, type: 'billing_error' });
    const after = (await stores.rateLimiter.peek(SCOPE)).remainingTokens!;
    const tokens = Number(refused.headers.get('x-ratelimit-remaining-tokens'));
    // Its slot free again; its tokens: what was left before it, less the billed prompt only (plus what flowed back
    // meanwhile), at most what is left after it. The admission's numbers had its whole estimate charged (its bound on
    // the prompt, 1/0.6 of the billed one, and max_tokens): below `before - billed` unless the call took over a second.
    expect(refused.headers.get('x-ratelimit-remaining-concurrency')).toBe('1');
    expect(tokens).toBeGreaterThanOrEqual(before - reportedInput());
    expect(tokens).toBeLessThanOrEqual(after);
  });
});

/** The long prompt streamed over the gateway's Anthropic route (raw fetch: the reply's headers are read). */
function streamed(): Promise<Response> {
  return fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': gw.secret, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude', max_tokens: 1, stream: true, messages: [{ role: 'user', content: PROMPT }] }),
  });
}
