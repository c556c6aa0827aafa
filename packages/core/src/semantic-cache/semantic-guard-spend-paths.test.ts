/**
 * A paid semantic guard call is reported on every path, its cost and its tokens, the same on `generate` and `stream`:
 * on the error of a call that fails after the guard said NO whatever the shape of the provider's error body
 * (`guardCostOf`, `guardUsageOf`), in the
 * `spent()` of a guard-approved hit's stream abandoned during its replay, and in the `spent()` of a cascade stream
 * cancelled while its weak step runs. Over real HTTP as semantic-guard-miss-cost.test.ts: a local server speaking
 * the OpenAI wire format serves the model, the guard model and the embeddings.
 */
import { describe, expect, it } from 'vitest';
import { createOpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import { LLMRouter } from '../router/llm-router.js';
import type { RouterStreamPart } from '../router/types.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import { guardCostOf, guardUsageOf } from './guard-spend.js';
import { GUARD_EVERY_MATCH, GUARD_TOKENS, GUARD_USAGE, GUARD_USD, guardWireModels, MAIN_PRICE, useGuardWireUpstream } from './__fixtures__/guard-wire-upstream.js';

const up = useGuardWireUpstream();
const calls = (model: string) => up.calls(model);

function router() {
  return new LLMRouter(
    {
      models: guardWireModels(up, (wire) => [{ name: 'big', ...wire, model: 'big-test', price: MAIN_PRICE, capabilities: ['chat', 'streaming'] }]),
      routing: { strategy: 'priority', retries: { max: 0 }, cascades: [{ name: 'c', weak: 'main', strong: 'big', verifier: 'always', threshold: 0.5 }] },
      cache: { semantic: GUARD_EVERY_MATCH },
    },
    { engineFactories: { 'openai-compatible': createOpenAICompatibleEngine }, env: {}, verifiers: { always: () => 1 } },
  );
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

describe('guard spend on every path', () => {
  it('generate: a provider error whose body is a JSON list still carries the guard call (the stream reports it)', async () => {
    const r = router();
    await r.generate('how tall is mount everest', { model: 'main' });
    // An upstream (a proxy) answering 400 with a JSON list body: the error's details are that list.
    up.script.main = { error: { status: 400, body: [{ message: 'bad request upstream' }] } };
    const s = r.stream('how tall is mount everest now', { model: 'main' });
    expect((await collect(s)).at(-1)?.type).toBe('error');
    // Streamed: the guard call is reported, its cost and its tokens.
    expect(s.spent?.()?.cost.totalUsd).toBeCloseTo(GUARD_USD, 12);
    expect(s.spent?.()?.guardUsage).toEqual(GUARD_TOKENS);
    const error = await rejection(r.generate('how tall is mount everest today', { model: 'main' }));
    expect(calls('guard-test')).toBe(2);
    expect(Array.isArray(error.details)).toBe(true);
    // Non-streamed: the same paid guard call is on the error (what the gateway bills from), the list kept as it was.
    expect(structuredClone(error.details)).toEqual([{ message: 'bad request upstream' }]);
    expect(guardCostOf(error)?.totalUsd).toBeCloseTo(GUARD_USD, 12);
    expect(guardUsageOf(error)).toEqual(GUARD_TOKENS);
    await r.close();
  });

  it('stream: a guard-approved semantic hit abandoned during its replay still reports the guard call it paid', async () => {
    const r = router();
    await r.generate('how tall is mount everest', { model: 'main' });
    up.script.guard = { text: 'YES', usage: GUARD_USAGE };
    // Non-streamed, the hit costs the guard call.
    const hit = await r.generate('how tall is mount everest today', { model: 'main' });
    expect({ cached: hit.cached, usd: hit.cost.totalUsd, guardUsage: hit.guardUsage }).toEqual({ cached: 'semantic', usd: hit.guardCost?.totalUsd, guardUsage: GUARD_TOKENS });
    const s = r.stream('how tall is mount everest now', { model: 'main' });
    const it = s[Symbol.asyncIterator]();
    const first = (await it.next()).value as RouterStreamPart;
    expect(first).toMatchObject({ type: 'route', cached: 'semantic' });
    expect(calls('guard-test')).toBe(2);
    // The consumer (a client that went away) closes the stream during the replay.
    await it.return?.(undefined);
    // The guard call was paid in full: the stream's spend says so (the gateway's SseFrames.close() settles a stream
    // the client left as 'aborted' without a result, billed from spent()): a replay, with the answer's tokens and
    // the guard call's apart.
    expect(s.spent?.()).toEqual({ usage: hit.usage, cost: hit.guardCost, replay: true, guardCost: hit.guardCost, guardUsage: GUARD_TOKENS });
    await r.close();
  });

  it('cascade: both steps\u2019 guard calls said NO, their tokens are the result\u2019s guardUsage (generate and stream), the weak step\u2019s on its record', async () => {
    const r = router();
    await r.generate('how tall is mount everest', { model: 'main' });
    await r.generate('how tall is mount everest', { model: 'big' });
    const twice = { inputTokens: 600, outputTokens: 6, totalTokens: 606 };
    const result = await r.generate('how tall is mount everest today', { model: 'c' });
    expect(calls('guard-test')).toBe(2);
    expect({ escalated: result.cascade?.escalated, guardUsage: result.guardUsage, weak: result.cascade?.weak.guardUsage }).toEqual({ escalated: true, guardUsage: twice, weak: GUARD_TOKENS });
    expect(result.guardCost?.totalUsd).toBeCloseTo(2 * GUARD_USD, 12);
    // The steps' answers only in usage.
    expect(result.usage).toMatchObject({ inputTokens: 200, outputTokens: 100 });
    const s = r.stream('how tall is mount everest now', { model: 'c' });
    expect((await collect(s)).at(-1)?.type).toBe('finish');
    expect((await s.result).guardUsage).toEqual(twice);
    await r.close();
  });

  it('cascade stream: cancelled while its weak step runs, after the weak step\u2019s guard call said NO, spent() has that guard call (generate\u2019s error has it)', async () => {
    const r = router();
    await r.generate('how tall is mount everest', { model: 'main' });
    up.script.main = { hang: true };
    // Non-streamed: aborted in the weak step, the error carries the guard call.
    const ac = new AbortController();
    const pending = rejection(r.generate('how tall is mount everest today', { model: 'c', signal: ac.signal }));
    await until(() => calls('main-test') === 2);
    ac.abort();
    const error = await pending;
    expect(error.code).toBe('aborted');
    expect(guardCostOf(error)?.totalUsd).toBeCloseTo(GUARD_USD, 12);
    expect(guardUsageOf(error)).toEqual(GUARD_TOKENS);
    // Streamed: the same call, cancelled at the same point.
    const s = r.stream('how tall is mount everest now', { model: 'c' });
    const it = s[Symbol.asyncIterator]();
    const next = it.next();
    await until(() => calls('main-test') === 3);
    expect(calls('guard-test')).toBe(2);
    s.cancel?.();
    await next;
    await expect(s.result).rejects.toMatchObject({ code: 'aborted' });
    expect(s.spent?.()?.cost.totalUsd).toBeCloseTo(GUARD_USD, 12);
    expect(s.spent?.()?.guardUsage).toEqual(GUARD_TOKENS);
    await r.close();
  });
});
