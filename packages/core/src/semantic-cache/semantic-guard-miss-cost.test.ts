/**
 * A guard call that turns a semantic match into a miss (`verify` said NO, an `adapt` rewrite cut at its cap) was a
 * paid provider call made for the live call: the live call's `cost` holds it on top of the answer's (`guardCost`
 * says how much, `guardUsage` its tokens, apart from the answer's `usage`), on `generate` and `stream`; a call that
 * then fails carries it on its error (`guardCostOf`, `guardUsageOf`) and a stream's `spent()` reports it. Over real HTTP: a local server speaking the OpenAI wire format serves the model,
 * the guard model and the embeddings, and records each request.
 */
import { describe, expect, it } from 'vitest';
import type { SemanticCacheConfigInput } from '../config/schema.js';
import { createOpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import { LLMRouter } from '../router/llm-router.js';
import type { RouterEvents } from '../router/types.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import { guardCostOf, guardUsageOf } from './guard-spend.js';
import { SEMANTIC_GUARD_METADATA_KEY } from './semantic-cache-hook.js';
import { GUARD_EVERY_MATCH, GUARD_TOKENS, GUARD_USAGE, GUARD_USD, guardWireModels, MAIN_USD, useGuardWireUpstream } from './__fixtures__/guard-wire-upstream.js';

/** The upstream; its `script` sets the guard model's answer, and what the main model does (an error, to fail a call after the guard's). */
const up = useGuardWireUpstream();
const calls = (model: string) => up.calls(model);

function router(semantic: Partial<SemanticCacheConfigInput> = {}) {
  return new LLMRouter(
    {
      models: guardWireModels(up),
      routing: { strategy: 'priority', retries: { max: 0 } },
      // Every match below 0.999 goes to the guard.
      cache: { semantic: { ...GUARD_EVERY_MATCH, ...semantic } },
    },
    { engineFactories: { 'openai-compatible': createOpenAICompatibleEngine }, env: {} },
  );
}

describe('a guard call that turned the match into a miss is the live call\u2019s cost', () => {
  it('generate: verify said NO, the model answered; cost = answer + guard call, guardCost = the guard call', async () => {
    const r = router();
    const ends: Array<RouterEvents['request:end']> = [];
    r.on('request:end', (e) => ends.push(e));
    const first = await r.generate('how tall is mount everest', { model: 'main', tenant: 'acme' });
    expect({ cached: first.cached, guardCost: first.guardCost, usd: first.cost.totalUsd }).toEqual({ cached: false, guardCost: undefined, usd: MAIN_USD });
    const second = await r.generate('how tall is mount everest today', { model: 'main', tenant: 'acme' });
    expect({ guard: calls('guard-test'), main: calls('main-test') }).toEqual({ guard: 1, main: 2 });
    expect(second.cached).toBe(false);
    expect(second.cost.totalUsd).toBeCloseTo(MAIN_USD + GUARD_USD, 12);
    expect(second.guardCost?.totalUsd).toBeCloseTo(GUARD_USD, 12);
    // The answer's own usage stays the answer's; the guard call's tokens are apart.
    expect(second.usage).toMatchObject({ inputTokens: 100, outputTokens: 50 });
    expect(second.guardUsage).toEqual(GUARD_TOKENS);
    expect(first.guardUsage).toBeUndefined();
    // The guard call's own request:end names the live call: a sum over events subtracts guardCost to count it once.
    const guardEnd = ends.find((e) => e.metadata[SEMANTIC_GUARD_METADATA_KEY] === second.requestId);
    expect(guardEnd?.result?.cost.totalUsd).toBeCloseTo(second.guardCost!.totalUsd, 12);
    await r.close();
  });

  it('stream: the result holds the guard call; spent() reports it once the lookup paid it', async () => {
    const r = router();
    await r.generate('how tall is mount everest', { model: 'main' });
    const s = r.stream('how tall is mount everest now', { model: 'main' });
    expect(s.spent?.()).toBeUndefined();
    const parts = await collect(s);
    expect(parts.at(-1)?.type).toBe('finish');
    const result = await s.result;
    expect(calls('guard-test')).toBe(1);
    expect(result.cost.totalUsd).toBeCloseTo(MAIN_USD + GUARD_USD, 12);
    expect(result.guardCost?.totalUsd).toBeCloseTo(GUARD_USD, 12);
    expect(result.guardUsage).toEqual(GUARD_TOKENS);
    expect(s.spent?.()).toMatchObject({ usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 }, replay: false, guardUsage: GUARD_TOKENS });
    expect(s.spent?.()?.cost.totalUsd).toBeCloseTo(GUARD_USD, 12);
    await r.close();
  });

  it('adapt: a rewrite cut at its cap is a miss whose guard call is paid by the live call', async () => {
    const r = router({ guard: 'adapt' });
    await r.generate('how tall is mount everest', { model: 'main' });
    up.script.guard = { text: 'Mount Everest is', finishReason: 'length', usage: GUARD_USAGE };
    const second = await r.generate('how tall is mount everest today', { model: 'main' });
    expect({ guard: calls('guard-test'), cached: second.cached, text: second.text }).toEqual({ guard: 1, cached: false, text: 'Mount Everest is 8,849 m tall.' });
    expect(second.cost.totalUsd).toBeCloseTo(MAIN_USD + GUARD_USD, 12);
    expect(second.guardUsage).toEqual(GUARD_TOKENS);
    await r.close();
  });

  it('a call that fails after the guard call carries its cost: on the error (generate), in spent() (stream)', async () => {
    const r = router();
    await r.generate('how tall is mount everest', { model: 'main' });
    up.script.main = { error: { status: 400, message: 'refused', type: 'invalid_request_error' } };
    const error = await rejection(r.generate('how tall is mount everest today', { model: 'main' }));
    expect(error.code).toBe('invalid_request');
    expect(guardCostOf(error)?.totalUsd).toBeCloseTo(GUARD_USD, 12);
    expect(guardUsageOf(error)).toEqual(GUARD_TOKENS);
    const s = r.stream('how tall is mount everest now', { model: 'main' });
    const parts = await collect(s);
    expect(parts.at(-1)?.type).toBe('error');
    await expect(s.result).rejects.toMatchObject({ code: 'invalid_request' });
    expect(s.spent?.()?.cost.totalUsd).toBeCloseTo(GUARD_USD, 12);
    expect(calls('guard-test')).toBe(2);
    await r.close();
  });

  it('a guard that let the match through (YES) costs the guard call only, with guardCost equal to cost', async () => {
    const r = router();
    await r.generate('how tall is mount everest', { model: 'main' });
    up.script.guard = { text: 'YES', usage: GUARD_USAGE };
    const hit = await r.generate('how tall is mount everest today', { model: 'main' });
    expect({ cached: hit.cached, main: calls('main-test') }).toEqual({ cached: 'semantic', main: 1 });
    expect(hit.cost.totalUsd).toBeCloseTo(GUARD_USD, 12);
    expect(hit.guardCost).toEqual(hit.cost);
    // The hit's usage is the cached answer's; the guard call's tokens are apart.
    expect({ usage: hit.usage, guardUsage: hit.guardUsage }).toMatchObject({ usage: { inputTokens: 100, outputTokens: 50 }, guardUsage: GUARD_TOKENS });
    await r.close();
  });

  it('a call whose lookup made no guard call has no guardCost, and a stream of a router without a paid guard spends nothing (spent() undefined)', async () => {
    const r = router();
    const first = await r.generate('how tall is mount everest', { model: 'main' });
    expect(first.guardCost).toBeUndefined();
    await r.close();
    const plain = router({ guard: 'miss', guardModel: undefined });
    const s = plain.stream('how tall is mount everest', { model: 'main' });
    await collect(s);
    expect(s.spent?.()).toBeUndefined();
    expect((await s.result).guardCost).toBeUndefined();
    await plain.close();
  });
});
