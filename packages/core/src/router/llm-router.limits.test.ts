import { describe, expect, it } from 'vitest';
import type { RouterConfigInput } from '../config/schema.js';
import { MockEngine, type MockEngineOptions } from '../engines/mock/mock-engine.js';
import { LLMError } from '../errors/llm-error.js';
import type { GenerateRequest, GenerateResult, LanguageEngine, StreamPart } from '../spec/index.js';
import { LLMRouter } from './llm-router.js';
import type { RouterOptions } from './types.js';
import { collect } from '../test/async.test-helpers.js';

type Model = RouterConfigInput['models'][number];

/** An engine whose calls wait until released, so tests can hold a deployment busy. */
class GateEngine implements LanguageEngine {
  readonly specVersion = 'v1' as const;
  readonly provider = 'gate';
  readonly capabilities = { streaming: true };
  readonly requests: GenerateRequest[] = [];
  private readonly waiting: Array<() => void> = [];

  constructor(readonly modelId: string) {}

  /** Lets the oldest waiting call answer. */
  open(): void {
    this.waiting.shift()?.();
  }

  get held(): number {
    return this.waiting.length;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    this.requests.push(request);
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return { text: 'ok', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
  }

  async *stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    const r = await this.generate(request);
    yield { type: 'text-delta', delta: r.text };
    yield { type: 'finish', finishReason: 'stop', usage: r.usage };
  }
}

function router(models: Model[], engines: Record<string, LanguageEngine>, extra: Partial<RouterOptions> & { routing?: RouterConfigInput['routing'] } = {}) {
  const { routing, ...options } = extra;
  return new LLMRouter(
    { models, routing: { strategy: 'priority', retries: { max: 0 }, ...routing } },
    { engines, sleep: async () => {}, ...options },
  );
}

function mocks(spec: Record<string, MockEngineOptions>): Record<string, MockEngine> {
  return Object.fromEntries(Object.entries(spec).map(([name, o]) => [name, new MockEngine({ modelId: name, reply: `from ${name}`, ...o })]));
}

/** The LLMError a call rejects with. */
function failure(p: Promise<unknown>): Promise<LLMError> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => (LLMError.isInstance(e) ? e : Promise.reject(e)),
  );
}

/** `a` (held by a gate engine, at most 1 call at a time) before the unlimited mock `b`. */
function busyRouter() {
  const gate = new GateEngine('gate-model');
  const r = router(
    [
      { name: 'a', engine: 'mock', priority: 1, limits: { maxConcurrency: 1 } },
      { name: 'b', engine: 'mock', priority: 2 },
    ],
    { a: gate, ...mocks({ b: {} }) },
  );
  return { r, gate };
}

/** Waits (bounded) until `cond` holds: calls reach the engine after a few microtasks. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(cond()).toBe(true);
}

describe('LLMRouter: per-deployment limits', () => {
  it('maxConcurrency: a busy deployment is skipped (with the reason in route()) and the next one answers', async () => {
    const { r, gate } = busyRouter();
    const first = r.generate('one');
    await until(() => gate.held === 1);

    const decision = await r.route('two');
    expect(decision.order).toEqual(['b']);
    expect(decision.excluded).toEqual([{ name: 'a', reason: 'saturated: at its concurrency limit (1/1 in flight)', kind: 'saturated' }]);
    const second = await r.generate('two');
    expect(second.deployment).toBe('b');
    expect(gate.requests).toHaveLength(1);

    gate.open();
    expect((await first).deployment).toBe('a');
    const third = r.generate('three');
    await until(() => gate.held === 1);
    gate.open();
    expect((await third).deployment).toBe('a');
    expect(r.stats()['a']!.inFlight).toBe(0);
  });

  it('every candidate saturated -> rate_limited with retryAfterMs = the soonest one to free up (rpm, injected clock)', async () => {
    let now = 0;
    const r = router(
      [
        { name: 'a', engine: 'mock', priority: 1, limits: { rpm: 2 } },
        { name: 'b', engine: 'mock', priority: 2, limits: { rpm: 6 } },
      ],
      mocks({ a: {}, b: {} }),
      { now: () => now },
    );
    const served: string[] = [];
    for (let i = 0; i < 8; i++) served.push((await r.generate(`q${i}`)).deployment);
    expect(served).toEqual(['a', 'a', 'b', 'b', 'b', 'b', 'b', 'b']);

    const error = await failure(r.generate('one more'));
    // a frees a request slot after 60000/2 ms, b after 60000/6 ms: come back in 10 s.
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 10_000, isRetryable: true, statusCode: 429 });
    expect(error.message).toContain('a: saturated: rpm limit 2 reached (a request frees up in ~30000 ms)');
    expect(error.message).toContain('b: saturated: rpm limit 6 reached (a request frees up in ~10000 ms)');
    await expect(r.route('x')).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 10_000 });

    now += 10_000;
    expect((await r.generate('later')).deployment).toBe('b');
  });

  it('a stream is routed around a saturated deployment too; when all are busy it ends with a rate_limited error part', async () => {
    const gate = new GateEngine('gate-model');
    const gateB = new GateEngine('b-model');
    const r = router(
      [
        { name: 'a', engine: 'mock', priority: 1, limits: { maxConcurrency: 1 } },
        { name: 'b', engine: 'mock', priority: 2, limits: { maxConcurrency: 1 } },
      ],
      { a: gate, b: gateB },
    );
    const held = r.stream('one');
    const heldParts = collect(held);
    await until(() => gate.held === 1);
    const b = r.stream('two');
    const bParts = collect(b);
    await until(() => r.stats()['b']!.inFlight === 1);

    const third = await collect(r.stream('three'));
    expect(third).toHaveLength(1);
    expect(third[0]).toMatchObject({ type: 'error', error: { code: 'rate_limited', retryAfterMs: 1_000 } });

    gate.open();
    expect((await heldParts)[0]).toMatchObject({ type: 'route', deployment: 'a' });
    gateB.open();
    expect((await bParts)[0]).toMatchObject({ type: 'route', deployment: 'b' });
  });

  it('tpm: admission charges the estimate, the real usage corrects it (generate and stream)', async () => {
    // Each call is estimated at 8 prompt tokens + 10 maxTokens = 18; the mock really uses 2-3.
    // Without the correction a tpm of 40 would admit only 2 calls a minute.
    const r = router([{ name: 'a', engine: 'mock', limits: { tpm: 40 } }], mocks({ a: { reply: 'ok' } }), { now: () => 0 });
    for (let i = 0; i < 5; i++) expect((await r.generate('x', { maxTokens: 10 })).usage.totalTokens).toBe(2);
    for (let i = 0; i < 5; i++) {
      const s = r.stream('x', { maxTokens: 10 });
      await collect(s);
      expect((await s.result).deployment).toBe('a');
    }
  });

  it('tpm: a failed attempt keeps its charge, so the deployment is skipped sooner', async () => {
    const r = router(
      [
        { name: 'a', engine: 'mock', priority: 1, limits: { tpm: 30 } },
        { name: 'b', engine: 'mock', priority: 2 },
      ],
      mocks({ a: { failures: [{ code: 'provider_unavailable' }] }, b: {} }),
      { now: () => 0 },
    );
    const first = await r.generate('x', { maxTokens: 10 });
    expect(first.deployment).toBe('b');
    expect(first.attempts.map((a) => [a.deployment, a.ok])).toEqual([
      ['a', false],
      ['b', true],
    ]);
    const d = await r.route('x', { maxTokens: 10 });
    expect(d.order).toEqual(['b']);
    expect(d.excluded[0]!.reason).toMatch(/^saturated: tpm limit 30: ~18 more tokens do not fit/);
  });

  it('retries count against rpm: a retry over the limit moves on without calling, and the last error says when', async () => {
    const engines = mocks({ a: { failures: [{ code: 'provider_unavailable', times: 5 }] }, b: {} });
    const r = router(
      [
        { name: 'a', engine: 'mock', priority: 1, limits: { rpm: 1 } },
        { name: 'b', engine: 'mock', priority: 2 },
      ],
      engines,
      { now: () => 0, routing: { retries: { max: 3, initialDelayMs: 1, maxDelayMs: 1 } } },
    );
    const answer = await r.generate('x');
    expect(answer.deployment).toBe('b');
    expect(engines['a']!.calls).toBe(1);

    const alone = router([{ name: 'a', engine: 'mock', limits: { rpm: 1 } }], mocks({ a: { failures: [{ code: 'provider_unavailable', times: 5 }] } }), {
      now: () => 0,
      routing: { retries: { max: 3, initialDelayMs: 1, maxDelayMs: 1 } },
    });
    const error = await failure(alone.generate('x'));
    expect(error).toMatchObject({ code: 'rate_limited', deployment: 'a', retryAfterMs: 60_000 });
    expect(error.message).toBe('Deployment "a" is saturated: rpm limit 1 reached (a request frees up in ~60000 ms)');
  });

  it('configured fallbacks at their limits are left out of the order', async () => {
    const gate = new GateEngine('c-model');
    const r = router(
      [
        { name: 'a', engine: 'mock', priority: 1 },
        { name: 'c', engine: 'mock', priority: 2, enabled: true, limits: { maxConcurrency: 1 } },
      ],
      { ...mocks({ a: {} }), c: gate },
      { routing: { fallbacks: ['c'], fallbackToRanked: false } },
    );
    expect((await r.route('x')).order).toEqual(['a', 'c']);
    const held = r.generate('hold', { model: 'c' });
    await until(() => gate.held === 1);
    expect((await r.route('x')).order).toEqual(['a']);
    gate.open();
    await held;
  });

  it('load() replacing a deployment keeps its calls in flight and its windows', async () => {
    const { r, gate } = busyRouter();
    const first = r.generate('one');
    await until(() => gate.held === 1);
    r.load({ name: 'a', engine: 'mock', priority: 1, limits: { maxConcurrency: 1 } });
    expect((await r.route('two')).excluded).toEqual([{ name: 'a', reason: 'saturated: at its concurrency limit (1/1 in flight)', kind: 'saturated' }]);
    gate.open();
    await first;
    expect((await r.route('two')).order[0]).toBe('a');
  });
});

describe('LLMRouter: maxOutputTokens', () => {
  it('clamps maxTokens above a deployment\'s maxOutputTokens (absent stays absent); the context window counts the clamped value', async () => {
    const seen: GenerateRequest[] = [];
    const engine = new MockEngine({ modelId: 'small' });
    const generate = engine.generate.bind(engine);
    engine.generate = (req, o) => {
      seen.push(req);
      return generate(req, o);
    };
    const r = router([{ name: 'small', engine: 'mock', maxOutputTokens: 3, contextWindow: 20 }], { small: engine });
    const clamped = await r.generate('please answer at length', { maxTokens: 1_000 });
    expect(seen[0]!.maxTokens).toBe(3);
    expect(clamped.text.split(/\s+/)).toHaveLength(3);
    await r.generate('short', { maxTokens: 2 });
    expect(seen[1]!.maxTokens).toBe(2);
    await r.generate('free');
    expect(seen[2]!.maxTokens).toBeUndefined();

    // ~12 prompt tokens + 3 (clamped) fits a window of 20; 12 + 1000 would not.
    expect((await r.route('please answer at length', { maxTokens: 1_000 })).order).toEqual(['small']);
    const tooLong = await failure(r.generate('x'.repeat(80), { maxTokens: 1_000 }));
    expect([tooLong.code, tooLong.param]).toEqual(['context_length_exceeded', 'messages']);
    expect(tooLong.message).toContain('(~27 input + 3 maxTokens)');
  });

  it('streams are clamped the same way', async () => {
    const r = router([{ name: 'small', engine: 'mock', maxOutputTokens: 2 }], mocks({ small: { reply: undefined } }));
    const s = r.stream('one two three four five', { maxTokens: 50 });
    const text = (await collect(s))
      .filter((p) => p.type === 'text-delta')
      .map((p) => (p as { delta: string }).delta)
      .join('');
    expect(text.trim().split(/\s+/)).toHaveLength(2);
  });
});
