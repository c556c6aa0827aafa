/**
 * Every completed upstream call the router makes for a request is the request's spend: a semantic guard call
 * that turned a match into a miss (`verify` said NO) before the model answered, and a custom cascade verifier
 * that paid for its judgement (`{ score, cost }`), are in `x-llmrr-cost-usd`, `llmrr.cost_usd`, the ledger row and
 * the tenant's budget, on JSON and streamed answers and on calls that then failed; the budget reservation made
 * before the call bounds what is settled. Real peers: a local OpenAI-wire upstream that records every request, the
 * official `openai` client against the gateway served on a loopback port.
 */
import type { BudgetReserveRequest } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireScript, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIG, BIG_USD, chatCallsOf, GUARD_EVERY_MATCH, guardedWireDeployments, JUDGE, JUDGE_USD, MAIN, MAIN_USD, modelOf } from '../test-support/guarded-wire-deployments.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let up: OpenAIWireServer;
let gw: SdkGateway;
let client: OpenAI;
/** What the main and the big model's upstream do next (an error, to make a call fail after a paid call). */
let mainScript: OpenAIWireScript = {};
let bigScript: OpenAIWireScript = {};

const chatCalls = (model: string) => chatCallsOf(up, model);

/**
 * What one judgement of the `bounded` verifier (the paying one, declaring its bound) may use: 500 tokens of its own
 * prompt plus the question and twice the weak answer's bound, 2 tokens of output, at the judge's price.
 */
const JUDGE_BOUND = { promptTokens: 500, outputTokens: 2, price: JUDGE.price };

/** A custom verifier that pays for its judgement: it asks the judge model on the upstream and prices its usage. */
async function payingVerifier(): Promise<{ score: number; cost: { inputUsd: number; outputUsd: number; totalUsd: number; estimated: boolean } }> {
  const judge = new OpenAI({ baseURL: up.baseURL, apiKey: 'k', maxRetries: 0 });
  const r = await judge.chat.completions.create({ model: 'judge-test', messages: [{ role: 'user', content: 'Is this answer right? NO' }] });
  const u = r.usage!;
  const inputUsd = (u.prompt_tokens * JUDGE.price.input) / 1e6;
  const outputUsd = (u.completion_tokens * JUDGE.price.output) / 1e6;
  return { score: r.choices[0]!.message.content === 'NO' ? 1 : 0, cost: { inputUsd, outputUsd, totalUsd: inputUsd + outputUsd, estimated: false } };
}

beforeAll(async () => {
  up = await startOpenAIWireServer({
    script: (r) => {
      if (r.url.endsWith('/embeddings')) return { embeddingDimensions: 16 };
      const model = modelOf(r);
      if (model === 'judge-test') return { text: 'NO', usage: JUDGE.usage };
      if (model === 'big-test') return { text: 'Everest: 8,849 m.', usage: BIG.usage, ...bigScript };
      return { text: 'Mount Everest is 8,849 m tall.', usage: MAIN.usage, ...mainScript };
    },
  });
  gw = await servedGateway({
    models: guardedWireDeployments(up),
    routing: {
      cascades: [
        { name: 'main-then-big', weak: 'main', strong: 'big', verifier: 'paying', threshold: 0.5, onStrongFailure: 'error' },
        { name: 'main-then-big-free', weak: 'main', strong: 'big', verifier: 'always', threshold: 0.5 },
        { name: 'main-then-big-bounded', weak: 'main', strong: 'big', verifier: 'bounded', threshold: 0.5 },
      ],
    },
    routerOptions: { env: {}, verifiers: { paying: payingVerifier, always: () => 1, bounded: Object.assign(() => payingVerifier(), { bound: JUDGE_BOUND }) } },
    // Every match below 0.999 goes to the guard, which says NO: each question after the first is a paid miss.
    cache: GUARD_EVERY_MATCH,
    upstreams: [up],
  });
  await gw.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
  client = gw.openai();
  // The first question fills the semantic cache (nothing to match yet: no guard call).
  const first = await ask('how tall is mount everest');
  expect(first.response.headers.get('x-llmrr-cache')).toBe('miss');
  expect(chatCalls('judge-test')).toBe(0);
});
afterAll(async () => {
  await gw?.close();
});
beforeEach(() => {
  mainScript = {};
  bigScript = {};
});

function ask(content: string, model = 'main') {
  return client.chat.completions.create({ model, max_tokens: 100, messages: [{ role: 'user', content }] }).withResponse();
}

async function spentUsd(): Promise<number> {
  return (await gw.harness.stores!.budgets.spent('acme', 'month')).spentUsd;
}

/** Records the budget reservations and settlements the gateway makes (by reservation id). */
function watchBudget() {
  const budgets = gw.harness.stores!.budgets;
  const reserve = budgets.reserve.bind(budgets);
  const settle = budgets.settle.bind(budgets);
  const seen: Array<{ id: string; reservedUsd: number; settledUsd?: number }> = [];
  budgets.reserve = (r: BudgetReserveRequest) => {
    seen.push({ id: r.reservationId, reservedUsd: r.estimateUsd });
    return reserve(r);
  };
  budgets.settle = (id: string, amount: number) => {
    const s = seen.find((x) => x.id === id);
    if (s) s.settledUsd = amount;
    return settle(id, amount);
  };
  return {
    seen,
    restore() {
      budgets.reserve = reserve;
      budgets.settle = settle;
    },
  };
}

describe('a semantic guard call that said NO is the request\u2019s spend', () => {
  it('JSON: the header, the body, the ledger row and the budget hold the model call and the guard call, within the reservation', async () => {
    const judgeBefore = chatCalls('judge-test');
    const mainBefore = chatCalls('gpt-test');
    const spentBefore = await spentUsd();
    const budget = watchBudget();
    let r: Awaited<ReturnType<typeof ask>>;
    try {
      r = await ask('how tall is mount everest today');
    } finally {
      budget.restore();
    }
    // One guard call (NO), then the model answered: two upstream calls for this request.
    expect({ judge: chatCalls('judge-test') - judgeBefore, main: chatCalls('gpt-test') - mainBefore }).toEqual({ judge: 1, main: 1 });
    expect(r.response.headers.get('x-llmrr-cache')).toBe('miss');
    const total = MAIN_USD + JUDGE_USD;
    expect(Number(r.response.headers.get('x-llmrr-cost-usd'))).toBeCloseTo(total, 8);
    expect((r.data as unknown as { llmrr: { cost_usd: number } }).llmrr.cost_usd).toBeCloseTo(total, 12);
    const row = await gw.ledger.get(r.response.headers.get('x-request-id')!);
    // Its tokens are both calls' too (see auxiliary-spend.tokens.sdk.test.ts).
    expect(row).toMatchObject({ tenantId: 'acme', status: 'success', deployment: 'main', cacheHit: false, inputTokens: 100 + 450, outputTokens: 50 + 1 });
    expect(row!.costUsd).toBeCloseTo(total, 12);
    expect((await spentUsd()) - spentBefore).toBeCloseTo(total, 9);
    // The reservation made before the call bounded what was settled.
    expect(budget.seen).toHaveLength(1);
    expect(budget.seen[0]!.settledUsd).toBeCloseTo(total, 9);
    expect(budget.seen[0]!.settledUsd!).toBeLessThanOrEqual(budget.seen[0]!.reservedUsd);
  });

  it('streamed: the ledger row and the budget hold the model call and the guard call', async () => {
    const judgeBefore = chatCalls('judge-test');
    const spentBefore = await spentUsd();
    const { data, response } = await client.chat.completions.create({ model: 'main', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'how tall is mount everest now' }] }).withResponse();
    let text = '';
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Mount Everest is 8,849 m tall.');
    expect(chatCalls('judge-test') - judgeBefore).toBe(1);
    const row = await gw.ledger.get(response.headers.get('x-request-id')!);
    const total = MAIN_USD + JUDGE_USD;
    expect(row).toMatchObject({ status: 'success', stream: true, deployment: 'main' });
    expect(row!.costUsd).toBeCloseTo(total, 12);
    expect((await spentUsd()) - spentBefore).toBeCloseTo(total, 9);
  });

  it('a call that fails after the guard call is charged the guard call (JSON and streamed)', async () => {
    mainScript = { error: { status: 400, message: 'bad request upstream', type: 'invalid_request_error' } };
    for (const stream of [false, true]) {
      const judgeBefore = chatCalls('judge-test');
      const mainBefore = chatCalls('gpt-test');
      const spentBefore = await spentUsd();
      const question = stream ? 'how tall is mount everest in feet' : 'how tall is mount everest in meters';
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'main', max_tokens: 100, stream, messages: [{ role: 'user', content: question }] }),
      });
      const body = await res.text();
      expect(res.ok, body).toBe(false);
      expect({ stream, judge: chatCalls('judge-test') - judgeBefore, main: chatCalls('gpt-test') - mainBefore }).toEqual({ stream, judge: 1, main: 1 });
      const row = await gw.ledger.get(res.headers.get('x-request-id')!);
      expect(row).toMatchObject({ status: 'error', stream });
      expect(row!.costUsd).toBeCloseTo(JUDGE_USD, 12);
      expect((await spentUsd()) - spentBefore).toBeCloseTo(JUDGE_USD, 9);
    }
  });
});

describe('a cascade pays a guard call in each step', () => {
  it('both steps\u2019 lookups said NO: the row holds both steps and both guard calls, within a reservation that priced two guard calls', async () => {
    // The strong model's own cache scope gets an entry to match (the weak one's has them already).
    await ask('how tall is mount everest', 'big');
    const judgeBefore = chatCalls('judge-test');
    const spentBefore = await spentUsd();
    const budget = watchBudget();
    let r: Awaited<ReturnType<typeof ask>>;
    try {
      r = await ask('how tall is mount everest please', 'main-then-big-free');
    } finally {
      budget.restore();
    }
    expect(r.response.headers.get('x-llmrr-cascade')).toBe('escalated');
    expect(chatCalls('judge-test') - judgeBefore).toBe(2);
    const total = MAIN_USD + BIG_USD + 2 * JUDGE_USD;
    expect(Number(r.response.headers.get('x-llmrr-cost-usd'))).toBeCloseTo(total, 8);
    const row = await gw.ledger.get(r.response.headers.get('x-request-id')!);
    expect(row!.costUsd).toBeCloseTo(total, 12);
    expect((await spentUsd()) - spentBefore).toBeCloseTo(total, 9);
    expect(budget.seen).toHaveLength(1);
    expect(budget.seen[0]!.settledUsd).toBeCloseTo(total, 9);
    expect(budget.seen[0]!.settledUsd!).toBeLessThanOrEqual(budget.seen[0]!.reservedUsd);
  });
});

describe('a cascade verifier that reports its cost is the request\u2019s spend', () => {
  it('escalated: weak step, verifier call and strong step in the header, the ledger row and the budget', async () => {
    const judgeBefore = chatCalls('judge-test');
    const spentBefore = await spentUsd();
    // (The steps read the semantic cache too: a question of its own, far from the cached ones, is a plain miss.)
    const r = await client.chat.completions
      .create({ model: 'main-then-big', max_tokens: 100, messages: [{ role: 'user', content: 'zzzz qqqq xxxx 1234567890' }], llmrr: { cache: false } } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    expect(r.response.headers.get('x-llmrr-cascade')).toBe('escalated');
    // The verifier's own call, no guard call.
    expect(chatCalls('judge-test') - judgeBefore).toBe(1);
    const total = MAIN_USD + JUDGE_USD + BIG_USD;
    expect(Number(r.response.headers.get('x-llmrr-cost-usd'))).toBeCloseTo(total, 8);
    const row = await gw.ledger.get(r.response.headers.get('x-request-id')!);
    expect(row!.costUsd).toBeCloseTo(total, 12);
    expect((await spentUsd()) - spentBefore).toBeCloseTo(total, 9);
  });

  it('a strong step that fails (policy error) is charged the weak step and the verifier call (JSON and streamed)', async () => {
    for (const stream of [false, true]) {
      const spentBefore = await spentUsd();
      // The strong step's upstream refuses: the weak step and the verifier were paid.
      bigScript = { error: { status: 400, message: 'strong refused', type: 'invalid_request_error' } };
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'main-then-big', max_tokens: 100, stream, llmrr: { cache: false }, messages: [{ role: 'user', content: `zzzz qqqq ${stream}` }] }),
      });
      const body = await res.text();
      expect(res.ok, body).toBe(false);
      const row = await gw.ledger.get(res.headers.get('x-request-id')!);
      expect(row).toMatchObject({ status: 'error', stream });
      expect(row!.costUsd).toBeCloseTo(MAIN_USD + JUDGE_USD, 12);
      expect((await spentUsd()) - spentBefore).toBeCloseTo(MAIN_USD + JUDGE_USD, 9);
    }
  });
});

describe('a custom verifier that declares its bound is reserved', () => {
  it('the reservation adds one judgement at the declared bound to the cascade\u2019s (control: the same cascade with a free verifier), and bounds what is settled', async () => {
    const content = 'zzzz qqqq bounded';
    const reserved: Record<string, { reservedUsd: number; settledUsd?: number }> = {};
    for (const model of ['main-then-big-free', 'main-then-big-bounded']) {
      const budget = watchBudget();
      try {
        const r = await client.chat.completions
          .create({ model, max_tokens: 100, messages: [{ role: 'user', content }], llmrr: { cache: false } } as OpenAI.ChatCompletionCreateParamsNonStreaming)
          .withResponse();
        expect(r.response.headers.get('x-llmrr-cascade')).toBe('escalated');
      } finally {
        budget.restore();
      }
      expect(budget.seen).toHaveLength(1);
      reserved[model] = budget.seen[0]!;
    }
    // The judgement's prompt bound: 500 + the prompt bound (8 framing tokens and one a byte of the text) + 2 x 100.
    const prompt = JUDGE_BOUND.promptTokens + 8 + Buffer.byteLength(content) + 2 * 100;
    const judgementUsd = (prompt * JUDGE.price.input + JUDGE_BOUND.outputTokens * JUDGE.price.output) / 1e6;
    expect(reserved['main-then-big-bounded']!.reservedUsd - reserved['main-then-big-free']!.reservedUsd).toBeCloseTo(judgementUsd, 9);
    // What the bounded call settled (both steps and the judgement) is within what it reserved.
    expect(reserved['main-then-big-bounded']!.settledUsd).toBeCloseTo(MAIN_USD + BIG_USD + JUDGE_USD, 9);
    expect(reserved['main-then-big-bounded']!.settledUsd!).toBeLessThanOrEqual(reserved['main-then-big-bounded']!.reservedUsd);
  });
});
