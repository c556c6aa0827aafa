import type { AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from '../test-support/harness.js';
import { type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// The ledger of a /v1/messages stream whose Anthropic upstream broke after its message_start (which reports the
// prompt: input and prompt-cache writes) but before its first content: the provider bills that prompt, so the row has
// it, as for a stream that broke one delta later (docs/core/anthropic.md: a stream that breaks later keeps what its
// prompt cost). Core's router fails such an attempt over (or fails the stream) before anything reaches the gateway;
// its stream's `spent()` says what the failed attempts had reported, at their deployments' prices, and the gateway
// adds it to the bill of a stream that fails: a retry or a fallback after such a break is billed for both prompts.
// When the retry or the fallback then answers, the answer's result carries them too (core's `failedAttemptsCost` in its
// cost, `failedAttemptsUsage`): the success row, the metrics and the budget have every prompt the provider billed, and
// the client's own usage stays the answer's.

let claudeUp: AnthropicWireServer;
let gw: SdkGateway;
// USD per 1M tokens.
const PRICE = { input: 3, output: 15, cacheWrite: 3.75 };
const USAGE = { input_tokens: 100, output_tokens: 30, cache_creation_input_tokens: 4000 };

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: claudeUp } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude', { price: PRICE })]));
});
afterAll(() => gw?.close());

async function rowOf(requestId: string, on: SdkGateway = gw) {
  const rows = await on.ledger.query({ tenantId: 'acme' });
  return rows.find((r) => r.requestId === requestId);
}

async function streamThatBreaks(cutAfterEvents: number, on: SdkGateway = gw, upstream: AnthropicWireServer = claudeUp): Promise<string> {
  upstream.enqueue({ content: 'A long answer that never fully arrives', chunks: 4, usage: USAGE, cutAfterEvents });
  const stream = on.anthropic().messages.stream({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
  let requestId: string | undefined;
  const err = await stream.finalMessage().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  // Before the 200 the error body names the request; after it, the error event does.
  const body = (err as { error?: { error?: { request_id?: string } } }).error;
  requestId = body?.error?.request_id;
  expect(requestId).toMatch(/^req_/);
  return requestId!;
}

/** What the prompt of USAGE costs at `price` (USD per 1M tokens): 100 fresh input tokens and 4000 cache writes. */
function promptUsd(price: typeof PRICE): number {
  return (100 * price.input + 4000 * price.cacheWrite) / 1e6;
}

describe('/v1/messages stream broken after message_start: the prompt Anthropic reported is in the ledger', () => {
  it('broken before the first text delta (message_start, content_block_start, ping sent): the row has the prompt (4100 input, 4000 cache writes)', async () => {
    const id = await streamThatBreaks(3);
    const row = await rowOf(id);
    expect(row).toBeDefined();
    expect(row).toMatchObject({ status: 'error', inputTokens: 4100, outputTokens: 0, cacheWriteInputTokens: 4000, errorCode: 'stream_interrupted' });
    expect(row!.costUsd).toBeCloseTo(promptUsd(PRICE), 9);
  });

  it('broken one event later (after the first text delta): the row has the prompt (control)', async () => {
    const id = await streamThatBreaks(4);
    const row = await rowOf(id);
    expect(row).toMatchObject({ status: 'error', inputTokens: 4100, cacheWriteInputTokens: 4000 });
    expect(row!.costUsd).toBeGreaterThan(0);
  });
});

describe('the OpenAI routes over the same Anthropic upstream, broken before the first text delta: the row has the prompt', () => {
  async function lastRowOf(endpoint: string) {
    const rows = await gw.ledger.query({ tenantId: 'acme' });
    return rows.filter((r) => r.endpoint === endpoint).at(-1);
  }

  it('/v1/chat/completions', async () => {
    claudeUp.enqueue({ content: 'A long answer that never fully arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    const err = await (async () => {
      const stream = await gw.openai().chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'Hi' }] });
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const row = await lastRowOf('/v1/chat/completions');
    expect(row).toMatchObject({ status: 'error', inputTokens: 4100, cacheWriteInputTokens: 4000, errorCode: 'stream_interrupted' });
    expect(row!.costUsd).toBeCloseTo(promptUsd(PRICE), 9);
  });

  it('/v1/responses', async () => {
    claudeUp.enqueue({ content: 'A long answer that never fully arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    const err = await (async () => {
      const stream = await gw.openai().responses.create({ model: 'claude', stream: true, input: 'Hi' });
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const row = await lastRowOf('/v1/responses');
    expect(row).toMatchObject({ status: 'error', inputTokens: 4100, cacheWriteInputTokens: 4000, errorCode: 'stream_interrupted' });
    expect(row!.costUsd).toBeCloseTo(promptUsd(PRICE), 9);
  });
});

describe('a stream broken after message_start, then retried or fallen over: every prompt the provider billed is in the ledger', () => {
  let up: AnthropicWireServer;
  let gw2: SdkGateway;
  const PRICE_B = { input: 1, output: 5, cacheWrite: 1.25 };

  beforeAll(async () => {
    ({ gw: gw2, upstreams: { anthropic: up } } = await servedOverWireUpstreams(
      (u) => [wireDeployment(u, 'claude', { price: PRICE }), wireDeployment(u, 'claude', { name: 'claude-b', price: PRICE_B })],
      { routing: { retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 }, fallbacks: { claude: ['claude-b'] } } },
    ));
  });
  afterAll(() => gw2?.close());

  it('broken before content on claude (twice: the try and its retry), then on claude-b (twice): the row has the four prompts at their prices', async () => {
    for (let i = 0; i < 3; i++) up.enqueue({ content: 'A long answer that never fully arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    const id = await streamThatBreaks(3, gw2, up);
    const row = await rowOf(id, gw2);
    expect(up.requests.length).toBe(4);
    expect(row).toMatchObject({ status: 'error', inputTokens: 4 * 4100, outputTokens: 0, cacheWriteInputTokens: 4 * 4000 });
    expect(row!.costUsd).toBeCloseTo(2 * promptUsd(PRICE) + 2 * promptUsd(PRICE_B), 9);
  });

  it('broken before content on claude and its retry, then broken after its first text delta on claude-b: the row is claude-b\'s, with claude\'s prompts on top', async () => {
    const before = up.requests.length;
    up.enqueue({ content: 'A long answer that never fully arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    up.enqueue({ content: 'A long answer that never fully arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    const id = await streamThatBreaks(4, gw2, up);
    const row = await rowOf(id, gw2);
    expect(up.requests.length - before).toBe(3);
    expect(row).toMatchObject({ status: 'error', deployment: 'claude-b', inputTokens: 3 * 4100, cacheWriteInputTokens: 3 * 4000 });
    // claude-b's output is estimated from the text sent (a few tokens at its output price), on top of the three prompts.
    expect(row!.outputTokens).toBeGreaterThan(0);
    const prompts = 2 * promptUsd(PRICE) + promptUsd(PRICE_B);
    expect(row!.costUsd).toBeGreaterThan(prompts);
    expect(row!.costUsd).toBeLessThan(prompts + (100 * PRICE_B.output) / 1e6);
  });
});

describe('a stream broken after message_start whose retry or fallback answers: the answer is billed every prompt the provider billed', () => {
  let up: AnthropicWireServer;
  let gw2: SdkGateway;
  const PRICE_B = { input: 1, output: 5, cacheWrite: 1.25 };

  beforeAll(async () => {
    // (No circuit breaker: each test starts on claude, whatever the cuts before it.)
    ({ gw: gw2, upstreams: { anthropic: up } } = await servedOverWireUpstreams(
      (u) => [wireDeployment(u, 'claude', { price: PRICE }), wireDeployment(u, 'claude', { name: 'claude-b', price: PRICE_B })],
      { routing: { retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 }, fallbacks: { claude: ['claude-b'] }, circuitBreaker: { enabled: false } } },
    ));
  });
  afterAll(() => gw2?.close());

  /** A stream that answers; its request id (the gateway's), the client's final usage, message_start's, and the ledger row. */
  async function streamThatAnswers() {
    const stream = gw2.anthropic().messages.stream({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
    let started: unknown;
    stream.on('streamEvent', (e) => {
      // (A copy: the client's message snapshot, this object, takes message_delta's usage later.)
      if (e.type === 'message_start') started = structuredClone(e.message.usage);
    });
    const message = await stream.finalMessage();
    const { response } = await stream.withResponse();
    const id = response.headers.get('x-request-id')!;
    expect(id).toMatch(/^req_/);
    return { message, started, row: await rowOf(id, gw2) };
  }

  /** `llm_cost_usd_total` of tenant acme and `llm_tokens_total` input of `model`, from /metrics. */
  async function metrics(model: string): Promise<{ cost: number; input: number }> {
    const text = await (await get(gw2.harness.gateway, '/metrics')).text();
    const value = (re: RegExp) => text.split('\n').filter((l) => re.test(l)).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    return { cost: value(/^llm_cost_usd_total\{.*tenant="acme"/), input: value(new RegExp(`^llm_tokens_total\\{.*type="input".*model="${model}"|^llm_tokens_total\\{.*model="${model}".*type="input"`)) };
  }

  it('broken before content on claude, its retry answers: a success row with both prompts (cost and tokens), the metrics and the budget agree, the client\'s usage is the answer\'s', async () => {
    await gw2.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
    const spentBefore = (await gw2.harness.stores!.budgets.spent('acme', 'month')).spentUsd;
    const m0 = await metrics('claude');
    const before = up.requests.length;
    up.enqueue({ content: 'never arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    up.enqueue({ content: 'The answer', chunks: 2, usage: USAGE });
    const { message, started, row } = await streamThatAnswers();
    expect(up.requests.length - before).toBe(2);
    expect(message.usage).toMatchObject({ input_tokens: 100, output_tokens: 30, cache_creation_input_tokens: 4000 });
    // message_start tells the answer's prompt too, not the cut attempt's on top (billed, but no part of the answer).
    expect(started).toMatchObject({ input_tokens: 100, cache_creation_input_tokens: 4000 });
    expect(row).toMatchObject({ status: 'success', deployment: 'claude', inputTokens: 2 * 4100, outputTokens: 30, cacheWriteInputTokens: 2 * 4000 });
    const answerUsd = promptUsd(PRICE) + (30 * PRICE.output) / 1e6;
    expect(row!.costUsd).toBeCloseTo(promptUsd(PRICE) + answerUsd, 9);
    const m1 = await metrics('claude');
    expect(m1.cost - m0.cost).toBeCloseTo(row!.costUsd, 9);
    expect(m1.input - m0.input).toBe(2 * 4100);
    const budget = await gw2.harness.stores!.budgets.spent('acme', 'month');
    expect(budget.spentUsd - spentBefore).toBeCloseTo(row!.costUsd, 9);
    expect(budget.reservedUsd).toBe(0);
  });

  it('broken before content on claude and its retry, claude-b answers: the row is claude-b\'s success with claude\'s two prompts at claude\'s price', async () => {
    const before = up.requests.length;
    up.enqueue({ content: 'never arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    up.enqueue({ content: 'never arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    up.enqueue({ content: 'The answer', chunks: 2, usage: USAGE });
    const { message, started, row } = await streamThatAnswers();
    expect(up.requests.length - before).toBe(3);
    expect(message.usage).toMatchObject({ input_tokens: 100, output_tokens: 30 });
    expect(started).toMatchObject({ input_tokens: 100, cache_creation_input_tokens: 4000 });
    expect(row).toMatchObject({ status: 'success', deployment: 'claude-b', inputTokens: 3 * 4100, outputTokens: 30, cacheWriteInputTokens: 3 * 4000 });
    expect(row!.costUsd).toBeCloseTo(2 * promptUsd(PRICE) + promptUsd(PRICE_B) + (30 * PRICE_B.output) / 1e6, 9);
  });

  it('/v1/chat/completions over the same upstreams: the retry\'s answer is billed both prompts, as on /v1/messages', async () => {
    up.enqueue({ content: 'never arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    up.enqueue({ content: 'The answer', chunks: 2, usage: USAGE });
    const stream = await gw2.openai().chat.completions.create({ model: 'claude', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] });
    let prompt: number | undefined;
    for await (const chunk of stream) if (chunk.usage) prompt = chunk.usage.prompt_tokens;
    // The client's usage is the answer's own prompt (its cache writes counted in prompt_tokens).
    expect(prompt).toBe(4100);
    const rows = await gw2.ledger.query({ tenantId: 'acme' });
    const row = rows.filter((r) => r.endpoint === '/v1/chat/completions').at(-1);
    expect(row).toMatchObject({ status: 'success', inputTokens: 2 * 4100, cacheWriteInputTokens: 2 * 4000, outputTokens: 30 });
    expect(row!.costUsd).toBeCloseTo(2 * promptUsd(PRICE) + (30 * PRICE.output) / 1e6, 9);
  });
});
