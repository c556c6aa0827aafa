/**
 * A ledger write that fails (the usage store is down) turns an answered call into an error for the client: a 500
 * `internal` for a JSON answer, the error frame instead of the finish for a stream (README, "Ledger"). `/metrics`
 * counts what the client was answered with, `internal`, not a success, and adds neither the call's cost nor its
 * tokens, which no invoice has: `llm_cost_usd_total` keeps adding up to the invoices (README, "Metrics").
 * Real gateway over node:http, the official openai client, a local OpenAI-wire upstream, in-memory (SQLite) stores.
 */
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let upstream: OpenAIWireServer;
let gw: SdkGateway;
beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: { text: 'the answer', usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } } });
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming'] }],
    upstreams: [upstream],
  });
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

/** Runs `fn` while every ledger write fails. */
async function withLedgerDown<T>(fn: () => Promise<T>): Promise<T> {
  const ledger = gw.ledger;
  const record = ledger.record;
  ledger.record = () => Promise.reject(new Error('database is down'));
  try {
    return await fn();
  } finally {
    ledger.record = record;
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
