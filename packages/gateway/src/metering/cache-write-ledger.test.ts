/**
 * Prompt-cache writes in the gateway's bookkeeping: a model whose engine reports cache reads and writes
 * (a mock standing in for Anthropic's usage: this is about what the gateway records, not the wire) leaves
 * them in the ledger row (real SQLite, in memory), in `/metrics`, and in the admin usage and invoice JSON.
 */
import { computeCost, type ModelPrice, type Usage, type UsageEntry } from '@llmrr/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FixedUsageEngine } from '../test-support/fixed-usage-engine.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

const ADMIN = 'admin-secret-for-tests-0123456789';
const PRICE: ModelPrice = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 };
// 100 fresh input tokens, 300 read from the cache, 600 written to it (100 of them for an hour).
const USAGE: Usage = { inputTokens: 1000, outputTokens: 20, totalTokens: 1020, cachedInputTokens: 300, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 100 };
const STRONG_USAGE: Usage = { inputTokens: 2000, outputTokens: 30, totalTokens: 2030, cacheWriteInputTokens: 1800, cacheWrite1hInputTokens: 1800 };
const QUESTION = 'Janet has 16 eggs. She eats 3 and bakes with 4. She sells the rest at $2 each. How many dollars does she make?';

function metric(text: string, line: RegExp): number {
  const found = text.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').at(-1)) : NaN;
}

describe('prompt-cache writes in the ledger, metrics and admin JSON', () => {
  let h: Harness;
  let secret: string;
  const admin = async <T>(path: string): Promise<T> => {
    const res = await h.gateway.fetch(new Request(`http://gateway.test${path}`, { headers: { authorization: `Bearer ${ADMIN}` } }));
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };
  const chat = async (body: Record<string, unknown>): Promise<string> => {
    const res = await post(h.gateway, '/v1/chat/completions', body, { authorization: `Bearer ${secret}` });
    expect(res.status).toBe(200);
    await res.text();
    return res.headers.get('x-request-id')!;
  };

  beforeEach(async () => {
    h = await createHarness({
      models: [
        mockModel('claude', {}, { price: PRICE, priority: 1 }),
        mockModel('weak', {}, { price: { input: 1, output: 2 }, priority: 2 }),
        mockModel('strong', {}, { price: PRICE, priority: 3 }),
        mockModel('broken', {}, { price: PRICE, priority: 4 }),
      ],
      routing: {
        cascades: [
          { name: 'math', weak: 'weak', strong: 'strong', verifier: 'arithmetic' },
          { name: 'math-broken', weak: 'weak', strong: 'broken', verifier: 'arithmetic' },
        ],
      },
      routerOptions: {
        engines: {
          claude: new FixedUsageEngine(USAGE, { modelId: 'claude-test', reply: 'Cached answer.' }),
          weak: new FixedUsageEngine(USAGE, { modelId: 'weak-test', reply: 'She makes 9 * 2 = 19 dollars.\n#### 19' }), // wrong: escalates
          strong: new FixedUsageEngine(STRONG_USAGE, { modelId: 'strong-test', reply: 'She makes 9 * 2 = 18 dollars.\n#### 18' }),
          broken: new FixedUsageEngine(STRONG_USAGE, { modelId: 'broken-test', failures: [{ code: 'provider_unavailable', times: 1000 }] }),
        },
      },
      stores: 'memory',
      gateway: { auth: { adminKey: ADMIN } },
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    secret = (await h.stores!.tenants.createKey('acme', { name: 'k' })).secret;
  });
  afterEach(() => h.close());

  it('records the cache reads, writes and 1-hour writes of a call and of a stream, at the cost the router computed', async () => {
    const plainId = await chat({ model: 'claude', messages: [{ role: 'user', content: 'hello' }] });
    const streamId = await chat({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'hello again' }] });
    for (const id of [plainId, streamId]) {
      const row = await h.stores!.ledger.get(id);
      expect(row).toMatchObject({ tenantId: 'acme', deployment: 'claude', status: 'success', inputTokens: 1000, outputTokens: 20, cachedInputTokens: 300, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 100 });
      expect(row!.costUsd).toBeCloseTo(computeCost(USAGE, PRICE).totalUsd, 9);
    }
    expect((await h.stores!.ledger.get(streamId))!.stream).toBe(true);
  });

  it('an escalated cascade records both calls: the weak and the strong cache writes summed', async () => {
    const id = await chat({ model: 'math', messages: [{ role: 'user', content: QUESTION }] });
    expect(await h.stores!.ledger.get(id)).toMatchObject({ inputTokens: 3000, outputTokens: 50, cachedInputTokens: 300, cacheWriteInputTokens: 2400, cacheWrite1hInputTokens: 1900 });
    const streamed = await chat({ model: 'math', stream: true, messages: [{ role: 'user', content: QUESTION }] });
    expect(await h.stores!.ledger.get(streamed)).toMatchObject({ inputTokens: 3000, cacheWriteInputTokens: 2400, cacheWrite1hInputTokens: 1900 });
  });

  it('a cascade whose strong step fails still records the weak call it paid for, cache writes included', async () => {
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'math-broken', messages: [{ role: 'user', content: QUESTION }] }, { authorization: `Bearer ${secret}` });
    expect(res.status).toBe(503);
    await res.text();
    const row = await h.stores!.ledger.get(res.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'error', errorCode: 'provider_unavailable', inputTokens: 1000, cachedInputTokens: 300, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 100 });
    expect(row!.costUsd).toBeCloseTo(computeCost(USAGE, { input: 1, output: 2 }).totalUsd, 9);
  });

  it('counts llm_tokens_total{type="cache_write"} beside the other token types', async () => {
    await chat({ model: 'claude', messages: [{ role: 'user', content: 'one' }] });
    await chat({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'two' }] });
    const text = await (await h.gateway.fetch(new Request('http://gateway.test/metrics'))).text();
    expect(metric(text, /^llm_tokens_total\{type="input",model="claude"\}/)).toBe(2000);
    expect(metric(text, /^llm_tokens_total\{type="output",model="claude"\}/)).toBe(40);
    expect(metric(text, /^llm_tokens_total\{type="cached_input",model="claude"\}/)).toBe(600);
    expect(metric(text, /^llm_tokens_total\{type="cache_write",model="claude"\}/)).toBe(1200);
    expect(text).toMatch(/^# HELP llm_tokens_total .*cache_write \(prompt-cache writes\)/m);
  });

  it('shows them in the admin usage summary, entries, entry and invoice', async () => {
    const id = await chat({ model: 'claude', messages: [{ role: 'user', content: 'one' }] });
    await chat({ model: 'claude', messages: [{ role: 'user', content: 'two' }] });
    const summary = await admin<Record<string, unknown> & { groups: Array<Record<string, unknown>> }>('/admin/usage?tenant=acme&groupBy=model');
    expect(summary).toMatchObject({ requests: 2, inputTokens: 2000, cachedInputTokens: 600, cacheWriteInputTokens: 1200, cacheWrite1hInputTokens: 200 });
    expect(summary.groups).toEqual([expect.objectContaining({ key: 'claude', cacheWriteInputTokens: 1200, cacheWrite1hInputTokens: 200 })]);
    const entries = await admin<{ data: UsageEntry[] }>('/admin/usage/entries?tenant=acme');
    expect(entries.data.map((e) => e.cacheWriteInputTokens)).toEqual([600, 600]);
    expect(await admin<UsageEntry>(`/admin/usage/${id}`)).toMatchObject({ cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 100 });
    const invoice = await admin<Record<string, unknown> & { lines: unknown[] }>('/admin/tenants/acme/invoice');
    expect(invoice).toMatchObject({ requests: 2, inputTokens: 2000, cachedInputTokens: 600, cacheWriteInputTokens: 1200, cacheWrite1hInputTokens: 200 });
    expect(invoice.lines).toEqual([
      expect.objectContaining({ model: 'claude', requests: 2, inputTokens: 2000, cachedInputTokens: 600, cacheWriteInputTokens: 1200, cacheWrite1hInputTokens: 200 }),
    ]);
  });
});
