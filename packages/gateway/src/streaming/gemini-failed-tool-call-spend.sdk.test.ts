/**
 * What a call whose Gemini attempts failed their tool calls (HTTP 200, `MALFORMED_FUNCTION_CALL`: Gemini billed the
 * prompt) is billed, beside other spend of the same call: a semantic guard call its lookup paid (the guard said NO)
 * before the attempts, whatever shape the last upstream's error body has (an object, a JSON list: a proxy's); a cascade
 * whose weak step paid a guard call and then failed every attempt, JSON or streamed; hedged lanes that each failed so;
 * a client that leaves while the retry after such an attempt runs; a cascade whose custom verifier's own call (a judge
 * on Gemini) failed so, JSON or streamed, or whose client left while the judge retried such a call. Each billed attempt is in the call's ledger row once. Official openai client against the served gateway, local OpenAI-wire (main, judge, embedder) and Gemini-wire
 * upstreams.
 */
import { LLMRouter, type CascadeVerifier } from '@llmrr/core';
import { startGeminiWireServer, startOpenAIWireServer, type GeminiWireServer, type OpenAIWireScript, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GUARD_EVERY_MATCH, guardedWireDeployments, JUDGE, JUDGE_USD, MAIN, modelOf } from '../test-support/guarded-wire-deployments.js';
import { ledgerRow } from '../test-support/ledger-wait.js';
import { metricSum } from '../test-support/metrics-text.js';
import { servedGateway, type SdkGateway, type SdkGatewayOptions } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import type { WireUpstreams } from '../test-support/wire-upstreams.js';

/** The prompt tokens Gemini reports (and bills) for each failed tool call; at $1 per 1M tokens, `ATTEMPT_USD`. */
const PROMPT = 1000;
const ATTEMPT_USD = PROMPT / 1e6;
const GEM_PRICE = { price: { input: 1, output: 1 } };
const malformed = (delayMs = 0) => ({ parts: [], finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: 'Malformed function call', usage: { promptTokenCount: PROMPT, candidatesTokenCount: 0 }, delayMs });
const TOOLS: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

/** What a client call threw (an `APIError`), failing the test when it answered. */
async function apiError(call: () => Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const e = await call().then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(OpenAI.APIError);
  return e as InstanceType<typeof OpenAI.APIError>;
}

/**
 * A served gateway over the guarded OpenAI-wire deployments (main, judge, embedder: `guardedWireDeployments`, every
 * semantic match asked to the judge, which says NO) and `gem` (Gemini-wire, $1 per 1M tokens), `routing` its own;
 * the semantic cache holds an answer under `gem` to "how tall is mount everest", so a later question about the
 * mountain is a match the guard call (paid) turns down.
 */
/**
 * Sends a call whose first Gemini attempt fails its tool call (billed) and whose retry Gemini holds, leaves once the
 * retry is at Gemini, and returns the abandoned call's ledger row (the one row of `model` written since).
 */
async function leaveDuringHeldRetry(up: WireUpstreams, gw: SdkGateway, model: string, stream: boolean, content: string) {
  const sent = up.gemini.requests.length;
  const before = new Set((await gw.ledger.query({ model })).map((x) => x.requestId));
  up.gemini.enqueue(malformed());
  up.gemini.enqueue({ hang: true });
  const abort = new AbortController();
  const settled = gw
    .openai()
    .chat.completions.create({ model, messages: [{ role: 'user', content }], stream }, { signal: abort.signal, maxRetries: 0 })
    .withResponse()
    .then(async ({ data }) => {
      if (Symbol.asyncIterator in data) for await (const _ of data);
    })
    .catch((e: unknown) => e);
  // The retry is at Gemini (held): the first attempt was answered, and billed.
  await vi.waitFor(() => expect(up.gemini.requests.length - sent).toBe(2), { timeout: 10_000, interval: 20 });
  abort.abort();
  await settled;
  return vi.waitFor(
    async () => {
      const found = (await gw.ledger.query({ model })).filter((x) => !before.has(x.requestId));
      expect(found).toHaveLength(1);
      expect(found[0]!.stream).toBe(stream);
      return found[0]!;
    },
    { timeout: 10_000, interval: 50 },
  );
}

async function guardedGemini(routing: SdkGatewayOptions['routing'], more: Partial<SdkGatewayOptions> = {}) {
  const ctx = { mainScript: {} as OpenAIWireScript } as { up: OpenAIWireServer; gem: GeminiWireServer; gw: SdkGateway; mainScript: OpenAIWireScript };
  ctx.up = await startOpenAIWireServer({
    script: (r) => {
      if (r.url.endsWith('/embeddings')) return { embeddingDimensions: 16 };
      if (modelOf(r) === 'judge-test') return { text: 'NO', usage: JUDGE.usage };
      return { text: 'Mount Everest is 8,849 m tall.', usage: MAIN.usage, streamUsage: 'always', ...ctx.mainScript };
    },
  });
  ctx.gem = await startGeminiWireServer({ apiKey: 'gk' });
  ctx.gw = await servedGateway({
    models: [...guardedWireDeployments(ctx.up), { name: 'gem', engine: 'gemini', baseURL: ctx.gem.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities: ['chat', 'streaming'], ...GEM_PRICE }],
    routing,
    cache: GUARD_EVERY_MATCH,
    upstreams: [ctx.up, ctx.gem],
    ...more,
  });
  await ctx.gw.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
  ctx.gem.enqueue({ parts: 'Mount Everest is 8,849 m tall.', usage: { promptTokenCount: 10, candidatesTokenCount: 10 } });
  await ctx.gw.openai().chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: 'how tall is mount everest' }] });
  return ctx;
}

const judgeCalls = (up: OpenAIWireServer) => up.requests.filter((r) => r.url.endsWith('/chat/completions') && modelOf(r) === 'judge-test').length;

describe('a guard call, then a billed Gemini attempt, then a fallback refused with an error body of any shape', () => {
  let g: Awaited<ReturnType<typeof guardedGemini>>;
  beforeAll(async () => {
    g = await guardedGemini({ strategy: 'priority', retries: { max: 0 }, fallbacks: { gem: ['main'] } });
  });
  afterAll(async () => g?.gw.close());

  for (const [label, body, question] of [
    ['an object', { error: { message: 'bad request upstream', type: 'invalid_request_error' } }, 'how tall is mount everest in meters'],
    ['a JSON list', [{ message: 'bad request upstream' }], 'how tall is mount everest in feet'],
  ] as const) {
    it(`body ${label}: the failed call's row holds the guard call and the Gemini attempt`, async () => {
      g.mainScript = { error: { status: 400, body } };
      const judges = judgeCalls(g.up);
      const sent = g.gem.requests.length;
      g.gem.enqueue(malformed());
      const e = await apiError(() => g.gw.openai().chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: question }] }));
      expect(e.status).toBe(400);
      expect(judgeCalls(g.up) - judges).toBe(1);
      expect(g.gem.requests.length - sent).toBe(1);
      const r = await ledgerRow(g.gw, e.requestID!);
      expect(r).toMatchObject({ status: 'error', inputTokens: JUDGE.usage.prompt_tokens + PROMPT });
      expect(r.costUsd).toBeCloseTo(JUDGE_USD + ATTEMPT_USD, 12);
    });
  }
});

describe("a cascade whose weak step (Gemini) paid a guard call, then had every attempt fail its tool call", () => {
  let g: Awaited<ReturnType<typeof guardedGemini>>;
  beforeAll(async () => {
    g = await guardedGemini(
      { strategy: 'priority', retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 }, cascades: [{ name: 'gem-first', weak: 'gem', strong: 'main', verifier: 'accept', threshold: 0.5 }] },
      { routerOptions: { env: {}, verifiers: { accept: () => 0.1 } } },
    );
  });
  afterAll(async () => g?.gw.close());

  for (const stream of [false, true]) {
    it(`${stream ? 'streamed' : 'JSON'}: the failed call's row holds the guard call and both Gemini attempts`, async () => {
      const judges = judgeCalls(g.up);
      const sent = g.gem.requests.length;
      g.gem.enqueue(malformed());
      g.gem.enqueue(malformed());
      const question = stream ? 'how tall is mount everest in feet' : 'how tall is mount everest in meters';
      const e = await apiError(async () => {
        const answer = await g.gw.openai().chat.completions.create({ model: 'gem-first', messages: [{ role: 'user', content: question }], stream });
        if (Symbol.asyncIterator in answer) for await (const _ of answer);
      });
      // The guard was asked (and paid), and Gemini answered both attempts (and billed them).
      expect(judgeCalls(g.up) - judges).toBe(1);
      expect(g.gem.requests.length - sent).toBe(2);
      const r = await ledgerRow(g.gw, e.requestID!);
      expect(r).toMatchObject({ status: 'error', stream, inputTokens: JUDGE.usage.prompt_tokens + 2 * PROMPT });
      expect(r.costUsd).toBeCloseTo(JUDGE_USD + 2 * ATTEMPT_USD, 12);
    });
  }
});

describe('a hedged JSON call whose lanes are Gemini deployments failing their tool calls', () => {
  let up: WireUpstreams;
  let gw: SdkGateway;
  beforeAll(async () => {
    ({ upstreams: up, gw } = await servedOverWireUpstreams(
      (u) => [
        { ...wireDeployment(u, 'gem', GEM_PRICE), name: 'gem-a' },
        { ...wireDeployment(u, 'gem', GEM_PRICE), name: 'gem-b' },
      ],
      { routing: { strategy: 'priority', retries: { max: 0 }, hedging: { enabled: true, delayMs: 30, maxHedges: 1 }, fallbacks: { 'gem-a': ['gem-b'] } } },
    ));
  });
  afterAll(async () => gw?.close());

  const cost = async (model: string) => metricSum(await (await fetch(`${gw.url}/metrics`)).text(), 'llm_cost_usd_total', new RegExp(`model="${model}"`));
  const ask = [{ role: 'user' as const, content: 'Weather in Oslo?' }];

  it('both lanes fail (the first slowly, the hedge at once): the 502 row bills both prompts once each', async () => {
    const sent = up.gemini.requests.length;
    // Lane 1 (gem-a) gets the slow reply; the hedge (gem-b), started after 30 ms, the fast one.
    up.gemini.enqueue(malformed(400));
    up.gemini.enqueue(malformed());
    const e = await apiError(() => gw.openai().chat.completions.create({ model: 'gem-a', messages: ask, tools: TOOLS }));
    expect(up.gemini.requests.length - sent).toBe(2);
    const r = await ledgerRow(gw, e.requestID!);
    expect(r).toMatchObject({ status: 'error', inputTokens: 2 * PROMPT, outputTokens: 0 });
    expect(r.costUsd).toBeCloseTo(2 * ATTEMPT_USD, 12);
  });

  it("the hedge fails at once, the first lane answers later: the 200 row holds the answer and the hedge's prompt; the metrics split them", async () => {
    const sent = up.gemini.requests.length;
    const a = await cost('gem-a');
    const b = await cost('gem-b');
    up.gemini.enqueue({ parts: 'Sunny.', usage: { promptTokenCount: 10, candidatesTokenCount: 5 }, delayMs: 400 });
    up.gemini.enqueue(malformed());
    const { data, response } = await gw.openai().chat.completions.create({ model: 'gem-a', messages: ask, tools: TOOLS }).withResponse();
    expect(data.choices[0]?.message.content).toBe('Sunny.');
    expect(up.gemini.requests.length - sent).toBe(2);
    const r = await ledgerRow(gw, response.headers.get('x-request-id')!);
    expect(r).toMatchObject({ status: 'success', deployment: 'gem-a', inputTokens: 10 + PROMPT, outputTokens: 5 });
    expect(r.costUsd).toBeCloseTo(15 / 1e6 + ATTEMPT_USD, 12);
    expect((await cost('gem-a')) - a).toBeCloseTo(15 / 1e6, 12);
    expect((await cost('gem-b')) - b).toBeCloseTo(ATTEMPT_USD, 12);
  });
});

describe('the client leaves during the retry that follows a billed Gemini failed tool call', () => {
  let up: WireUpstreams;
  let gw: SdkGateway;
  beforeAll(async () => {
    ({ upstreams: up, gw } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gem', GEM_PRICE), wireDeployment(u, 'gpt', { price: { input: 1, output: 2 } })], {
      routing: {
        strategy: 'priority',
        retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 },
        cascades: [{ name: 'gem-first', weak: 'gem', strong: 'gpt', verifier: 'accept', threshold: 0.5 }],
      },
      routerOptions: { env: {}, verifiers: { accept: () => 0.1 } },
    }));
  });
  afterAll(async () => gw?.close());

  for (const model of ['gem', 'gem-first']) {
    for (const stream of [false, true]) {
      it(`${model === 'gem' ? 'a model' : 'a cascade (its weak step)'}, ${stream ? 'streamed' : 'JSON'}: the abandoned call's row bills the failed attempt`, async () => {
        const r = await leaveDuringHeldRetry(up, gw, model, stream, `Weather in Oslo? ${model} ${stream}`);
        expect(r).toMatchObject({ status: 'aborted', inputTokens: PROMPT });
        expect(r.costUsd).toBeCloseTo(ATTEMPT_USD, 12);
      });
    }
  }
});

describe("a cascade whose custom verifier asks a judge (Gemini) that fails its tool call after billing it", () => {
  let up: WireUpstreams;
  let gw: SdkGateway;
  /** The verifier's own routers over the Gemini-wire upstream (one retries): a failed call's error carries what Gemini billed. */
  const judges: { once?: LLMRouter; retried?: LLMRouter } = {};
  /** The judge router the verifier asks. */
  let judge: keyof typeof judges = 'once';
  const askJudge: CascadeVerifier = async (_request, _weak, { signal }) => Number((await judges[judge]!.generate('Score the answer from 0 to 1.', signal ? { model: 'gem', signal } : { model: 'gem' })).text);
  beforeAll(async () => {
    ({ upstreams: up, gw } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gpt', { price: { input: 1, output: 2 } }), wireDeployment(u, 'claude')], {
      routing: { strategy: 'priority', retries: { max: 0 }, cascades: [{ name: 'judged', weak: 'gpt', strong: 'claude', verifier: 'judge', threshold: 0.5 }] },
      routerOptions: { env: {}, verifiers: { judge: askJudge } },
    }));
    up.openai.setScript({ text: 'It is 42.', usage: { prompt_tokens: 40, completion_tokens: 20 }, streamUsage: 'always' });
    judges.once = new LLMRouter({ models: [wireDeployment(up, 'gem', GEM_PRICE)], routing: { strategy: 'priority', retries: { max: 0 } } }, { env: {} });
    judges.retried = new LLMRouter({ models: [wireDeployment(up, 'gem', GEM_PRICE)], routing: { strategy: 'priority', retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 } } }, { env: {} });
  });
  afterAll(async () => {
    await judges.once?.close();
    await judges.retried?.close();
    await gw?.close();
  });

  for (const stream of [false, true]) {
    it(`${stream ? 'streamed' : 'JSON'}: the failed call's row holds the weak step and the judge's billed prompt`, async () => {
      const sent = up.gemini.requests.length;
      up.gemini.enqueue(malformed());
      const e = await apiError(async () => {
        const answer = await gw.openai().chat.completions.create({ model: 'judged', messages: [{ role: 'user', content: `What is six times seven? ${stream}` }], stream });
        if (Symbol.asyncIterator in answer) for await (const _ of answer);
      });
      expect(up.gemini.requests.length - sent).toBe(1);
      expect(up.anthropic.requests.length).toBe(0);
      const r = await ledgerRow(gw, e.requestID!);
      expect(r).toMatchObject({ status: 'error', stream, inputTokens: 40 + PROMPT, outputTokens: 20 });
      expect(r.costUsd).toBeCloseTo((40 * 1 + 20 * 2) / 1e6 + ATTEMPT_USD, 12);
    });

    // The verifier's error, an abort (the judge router's, carrying its billed attempt), is the cascade's abort: it still
    // says the judge's billed prompt, which the abandoned call's row bills as the failed call's does.
    it(`${stream ? 'streamed' : 'JSON'}: the client leaves while the judge retries: the aborted row holds the weak step and the judge's billed prompt`, async () => {
      judge = 'retried';
      try {
        // The judge's retry is the held one: the verifier's error, an abort, carries the judge's billed attempt.
        const r = await leaveDuringHeldRetry(up, gw, 'judged', stream, `What is six times seven? leave ${stream}`);
        expect(up.anthropic.requests.length).toBe(0);
        expect(r).toMatchObject({ status: 'aborted', inputTokens: 40 + PROMPT, outputTokens: 20 });
        expect(r.costUsd).toBeCloseTo((40 * 1 + 20 * 2) / 1e6 + ATTEMPT_USD, 12);
      } finally {
        judge = 'once';
      }
    });
  }
});
