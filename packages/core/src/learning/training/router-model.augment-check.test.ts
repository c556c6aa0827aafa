/**
 * Loading a router model artifact checks every part the decision uses, the augmentation block included (its
 * standardization, its auxiliary models' own feature specs and predictors): a damaged artifact is refused at load
 * naming the field, not on every later decision.
 */
import { describe, expect, it } from 'vitest';
import { syntheticDataset, syntheticExamples, syntheticPairDataset } from '../__fixtures__/synthetic-data.js';
import { trainDifficultyModel } from '../augment/difficulty-model.js';
import { RouterModel, parseRouterModel } from './router-model.js';
import { trainRouterModel } from './train-router-model.js';

describe('RouterModel load: the augmentation block (--augment quantities)', () => {
  const artifact = trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic', augment: { quantities: true } });

  it('the untouched augmented artifact loads and predicts', () => {
    const m = parseRouterModel(JSON.stringify(artifact), 'model.json');
    expect(Array.from(m.predict('how many apples if 3 and 4?')).every(Number.isFinite)).toBe(true);
  });

  it('an augmentation standardization of the wrong length is rejected at load, naming the field (not on every later call)', () => {
    const augment = artifact.features.augment!;
    const damaged = { ...artifact, features: { ...artifact.features, augment: { ...augment, mean: augment.mean.slice(1) } } };
    let loaded: RouterModel | undefined;
    let error: unknown;
    try {
      loaded = new RouterModel(damaged);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'invalid_request', param: 'features.augment.mean' });
    // What happens instead: the model loads, and every decision then fails.
    expect(loaded).toBeUndefined();
  });
});

describe('RouterModel load: the difficulty model inside the augmentation block', () => {
  const pair = syntheticPairDataset(200);
  const aux = { name: 'aux', models: ['cheap', 'mathy', 'poet'], examples: syntheticExamples(300, 11) };
  const { spec: difficulty } = trainDifficultyModel(aux, { evaluated: pair.examples.map((e) => e.prompt), hashDim: 1 << 10 });
  const artifact = trainRouterModel(pair, { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic', augment: { difficulty, quantities: true } });
  const withDifficulty = (d: object) => ({ ...artifact, features: { ...artifact.features, augment: { ...artifact.features.augment!, difficulty: { ...artifact.features.augment!.difficulty!, ...d } } } });
  const loadError = (a: unknown) => {
    try {
      new RouterModel(a as typeof artifact);
    } catch (e) {
      return e;
    }
    return undefined;
  };

  it('the untouched artifact loads', () => {
    expect(Array.from(new RouterModel(artifact).predict('what is 3 times 4?')).every(Number.isFinite)).toBe(true);
  });

  it("a difficulty model's own feature spec, predictor and model list are checked, naming the nested field", () => {
    const d = artifact.features.augment!.difficulty!;
    expect(loadError(withDifficulty({ features: { ...d.features, hashDim: -1 } }))).toMatchObject({ code: 'invalid_request', param: 'features.augment.difficulty.features.hashDim' });
    expect(loadError(withDifficulty({ predictor: { ...d.predictor, dim: 7 } }))).toMatchObject({ code: 'invalid_request', param: 'features.augment.difficulty.predictor.dim' });
    // One model fewer than it predicts: the block would be one value short on every call.
    expect(loadError(withDifficulty({ models: d.models.slice(1) }))).toMatchObject({ code: 'invalid_request', param: 'features.augment.difficulty.predictor' });
  });
});
