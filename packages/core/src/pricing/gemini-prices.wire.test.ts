import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLMRouter } from '../router/llm-router.js';
import { startGeminiWireServer, type GeminiWireServer } from '../test/gemini-wire-server.js';

// The Gemini rows added from public copies of Google's pricing page (see price-table.ts): a call over the Gemini wire
// format is priced by them (not `estimated` at 0 as before), the 3.x Pro rows with their above-200k tier.
let gemini: GeminiWireServer;
const routers: LLMRouter[] = [];
beforeAll(async () => {
  gemini = await startGeminiWireServer({ apiKey: 'g-key' });
});
afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
  await gemini.close();
});

function routerFor(model: string): LLMRouter {
  const r = new LLMRouter({ models: [{ name: 'gem', engine: 'gemini', model, baseURL: gemini.url, apiKey: 'g-key' }], routing: { retries: { max: 0 } } });
  routers.push(r);
  return r;
}

describe('Gemini prices over the wire', () => {
  it.each([
    ['gemini-2.5-flash-lite', 1_000, 100, 1_000 * 0.1e-6, 100 * 0.4e-6],
    ['gemini-3.1-pro-preview', 1_000, 100, 1_000 * 2e-6, 100 * 12e-6],
    ['gemini-3.1-pro-preview', 250_000, 100, 250_000 * 4e-6, 100 * 18e-6],
    ['gemini-3-pro-preview', 200_000, 100, 200_000 * 2e-6, 100 * 12e-6],
    ['gemini-3-pro-preview', 200_001, 100, 200_001 * 4e-6, 100 * 18e-6],
  ])('%s, %i prompt tokens: priced from the table', async (model, prompt, candidates, inputUsd, outputUsd) => {
    gemini.enqueue({ parts: 'fine', usage: { promptTokenCount: prompt, candidatesTokenCount: candidates } });
    const r = await routerFor(model).generate('hello');
    expect(r.usage).toMatchObject({ inputTokens: prompt, outputTokens: candidates });
    expect(r.cost.estimated).toBe(false);
    expect(r.cost.inputUsd).toBeCloseTo(inputUsd, 12);
    expect(r.cost.outputUsd).toBeCloseTo(outputUsd, 12);
  });

  it('gemini-embedding-001: input tokens at $0.15 per 1M (counted by us: batchEmbedContents reports none)', async () => {
    const r = await routerFor('gemini-embedding-001').embed(['one two three', 'four five']);
    expect(r.embeddings).toHaveLength(2);
    expect(r.usage.estimated).toBe(true);
    expect(r.usage.inputTokens).toBeGreaterThan(0);
    expect(r.cost.inputUsd).toBeCloseTo(r.usage.inputTokens * 0.15e-6, 15);
    expect(r.cost.outputUsd).toBe(0);
  });
});
