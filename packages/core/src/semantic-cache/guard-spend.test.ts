/**
 * Where a failed call's guard cost rides (`withGuardCost`, read by `guardCostOf`): beside the error's own details
 * whatever their shape (an object's fields, a list, a single value), under a key no provider's parsed error body can
 * hold; a cost that is no amount is not read back. The guard call's tokens ride beside it (`guardUsageOf`), and a
 * stream's spend of a guard call keeps them apart from the answer's (`guardSpend`).
 */
import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { guardCostOf, guardSpend, guardUsageOf, withGuardCost } from './guard-spend.js';

const COST = { inputUsd: 0.001, outputUsd: 0.002, totalUsd: 0.003, estimated: false };
const upstream = (details: unknown) => new LLMError({ code: 'invalid_request', message: 'provider responded 400', upstreamStatus: 400, details });

describe('withGuardCost / guardCostOf', () => {
  it.each<[string, unknown, unknown]>([
    ['none', undefined, {}],
    ['an object', { error: { message: 'bad' } }, { error: { message: 'bad' } }],
    ['a list', [{ message: 'bad' }], [{ message: 'bad' }]],
    ['a string', 'bad request', { body: 'bad request' }],
    ['a number', 400, { body: 400 }],
    ['null', null, { body: null }],
  ])('details that are %s: the cost is read back, the details kept', (_, details, kept) => {
    const original = upstream(details);
    const error = withGuardCost(original, COST);
    expect(guardCostOf(error)).toEqual(COST);
    // (What JSON or a structured clone of the details shows: the cost's symbol key is not among their fields.)
    expect(structuredClone(error.details)).toEqual(kept);
    expect(Array.isArray(error.details)).toBe(Array.isArray(details));
    // The original error is left as it was (errors are immutable).
    expect(original.details).toBe(details);
    expect(guardCostOf(original)).toBeUndefined();
  });

  it('survives a copy of the error (`with`) and a merge of its details into another object', () => {
    const error = withGuardCost(upstream({ code: 'x' }), COST).with({ param: 'messages.0.content', message: 'reworded' });
    expect(guardCostOf(error)).toEqual(COST);
    expect(guardCostOf(error.with({ details: { ...(error.details as object), cascade: { name: 'c' } } }))).toEqual(COST);
  });

  it('a provider body holding a `guardCost` field is not a guard cost (no guard call was paid)', () => {
    expect(guardCostOf(upstream({ guardCost: COST }))).toBeUndefined();
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, 1e308])('a cost of %s USD is not read back', (totalUsd) => {
    expect(guardCostOf(withGuardCost(upstream(undefined), { ...COST, totalUsd }))).toBeUndefined();
  });

  it('is undefined for anything but an LLMError', () => {
    expect(guardCostOf(new Error('x'))).toBeUndefined();
    expect(guardCostOf(undefined)).toBeUndefined();
  });
});

describe('guardUsageOf / guardSpend', () => {
  const TOKENS = { inputTokens: 300, outputTokens: 3, totalTokens: 303 };

  it('the guard call\u2019s tokens are read back with its cost, through copies of the error, and not without a cost', () => {
    const error = withGuardCost(upstream([{ message: 'bad' }]), COST, TOKENS);
    expect(guardUsageOf(error)).toEqual(TOKENS);
    expect(guardUsageOf(error.with({ message: 'reworded' }))).toEqual(TOKENS);
    expect(structuredClone(error.details)).toEqual([{ message: 'bad' }]);
    // A guard that reported no tokens, a cost that is no amount, a provider body's own field: none.
    expect(guardUsageOf(withGuardCost(upstream(undefined), COST))).toBeUndefined();
    expect(guardUsageOf(withGuardCost(upstream(undefined), { ...COST, totalUsd: -1 }, TOKENS))).toBeUndefined();
    expect(guardUsageOf(upstream({ guardUsage: TOKENS }))).toBeUndefined();
  });

  it('a guard call\u2019s stream spend: its cost, no answer tokens, its own tokens as guardUsage, the cost as guardCost', () => {
    expect(guardSpend(COST, TOKENS)).toEqual({ usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 }, cost: COST, replay: false, guardCost: COST, guardUsage: TOKENS });
    expect(guardSpend(COST)).toEqual({ usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 }, cost: COST, replay: false, guardCost: COST });
  });
});
