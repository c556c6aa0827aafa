/**
 * The tokens of every upstream call the router makes for a request are the request's, as their cost is: a semantic
 * guard call (`verify`) that let a cached answer through or turned a match into a miss adds its input and output
 * tokens to the ledger row's `inputTokens` and `outputTokens`, to `llm_tokens_total` and to the tokens the tenant's
 * and key's tokens-per-minute limits are charged, on JSON and streamed answers, on calls that then failed, and on
 * both steps of a cascade. The tokens-per-minute estimate taken before the call bounds what is charged after it:
 * it counts the guard calls a lookup may make and, for a cascade, the prompt and the output of both steps. A custom
 * cascade verifier reports a cost and no tokens: its cost is charged, no tokens are made up for it. Real peers: a
 * local OpenAI-wire upstream that records every request, the official `openai` client against the gateway served
 * on a loopback port.
 */
import type { CascadeVerdict, GenerateRequest, RateAcquireOptions, RateScope } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireScript, type OpenAIWireServer, type RecordedRequest } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIG, BIG_USD, chatCallsOf, GUARD_EVERY_MATCH, guardedWireDeployments, JUDGE, JUDGE_USD, MAIN, MAIN_USD, modelOf } from '../test-support/guarded-wire-deployments.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

/** A question the guard says YES to (a semantic hit it lets through); it says NO to every other. */
const YES_QUESTION = 'how tall is mount everest exactly';
/** A prompt marker: the upstream then reports the most tokens the gateway assumes a prompt can be (one a byte) and `max_tokens` of output. */
const BOUND = 'tokenizer-bound';

let up: OpenAIWireServer;
let gw: SdkGateway;
let client: OpenAI;
let mainScript: OpenAIWireScript = {};
let bigScript: OpenAIWireScript = {};

const chatCalls = (model: string) => chatCallsOf(up, model);

/** One token a UTF-8 byte of the request's message texts, and its output cap: the usage of a `BOUND` prompt. */
function boundUsage(r: RecordedRequest): { prompt_tokens: number; completion_tokens: number } {
  const body = r.body as { messages: Array<{ content: string }>; max_tokens?: number; max_completion_tokens?: number };
  const bytes = body.messages.reduce((n, m) => n + Buffer.byteLength(m.content), 0);
  return { prompt_tokens: bytes, completion_tokens: body.max_tokens ?? body.max_completion_tokens ?? 0 };
}

/** Asks the judge model on the upstream (it says NO: score 1) and prices what it reported: the verdict with its cost, and its usage. */
async function judged(content: string): Promise<{ verdict: CascadeVerdict; usage: OpenAI.CompletionUsage }> {
  const judge = new OpenAI({ baseURL: up.baseURL, apiKey: 'k', maxRetries: 0 });
  const r = await judge.chat.completions.create({ model: 'judge-test', messages: [{ role: 'user', content }] });
  const u = r.usage!;
  const inputUsd = (u.prompt_tokens * JUDGE.price.input) / 1e6;
  const outputUsd = (u.completion_tokens * JUDGE.price.output) / 1e6;
  return { verdict: { score: 1, cost: { inputUsd, outputUsd, totalUsd: inputUsd + outputUsd, estimated: false } }, usage: u };
}

/** A custom verifier that pays for its judgement and says so by its cost only (no tokens). */
async function payingVerifier(): Promise<CascadeVerdict> {
  return (await judged('Is this answer right? NO')).verdict;
}

/**
 * What one judgement may use, declared on the verifier below: its own prompt (instructions) of 500 tokens plus the
 * question and twice the weak answer's bound, 2 tokens of output, at the judge's price.
 */
const JUDGE_BOUND = { promptTokens: 500, outputTokens: 2, price: JUDGE.price };

/**
 * A custom verifier that reports its judgement's tokens too (`{ score, cost, usage }`, as the judge reported them), and
 * declares its bound. The question is sent along (a `BOUND` question makes the judge use all of that bound).
 */
const countingVerifier = Object.assign(
  async (request: GenerateRequest): Promise<CascadeVerdict> => {
    const question = request.messages.at(-1)?.content;
    const { verdict, usage: u } = await judged(`Is this answer right? ${typeof question === 'string' ? question : ''}`);
    return { ...verdict, usage: { inputTokens: u.prompt_tokens, outputTokens: u.completion_tokens, totalTokens: u.prompt_tokens + u.completion_tokens } };
  },
  { bound: JUDGE_BOUND },
);

beforeAll(async () => {
  up = await startOpenAIWireServer({
    script: (r) => {
      if (r.url.endsWith('/embeddings')) return { embeddingDimensions: 16 };
      const model = modelOf(r);
      const text = JSON.stringify(r.body);
      if (model === 'judge-test') {
        // A judgement of a `BOUND` question uses all its declared bound: the question as the gateway bounds it (one token a
        // byte), the weak answer twice at its bound (max_tokens 100), the instructions, and all its output.
        if (text.includes(BOUND)) {
          const question = (r.body as { messages: Array<{ content: string }> }).messages[0]!.content.replace('Is this answer right? ', '');
          return { text: 'NO', usage: { prompt_tokens: JUDGE_BOUND.promptTokens + Buffer.byteLength(question) + 2 * 100, completion_tokens: JUDGE_BOUND.outputTokens } };
        }
        return { text: text.includes(`New question: ${YES_QUESTION}\\n`) ? 'YES' : 'NO', usage: JUDGE.usage };
      }
      if (text.includes(BOUND)) return { text: 'Bound.', usage: boundUsage(r) };
      if (model === 'big-test') return { text: 'Everest: 8,849 m.', usage: BIG.usage, ...bigScript };
      return { text: 'Mount Everest is 8,849 m tall.', usage: MAIN.usage, ...mainScript };
    },
  });
  gw = await servedGateway({
    models: guardedWireDeployments(up),
    routing: {
      cascades: [
        { name: 'main-then-big', weak: 'main', strong: 'big', verifier: 'always', threshold: 0.5 },
        { name: 'main-then-big-paying', weak: 'main', strong: 'big', verifier: 'paying', threshold: 0.5 },
        { name: 'main-then-big-weak', weak: 'main', strong: 'big', verifier: 'always', threshold: 0.5, onStrongFailure: 'weak' },
        { name: 'main-then-big-counting', weak: 'main', strong: 'big', verifier: 'counting', threshold: 0.5 },
      ],
    },
    routerOptions: { env: {}, verifiers: { always: () => 1, paying: payingVerifier, counting: countingVerifier } },
    // Every match below 0.999 goes to the guard: each question after the first pays a guard call.
    cache: GUARD_EVERY_MATCH,
    upstreams: [up],
  });
  // A tokens-per-minute limit far above what the tests use: the charges are watched, nothing is refused.
  await gw.harness.stores!.tenants.updateTenant('acme', { limits: { tpm: 10_000_000 } });
  client = gw.openai();
  // The first question fills the semantic cache (nothing to match yet: no guard call); so does the strong model's.
  await ask('how tall is mount everest');
  await ask('how tall is mount everest', 'big');
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

/** Records what the tokens-per-minute limiter is charged: the estimate at admission, the count the lease is released with. */
function watchTokens() {
  const limiter = gw.harness.stores!.rateLimiter;
  const acquire = limiter.acquire.bind(limiter);
  const seen: Array<{ estimated: number; released?: number }> = [];
  limiter.acquire = async (scopes: RateScope[], options: RateAcquireOptions) => {
    const decision = await acquire(scopes, options);
    if (decision.ok) {
      const entry: { estimated: number; released?: number } = { estimated: options.estimatedTokens };
      seen.push(entry);
      const release = decision.lease.release.bind(decision.lease);
      decision.lease.release = (actual?: number) => {
        entry.released = actual;
        return release(actual);
      };
    }
    return decision;
  };
  return {
    seen,
    restore() {
      limiter.acquire = acquire;
    },
  };
}

async function tokensMetric(type: 'input' | 'output', model: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`llm_tokens_total{type="${type}",model="${model}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function watched<T>(run: () => Promise<T>): Promise<{ value: T; charge: { estimated: number; released?: number } }> {
  const w = watchTokens();
  try {
    const value = await run();
    expect(w.seen).toHaveLength(1);
    return { value, charge: w.seen[0]! };
  } finally {
    w.restore();
  }
}

describe('a semantic guard call\u2019s tokens are the request\u2019s', () => {
  it('JSON, guard said NO: the row, llm_tokens_total and the tpm charge hold the model call\u2019s and the guard call\u2019s tokens, within the estimate', async () => {
    const judgeBefore = chatCalls('judge-test');
    const metricBefore = { input: await tokensMetric('input', 'main'), output: await tokensMetric('output', 'main') };
    const { value: r, charge } = await watched(() => ask('how tall is mount everest today'));
    expect({ judge: chatCalls('judge-test') - judgeBefore, cache: r.response.headers.get('x-llmrr-cache') }).toEqual({ judge: 1, cache: 'miss' });
    const input = MAIN.usage.prompt_tokens + JUDGE.usage.prompt_tokens;
    const output = MAIN.usage.completion_tokens + JUDGE.usage.completion_tokens;
    const row = await gw.ledger.get(r.response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'success', deployment: 'main', cacheHit: false, inputTokens: input, outputTokens: output });
    expect(row!.costUsd).toBeCloseTo(MAIN_USD + JUDGE_USD, 12);
    // The client's usage is the answer's (what the model was asked and said).
    expect(r.data.usage).toMatchObject({ prompt_tokens: MAIN.usage.prompt_tokens, completion_tokens: MAIN.usage.completion_tokens });
    expect({ input: (await tokensMetric('input', 'main')) - metricBefore.input, output: (await tokensMetric('output', 'main')) - metricBefore.output }).toEqual({ input, output });
    expect(charge.released).toBe(input + output);
    expect(charge.estimated).toBeGreaterThanOrEqual(input + output);
  });

  it('streamed, guard said NO: the row and the tpm charge hold both calls\u2019 tokens', async () => {
    const { value, charge } = await watched(async () => {
      const { data, response } = await client.chat.completions.create({ model: 'main', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'how tall is mount everest now' }] }).withResponse();
      let text = '';
      for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
      return { text, response };
    });
    expect(value.text).toBe('Mount Everest is 8,849 m tall.');
    const input = MAIN.usage.prompt_tokens + JUDGE.usage.prompt_tokens;
    const output = MAIN.usage.completion_tokens + JUDGE.usage.completion_tokens;
    const row = await gw.ledger.get(value.response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'success', stream: true, inputTokens: input, outputTokens: output });
    expect(charge.released).toBe(input + output);
    expect(charge.estimated).toBeGreaterThanOrEqual(input + output);
  });

  it('a semantic hit the guard let through (JSON and streamed): the row holds the cached answer\u2019s tokens and the guard call\u2019s; llm_tokens_total the guard call\u2019s only', async () => {
    for (const stream of [false, true]) {
      const judgeBefore = chatCalls('judge-test');
      const mainBefore = chatCalls('gpt-test');
      const metricBefore = { input: await tokensMetric('input', 'main'), output: await tokensMetric('output', 'main') };
      const { value: res, charge } = await watched(async () => {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'main', max_tokens: 100, stream, messages: [{ role: 'user', content: YES_QUESTION }] }),
        });
        await res.text();
        return res;
      });
      expect({ stream, cache: res.headers.get('x-llmrr-cache'), judge: chatCalls('judge-test') - judgeBefore, main: chatCalls('gpt-test') - mainBefore }).toEqual({ stream, cache: 'hit-semantic', judge: 1, main: 0 });
      const input = MAIN.usage.prompt_tokens + JUDGE.usage.prompt_tokens;
      const output = MAIN.usage.completion_tokens + JUDGE.usage.completion_tokens;
      const row = await gw.ledger.get(res.headers.get('x-request-id')!);
      expect(row).toMatchObject({ status: 'success', stream, cacheHit: true, inputTokens: input, outputTokens: output });
      expect(row!.costUsd).toBeCloseTo(JUDGE_USD, 12);
      expect(charge.released).toBe(input + output);
      // The providers billed the guard call only (the answer's call was billed when it was cached), under the request's model.
      expect({ input: (await tokensMetric('input', 'main')) - metricBefore.input, output: (await tokensMetric('output', 'main')) - metricBefore.output }).toEqual({
        input: JUDGE.usage.prompt_tokens,
        output: JUDGE.usage.completion_tokens,
      });
    }
  });

  it('a call that fails after the guard call (JSON and streamed): the row and the tpm charge hold the guard call\u2019s tokens', async () => {
    mainScript = { error: { status: 400, message: 'bad request upstream', type: 'invalid_request_error' } };
    for (const stream of [false, true]) {
      const { value: res, charge } = await watched(async () => {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'main', max_tokens: 100, stream, messages: [{ role: 'user', content: `how tall is mount everest in ${stream ? 'feet' : 'meters'}` }] }),
        });
        const body = await res.text();
        expect(res.ok, body).toBe(false);
        return res;
      });
      const row = await gw.ledger.get(res.headers.get('x-request-id')!);
      expect(row).toMatchObject({ status: 'error', stream, inputTokens: JUDGE.usage.prompt_tokens, outputTokens: JUDGE.usage.completion_tokens });
      expect(row!.costUsd).toBeCloseTo(JUDGE_USD, 12);
      expect(charge.released).toBe(JUDGE.usage.prompt_tokens + JUDGE.usage.completion_tokens);
    }
  });
});

describe('a cascade\u2019s tokens', () => {
  it('both steps\u2019 lookups said NO: the row and the tpm charge hold both steps and both guard calls, within an estimate that counts them', async () => {
    const judgeBefore = chatCalls('judge-test');
    const { value: r, charge } = await watched(() => ask('how tall is mount everest please', 'main-then-big'));
    expect({ cascade: r.response.headers.get('x-llmrr-cascade'), judge: chatCalls('judge-test') - judgeBefore }).toEqual({ cascade: 'escalated', judge: 2 });
    const input = MAIN.usage.prompt_tokens + BIG.usage.prompt_tokens + 2 * JUDGE.usage.prompt_tokens;
    const output = MAIN.usage.completion_tokens + BIG.usage.completion_tokens + 2 * JUDGE.usage.completion_tokens;
    const row = await gw.ledger.get(r.response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'success', inputTokens: input, outputTokens: output });
    expect(row!.costUsd).toBeCloseTo(MAIN_USD + BIG_USD + 2 * JUDGE_USD, 12);
    expect(charge.released).toBe(input + output);
    expect(charge.estimated).toBeGreaterThanOrEqual(input + output);
  });

  it('the strong step fails after both lookups paid a guard call (JSON and streamed, either policy): the row holds the weak step\u2019s tokens and both guard calls\u2019', async () => {
    bigScript = { error: { status: 400, message: 'strong refused', type: 'invalid_request_error' } };
    const cases = [
      { model: 'main-then-big', stream: false },
      { model: 'main-then-big', stream: true },
      { model: 'main-then-big-weak', stream: false },
      { model: 'main-then-big-weak', stream: true },
    ];
    for (const [i, { model, stream }] of cases.entries()) {
      const judgeBefore = chatCalls('judge-test');
      const { value: res, charge } = await watched(async () => {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model, max_tokens: 100, stream, messages: [{ role: 'user', content: `how tall is mount everest, case ${i}` }] }),
        });
        await res.text();
        return res;
      });
      expect({ model, stream, judge: chatCalls('judge-test') - judgeBefore }).toEqual({ model, stream, judge: 2 });
      const input = MAIN.usage.prompt_tokens + 2 * JUDGE.usage.prompt_tokens;
      const output = MAIN.usage.completion_tokens + 2 * JUDGE.usage.completion_tokens;
      const row = await gw.ledger.get(res.headers.get('x-request-id')!);
      // The error policy (the default) fails the request; the weak policy answers with the weak answer.
      expect({ model, stream, status: row!.status, inputTokens: row!.inputTokens, outputTokens: row!.outputTokens }).toEqual({
        model,
        stream,
        status: model === 'main-then-big' ? 'error' : 'success',
        inputTokens: input,
        outputTokens: output,
      });
      expect(row!.costUsd).toBeCloseTo(MAIN_USD + 2 * JUDGE_USD, 12);
      expect(charge.released).toBe(input + output);
    }
  });

  it('the tpm estimate counts the prompt and the output of both steps: a prompt at the bound the gateway assumes, sent to two models, stays within it', async () => {
    // Each step reports one token a byte of the prompt (the most the gateway's estimate assumes of one call) and max_tokens.
    const content = `${BOUND} ${'word '.repeat(400)}`;
    const { value: r, charge } = await watched(() =>
      client.chat.completions
        .create({ model: 'main-then-big', max_tokens: 100, messages: [{ role: 'user', content }], llmrr: { cache: false } } as OpenAI.ChatCompletionCreateParamsNonStreaming)
        .withResponse(),
    );
    expect(r.response.headers.get('x-llmrr-cascade')).toBe('escalated');
    const step = Buffer.byteLength(content) + 100;
    const row = await gw.ledger.get(r.response.headers.get('x-request-id')!);
    expect(row!.inputTokens + row!.outputTokens).toBe(2 * step);
    expect(charge.released).toBe(2 * step);
    expect(charge.estimated).toBeGreaterThanOrEqual(2 * step);
  });

  it('a custom verifier reports its cost, not its tokens: the cost is charged, the row\u2019s tokens are the steps\u2019 (none made up)', async () => {
    const judgeBefore = chatCalls('judge-test');
    const { value: r, charge } = await watched(() =>
      client.chat.completions
        .create({ model: 'main-then-big-paying', max_tokens: 100, messages: [{ role: 'user', content: 'zzzz qqqq xxxx 1234567890' }], llmrr: { cache: false } } as OpenAI.ChatCompletionCreateParamsNonStreaming)
        .withResponse(),
    );
    expect({ cascade: r.response.headers.get('x-llmrr-cascade'), judge: chatCalls('judge-test') - judgeBefore }).toEqual({ cascade: 'escalated', judge: 1 });
    const input = MAIN.usage.prompt_tokens + BIG.usage.prompt_tokens;
    const output = MAIN.usage.completion_tokens + BIG.usage.completion_tokens;
    const row = await gw.ledger.get(r.response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'success', inputTokens: input, outputTokens: output });
    expect(row!.costUsd).toBeCloseTo(MAIN_USD + BIG_USD + JUDGE_USD, 12);
    expect(charge.released).toBe(input + output);
  });
});

describe('a custom verifier that reports its tokens (`{ score, cost, usage }`) and declares its bound', () => {
  /** A chat completion on the counting cascade, JSON or streamed, outside the semantic cache; the response once read. */
  async function askCounting(content: string, stream: boolean): Promise<Response> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'main-then-big-counting', max_tokens: 100, stream, llmrr: { cache: false }, messages: [{ role: 'user', content }] }),
    });
    await res.text();
    return res;
  }

  it('escalated (JSON and streamed): the row, llm_tokens_total and the tpm charge hold the judgement\u2019s tokens beside the steps\u2019, within the estimate', async () => {
    for (const stream of [false, true]) {
      const judgeBefore = chatCalls('judge-test');
      const metricBefore = { input: await tokensMetric('input', 'big'), output: await tokensMetric('output', 'big'), weakInput: await tokensMetric('input', 'main'), weakOutput: await tokensMetric('output', 'main') };
      const { value: res, charge } = await watched(() => askCounting(`zzzz qqqq counted ${stream}`, stream));
      expect({ stream, status: res.status, judge: chatCalls('judge-test') - judgeBefore }).toEqual({ stream, status: 200, judge: 1 });
      const input = MAIN.usage.prompt_tokens + BIG.usage.prompt_tokens + JUDGE.usage.prompt_tokens;
      const output = MAIN.usage.completion_tokens + BIG.usage.completion_tokens + JUDGE.usage.completion_tokens;
      const row = await gw.ledger.get(res.headers.get('x-request-id')!);
      expect(row).toMatchObject({ status: 'success', stream, deployment: 'big', inputTokens: input, outputTokens: output });
      expect(row!.costUsd).toBeCloseTo(MAIN_USD + BIG_USD + JUDGE_USD, 12);
      // The weak step's tokens count under its own deployment; the strong step's and the judgement's under the one that answered.
      expect({
        input: (await tokensMetric('input', 'big')) - metricBefore.input,
        output: (await tokensMetric('output', 'big')) - metricBefore.output,
        weakInput: (await tokensMetric('input', 'main')) - metricBefore.weakInput,
        weakOutput: (await tokensMetric('output', 'main')) - metricBefore.weakOutput,
      }).toEqual({ input: input - MAIN.usage.prompt_tokens, output: output - MAIN.usage.completion_tokens, weakInput: MAIN.usage.prompt_tokens, weakOutput: MAIN.usage.completion_tokens });
      expect(charge.released).toBe(input + output);
      expect(charge.estimated).toBeGreaterThanOrEqual(input + output);
    }
  });

  it('the strong step fails (policy error, JSON and streamed): the row and the tpm charge hold the weak step\u2019s tokens and the judgement\u2019s', async () => {
    bigScript = { error: { status: 400, message: 'strong refused', type: 'invalid_request_error' } };
    for (const stream of [false, true]) {
      const { value: res, charge } = await watched(() => askCounting(`zzzz qqqq refused ${stream}`, stream));
      expect(res.ok).toBe(false);
      const input = MAIN.usage.prompt_tokens + JUDGE.usage.prompt_tokens;
      const output = MAIN.usage.completion_tokens + JUDGE.usage.completion_tokens;
      const row = await gw.ledger.get(res.headers.get('x-request-id')!);
      expect({ stream, status: row!.status, inputTokens: row!.inputTokens, outputTokens: row!.outputTokens }).toEqual({ stream, status: 'error', inputTokens: input, outputTokens: output });
      expect(row!.costUsd).toBeCloseTo(MAIN_USD + JUDGE_USD, 12);
      expect(charge.released).toBe(input + output);
    }
  });

  it('the tpm estimate counts the declared bound: both steps and a judgement at the bounds the gateway assumes stay within it', async () => {
    // Each step reports one token a byte of the prompt and max_tokens; the judge all its declared bound for that question.
    const content = `${BOUND} ${'word '.repeat(400)}`;
    const { value: res, charge } = await watched(() => askCounting(content, false));
    expect(res.headers.get('x-llmrr-cascade')).toBe('escalated');
    const step = Buffer.byteLength(content) + 100;
    const judgement = JUDGE_BOUND.promptTokens + Buffer.byteLength(content) + 2 * 100 + JUDGE_BOUND.outputTokens;
    const row = await gw.ledger.get(res.headers.get('x-request-id')!);
    expect(row!.inputTokens + row!.outputTokens).toBe(2 * step + judgement);
    expect(charge.released).toBe(2 * step + judgement);
    expect(charge.estimated).toBeGreaterThanOrEqual(2 * step + judgement);
  });
});
