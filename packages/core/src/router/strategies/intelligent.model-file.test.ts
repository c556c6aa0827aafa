/**
 * `routing.options.intelligent.model` names a file on the server: a path that does not exist, a file that is not a
 * router model, or a model whose prompt embeddings the router cannot compute is the operator's mistake. It is found
 * when the router is built (`ready()`, `fromConfig`, `llmrr config validate`: `config_invalid` naming the field), and
 * a call made anyway fails as `config_invalid` (a 5xx the gateway logs, its message - with the path - hidden from the
 * client), never as the caller's `invalid_request`. A model trained by `llmrr router train --embeddings` (USE lite) is
 * embedded in process as the CLI embedded its training prompts. `routing.options.adaptive.model` (adaptive's cold-start
 * prior, the same kind of file) is checked the same way, naming its own field; a model given to `AdaptiveStrategy`
 * in code is named as option "model", never as a config field the user did not set.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CachedEmbedder } from '../../embeddings/cached-embedder.js';
import { LocalUseEmbedder } from '../../embeddings/local-use-embedder.js';
import { syntheticDataset } from '../../learning/__fixtures__/synthetic-data.js';
import { USE_LITE } from '../../learning/features/use-lite-embedder.js';
import type { RouterModelArtifact } from '../../learning/training/router-model.js';
import { trainRouterModel } from '../../learning/training/train-router-model.js';
import { rejection } from '../../test/async.test-helpers.js';
import { LLMRouter } from '../llm-router.js';
import { AdaptiveStrategy } from './adaptive.js';
import { createIntelligentStrategy } from './intelligent.js';

const MODELS = [
  { name: 'cheap', engine: 'mock', price: { input: 0.1, output: 0.1 } },
  { name: 'mathy', engine: 'mock', price: { input: 1, output: 1 } },
  { name: 'poet', engine: 'mock', price: { input: 2, output: 2 } },
];
const PARAM = 'routing.options.intelligent.model';

let dir: string;
let artifact: RouterModelArtifact;
const routers: LLMRouter[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-intelligent-file-'));
  artifact = trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic'] });
  writeFileSync(join(dir, 'router.json'), JSON.stringify(artifact));
  writeFileSync(join(dir, 'broken.json'), '{ this is not json');
  writeFileSync(join(dir, 'other.json'), JSON.stringify({ format: 'something-else' }));
  // Trained with embeddings of an embedder the router does not have: a config file cannot give `embed` (a function).
  const withEmbedding = (embedding: { dim: number; model: string }) => ({ ...artifact, features: { ...artifact.features, embedding }, predictor: { kind: 'prior', mean: [0.2, 0.5, 0.9] } });
  writeFileSync(join(dir, 'toy-embeddings.json'), JSON.stringify(withEmbedding({ dim: 4, model: 'toy' })));
  writeFileSync(join(dir, 'use-embeddings.json'), JSON.stringify(withEmbedding({ dim: USE_LITE.dim, model: USE_LITE.model })));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(routers.splice(0).map((r) => r.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function routerWith(model: string, strategy = 'intelligent', field: 'intelligent' | 'adaptive' = 'intelligent'): LLMRouter {
  const r = new LLMRouter({ models: MODELS as never, routing: { strategy, retries: { max: 0 }, options: { [field]: { model } } } });
  routers.push(r);
  return r;
}

describe('intelligent: the router model file of the config', () => {
  it.each([
    ['missing', 'missing/router.json', /Router model file not found: .*missing\/router\.json/],
    ['not JSON', 'broken.json', /broken\.json is not valid JSON/],
    ['not a router model', 'other.json', /Not a router model \(format is "something-else"/],
  ])('%s: ready() and every call reject with config_invalid naming the field, not the caller\'s 400', async (_label, file, message) => {
    const r = routerWith(join(dir, file));
    const e = await rejection(r.ready());
    expect({ code: e.code, statusCode: e.statusCode, param: e.param }).toEqual({ code: 'config_invalid', statusCode: 500, param: PARAM });
    expect(e.message).toMatch(message);
    const call = await rejection(r.generate('hello'));
    expect({ code: call.code, statusCode: call.statusCode, param: call.param }).toEqual({ code: 'config_invalid', statusCode: 500, param: PARAM });
    // fromConfig waits for the check, as for the price file.
    const from = await rejection(LLMRouter.fromConfig({ models: MODELS, routing: { strategy: 'intelligent', options: { intelligent: { model: join(dir, file) } } } }));
    expect({ code: from.code, param: from.param }).toEqual({ code: 'config_invalid', param: PARAM });
  });

  it('is checked when intelligent is not the router\'s strategy too (a tenant or a call may name it)', async () => {
    const r = routerWith(join(dir, 'missing.json'), 'priority');
    expect(await rejection(r.ready())).toMatchObject({ code: 'config_invalid', param: PARAM });
    expect((await r.generate('hello')).deployment).toBe('cheap');
  });

  it('a good file loads once, when the router is built: ready() resolves and calls use it', async () => {
    const r = routerWith(join(dir, 'router.json'));
    await r.ready();
    expect((await r.route('compose a story on a dragon.')).selected).toBe('poet');
  });

  it('a file fixed after the router was built is loaded by the next call', async () => {
    const file = join(dir, 'later.json');
    const r = routerWith(file);
    expect(await rejection(r.generate('hello'))).toMatchObject({ code: 'config_invalid' });
    writeFileSync(file, JSON.stringify(artifact));
    expect((await r.route('compose a story on a dragon.')).selected).toBe('poet');
  });

  it("a call's own strategyOptions.model that cannot be loaded is config_invalid too (a file on the server), on option \"model\"", async () => {
    const r = routerWith(join(dir, 'router.json'));
    const e = await rejection(r.route('x', { strategyOptions: { model: join(dir, 'missing.json') } }));
    expect({ code: e.code, param: e.param }).toEqual({ code: 'config_invalid', param: 'model' });
    expect(e.message).toContain('Router model file not found');
  });

  it('a model trained with embeddings the router cannot compute is refused (no `embed` in a config file); with `embed` in code it routes', async () => {
    const r = routerWith(join(dir, 'toy-embeddings.json'));
    const e = await rejection(r.ready());
    expect({ code: e.code, param: e.param }).toEqual({ code: 'config_invalid', param: PARAM });
    expect(e.message).toContain('"toy" prompt embeddings (4-d)');
    expect(e.message).toContain('"embed" option');
    expect(await rejection(r.generate('hello'))).toMatchObject({ code: 'config_invalid', param: PARAM });

    const coded = new LLMRouter(
      { models: MODELS as never, routing: { strategy: 'intelligent' } },
      { strategies: { intelligent: createIntelligentStrategy({ model: join(dir, 'toy-embeddings.json'), embed: async () => [1, 0, 0, 0] }) } },
    );
    routers.push(coded);
    await coded.ready();
    expect((await coded.route('x')).selected).toBe('poet');
  });

  it('a model trained by `router train --embeddings` (USE lite) is embedded in process, as the CLI embedded its prompts', async () => {
    // The process's USE lite stack (its cache may already hold "warm up" from another router of this file).
    const embed = vi.spyOn(CachedEmbedder.prototype, 'embed');
    const r = routerWith(join(dir, 'use-embeddings.json'));
    // ready() loads the model and warms the embedder (a missing package would fail here, not at the first call).
    await r.ready();
    expect(embed).toHaveBeenCalledWith(['warm up']);
    const d = await r.route('compose a story on a dragon.');
    expect(d.selected).toBe('poet');
    expect(embed).toHaveBeenLastCalledWith(['compose a story on a dragon.']);
    const vector = (await embed.mock.results.at(-1)!.value) as Float32Array[];
    expect(vector[0]).toHaveLength(USE_LITE.dim);
    // A tenant's call embeds in its tenant's partition of the shared cache (no vector, nor its speed, crosses tenants).
    r.setTenant({ id: 'acme' });
    expect((await r.route('compose a story on a dragon.', { tenant: 'acme' })).selected).toBe('poet');
    expect(embed).toHaveBeenLastCalledWith(['compose a story on a dragon.'], { partition: 'acme' });
  }, 60_000);

  // Each had its own LocalUseEmbedder: two copies of the model in memory, and a prompt embedded by each.
  it('shares one USE lite model and embedding cache with the semantic cache (`local-use`): a prompt is embedded once', async () => {
    const embed = vi.spyOn(LocalUseEmbedder.prototype, 'embed');
    const r = new LLMRouter({
      models: MODELS as never,
      routing: { strategy: 'intelligent', retries: { max: 0 }, options: { intelligent: { model: join(dir, 'use-embeddings.json') } } },
      cache: { semantic: { enabled: true, embedder: 'local-use' } },
    });
    routers.push(r);
    await r.ready();
    // Lower case: the semantic cache embeds the lower-cased question, intelligent the prompt as given.
    const prompt = 'write a short poem about a lighthouse keeper and the sea.';
    const answer = await r.generate(prompt);
    expect(answer.cached).toBe(false);
    expect(answer.decision?.strategy ?? 'intelligent').toBe('intelligent');
    const withPrompt = embed.mock.calls.filter(([texts]) => texts.includes(prompt));
    expect(withPrompt).toHaveLength(1);
    // Every embedding of the process went through one LocalUseEmbedder.
    expect(new Set(embed.mock.contexts).size).toBe(1);
    // The semantic cache's embedder is the one intelligent used: the prompt is a hit there now.
    const semantic = (await (r as unknown as { semantic: { cache(): Promise<{ embedder: CachedEmbedder } | undefined> } }).semantic.cache())!.embedder;
    const hits = semantic.hits;
    await semantic.embed([prompt]);
    expect(semantic.hits).toBe(hits + 1);
  }, 60_000);
});

describe("adaptive: the router model file of the config (its cold-start prior)", () => {
  const ADAPTIVE = 'routing.options.adaptive.model';

  it.each([
    ['missing', 'missing/router.json', /Router model file not found: .*missing\/router\.json/],
    ['not a router model', 'other.json', /Not a router model/],
    ['trained with embeddings the router cannot compute', 'toy-embeddings.json', /"toy" prompt embeddings \(4-d\)/],
  ])('%s: ready(), fromConfig and every call reject with config_invalid naming routing.options.adaptive.model', async (_label, file, message) => {
    const r = routerWith(join(dir, file), 'adaptive', 'adaptive');
    const e = await rejection(r.ready());
    expect({ code: e.code, statusCode: e.statusCode, param: e.param }).toEqual({ code: 'config_invalid', statusCode: 500, param: ADAPTIVE });
    expect(e.message).toMatch(message);
    const call = await rejection(r.generate('hello'));
    expect({ code: call.code, statusCode: call.statusCode, param: call.param }).toEqual({ code: 'config_invalid', statusCode: 500, param: ADAPTIVE });
    const from = await rejection(LLMRouter.fromConfig({ models: MODELS, routing: { strategy: 'adaptive', options: { adaptive: { model: join(dir, file) } } } }));
    expect({ code: from.code, param: from.param }).toEqual({ code: 'config_invalid', param: ADAPTIVE });
  });

  it('a good file loads when the router is built and ranks the cold start', async () => {
    const r = routerWith(join(dir, 'router.json'), 'adaptive', 'adaptive');
    await r.ready();
    const d = await r.route('compose a story on a dragon.', { explain: true });
    expect(d.candidates.find((c) => c.name === 'poet')!.factors!['priorQuality']).toBeGreaterThan(d.candidates.find((c) => c.name === 'cheap')!.factors!['priorQuality']!);
  });

  it('a model given to AdaptiveStrategy in code is named as option "model", not a config field the user never set', async () => {
    const r = new LLMRouter({ models: MODELS as never, routing: { strategy: 'priority', retries: { max: 0 } } });
    routers.push(r);
    r.addStrategy('mine', new AdaptiveStrategy({ model: join(dir, 'code.json') }));
    const ready = await rejection(r.ready());
    const call = await rejection(r.generate('hello', { strategy: 'mine' }));
    for (const e of [ready, call]) {
      expect({ code: e.code, param: e.param }).toEqual({ code: 'config_invalid', param: 'model' });
      expect(e.message).toMatch(/^adaptive: router model \(option "model"\): Router model file not found/);
      expect(e.message).not.toContain('routing.options');
    }
  });

  it('a prior trained by `router train --embeddings` (USE lite) is warmed by ready(), as intelligent\'s', async () => {
    const embed = vi.spyOn(CachedEmbedder.prototype, 'embed');
    const r = routerWith(join(dir, 'use-embeddings.json'), 'adaptive', 'adaptive');
    await r.ready();
    expect(embed).toHaveBeenCalledWith(['warm up']);
    expect((await r.route('compose a story on a dragon.')).selected).toBeDefined();
    expect(embed).toHaveBeenLastCalledWith(['compose a story on a dragon.']);
  }, 60_000);
});
