/**
 * A ledger write that fails (the usage store is down) turns an answered call into an error for the client: a 500
 * `internal` for a JSON answer, the error frame instead of the finish for a stream (README, "Ledger"). The write is
 * tried once more before that (the ledger is idempotent by request id). The 500 says `x-should-retry: false`: the call
 * was answered, paid and charged to the budget, and the official OpenAI and Anthropic clients (default `maxRetries: 2`)
 * would otherwise send it upstream, and pay for it, twice more. `/metrics` counts what the client was answered with,
 * `internal`, not a success, and adds neither the call's cost nor its tokens, which no invoice has:
 * `llm_cost_usd_total` keeps adding up to the invoices (README, "Metrics"). The same on every model route (JSON
 * answers), and a stream's row is written once more too. A router cache hit that called no provider is the plain
 * retryable 500 instead (nothing was paid, a retry costs nothing): the client's retry is answered from the cache.
 * Real gateway over node:http, the official openai and @anthropic-ai/sdk clients, a local OpenAI-wire upstream,
 * in-memory (SQLite) stores.
 */
import Anthropic from '@anthropic-ai/sdk';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInput } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let upstream: OpenAIWireServer;
let gw: SdkGateway;
const models = (): ModelInput[] => [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming', 'embeddings'] }];
beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: { text: 'the answer', usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } } });
  gw = await servedGateway({ models: models(), upstreams: [upstream] });
  await gw.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'total' } });
});
afterAll(async () => gw?.close());

/** `name{labels} value` lines of one metric whose labels match, summed. */
async function metricSum(name: string, labels: RegExp): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && labels.test(l))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** Runs `fn` while every ledger write of `on` (default the gateway's) fails (or only the first `failures` writes). */
async function withLedgerDown<T>(fn: () => Promise<T>, failures = Infinity, on: SdkGateway = gw): Promise<T> {
  const ledger = on.ledger;
  const record = ledger.record;
  let failed = 0;
  ledger.record = (entry) => (failed++ < failures ? Promise.reject(new Error('could not extend file: No space left on device')) : record.call(ledger, entry));
  try {
    return await fn();
  } finally {
    ledger.record = record;
  }
}

/** What a call of the official client made with its default retries (`maxRetries: 2`) ended with. */
async function outcome(call: () => Promise<unknown>): Promise<{ status: number | undefined; shouldRetry: string | null }> {
  try {
    await call();
    return { status: 200, shouldRetry: null };
  } catch (e) {
    return { status: (e as { status?: number }).status, shouldRetry: (e as { headers?: Headers }).headers?.get('x-should-retry') ?? null };
  }
}

const messages = [{ role: 'user' as const, content: 'hi' }];

describe('metrics of calls whose ledger row could not be written', () => {
  it('llm_requests_total counts the error the client was answered with, not success (JSON and stream)', async () => {
    const errors = await withLedgerDown(async () => {
      const seen: unknown[] = [];
      try {
        await gw.openai().chat.completions.create({ model: 'gpt', messages });
      } catch (e) {
        seen.push(e);
      }
      try {
        const stream = await gw.openai().chat.completions.create({ model: 'gpt', messages, stream: true });
        for await (const _ of stream);
      } catch (e) {
        seen.push(e);
      }
      return seen;
    });
    // Both clients were told the call failed (500 internal; the stream's error frame).
    expect(errors).toHaveLength(2);
    expect(errors.every((e) => e instanceof APIError)).toBe(true);
    expect((errors[0] as APIError).status).toBe(500);
    // ...so an operator's error rate must show them; it shows two successes instead.
    expect({
      success: await metricSum('llm_requests_total', /status="success",tenant="acme"/),
      internal: await metricSum('llm_requests_total', /status="internal",tenant="acme"/),
    }).toEqual({ success: 0, internal: 2 });
  });

  it('llm_cost_usd_total of the tenant adds up to its invoice, and llm_tokens_total leaves the unrecorded call out', async () => {
    const invoiced = async () => (await gw.ledger.invoice('acme', 0, Date.now() + 60_000)).totalUsd;
    const [cost0, invoice0] = [await metricSum('llm_cost_usd_total', /tenant="acme"/), await invoiced()];
    const tokens0 = await metricSum('llm_tokens_total', /type="output",model="gpt"/);
    // One call recorded, one whose row could not be written (its client got a 500).
    await gw.openai().chat.completions.create({ model: 'gpt', messages });
    await withLedgerDown(() => gw.openai().chat.completions.create({ model: 'gpt', messages }).catch((e: unknown) => e));
    const [cost1, invoice1] = [await metricSum('llm_cost_usd_total', /tenant="acme"/), await invoiced()];
    expect(invoice1 - invoice0).toBeGreaterThan(0);
    expect(cost1 - cost0).toBeCloseTo(invoice1 - invoice0, 9);
    // Its tokens are left out too: the one recorded call's 500 output tokens.
    expect(await metricSum('llm_tokens_total', /type="output",model="gpt"/)).toBe(tokens0 + 500);
  });

  it('a paid failure whose row could not be written counts its own error code, without its cost', async () => {
    // A stream cut after its first content: a failure the client is told about, paid for what it made.
    upstream.setScript({ text: 'one two three four five six', cutAfterChunks: 3, usage: null });
    const statuses = async () => ({
      success: await metricSum('llm_requests_total', /status="success",tenant="acme"/),
      internal: await metricSum('llm_requests_total', /status="internal",tenant="acme"/),
      all: await metricSum('llm_requests_total', /tenant="acme"/),
    });
    const broken = async () => {
      const stream = await gw.openai().chat.completions.create({ model: 'gpt', messages, stream: true });
      await expect((async () => { for await (const _ of stream); })()).rejects.toBeInstanceOf(APIError);
    };
    try {
      const invoiced = async () => (await gw.ledger.invoice('acme', 0, Date.now() + 60_000)).totalUsd;
      // Recorded: its estimated cost is in the invoice and the cost counter alike.
      const [cost0, invoice0] = [await metricSum('llm_cost_usd_total', /tenant="acme"/), await invoiced()];
      await broken();
      const [cost1, invoice1] = [await metricSum('llm_cost_usd_total', /tenant="acme"/), await invoiced()];
      expect(invoice1 - invoice0).toBeGreaterThan(0);
      expect(cost1 - cost0).toBeCloseTo(invoice1 - invoice0, 9);
      // Not recorded: the client got the stream's own error (not `internal`), and the counter adds no cost.
      const before = await statuses();
      await withLedgerDown(broken);
      const after = await statuses();
      expect({ success: after.success - before.success, internal: after.internal - before.internal, all: after.all - before.all }).toEqual({ success: 0, internal: 0, all: 1 });
      expect(await metricSum('llm_cost_usd_total', /tenant="acme"/)).toBeCloseTo(cost1, 9);
      expect(await invoiced()).toBeCloseTo(invoice1, 9);
    } finally {
      upstream.setScript({ text: 'the answer', usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } });
    }
  });
});

describe('an answered call whose ledger row could not be written', () => {
  it('is sent upstream once by the official openai client (default retries), and charged once', async () => {
    const before = upstream.requests.length;
    const spent0 = (await gw.harness.stores!.budgets.spent('acme', 'total')).spentUsd;
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret }); // default maxRetries: 2
    const got = await withLedgerDown(() => outcome(() => client.chat.completions.create({ model: 'gpt', messages }, { timeout: 10_000 })));
    const spent = (await gw.harness.stores!.budgets.spent('acme', 'total')).spentUsd - spent0;
    expect({ ...got, upstreamCalls: upstream.requests.length - before, budgetCharged: Math.round(spent * 1e6) / 1e6 }).toEqual({
      status: 500,
      shouldRetry: 'false',
      upstreamCalls: 1,
      budgetCharged: 0.002,
    });
  });

  it('is sent upstream once by the official Anthropic client (default retries)', async () => {
    const before = upstream.requests.length;
    const client = new Anthropic({ baseURL: gw.url, apiKey: gw.secret }); // default maxRetries: 2
    const got = await withLedgerDown(() => outcome(() => client.messages.create({ model: 'gpt', max_tokens: 600, messages }, { timeout: 10_000 })));
    expect({ ...got, upstreamCalls: upstream.requests.length - before }).toEqual({ status: 500, shouldRetry: 'false', upstreamCalls: 1 });
  });

  it('is sent upstream once by the official openai client on /v1/embeddings (default retries)', async () => {
    const before = upstream.requests.length;
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret }); // default maxRetries: 2
    const got = await withLedgerDown(() => outcome(() => client.embeddings.create({ model: 'gpt', input: 'hello' }, { timeout: 10_000 })));
    expect({ ...got, upstreamCalls: upstream.requests.length - before }).toEqual({ status: 500, shouldRetry: 'false', upstreamCalls: 1 });
  });

  it('is answered, and recorded, when only the first write fails (written once more)', async () => {
    const res = await withLedgerDown(() => gw.openai().chat.completions.create({ model: 'gpt', messages }).withResponse(), 1);
    expect(res.data.choices[0]?.message.content).toBe('the answer');
    const row = await gw.ledger.get(res.request_id!);
    expect({ status: row?.status, outputTokens: row?.outputTokens }).toEqual({ status: 'success', outputTokens: 500 });
  });

  const post = (path: string, body: unknown) => () =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.secret}` }, body: JSON.stringify(body) });
  for (const [path, call] of [
    ['/v1/responses', post('/v1/responses', { model: 'gpt', input: 'hi' })],
    ['/v1/completions', post('/v1/completions', { model: 'gpt', prompt: 'hi' })],
    ['/api/quick', post('/api/quick', { model: 'gpt', prompt: 'hi' })],
    ['/api/chat', post('/api/chat', { model: 'gpt', messages })],
  ] as const) {
    it(`is a 500 with x-should-retry: false on ${path} too`, async () => {
      const ok = await call();
      await ok.text();
      const res = await withLedgerDown(call);
      await res.text();
      expect({ okStatus: ok.status, status: res.status, shouldRetry: res.headers.get('x-should-retry') }).toEqual({ okStatus: 200, status: 500, shouldRetry: 'false' });
    });
  }

  it('is sent upstream once by the official openai client on /v1/responses (default retries)', async () => {
    const before = upstream.requests.length;
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret }); // default maxRetries: 2
    const got = await withLedgerDown(() => outcome(() => client.responses.create({ model: 'gpt', input: 'hi' }, { timeout: 10_000 })));
    expect({ ...got, upstreamCalls: upstream.requests.length - before }).toEqual({ status: 500, shouldRetry: 'false', upstreamCalls: 1 });
  });

  it('streamed, is answered and recorded when only the first write fails (written once more, no error frame)', async () => {
    const { text, requestId } = await withLedgerDown(async () => {
      const r = await gw.openai().chat.completions.create({ model: 'gpt', messages, stream: true }).withResponse();
      let text = '';
      for await (const c of r.data) text += c.choices[0]?.delta.content ?? '';
      return { text, requestId: r.response.headers.get('x-request-id')! };
    }, 1);
    expect(text).toBe('the answer');
    expect((await gw.ledger.get(requestId))?.status).toBe('success');
  });
});

describe('a router cache hit whose ledger row could not be written', () => {
  // The same deployment, behind a gateway with the exact cache (the other tests send the same question again).
  let cached: SdkGateway;
  beforeAll(async () => {
    cached = await servedGateway({ models: models(), cache: { exact: { enabled: true } } });
  });
  afterAll(async () => cached?.close());

  it('is the plain retryable 500 (no provider was called), and the retry of the official client is answered from the cache', async () => {
    const question = { model: 'gpt', messages: [{ role: 'user' as const, content: 'a question asked twice' }] };
    await cached.openai().chat.completions.create(question);
    const before = upstream.requests.length;
    const res = await withLedgerDown(
      () => fetch(`${cached.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${cached.secret}` }, body: JSON.stringify(question) }),
      Infinity,
      cached,
    );
    const body = (await res.json()) as { error?: { type?: string; message?: string } };
    expect({ status: res.status, shouldRetry: res.headers.get('x-should-retry'), type: body.error?.type }).toEqual({ status: 500, shouldRetry: null, type: 'api_error' });
    // Not "after the provider accepted the request ... may be billed": no provider was called.
    expect(body.error?.message).not.toMatch(/provider|billed/);
    // The official client (default retries) tries again: its first try and the write once more fail, the retry is answered.
    const client = new OpenAI({ baseURL: `${cached.url}/v1`, apiKey: cached.secret }); // default maxRetries: 2
    const answer = await withLedgerDown(() => client.chat.completions.create(question, { timeout: 10_000 }).withResponse(), 2, cached);
    expect(answer.data.choices[0]?.message.content).toBe('the answer');
    expect((await cached.ledger.get(answer.request_id!))?.status).toBe('success');
    expect(upstream.requests.length - before).toBe(0);
  });
});
