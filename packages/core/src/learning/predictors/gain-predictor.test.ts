import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { syntheticExamples, syntheticGainExamples } from '../__fixtures__/synthetic-data.js';
import { twoModelMetrics } from '../evaluation/two-model-metrics.js';
import { featurize, fitFeatures } from '../features/feature-pipeline.js';
import { toTrainingSet, trainPredictors } from '../training/train-predictors.js';
import { trainGainMlp } from './gain-mlp-predictor.js';
import { gainTargets } from './gain-model.js';
import { trainGain } from './gain-predictor.js';
import { loadPredictor } from './load-predictor.js';
import { trainLogistic } from './logistic-predictor.js';

const pair = { weak: 0, strong: 1 };
const train = syntheticGainExamples(600, 1);
const val = syntheticGainExamples(120, 2);
const test = syntheticGainExamples(240, 3);
const spec = fitFeatures(train.map((e) => e.prompt), { hashDim: 1 << 10 });
const set = toTrainingSet(spec, train, 2);
const valSet = toTrainingSet(spec, val, 2);

function heldOutApgr(predict: (prompt: string) => Float64Array): number {
  const score = test.map((e) => {
    const q = predict(e.prompt);
    return q[1]! - q[0]!;
  });
  return twoModelMetrics(score, test.map((e) => e.quality[0]!), test.map((e) => e.quality[1]!)).apgr;
}

describe('gainTargets', () => {
  it('is one-hot for 0/1 outcomes and soft for fractional scores, undefined when an outcome is unknown', () => {
    expect(gainTargets([0, 1], pair)).toEqual([1, 0, 0]);
    expect(gainTargets([1, 1], pair)).toEqual([0, 1, 0]);
    expect(gainTargets([0, 0], pair)).toEqual([0, 1, 0]);
    expect(gainTargets([1, 0], pair)).toEqual([0, 0, 1]);
    const t = gainTargets([0.2, 0.7], pair)!;
    expect(t[0]).toBeCloseTo(0.5, 12);
    expect(t[1]).toBeCloseTo(0.5, 12);
    expect(t[2]).toBe(0);
    expect(gainTargets([0.9, 0.6], { weak: 0, strong: 1 })![2]).toBeCloseTo(0.3, 12);
    expect(gainTargets([Number.NaN, 1], pair)).toBeUndefined();
    // Swapped pair: the strong model is column 0.
    expect(gainTargets([1, 0], { weak: 1, strong: 0 })).toEqual([1, 0, 0]);
  });
});

describe.each([
  ['gain', trainGain],
  ['gain-mlp', trainGainMlp],
] as const)('%s predictor', (kind, trainer) => {
  const p = trainer(set, valSet, pair, { seed: 1 });

  it('learns where only the strong model is right (held-out prompts), above the prior', () => {
    const gain = (prompt: string) => p.gain(featurize(spec, prompt));
    const tricky = gain('count the hidden pattern in the sea carefully');
    const hard = gain('prove the open conjecture about the sea rigorously');
    const easy = gain('say hello to the sea please');
    expect(tricky).toBeGreaterThan(0.4);
    expect(tricky).toBeGreaterThan(hard + 0.3);
    expect(tricky).toBeGreaterThan(easy + 0.3);
    const apgr = heldOutApgr((prompt) => p.predict(featurize(spec, prompt)));
    expect(apgr).toBeGreaterThan(0.75);
  });

  it('writes q_strong = (1 + g) / 2 and q_weak = (1 - g) / 2, in [0, 1]', () => {
    for (const e of test.slice(0, 30)) {
      const x = featurize(spec, e.prompt);
      const q = p.predict(x);
      const g = p.gain(x);
      expect(q[1]! - q[0]!).toBeCloseTo(g, 12);
      expect(q[0]! + q[1]!).toBeCloseTo(1, 12);
      expect(q[0]! >= 0 && q[1]! <= 1).toBe(true);
      const c = p.classProbabilities(x);
      expect(c[0]! + c[1]! + c[2]!).toBeCloseTo(1, 12);
    }
  });

  it('ranks about as well as the per-model logistic regression on the same features', () => {
    const logistic = trainLogistic(set, valSet, { seed: 1 });
    const a = heldOutApgr((prompt) => p.predict(featurize(spec, prompt)));
    const b = heldOutApgr((prompt) => logistic.predict(featurize(spec, prompt)));
    expect(a).toBeGreaterThan(b - 0.05);
  });

  it('early-stops on its own 3-class loss and keeps the best epoch', () => {
    const before = trainer(set, valSet, pair, { seed: 2, epochs: 0 }).validationLoss(valSet);
    const long = trainer(set, valSet, pair, { seed: 2, epochs: 30, patience: 1 });
    expect(long.validationLoss(valSet)).toBeLessThan(before);
    expect(long.validationLoss(valSet)).toBeLessThan(0.75);
  });

  it('survives a JSON round trip with the same predictions', () => {
    const again = loadPredictor(JSON.parse(JSON.stringify(p.toJSON())));
    expect(again.kind).toBe(kind);
    const x = featurize(spec, 'count the hidden pattern in a dragon carefully');
    const a = p.predict(x), b = again.predict(x);
    for (let m = 0; m < 2; m++) expect(b[m]!).toBeCloseTo(a[m]!, 3);
  });

  it('is trained by trainPredictors when named, and scored on the validation share', () => {
    const t = trainPredictors(train, 2, pair, { kinds: ['logistic', kind], hashDim: 1 << 10, valShare: 0.34 });
    expect(t.predictors.get(kind)?.kind).toBe(kind);
    expect(t.validation.map((v) => v.kind)).toEqual(['prior', 'logistic', kind]);
    const score = (kind: string) => t.validation.find((v) => v.kind === kind)!;
    expect(score(kind).metric).toBe('apgr');
    expect(score(kind).value).toBeGreaterThan(score('prior').value + 0.2);
  });
});

describe('gain predictors on data that is not two-model', () => {
  it('are not default kinds', () => {
    const t = trainPredictors(train, 2, pair, { hashDim: 1 << 10 });
    expect(t.predictors.has('gain') || t.predictors.has('gain-mlp')).toBe(false);
  });

  const many = syntheticExamples(60, 1);
  const manySpec = fitFeatures(many.map((e) => e.prompt), { hashDim: 1 << 8 });
  const manySet = toTrainingSet(manySpec, many, 3);

  it('refuses three models or a missing pair with a typed error naming the option', () => {
    const refusals = [
      () => trainGain(manySet, undefined, undefined),
      () => trainGain(manySet, undefined, pair),
      () => trainGainMlp(manySet, undefined, undefined),
      () => trainGainMlp(manySet, undefined, pair),
      () => trainPredictors(many, 3, undefined, { kinds: ['gain'], hashDim: 1 << 8 }),
      () => trainPredictors(many, 3, undefined, { kinds: ['gain-mlp'], hashDim: 1 << 8 }),
    ];
    for (const f of refusals) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(LLMError.isInstance(err)).toBe(true);
      expect((err as LLMError).code).toBe('invalid_request');
      expect((err as LLMError).param).toBe('predictors');
      expect((err as LLMError).message).toMatch(/two-model data/);
    }
  });

  it('refuses a saved state with the wrong number of classes', () => {
    const state = { kind: 'gain' as const, dim: 4, weak: 0, strong: 1, weights: { cols: 2, rows: [], values: [] }, bias: [0, 0] };
    expect(() => loadPredictor(state)).toThrow(/3 classes/);
  });
});
