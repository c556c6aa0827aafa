/**
 * `intelligent` per call: a strongShare calibrated per router model (several models through one strategy, per-call
 * `strategyOptions`), a strongShare outside 0..1 refused, and the decision time on a very long prompt.
 */
import { describe, expect, it } from 'vitest';
import { syntheticDataset } from '../../learning/__fixtures__/synthetic-data.js';
import { RouterModel } from '../../learning/training/router-model.js';
import { trainRouterModel } from '../../learning/training/train-router-model.js';
import type { Deployment, RankedCandidate, StrategyContext } from '../types.js';
import { rankedDeployment, strategyContext } from './__fixtures__/strategy-context.js';
import { createIntelligentStrategy } from './intelligent.js';

const deployment = (name: string, price: { input: number; output: number }): Deployment => rankedDeployment(name, { price });
const ctx = (candidates: Deployment[], prompt: string, options: Record<string, unknown>): StrategyContext => strategyContext(candidates, prompt, { options });

describe('intelligent: strongShare with two router models', () => {
  it("the lambda calibrated on one model's calibration prompts is not reused for another model", () => {
    const artifact = trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic' });
    const a = new RouterModel(artifact);
    // A second model (say, retrained or another tenant's) whose calibration prompts favour "poet" far more strongly.
    const b = new RouterModel({ ...artifact, calibration: artifact.calibration.map(() => [0.1, 0.2, 0.99]) });
    // $0.0001, $0.001, $0.002 for this request: the cost ratios of the training data.
    const candidates = [deployment('cheap', { input: 0.05, output: 0.05 }), deployment('mathy', { input: 0.5, output: 0.5 }), deployment('poet', { input: 1, output: 1 })];
    const prompt = 'write a poem about the sea.';
    const lambdaOf = (r: RankedCandidate[] | Promise<RankedCandidate[]>) => (r as RankedCandidate[])[0]!.factors!['lambda']!;

    const alone = lambdaOf(createIntelligentStrategy().rank(ctx(candidates, prompt, { model: b, strongShare: 0.3 })));
    const aAlone = lambdaOf(createIntelligentStrategy().rank(ctx(candidates, prompt, { model: a, strongShare: 0.3 })));
    expect(alone).not.toBeCloseTo(aAlone, 6);

    // One strategy (the router's built-in `intelligent`), model A on one call, model B on the next.
    const shared = createIntelligentStrategy();
    expect(lambdaOf(shared.rank(ctx(candidates, prompt, { model: a, strongShare: 0.3 })))).toBeCloseTo(aAlone, 9);
    expect(lambdaOf(shared.rank(ctx(candidates, prompt, { model: b, strongShare: 0.3 })))).toBeCloseTo(alone, 9);
  });
});

describe('intelligent: decision time on a long prompt (router model with --features +structure)', () => {
  const artifact = trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic', structure: true });
  const model = new RouterModel(artifact);
  const candidates = [deployment('cheap', { input: 0.05, output: 0.05 }), deployment('mathy', { input: 0.5, output: 0.5 }), deployment('poet', { input: 1, output: 1 })];
  const timed = (prompt: string) => {
    const s = createIntelligentStrategy({ model });
    const t0 = performance.now();
    const r = s.rank(ctx(candidates, prompt, {})) as RankedCandidate[];
    expect(r).toHaveLength(3);
    return performance.now() - t0;
  };

  // The bound: ranking takes milliseconds (the structure and quantity patterns are linear and read the last 8 000
  // characters); a backtracking pattern took 2 to 7 s on these prompts. 1 s leaves a loaded machine ample room.
  it('a 30 000-character prompt of ordinary text is ranked in well under a second', () => {
    const prose = 'Tom buys 3 apples for 2 dollars each. How much does he pay in total? '.repeat(450).slice(0, 30_000);
    expect(timed(prose)).toBeLessThan(1000);
  });

  it('a 30 000-character prompt that is mostly whitespace is ranked in well under a second too (no regex backtracking blow-up)', () => {
    expect(timed(`${' '.repeat(30_000)}x`)).toBeLessThan(1000);
  });

  it('a 30 000-character run of dots is ranked in well under a second too', () => {
    expect(timed(`Why${'.'.repeat(30_000)}x`)).toBeLessThan(1000);
  });
});

describe('intelligent: strongShare outside 0..1', () => {
  it('a share given in percent (30) is refused naming the option, not read as "every call to the strongest model"', () => {
    const artifact = trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic' });
    const model = new RouterModel(artifact);
    const candidates = [deployment('cheap', { input: 0.05, output: 0.05 }), deployment('mathy', { input: 0.5, output: 0.5 }), deployment('poet', { input: 1, output: 1 })];
    const s = createIntelligentStrategy({ model });
    let error: unknown;
    let ranked: RankedCandidate[] | undefined;
    try {
      ranked = s.rank(ctx(candidates, 'write a poem about the sea.', { strongShare: 30 })) as RankedCandidate[];
    } catch (e) {
      error = e;
    }
    expect(ranked?.map((r) => `${r.deployment.name} lambda=${r.factors?.['lambda']}`)).toBeUndefined();
    expect(error).toMatchObject({ code: 'invalid_request', param: 'strategyOptions.strongShare' });
  });
});
