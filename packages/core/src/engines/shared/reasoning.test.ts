import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { REASONING_EFFORTS } from '../../spec/index.js';
import { thrown } from '../../test/async.test-helpers.js';
import { GgufOptionsSchema } from '../gguf/gguf-options.js';
import { resolveSampling as ggufSampling } from '../gguf/gguf-request.js';
import { OnnxOptionsSchema } from '../onnx/onnx-options.js';
import { resolveSampling as onnxSampling } from '../onnx/onnx-request.js';
import { REASONING_BUDGETS, checkReasoning, reasoningBudget, reasoningEffort, reasoningEnabled, wantsThinking } from './reasoning.js';

describe('checkReasoning', () => {
  it('accepts every effort, a budget, both when they agree, and nothing', () => {
    for (const effort of REASONING_EFFORTS) expect(checkReasoning({ effort })).toEqual({ effort });
    expect(checkReasoning({ budgetTokens: 0 })).toEqual({ budgetTokens: 0 });
    expect(checkReasoning({ effort: 'high', budgetTokens: 9000 })).toEqual({ effort: 'high', budgetTokens: 9000 });
    expect(checkReasoning({ effort: 'none', budgetTokens: 0 })).toEqual({ effort: 'none', budgetTokens: 0 });
    expect(checkReasoning({})).toEqual({});
    expect(checkReasoning(undefined)).toBeUndefined();
  });

  it.each([
    [{ effort: 'extreme' }, 'reasoning.effort'],
    [{ effort: 3 }, 'reasoning.effort'],
    [{ effort: 'HIGH' }, 'reasoning.effort'],
    [{ budgetTokens: -1 }, 'reasoning.budgetTokens'],
    [{ budgetTokens: 1.5 }, 'reasoning.budgetTokens'],
    [{ budgetTokens: '1024' }, 'reasoning.budgetTokens'],
    [{ budgetTokens: 2 ** 60 }, 'reasoning.budgetTokens'],
    [{ effort: 'none', budgetTokens: 1024 }, 'reasoning.budgetTokens'],
    [{ effort: 'low', budgetTokens: 0 }, 'reasoning.budgetTokens'],
    [{ budget_tokens: 2048 }, 'reasoning.budget_tokens'],
    ['high', 'reasoning'],
    [null, 'reasoning'],
    [['high'], 'reasoning'],
  ])('refuses %j naming %s', (value, param) => {
    const e = thrown(() => checkReasoning(value, 'anthropic'));
    expect(e.code).toBe('invalid_request');
    expect(e.param).toBe(param);
    expect(e.provider).toBe('anthropic');
    expect(e.message).toContain(param);
  });
});

describe('mappings', () => {
  it('budget of an effort follows the documented table; budgetTokens wins', () => {
    expect(REASONING_BUDGETS).toEqual({ none: 0, minimal: 512, low: 1024, medium: 2048, high: 4096, xhigh: 8192, max: 16384 });
    expect(reasoningBudget({ effort: 'medium' })).toBe(2048);
    expect(reasoningBudget({ effort: 'medium', budgetTokens: 3000 })).toBe(3000);
    expect(reasoningBudget({})).toBeUndefined();
  });

  it.each([
    [0, 'none'],
    [1, 'low'],
    [1024, 'low'],
    [1025, 'medium'],
    [2048, 'medium'],
    [2049, 'high'],
    [100_000, 'high'],
  ] as const)('budget %i alone -> effort %s', (budgetTokens, effort) => {
    expect(reasoningEffort({ budgetTokens })).toBe(effort);
  });

  it('effort wins over budget for effort providers', () => {
    expect(reasoningEffort({ effort: 'xhigh', budgetTokens: 10 })).toBe('xhigh');
    expect(reasoningEffort({})).toBeUndefined();
  });

  it('wantsThinking: any effort but none, any budget above 0', () => {
    expect(wantsThinking(undefined)).toBe(false);
    expect(wantsThinking({})).toBe(false);
    expect(wantsThinking({ effort: 'none' })).toBe(false);
    expect(wantsThinking({ budgetTokens: 0 })).toBe(false);
    expect(wantsThinking({ effort: 'minimal' })).toBe(true);
    expect(wantsThinking({ budgetTokens: 1 })).toBe(true);
  });
});

// Reasoning is a hint: an engine without a reasoning control drops it (as on any deployment that cannot reason),
// where 877e737 refused it; bad values are still refused, naming the field.
describe('local engines (gguf, onnx) drop thinking; bad values are refused', () => {
  const ask = (reasoning: unknown): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], reasoning } as GenerateRequest);
  const gguf = GgufOptionsSchema.parse({});
  const onnx = OnnxOptionsSchema.parse({});
  const engines = [
    ['gguf', (r: GenerateRequest) => ggufSampling(r, gguf)],
    ['onnx', (r: GenerateRequest) => onnxSampling(r, onnx)],
  ] as const;

  it.each(engines)('%s: an effort, a budget, none or 0 pass (the sampling is what it is without them)', (_name, resolve) => {
    const plain = resolve(ask(undefined));
    for (const reasoning of [{ effort: 'low' }, { budgetTokens: 2048 }, { effort: 'none' }, { budgetTokens: 0 }]) {
      expect(resolve(ask(reasoning))).toEqual(plain);
    }
  });

  it.each(engines)('%s: bad values are invalid_request naming the field', (name, resolve) => {
    const e = thrown(() => resolve(ask({ effort: 'lots' })));
    expect(e).toMatchObject({ code: 'invalid_request', param: 'reasoning.effort', provider: name });
  });
});

describe('reasoningEnabled: configured capabilities, else the engine\'s model-id knowledge', () => {
  it('a capabilities list decides; without one, the model-id default', () => {
    expect(reasoningEnabled({ capabilities: ['chat', 'reasoning'] }, false)).toBe(true);
    expect(reasoningEnabled({ capabilities: ['chat', 'tools'] }, true)).toBe(false);
    expect(reasoningEnabled({}, true)).toBe(true);
    expect(reasoningEnabled({}, false)).toBe(false);
  });
});
