import { describe, expect, it } from 'vitest';
import { syntheticExamples } from '../__fixtures__/synthetic-data.js';
import { featureBlocks, featurize, fitFeatures } from '../features/feature-pipeline.js';
import { toTrainingSet, trainPredictors } from '../training/train-predictors.js';
import { GuardedPredictor, fitGuard } from './guarded-predictor.js';
import { loadPredictor } from './load-predictor.js';
import { trainLogistic } from './logistic-predictor.js';
import { meanQuality } from './types.js';

const train = syntheticExamples(300, 1);
const spec = fitFeatures(train.map((e) => e.prompt), { hashDim: 1 << 10 });
const set = toTrainingSet(spec, train, 3);
const inner = trainLogistic(set, undefined, { epochs: 8 });
const prior = meanQuality(set.y, 3);
const guard = fitGuard(inner, set, train.map((e) => e.task), featureBlocks(spec).hashed, prior);
const UNSEEN = 'translate into german: the train leaves tomorrow morning from platform nine';

describe('out-of-distribution guard', () => {
  it('trusts the inner predictor on prompts like the training ones (held out)', () => {
    const test = syntheticExamples(60, 2);
    const trusted = test.filter((e) => guard.trust(featurize(spec, e.prompt)) === 1).length;
    expect(trusted / test.length).toBeGreaterThan(0.9);
    const x = featurize(spec, 'calculate the sum of 300 and 12?');
    const a = guard.predict(x), b = inner.predict(x);
    for (let m = 0; m < 3; m++) expect(a[m]!).toBeCloseTo(b[m]!, 10);
    expect(guard.kind).toBe('logistic');
  });

  it('falls back to the prior (each model\'s mean training quality) on an unlike prompt', () => {
    const x = featurize(spec, UNSEEN);
    expect(guard.trust(x)).toBe(0);
    expect(Array.from(guard.predict(x))).toEqual(prior);
    expect(guard.high).toBeGreaterThan(0);
    expect(guard.low).toBeCloseTo(guard.high / 2, 10);
  });

  it('survives a JSON round trip and checks the prior length', () => {
    const state = JSON.parse(JSON.stringify(guard.toJSON()));
    const again = loadPredictor(state);
    expect(again).toBeInstanceOf(GuardedPredictor);
    for (const p of ['solve the equation 41 and 7?', UNSEEN]) {
      const x = featurize(spec, p);
      const a = guard.predict(x), b = again.predict(x);
      for (let m = 0; m < 3; m++) expect(b[m]!).toBeCloseTo(a[m]!, 3);
    }
    expect(() => loadPredictor({ ...state, prior: [0.5] })).toThrow(/Guard prior has 1 values, expected 3/);
  });

  it('trainPredictors({ guard: true }) wraps every learned predictor, not the prior', () => {
    const t = trainPredictors(train, 3, undefined, { hashDim: 1 << 10, kinds: ['logistic', 'task', 'stack'], guard: true, hyper: { epochs: 6 } });
    expect([...t.predictors.keys()]).toEqual(['prior', 'logistic', 'task', 'stack']);
    for (const [kind, p] of t.predictors) expect(p instanceof GuardedPredictor).toBe(kind !== 'prior');
    const x = featurize(t.features, UNSEEN);
    expect(Array.from(t.predictors.get('stack')!.predict(x))).toEqual(Array.from(t.predictors.get('prior')!.predict(x)));
    expect(t.predictors.get('stack')!.toJSON().kind).toBe('guarded');
  });
});
