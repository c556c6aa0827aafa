/**
 * A stream attempt that fails before its first content part after its engine reported usage (the prompt, as
 * Anthropic's `message_start` says it) was billed for that prompt: the router fails it over (or fails the stream),
 * and the stream's `spent()` says what such attempts cost, at their deployments' prices, for whoever bills a stream
 * that fails (the gateway); an answer a later attempt gives has them in its cost (`failedAttemptsCost`, their tokens
 * in `failedAttemptsUsage`). `beforeAttemptAfterSpend` is asked before each attempt that follows billed ones (a budget
 * extends its reservation there) and can end the call; while it is pending, no attempt (a hedge's neither) is sent.
 * A hedge lane the router cancels after its usage part is billed, whether another lane answered (a hedge loser: in the
 * answer's cost) or the call failed (no lane answered: in spent()), and so is one that answered in the same turn as the
 * winner (too late to be cancelled). Usage that
 * counts no tokens (or is no object, from an engine in plain JS) is none. `generate` bills the same way the attempts
 * whose error carries the usage its provider billed (`REPORTED_USAGE`: a Gemini failed tool call), its final error
 * carrying their spend under `REFUSED_ANSWER`.
 */
import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { withReportedUsage } from '../errors/reported-usage.js';
import { guardCostOf, withGuardCost } from '../semantic-cache/guard-spend.js';
import type { CallOptions, LanguageEngine, StreamPart, Usage } from '../spec/index.js';
import { LLMRouter } from './llm-router.js';
import { refusedAnswerOf } from './refused-answer.js';
import type { RouterEvents, RouterStreamPart } from './types.js';

const PROMPT: Usage = { inputTokens: 1100, outputTokens: 0, totalTokens: 1100, cacheWriteInputTokens: 1000 };
const hello = { messages: [{ role: 'user' as const, content: 'Hi' }] };

/** An engine whose streams send `head` and then fail (`stream_interrupted`), or answer `ok` when `head` is undefined. */
function engine(name: string, head: StreamPart[] | undefined): LanguageEngine {
  return {
    specVersion: 'v1',
    provider: 'custom',
    modelId: name,
    capabilities: { streaming: true },
    generate: () => Promise.reject(new Error('not used')),
    async *stream() {
      if (!head) {
        yield { type: 'text-delta', delta: 'ok' };
        yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 5, outputTokens: 1, totalTokens: 6 } };
        return;
      }
      yield* head;
      yield { type: 'error', error: new LLMError({ code: 'stream_interrupted', message: 'cut' }) };
    },
  } as LanguageEngine;
}

async function parts(stream: AsyncIterable<RouterStreamPart>): Promise<RouterStreamPart[]> {
  const all: RouterStreamPart[] = [];
  for await (const p of stream) all.push(p);
  return all;
}

function router(engines: Record<string, LanguageEngine>, retries = 0) {
  const price = { input: 3, output: 15, cacheWrite: 3.75 };
  return new LLMRouter(
    {
      models: Object.keys(engines).map((name, i) => ({ name, engine: 'custom', priority: i + 1, price: i === 0 ? price : { input: 1, output: 5, cacheWrite: 1.25 } })),
      routing: { strategy: 'priority', retries: { max: retries, initialDelayMs: 0, maxDelayMs: 0 } },
    },
    { engines },
  );
}

describe('RouterStream.spent: prompts reported by attempts that failed before their first content', () => {
  it('a single attempt cut after its usage part: the stream fails and spent() has the prompt at its price', async () => {
    const r = router({ a: engine('a', [{ type: 'usage', usage: PROMPT }]) });
    const stream = r.stream(hello);
    const all = await parts(stream);
    expect(all.map((p) => p.type)).toEqual(['error']);
    // 100 fresh at 3 + 1000 writes at 3.75, per 1M tokens.
    const cost = { inputUsd: 0.00405, outputUsd: 0, totalUsd: 0.00405, estimated: false };
    // The attempt itself too, with its deployment (a consumer that counts spend per deployment labels it there).
    expect(stream.spent?.()).toEqual({ usage: PROMPT, cost, replay: false, failedAttempts: [{ deployment: 'a', model: 'a', provider: 'custom', usage: PROMPT, cost }] });
    await r.close();
  });

  it('a retry and a fallback that answers: spent() sums the failed attempts (each at its deployment price), not the answer', async () => {
    const r = router({ a: engine('a', [{ type: 'usage', usage: PROMPT }]), b: engine('b', undefined) }, 1);
    const stream = r.stream(hello);
    const all = await parts(stream);
    expect(all[0]).toMatchObject({ type: 'route', deployment: 'b' });
    expect((await stream.result).usage.inputTokens).toBe(5);
    const spent = stream.spent?.();
    expect(spent?.usage).toEqual({ inputTokens: 2200, outputTokens: 0, totalTokens: 2200, cacheWriteInputTokens: 2000 });
    expect(spent?.cost.totalUsd).toBeCloseTo(2 * 0.00405, 12);
    await r.close();
  });

  it('the answer a retry or fallback gives is billed the failed attempts: in its cost and failedAttemptsCost, their tokens in failedAttemptsUsage, its usage its own', async () => {
    const r = router({ a: engine('a', [{ type: 'usage', usage: PROMPT }]), b: engine('b', undefined) }, 1);
    const stream = r.stream(hello);
    const all = await parts(stream);
    const result = await stream.result;
    // The finish part and `usage` are the answer's own (what the client is told).
    expect(all.at(-1)).toMatchObject({ type: 'finish', usage: { inputTokens: 5, outputTokens: 1 } });
    expect(result.usage).toEqual({ inputTokens: 5, outputTokens: 1, totalTokens: 6 });
    expect(result.failedAttemptsUsage).toEqual({ inputTokens: 2200, outputTokens: 0, totalTokens: 2200, cacheWriteInputTokens: 2000 });
    expect(result.failedAttemptsCost?.totalUsd).toBeCloseTo(2 * 0.00405, 12);
    // b's answer: 5 input at 1 and 1 output at 5, per 1M tokens; plus the two prompts.
    expect(result.cost.totalUsd).toBeCloseTo(2 * 0.00405 + (5 * 1 + 1 * 5) / 1e6, 12);
    expect(result.cost.inputUsd + result.cost.outputUsd).toBeCloseTo(result.cost.totalUsd, 12);
    // Each failed attempt on its own, with the deployment it was on (a's try and its retry), in the order they failed.
    expect(result.failedAttempts?.map((a) => [a.deployment, a.usage.inputTokens, a.cost.totalUsd])).toEqual([
      ['a', 1100, 0.00405],
      ['a', 1100, 0.00405],
    ]);
    await r.close();
  });

  it('an answer without failed attempts before it has no failedAttempts fields', async () => {
    const r = router({ b: engine('b', undefined) });
    const stream = r.stream(hello);
    await parts(stream);
    const result = await stream.result;
    expect(result.failedAttemptsCost).toBeUndefined();
    expect(result.failedAttemptsUsage).toBeUndefined();
    expect(result.failedAttempts).toBeUndefined();
    expect(stream.spent?.()).toBeUndefined();
    await r.close();
  });

  it('beforeAttemptAfterSpend is asked before each attempt after billed ones, with what was billed since; a rejection ends the stream with its error and sends nothing more', async () => {
    let calls = 0;
    const counting = engine('a', [{ type: 'usage', usage: PROMPT }]);
    const stream0 = counting.stream.bind(counting);
    counting.stream = (...args) => {
      calls++;
      return stream0(...args);
    };
    const r = router({ a: counting }, 3);
    const asked: number[] = [];
    const stream = r.stream(hello, {
      beforeAttemptAfterSpend: async (billed) => {
        asked.push(billed.totalUsd);
        if (asked.length === 2) throw new LLMError({ code: 'budget_exceeded', message: 'no room for another attempt' });
      },
    });
    const all = await parts(stream);
    expect(all.map((p) => p.type)).toEqual(['error']);
    expect(all[0]).toMatchObject({ type: 'error', error: { code: 'budget_exceeded' } });
    await expect(stream.result).rejects.toMatchObject({ code: 'budget_exceeded' });
    // Asked before the second attempt (the first's prompt) and before the third (the second's only), which it refused.
    expect(asked).toHaveLength(2);
    expect(asked[0]).toBeCloseTo(0.00405, 12);
    expect(asked[1]).toBeCloseTo(0.00405, 12);
    expect(calls).toBe(2);
    expect(stream.spent?.()?.cost.totalUsd).toBeCloseTo(2 * 0.00405, 12);
    await r.close();
  });

  it('beforeAttemptAfterSpend is not asked when no failed attempt reported usage', async () => {
    const r = router({ a: engine('a', [{ type: 'response-metadata', id: 'x' }]), b: engine('b', undefined) }, 1);
    let asked = 0;
    const stream = r.stream(hello, { beforeAttemptAfterSpend: () => void asked++ });
    await parts(stream);
    expect((await stream.result).deployment).toBe('b');
    expect(asked).toBe(0);
    await r.close();
  });

  it("a hedge loser cancelled after its usage part is billed: the answer's cost and failedAttempts have its prompt at its price", async () => {
    let onEnded!: () => void;
    const ended = new Promise<void>((resolve) => (onEnded = resolve));
    const slow: LanguageEngine = {
      ...engine('a', undefined),
      async *stream(_request, options) {
        try {
          yield { type: 'usage', usage: PROMPT };
          // Never answers: it waits until the router cancels it (the hedge on b won).
          await new Promise<void>((resolve) => options?.signal?.addEventListener('abort', () => resolve(), { once: true }));
          throw options?.signal?.reason ?? new Error('aborted');
        } finally {
          onEnded();
        }
      },
    } as LanguageEngine;
    const r = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'custom', priority: 1, price: { input: 3, output: 15, cacheWrite: 3.75 } },
          { name: 'b', engine: 'custom', priority: 2, price: { input: 1, output: 5 } },
        ],
        routing: { strategy: 'priority', retries: { max: 0, initialDelayMs: 0, maxDelayMs: 0 }, hedging: { enabled: true, delayMs: 5, maxHedges: 1 } },
      },
      { engines: { a: slow, b: engine('b', undefined) } },
    );
    const stream = r.stream(hello);
    const all = await parts(stream);
    expect(all[0]).toMatchObject({ type: 'route', deployment: 'b' });
    const result = await stream.result;
    await ended;
    const promptA = (PROMPT.inputTokens - PROMPT.cacheWriteInputTokens!) * 3 + PROMPT.cacheWriteInputTokens! * 3.75;
    // The answer's own usage stays b's; a's prompt is apart, under a.
    expect(result.usage).toMatchObject({ inputTokens: 5, outputTokens: 1 });
    expect(result.failedAttemptsUsage).toEqual(PROMPT);
    expect(result.failedAttemptsCost?.totalUsd).toBeCloseTo(promptA / 1e6, 12);
    expect(result.failedAttempts).toEqual([expect.objectContaining({ deployment: 'a', usage: PROMPT })]);
    expect(result.cost.totalUsd).toBeCloseTo((5 * 1 + 1 * 5 + promptA) / 1e6, 12);
    expect(stream.spent?.()?.usage).toEqual(PROMPT);
    await r.close();
  });

  it('a hedge lane that reached its first content in the same turn as the winner (after its usage part) is billed its prompt', async () => {
    const prompt: Usage = { inputTokens: 1000, outputTokens: 0, totalTokens: 1000 };
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let waiting = 0;
    let bothWaiting!: () => void;
    const both = new Promise<void>((resolve) => (bothWaiting = resolve));
    const answering = (name: string): LanguageEngine =>
      ({
        ...engine(name, undefined),
        async *stream() {
          yield { type: 'usage', usage: prompt };
          if (++waiting === 2) bothWaiting();
          await gate;
          yield { type: 'text-delta', delta: name };
          yield { type: 'finish', finishReason: 'stop', usage: { ...prompt, outputTokens: 1, totalTokens: 1001 } };
        },
      }) as LanguageEngine;
    const r = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'custom', priority: 1, price: { input: 3, output: 15 } },
          { name: 'b', engine: 'custom', priority: 2, price: { input: 1, output: 5 } },
        ],
        routing: { strategy: 'priority', retries: { max: 0, initialDelayMs: 0, maxDelayMs: 0 }, hedging: { enabled: true, delayMs: 5, maxHedges: 1 } },
      },
      { engines: { a: answering('a'), b: answering('b') } },
    );
    try {
      const stream = r.stream(hello);
      const iterator = stream[Symbol.asyncIterator]();
      const first = iterator.next();
      await both;
      // Both lanes get their first content part in the same turn: the router cannot cancel the second one.
      open();
      await first;
      for (;;) if ((await iterator.next()).done) break;
      const result = await stream.result;
      const loser = result.deployment === 'a' ? 'b' : 'a';
      expect(result.failedAttempts?.map((f) => f.deployment)).toEqual([loser]);
      expect(result.failedAttemptsUsage?.inputTokens).toBe(prompt.inputTokens);
      expect(result.failedAttemptsCost?.totalUsd).toBeCloseTo((prompt.inputTokens * (loser === 'a' ? 3 : 1)) / 1e6, 12);
      expect(stream.spent?.()?.usage.inputTokens).toBe(prompt.inputTokens);
    } finally {
      await r.close();
    }
  });

  it('the last usage part counts; one with no tokens, or that is no object, is none; an attempt cut with no usage part adds nothing', async () => {
    const later: Usage = { inputTokens: 1200, outputTokens: 0, totalTokens: 1200 };
    const r1 = router({ a: engine('a', [{ type: 'usage', usage: PROMPT }, { type: 'usage', usage: later }]) });
    const s1 = r1.stream(hello);
    await parts(s1);
    expect(s1.spent?.()?.usage).toEqual(later);
    const r2 = router({ a: engine('a', [{ type: 'usage', usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } }]), b: engine('b', [{ type: 'usage', usage: null as unknown as Usage }]) });
    const s2 = r2.stream(hello);
    expect((await parts(s2)).map((p) => p.type)).toEqual(['error']);
    expect(s2.spent?.()).toBeUndefined();
    const r3 = router({ a: engine('a', [{ type: 'response-metadata', id: 'x' }]) });
    const s3 = r3.stream(hello);
    await parts(s3);
    expect(s3.spent?.()).toBeUndefined();
    await Promise.all([r1.close(), r2.close(), r3.close()]);
  });
});

const PROMPT_A: Usage = { inputTokens: 1000, outputTokens: 0, totalTokens: 1000 };
const PROMPT_B: Usage = { inputTokens: 2000, outputTokens: 0, totalTokens: 2000 };
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `a`: its first stream reports the prompt (once `cutWhen` resolved, when given) and is cut before content (retryable);
 * later ones answer.
 */
function cutOnce(cutWhen?: Promise<void>): LanguageEngine & { calls: number } {
  const e = {
    specVersion: 'v1',
    provider: 'custom',
    modelId: 'a',
    capabilities: { streaming: true },
    calls: 0,
    generate: () => Promise.reject(new Error('not used')),
    async *stream() {
      if (e.calls++ === 0) {
        if (cutWhen) await cutWhen;
        yield { type: 'usage', usage: PROMPT_A };
        yield { type: 'error', error: new LLMError({ code: 'stream_interrupted', message: 'cut after message_start', isRetryable: true }) };
        return;
      }
      yield { type: 'text-delta', delta: 'late answer' };
      yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 5, outputTokens: 1, totalTokens: 6 } };
    },
  };
  return e as unknown as LanguageEngine & { calls: number };
}

/**
 * `b`: reports its prompt (message_start), then waits for content that never comes until its signal aborts; `reported`
 * resolves once the router took its usage part.
 */
function promptThenHang(): LanguageEngine & { calls: number; reported: Promise<void> } {
  let onReported!: () => void;
  const e = {
    specVersion: 'v1',
    provider: 'custom',
    modelId: 'b',
    capabilities: { streaming: true },
    calls: 0,
    reported: new Promise<void>((resolve) => (onReported = resolve)),
    generate: () => Promise.reject(new Error('not used')),
    async *stream(_request: unknown, options: CallOptions) {
      e.calls++;
      yield { type: 'usage', usage: PROMPT_B };
      onReported();
      await new Promise<void>((resolve) => {
        if (options.signal?.aborted) resolve();
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      yield { type: 'error', error: new LLMError({ code: 'aborted', message: 'aborted' }) };
    },
  };
  return e as unknown as LanguageEngine & { calls: number; reported: Promise<void> };
}

const HEDGE_MS = 20;

/**
 * The router's waits (`sleep`) where the test says when the hedge starts: the hedge's (HEDGE_MS) ends once `due`
 * resolved, a retry's (0 ms) at once; either ends early when its signal aborts (the call settled).
 */
function hedgeWhen(due: Promise<void>) {
  return (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      if (ms === HEDGE_MS) void due.then(() => resolve());
      else resolve();
    });
}

/** a then b, one retry, a hedge on b after HEDGE_MS (or when `sleep` says). */
function hedgedRouter(engines: Record<string, LanguageEngine>, sleep?: (ms: number, signal?: AbortSignal) => Promise<void>) {
  return new LLMRouter(
    {
      models: [
        { name: 'a', engine: 'custom', priority: 1, price: { input: 3, output: 15 } },
        { name: 'b', engine: 'custom', priority: 2, price: { input: 1, output: 5 } },
      ],
      routing: { strategy: 'priority', retries: { max: 1, initialDelayMs: 0, maxDelayMs: 0 }, hedging: { enabled: true, delayMs: HEDGE_MS, maxHedges: 1 }, circuitBreaker: { enabled: false } },
    },
    { engines, ...(sleep ? { sleep } : {}) },
  );
}

/** The budget refuses the extension after a store round trip (100 ms): the call fails with budget_exceeded. */
const refuseAfter100ms = async (): Promise<void> => {
  await delay(100);
  throw new LLMError({ code: 'budget_exceeded', message: 'no room for the retry' });
};

describe('RouterStream.spent with hedging: a retry after a billed attempt refused by beforeAttemptAfterSpend', () => {
  it('a hedge lane the router cancels because the call failed (no lane answered) had reported its prompt: spent() counts it', async () => {
    // a is cut once the hedge on b got its message_start.
    const b = promptThenHang();
    const a = cutOnce(b.reported);
    const r = hedgedRouter({ a, b });
    const stream = r.stream(hello, { beforeAttemptAfterSpend: refuseAfter100ms });
    const all = await parts(stream);
    expect(all.map((p) => p.type)).toEqual(['error']);
    expect(all[0]).toMatchObject({ error: { code: 'budget_exceeded' } });
    // b was sent before any attempt was billed; it lost to nothing, so the provider's bill for its prompt stands.
    expect(a.calls).toBe(1);
    expect(b.calls).toBe(1);
    const spent = stream.spent?.();
    expect(spent?.usage.inputTokens).toBe(PROMPT_A.inputTokens + PROMPT_B.inputTokens);
    expect(spent?.cost.totalUsd).toBeCloseTo((PROMPT_A.inputTokens * 3 + PROMPT_B.inputTokens * 1) / 1e6, 12);
    await r.close();
  });

  it('while the admission after a billed attempt is pending, no other attempt goes upstream (a hedge waits for it; a rejection sends nothing more)', async () => {
    const a = cutOnce();
    const b = promptThenHang();
    // The hedge starts while the admission is pending (when it is asked), not after HEDGE_MS of wall clock.
    let admitting!: () => void;
    const r = hedgedRouter({ a, b }, hedgeWhen(new Promise<void>((resolve) => (admitting = resolve))));
    const hedged = new Promise<void>((resolve) => r.on('hedge', () => resolve()));
    let bCallsWhileAdmitting: number | undefined;
    let asked = 0;
    const stream = r.stream(hello, {
      beforeAttemptAfterSpend: async () => {
        asked++;
        admitting();
        await hedged;
        // A store round trip: room for a hedge that did not wait to reach b.
        await delay(50);
        bCallsWhileAdmitting = b.calls;
        throw new LLMError({ code: 'budget_exceeded', message: 'no room for the retry' });
      },
    });
    const all = await parts(stream);
    expect(all[0]).toMatchObject({ type: 'error', error: { code: 'budget_exceeded' } });
    // The hedge started during the admission: it waited for the same admission (asked once).
    expect(bCallsWhileAdmitting).toBe(0);
    expect(asked).toBe(1);
    expect(a.calls).toBe(1);
    expect(b.calls).toBe(0);
    expect(stream.spent?.()?.usage.inputTokens).toBe(PROMPT_A.inputTokens);
    await r.close();
  });

  it("a pending admission that is granted lets the hedge waiting on it go: the first answer wins, billed the cut prompt and the losing hedge's", async () => {
    const a = cutOnce();
    const b = promptThenHang();
    let admitting!: () => void;
    const r = hedgedRouter({ a, b }, hedgeWhen(new Promise<void>((resolve) => (admitting = resolve))));
    const hedged = new Promise<void>((resolve) => r.on('hedge', () => resolve()));
    let asked = 0;
    const stream = r.stream(hello, {
      beforeAttemptAfterSpend: async () => {
        asked++;
        admitting();
        // Granted once the hedge waits on it.
        await hedged;
      },
    });
    const all = await parts(stream);
    expect(all.at(-1)).toMatchObject({ type: 'finish' });
    const result = await stream.result;
    expect(asked).toBe(1);
    // a's retry answered; the hedge on b, cancelled after its message_start, had its prompt billed too.
    expect(result.deployment).toBe('a');
    expect(result.failedAttemptsUsage?.inputTokens).toBe(PROMPT_A.inputTokens + PROMPT_B.inputTokens);
    expect(result.failedAttempts?.map((f) => f.deployment).sort()).toEqual(['a', 'b']);
    await r.close();
  });
});

describe('generate: attempts whose provider answered and billed what is no usable answer (REPORTED_USAGE) are billed as a stream\'s', () => {
  /** An engine whose generate fails with the model's unusable answer, billed `PROMPT` (a Gemini failed tool call), or answers when `fails` is false. */
  function billedFailure(name: string, fails: boolean): LanguageEngine {
    return {
      specVersion: 'v1',
      provider: 'custom',
      modelId: name,
      capabilities: { streaming: true },
      generate: () =>
        fails
          ? Promise.reject(new LLMError({ code: 'invalid_response', message: 'malformed tool call', modelFault: true, details: withReportedUsage({ finishReason: 'MALFORMED_FUNCTION_CALL' }, PROMPT) }))
          : Promise.resolve({ text: 'ok', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 5, outputTokens: 1, totalTokens: 6 } }),
      stream: () => {
        throw new Error('not used');
      },
    } as LanguageEngine;
  }
  const cost = { inputUsd: 0.00405, outputUsd: 0, totalUsd: 0.00405, estimated: false };
  const attempt = { deployment: 'a', model: 'a', provider: 'custom', usage: PROMPT, cost };

  it('a retry and a fallback that answers: the answer has them in its cost and failedAttempts fields, its usage its own; no strike on the circuit', async () => {
    const r = router({ a: billedFailure('a', true), b: billedFailure('b', false) }, 1);
    const result = await r.generate(hello);
    expect(result.deployment).toBe('b');
    expect(result.usage.inputTokens).toBe(5);
    expect(result.failedAttemptsUsage).toEqual({ inputTokens: 2200, outputTokens: 0, totalTokens: 2200, cacheWriteInputTokens: 2000 });
    expect(result.failedAttemptsCost?.totalUsd).toBeCloseTo(2 * 0.00405, 12);
    expect(result.failedAttempts).toEqual([attempt, attempt]);
    // The answer's own (5 in at 1, 1 out at 5, per 1M) plus the failed attempts'.
    expect(result.cost.totalUsd).toBeCloseTo(2 * 0.00405 + 0.00001, 12);
    // The model's answer, not the deployment failing (`modelFault`): neither attempt struck a's circuit.
    expect(result.attempts.filter((a) => a.deployment === 'a').map((a) => a.strike)).toEqual([undefined, undefined]);
    await r.close();
  });

  it("no attempt answers: the call's error carries their sum and each attempt under REFUSED_ANSWER", async () => {
    const r = router({ a: billedFailure('a', true) }, 2);
    const e = await r.generate(hello).then(
      () => undefined,
      (x: unknown) => x as LLMError,
    );
    expect(e).toMatchObject({ code: 'invalid_response', details: { finishReason: 'MALFORMED_FUNCTION_CALL' } });
    const refused = refusedAnswerOf(e!.details);
    expect(refused?.usage).toEqual({ inputTokens: 3300, outputTokens: 0, totalTokens: 3300, cacheWriteInputTokens: 3000 });
    expect(refused?.cost.totalUsd).toBeCloseTo(3 * 0.00405, 12);
    expect(refused?.failedAttempts).toEqual([attempt, attempt, attempt]);
    await r.close();
  });

  it('no attempt answers: its request:end says what was billed (spent, which its span carries), as its error does', async () => {
    const r = router({ a: billedFailure('a', true) }, 2);
    const ends: Array<RouterEvents['request:end']> = [];
    r.on('request:end', (e) => ends.push(e));
    await expect(r.generate(hello)).rejects.toMatchObject({ code: 'invalid_response' });
    expect(ends).toHaveLength(1);
    expect(ends[0]!.spent?.usage).toEqual({ inputTokens: 3300, outputTokens: 0, totalTokens: 3300, cacheWriteInputTokens: 3000 });
    expect(ends[0]!.spent?.cost.totalUsd).toBeCloseTo(3 * 0.00405, 12);
    await r.close();
  });

  it("a cascade whose strong step fails so: its error ('error') and the weak answer ('weak') carry the strong step's billed attempts", async () => {
    const wrong: LanguageEngine = { ...billedFailure('w', false), generate: () => Promise.resolve({ text: 'She makes 9 * 2 = 19 dollars.\n#### 19', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 5, outputTokens: 1, totalTokens: 6 } }) };
    for (const onStrongFailure of ['error', 'weak'] as const) {
      const r = new LLMRouter(
        {
          models: [
            { name: 'w', engine: 'custom', priority: 1, price: { input: 1, output: 5 } },
            { name: 'a', engine: 'custom', priority: 2, price: { input: 3, output: 15, cacheWrite: 3.75 } },
          ],
          routing: { strategy: 'priority', retries: { max: 0 }, cascades: [{ name: 'c', weak: 'w', strong: 'a', verifier: 'arithmetic', onStrongFailure }] },
        },
        { engines: { w: wrong, a: billedFailure('a', true) } },
      );
      if (onStrongFailure === 'error') {
        const e = await r.generate(hello, { model: 'c' }).then(
          () => undefined,
          (x: unknown) => x as LLMError,
        );
        expect(e?.details).toMatchObject({ cascade: { escalated: true } });
        expect(refusedAnswerOf(e!.details)).toEqual({ usage: PROMPT, cost, failedAttempts: [attempt] });
      } else {
        const result = await r.generate(hello, { model: 'c' });
        expect(result.deployment).toBe('w');
        expect(result.failedAttemptsUsage).toEqual(PROMPT);
        expect(result.failedAttempts).toEqual([attempt]);
        expect(result.cost.totalUsd).toBeCloseTo(0.00001 + 0.00405, 12);
      }
      await r.close();
    }
  });

  it("a final error whose details are a list (a proxy's JSON-list error body) keeps its billed attempts, a guard call's cost added on top too", async () => {
    const list = [{ message: 'bad request upstream' }];
    const refuses: LanguageEngine = { ...billedFailure('b', false), generate: () => Promise.reject(new LLMError({ code: 'invalid_request', message: 'bad request upstream', details: list })) };
    const r = router({ a: billedFailure('a', true), b: refuses });
    const e = await r.generate(hello).then(
      () => undefined,
      (x: unknown) => x as LLMError,
    );
    expect(e?.code).toBe('invalid_request');
    expect(Array.isArray(e!.details) && [...e!.details]).toEqual(list);
    expect(refusedAnswerOf(e!.details)).toEqual({ usage: PROMPT, cost, failedAttempts: [attempt] });
    const guard = { inputUsd: 0.001, outputUsd: 0, totalUsd: 0.001, estimated: false };
    const guarded = withGuardCost(e!, guard);
    expect(guardCostOf(guarded)).toEqual(guard);
    expect(refusedAnswerOf(guarded.details)).toEqual({ usage: PROMPT, cost, failedAttempts: [attempt] });
    expect([...(guarded.details as unknown[])]).toEqual(list);
    await r.close();
  });

  it('an engine error whose details are a list carries its reported usage as a list (withReportedUsage): the final error keeps the list and bills each attempt', async () => {
    const list = [{ message: 'malformed tool call' }];
    const shown = withReportedUsage(list, PROMPT);
    // A copy: still a list, the entries as they were, the usage under its symbol; the engine's own list untouched.
    expect(Array.isArray(shown) && [...shown]).toEqual(list);
    expect(Object.getOwnPropertySymbols(list)).toEqual([]);
    const listed: LanguageEngine = {
      ...billedFailure('a', false),
      generate: () => Promise.reject(new LLMError({ code: 'invalid_response', message: 'malformed tool call', modelFault: true, details: withReportedUsage(list, PROMPT) })),
    };
    const r = router({ a: listed }, 1);
    const e = await r.generate(hello).then(
      () => undefined,
      (x: unknown) => x as LLMError,
    );
    expect(e?.code).toBe('invalid_response');
    expect(Array.isArray(e!.details) && [...e!.details]).toEqual(list);
    const refused = refusedAnswerOf(e!.details);
    expect(refused?.usage).toEqual({ inputTokens: 2200, outputTokens: 0, totalTokens: 2200, cacheWriteInputTokens: 2000 });
    expect(refused?.cost.totalUsd).toBeCloseTo(2 * 0.00405, 12);
    expect(refused?.failedAttempts).toEqual([attempt, attempt]);
    await r.close();
  });

  it("a streamed cascade whose weak step fails so: the stream's error and spent() carry the weak step's billed attempts", async () => {
    const r = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'custom', priority: 1, price: { input: 3, output: 15, cacheWrite: 3.75 } },
          { name: 's', engine: 'custom', priority: 2, price: { input: 1, output: 5 } },
        ],
        routing: { strategy: 'priority', retries: { max: 1, initialDelayMs: 0, maxDelayMs: 0 }, cascades: [{ name: 'c', weak: 'a', strong: 's', verifier: 'arithmetic' }] },
      },
      { engines: { a: billedFailure('a', true), s: engine('s', undefined) } },
    );
    const stream = r.stream(hello, { model: 'c' });
    const all = await parts(stream);
    expect(all.map((p) => p.type)).toEqual(['error']);
    const twice = { inputTokens: 2200, outputTokens: 0, totalTokens: 2200, cacheWriteInputTokens: 2000 };
    expect(refusedAnswerOf((all[0] as { error: LLMError }).error.details)?.usage).toEqual(twice);
    const spent = stream.spent?.();
    expect(spent).toMatchObject({ usage: twice, replay: false, failedAttempts: [attempt, attempt] });
    expect(spent?.cost.totalUsd).toBeCloseTo(2 * 0.00405, 12);
    await r.close();
  });

  it('beforeAttemptAfterSpend is asked before each attempt after a billed one; a rejection ends the call with its error, billed what was spent', async () => {
    const r = router({ a: billedFailure('a', true), b: billedFailure('b', false) }, 1);
    const asked: number[] = [];
    const stop = new LLMError({ code: 'budget_exceeded', message: 'no more' });
    const e = await r
      .generate(hello, {
        beforeAttemptAfterSpend: (billed) => {
          asked.push(billed.totalUsd);
          return asked.length === 2 ? Promise.reject(stop) : Promise.resolve();
        },
      })
      .then(
        () => undefined,
        (x: unknown) => x as LLMError,
      );
    expect(asked.length).toBe(2);
    expect(asked[0]).toBeCloseTo(0.00405, 12);
    expect(e?.code).toBe('budget_exceeded');
    expect(refusedAnswerOf(e!.details)?.usage.inputTokens).toBe(2200);
    await r.close();
  });
});
