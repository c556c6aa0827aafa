import { describe, expect, it } from 'vitest';
import { syntheticDataset, syntheticPairDataset } from '../__fixtures__/synthetic-data.js';
import { fnv1a } from '../datasets/split-examples.js';
import { featurize } from '../features/feature-pipeline.js';
import { BaggedPredictor, bagMemberSeed } from '../predictors/bagged-predictor.js';
import { loadPredictor } from '../predictors/load-predictor.js';
import { trainLogistic } from '../predictors/logistic-predictor.js';
import { trainTwoLayer } from '../predictors/two-layer-predictor.js';
import { parseRouterModel } from './router-model.js';
import { toTrainingSet, trainPredictors } from './train-predictors.js';
import { trainRouterModel } from './train-router-model.js';

const FAST = { hashDim: 1 << 10, kinds: ['logistic', 'mlp', 'ensemble'] as const };

describe('bagging across seeds', () => {
  const data = syntheticPairDataset(240);
  const examples = data.examples;
  const bagged = trainPredictors(examples, 2, data.pair, { ...FAST, seed: 4, bag: 3 });

  it('derives member seeds from the seed: member 0 is the seed itself, the others differ and repeat', () => {
    expect(bagMemberSeed(4, 0)).toBe(4);
    const seeds = [1, 2, 3, 4].map((b) => bagMemberSeed(4, b));
    expect(new Set([4, ...seeds]).size).toBe(5);
    expect(seeds).toEqual([1, 2, 3, 4].map((b) => bagMemberSeed(4, b)));
    expect(bagMemberSeed(5, 1)).not.toBe(bagMemberSeed(4, 1));
  });

  it('averages K members trained with the member seeds, deterministically', () => {
    const mlp = bagged.predictors.get('mlp');
    expect(mlp).toBeInstanceOf(BaggedPredictor);
    const members = (mlp as BaggedPredictor).members;
    expect(members).toHaveLength(3);
    expect(mlp!.kind).toBe('mlp');
    // Rebuild each member by hand on the same fit/validation rows, with its seed.
    const isVal = (id: string) => fnv1a(`val:${id}`) % 10 === 0;
    const train = toTrainingSet(bagged.features, examples.filter((e) => !isVal(e.id)), 2);
    const val = toTrainingSet(bagged.features, examples.filter((e) => isVal(e.id)), 2);
    const byHand = [0, 1, 2].map((b) => trainTwoLayer('mlp', train, val, { seed: bagMemberSeed(4, b) }));
    const again = trainPredictors(examples, 2, data.pair, { ...FAST, seed: 4, bag: 3 }).predictors.get('mlp')!;
    let spread = 0;
    for (const e of examples.slice(0, 40)) {
      const x = featurize(bagged.features, e.prompt);
      const each = byHand.map((p) => Array.from(p.predict(x)));
      const mean = [0, 1].map((m) => (each[0]![m]! + each[1]![m]! + each[2]![m]!) / 3);
      const got = Array.from(mlp!.predict(x));
      got.forEach((v, m) => expect(v).toBeCloseTo(mean[m]!, 12));
      expect(Array.from(again.predict(x))).toEqual(got);
      spread = Math.max(spread, Math.abs(each[0]![1]! - each[1]![1]!));
    }
    // The members really differ (else the bag would average copies).
    expect(spread).toBeGreaterThan(1e-4);
  });

  it('member 0 is the unbagged predictor of the same seed; deterministic kinds are not bagged', () => {
    const single = trainPredictors(examples, 2, data.pair, { ...FAST, seed: 4 });
    const x = featurize(single.features, examples[5]!.prompt);
    const first = (bagged.predictors.get('logistic') as BaggedPredictor).members[0]!;
    expect(Array.from(first.predict(x))).toEqual(Array.from(single.predictors.get('logistic')!.predict(x)));
    expect(bagged.predictors.get('prior')).not.toBeInstanceOf(BaggedPredictor);
    expect(single.predictors.get('logistic')).not.toBeInstanceOf(BaggedPredictor);
    // The bagged ensemble averages each member's own ensemble of logistic and mlp.
    const ens = bagged.predictors.get('ensemble') as BaggedPredictor;
    expect(ens.members).toHaveLength(3);
    expect(ens.kind).toBe('ensemble');
    expect(bagged.validation.map((v) => v.kind)).toEqual(['prior', 'logistic', 'mlp', 'ensemble']);
  });

  it('matches trainLogistic per member for logistic regression', () => {
    const isVal = (id: string) => fnv1a(`val:${id}`) % 10 === 0;
    const train = toTrainingSet(bagged.features, examples.filter((e) => !isVal(e.id)), 2);
    const val = toTrainingSet(bagged.features, examples.filter((e) => isVal(e.id)), 2);
    const member2 = trainLogistic(train, val, { seed: bagMemberSeed(4, 2) });
    const x = featurize(bagged.features, examples[7]!.prompt);
    const got = (bagged.predictors.get('logistic') as BaggedPredictor).members[2]!.predict(x);
    expect(Array.from(got)).toEqual(Array.from(member2.predict(x)));
  });

  it('refuses a bag size out of range and members of mixed kinds', () => {
    expect(() => trainPredictors(examples, 2, data.pair, { ...FAST, bag: 0 })).toThrow(/bag must be an integer from 1 to 10/);
    expect(() => trainPredictors(examples, 2, data.pair, { ...FAST, bag: 11 })).toThrow(/bag must be an integer from 1 to 10/);
    const logistic = bagged.predictors.get('logistic') as BaggedPredictor;
    const mlp = bagged.predictors.get('mlp') as BaggedPredictor;
    expect(() => new BaggedPredictor([logistic.members[0]!, mlp.members[0]!])).toThrow(/Bag member 1 is mlp, expected logistic/);
    expect(() => new BaggedPredictor([])).toThrow(/at least one member/);
  });
});

describe('a bagged router model', () => {
  it('round-trips through train -> JSON -> load -> predict', () => {
    const data = syntheticDataset();
    const options = { hashDim: 1 << 10, kinds: ['logistic', 'mlp'] as const, seed: 2, bag: 3, now: () => new Date('2026-01-01T00:00:00Z') };
    const artifact = trainRouterModel(data, options);
    expect(artifact.training.bag).toBe(3);
    expect(artifact.predictor.kind).toBe('bag');
    expect(artifact.predictor.kind === 'bag' && artifact.predictor.members.map((m) => m.kind)).toEqual(Array(3).fill(artifact.training.chosen));
    const model = parseRouterModel(JSON.stringify(artifact));
    expect(model.predictor).toBeInstanceOf(BaggedPredictor);
    expect(model.predictor.kind).toBe(artifact.training.chosen);
    // The same training again gives the same artifact's predictions, and the loaded model predicts them.
    const trained = trainPredictors(data.examples.filter((e) => e.split !== 'test'), 3, undefined, options);
    const inMemory = trained.predictors.get(trained.chosen)!;
    for (const e of data.examples.filter((x) => x.split === 'test').slice(0, 20)) {
      const loaded = model.predict(e.prompt);
      const direct = inMemory.predict(featurize(trained.features, e.prompt));
      // Stored weights are rounded to 5 significant digits.
      loaded.forEach((v, m) => expect(v).toBeCloseTo(direct[m]!, 3));
    }
    const math = model.predict('solve the equation 12 and 7?');
    expect(math[1]!).toBeGreaterThan(math[2]!);
    expect(loadPredictor(JSON.parse(JSON.stringify(artifact.predictor)))).toBeInstanceOf(BaggedPredictor);
  });
});
