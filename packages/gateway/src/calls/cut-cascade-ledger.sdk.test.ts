/**
 * A streamed cascade (escalated, a verifier that pays for its judgement) that the client leaves
 * during the strong answer. The ledger row bills the weak step, the verifier and the strong step's partial answer, as
 * before the change (its `details.cascade.weak.cost` no longer holds the verifier's cost: `verifierCost` does), and the
 * router's events (what the cascade span is built from) say the same total. Official openai client, served gateway,
 * an OpenAI-wire upstream.
 */
import type { RouterEvents } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ledgerRow } from '../test-support/ledger-wait.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { leaveStreamAfter } from '../test-support/stalled-client.js';

const MAIN_PRICE = { input: 1, output: 2 };
const BIG_PRICE = { input: 10, output: 30 };
const JUDGE_USD = 0.000123;
const MAIN_USAGE = { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 };
const MAIN_USD = (20 * 1 + 10 * 2) / 1e6;

let up: OpenAIWireServer;
let gw: SdkGateway;
const ends = new Map<string, RouterEvents['request:end']>();
const cascadeEnds = new Map<string, RouterEvents['cascade:end']>();

beforeAll(async () => {
  up = await startOpenAIWireServer({
    script: (r) => {
      const body = r.body as { model?: string };
      if (body?.model === 'big-test') return { text: 'one two three four five six seven eight nine ten eleven twelve', chunks: 12, chunkDelayMs: 150, streamUsage: 'never' };
      return { text: 'weak answer', usage: MAIN_USAGE };
    },
  });
  gw = await servedGateway({
    models: [
      { name: 'main', engine: 'openai-compatible', baseURL: up.baseURL, apiKey: 'k', model: 'main-test', price: MAIN_PRICE },
      { name: 'big', engine: 'openai-compatible', baseURL: up.baseURL, apiKey: 'k', model: 'big-test', price: BIG_PRICE },
    ],
    routing: { retries: { max: 0 }, cascades: [{ name: 'casc', weak: 'main', strong: 'big', verifier: 'paying', threshold: 0.5 }] },
    routerOptions: { env: {}, verifiers: { paying: () => ({ score: 1, cost: { inputUsd: JUDGE_USD, outputUsd: 0, totalUsd: JUDGE_USD, estimated: false } }) } },
    upstreams: [up],
  });
  gw.harness.router.on('request:end', (e) => ends.set(e.requestId, e));
  gw.harness.router.on('cascade:end', (e) => cascadeEnds.set(e.requestId, e));
});
afterAll(async () => gw?.close());

describe('a cut cascade stream is billed as before', () => {
  it('the client leaves during the strong answer: the row = weak + verifier + the strong partial; the events say the same', async () => {
    const id = await leaveStreamAfter(gw, 'casc', 3);
    const row = await ledgerRow(gw, id);
    expect(row.status).not.toBe('success');
    const end = await vi.waitFor(() => {
      const e = cascadeEnds.get(id);
      if (!e) throw new Error('no cascade:end yet');
      return e;
    });
    const strongEnd = await vi.waitFor(() => {
      const e = ends.get(`${id}:strong`);
      if (!e) throw new Error('no strong request:end yet');
      return e;
    });
    const weakEnd = ends.get(`${id}:weak`)!;
    expect(weakEnd.result!.cost.totalUsd).toBeCloseTo(MAIN_USD, 12);
    const details = end.error!.details as { cascade: { weak: { cost: { totalUsd: number } }; verifierCost?: { totalUsd: number } } };
    // The new shape: the verifier apart; the two together are the old `weak.cost`.
    expect(details.cascade.weak.cost.totalUsd).toBeCloseTo(MAIN_USD, 12);
    expect(details.cascade.verifierCost?.totalUsd).toBeCloseTo(JUDGE_USD, 12);
    const strongUsd = strongEnd.spent!.cost.totalUsd;
    expect(strongUsd).toBeGreaterThan(0);
    // The ledger row: every call the request paid, as before the change.
    expect(row.costUsd).toBeCloseTo(MAIN_USD + JUDGE_USD + strongUsd, 12);
    expect([row.inputTokens, row.outputTokens]).toEqual([20 + strongEnd.spent!.usage.inputTokens, 10 + strongEnd.spent!.usage.outputTokens]);
  });
});
