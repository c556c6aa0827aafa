/**
 * Whether `explain` notes a prompt's low USE lite coverage must not depend on load timing: the vocabulary is read
 * asynchronously, and a per-call `strategyOptions.model` is never prepared, so its first calls found the coverage "not
 * known" and said nothing. `rank` now awaits the vocabulary with the prompt's embedding (a no-op once loaded). Its own
 * file: a fresh process-wide vocabulary loader, never loaded before the call (and a language detector never loaded: the
 * router does not read it). Real USE lite model and vocabulary.
 */
import { describe, expect, it } from 'vitest';
import { LocalUseEmbedder } from '../../embeddings/local-use-embedder.js';
import { useLiteTokenizerLoader } from '../../embeddings/use-lite-coverage.js';
import { useLiteLanguage } from '../../embeddings/use-lite-language.js';
import { syntheticDataset } from '../../learning/__fixtures__/synthetic-data.js';
import { USE_LITE } from '../../learning/features/use-lite-embedder.js';
import { RouterModel } from '../../learning/training/router-model.js';
import { trainRouterModel } from '../../learning/training/train-router-model.js';
import { rankedDeployment, strategyContext } from './__fixtures__/strategy-context.js';
import { createIntelligentStrategy, MIN_PROMPT_COVERAGE } from './intelligent.js';
import { useLiteInstalled } from '../../embeddings/__fixtures__/use-lite-installed.js';

const installed = useLiteInstalled;

describe.skipIf(!installed)('intelligent: the low-coverage note on the first call (needs @energetic-ai/*)', () => {
  it('a per-call strategyOptions.model, never prepared, notes the coverage from its first call', async () => {
    const use = new LocalUseEmbedder();
    const dataset = syntheticDataset();
    const prompts = [...new Set(dataset.examples.map((e) => e.prompt))];
    const vectors = await use.embed(prompts);
    const byPrompt = new Map(prompts.map((p, i) => [p, vectors[i]!]));
    const model = new RouterModel(trainRouterModel(dataset, { hashDim: 0, analysis: false, kinds: ['logistic'], embedding: { ...USE_LITE, lookup: (p) => byPrompt.get(p) } }));
    // Embedding loads the model, not the vocabulary coverage is read with.
    expect(useLiteTokenizerLoader().settled).toBe(false);
    const strategy = createIntelligentStrategy();
    const candidates = ['cheap', 'mathy', 'poet'].map((n) => rankedDeployment(n, { price: { input: 1, output: 1 } }));
    const ranked = await strategy.rank(strategyContext(candidates, '\u5199\u4e00\u9996\u5173\u4e8e\u6708\u4eae\u7684\u8bd7\u3002', { options: { model } }));
    for (const c of ranked) expect(c.factors?.['promptCoverage']).toBeLessThan(MIN_PROMPT_COVERAGE);
    // prepare loads the vocabulary, not the language detector (eld: +33 MB of heap) the router never reads; nor does rank.
    await createIntelligentStrategy({ model }).prepare!({});
    expect(useLiteTokenizerLoader().settled).toBe(true);
    expect(useLiteLanguage().loaded).toBe(false);
  }, 120_000);
});
