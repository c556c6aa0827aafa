import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterConfigInput } from '../config/schema.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { parsePriceTable } from '../pricing/load-price-table.js';
import { LLMRouter } from './llm-router.js';
import type { RouterOptions } from './types.js';

let dir: string;
let pricesFile: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmrr-router-prices-'));
  pricesFile = join(dir, 'prices.json');
  // LiteLLM style (USD per token) for one model, our style (USD per 1M tokens) for the other.
  await writeFile(
    pricesFile,
    JSON.stringify({
      'house-model': { input_cost_per_token: 0.000002, output_cost_per_token: 0.000008, litellm_provider: 'house' },
      'gpt-4o-mini': { input: 1, output: 3 },
    }),
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Two priced-by-table deployments over mock engines (not local engines: those are always free). */
const config: RouterConfigInput = {
  models: [
    { name: 'house', engine: 'openai-compatible', model: 'house-model', priority: 1 },
    { name: 'mini', engine: 'openai-compatible', preset: 'openai', model: 'gpt-4o-mini', priority: 2 },
  ],
  routing: { strategy: 'priority' },
};

function engines(): RouterOptions['engines'] {
  return { house: new MockEngine({ reply: 'a b c d' }), mini: new MockEngine({ reply: 'a b c d' }) };
}

describe('LLMRouter prices', () => {
  it('without a price file: the shipped table (house-model unknown -> cost 0, estimated)', async () => {
    const router = new LLMRouter(config, { engines: engines(), env: {} });
    await router.ready();
    const r = await router.generate('one two');
    expect(r.cost).toEqual({ inputUsd: 0, outputUsd: 0, totalUsd: 0, estimated: true });
    const mini = await router.generate('one two', { model: 'mini' });
    expect(mini.cost.estimated).toBe(false);
    expect(mini.cost.inputUsd).toBeCloseTo(2 * 0.15e-6, 12);
  });

  it('LLMRR_PRICES_FILE (from env) is merged over the shipped table and prices calls, models() and route()', async () => {
    const router = new LLMRouter(config, { engines: engines(), env: { LLMRR_PRICES_FILE: pricesFile } });
    // Calls wait for the file: the very first one is priced by it.
    const r = await router.generate('one two');
    expect(r.usage).toMatchObject({ inputTokens: 2, outputTokens: 4 });
    expect(r.cost.estimated).toBe(false);
    expect(r.cost.inputUsd).toBeCloseTo(2 * 2e-6, 12);
    expect(r.cost.outputUsd).toBeCloseTo(4 * 8e-6, 12);
    const models = router.models();
    expect(models.map((m) => [m.name, m.price, m.priceFromTable])).toEqual([
      ['house', { input: 2, output: 8 }, true],
      ['mini', { input: 1, output: 3 }, true],
    ]);
    const decision = await router.route('x', { strategy: 'cost-optimized' });
    expect(decision.order).toEqual(['mini', 'house']);
    // Deployments loaded later are priced by the same table.
    router.load({ name: 'house2', engine: 'openai-compatible', model: 'house-model' });
    expect(router.models().find((m) => m.name === 'house2')!.price).toEqual({ input: 2, output: 8 });
  });

  it('a streamed answer is priced by the file too', async () => {
    const router = new LLMRouter(config, { engines: engines(), env: { LLMRR_PRICES_FILE: pricesFile } });
    const s = router.stream('one two');
    for await (const _ of s) void _;
    expect((await s.result).cost.outputUsd).toBeCloseTo(4 * 8e-6, 12);
  });

  it('the priceTable option wins over the environment; a configured price wins over any table', async () => {
    const table = parsePriceTable({ 'house-model': { input: 10, output: 20 } });
    const router = new LLMRouter(
      { ...config, models: [...config.models, { name: 'fixed', engine: 'openai-compatible', model: 'house-model', price: { input: 7, output: 7 } }] },
      { engines: { ...engines(), fixed: new MockEngine() }, env: { LLMRR_PRICES_FILE: join(dir, 'missing.json') }, priceTable: table },
    );
    await router.ready();
    expect(router.models().map((m) => [m.name, m.price])).toEqual([
      ['house', { input: 10, output: 20 }],
      ['mini', undefined],
      ['fixed', { input: 7, output: 7 }],
    ]);
    expect((await router.generate('one two')).cost.inputUsd).toBeCloseTo(2 * 10e-6, 12);
  });

  it('a relative LLMRR_PRICES_FILE resolves against the baseDir option (the user\'s directory), not process.cwd()', async () => {
    expect(process.cwd()).not.toBe(dir);
    const router = new LLMRouter(config, { engines: engines(), env: { LLMRR_PRICES_FILE: './prices.json' }, baseDir: dir });
    await router.ready();
    expect(router.models().map((m) => m.price)).toEqual([{ input: 2, output: 8 }, { input: 1, output: 3 }]);
    const elsewhere = new LLMRouter(config, { engines: engines(), env: { LLMRR_PRICES_FILE: 'prices.json' }, baseDir: join(dir, 'sub') });
    await expect(elsewhere.ready()).rejects.toMatchObject({ code: 'config_invalid', message: `Price file ${join(dir, 'sub')}/prices.json not found` });
  });

  it('a missing or invalid price file is a config_invalid error from ready(), every call and fromConfig', async () => {
    const missing = join(dir, 'missing.json');
    const router = new LLMRouter(config, { engines: engines(), env: { LLMRR_PRICES_FILE: missing } });
    await expect(router.ready()).rejects.toMatchObject({ code: 'config_invalid', message: `Price file ${missing} not found` });
    await expect(router.generate('x')).rejects.toMatchObject({ code: 'config_invalid' });
    await expect(router.route('x')).rejects.toMatchObject({ code: 'config_invalid' });
    const parts = [];
    for await (const p of router.stream('x')) parts.push(p);
    expect(parts).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'config_invalid' }) }]);

    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ 'house-model': { input: -1, output: 1 } }));
    await expect(LLMRouter.fromConfig(config, { engines: engines(), env: { LLMRR_PRICES_FILE: bad } })).rejects.toMatchObject({
      code: 'config_invalid',
      param: 'house-model.input',
    });
  });

  it('reloadPrices() reads the file again: later calls, models() and loaded deployments take its prices; a bad file keeps the old ones', async () => {
    const file = join(dir, 'reloaded.json');
    await writeFile(file, JSON.stringify({ 'house-model': { input: 2, output: 8 } }));
    const router = new LLMRouter(config, { engines: engines(), env: { LLMRR_PRICES_FILE: file } });
    expect((await router.generate('one two')).cost.inputUsd).toBeCloseTo(2 * 2e-6, 12);
    await writeFile(file, JSON.stringify({ 'house-model': { input: 5, output: 10 } }));
    await expect(router.reloadPrices()).resolves.toBe(true);
    const r = await router.generate('one two');
    expect([r.cost.inputUsd, r.cost.outputUsd]).toEqual([expect.closeTo(2 * 5e-6, 12), expect.closeTo(4 * 10e-6, 12)]);
    expect(router.models().find((m) => m.name === 'house')!.price).toEqual({ input: 5, output: 10 });
    router.load({ name: 'house2', engine: 'openai-compatible', model: 'house-model' });
    expect(router.models().find((m) => m.name === 'house2')!.price).toEqual({ input: 5, output: 10 });
    // A file broken while being edited: the reload fails with its error, the router keeps pricing as before.
    await writeFile(file, '{ "house-model": { "input": ');
    await expect(router.reloadPrices()).rejects.toMatchObject({ code: 'config_invalid' });
    expect((await router.generate('one two')).cost.inputUsd).toBeCloseTo(2 * 5e-6, 12);
    await router.close();
  });

  // A reload reading slowly (a price file on a slow disk or network share; here a FIFO that answers when the test
  // writes it) must not land over a reload started after it (two SIGHUPs in a row: the later one read the newer file).
  it('overlapping reloadPrices() apply in the order they started: the later one wins over a slower earlier one', { timeout: 20_000 }, async () => {
    const first = join(dir, 'first.json');
    await writeFile(first, JSON.stringify({ 'house-model': { input: 2, output: 2 } }));
    const env: Record<string, string> = { LLMRR_PRICES_FILE: first };
    const router = new LLMRouter(config, { engines: engines(), env });
    await router.ready();
    const fifo = join(dir, 'slow-prices.fifo');
    execFileSync('mkfifo', [fifo]);
    env.LLMRR_PRICES_FILE = fifo;
    const slow = router.reloadPrices();
    const newer = join(dir, 'newer.json');
    await writeFile(newer, JSON.stringify({ 'house-model': { input: 7, output: 7 } }));
    env.LLMRR_PRICES_FILE = newer;
    const later = router.reloadPrices();
    // The earlier reload's read answers last, with older prices.
    await writeFile(fifo, JSON.stringify({ 'house-model': { input: 3, output: 3 } }));
    await expect(Promise.all([slow, later])).resolves.toEqual([true, true]);
    expect(router.models().find((m) => m.name === 'house')!.price).toEqual({ input: 7, output: 7 });
    expect((await router.generate('one two')).cost.inputUsd).toBeCloseTo(2 * 7e-6, 12);
    await router.close();
  });

  it('reloadPrices() without a price file (no LLMRR_PRICES_FILE, or a priceTable option) changes nothing and says so', async () => {
    const plain = new LLMRouter(config, { engines: engines(), env: {} });
    await expect(plain.reloadPrices()).resolves.toBe(false);
    const given = new LLMRouter(config, { engines: engines(), env: { LLMRR_PRICES_FILE: pricesFile }, priceTable: parsePriceTable({ 'house-model': { input: 9, output: 9 } }, 'test') });
    await expect(given.reloadPrices()).resolves.toBe(false);
    expect(given.models().find((m) => m.name === 'house')!.price).toEqual({ input: 9, output: 9 });
  });
});
