/**
 * Cascades over real HTTP: two local servers speaking the OpenAI chat-completions wire format (JSON and
 * SSE) as the weak and the strong deployment, through the openai-compatible engine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RouterConfigInput } from '../../config/schema.js';
import { createOpenAICompatibleEngine } from '../../engines/openai-compatible/index.js';
import { LLMError } from '../../errors/llm-error.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { collect, rejection, thrown } from '../../test/async.test-helpers.js';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';
import { LLMRouter } from '../llm-router.js';
import type { RouterOptions, RouterResult, RouterStreamPart } from '../types.js';
import { ARITHMETIC_DEFAULT_THRESHOLD } from './arithmetic-verifier.js';
import type { CascadeRecord } from './types.js';

const QUESTION = 'Janet has 16 eggs. She eats 3 and bakes with 4. She sells the rest at $2 each. How many dollars does she make?';
const RIGHT = 'She has 16 - 3 - 4 = 9 eggs left. She makes 9 * 2 = 18 dollars.\n#### 18';
const WRONG = 'She has 16 - 3 - 4 = 9 eggs left. She makes 9 * 2 = 19 dollars.\n#### 19';
const STRONG = 'Janet sells 16 - 3 - 4 = 9 eggs for 9 * 2 = 18 dollars.\n#### 18';

// Prices per 1M tokens and the usage each server reports.
const WEAK_PRICE = { input: 1, output: 2 };
const STRONG_PRICE = { input: 10, output: 30 };
const WEAK_USAGE = { prompt_tokens: 40, completion_tokens: 20, total_tokens: 60 };
const STRONG_USAGE = { prompt_tokens: 41, completion_tokens: 25, total_tokens: 66 };
const WEAK_COST = (40 * 1 + 20 * 2) / 1e6;
const STRONG_COST = (41 * 10 + 25 * 30) / 1e6;

let weak: OpenAIWireServer;
let strong: OpenAIWireServer;

beforeEach(async () => {
  weak = await startOpenAIWireServer({ script: { text: RIGHT, usage: WEAK_USAGE, streamUsage: 'always' } });
  strong = await startOpenAIWireServer({ script: { text: STRONG, usage: STRONG_USAGE, streamUsage: 'always' } });
});

afterEach(async () => {
  await Promise.all([weak.close(), strong.close()]);
});

type Cascade = NonNullable<NonNullable<RouterConfigInput['routing']>['cascades']>[number];

function router(cascade: Partial<Cascade> = {}, options: RouterOptions = {}, routing: NonNullable<RouterConfigInput['routing']> = {}) {
  return openAIWireRouter(
    [
      { name: 'mixtral', engine: 'openai-compatible', baseURL: weak.baseURL, model: 'mixtral-8x7b', apiKey: 'k', price: WEAK_PRICE, priority: 1 },
      { name: 'gpt-4', engine: 'openai-compatible', baseURL: strong.baseURL, model: 'gpt-4-test', apiKey: 'k', price: STRONG_PRICE, priority: 2 },
    ],
    { cascades: [{ name: 'math-cascade', weak: 'mixtral', strong: 'gpt-4', verifier: 'arithmetic', ...cascade }], ...routing },
    options,
  ).router;
}

function textOf(parts: RouterStreamPart[]): string {
  return parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');
}

function finishOf(parts: RouterStreamPart[]) {
  const last = parts.at(-1);
  if (last?.type !== 'finish') throw new Error(`expected a finish part last, got ${JSON.stringify(last)}`);
  return last;
}

function expectSummed(result: RouterResult): void {
  expect(result.usage).toMatchObject({ inputTokens: 81, outputTokens: 45, totalTokens: 126 });
  expect(result.cost.totalUsd).toBeCloseTo(WEAK_COST + STRONG_COST, 12);
  expect(result.cascade?.weak.cost.totalUsd).toBeCloseTo(WEAK_COST, 12);
  expect(result.cascade?.strong?.cost.totalUsd).toBeCloseTo(STRONG_COST, 12);
}

describe('cascade: generate', () => {
  it('a weak answer with wrong arithmetic escalates: the strong answer, with the usage and cost of both calls', async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    const r = router();
    const result = await r.generate(QUESTION, { model: 'math-cascade', requestId: 'req-1' });
    expect(result.text).toBe(STRONG);
    expect(result.deployment).toBe('gpt-4');
    expect(result.requestId).toBe('req-1');
    expectSummed(result);
    const c = result.cascade as CascadeRecord;
    expect(c).toMatchObject({ name: 'math-cascade', verifier: 'arithmetic', threshold: ARITHMETIC_DEFAULT_THRESHOLD, escalated: true });
    expect(c.score).toBeGreaterThanOrEqual(3); // a wrong statement alone weighs 3
    expect(c.weak).toMatchObject({ deployment: 'mixtral', requestId: 'req-1:weak', usage: { inputTokens: 40, outputTokens: 20 } });
    expect(c.strong).toMatchObject({ deployment: 'gpt-4', requestId: 'req-1:strong' });
    expect(result.attempts.map((a) => a.deployment)).toEqual(['mixtral', 'gpt-4']);
    expect(weak.requests).toHaveLength(1);
    expect(strong.requests).toHaveLength(1);
    expect(strong.requests[0]?.body).toMatchObject({ model: 'gpt-4-test', messages: [{ role: 'user', content: QUESTION }] });
    await r.close();
  });

  it('a correct weak answer is returned and the strong server is never called', async () => {
    const r = router();
    const result = await r.generate(QUESTION, { model: 'math-cascade' });
    expect(result.text).toBe(RIGHT);
    expect(result.deployment).toBe('mixtral');
    expect(result.usage).toMatchObject({ inputTokens: 40, outputTokens: 20, totalTokens: 60 });
    expect(result.cost.totalUsd).toBeCloseTo(WEAK_COST, 12);
    expect(result.cascade).toMatchObject({ escalated: false, weak: { deployment: 'mixtral' } });
    expect(result.cascade?.score).toBeLessThan(ARITHMETIC_DEFAULT_THRESHOLD);
    expect(result.cascade?.strong).toBeUndefined();
    expect(weak.requests).toHaveLength(1);
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });

  it('the threshold decides: the same correct answer escalates under threshold 0', async () => {
    const r = router({ threshold: 0 });
    const result = await r.generate(QUESTION, { model: 'math-cascade' });
    expect(result.cascade?.escalated).toBe(true);
    expect(strong.requests).toHaveLength(1);
    expectSummed(result);
    await r.close();
  });

  it('ordinary calls (a deployment by name, no model) are not cascaded', async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    const r = router();
    const direct = await r.generate(QUESTION, { model: 'mixtral' });
    expect(direct.text).toBe(WRONG);
    expect(direct.cascade).toBeUndefined();
    const auto = await r.generate(QUESTION);
    expect(auto.deployment).toBe('mixtral'); // priority 1
    expect(auto.cascade).toBeUndefined();
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });

  it('explain: the decision says what the cascade did, and each step keeps its own decision', async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    const r = router();
    const result = await r.generate(QUESTION, { model: 'math-cascade', explain: true });
    expect(result.decision?.reason).toMatch(/^cascade "math-cascade": the answer of "mixtral" scored [\d.]+ by arithmetic \(threshold 1\), escalated to "gpt-4"\. /);
    expect(result.decision?.selected).toBe('gpt-4');
    expect(result.cascade?.weak.decision?.selected).toBe('mixtral');
    expect(result.cascade?.strong?.decision?.selected).toBe('gpt-4');
    const planned = await r.route(QUESTION, { model: 'math-cascade' });
    expect(planned.selected).toBe('mixtral');
    expect(planned.reason).toMatch(/^cascade "math-cascade": the weak step is planned/);
    await r.close();
  });

  it('the weak step uses the router\'s retries: a 503 then an answer', async () => {
    weak.setScript([{ error: { status: 503, message: 'busy' } }, { text: RIGHT, usage: WEAK_USAGE }]);
    const r = router();
    const result = await r.generate(QUESTION, { model: 'math-cascade' });
    expect(result.text).toBe(RIGHT);
    expect(result.attempts.map((a) => a.errorCode ?? 'ok')).toEqual(['provider_unavailable', 'ok']);
    expect(weak.requests).toHaveLength(2);
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });

  it('a weak step that fails for good fails the call; the strong model is not tried', async () => {
    weak.setScript({ error: { status: 400, message: 'bad request' } });
    const r = router();
    const err = await rejection(r.generate(QUESTION, { model: 'math-cascade' }));
    expect(err.code).toBe('invalid_request');
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });

  it('the arithmetic verifier refuses tools and JSON mode before any call', async () => {
    const r = router();
    const tools = await rejection(
      r.generate({ messages: [{ role: 'user', content: QUESTION }], tools: [{ name: 'calc', parameters: { type: 'object' } }] }, { model: 'math-cascade' }),
    );
    expect(tools).toMatchObject({ code: 'unsupported', param: 'tools' });
    const json = await rejection(r.generate(QUESTION, { model: 'math-cascade', responseFormat: { type: 'json_object' } }));
    expect(json).toMatchObject({ code: 'unsupported', param: 'responseFormat' });
    expect(weak.requests).toHaveLength(0);
    await r.close();
  });

  it('a call whose allowedModels do not name the cascade is refused (permission_denied on model)', async () => {
    const r = router();
    const err = await rejection(r.generate(QUESTION, { model: 'math-cascade', allowedModels: ['mixtral', 'gpt-4'] }));
    expect(err).toMatchObject({ code: 'permission_denied', param: 'model' });
    const ok = await r.generate(QUESTION, { model: 'math-cascade', allowedModels: ['math-cascade', 'mixtral', 'gpt-4'] });
    expect(ok.text).toBe(RIGHT);
    await r.close();
  });

  it('an allow-list naming the cascade but not its two models is refused up front, naming neither model', async () => {
    const r = router();
    const err = await rejection(r.generate(QUESTION, { model: 'math-cascade', allowedModels: ['math-cascade', 'mixtral'] }));
    expect(err).toMatchObject({ code: 'permission_denied', param: 'model' });
    expect(err.message).not.toMatch(/gpt-4|mixtral/);
    expect(weak.requests).toHaveLength(0);
    await r.close();
  });

  it('route() on a cascade applies the verifier\'s request check (tools are refused as on a call)', async () => {
    const r = router();
    const tools = [{ name: 'calc', description: 'calculator', parameters: { type: 'object', properties: {} } }];
    expect(await rejection(r.route({ messages: [{ role: 'user', content: QUESTION }], tools }, { model: 'math-cascade' }))).toMatchObject({ code: 'unsupported', param: 'tools' });
    await r.close();
  });

  it('feedback on a cascade call\'s request id reaches the step that answered', async () => {
    const seen: string[] = [];
    const learner = { name: 'learner', rank: (ctx: { candidates: readonly unknown[] }) => ctx.candidates.map((deployment) => ({ deployment })), feedback: (id: string) => (seen.push(id), id.endsWith(':strong')) };
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    const r = router({}, { strategies: { learner: learner as never } }, { strategy: 'learner' });
    const result = await r.generate(QUESTION, { model: 'math-cascade', requestId: 'req-fb' });
    expect(result.cascade?.escalated).toBe(true);
    expect(r.feedback('req-fb', 1)).toBe(true);
    expect(seen).toEqual(['req-fb:strong']);
    // Rated once, as any request: a second rating does not reach the weak step instead.
    expect(r.feedback('req-fb', 0)).toBe(false);
    expect(seen).toEqual(['req-fb:strong', 'req-fb']);
    await r.close();
  });

  it('models() lists the cascade as a virtual model: summed price, common capabilities, its definition', async () => {
    const r = router();
    const info = r.models().find((m) => m.name === 'math-cascade');
    expect(info).toMatchObject({
      engine: 'cascade',
      model: 'mixtral-8x7b -> gpt-4-test',
      enabled: true,
      price: { input: 11, output: 32 },
      cascade: { weak: 'mixtral', strong: 'gpt-4', verifier: 'arithmetic', threshold: 1, onStrongFailure: 'error' },
    });
    expect(info?.capabilities).toContain('chat');
    // What a cascade with the text-only arithmetic verifier cannot serve is not advertised.
    for (const c of ['embeddings', 'tools', 'json'] as const) expect(info?.capabilities).not.toContain(c);
    expect(() => r.load({ name: 'math-cascade', engine: 'openai-compatible', baseURL: weak.baseURL })).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: '0.name' }),
    );
    r.unload('gpt-4');
    expect(r.models().map((m) => m.name)).toEqual(['mixtral']); // a cascade without its strong model is not offered
    await r.close();
  });
});

describe('cascade: a step named by a shared alias', () => {
  it('models() prices the cascade with the dearest member of the alias (a budget reservation must cover any of them)', async () => {
    const { router: r } = openAIWireRouter(
      [
        { name: 'mixtral', engine: 'openai-compatible', baseURL: weak.baseURL, apiKey: 'k', price: WEAK_PRICE },
        { name: 'gpt-4-a', alias: 'big', engine: 'openai-compatible', baseURL: strong.baseURL, apiKey: 'k', price: STRONG_PRICE },
        { name: 'gpt-4-b', alias: 'big', engine: 'openai-compatible', baseURL: strong.baseURL, apiKey: 'k', price: { input: 20, output: 60 } },
      ],
      { cascades: [{ name: 'math-cascade', weak: 'mixtral', strong: 'big' }] },
    );
    expect(r.models().find((m) => m.name === 'math-cascade')?.price).toEqual({ input: 21, output: 62 });
    await r.close();
  });

  it('... with the highest price of each kind across the members (input from one, output from another)', async () => {
    const { router: r } = openAIWireRouter(
      [
        { name: 'mixtral', engine: 'openai-compatible', baseURL: weak.baseURL, apiKey: 'k', price: WEAK_PRICE },
        { name: 'big-a', alias: 'big', engine: 'openai-compatible', baseURL: strong.baseURL, apiKey: 'k', price: { input: 10, output: 1 } },
        { name: 'big-b', alias: 'big', engine: 'openai-compatible', baseURL: strong.baseURL, apiKey: 'k', price: { input: 1, output: 20 } },
      ],
      { cascades: [{ name: 'math-cascade', weak: 'mixtral', strong: 'big' }] },
    );
    expect(r.models().find((m) => m.name === 'math-cascade')?.price).toEqual({ input: 11, output: 22 });
    await r.close();
  });
});

describe('cascade: custom verifiers and their errors', () => {
  it('a custom verifier gets the request and the weak result; an async score at the threshold escalates', async () => {
    const seen: Array<{ question: unknown; text: string; cascade: string }> = [];
    const r = router(
      { verifier: 'too-short', threshold: 1 },
      {
        verifiers: {
          'too-short': async (request, weakResult, ctx) => {
            seen.push({ question: request.messages[0]?.content, text: weakResult.text, cascade: ctx.cascade });
            return weakResult.text.length < 100 ? 1 : 0;
          },
        },
      },
    );
    const result = await r.generate(QUESTION, { model: 'math-cascade' });
    expect(seen).toEqual([{ question: QUESTION, text: RIGHT, cascade: 'math-cascade' }]);
    expect(result.cascade).toMatchObject({ verifier: 'too-short', score: 1, threshold: 1, escalated: true });
    expect(result.text).toBe(STRONG);
    expectSummed(result);
    await r.close();
  });

  it('a verifier that throws fails the call with an internal LLMError naming it; the strong model is not called', async () => {
    const r = router({ verifier: 'broken', threshold: 0.5 }, { verifiers: { broken: () => { throw new Error('model file missing'); } } });
    const err = await rejection(r.generate(QUESTION, { model: 'math-cascade' }));
    expect(err.code).toBe('internal');
    expect(err.message).toBe('Verifier "broken" of cascade "math-cascade" failed: model file missing');
    expect(err.details).toMatchObject({ cascade: { name: 'math-cascade', verifier: 'broken', weak: { deployment: 'mixtral', usage: { inputTokens: 40 } } } });
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });

  it('a verifier that returns NaN or a string fails the call', async () => {
    const r = router({ verifier: 'nan', threshold: 0.5 }, { verifiers: { nan: () => Number.NaN } });
    const err = await rejection(r.generate(QUESTION, { model: 'math-cascade' }));
    expect(err.code).toBe('internal');
    expect(err.message).toBe('Verifier "nan" of cascade "math-cascade" returned NaN, expected a number');
    const s = router({ verifier: 'str', threshold: 0.5 }, { verifiers: { str: (() => 'high') as unknown as () => number } });
    expect((await rejection(s.generate(QUESTION, { model: 'math-cascade' }))).message).toMatch(/returned a string \("high"\), expected a number/);
    await Promise.all([r.close(), s.close()]);
  });

  it('a verifier that throws an LLMError keeps its code and its details; the weak step is added beside them', async () => {
    const r = router({ verifier: 'judge', threshold: 0.5 }, { verifiers: { judge: () => Promise.reject(new LLMError({ code: 'timeout', message: 'judge timed out', details: { judgeMs: 30_000 } })) } });
    const err = await rejection(r.generate(QUESTION, { model: 'math-cascade' }));
    expect(err).toMatchObject({ code: 'timeout', message: 'judge timed out' });
    expect(err.details).toMatchObject({ judgeMs: 30_000, cascade: { name: 'math-cascade', weak: { deployment: 'mixtral', usage: { inputTokens: 40 } } } });
    await r.close();
  });
});

describe('cascade: the caller aborts while the verifier runs', () => {
  it('is an aborted error (not internal), with the weak step in details', async () => {
    const controller = new AbortController();
    const verifier = (_request: unknown, _weak: unknown, ctx: { signal?: AbortSignal }) =>
      new Promise<number>((_resolve, reject) => {
        ctx.signal?.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')), { once: true });
        controller.abort();
      });
    const r = router({ verifier: 'slow', threshold: 0.5 }, { verifiers: { slow: verifier } });
    const err = await rejection(r.generate(QUESTION, { model: 'math-cascade', signal: controller.signal }));
    expect(err.code).toBe('aborted');
    expect(err.details).toMatchObject({ cascade: { name: 'math-cascade', weak: { deployment: 'mixtral' } } });
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });
});

describe('cascade: config errors', () => {
  const cases: Array<[string, Partial<Cascade>, RouterOptions, string, RegExp]> = [
    ['an unknown weak model', { weak: 'mistral' }, {}, 'routing.cascades.0.weak', /unknown model "mistral"/],
    ['an unknown strong model', { strong: 'gpt-5' }, {}, 'routing.cascades.0.strong', /unknown model "gpt-5"/],
    ['a name that is a model name', { name: 'gpt-4' }, {}, 'routing.cascades.0.name', /cascade name "gpt-4" is already a model name or alias/],
    ['the same weak and strong model', { strong: 'mixtral' }, {}, 'routing.cascades.0.strong', /strong must differ from weak/],
    ['an unknown verifier', { verifier: 'vibes' }, {}, 'routing.cascades.0.verifier', /unknown verifier "vibes" \(known: arithmetic/],
    ['a custom verifier without a threshold', { verifier: 'mine' }, { verifiers: { mine: () => 0 } }, 'routing.cascades.0.threshold', /has no default threshold/],
    ['a verifier that is not a function', { verifier: 'mine', threshold: 1 }, { verifiers: { mine: 3 as unknown as () => number } }, 'verifiers.mine', /must be a function/],
    ['a custom verifier named like a built-in', {}, { verifiers: { arithmetic: () => 0 } }, 'verifiers.arithmetic', /built-in verifier/],
    ['a threshold that is not a number', { threshold: 'high' as unknown as number }, {}, 'routing.cascades.0.threshold', /number/],
    ['an unknown field', { escalateAbove: 2 } as Partial<Cascade>, {}, 'routing.cascades.0.escalateAbove', /escalateAbove/],
  ];
  for (const [what, cascade, options, param, message] of cases) {
    it(`${what}: config_invalid naming ${param}`, () => {
      const e = thrown(() => router(cascade, options));
      expect(e.code).toBe('config_invalid');
      expect(e.param).toBe(param);
      expect(e.message).toMatch(message);
    });
  }

  it('two cascades with the same name', () => {
    expect(() =>
      router({}, {}, { cascades: [{ name: 'c', weak: 'mixtral', strong: 'gpt-4' }, { name: 'c', weak: 'mixtral', strong: 'gpt-4' }] }),
    ).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'routing.cascades.1.name' }));
  });
});

describe('cascade: the strong call fails after escalation', () => {
  it("onStrongFailure 'error' (default): the strong step's error, prefixed, with the weak step's spend in details", async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    strong.setScript({ error: { status: 400, message: 'context too long' } });
    const r = router();
    const err = await rejection(r.generate(QUESTION, { model: 'math-cascade' }));
    expect(err.code).toBe('invalid_request');
    expect(err.message).toMatch(/^Cascade "math-cascade": the answer of "mixtral" scored [\d.]+ by arithmetic \(threshold 1\), and the strong model "gpt-4" failed: /);
    expect(LLMError.isInstance(err.cause) && err.cause.code).toBe('invalid_request');
    const details = err.details as { cascade: CascadeRecord };
    expect(details.cascade).toMatchObject({ escalated: true, weak: { deployment: 'mixtral' } });
    expect(details.cascade.weak.cost.totalUsd).toBeCloseTo(WEAK_COST, 12);
    await r.close();
  });

  it("onStrongFailure 'weak': the weak answer, marked with the strong step's error; usage and cost of the weak call only", async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    strong.setScript({ error: { status: 500, message: 'boom' } });
    const r = router({ onStrongFailure: 'weak' });
    const result = await r.generate(QUESTION, { model: 'math-cascade' });
    expect(result.text).toBe(WRONG);
    expect(result.deployment).toBe('mixtral');
    expect(result.cascade).toMatchObject({ escalated: true, strongError: { code: 'provider_error' } });
    expect(result.cascade?.strong).toBeUndefined();
    expect(result.cost.totalUsd).toBeCloseTo(WEAK_COST, 12);
    expect(strong.requests).toHaveLength(2); // the strong step's own retry (max 1) ran first
    await r.close();
  });

  it("onStrongFailure 'weak' does not hide the caller's own abort", async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    strong.setScript({ hang: true });
    const r = router({ onStrongFailure: 'weak' });
    const controller = new AbortController();
    const pending = r.generate(QUESTION, { model: 'math-cascade', signal: controller.signal });
    for (let i = 0; i < 400 && strong.requests.length === 0; i++) await new Promise((res) => setTimeout(res, 5));
    expect(strong.requests).toHaveLength(1);
    controller.abort();
    expect((await rejection(pending)).code).toBe('aborted');
    await r.close();
  });
});

describe('cascade: stream', () => {
  it('escalated: nothing before the weak answer is judged, then the strong stream, its finish carrying both calls\' usage', async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    const r = router();
    const s = r.stream(QUESTION, { model: 'math-cascade', requestId: 'req-s' });
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', requestId: 'req-s', deployment: 'gpt-4', model: 'gpt-4-test', cached: false });
    expect(textOf(parts)).toBe(STRONG);
    expect(finishOf(parts).usage).toMatchObject({ inputTokens: 81, outputTokens: 45, totalTokens: 126 });
    expect(parts.filter((p) => p.type === 'text-delta').length).toBeGreaterThan(1); // streamed, word by word
    const result = await s.result;
    expect(result.text).toBe(STRONG);
    expectSummed(result);
    expect(result.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    // The weak step is one non-streamed call (its answer must be complete); the strong step streams.
    expect((weak.requests[0]?.body as { stream?: boolean }).stream).not.toBe(true);
    expect((strong.requests[0]?.body as { stream?: boolean }).stream).toBe(true);
    await r.close();
  });

  it('accepted: the weak answer as stream parts, and the strong server is never called', async () => {
    const r = router();
    const s = r.stream(QUESTION, { model: 'math-cascade' });
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'mixtral', model: 'mixtral-8x7b', cached: false });
    expect(textOf(parts)).toBe(RIGHT);
    expect(finishOf(parts)).toMatchObject({ finishReason: 'stop', usage: { inputTokens: 40, outputTokens: 20, totalTokens: 60 } });
    const result = await s.result;
    expect(result.cascade).toMatchObject({ escalated: false });
    expect(result.cost.totalUsd).toBeCloseTo(WEAK_COST, 12);
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });

  it('.result awaited without iterating settles (the cascade reads itself); unread and unawaited, nothing is called', async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    const r = router();
    const idle = r.stream(QUESTION, { model: 'math-cascade' });
    idle.result.catch(() => {});
    for (let i = 0; i < 3; i++) await new Promise((res) => setImmediate(res));
    expect(weak.requests).toHaveLength(0);
    const result = await r.stream(QUESTION, { model: 'math-cascade' }).result;
    expect(result.text).toBe(STRONG);
    expect(result.cascade).toMatchObject({ escalated: true });
    expectSummed(result);
    // The router's own bookkeeping of the cascade's answer (for feedback) did not make the idle stream run.
    expect(weak.requests).toHaveLength(1);
    await r.close();
  });

  it("a strong stream failing before any content: 'weak' streams the weak answer, 'error' ends with the error part", async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    strong.setScript({ error: { status: 400, message: 'nope' } });
    const keep = router({ onStrongFailure: 'weak' });
    const kept = keep.stream(QUESTION, { model: 'math-cascade' });
    const parts = await collect(kept);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'mixtral' });
    expect(textOf(parts)).toBe(WRONG);
    expect((await kept.result).cascade).toMatchObject({ escalated: true, strongError: { code: 'invalid_request' } });

    const fail = router();
    const failed = fail.stream(QUESTION, { model: 'math-cascade' });
    const failParts = await collect(failed);
    expect(failParts).toHaveLength(1);
    const last = failParts[0]!;
    expect(last.type === 'error' && last.error.code).toBe('invalid_request');
    const err = await rejection(failed.result);
    expect(err.message).toMatch(/^Cascade "math-cascade": .* the strong model "gpt-4" failed/);
    await Promise.all([keep.close(), fail.close()]);
  });

  it('a strong stream cut after its first content ends with an error part (no weak fallback after content)', async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    strong.setScript({ text: 'one two three four five', cutAfterChunks: 3 });
    const r = router({ onStrongFailure: 'weak' });
    const s = r.stream(QUESTION, { model: 'math-cascade' });
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'gpt-4' });
    expect(parts.at(-1)?.type).toBe('error');
    expect(textOf(parts)).not.toContain(WRONG);
    await rejection(s.result);
    await r.close();
  });

  it('a consumer that stops early settles the result as aborted', async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    strong.setScript({ text: 'one two three four five six', chunkDelayMs: 5 });
    const r = router();
    const s = r.stream(QUESTION, { model: 'math-cascade' });
    for await (const part of s) if (part.type === 'text-delta') break;
    expect((await rejection(s.result)).code).toBe('aborted');
    expect(() => s[Symbol.asyncIterator]()).toThrow(/only once/);
    await r.close();
  });

  it('its iterator is iterable itself (as a deployment stream\'s): `for await` over the iterator reads the stream to its end', async () => {
    const r = router();
    const s = r.stream(QUESTION, { model: 'math-cascade' });
    const it = s[Symbol.asyncIterator]() as AsyncIterableIterator<RouterStreamPart>;
    expect(it[Symbol.asyncIterator]()).toBe(it);
    const types: string[] = [];
    for await (const p of it) types.push(p.type);
    expect(types.at(-1)).toBe('finish');
    expect((await s.result).text).toBe(RIGHT);
    await r.close();
  });

  it('a weak step that fails ends the stream with its error part', async () => {
    weak.setScript({ error: { status: 401, message: 'bad key' } });
    const r = router();
    const s = r.stream(QUESTION, { model: 'math-cascade' });
    const parts = await collect(s);
    expect(parts).toHaveLength(1);
    expect(parts[0]?.type).toBe('error');
    expect((await rejection(s.result)).code).toBe('authentication');
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });
});

describe('cascade: tenants (v3)', () => {
  it('a tenant sees and may call a cascade only when its allow-list names it (and its two models)', async () => {
    const v3 = new LLMRouter(
      {
        version: 3,
        models: [
          { name: 'mixtral', engine: 'openai-compatible', baseURL: weak.baseURL, apiKey: 'k', price: WEAK_PRICE },
          { name: 'gpt-4', engine: 'openai-compatible', baseURL: strong.baseURL, apiKey: 'k', price: STRONG_PRICE },
        ],
        routing: { strategy: 'priority', cascades: [{ name: 'math-cascade', weak: 'mixtral', strong: 'gpt-4' }] },
        tenants: [
          { id: 'plain', allowedModels: ['mixtral', 'gpt-4'] },
          { id: 'math', allowedModels: ['mixtral', 'gpt-4', 'math-cascade'] },
          { id: 'weak-only', allowedModels: ['mixtral', 'math-cascade'] },
        ],
      },
      { env: {}, engineFactories: { 'openai-compatible': createOpenAICompatibleEngine } },
    );
    expect(v3.models('plain').map((m) => m.name)).toEqual(['mixtral', 'gpt-4']);
    expect(v3.models('math').map((m) => m.name)).toEqual(['mixtral', 'gpt-4', 'math-cascade']);
    expect(v3.models('weak-only').map((m) => m.name)).toEqual(['mixtral']); // its strong model is not visible
    expect(await rejection(v3.generate(QUESTION, { model: 'math-cascade', tenant: 'plain' }))).toMatchObject({ code: 'permission_denied', param: 'model' });
    expect((await v3.generate(QUESTION, { model: 'math-cascade', tenant: 'math' })).cascade?.escalated).toBe(false);
    await v3.close();
  });

  it('a tenant\'s own model may not take a cascade\'s name or alias (config_invalid naming the field)', async () => {
    const r = router();
    expect(() => r.setTenant({ id: 't', models: [{ name: 'math-cascade', engine: 'openai-compatible', baseURL: weak.baseURL, apiKey: 'k' }] })).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: 'models.0.name' }),
    );
    expect(() => r.setTenant({ id: 't', models: [{ name: 'own', alias: 'math-cascade', engine: 'openai-compatible', baseURL: weak.baseURL, apiKey: 'k' }] })).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: 'models.0.alias' }),
    );
    await r.close();
  });
});

describe('cascade: stream cancel', () => {
  it('while the weak step runs: its request is aborted, the waiting pull ends, .result rejects as aborted', async () => {
    weak.setScript({ hang: true });
    const r = router();
    const s = r.stream(QUESTION, { model: 'math-cascade' });
    const it = s[Symbol.asyncIterator]();
    const pending = it.next();
    await waitFor(() => weak.requests.length === 1);
    const closed = weak.waitForSocketClose(1, 5_000);
    s.cancel!();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect((await rejection(s.result)).code).toBe('aborted');
    await closed;
    expect(strong.requests).toHaveLength(0);
    await r.close();
  });

  it('while the strong step streams: its request is aborted, .result rejects with the weak step\'s spend', async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    strong.setScript({ text: 'one two three four five', hangAfterChunks: 2 });
    const r = router();
    const s = r.stream(QUESTION, { model: 'math-cascade' });
    const it = s[Symbol.asyncIterator]();
    for (;;) {
      const next = await it.next();
      if (next.done) throw new Error('ended before content');
      if (next.value.type === 'text-delta') break;
    }
    const pending = it.next();
    const closed = strong.waitForSocketClose(1, 5_000);
    s.cancel!();
    expect(await pending).toEqual({ done: true, value: undefined });
    const error = await rejection(s.result);
    expect(error.code).toBe('aborted');
    expect(error.details).toMatchObject({ cascade: { name: 'math-cascade', weak: { usage: { totalTokens: 60 } } } });
    await closed;
    // After the end it does nothing.
    s.cancel!();
    expect(await it.next()).toEqual({ done: true, value: undefined });
    await r.close();
  });
});

async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
