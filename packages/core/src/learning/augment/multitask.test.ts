import { describe, expect, it } from 'vitest';
import { syntheticExamples, syntheticPairDataset } from '../__fixtures__/synthetic-data.js';
import { featurize, fitFeatures } from '../features/feature-pipeline.js';
import { TwoLayerPredictor } from '../predictors/two-layer-predictor.js';
import { trainPredictors, toTrainingSet } from '../training/train-predictors.js';
import { keepOutputs, trainMultitask } from './multitask.js';

describe('keepOutputs', () => {
  it('keeps the first outputs of a shared-hidden-layer network exactly', () => {
    const full = TwoLayerPredictor.init(50, 4, 5, 'relu', 3);
    const two = keepOutputs(full, 2);
    expect(two.outputs).toBe(2);
    const x = { index: Int32Array.from([1, 7, 30]), value: Float32Array.from([0.5, -1, 2]) };
    const a = full.predict(x), b = two.predict(x);
    expect(b[0]).toBeCloseTo(a[0]!, 12);
    expect(b[1]).toBeCloseTo(a[1]!, 12);
    expect(two.toJSON()).toMatchObject({ kind: 'mlp', outputs: 2 });
  });
});

describe('trainMultitask', () => {
  const pair = syntheticPairDataset(200);
  const spec = fitFeatures(pair.examples.map((e) => e.prompt), { hashDim: 1 << 10 });
  const train = toTrainingSet(spec, pair.examples.slice(0, 160), 2);
  const val = toTrainingSet(spec, pair.examples.slice(160), 2);
  const aux = { examples: syntheticExamples(200, 5), outputs: 3 };

  it("trains on both row sets and returns a predictor over the router's models only", () => {
    const p = trainMultitask('mlp', train, val, spec, aux, undefined, { seed: 1, epochs: 4 });
    expect(p.outputs).toBe(2);
    const hard = p.predict(featurize(spec, 'prove the theorem about prime 3 numbers and integral calculus limits'));
    const easy = p.predict(featurize(spec, 'say hello to rain'));
    expect(hard[1]! - hard[0]!).toBeGreaterThan(easy[1]! - easy[0]!);
  });

  it('is what trainPredictors uses for mlp and mf with the multitask option', () => {
    const t = trainPredictors(pair.examples, 2, pair.pair, { hashDim: 1 << 10, kinds: ['mlp', 'mf'], multitask: aux, hyper: { epochs: 3 } });
    const plain = trainPredictors(pair.examples, 2, pair.pair, { hashDim: 1 << 10, kinds: ['mlp', 'mf'], hyper: { epochs: 3 } });
    const x = featurize(t.features, 'say hello to the moon');
    for (const kind of ['mlp', 'mf'] as const) {
      expect(t.predictors.get(kind)?.outputs).toBe(2);
      // Same seed and rows of the pair: only the auxiliary rows make the difference.
      expect(Array.from(t.predictors.get(kind)!.predict(x))).not.toEqual(Array.from(plain.predictors.get(kind)!.predict(x)));
    }
  });
});
