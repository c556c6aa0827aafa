import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { syntheticDataset, syntheticPairDataset, syntheticExamples } from '../../learning/__fixtures__/synthetic-data.js';
import type { RouterModelArtifact } from '../../learning/training/router-model.js';
import { RouterModel } from '../../learning/training/router-model.js';
import { trainRouterModel } from '../../learning/training/train-router-model.js';
import { LLMRouter } from '../llm-router.js';
import { createIntelligentStrategy } from './intelligent.js';

let artifact: RouterModelArtifact;
let model: RouterModel;
let dir: string;
const FAST = { hashDim: 1 << 10, kinds: ['logistic'] as const };

// Prices per 1M tokens: cheap < mathy < poet, like the synthetic costs.
const MODELS = [
  { name: 'cheap', engine: 'mock', price: { input: 0.1, output: 0.1 } },
  { name: 'mathy', engine: 'mock', price: { input: 1, output: 1 } },
  { name: 'poet', engine: 'mock', price: { input: 2, output: 2 } },
];

beforeAll(() => {
  artifact = trainRouterModel(syntheticDataset(), FAST);
  model = new RouterModel(artifact);
  dir = mkdtempSync(join(tmpdir(), 'llmrr-intelligent-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function router(options: Record<string, unknown> = {}, models: object[] = MODELS) {
  return new LLMRouter(
    { models: models as never, routing: { strategy: 'intelligent', options: { intelligent: options } } },
    { strategies: { intelligent: createIntelligentStrategy({ model }) } },
  );
}

describe('intelligent strategy', () => {
  it('sends each prompt to the model predicted to answer it well, and explains why', async () => {
    const r = router();
    const math = await r.route('calculate the sum of 312 and 45?', { explain: true });
    expect(math.selected).toBe('mathy');
    const poem = await r.route('write a poem about the sea.', { explain: true });
    expect(poem.selected).toBe('poet');
    const top = poem.candidates[0]!;
    expect(Object.keys(top.factors!)).toEqual(expect.arrayContaining(['predictedQuality', 'expectedCostUsd', 'lambda', 'score']));
    expect(top.factors!['predictedQuality']!).toBeGreaterThan(0.6);
    expect(top.score).toBeCloseTo(top.factors!['score']!, 12);
    expect(poem.reason).toMatch(/"poet" ranked first by intelligent/);
    await r.close();
  });

  it('a large lambda trades quality for cost', async () => {
    const r = router({ lambda: 1e6 });
    const d = await r.route('calculate the sum of 312 and 45?', { explain: true });
    expect(d.selected).toBe('cheap');
    // Per-call options override the configured ones.
    const back = await r.route('calculate the sum of 312 and 45?', { strategyOptions: { lambda: 0 } });
    expect(back.selected).toBe('mathy');
    await r.close();
  });

  it('drops candidates outside maxCostUsd and minQuality; none left is a no_deployment error', async () => {
    const r = router({ minQuality: 0.6 });
    const d = await r.route('write a poem about rain.', { explain: true });
    expect(d.candidates.map((c) => c.name)).toEqual(['poet']);
    const cheapOnly = await r.route('write a poem about rain.', { strategyOptions: { minQuality: 0, maxCostUsd: 5e-5 }, explain: true });
    expect(cheapOnly.candidates.map((c) => c.name)).toEqual(['cheap']);
    const e = await r.route('write a poem about rain.', { strategyOptions: { minQuality: 0.999 } }).catch((x: unknown) => x);
    expect(LLMError.isInstance(e) && e.code).toBe('no_deployment');
    await expect(r.route('x', { strategyOptions: { lambda: 'high' } })).rejects.toThrow(/option "lambda" must be a finite number/);
    await r.close();
  });

  it('a deployment the model does not know uses its configured quality, marked in the explanation', async () => {
    const r = router({}, [...MODELS, { name: 'other', engine: 'mock', quality: 0.99, price: { input: 0.1, output: 0.1 } }]);
    const d = await r.route('write a poem about rain.', { explain: true });
    expect(d.selected).toBe('other');
    expect(d.candidates[0]!.note).toBe('not in the router model: static quality');
    // ...or is mapped onto one of its models.
    const mapped = await r.route('calculate 3 and 4?', { strategyOptions: { models: { other: 'cheap' } }, explain: true });
    expect(mapped.selected).toBe('mathy');
    await r.close();
  });

  it.each(['poet-2', 'constructor', 'toString'])('a deployment "%s" left out of a models mapping is known by its model id', async (name) => {
    // Any mapping at all (here `cheap` onto itself) is looked up for every deployment: a name Object.prototype has
    // ("constructor") must read as not mapped, not as Object.prototype's function (ranked with the static quality).
    const r = router({ models: { cheap: 'cheap' } }, [MODELS[0]!, MODELS[1]!, { name, engine: 'mock', model: 'poet', price: { input: 2, output: 2 } }]);
    try {
      const d = await r.route('write a poem about the sea.', { explain: true });
      const line = d.candidates.find((c) => c.name === name)!;
      expect({ selected: d.selected, note: line.note }).toEqual({ selected: name, note: undefined });
    } finally {
      await r.close();
    }
  });

  it('calibrates lambda to a target share of calls to the strongest model', async () => {
    const pairArtifact = trainRouterModel(syntheticPairDataset(), FAST);
    const pair = new RouterModel(pairArtifact);
    const r = new LLMRouter(
      {
        models: [
          { name: 'weak', engine: 'mock', price: { input: 0.2, output: 0.2 } },
          { name: 'strong', engine: 'mock', price: { input: 10, output: 30 } },
        ],
        routing: { strategy: 'intelligent' },
      },
      { strategies: { intelligent: createIntelligentStrategy({ model: pair }) } },
    );
    const prompts = syntheticPairDataset(300).examples.slice(0, 300).map((e) => e.prompt);
    for (const share of [0.34, 0.8]) {
      let strong = 0;
      for (const p of prompts) if ((await r.route(p, { strategyOptions: { strongShare: share } })).selected === 'strong') strong++;
      expect(Math.abs(strong / prompts.length - share)).toBeLessThan(0.12);
    }
    await r.close();
  });

  it('loads the model from a file path given in the config', async () => {
    const file = join(dir, 'model.json');
    writeFileSync(file, JSON.stringify(artifact));
    const r = new LLMRouter({ models: MODELS as never, routing: { strategy: 'intelligent', options: { intelligent: { model: file } } } }, { strategies: { intelligent: createIntelligentStrategy() } });
    expect((await r.route('compose a story on a dragon.')).selected).toBe('poet');
    await expect(r.route('x', { strategyOptions: { model: join(dir, 'missing.json') } })).rejects.toThrow(/Router model file not found/);
    await r.close();
  });

  it('without a model it ranks by configured quality minus lambda x cost', async () => {
    const s = createIntelligentStrategy();
    const r = new LLMRouter(
      { models: [{ name: 'a', engine: 'mock', quality: 0.9, price: { input: 1, output: 1 } }, { name: 'b', engine: 'mock', quality: 0.5 }], routing: { strategy: 'intelligent' } },
      { strategies: { intelligent: s } },
    );
    const d = await r.route('hi', { explain: true });
    expect(d.selected).toBe('a');
    expect(d.candidates[0]!.note).toBe('no router model: static quality');
    await r.close();
  });

  it('asks for an embedder when the model was trained with embeddings', async () => {
    const withEmb: RouterModelArtifact = { ...artifact, features: { ...artifact.features, embedding: { dim: 4, model: 'toy' } } };
    const s = createIntelligentStrategy({ model: new RouterModel({ ...withEmb, predictor: { kind: 'prior', mean: [0.2, 0.5, 0.9] } }) });
    const r = new LLMRouter({ models: MODELS as never, routing: { strategy: 'intelligent' } }, { strategies: { intelligent: s } });
    // Embeddings of another embedder than USE lite, and no `embed`: the operator's config cannot route (config_invalid).
    await expect(r.route('x')).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining('"toy" prompt embeddings (4-d)') });
    const d = await r.route('x', { strategyOptions: { embed: async () => [1, 0, 0, 0] } });
    expect(d.selected).toBe('poet');
    await r.close();
  });

  it('held-out synthetic prompts: routed quality beats every single model', async () => {
    const r = router();
    const test = syntheticExamples(60, 11);
    const names = ['cheap', 'mathy', 'poet'];
    let routed = 0;
    for (const e of test) routed += e.quality[names.indexOf((await r.route(e.prompt)).selected)]!;
    const singles = names.map((_, m) => test.reduce((s, e) => s + e.quality[m]!, 0));
    expect(routed).toBeGreaterThan(Math.max(...singles));
    await r.close();
  });

  it('routes with a guarded stack artifact like any other; an unlike prompt gets the prior ranking', async () => {
    const stackArtifact = trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic', 'mlp', 'task', 'stack'], select: 'stack', guard: true, hyper: { epochs: 6 } });
    expect(stackArtifact.predictor.kind).toBe('guarded');
    const stackModel = new RouterModel(JSON.parse(JSON.stringify(stackArtifact)) as RouterModelArtifact);
    const r = new LLMRouter(
      { models: MODELS as never, routing: { strategy: 'intelligent' } },
      { strategies: { intelligent: createIntelligentStrategy({ model: stackModel }) } },
    );
    expect((await r.route('calculate the sum of 312 and 45?')).selected).toBe('mathy');
    expect((await r.route('write a poem about the sea.')).selected).toBe('poet');
    // Nothing like the training prompts: every model gets its mean training quality.
    const unlike = await r.route('traduire en allemand: le train part demain matin du quai neuf', { explain: true });
    const prior = stackModel.predict('zzzz qqqq');
    for (const c of unlike.candidates) expect(c.factors!['predictedQuality']!).toBeCloseTo(prior[stackModel.indexOf(c.model)!]!, 9);
    await r.close();
  });
});
