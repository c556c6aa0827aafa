import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/index.js';
import { makeUsage } from '../spec/index.js';
import { computeCost } from './compute-cost.js';
import { PRICES_FILE_ENV, loadPriceTable, loadPriceTableFromEnv, mergePriceTables, parsePriceTable } from './load-price-table.js';
import { priceFor, resolveModelPrice } from './price-for.js';
import { shippedPriceTable } from './price-table.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmrr-prices-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

function caught(fn: () => unknown): LLMError {
  try {
    fn();
  } catch (e) {
    if (LLMError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

async function rejected(p: Promise<unknown>): Promise<LLMError> {
  try {
    await p;
  } catch (e) {
    if (LLMError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('parsePriceTable', () => {
  it('reads LiteLLM rows (USD per token) into USD per 1M tokens without float noise', () => {
    const t = parsePriceTable({
      'gpt-x': { input_cost_per_token: 5e-6, output_cost_per_token: 1.5e-5, cache_read_input_token_cost: 1.25e-6, max_input_tokens: 128000, max_output_tokens: 4096, litellm_provider: 'openai', mode: 'chat' },
      'Embed-Y': { input_cost_per_token: 1.3e-7, mode: 'embedding' },
    });
    expect(t.get('gpt-x')).toEqual({ input: 5, output: 15, cachedInput: 1.25, contextWindow: 128_000, maxOutputTokens: 4096, provider: 'openai' });
    expect(t.get('embed-y')).toEqual({ input: 0.13, output: 0 });
  });

  it('reads our own rows (USD per 1M tokens)', () => {
    const t = parsePriceTable({ mine: { input: 1, output: 2, cachedInput: 0.5, contextWindow: 8000, provider: 'acme' } });
    expect(t.get('mine')).toEqual({ input: 1, output: 2, cachedInput: 0.5, contextWindow: 8000, provider: 'acme' });
  });

  it('skips rows without token prices and the sample_spec row', () => {
    const t = parsePriceTable({
      sample_spec: { input_cost_per_token: 0, output_cost_per_token: 0, max_tokens: 'LEGACY parameter' },
      'dall-e': { input_cost_per_pixel: 1e-8, mode: 'image_generation' },
      whisper: { input_cost_per_second: 1e-4, output_cost_per_second: 0 },
      moderation: { input_cost_per_token: 0, output_cost_per_token: 0, max_output_tokens: 0 },
    });
    expect([...t.keys()]).toEqual(['moderation']);
    expect(t.get('moderation')).toEqual({ input: 0, output: 0 });
  });

  it('rejects bad prices naming the model and field', () => {
    const e = caught(() => parsePriceTable({ 'gpt-x': { input_cost_per_token: '5e-6', output_cost_per_token: 1e-5 } }, 'price file p.json'));
    expect(e.code).toBe('config_invalid');
    expect(e.param).toBe('gpt-x.input_cost_per_token');
    expect(e.message).toContain('price file p.json');
    expect(e.message).toContain('the string "5e-6"');
    expect(caught(() => parsePriceTable({ m: { input: -1, output: 1 } })).param).toBe('m.input');
    expect(caught(() => parsePriceTable({ m: { input: 1 } })).param).toBe('m.output');
    expect(caught(() => parsePriceTable({ m: { input: 1, output: 1, contextWindow: 1.5 } })).param).toBe('m.contextWindow');
    expect(caught(() => parsePriceTable({ m: 'cheap' })).param).toBe('m');
    expect(caught(() => parsePriceTable([1, 2])).message).toContain('must be a JSON object keyed by model id, got an array');
  });
});

describe('parsePriceTable: long-context and reasoning prices', () => {
  it('reads LiteLLM *_above_200k_tokens prices (input, output, cache reads and writes) and output_cost_per_reasoning_token', () => {
    const t = parsePriceTable({
      'claude-sonnet-4-5': {
        input_cost_per_token: 3e-6,
        output_cost_per_token: 1.5e-5,
        cache_read_input_token_cost: 3e-7,
        cache_creation_input_token_cost: 3.75e-6,
        input_cost_per_token_above_200k_tokens: 6e-6,
        output_cost_per_token_above_200k_tokens: 2.25e-5,
        cache_read_input_token_cost_above_200k_tokens: 6e-7,
        cache_creation_input_token_cost_above_200k_tokens: 7.5e-6,
      },
      'gemini/gemini-2.5-flash': { input_cost_per_token: 3e-7, output_cost_per_token: 2.5e-6, output_cost_per_reasoning_token: 3.5e-6 },
    });
    expect(t.get('claude-sonnet-4-5')?.longContext).toEqual([{ threshold: 200_000, input: 6, output: 22.5, cachedInput: 0.6, cacheWrite: 7.5 }]);
    expect(Object.isFrozen(t.get('claude-sonnet-4-5')?.longContext)).toBe(true);
    expect(Object.isFrozen(t.get('claude-sonnet-4-5')?.longContext?.[0])).toBe(true);
    expect(t.get('gemini/gemini-2.5-flash')).toEqual({ input: 0.3, output: 2.5, reasoningOutput: 3.5 });
  });

  it('reads a 128k tier; a tier giving only the input price keeps the short-prompt output price', () => {
    const t = parsePriceTable({ m: { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, input_cost_per_token_above_128k_tokens: 2e-6 } });
    expect(t.get('m')?.longContext).toEqual([{ threshold: 128_000, input: 2, output: 2 }]);
  });

  it('reads our own longContext and reasoningOutput, and rejects a tier without threshold or with a bad rate', () => {
    const t = parsePriceTable({ m: { input: 1, output: 2, reasoningOutput: 4, longContext: [{ threshold: 100, input: 3, output: 5, cachedInput: 0.3 }] } });
    expect(t.get('m')).toEqual({ input: 1, output: 2, reasoningOutput: 4, longContext: [{ threshold: 100, input: 3, output: 5, cachedInput: 0.3 }] });
    expect(caught(() => parsePriceTable({ m: { input: 1, output: 2, longContext: [{ input: 3, output: 5 }] } })).param).toBe('m.longContext[0].threshold');
    expect(caught(() => parsePriceTable({ m: { input: 1, output: 2, longContext: [{ threshold: 100, input: -1, output: 5 }] } })).param).toBe('m.longContext[0].input');
    expect(caught(() => parsePriceTable({ m: { input: 1, output: 2, longContext: 7 } })).param).toBe('m.longContext');
    expect(caught(() => parsePriceTable({ m: { input: 1, output: 2, longContext: { threshold: 100, input: 3, output: 5 } } })).param).toBe('m.longContext');
    const dup = [{ threshold: 100, input: 3, output: 5 }, { threshold: 100, input: 4, output: 6 }];
    expect(caught(() => parsePriceTable({ m: { input: 1, output: 2, longContext: dup } })).param).toBe('m.longContext[1].threshold');
    const unsorted = parsePriceTable({ m: { input: 1, output: 2, longContext: [{ threshold: 200, input: 4, output: 6 }, { threshold: 100, input: 3, output: 5 }] } });
    expect(unsorted.get('m')?.longContext?.map((x) => x.threshold)).toEqual([100, 200]);
    expect(caught(() => parsePriceTable({ m: { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, output_cost_per_token_above_200k_tokens: 'x' } })).param).toBe(
      'm.output_cost_per_token_above_200k_tokens',
    );
  });
});

describe('mergePriceTables', () => {
  it('lets later tables win and keeps the rest', () => {
    const merged = mergePriceTables(shippedPriceTable(), parsePriceTable({ 'gpt-4o': { input: 1, output: 1 }, extra: { input: 3, output: 4 } }));
    expect(priceFor('gpt-4o', merged)).toEqual({ input: 1, output: 1 });
    expect(priceFor('openai/gpt-4o-2024-08-06', merged)).toEqual({ input: 1, output: 1 });
    expect(priceFor('extra', merged)).toEqual({ input: 3, output: 4 });
    expect(priceFor('o3', merged)).toMatchObject({ input: 2, output: 8 });
    // The shipped table itself is untouched.
    expect(priceFor('gpt-4o')).toMatchObject({ input: 2.5 });
  });
});

describe('loadPriceTable', () => {
  it('merges a file over the shipped table', async () => {
    const path = await file('prices.json', JSON.stringify({ 'gpt-4o': { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 } }));
    const table = await loadPriceTable(path);
    expect(priceFor('gpt-4o', table)).toEqual({ input: 1, output: 2 });
    expect(priceFor('claude-3-haiku', table)).toMatchObject({ input: 0.25 });
  });

  it('fills a file row without cache rates from the shipped row of the same model at the same price', async () => {
    const path = await file(
      'no-cache.json',
      JSON.stringify({
        // LiteLLM's older Claude rows: no cache fields.
        'claude-3-haiku-20240307': { input_cost_per_token: 2.5e-7, output_cost_per_token: 1.25e-6 },
        // A new price: the shipped cache rates belong to the old one and are not taken.
        'claude-3-5-haiku': { input_cost_per_token: 1e-6, output_cost_per_token: 5e-6 },
        // Its own cache read rate wins; the missing write rates are filled.
        'claude-3-7-sonnet': { input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5, cache_read_input_token_cost: 2e-7 },
      }),
    );
    const table = await loadPriceTable(path);
    expect(priceFor('claude-3-haiku-20240307', table)).toEqual({ input: 0.25, output: 1.25, cachedInput: 0.03, cacheWrite: 0.3, cacheWrite1h: 0.5 });
    expect(priceFor('claude-3-5-haiku', table)).toEqual({ input: 1, output: 5 });
    expect(priceFor('claude-3-7-sonnet', table)).toEqual({ input: 3, output: 15, cachedInput: 0.2, cacheWrite: 3.75, cacheWrite1h: 6 });
    // A cache read is billed at the read rate, not the input rate.
    expect(computeCost(makeUsage(1_000_000, 0, { cachedInputTokens: 1_000_000 }), priceFor('claude-3-haiku-20240307', table)).inputUsd).toBe(0.03);
  });

  it('reports a missing file, bad JSON and bad rows as config_invalid naming the file', async () => {
    const missing = await rejected(loadPriceTable(join(dir, 'nope.json')));
    expect(missing.code).toBe('config_invalid');
    expect(missing.message).toContain('nope.json');
    expect(missing.message).toContain('not found');
    const bad = await rejected(loadPriceTable(await file('bad.json', '{ "a": ')));
    expect(bad.message).toMatch(/bad\.json is not valid JSON/);
    const badRow = await rejected(loadPriceTable(await file('badrow.json', '{ "m": { "input": "x", "output": 1 } }')));
    expect(badRow.message).toContain('badrow.json');
    expect(badRow.param).toBe('m.input');
  });

  it('loads the file named by LLMRR_PRICES_FILE, else the shipped table', async () => {
    const path = await file('env.json', JSON.stringify({ 'only-here': { input: 7, output: 8 } }));
    const fromEnv = await loadPriceTableFromEnv({ [PRICES_FILE_ENV]: path });
    expect(priceFor('only-here', fromEnv)).toEqual({ input: 7, output: 8 });
    expect(await loadPriceTableFromEnv({})).toBe(shippedPriceTable());
    expect(await loadPriceTableFromEnv({ [PRICES_FILE_ENV]: '  ' })).toBe(shippedPriceTable());
  });

  it('a relative LLMRR_PRICES_FILE resolves against baseDir (an absolute one is used as is)', async () => {
    const path = await file('rel.json', JSON.stringify({ 'rel-only': { input: 5, output: 6 } }));
    expect(priceFor('rel-only', await loadPriceTableFromEnv({ [PRICES_FILE_ENV]: './rel.json' }, { baseDir: dir }))).toEqual({ input: 5, output: 6 });
    expect(priceFor('rel-only', await loadPriceTableFromEnv({ [PRICES_FILE_ENV]: 'rel.json' }, { baseDir: `${dir}/` }))).toEqual({ input: 5, output: 6 });
    expect(priceFor('rel-only', await loadPriceTableFromEnv({ [PRICES_FILE_ENV]: path }, { baseDir: '/nowhere' }))).toEqual({ input: 5, output: 6 });
    const missing = await rejected(loadPriceTableFromEnv({ [PRICES_FILE_ENV]: './gone.json' }, { baseDir: dir }));
    expect(missing.message).toBe(`Price file ${dir}/gone.json not found`);
  });
});

// The shared LiteLLM-format snapshot, when this machine has it (read in place, never copied).
const SHARED = '/work/shared/data/pricing/model_prices.json';
describe.skipIf(!existsSync(SHARED))('the shared LiteLLM price file', () => {
  it('loads, and its gpt-4o price wins over the shipped one', async () => {
    const raw = JSON.parse(readFileSync(SHARED, 'utf8')) as Record<string, { input_cost_per_token: number; output_cost_per_token: number }>;
    const row = raw['gpt-4o'];
    expect(row).toBeDefined();
    const table = await loadPriceTable(SHARED);
    const price = priceFor('gpt-4o', table);
    expect(price?.input).toBe(Number(((row?.input_cost_per_token ?? 0) * 1e6).toPrecision(12)));
    expect(price?.output).toBe(Number(((row?.output_cost_per_token ?? 0) * 1e6).toPrecision(12)));
    // Per-token cost equals the file's per-token price exactly.
    expect(computeCost(makeUsage(1, 1), price).totalUsd).toBe((row?.input_cost_per_token ?? 0) + (row?.output_cost_per_token ?? 0));
    // Prefixed rows are found by their prefixed id; shipped rows absent from the file survive.
    expect(priceFor('azure/gpt-4o', table)).toBeDefined();
    expect(priceFor('gpt-4.1-nano', table)).toMatchObject({ input: 0.1 });
    expect(table.size).toBeGreaterThan(300);
  });
});

// Google's `-latest` aliases against the shared LiteLLM file (the Gemini Developer API's `gemini/` rows).
describe.skipIf(!existsSync(SHARED))('the shared LiteLLM price file: Gemini -latest aliases', () => {
  const gemini = (model: string) => ({ name: model, engine: 'gemini', model });

  it('gemini-pro-latest / gemini-flash-latest / gemini-flash-lite-latest: unknown (estimated), never Gemini 1.0 Pro\'s row', async () => {
    const table = await loadPriceTable(SHARED);
    // The file's `gemini/gemini-pro` row is Gemini 1.0 Pro ($0.35 / $1.05); `gemini-pro-latest` is the newest Pro
    // model (2.5 Pro and later, $1.25 / $10 and up). Its price moves with the alias: not known, never guessed.
    expect(priceFor('gemini/gemini-pro', table)).toMatchObject({ input: 0.35, output: 1.05 });
    for (const alias of ['gemini-pro-latest', 'models/gemini-pro-latest', 'gemini-flash-latest', 'gemini-flash-lite-latest']) {
      expect(resolveModelPrice(gemini(alias), table), alias).toBeUndefined();
      expect(priceFor(alias, table), alias).toBeUndefined();
    }
    // A cost at an unknown price is 0 and marked estimated.
    expect(computeCost(makeUsage(1000, 1000), resolveModelPrice(gemini('gemini-pro-latest'), table))).toMatchObject({ totalUsd: 0, estimated: true });
  });

  it('gemini-1.5-pro-latest / gemini-1.5-flash-latest are priced as the model they name, not by the alias row', async () => {
    const table = await loadPriceTable(SHARED);
    const raw = JSON.parse(readFileSync(SHARED, 'utf8')) as Record<string, { output_cost_per_token: number }>;
    // The file's own alias row disagrees with the model's (output $1.05 vs $10.50 per 1M tokens).
    expect(raw['gemini/gemini-1.5-pro-latest']?.output_cost_per_token).not.toBe(raw['gemini/gemini-1.5-pro']?.output_cost_per_token);
    expect(resolveModelPrice(gemini('gemini-1.5-pro-latest'), table)).toEqual(resolveModelPrice(gemini('gemini-1.5-pro'), table));
    expect(resolveModelPrice(gemini('gemini-1.5-pro-latest'), table)).toMatchObject({ input: 3.5, output: 10.5 });
    expect(resolveModelPrice(gemini('gemini-1.5-flash-latest'), table)).toEqual(resolveModelPrice(gemini('gemini-1.5-flash'), table));
    // Without the file: the shipped rows of the named models.
    expect(resolveModelPrice(gemini('gemini-1.5-pro-latest'))).toEqual(resolveModelPrice(gemini('gemini-1.5-pro')));
    expect(resolveModelPrice(gemini('gemini-1.5-pro-latest'))).toMatchObject({ input: 1.25, output: 5 });
  });

  it('an alias row is still used when the model it names has none', async () => {
    const only = new Map([['gemini/gemini-9-pro-latest', { input: 7, output: 9 }]]);
    expect(resolveModelPrice(gemini('gemini-9-pro-latest'), only)).toEqual({ input: 7, output: 9 });
  });
});
