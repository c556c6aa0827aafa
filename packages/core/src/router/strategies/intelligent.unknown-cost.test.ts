import { describe, expect, it } from 'vitest';
import { syntheticDataset } from '../../learning/__fixtures__/synthetic-data.js';
import { parseRouterModel } from '../../learning/training/router-model.js';
import { trainRouterModel } from '../../learning/training/train-router-model.js';
import type { Deployment, StrategyContext } from '../types.js';
import { rankedDeployment, strategyContext } from './__fixtures__/strategy-context.js';
import { createIntelligentStrategy } from './intelligent.js';

/** A remote deployment with no configured price (and none in the price table). */
const deployment = (name: string): Deployment => rankedDeployment(name);
const ctx = (candidates: Deployment[], prompt: string, options: Record<string, unknown>): StrategyContext =>
  strategyContext(candidates, prompt, { options, estimatedInputTokens: 20, expectedOutputTokens: 256 });

describe('intelligent: a model with no cost in the router model\'s training data', () => {
  type Ranked = Array<{ deployment: Deployment; factors?: Record<string, number>; note?: string }>;
  // The data has costs for "cheap" and "mathy" but none for "poet" (e.g. a long-format file whose
  // poet rows have no cost_usd): poet's cost is unknown, not zero.
  function strategy() {
    const data = syntheticDataset();
    for (const e of data.examples) e.cost![2] = NaN;
    const artifact = trainRouterModel(data, { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic' });
    expect(artifact.cost!.intercept[2]).toBeNull();
    // The unknown cost survives the JSON round trip `router train --out` makes.
    const model = parseRouterModel(JSON.stringify(artifact), 'model.json');
    return createIntelligentStrategy({ model });
  }
  const candidates = ['cheap', 'mathy', 'poet'].map(deployment);

  it('does not pass maxCostUsd', () => {
    // A budget below what the cheapest known model costs (cheap: $0.0001 per prompt in the data).
    const r = strategy().rank(ctx(candidates, 'write a poem about the sea.', { maxCostUsd: 0.00001 })) as Ranked;
    expect(r.map((c) => `${c.deployment.name} at $${c.factors?.['expectedCostUsd']}`)).toEqual([]);
  });

  it('is costed as the dearest known candidate, with a note', () => {
    const r = strategy().rank(ctx(candidates, 'write a poem about the sea.', {})) as Ranked;
    const by = new Map(r.map((c) => [c.deployment.name, c]));
    const known = Math.max(by.get('cheap')!.factors!['expectedCostUsd']!, by.get('mathy')!.factors!['expectedCostUsd']!);
    expect(known).toBeGreaterThan(0);
    expect(by.get('poet')!.factors!['expectedCostUsd']).toBe(known);
    expect(by.get('poet')!.note).toMatch(/price unknown/);
  });
});
