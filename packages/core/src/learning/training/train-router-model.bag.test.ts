import { constants } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { syntheticDataset } from '../__fixtures__/synthetic-data.js';
import type { RoutingDataset } from '../datasets/types.js';
import { BaggedPredictor, MAX_BAG } from '../predictors/bagged-predictor.js';
import { seededRandom } from '../predictors/adam.js';
import { parseRouterModel } from './router-model.js';
import { trainRouterModel } from './train-router-model.js';

// `RouterModelArtifact.training.bag` is documented as
// "Bag size (`--bag`): the predictor averages this many members trained with different seeds", and
// `router train --help` says the artifact "stores the k members of the chosen kind". Kinds without
// training randomness (prior, knn, task) are never bagged, yet the artifact still claims a bag.
describe('training.bag of an artifact whose chosen kind is not bagged', () => {
  for (const select of ['task', 'knn'] as const) {
    it(`--predictor ${select} --bag 3: the artifact does not claim a bag of 3 for a single ${select} predictor`, () => {
      const artifact = trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic', select], select, seed: 2, bag: 3, now: () => new Date(0) });
      const model = parseRouterModel(JSON.stringify(artifact));
      // What was stored: one deterministic predictor, no members averaged.
      expect(artifact.training.chosen).toBe(select);
      expect(artifact.predictor.kind).toBe(select);
      expect(model.predictor).not.toBeInstanceOf(BaggedPredictor);
      // What the artifact's metadata says about it.
      expect(artifact.training.bag).toBeUndefined();
    });
  }
});

// `--bag` accepts up to MAX_BAG = 50 and `router train` writes `JSON.stringify(artifact)` once trained
// (cli/commands/router-train.ts:140). A bagged artifact is the features plus K members, so K x one
// member's JSON must fit in one JS string (buffer.constants.MAX_STRING_LENGTH, 536 870 888 on Node 20).
// With a realistic vocabulary (2 000 prompts of 40 distinct words, the default 65 536 hashed buckets)
// one mlp member is ~17.5 M characters: any bag above ~30 trains for minutes and then throws
// "RangeError: Invalid string length" instead of writing the artifact (reproduced with bag: 32 by a
// throwaway script; here one member is measured and the accepted maximum is checked against it).
describe('the largest --bag the CLI accepts must be writable as an artifact', () => {
  it('MAX_BAG members of one default mlp fit in a JSON string', () => {
    const r = seededRandom(5);
    const word = () => Array.from({ length: 3 + Math.floor(r() * 6) }, () => String.fromCharCode(97 + Math.floor(r() * 26))).join('');
    const examples = Array.from({ length: 2000 }, (_, i) => {
      const hard = i % 2 === 0;
      return { id: `r${i}`, prompt: `${hard ? 'prove' : 'say'} ${Array.from({ length: 40 }, word).join(' ')}`, task: hard ? 'hard' : 'easy', quality: [hard ? Number(r() < 0.2) : Number(r() < 0.9), Number(r() < 0.9)] };
    });
    const data: RoutingDataset = { name: 'random-vocabulary', format: 'long', models: ['weak', 'strong'], pair: { weak: 0, strong: 1 }, examples };
    const artifact = trainRouterModel(data, { kinds: ['mlp'], select: 'mlp', seed: 1, now: () => new Date(0) });
    const member = JSON.stringify(artifact.predictor).length;
    const rest = JSON.stringify(artifact).length - member;
    // Size of the artifact `router train --predictor mlp --bag 50` would have to write.
    expect(rest + MAX_BAG * (member + 1)).toBeLessThanOrEqual(constants.MAX_STRING_LENGTH);
  }, 60_000);
});
