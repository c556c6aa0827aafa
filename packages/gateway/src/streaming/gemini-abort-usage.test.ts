/**
 * What a streamed call the client abandons is charged for its prompt. Gemini puts `usageMetadata` (with
 * `promptTokenCount`) on every chunk, so the prompt's real count is known from the first chunk on, as
 * Anthropic's is from `message_start`: the ledger row keeps that count (calls/partial-usage.ts) instead of an
 * estimate of the request's text, and estimates only the output. Gemini's chunks before the last may carry no
 * `cachedContentTokenCount` (the wire server's carry only the prompt and total counts): the prompt is then
 * priced as uncached input, the share read from the cache being unknown before the last chunk.
 */
import { startAnthropicWireServer, startGeminiWireServer, type AnthropicWireServer, type GeminiWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, post, type Harness } from '../test-support/harness.js';

const PRICE = { input: 10, cachedInput: 1, output: 10 };
const TEXT = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');

let gemini: GeminiWireServer;
let anthropic: AnthropicWireServer;
let h: Harness;

beforeAll(async () => {
  gemini = await startGeminiWireServer({
    apiKey: 'gm-up',
    replies: Array.from({ length: 4 }, () => ({ parts: TEXT, chunks: 20, delayMs: 40, usage: { promptTokenCount: 50_000, cachedContentTokenCount: 40_000, candidatesTokenCount: 60 } })),
  });
  anthropic = await startAnthropicWireServer({
    apiKey: 'sk-ant-up',
    replies: [{ content: TEXT, chunks: 20, delayMs: 40, usage: { input_tokens: 10_000, cache_read_input_tokens: 40_000, output_tokens: 60 } }],
  });
  h = await createHarness({
    stores: 'memory',
    routerOptions: { env: {} },
    models: [
      { name: 'gem', engine: 'gemini', model: 'gemini-wire-1', baseURL: gemini.url, apiKey: 'gm-up', price: PRICE },
      { name: 'claude', engine: 'anthropic', model: 'claude-wire-1', baseURL: anthropic.url, apiKey: 'sk-ant-up', price: PRICE },
    ],
    gateway: { auth: { demoTenantId: 'demo' } },
  });
  await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo', budget: { amountUsd: 100, period: 'month' } });
});

afterAll(async () => {
  await h?.close();
  await gemini?.close();
  await anthropic?.close();
});

async function rowOf(id: string) {
  for (let i = 0; i < 200; i++) {
    const e = await h.stores!.ledger.get(id);
    if (e) return e;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ledger row for ${id}`);
}

describe('an abandoned stream is charged for the prompt the provider reported', () => {
  it('records the prompt count Gemini reported, not an estimate of the request text', async () => {
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'gem', stream: true, messages: [{ role: 'user', content: 'hello there' }] });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    for (let i = 0; i < 4; i++) await reader.read();
    await reader.cancel();
    const row = await rowOf(res.headers.get('x-request-id')!);
    expect(row.status).toBe('aborted');
    // Gemini counted a 50 000-token prompt; the 40 000 cache reads come only with the last chunk, never sent.
    expect({ inputTokens: row.inputTokens, cachedInputTokens: row.cachedInputTokens }).toEqual({ inputTokens: 50_000, cachedInputTokens: 0 });
    // Input alone, all as uncached: 50 000 x $10/M = $0.50 (plus the estimated output).
    expect(row.costUsd).toBeGreaterThanOrEqual(0.5);
    expect(row.costUsd).toBeLessThan(0.51);
  });

  it('the same abandoned stream from Anthropic keeps the reported prompt and its cache reads (message_start usage)', async () => {
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'claude', stream: true, messages: [{ role: 'user', content: 'hello there' }] });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    for (let i = 0; i < 4; i++) await reader.read();
    await reader.cancel();
    const row = await rowOf(res.headers.get('x-request-id')!);
    expect(row.status).toBe('aborted');
    expect({ inputTokens: row.inputTokens, cachedInputTokens: row.cachedInputTokens }).toEqual({ inputTokens: 50_000, cachedInputTokens: 40_000 });
    expect(row.costUsd).toBeGreaterThanOrEqual(0.14);
  });
});
