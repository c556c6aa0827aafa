import { describe, expect, it } from 'vitest';
import { syntheticExamples, syntheticPairDataset } from '../__fixtures__/synthetic-data.js';
import { featureBlocks, featurize } from '../features/feature-pipeline.js';
import { parseRouterModel } from '../training/router-model.js';
import { trainRouterModel } from '../training/train-router-model.js';
import { augmentValues } from './augment-values.js';
import { trainDifficultyModel } from './difficulty-model.js';
import { QUANTITY_FEATURES } from './quantity-features.js';

// Auxiliary data: 3 other models ("cheap", "mathy", "poet") on math and writing prompts.
const auxExamples = syntheticExamples(400, 11);
const aux = { name: 'aux', models: ['cheap', 'mathy', 'poet'], examples: auxExamples };
const pair = syntheticPairDataset(300);
const HASH = 1 << 10;

describe('trainDifficultyModel', () => {
  it('never learns from an auxiliary prompt that is also in the evaluated data', () => {
    const shared = auxExamples.slice(0, 5).map((e) => e.prompt.toUpperCase());
    const evaluated = [...pair.examples.map((e) => e.prompt), ...shared];
    const { report, spec } = trainDifficultyModel(aux, { evaluated, hashDim: HASH });
    const distinctShared = new Set(auxExamples.filter((e) => shared.some((s) => s.toLowerCase() === e.prompt.toLowerCase())).map((e) => e.id)).size;
    expect(distinctShared).toBeGreaterThanOrEqual(5);
    expect(report.dropped_overlap).toBe(distinctShared);
    expect(report.kept).toBe(400 - distinctShared);
    expect(report.per_task.reduce((s, t) => s + t.kept, 0)).toBe(report.kept);
    expect(spec.source).toContain(`${distinctShared} dropped`);
    // On its held-out share it beats each model's mean score (here the mean over models is the same
    // on every prompt, so only the per-model predictions carry signal).
    expect(report.validation.prompts).toBeGreaterThan(20);
    expect(report.validation.log_loss).toBeLessThan(report.validation.prior_log_loss - 0.1);
  });

  it('refuses to train when (nearly) every auxiliary prompt overlaps', () => {
    expect(() => trainDifficultyModel(aux, { evaluated: auxExamples.map((e) => e.prompt), hashDim: HASH })).toThrow(/too few/);
  });

  it('tasks option keeps only those auxiliary tasks', () => {
    const { report } = trainDifficultyModel(aux, { evaluated: [], tasks: ['math'], hashDim: HASH, mode: 'mean' });
    expect(report.per_task.map((t) => t.task)).toEqual(['math']);
    expect(report.mode).toBe('mean');
  });
});

describe('augmented router model', () => {
  const { spec: difficulty } = trainDifficultyModel(aux, { evaluated: pair.examples.map((e) => e.prompt), hashDim: HASH });
  const artifact = trainRouterModel(pair, { hashDim: HASH, kinds: ['logistic', 'mlp'], augment: { difficulty, quantities: true }, now: () => new Date(0) });

  it('appends the difficulty logits (per model + mean) and the quantity block, standardized on the training prompts', () => {
    const a = artifact.features.augment!;
    expect(a.difficulty?.models).toEqual(['cheap', 'mathy', 'poet']);
    expect(a.mean).toHaveLength(4 + QUANTITY_FEATURES.length);
    const b = featureBlocks(artifact.features);
    expect(b.augment[1] - b.augment[0]).toBe(4 + QUANTITY_FEATURES.length);
    const x = featurize(artifact.features, 'solve the equation 12 and 7?');
    const tail = Array.from(x.index).filter((i) => i >= b.augment[0]);
    expect(tail).toEqual(Array.from({ length: 4 + QUANTITY_FEATURES.length }, (_, i) => b.augment[0] + i));
    // The difficulty model learned that "mathy" does well on arithmetic and "poet" on writing.
    const math = augmentValues(a, 'calculate the sum of 120 and 7?', featurize(a.difficulty!.features, 'calculate the sum of 120 and 7?'));
    const poem = augmentValues(a, 'write a poem about the sea.', featurize(a.difficulty!.features, 'write a poem about the sea.'));
    expect(math[1]! - math[2]!).toBeGreaterThan(poem[1]! - poem[2]!);
  });

  it('is persisted in the artifact: the loaded model predicts exactly as the trained one', () => {
    const json = JSON.parse(JSON.stringify(artifact)) as typeof artifact;
    const loaded = parseRouterModel(JSON.stringify(artifact));
    for (const p of ['prove the theorem about prime 7 numbers and integral calculus limits', 'say hello to rain']) {
      const direct = parseRouterModel(JSON.stringify(json)).predictor.predict(featurize(json.features, p));
      expect(Array.from(loaded.predict(p))).toEqual(Array.from(direct));
    }
    const hard = loaded.predict('prove the theorem about prime 7 numbers and integral calculus limits');
    const easy = loaded.predict('say hello to rain');
    expect(hard[1]! - hard[0]!).toBeGreaterThan(easy[1]! - easy[0]!);
  });

  it('a block whose standardization does not match is a typed error naming the field', () => {
    const bad = { ...artifact.features, augment: { ...artifact.features.augment!, mean: [0] } };
    expect(() => featurize(bad, 'hello')).toThrow(/standardization/);
  });
});
