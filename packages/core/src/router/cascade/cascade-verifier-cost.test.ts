/**
 * A custom verifier that pays for its judgement (a judge model's call) returns `{ score, cost }`: the cascade's
 * `cost` holds it beside the steps' (`cascade.verifierCost` says how much), on `generate` and `stream`, accepted or
 * escalated; a strong step that fails carries it in `details.cascade.verifierCost`, and the stream's `spent()`
 * includes it. A verdict whose cost is no amount a ledger records (negative, NaN, infinite, too large) fails the
 * call as the verifier's error, with the paid weak step on it. Over real HTTP: local servers speaking the OpenAI wire format as the weak, the strong and the judge
 * model (the verifier asks the judge with `fetch`). A verifier that reports its tokens too (`{ score, cost, usage }`)
 * has them in `cascade.verifierUsage` (not in `usage`, the steps'), in a failed strong step's `details.cascade` and in
 * a stream's `spent().verifierUsage`; one that declares its bound (`verifier.bound`) has it in `models()`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGeminiEngine } from '../../engines/gemini/create-gemini-engine.js';
import { createOpenAICompatibleEngine } from '../../engines/openai-compatible/index.js';
import type { LLMError } from '../../errors/llm-error.js';
import { collect, rejection } from '../../test/async.test-helpers.js';
import { startGeminiWireServer, type GeminiWireServer } from '../../test/gemini-wire-server.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';
import { LLMRouter } from '../llm-router.js';
import { refusedAnswerOf } from '../refused-answer.js';
import type { Cost } from '../types.js';
import type { CascadeRecord, CascadeVerdict, CascadeVerifier } from './types.js';

const WEAK_PRICE = { input: 1, output: 2 };
const STRONG_PRICE = { input: 10, output: 30 };
const JUDGE_PRICE = { input: 3, output: 6 };
const WEAK_COST = (40 * 1 + 20 * 2) / 1e6;
const STRONG_COST = (41 * 10 + 25 * 30) / 1e6;
const JUDGE_COST = (200 * 3 + 1 * 6) / 1e6;

let weak: OpenAIWireServer;
let strong: OpenAIWireServer;
let judge: OpenAIWireServer;

beforeEach(async () => {
  weak = await startOpenAIWireServer({ script: { text: 'It is 42.', usage: { prompt_tokens: 40, completion_tokens: 20 }, streamUsage: 'always' } });
  strong = await startOpenAIWireServer({ script: { text: 'It is 43.', usage: { prompt_tokens: 41, completion_tokens: 25 }, streamUsage: 'always' } });
  judge = await startOpenAIWireServer({ script: { text: '0.9', usage: { prompt_tokens: 200, completion_tokens: 1 } } });
});
afterEach(async () => {
  await Promise.all([weak.close(), strong.close(), judge.close()]);
});

/** Asks the judge for a score and prices its reported usage: what a paying verifier returns. */
async function judged(): Promise<CascadeVerdict> {
  const res = await fetch(`${judge.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body: JSON.stringify({ model: 'judge-test', messages: [{ role: 'user', content: 'Score the answer from 0 to 1.' }] }),
  });
  const body = (await res.json()) as { choices: Array<{ message: { content: string } }>; usage: { prompt_tokens: number; completion_tokens: number } };
  const inputUsd = (body.usage.prompt_tokens * JUDGE_PRICE.input) / 1e6;
  const outputUsd = (body.usage.completion_tokens * JUDGE_PRICE.output) / 1e6;
  const cost: Cost = { inputUsd, outputUsd, totalUsd: inputUsd + outputUsd, estimated: false };
  return { score: Number(body.choices[0]!.message.content), cost };
}

/** What `judged` returns, with the judge's reported tokens (`CascadeVerdict.usage`). */
async function judgedWithTokens(): Promise<CascadeVerdict> {
  return { ...(await judged()), usage: { inputTokens: 200, outputTokens: 1, totalTokens: 201 } };
}

function router(threshold: number, onStrongFailure: 'error' | 'weak' = 'error', verifier: CascadeVerifier = judged) {
  return openAIWireRouter(
    [
      { name: 'small', engine: 'openai-compatible', baseURL: weak.baseURL, model: 'small-test', apiKey: 'k', price: WEAK_PRICE, priority: 1 },
      { name: 'large', engine: 'openai-compatible', baseURL: strong.baseURL, model: 'large-test', apiKey: 'k', price: STRONG_PRICE, priority: 2 },
    ],
    { retries: { max: 0 }, cascades: [{ name: 'c', weak: 'small', strong: 'large', verifier: 'judge', threshold, onStrongFailure }] },
    { verifiers: { judge: verifier } },
  ).router;
}

describe('a verifier that reports its cost', () => {
  it('escalated (generate): cost = weak + verifier + strong, the record says the verifier\u2019s part', async () => {
    const r = router(0.5);
    const result = await r.generate('What is six times seven?', { model: 'c' });
    expect({ escalated: result.cascade?.escalated, judged: judge.requests.length, strongCalls: strong.requests.length }).toEqual({ escalated: true, judged: 1, strongCalls: 1 });
    expect(result.cost.totalUsd).toBeCloseTo(WEAK_COST + JUDGE_COST + STRONG_COST, 12);
    expect(result.cascade?.verifierCost?.totalUsd).toBeCloseTo(JUDGE_COST, 12);
    // The answer's usage stays the two steps' tokens.
    expect(result.usage).toMatchObject({ inputTokens: 81, outputTokens: 45 });
    await r.close();
  });

  it('accepted (generate and stream): cost = weak + verifier', async () => {
    const r = router(0.95);
    const result = await r.generate('What is six times seven?', { model: 'c' });
    expect(result.cascade?.escalated).toBe(false);
    expect(result.cost.totalUsd).toBeCloseTo(WEAK_COST + JUDGE_COST, 12);
    const s = r.stream('What is six times seven?', { model: 'c' });
    await collect(s);
    expect((await s.result).cost.totalUsd).toBeCloseTo(WEAK_COST + JUDGE_COST, 12);
    expect(s.spent?.()?.cost.totalUsd).toBeCloseTo(WEAK_COST + JUDGE_COST, 12);
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });

  it('escalated (stream): the final result holds all three calls', async () => {
    const r = router(0.5);
    const s = r.stream('What is six times seven?', { model: 'c' });
    const parts = await collect(s);
    expect(parts.at(-1)?.type).toBe('finish');
    expect((await s.result).cost.totalUsd).toBeCloseTo(WEAK_COST + JUDGE_COST + STRONG_COST, 12);
    await r.close();
  });

  it('a strong step that fails: details.cascade.verifierCost beside the weak step (generate), spent() with both (stream)', async () => {
    strong.setScript({ error: { status: 400, message: 'refused' } });
    const r = router(0.5);
    const error = await rejection(r.generate('What is six times seven?', { model: 'c' }));
    const details = error.details as { cascade: CascadeRecord };
    expect(details.cascade.weak.cost.totalUsd).toBeCloseTo(WEAK_COST, 12);
    expect(details.cascade.verifierCost?.totalUsd).toBeCloseTo(JUDGE_COST, 12);
    const s = r.stream('What is six times seven?', { model: 'c' });
    const parts = await collect(s);
    expect(parts.at(-1)?.type).toBe('error');
    expect(s.spent?.()?.cost.totalUsd).toBeCloseTo(WEAK_COST + JUDGE_COST, 12);
    await r.close();
  });

  it("onStrongFailure 'weak': the weak answer costs the weak call and the verifier's", async () => {
    strong.setScript({ error: { status: 400, message: 'refused' } });
    const r = router(0.5, 'weak');
    const result = await r.generate('What is six times seven?', { model: 'c' });
    expect(result.cascade?.strongError?.code).toBe('invalid_request');
    expect(result.cost.totalUsd).toBeCloseTo(WEAK_COST + JUDGE_COST, 12);
    await r.close();
  });

  it('a verdict whose score is not a number fails the call', async () => {
    const bad = openAIWireRouter(
      [
        { name: 'small', engine: 'openai-compatible', baseURL: weak.baseURL, model: 'small-test', apiKey: 'k', price: WEAK_PRICE },
        { name: 'large', engine: 'openai-compatible', baseURL: strong.baseURL, model: 'large-test', apiKey: 'k', price: STRONG_PRICE },
      ],
      { retries: { max: 0 }, cascades: [{ name: 'nan', weak: 'small', strong: 'large', verifier: 'nan', threshold: 0.5 }] },
      { verifiers: { nan: () => ({ score: Number.NaN }) } },
    ).router;
    const error = await rejection(bad.generate('What is six times seven?', { model: 'nan' }));
    expect(error.code).toBe('internal');
    expect(error.message).toContain('returned a verdict whose score is NaN, expected a number');
    await bad.close();
  });

  // A cost no ledger records (negative: a refund computed the wrong way round; NaN, infinite, beyond what the stores
  // keep exactly; not a number) is the verifier's bug: the call fails as with a score that is not a number, and the
  // weak call it paid is on the error (`details.cascade.weak`, what the gateway bills), never a cost below it.
  const malformed: Array<[string, unknown]> = [
    ['a negative total', { inputUsd: 0, outputUsd: 0, totalUsd: -1, estimated: false }],
    ['a NaN total', { inputUsd: 0, outputUsd: 0, totalUsd: Number.NaN, estimated: false }],
    ['an infinite total', { inputUsd: 0, outputUsd: 0, totalUsd: Number.POSITIVE_INFINITY, estimated: false }],
    ['a total beyond what the stores keep exactly', { inputUsd: 0, outputUsd: 0, totalUsd: 1e308, estimated: false }],
    ['a negative part', { inputUsd: -0.5, outputUsd: 0.5, totalUsd: 0, estimated: false }],
    ['a total that is not a number', { totalUsd: 'a lot' }],
    ['no total', { inputUsd: 0.1 }],
    ['null', null],
  ];
  it.each(malformed)('a verdict whose cost has %s fails the call with the weak step on the error (generate and stream)', async (_, cost) => {
    const bad = openAIWireRouter(
      [
        { name: 'small', engine: 'openai-compatible', baseURL: weak.baseURL, model: 'small-test', apiKey: 'k', price: WEAK_PRICE },
        { name: 'large', engine: 'openai-compatible', baseURL: strong.baseURL, model: 'large-test', apiKey: 'k', price: STRONG_PRICE },
      ],
      { retries: { max: 0 }, cascades: [{ name: 'c', weak: 'small', strong: 'large', verifier: 'odd', threshold: 0.5 }] },
      { verifiers: { odd: () => ({ score: 0.1, cost: cost as Cost }) } },
    ).router;
    const error = await rejection(bad.generate('What is six times seven?', { model: 'c' }));
    expect(error.code).toBe('internal');
    expect(error.message).toMatch(/^Verifier "odd" of cascade "c" returned a cost \(totalUsd: .*\) that is not one/);
    const details = error.details as { cascade: CascadeRecord };
    expect(details.cascade.weak.cost.totalUsd).toBeCloseTo(WEAK_COST, 12);
    expect(details.cascade.verifierCost).toBeUndefined();
    const s = bad.stream('What is six times seven?', { model: 'c' });
    const parts = await collect(s);
    expect(parts.map((p) => p.type)).toEqual(['error']);
    await expect(s.result).rejects.toMatchObject({ code: 'internal' });
    // The stream's spend is the weak call alone.
    expect(s.spent?.()?.cost.totalUsd).toBeCloseTo(WEAK_COST, 12);
    expect(weak.requests.length).toBe(2);
    expect(strong.requests.length).toBe(0);
    await bad.close();
  });
});

describe('a verifier that reports its tokens', () => {
  const JUDGE_TOKENS = { inputTokens: 200, outputTokens: 1, totalTokens: 201 };

  it('escalated and accepted (generate and stream): cascade.verifierUsage holds them, usage stays the steps\u2019', async () => {
    for (const threshold of [0.5, 0.95]) {
      const r = router(threshold, 'error', judgedWithTokens);
      const result = await r.generate('What is six times seven?', { model: 'c' });
      expect(result.cascade?.verifierUsage).toEqual(JUDGE_TOKENS);
      expect(result.usage.inputTokens).toBe(threshold === 0.5 ? 81 : 40);
      const s = r.stream('What is six times seven?', { model: 'c' });
      await collect(s);
      expect((await s.result).cascade?.verifierUsage).toEqual(JUDGE_TOKENS);
      await r.close();
    }
  });

  it('a strong step that fails: details.cascade.verifierUsage (generate), spent().verifierUsage beside the weak step (stream)', async () => {
    strong.setScript({ error: { status: 400, message: 'refused' } });
    const r = router(0.5, 'error', judgedWithTokens);
    const error = await rejection(r.generate('What is six times seven?', { model: 'c' }));
    expect((error.details as { cascade: CascadeRecord }).cascade.verifierUsage).toEqual(JUDGE_TOKENS);
    const s = r.stream('What is six times seven?', { model: 'c' });
    expect((await collect(s)).at(-1)?.type).toBe('error');
    const spent = s.spent?.();
    expect(spent?.verifierUsage).toEqual(JUDGE_TOKENS);
    // The weak step's own tokens stay apart from the judgement's.
    expect(spent?.usage).toMatchObject({ inputTokens: 40, outputTokens: 20 });
    expect(spent?.cost.totalUsd).toBeCloseTo(WEAK_COST + JUDGE_COST, 12);
    await r.close();
  });

  it.each([
    ['negative input', { inputTokens: -1, outputTokens: 1 }],
    ['NaN output', { inputTokens: 1, outputTokens: Number.NaN }],
    ['no output count', { inputTokens: 1 }],
    ['not an object', 12],
  ])('a verdict whose usage has %s fails the call (internal), the weak step on the error', async (_, usage) => {
    const r = router(0.5, 'error', async () => ({ ...(await judged()), usage: usage as CascadeVerdict['usage'] }));
    const error = await rejection(r.generate('What is six times seven?', { model: 'c' }));
    expect(error.code).toBe('internal');
    expect(error.message).toContain('returned a usage that is not one');
    expect((error.details as { cascade: CascadeRecord }).cascade.weak.cost.totalUsd).toBeCloseTo(WEAK_COST, 12);
    expect(strong.requests.length).toBe(0);
    await r.close();
  });

  it('a declared bound is shown by models() (cascade.verifierBound); one that is not a bound is refused at build naming the field', async () => {
    const bound = { promptTokens: 300, outputTokens: 4, price: { input: 3, output: 6 } };
    const r = router(0.5, 'error', Object.assign(() => judgedWithTokens(), { bound }));
    expect(r.models().find((d) => d.name === 'c')?.cascade?.verifierBound).toEqual(bound);
    await r.close();
    const build = (b: unknown) => () => router(0.5, 'error', Object.assign(async () => 0, { bound: b as CascadeVerifier['bound'] }));
    expect(build({ ...bound, outputTokens: -1 })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'verifiers.judge.bound.outputTokens' }));
    expect(build({ ...bound, price: { input: 3 } })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'verifiers.judge.bound.price.output' }));
    expect(build(5)).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'verifiers.judge.bound' }));
  });
});

/**
 * A custom verifier that asks a judge through a router of its own, whose calls fail after their provider billed them:
 * a Gemini failed tool call (HTTP 200, `MALFORMED_FUNCTION_CALL`, its prompt billed), then a fallback refused with an
 * error body that is an object or a JSON list (a proxy's). The verifier's error carries what the judge router's
 * attempts were billed (`REFUSED_ANSWER`), whatever shape its details have; the cascade's error keeps it beside the
 * weak step (generate), and a stream's `spent()` has it on top of the weak step, as the gateway bills each; so too
 * when the caller leaves while the judge router's fallback runs (the cascade's error is then an abort).
 */
describe('a verifier whose own model calls fail after their provider billed them', () => {
  const JUDGE_PROMPT = 1000;
  const GEM_USD = JUDGE_PROMPT / 1e6;
  let gem: GeminiWireServer;
  let refuser: OpenAIWireServer;
  let judgeRouter: LLMRouter;

  beforeEach(async () => {
    gem = await startGeminiWireServer({ apiKey: 'gk' });
    refuser = await startOpenAIWireServer();
    judgeRouter = new LLMRouter(
      {
        models: [
          { name: 'gem', engine: 'gemini', baseURL: gem.url, model: 'gemini-2.5-flash', apiKey: 'gk', price: { input: 1, output: 1 }, priority: 1 },
          { name: 'judge-proxy', engine: 'openai-compatible', baseURL: refuser.baseURL, model: 'judge-test', apiKey: 'k', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 0 }, fallbacks: { gem: ['judge-proxy'] } },
      },
      { engineFactories: { gemini: createGeminiEngine, 'openai-compatible': createOpenAICompatibleEngine }, env: {} },
    );
  });
  afterEach(async () => {
    await judgeRouter.close();
    await Promise.all([gem.close(), refuser.close()]);
  });

  /** Asks the judge router; the call's error (the router's, with its billed attempts) is the verifier's. */
  const askJudge: CascadeVerifier = async (_request, _weak, { signal }) => Number((await judgeRouter.generate('Score the answer from 0 to 1.', signal ? { model: 'gem', signal } : { model: 'gem' })).text);

  for (const [shape, body] of [
    ['an object', { error: { message: 'bad request upstream', type: 'invalid_request_error' } }],
    ['a JSON list', [{ message: 'bad request upstream' }]],
  ] as const) {
    it(`the fallback's error body ${shape}: generate's error and stream's spent() bill the judge's failed tool call with the weak step`, async () => {
      refuser.setScript({ error: { status: 400, body } });
      const r = router(0.5, 'error', askJudge);
      const billed = { deployment: 'gem', model: 'gemini-2.5-flash', provider: 'gemini' };
      for (const stream of [false, true]) {
        gem.enqueue({ parts: [], finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: 'Malformed function call', usage: { promptTokenCount: JUDGE_PROMPT, candidatesTokenCount: 0 } });
        let error: LLMError;
        if (stream) {
          const s = r.stream('What is six times seven?', { model: 'c' });
          const parts = await collect(s);
          expect(parts.map((p) => p.type)).toEqual(['error']);
          error = (parts[0] as { error: LLMError }).error;
          const spent = s.spent?.();
          expect(spent).toMatchObject({ usage: { inputTokens: 40 + JUDGE_PROMPT, outputTokens: 20 }, replay: false, failedAttempts: [{ ...billed, usage: { inputTokens: JUDGE_PROMPT } }] });
          expect(spent?.cost.totalUsd).toBeCloseTo(WEAK_COST + GEM_USD, 12);
        } else {
          error = await rejection(r.generate('What is six times seven?', { model: 'c' }));
        }
        expect(error.code).toBe('invalid_request');
        // The weak step (paid) and the judge's billed attempt, both where whoever bills the failed call reads them.
        expect((error.details as { cascade: CascadeRecord }).cascade.weak.cost.totalUsd).toBeCloseTo(WEAK_COST, 12);
        const refused = refusedAnswerOf(error.details);
        expect(refused).toMatchObject({ usage: { inputTokens: JUDGE_PROMPT, outputTokens: 0 }, failedAttempts: [billed] });
        expect(refused?.cost.totalUsd).toBeCloseTo(GEM_USD, 12);
        // The judge's own error body stays said: beside the cascade's (an object) or under `verifier` (a list).
        if (Array.isArray(body)) expect([...((error.details as { verifier: unknown[] }).verifier)]).toEqual(body);
        else expect(error.details).toMatchObject(body);
      }
      expect(gem.requests.length).toBe(2);
      expect(strong.requests.length).toBe(0);
      await r.close();
    });
  }

  // The caller leaves while the judge router's fallback is held: the verifier's error is the cascade's abort, which
  // still carries the judge's billed attempt (`REFUSED_ANSWER` of the judge router's abort error) beside the weak step.
  it("the caller leaves while the judge's fallback runs: the abort error (generate) and spent() (stream) keep the judge's billed attempt", async () => {
    refuser.setScript({ hang: true });
    const r = router(0.5, 'error', askJudge);
    for (const stream of [false, true]) {
      const asked = refuser.requests.length;
      gem.enqueue({ parts: [], finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: 'Malformed function call', usage: { promptTokenCount: JUDGE_PROMPT, candidatesTokenCount: 0 } });
      const abort = new AbortController();
      const leave = vi.waitFor(() => expect(refuser.requests.length).toBe(asked + 1), { timeout: 10_000, interval: 10 }).then(() => abort.abort());
      let error: LLMError;
      if (stream) {
        const s = r.stream('What is six times seven?', { model: 'c', signal: abort.signal });
        const parts = await collect(s);
        await leave;
        const spent = s.spent?.();
        expect(spent).toMatchObject({ usage: { inputTokens: 40 + JUDGE_PROMPT, outputTokens: 20 }, replay: false });
        expect(spent?.cost.totalUsd).toBeCloseTo(WEAK_COST + GEM_USD, 12);
        error = (parts.at(-1) as { error: LLMError }).error;
      } else {
        error = await rejection(r.generate('What is six times seven?', { model: 'c', signal: abort.signal }));
        await leave;
      }
      expect(error.code).toBe('aborted');
      expect((error.details as { cascade: CascadeRecord }).cascade.weak.cost.totalUsd).toBeCloseTo(WEAK_COST, 12);
      expect(refusedAnswerOf(error.details)).toMatchObject({ usage: { inputTokens: JUDGE_PROMPT, outputTokens: 0 } });
    }
    expect(strong.requests.length).toBe(0);
    await r.close();
  });
});
