import { describe, expect, it } from 'vitest';
import { syntheticExamples } from '../__fixtures__/synthetic-data.js';
import { featureBlocks, featurize, fitFeatures } from '../features/feature-pipeline.js';
import { toTrainingSet } from '../training/train-predictors.js';
import { trainKnn } from './knn-predictor.js';
import { loadPredictor } from './load-predictor.js';
import { trainLogistic } from './logistic-predictor.js';
import { trainTwoLayer } from './two-layer-predictor.js';
import type { QualityPredictor } from './types.js';

const train = syntheticExamples(300, 1);
const test = syntheticExamples(60, 2);
const spec = fitFeatures(train.map((e) => e.prompt), { hashDim: 1 << 10 });
const set = toTrainingSet(spec, train, 3);
const MATH = 'calculate the sum of 123 and 45?';
const POEM = 'write a poem about the moon.';

/** Share of test prompts where the predictor ranks the right specialist above the other. */
function specialistAccuracy(p: QualityPredictor): number {
  let ok = 0;
  for (const e of test) {
    const q = p.predict(featurize(spec, e.prompt));
    const mathy = q[1]! > q[2]!;
    if (mathy === (e.task === 'math')) ok++;
  }
  return ok / test.length;
}

describe.each([
  ['logistic', () => trainLogistic(set, undefined, { epochs: 8 })],
  ['mf', () => trainTwoLayer('mf', set, undefined, { epochs: 8 })],
  ['mlp', () => trainTwoLayer('mlp', set, undefined, { epochs: 8 })],
  ['knn', () => trainKnn(set, featureBlocks(spec).hashed, 10)],
] as const)('%s predictor', (kind, make) => {
  const p = make();

  it('learns which model is good at which kind of prompt (held-out prompts)', () => {
    expect(p.kind).toBe(kind);
    expect(specialistAccuracy(p)).toBeGreaterThan(0.9);
    const m = p.predict(featurize(spec, MATH));
    const w = p.predict(featurize(spec, POEM));
    expect(m[1]!).toBeGreaterThan(0.6);
    expect(w[2]!).toBeGreaterThan(0.6);
    for (const v of [...m, ...w]) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('survives a JSON round trip with the same predictions', () => {
    const again = loadPredictor(JSON.parse(JSON.stringify(p.toJSON())));
    const a = p.predict(featurize(spec, MATH));
    const b = again.predict(featurize(spec, MATH));
    for (let m = 0; m < 3; m++) expect(b[m]!).toBeCloseTo(a[m]!, 3);
  });
});

describe('early stopping', () => {
  it('keeps the parameters of the best validation epoch', () => {
    const val = toTrainingSet(spec, test, 3);
    const p = trainLogistic(set, val, { epochs: 30, patience: 1 });
    expect(specialistAccuracy(p)).toBeGreaterThan(0.9);
  });
});
