import { describe, expect, it } from 'vitest';
import { modelIdCandidates, normalizeModelId } from './model-id.js';
import { LOCAL_ENGINES, priceFor, resolveModelPrice } from './price-for.js';
import { PRICE_SOURCES, shippedPriceTable } from './price-table.js';
import type { PriceEntry } from './types.js';

describe('normalizeModelId', () => {
  it.each([
    ['gpt-4o', 'gpt-4o'],
    ['openai/gpt-4o', 'gpt-4o'],
    ['openrouter/openai/gpt-4o-2024-08-06', 'gpt-4o'],
    ['GPT-4o-Mini-2024-07-18', 'gpt-4o-mini'],
    ['claude-3-5-sonnet-20241022', 'claude-3-5-sonnet'],
    ['claude-3-5-sonnet-latest', 'claude-3-5-sonnet'],
    ['anthropic/claude-3.5-sonnet', 'claude-3-5-sonnet'],
    ['claude-sonnet-4.5', 'claude-sonnet-4-5'],
    ['us.anthropic.claude-3-haiku-20240307-v1:0', 'claude-3-haiku'],
    ['anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude-3-5-sonnet'],
    // Every Bedrock cross-region inference profile geography (global, us, us-gov, eu, apac, jp, au).
    ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['eu.anthropic.claude-3-haiku-20240307-v1:0', 'claude-3-haiku'],
    ['apac.anthropic.claude-3-haiku-20240307-v1:0', 'claude-3-haiku'],
    ['jp.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['au.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0', 'claude-3-5-sonnet'],
    ['US-GOV.meta.llama3-1-8b-instruct-v1:0', 'llama3-1-8b-instruct'],
    // Not a geography: kept.
    ['xx.anthropic.claude-3-haiku', 'xx.anthropic.claude-3-haiku'],
    ['vertex_ai/claude-3-5-sonnet@20240620', 'claude-3-5-sonnet'],
    ['models/gemini-2.0-flash-001', 'gemini-2.0-flash'],
    ['gemini-1.5-flash-latest', 'gemini-1.5-flash'],
    // Google's moving tier aliases (the newest model of the tier): kept whole, not the 1.0-era `gemini-pro`.
    ['models/gemini-pro-latest', 'gemini-pro-latest'],
    ['gemini-flash-latest', 'gemini-flash-latest'],
    ['gemini-flash-lite-latest', 'gemini-flash-lite-latest'],
    ['mistral-large-latest', 'mistral-large-latest'],
    ['  deepseek/deepseek-chat  ', 'deepseek-chat'],
    // Not a date: kept.
    ['o4-mini', 'o4-mini'],
    ['gpt-4.1-nano', 'gpt-4.1-nano'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeModelId(input)).toBe(expected);
  });

  it('lists exact spellings before normalized ones', () => {
    expect(modelIdCandidates('openrouter/openai/gpt-4o-2024-05-13')).toEqual([
      'openrouter/openai/gpt-4o-2024-05-13',
      'openai/gpt-4o-2024-05-13',
      'gpt-4o-2024-05-13',
      'openrouter/openai/gpt-4o',
      'openai/gpt-4o',
      'gpt-4o',
    ]);
    expect(modelIdCandidates('   ')).toEqual([]);
  });

  it('lists the model a versioned -latest alias names before the alias itself; a moving alias stays whole', () => {
    expect(modelIdCandidates('gemini/gemini-1.5-pro-latest')).toEqual(['gemini/gemini-1.5-pro', 'gemini-1.5-pro', 'gemini/gemini-1.5-pro-latest', 'gemini-1.5-pro-latest']);
    expect(modelIdCandidates('gemini/gemini-pro-latest')).toEqual(['gemini/gemini-pro-latest', 'gemini-pro-latest']);
  });
});

describe('priceFor', () => {
  it('finds shipped prices by plain, prefixed and dated ids', () => {
    expect(priceFor('gpt-4o')).toMatchObject({ input: 2.5, output: 10, cachedInput: 1.25, contextWindow: 128_000 });
    expect(priceFor('openai/gpt-4o-2024-08-06')).toMatchObject({ input: 2.5, output: 10 });
    expect(priceFor('claude-3-5-haiku-20241022')).toMatchObject({ input: 0.8, output: 4, cachedInput: 0.08 });
    expect(priceFor('claude-sonnet-4-20250514')).toMatchObject({ input: 3, output: 15 });
    expect(priceFor('gemini/gemini-2.5-pro')).toMatchObject({ input: 1.25, output: 10 });
    expect(priceFor('groq/llama-3.3-70b-versatile')).toMatchObject({ input: 0.59, output: 0.79 });
    expect(priceFor('deepseek-reasoner')).toMatchObject({ input: 0.28, cachedInput: 0.028 });
  });

  it('finds Bedrock ids under every cross-region profile prefix (jp., au., us-gov. as well as us., eu., apac., global.)', () => {
    for (const geo of ['global', 'us', 'us-gov', 'eu', 'apac', 'jp', 'au']) {
      expect(priceFor(`${geo}.anthropic.claude-sonnet-4-5-20250929-v1:0`), geo).toMatchObject({ input: 3, output: 15 });
    }
  });

  it('prefers an exact dated row over the family row', () => {
    expect(priceFor('gpt-4o-2024-05-13')).toMatchObject({ input: 5, output: 15 });
    expect(priceFor('gpt-4o-2024-05-13')?.cachedInput).toBeUndefined();
  });

  it('returns undefined for unknown models and moving aliases', () => {
    expect(priceFor('my-finetune-v7')).toBeUndefined();
    expect(priceFor('mistral-large-latest')).toBeUndefined();
    expect(priceFor('')).toBeUndefined();
  });

  it('looks up in a given table instead of the shipped one', () => {
    const table = new Map<string, PriceEntry>([['groq/llama-3.3-70b-versatile', { input: 1, output: 2 }]]);
    expect(priceFor('groq/llama-3.3-70b-versatile', table)).toEqual({ input: 1, output: 2 });
    expect(priceFor('gpt-4o', table)).toBeUndefined();
  });

  it('ships every model the brief names, each with a source', () => {
    const required = [
      'gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o3', 'o4-mini', 'gpt-3.5-turbo',
      'text-embedding-3-small', 'text-embedding-3-large', 'claude-3-5-haiku', 'claude-3-5-sonnet', 'claude-3-7-sonnet',
      'claude-sonnet-4', 'claude-opus-4', 'claude-3-haiku', 'gemini-1.5-flash', 'gemini-1.5-pro', 'gemini-2.0-flash',
      'gemini-2.5-flash', 'gemini-2.5-pro', 'deepseek-chat', 'deepseek-reasoner', 'llama-3.3-70b-versatile',
    ];
    for (const id of required) expect(priceFor(id), id).toBeDefined();
    for (const [id, entry] of shippedPriceTable()) {
      expect(entry.provider && PRICE_SOURCES[entry.provider], id).toBeTruthy();
      expect(entry.input, id).toBeGreaterThanOrEqual(0);
      expect(entry.output, id).toBeGreaterThanOrEqual(0);
      if (entry.cachedInput !== undefined) expect(entry.cachedInput, id).toBeLessThanOrEqual(entry.input);
      expect(Object.isFrozen(entry), id).toBe(true);
    }
  });
});

describe('resolveModelPrice', () => {
  it('uses the configured price first', () => {
    expect(resolveModelPrice({ name: 'x', engine: 'openai-compatible', model: 'gpt-4o', price: { input: 9, output: 9 } })).toEqual({ input: 9, output: 9 });
  });

  it('prices local engines at 0', () => {
    for (const engine of LOCAL_ENGINES) {
      expect(resolveModelPrice({ name: 'gpt-4o', engine })).toEqual({ input: 0, output: 0 });
    }
  });

  it('looks up model, then name, with the preset as prefix', () => {
    expect(resolveModelPrice({ name: 'fast', engine: 'openai-compatible', model: 'gpt-4o-mini' })).toEqual({ input: 0.15, output: 0.6, cachedInput: 0.075 });
    expect(resolveModelPrice({ name: 'gpt-4.1', engine: 'openai-compatible' })).toEqual({ input: 2, output: 8, cachedInput: 0.5 });
    expect(resolveModelPrice({ name: 'g', engine: 'openai-compatible', preset: 'groq', model: 'llama-3.1-8b-instant' })).toEqual({ input: 0.05, output: 0.08 });
    const table = new Map<string, PriceEntry>([['groq/llama-3.1-8b-instant', { input: 0.06, output: 0.09, contextWindow: 1 }]]);
    expect(resolveModelPrice({ name: 'g', engine: 'openai-compatible', preset: 'groq', model: 'llama-3.1-8b-instant' }, table)).toEqual({ input: 0.06, output: 0.09 });
  });

  it('for the gemini and anthropic engines prefers the gemini/<model> and anthropic/<model> rows, then the plain candidates', () => {
    const table = new Map<string, PriceEntry>([
      ['gemini-1.5-pro', { input: 5, output: 15, provider: 'vertex_ai-language-models' }],
      ['gemini/gemini-1.5-pro', { input: 3.5, output: 10.5, provider: 'gemini' }],
      ['claude-3-haiku-20240307', { input: 0.25, output: 1.25 }],
      ['anthropic/claude-3-haiku', { input: 0.3, output: 1.5 }],
    ]);
    expect(resolveModelPrice({ name: 'g', engine: 'gemini', model: 'gemini-1.5-pro' }, table)).toEqual({ input: 3.5, output: 10.5 });
    expect(resolveModelPrice({ name: 'g', engine: 'gemini', model: 'models/gemini-1.5-pro-002' }, table)).toEqual({ input: 3.5, output: 10.5 });
    // Other engines keep the plain row (Vertex's price for an OpenAI-compatible Vertex endpoint).
    expect(resolveModelPrice({ name: 'g', engine: 'openai-compatible', model: 'gemini-1.5-pro' }, table)).toEqual({ input: 5, output: 15 });
    // The prefixed row wins, its normalized form included, over the exact unprefixed one.
    expect(resolveModelPrice({ name: 'c', engine: 'anthropic', model: 'claude-3-haiku-20240307' }, table)).toEqual({ input: 0.3, output: 1.5 });
    // No prefixed row: the candidates as before.
    expect(resolveModelPrice({ name: 'c', engine: 'anthropic', model: 'claude-3-haiku-20240307' })).toMatchObject({ input: 0.25, output: 1.25 });
  });

  it('carries the long-context tier and the reasoning price of the row', () => {
    expect(resolveModelPrice({ name: 'g', engine: 'gemini', model: 'gemini-2.5-pro' })).toEqual({ input: 1.25, output: 10, longContext: [{ threshold: 200_000, input: 2.5, output: 15 }] });
    const table = new Map<string, PriceEntry>([['gemini/gemini-2.5-flash', { input: 0.3, output: 2.5, reasoningOutput: 3.5 }]]);
    expect(resolveModelPrice({ name: 'g', engine: 'gemini', model: 'gemini-2.5-flash' }, table)).toEqual({ input: 0.3, output: 2.5, reasoningOutput: 3.5 });
  });

  it('is undefined when nothing is known', () => {
    expect(resolveModelPrice({ name: 'mystery', engine: 'anthropic' })).toBeUndefined();
  });
});
