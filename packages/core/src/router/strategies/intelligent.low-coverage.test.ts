/**
 * Router models trained on USE lite prompt embeddings read non-Latin text poorly: USE lite's vocabulary is English word
 * pieces, so a Chinese or Russian prompt is mostly its unknown id and every such prompt gets nearly one vector. The
 * learned prediction is kept for them (measured better than each model's base rate, a replacement embedding or per-model
 * means: intelligent.low-coverage.routing-data.test.ts, docs/routing.md), and `explain` says the prompt's coverage is
 * low (a note and the factor `promptCoverage`), whenever the vocabulary is loaded. Real USE lite model and vocabulary
 * (the optional `@energetic-ai` packages).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dot } from '../../embeddings/embedder.js';
import { LocalUseEmbedder } from '../../embeddings/local-use-embedder.js';
import { syntheticDataset } from '../../learning/__fixtures__/synthetic-data.js';
import { USE_LITE } from '../../learning/features/use-lite-embedder.js';
import { RouterModel } from '../../learning/training/router-model.js';
import { trainRouterModel } from '../../learning/training/train-router-model.js';
import { LLMRouter } from '../llm-router.js';
import type { Strategy } from '../types.js';
import { rankedDeployment, strategyContext } from './__fixtures__/strategy-context.js';
import { AdaptiveStrategy } from './adaptive.js';
import { createIntelligentStrategy, MIN_PROMPT_COVERAGE } from './intelligent.js';
import { useLiteInstalled } from '../../embeddings/__fixtures__/use-lite-installed.js';

const installed = useLiteInstalled;

const MODELS = [
  { name: 'cheap', engine: 'mock', price: { input: 0.1, output: 0.1 } },
  { name: 'mathy', engine: 'mock', price: { input: 1, output: 1 } },
  { name: 'poet', engine: 'mock', price: { input: 2, output: 2 } },
];

/** Unrelated prompts USE lite mostly cannot read: a poem, a sum, a history question (Chinese, Russian, Greek). */
const NON_LATIN = [
  '\u5199\u4e00\u9996\u5173\u4e8e\u6708\u4eae\u7684\u8bd7\u3002', // write a poem about the moon.
  '\u8ba1\u7b97\u4e00\u767e\u4e8c\u5341\u548c\u4e03\u7684\u548c\u3002', // compute the sum of 120 and 7.
  '\u0420\u0435\u0448\u0438\u0442\u0435 \u0443\u0440\u0430\u0432\u043d\u0435\u043d\u0438\u0435: \u0434\u0432\u0430\u0434\u0446\u0430\u0442\u044c \u043f\u043b\u044e\u0441 \u0442\u0440\u0438?', // solve: twenty plus three?
  '\u041d\u0430\u043f\u0438\u0448\u0438\u0442\u0435 \u0441\u0442\u0438\u0445\u043e\u0442\u0432\u043e\u0440\u0435\u043d\u0438\u0435 \u043e \u0434\u0440\u0430\u043a\u043e\u043d\u0435.', // write a poem about a dragon.
  '\u03a0\u03bf\u03b9\u03bf\u03c2 \u03ae\u03c4\u03b1\u03bd \u03bf \u039c\u03ad\u03b3\u03b1\u03c2 \u0391\u03bb\u03ad\u03be\u03b1\u03bd\u03b4\u03c1\u03bf\u03c2;', // who was Alexander the Great?
];

describe.skipIf(!installed)('intelligent / adaptive on USE lite embeddings: prompts its vocabulary does not cover (needs @energetic-ai/*)', () => {
  const use = new LocalUseEmbedder();
  let model: RouterModel;
  const routers: LLMRouter[] = [];

  beforeAll(async () => {
    await use.prepare();
    const dataset = syntheticDataset();
    const prompts = [...new Set(dataset.examples.map((e) => e.prompt))];
    const vectors = await use.embed(prompts);
    const byPrompt = new Map(prompts.map((p, i) => [p, vectors[i]!]));
    // Embeddings only (no hashed words, no analysis block): what the prompt's vector says is all the model reads.
    model = new RouterModel(trainRouterModel(dataset, { hashDim: 0, analysis: false, kinds: ['knn', 'logistic'], embedding: { ...USE_LITE, lookup: (p) => byPrompt.get(p) } }));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(routers.map((r) => r.close()));
  });

  const router = (strategy: 'intelligent' | 'adaptive'): LLMRouter => {
    const strategies: Record<string, Strategy> = strategy === 'intelligent' ? { intelligent: createIntelligentStrategy({ model }) } : { adaptive: new AdaptiveStrategy({ model }) };
    const r = new LLMRouter({ models: MODELS as never, routing: { strategy, retries: { max: 0 } } }, { strategies });
    routers.push(r);
    return r;
  };

  it('measured: USE lite covers little of them, their vectors are nearly one, and so the learned predictions were', async () => {
    const shares = NON_LATIN.map((q) => {
      const c = use.coverage(q)!;
      return c.covered / c.characters;
    });
    const vectors = await use.embed(NON_LATIN);
    let lowest = 1;
    for (let i = 0; i < vectors.length; i++) for (let j = i + 1; j < vectors.length; j++) lowest = Math.min(lowest, dot(vectors[i]!, vectors[j]!));
    const predictions = NON_LATIN.map((q, i) => [...model.predict(q, vectors[i]!)].map((v) => v.toFixed(3)).join(' '));
    console.info(`[non-Latin prompts] USE lite coverage ${shares.map((s) => s.toFixed(2)).join(', ')}; lowest cosine between two of them ${lowest.toFixed(3)}; learned predictions (cheap mathy poet): ${predictions.join(' | ')}`);
    expect(shares.every((s) => s < MIN_PROMPT_COVERAGE)).toBe(true);
    // A poem and a sum, in Chinese: nearly one vector for the model (English ones are far apart).
    const [poem, sum] = await use.embed(['write a poem about the moon.', 'compute the sum of 120 and 7.']);
    expect(dot(vectors[0]!, vectors[1]!)).toBeGreaterThan(dot(poem!, sum!) + 0.3);
  }, 60_000);

  it('intelligent ranks them on the learned prediction (not each model\'s base rate), and explain says their coverage is low', async () => {
    const r = router('intelligent');
    await r.ready();
    const vectors = await use.embed(NON_LATIN);
    for (const [i, q] of NON_LATIN.entries()) {
      const d = await r.route(q);
      const learned = model.predict(q, vectors[i]!);
      for (const c of d.candidates) {
        expect(c.factors?.['predictedQuality'], `${q} ${c.name}`).toBeCloseTo(learned[model.indexOf(c.name)!]!, 5);
        expect(c.factors?.['promptCoverage']).toBeLessThan(MIN_PROMPT_COVERAGE);
        expect(c.note).toMatch(/^prompt coverage 0(\.\d+)? < 0\.5 \(mostly outside USE lite's English vocabulary: its embedding tells it little/);
      }
    }
    // English prompts are read as before: the learned choice, no coverage note.
    const poem = await r.route('compose a story on a dragon.');
    expect(poem.selected).toBe('poet');
    expect(poem.candidates.every((c) => c.factors?.['promptCoverage'] === undefined && c.note === undefined)).toBe(true);
    expect((await r.route('calculate the sum of 120 and 7?')).selected).toBe('mathy');
  }, 60_000);

  // Emoji are Script=Common: an emoji-only prompt (USE lite covers none of it) was never measured.
  it('an emoji-only prompt is measured too', async () => {
    const r = router('intelligent');
    await r.ready();
    const d = await r.route('\u{1F319}\u{1F319}\u270D\uFE0F\u{1F4DC}');
    for (const c of d.candidates) expect(c.factors?.['promptCoverage']).toBe(0);
  }, 60_000);

  // The check took every `Extended_Pictographic` character as an emoji: U+00A9, U+00AE, check marks and arrows are
  // too, so a short English prompt with them was measured, and its note said USE lite could not read it.
  it('an English prompt with (c), (R), check marks and arrows is not measured; the same with emoji check marks is', async () => {
    const r = router('intelligent');
    await r.ready();
    const symbols = await r.route('ok \u2714\u2714\u2714 \u2194 \u00a9 \u00ae');
    expect(symbols.candidates.every((c) => c.factors?.['promptCoverage'] === undefined && c.note === undefined)).toBe(true);
    const emoji = await r.route('ok \u2714\uFE0F\u2714\uFE0F\u2714\uFE0F');
    for (const c of emoji.candidates) expect(c.factors?.['promptCoverage']).toBeLessThan(MIN_PROMPT_COVERAGE);
  }, 60_000);

  it('adaptive\'s prior is the learned prediction for them too, and its explain says their coverage is low', async () => {
    const r = router('adaptive');
    await r.ready();
    const d = await r.route(NON_LATIN[1]!);
    const [vector] = await use.embed([NON_LATIN[1]!]);
    const learned = model.predict(NON_LATIN[1]!, vector!);
    for (const c of d.candidates) {
      expect(c.factors?.['priorQuality']).toBeCloseTo(learned[model.indexOf(c.name)!]!, 5);
      expect(c.note).toMatch(/^prior: prompt coverage 0(\.\d+)? < 0\.5 \(mostly outside USE lite's English vocabulary.*\)$/);
    }
    const en = await r.route('compose a story on a dragon.');
    expect(en.candidates.every((c) => c.note === undefined)).toBe(true);
  }, 60_000);
});
